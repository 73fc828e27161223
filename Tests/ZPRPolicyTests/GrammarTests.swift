import Foundation
import Testing
import ZPRPolicy

@Suite("The ZPL grammar")
struct GrammarTests {
  /// Every example published in ZPL.md section 2 and the product FAQ (the seed).
  static let published = [
    "in SA_BACKEND_VCN VCN allow SA_WEB_FRONTEND endpoints to connect to SA_APP_BACKEND endpoints",
    "in networks:net1 VCN allow apps:app1 endpoints to connect to '192.168.0.0/16'",
    "in applications.apps:app1 VCN allow '10.0.0.0/16' to connect to apps:app1 endpoints",
    "allow compute:instance1 endpoints in networks:net1 VCN to connect to compute:instance2 endpoints with protocol='tcp/22' in networks:net2 VCN",
    "In SA_BACKEND_VCN VCN allow SA_WEB_FRONTEND endpoints to connect to SA_APP_BACKEND endpoints",
    "In SA_BACKEND_VCN VCN allow SA_APP_BACKEND endpoints to connect to SA_DB_TIER endpoints",
    "Allow SA_WEB_FRONTEND endpoints in SA_FRONTEND_VCN VCN to connect to SA_APP_BACKEND endpoints in SA_BACKEND_VCN VCN",
    "Allow SA_APP_BACKEND endpoints in SA_BACKEND_VCN VCN to connect to SA_DB_TIER endpoints in SA_DATABASE_VCN VCN",
    "In SA_BACKEND_VCN VCN allow SA_APP_BACKEND endpoints to connect to 10.10.0.15",
    "In SA_FRONTEND_VCN VCN allow SA_WEB_FRONTEND endpoints to connect to 10.10.1.25",
  ]

  @Test(arguments: published)
  func publishedExampleParses(text: String) throws {
    let file = check(text)
    #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
    #expect(file.statements.count == 1)
  }

