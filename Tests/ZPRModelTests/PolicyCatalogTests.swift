import Testing
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Statements checked against a tenancy")
struct PolicyCatalogTests {
  static func codes(_ text: String, in tenancy: Tenancy = TenancyFixtures.threeTier()) -> [String] {
    tenancy.catalogDiagnostics(for: [TenancyFixtures.statement(text)]).map(\.code.rawValue)
  }

  @Test(arguments: [
    (
      "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:db endpoints",
      [String]()
    ),
    (
      "in network.vcn:prod VCN allow ap.tier:web endpoints to connect to app.tier:db endpoints",
      ["ZPL080"]
    ),
    (
      "in network.vcn:prod VCN allow app.tire:web endpoints to connect to app.tier:db endpoints",
      ["ZPL081"]
    ),
    (
      "in network.vcn:prod VCN allow app.tier:cache endpoints to connect to app.tier:db endpoints",
      ["ZPL083"]
    ),
    (
      "in network.vcn:qa VCN allow app.tier:web endpoints to connect to app.tier:db endpoints",
      ["ZPL084"]
    ),
    (
      "in network.vcn:prod VCN allow sensitivity:low endpoints to connect to app.tier:db endpoints",
      ["ZPL085"]
    ),
    ("in network.vcn VCN allow app.tier endpoints to connect to APP.TIER:db endpoints", [String]()),
    (
      "in network.vcn:prod VCN allow team:web endpoints to connect to app.tier:db endpoints",
      ["ZPL081"]
    ),
  ])
  func findings(text: String, expected: [String]) {
    #expect(Self.codes(text) == expected)
  }

  @Test func retiredAttributesAreWarnings() throws {
    var tenancy = TenancyFixtures.threeTier()
    try tenancy.catalog.createAttribute("old", in: "app", description: "Old")
    try tenancy.catalog.retireAttribute("old", in: "app")
    let diagnostics = tenancy.catalogDiagnostics(
      for: [
        TenancyFixtures.statement(
          "in network.vcn:prod VCN allow app.old:x endpoints to connect to app.tier:db endpoints")
      ])
    #expect(diagnostics.map(\.code.rawValue) == ["ZPL082"])
    #expect(diagnostics.first?.severity == .warning)
  }

  @Test func suggestionsNameTheClosest() {
    let diagnostics = TenancyFixtures.threeTier().catalogDiagnostics(
      for: [
        TenancyFixtures.statement(
          "in network.vcn:prod VCN allow app.tier:wbe endpoints to connect to app.tier:db endpoints"
        )
      ])
    #expect(diagnostics.first?.suggestion == "did you mean 'web'?")
  }

  @Test func protectedEndpointsNoStatementNamesAreUnreachable() {
    let tenancy = TenancyFixtures.threeTier()
    #expect(tenancy.unnamedEndpoints(given: tenancy.policies.flatMap(\.statements)) == [])
    let onlyWebToApp = [tenancy.policies[0].statements[0]]
    let unnamed = tenancy.unnamedEndpoints(given: onlyWebToApp)
    #expect(unnamed.map(\.resourcePath) == ["resources[2]"])
    #expect(unnamed.first?.message.contains("db-1/0") == true)
    // all-endpoints in the VCN's scope names every endpoint there.
    let all = TenancyFixtures.statement(
      "in network.vcn:prod VCN allow all-endpoints to connect to '10.9.0.0/16'")
    #expect(tenancy.unnamedEndpoints(given: [all]) == [])
    // Audit mode is not protected.
    var audited = tenancy
    audited.resources[2].securityAttributes[0].mode = .audit
    #expect(audited.unnamedEndpoints(given: onlyWebToApp) == [])
  }

  @Test func theFileWarnsAtTheResource() {
    let text = """
      namespaces:
        - {name: app, description: Apps, attributes: [{name: tier, description: Tier}]}
      vcns:
        - name: prod
          cidrs: [10.0.0.0/16]
          subnets: [{name: s, cidr: 10.0.1.0/24}]
      databases:
        - name: db-1
          securityAttributes: {app.tier: db}
          vnics: [{subnet: prod/s, ip: 10.0.1.5}]
      """
    let loaded = TenancyFile.load(SourceFile(path: "t.yaml", text: text))
    let warning = loaded.diagnostics.first
    #expect(loaded.diagnostics.map(\.code.rawValue) == ["ZPL086"])
    #expect(warning?.path == "databases[0]")
    #expect(
      warning.map { SourceFile(path: "t", text: text).location(of: $0.range.lowerBound).line } == 8)
    #expect(!loaded.hasErrors)
  }
}
