import PropertyBased
import Testing
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Tenancy file round trip")
struct TenancyRoundTripTests {
  /// The file lists resources by kind; put the original in that order to compare.
  static func byKind(_ tenancy: Tenancy) -> Tenancy {
    var sorted = tenancy
    let order: [ResourceKind] = [.instance, .database, .loadBalancer, .privateEndpoint]
    sorted.resources = order.flatMap { kind in tenancy.resources.filter { $0.kind == kind } }
    return sorted
  }

  @Test func fixturesRoundTrip() {
    for tenancy in [TenancyFixtures.threeTier(), TenancyFixtures.twoVCNsPeered()] {
      let text = TenancyFile.yaml(for: tenancy)
      let loaded = TenancyFile.load(SourceFile(path: "t.yaml", text: text))
      #expect(!loaded.hasErrors, "\(loaded.diagnostics)\n\(text)")
      #expect(loaded.tenancy == Self.byKind(tenancy), "\(text)")
    }
  }

  @Test func anyAcceptedTenancyRoundTrips() async {
    await propertyCheck(count: 60, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      var generator = TenancyGenerator(seed: seed)
      let size = TenancyGenerator.Size(
        namespaces: Int.random(in: 0...3, using: &generator.random),
        attributesPerNamespace: Int.random(in: 1...4, using: &generator.random),
        vcns: Int.random(in: 0...4, using: &generator.random),
        subnetsPerVCN: Int.random(in: 1...3, using: &generator.random),
        resources: Int.random(in: 0...8, using: &generator.random),
        policies: Int.random(in: 0...2, using: &generator.random))
      let tenancy = generator.tenancy(size)
      #expect(
        tenancy.consistencyIssues() == [],
        "seed \(seed): the generator must make accepted tenancies")
      let text = TenancyFile.yaml(for: tenancy)
      let loaded = TenancyFile.load(SourceFile(path: "t.yaml", text: text))
      #expect(
        !loaded.hasErrors,
        "seed \(seed): \(loaded.diagnostics.filter { $0.severity == .error })\n\(text)")
      #expect(loaded.tenancy == Self.byKind(tenancy), "seed \(seed)\n\(text)")
      // Writing what was read gives the same text.
      #expect(TenancyFile.yaml(for: loaded.tenancy) == text, "seed \(seed)")
    }
  }
}
