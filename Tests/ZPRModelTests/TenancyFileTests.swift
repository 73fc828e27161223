import Foundation
import Testing
import ZPRModel
import ZPRPolicy

@Suite("The tenancy file")
struct TenancyFileTests {
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "examples/tenancies")

  static func load(_ text: String) -> TenancyFile.Loaded {
    TenancyFile.load(SourceFile(path: "t.yaml", text: text))
  }

  /// The line and column where a diagnostic starts.
  static func position(_ diagnostic: Diagnostic, in loaded: TenancyFile.Loaded, text: String)
    -> ZPRPolicy.SourceLocation
  {
    SourceFile(path: "t.yaml", text: text).location(of: diagnostic.range.lowerBound)
  }

  @Test(arguments: ["three-tier.yaml", "two-vcns.yaml", "iam.yaml", "hub.yaml"])
  func examplesLoadCleanly(name: String) throws {
    let path = Self.examples.appendingPathComponent(name).path
    let loaded = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8)))
    #expect(loaded.diagnostics == [], "\(loaded.diagnostics)")
    #expect(!loaded.tenancy.vcns.isEmpty && !loaded.tenancy.policies.isEmpty)
  }

  @Test func theThreeTierExampleReadsAsWritten() throws {
    let path = Self.examples.appendingPathComponent("three-tier.yaml").path
    let tenancy = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8))
    ).tenancy
    #expect(tenancy.resources.map(\.name) == ["web-1", "app-1", "db-1"])
    #expect(tenancy.resources[2].kind == .database)
    #expect(
      tenancy.resources[2].securityAttributes.contains(
        AppliedAttribute(namespace: "oracle-zpr", key: "sensitivity", value: "high", mode: .audit)))
    #expect(
      tenancy.catalog.attribute("tier", in: "app")?.validator == .oneOf(["web", "app", "db"]))
    #expect(tenancy.catalog.attribute("sensitivity", in: "oracle-zpr") != nil, "ZPR is enabled")
    let nsg = try #require(tenancy.vcns.first?.networkSecurityGroups.first)
    #expect(nsg.ingress.first?.destinationPorts == 5432...5432)
    #expect(tenancy.vcns[0].routeTables[0].rules.first?.target == .natGateway)
    #expect(tenancy.policies[0].statements.count == 2)
  }

  @Test func jsonReadsLikeYAML() {
    let yaml = """
      vcns:
        - name: prod
          cidrs: [10.0.0.0/16]
          subnets: [{name: web, cidr: 10.0.1.0/24}]
      instances:
        - {name: web-1, vnics: [{subnet: prod/web, ip: 10.0.1.10}]}
      """
    let json = """
      {"vcns": [{"name": "prod", "cidrs": ["10.0.0.0/16"], "subnets": [{"name": "web", "cidr": "10.0.1.0/24"}]}],
       "instances": [{"name": "web-1", "vnics": [{"subnet": "prod/web", "ip": "10.0.1.10"}]}]}
      """
    let fromYAML = Self.load(yaml)
    let fromJSON = Self.load(json)
    #expect(fromYAML.diagnostics == [] && fromJSON.diagnostics == [])
    #expect(fromYAML.tenancy == fromJSON.tenancy)
  }

  /// Each file-shape code, with the line and column it must point at and the path it names.
  static let shapeMistakes: [(text: String, code: String, line: Int, column: Int, path: String)] = [
    ("vcns: [\n  - name: prod\n  cidrs: x", "ZPT100", 2, 3, ""),
    ("vcns: {name: prod}", "ZPT101", 1, 7, "vcns"),
    ("vcns:\n  - name: prod\n    cidr: [10.0.0.0/16]", "ZPT102", 3, 5, "vcns[0].cidr"),
    ("vcns:\n  - cidrs: [10.0.0.0/16]", "ZPT103", 2, 5, "vcns[0]"),
    ("vcns:\n  - name: prod\n    cidrs: [10.0.0.300/16]", "ZPT104", 3, 13, "vcns[0].cidrs[0]"),
    (
      "vcns:\n  - name: prod\n    cidrs: [10.0.0.0/16]\n    routeTables: [{name: r, rules: [{destination: 0.0.0.0/0, target: gateway}]}]",
      "ZPT104", 4, 70, "vcns[0].routeTables[0].rules[0].target"
    ),
    ("namespaces:\n  - {name: 1app, description: x}", "ZPT105", 2, 12, "namespaces[0].name"),
  ]

  @Test(arguments: shapeMistakes.indices)
  func shapeMistakesArePlaced(index: Int) {
    let mistake = Self.shapeMistakes[index]
    let loaded = Self.load(mistake.text)
    let found = loaded.diagnostics.first { $0.code.rawValue == mistake.code }
    guard let found else {
      Issue.record("\(mistake.code) not reported: \(loaded.diagnostics)")
      return
    }
    #expect(
      Self.position(found, in: loaded, text: mistake.text)
        == ZPRPolicy.SourceLocation(line: mistake.line, column: mistake.column))
    if !mistake.path.isEmpty { #expect(found.path == mistake.path) }
  }

  @Test func unknownKeysSuggestTheKnownOne() {
    let loaded = Self.load("vcns:\n  - name: prod\n    cidr: [10.0.0.0/16]")
    #expect(
      loaded.diagnostics.first { $0.code == TenancyFileCode.unknownKey }?.suggestion
        == "did you mean 'cidrs'?")
  }

  @Test func consistencyIssuesUseTheFilesSectionNames() {
    let text = """
      vcns:
        - name: prod
          cidrs: [10.0.0.0/16]
          subnets: [{name: db, cidr: 10.0.3.0/24}]
      instances:
        - {name: app-1, vnics: [{subnet: prod/db, ip: 10.0.3.10}]}
      databases:
        - name: db-1
          vnics: [{subnet: prod/db, ip: 10.0.4.10}]
      """
    let loaded = Self.load(text)
    let issue = loaded.diagnostics.first { $0.code.rawValue == "ZPT003" }
    #expect(issue?.path == "databases[0].vnics[0].ip")
    #expect(
      issue.map { Self.position($0, in: loaded, text: text) }
        == ZPRPolicy.SourceLocation(line: 9, column: 35)
    )
  }

  /// Elements that could not be read shift the model's indexes; issues still point at the
  /// element in the file.
  @Test func consistencyIssuesSkipUnreadElements() {
    let text = """
      vcns:
        - name: prod
          cidrs: [10.0.0.0/16]
          subnets: [{name: web, cidr: 10.0.1.0/24}]
      instances:
        - name: web-1
          vnics:
            - {subnet: nonsense}
            - {subnet: prod/web, ips: [bad, 10.0.9.9], nsgs: [~, zzz]}
      """
    let loaded = Self.load(text)
    let outside = loaded.diagnostics.first { $0.code.rawValue == "ZPT003" }
    #expect(outside?.path == "instances[0].vnics[1].ips[1]")
    #expect(
      outside.map { Self.position($0, in: loaded, text: text) }
        == ZPRPolicy.SourceLocation(line: 9, column: 39))
    let group = loaded.diagnostics.first {
      $0.severity == .error && $0.message.contains("zzz")
    }
    #expect(group?.path == "instances[0].vnics[1].nsgs[1]")
    #expect(
      group.map { Self.position($0, in: loaded, text: text) }
        == ZPRPolicy.SourceLocation(line: 9, column: 60))
  }

  @Test func statementProblemsArePlacedInsideTheStatement() {
    let text = """
      policies:
        - name: p
          description: d
          statements:
            - in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/ssh'
            - "in n:p VCN alow a:w endpoints to connect to a:d endpoints"
      """
    let loaded = Self.load(text)
    let port = loaded.diagnostics.first { $0.code == .nonNumericPort }
    #expect(
      port.map { Self.position($0, in: loaded, text: text) }
        == ZPRPolicy.SourceLocation(line: 5, column: 87))
    #expect(port?.path == "policies[0].statements[0]")
    let keyword = loaded.diagnostics.first { $0.code == .expectedWord }
    #expect(
      keyword.map { Self.position($0, in: loaded, text: text) }
        == ZPRPolicy.SourceLocation(line: 6, column: 21))
    #expect(loaded.tenancy.policies[0].statements.isEmpty, "statements with errors are left out")
  }

  @Test func attributeModesAndDefaultNamespace() {
    let loaded = Self.load(
      """
      defaultNamespace: corp
      namespaces:
        - {name: corp, description: Ours, attributes: [{name: sensitivity, description: s}]}
      vcns:
        - name: prod
          cidrs: [10.0.0.0/16]
          subnets: [{name: s, cidr: 10.0.1.0/24}]
      instances:
        - name: i
          securityAttributes: {sensitivity: {value: high, mode: audit}}
          vnics: [{subnet: prod/s, ip: 10.0.1.5}]
      """)
    #expect(loaded.diagnostics == [])
    #expect(
      loaded.tenancy.resources[0].securityAttributes == [
        AppliedAttribute(namespace: "corp", key: "sensitivity", value: "high", mode: .audit)
      ])
  }

  @Test func nullMeansAbsent() {
    let loaded = Self.load(
      "compartments:\n  - {name: a, parent: null}\n  - {name: b, parent: ~}\n  - {name: c, parent: a}"
    )
    #expect(loaded.diagnostics == [])
    #expect(loaded.tenancy.compartments.map(\.parent) == [nil, nil, "a"])
  }

  @Test func docsListEveryTenancyCode() throws {
    let docs = Self.examples.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("docs/diagnostics.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    let codes =
      TenancyIssue.Code.allCases.map(\.rawValue) + TenancyFileCode.all.map(\.rawValue)
    for code in codes { #expect(text.contains("| \(code) |"), "docs/diagnostics.md lacks \(code)") }
  }

  @Test func retiredAttributesAreRetired() {
    let loaded = Self.load(
      """
      namespaces:
        - name: app
          description: Apps
          attributes: [{name: old, description: Old, retired: true}, {name: new, description: New}]
      """)
    #expect(loaded.tenancy.catalog.attribute("old", in: "app")?.state == .inactive)
    #expect(loaded.tenancy.catalog.attribute("new", in: "app")?.state == .active)
  }
}
