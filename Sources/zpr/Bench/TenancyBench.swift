import ArgumentParser
import Foundation
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// `zpr bench tenancy`: load and check a large generated tenancy file.
struct TenancyBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenancy",
    abstract: "Load and check a generated tenancy file with many VNICs and namespaces.",
    discussion: """
      The file is generated and written to YAML first (not timed); then reading, building and
      checking it is timed. The baseline splits the same text into lines and words.
      """
  )

  @Option(help: "Resources in the tenancy (about 1.1 VNICs each).")
  var resources = 90_000

  @Option(help: "Security attribute namespaces (two attributes each).")
  var namespaces = 1_000

  @Option(help: "Timed runs; the best is reported.")
  var iterations = 3

  @Option(help: "The seed of the generated tenancy.")
  var seed: UInt64 = 42

  @Option(help: "Also write the generated tenancy to this file.")
  var write: String?

  func validate() throws {
    guard resources >= 1, namespaces >= 0, iterations >= 1 else {
      throw ValidationError(
        "--resources and --iterations must be at least 1, --namespaces at least 0")
    }
    guard resources <= 200_000 else {
      throw ValidationError("--resources can be at most 200000 (40 VCNs of 20 /24 subnets)")
    }
  }

  func run() async throws {
    var generator = TenancyGenerator(seed: seed)
    let tenancy = generator.tenancy(
      TenancyGenerator.Size(
        namespaces: namespaces, attributesPerNamespace: 2, vcns: 40, subnetsPerVCN: 20,
        resources: resources, policies: 10))
    let text = TenancyFile.yaml(for: tenancy)
    if let write {
      do {
        try text.write(toFile: write, atomically: true, encoding: .utf8)
      } catch {
        throw CLIError.cannotWrite(write, error.localizedDescription)
      }
    }
    let source = SourceFile(path: "<generated>", text: text)
    let vnics = tenancy.resources.reduce(0) { $0 + $1.vnics.count }
    var best = Duration.seconds(1_000)
    var baselineBest = Duration.seconds(1_000)
    var peakGrowth = 0
    var problems = 0
    for _ in 0..<iterations {
      baselineBest = min(baselineBest, splitBaseline(text))
      Memory.resetPeak()
      let before = Memory.procStatus("VmRSS")
      var loaded: TenancyFile.Loaded?
      best = min(best, ContinuousClock().measure { loaded = TenancyFile.load(source) })
      peakGrowth = max(peakGrowth, Memory.procStatus("VmHWM") - before)
      problems = loaded?.diagnostics.count { $0.severity == .error } ?? 0
    }
    writeOut(
      """
      tenancy load+check: \(vnics) VNICs, \(tenancy.resources.count) resources, \
      \(namespaces) namespaces (\(namespaces * 2) attributes), \(text.utf8.count / 1024) KiB, best of \(iterations)
        load+check    \(String(format: "%8.2f", seconds(best))) s   (goal: under 2 s)
        baseline      \(String(format: "%8.2f", seconds(baselineBest))) s   (split into lines and words)
        ratio         \(String(format: "%.1f", seconds(best) / seconds(baselineBest)))x baseline
        peak memory of load+check     \(peakGrowth / 1024 / 1024) MiB (resident growth)
        errors found  \(problems)

      """)
  }
}
