import Foundation
import Testing
import ZPRPolicy
import ZPRTesting

@testable import ZPRModel

/// The tenancy file written a piece at a time (as `export` streams it) is the file written
/// whole: it loads back to the same tenancy.
@Suite("The tenancy file, streamed")
struct StreamedYAMLTests {
  @Test(arguments: [1, 3, 1_000])
  func streamedLoadsAsTheWholeFile(run: Int) async throws {
    var generator = TenancyGenerator(seed: 11)
    let tenancy = generator.tenancy(
      .init(
        namespaces: 2, attributesPerNamespace: 2, vcns: 2, subnetsPerVCN: 2, resources: 12,
        policies: 2))
    var streamed = ""
    var pieces = 0
    await TenancyFile.writeYAML(for: tenancy, run: run) { piece in
      streamed += piece
      pieces += 1
    }
    let whole = TenancyFile.load(SourceFile(path: "whole", text: TenancyFile.yaml(for: tenancy)))
    let loaded = TenancyFile.load(SourceFile(path: "streamed", text: streamed))
    #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
    #expect(loaded.tenancy == whole.tenancy)
    // Long sections come in runs.
    if run == 1 { #expect(pieces > 12) }
  }
}
