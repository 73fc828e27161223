import Testing
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// Cases found in review: each once went wrong.
@Suite("Tenancy file edge cases")
struct TenancyReviewTests {
  static func load(_ text: String) -> TenancyFile.Loaded {
    TenancyFile.load(SourceFile(path: "t.yaml", text: text))
  }

  static func line(_ diagnostic: Diagnostic?, _ text: String) -> Int? {
    diagnostic.map { SourceFile(path: "t", text: text).location(of: $0.range.lowerBound).line }
  }

  @Test func aRouteRuleWithoutTargetIsReportedNotFatal() {
    let loaded = Self.load(
      "vcns:\n  - name: p\n    cidrs: [10.0.0.0/16]\n    routeTables: [{name: m, rules: [{destination: 10.1.0.0/16}]}]"
    )
    #expect(loaded.diagnostics.map(\.code.rawValue) == ["ZPT103"])
  }

  @Test func laterElementsKeepTheirPlaceAfterOneFails() {
    let text = """
      vcns:
        - name: p
          cidrs: [10.0.0.0/16]
          subnets:
            - {name: a, cidr: bogus}
            - {name: b, cidr: 10.0.1.0/24}
            - {name: c, cidr: 10.9.0.0/24}
      """
    let loaded = Self.load(text)
    let outside = loaded.diagnostics.first { $0.code.rawValue == "ZPT003" }
    #expect(outside?.path == "vcns[0].subnets[2].cidr")
    #expect(Self.line(outside, text) == 7)
  }

  @Test func nullWhereAValueIsRequiredIsReported() {
    let loaded = Self.load(
      "namespaces:\n  - name:\n    description: d\n  - name: ok\n    description: d\n    attributes: [{name: a, description: d, values: [x, ~, y]}]"
    )
    #expect(loaded.diagnostics.map(\.code.rawValue) == ["ZPT103", "ZPT103"])
    #expect(
      loaded.tenancy.catalog.attribute("a", in: "ok") == nil, "an ENUM with a null value is refused"
    )
  }

  @Test func aRefusedNamespaceLeavesTheFirstAlone() {
    let loaded = Self.load(
      """
      namespaces:
        - {name: app, description: Apps, attributes: [{name: tier, description: t}]}
        - {name: App, description: Again, retired: true, attributes: [{name: role, description: r}]}
      """)
    #expect(loaded.diagnostics.map(\.code.rawValue) == ["ZPT105"])
    #expect(loaded.tenancy.catalog.namespace(named: "app")?.state == .active)
    #expect(loaded.tenancy.catalog.attribute("role", in: "app") == nil)
  }

  @Test func aBlankDescriptionIsReportedAtTheDescription() {
    let loaded = Self.load("namespaces:\n  - {name: app, description: ' '}")
    #expect(loaded.diagnostics.first?.path == "namespaces[0].description")
  }

  @Test func statementsThatAreNotWrittenAsTheyReadAreMarkedWhole() {
    let text = """
      policies:
        - name: p
          description: d
          statements:
            - 'in n:p VCN allow a:w endpoints to connect to ''a:d x'' endpoints with protocol=''tcp/ssh'''
            - >-
              in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/http'
      """
    let loaded = Self.load(text)
    let ports = loaded.diagnostics.filter { $0.code == .nonNumericPort }
    #expect(ports.count == 2)
    // Both point at the start of their statement, not at a wrong column inside it.
    let source = SourceFile(path: "t", text: text)
    #expect(
      ports.map { source.location(of: $0.range.lowerBound) } == [
        ZPRPolicy.SourceLocation(line: 5, column: 9), ZPRPolicy.SourceLocation(line: 6, column: 9),
      ])
  }

  @Test func anEmptyFileStillHasTheDefaultNamespace() {
    for text in ["", "# nothing yet\n", "{}"] {
      let loaded = Self.load(text)
      #expect(loaded.diagnostics == [])
      #expect(loaded.tenancy.catalog.attribute("sensitivity", in: "oracle-zpr") != nil, "\(text)")
    }
  }

  @Test func anInvalidDefaultNamespaceIsReportedWhereItIsWritten() {
    let loaded = Self.load("defaultNamespace: my corp\n")
    #expect(loaded.diagnostics.map(\.code.rawValue) == ["ZPT105"])
    #expect(loaded.diagnostics.first?.path == "defaultNamespace")
    #expect(Self.line(loaded.diagnostics.first, "defaultNamespace: my corp\n") == 1)
  }

  @Test func statementsWithErrorsCountTowardTheLimit() {
    let good = "in n:p VCN allow a:w endpoints to connect to a:d endpoints"
    let statements =
      Array(repeating: "      - \(good)", count: 25) + ["      - \(good) with protocol='tcp/ssh'"]
    let loaded = Self.load(
      "policies:\n  - name: p\n    description: d\n    statements:\n"
        + statements.joined(separator: "\n"))
    #expect(loaded.diagnostics.filter { $0.code.rawValue == "ZPT012" }.count == 1)
  }

  @Test func onlyCompartmentsInTheCycleAreReported() {
    var tenancy = TenancyFixtures.threeTier()
    tenancy.compartments = [
      Compartment(name: "a", parent: "b"), Compartment(name: "b", parent: "c"),
      Compartment(name: "c", parent: "b"),
    ]
    #expect(
      tenancy.consistencyIssues().map(\.path) == [
        "compartments[1].parent", "compartments[2].parent",
      ])
  }

  @Test func aVNICCannotContradictItsResource() {
    var tenancy = TenancyFixtures.threeTier()
    tenancy.resources[0].vnics[0].securityAttributes = [
      AppliedAttribute(namespace: "app", key: "tier", value: "db")
    ]
    let issues = tenancy.consistencyIssues()
    #expect(issues.map(\.code) == [.invalidAttributes])
    #expect(issues.first?.path == "resources[0].vnics[0].securityAttributes")
  }

  @Test func peeredVCNsMayNotOverlap() {
    var tenancy = TenancyFixtures.twoVCNsPeered()
    tenancy.vcns[1].cidrs = [TenancyFixtures.prefix("10.0.128.0/17")]
    tenancy.vcns[1].subnets[0].cidr = TenancyFixtures.prefix("10.0.129.0/24")
    tenancy.resources[3].vnics[0].ips = [TenancyFixtures.address("10.0.129.10")]
    #expect(tenancy.consistencyIssues().contains { $0.code == .overlappingBlocks })
  }

  @Test func updateAttributeIsAllOrNothing() throws {
    var catalog = try sampleCatalog()
    #expect(
      errorCode {
        try catalog.updateAttribute("owner", in: "app", description: "New", validator: .oneOf([]))
      } == .invalidValidator)
    #expect(catalog.attribute("owner", in: "app")?.description == "Owning team")
  }
}