  @Test func examplesFolderChecksCleanly() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    for name in ["published.zpl", "three-tier.zpl"] {
      let path = root.appendingPathComponent("examples/\(name)").path
      let text = try String(contentsOfFile: path, encoding: .utf8)
      let file = PolicyChecker().check(SourceFile(path: path, text: text))
      #expect(file.diagnostics.isEmpty, "\(name): \(file.diagnostics)")
      #expect(!file.statements.isEmpty)
    }
  }

  @Test func scopedFormHasItsParts() throws {
    let parsed = try statement(
      "in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'"
    )
    #expect(parsed.scope == .vcn(.ref(nil, "networks", "prod")))
    #expect(parsed.source.kind == .attribute(.ref(nil, "app", "web")))
    #expect(parsed.destination.kind == .attribute(.ref(nil, "app", "db")))
    #expect(parsed.filters.transport?.transport == .tcp)
    #expect(parsed.filters.transport?.ports.map { [$0.lower, $0.upper] } == [[5432, 5432]])
    #expect(parsed.filters.state == .stateful)
  }

  @Test func crossVCNFormAcceptsFiltersBeforeOrAfterTheDestinationVCN() throws {
    let before = try statement(
      "allow a:b endpoints in n:one VCN to connect to c:d endpoints with protocol='tcp/22' in n:two VCN"
    )
    let after = try statement(
      "allow a:b endpoints in n:one VCN to connect to c:d endpoints in n:two VCN with protocol='tcp/22'"
    )
    #expect(before == after)
    #expect(
      before.scope == .crossVCN(source: .ref(nil, "n", "one"), destination: .ref(nil, "n", "two")))
  }

  @Test func keywordsIgnoreCaseAndEndpointsWordIsOptional() throws {
    let plain = try statement("in n:p VCN allow a:w endpoints to connect to a:d endpoints")
    #expect(try statement("IN n:p vcn ALLOW a:w TO Connect to a:d") == plain)
    #expect(try statement("in n:p VCN allow a:w Endpoints to connect to a:d ENDPOINTS") == plain)
  }

  @Test func attributeForms() throws {
    func destination(_ text: String) throws -> Endpoint.Kind {
      try statement("in n:p VCN allow a:w endpoints to connect to \(text)").destination.kind
    }
    #expect(
      try destination("oracle-zpr.sensitivity:high")
        == .attribute(.ref("oracle-zpr", "sensitivity", "high")))
    #expect(try destination("SA_DB_TIER endpoints") == .attribute(.ref(nil, "SA_DB_TIER", nil)))
    #expect(
      try destination("'my-corp.biz:dev and test db'")
        == .attribute(.ref("my-corp", "biz", "dev and test db")))
    #expect(try destination("'app:it''s'") == .attribute(.ref(nil, "app", "it's")))
    #expect(try destination("'app:v1.2:x'") == .attribute(.ref(nil, "app", "v1.2:x")))
    #expect(try destination("'app:x::y'") == .attribute(.ref(nil, "app", "x::y")))
    #expect(try destination("'db:a::b'") == .address(try IPPrefix.parse("db:a::b").get()))
    #expect(try destination("'app:web'") == .attribute(.ref(nil, "app", "web")))
    #expect(try destination("'to'") == .attribute(.ref(nil, "to", nil)))
  }

  @Test func addressAndSpecialEndpoints() throws {
    func source(_ text: String) throws -> Endpoint.Kind {
      try statement("in n:p VCN allow \(text) to connect to a:d endpoints").source.kind
    }
    let host = try IPPrefix.parse("10.10.0.15").get()
    #expect(try source("10.10.0.15") == .address(host))
    #expect(try source("'10.10.0.15'") == .address(host))
    #expect(try source("'10.10.0.15/32'") == .address(host))
    #expect(try source("'0.0.0.0/0'") == .address(try IPPrefix.parse("0.0.0.0/0").get()))
    #expect(try source("fd00::/64") == .address(try IPPrefix.parse("fd00::/64").get()))
    #expect(try source("'2001:db8::1'") == .address(try IPPrefix.parse("2001:db8::1").get()))
    #expect(try source("all-endpoints") == .allEndpoints)
    #expect(try source("ALL-ENDPOINTS") == .allEndpoints)
    for spelling in [
      "osn-services-ip-addresses", "'osn-services-ip-addresses'", "osn-services-ip-endpoints",
      "'osn-services-ip-endpoints'", "'OSN-Services-IP-Addresses'",
    ] {
      #expect(try source(spelling) == .serviceNetwork, "\(spelling)")
    }
  }

  @Test func filterForms() throws {
    func filters(_ text: String) throws -> Filters {
      try statement("in n:p VCN allow a:w endpoints to connect to a:d endpoints \(text)").filters
    }
    let list = try filters("with protocol='tcp/6200,22,1521-1522'")
    #expect(list.transport?.ports.map(\.description) == ["22", "1521-1522", "6200"])
    #expect(try filters("with protocol = 'udp/53'").transport?.transport == .udp)
    #expect(try filters("with protocol='TCP'").transport?.ports.isEmpty == true)
    #expect(
      try filters("with protocol=' tcp / 22 , 80 '").transport?.ports.map(\.description) == [
        "22", "80",
      ])
    let icmp = try filters("with protocol='icmp', protocol.icmp.type='8', protocol.icmp.code='0'")
    #expect(
      icmp.transport?.transport == .icmp && icmp.icmpType?.value == 8 && icmp.icmpCode?.value == 0)
    #expect(
      try filters("with protocol='icmp6' with protocol.icmp.type='128'").icmpType?.value == 128)
    let stateless = try filters("with protocol='udp/514' with connection-state='stateless'")
    #expect(stateless.state == .stateless)
    #expect(try filters("with connection-state='STATEFUL'").state == .stateful)
    #expect(try filters("").isEmpty)
    #expect(
      try filters("with connection-state='stateless', protocol='tcp/22'")
        == filters("with protocol='tcp/22', connection-state='stateless'"))
  }

  @Test func commentsAndBlankLinesAreKept() throws {
    let file = check(
      """
      # header

      in n:p VCN allow a:w endpoints to connect to a:d endpoints # why: the app needs it
      in n:p VCN allow 'a:#not a comment' endpoints to connect to a:d endpoints
      """)
    #expect(file.diagnostics.isEmpty)
    #expect(file.statements.count == 2)
    guard case .statement(0, let comment) = file.lines[2] else {
      Issue.record("line 3 should be a statement")
      return
    }
    #expect(comment?.text == " why: the app needs it")
    #expect(file.statements[1].source.attribute?.value == "#not a comment")
    #expect(file.lines[0] == .comment(Comment(text: " header", range: SourceRange(0, 0))))
    #expect(file.lines[1] == .blank)
  }

  @Test func windowsLineEndingsAreAccepted() {
    let file = check(
      "in n:p VCN allow a:w to connect to a:d\r\nin n:p VCN allow a:x to connect to a:d\r\n")
    #expect(file.diagnostics.isEmpty)
    #expect(file.statements.count == 2)
  }

  @Test func everyNodeKnowsItsSourceRange() throws {
    let text =
      "in n:p VCN allow 'a:x y' endpoints to connect to '10.0.0.0/8' with protocol='tcp/22'"
    let source = SourceFile(path: "t", text: text)
    let parsed = try #require(PolicyChecker().check(source).statements.first)
    #expect(source.text(of: parsed.range) == text)
    #expect(source.text(of: parsed.source.range) == "'a:x y' endpoints")
    #expect(source.text(of: try #require(parsed.filters.range)) == "with protocol='tcp/22'")
    #expect(source.text(of: parsed.destination.range) == "'10.0.0.0/8'")
    #expect(source.text(of: try #require(parsed.filters.transport).range) == "protocol='tcp/22'")
    #expect(source.text(of: try #require(parsed.filters.transport?.ports.first).range) == "22")
    guard case .vcn(let vcn) = parsed.scope else { return }
    #expect(source.text(of: vcn.range) == "n:p")
  }
}
