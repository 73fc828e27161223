import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy

/// A tenancy with a flow for every reason code: two VCNs peered, an island VCN without routes,
/// a locked-down subnet, an endpoint no statement names, one in audit mode only.
let lab = """
  namespaces:
    - name: app
      description: Roles
      attributes: [{name: role, description: Role}]
    - name: network
      description: Scopes
      attributes: [{name: vcn, description: VCN}]
  vcns:
    - name: prod
      cidrs: [10.0.0.0/16]
      securityAttributes: {network.vcn: prod}
      localPeeringGateways: [{name: to-shared, peer: shared/to-prod}]
      routeTables:
        - name: main
          rules:
            - {destination: 10.1.0.0/16, target: lpg/to-shared}
            - {destination: 0.0.0.0/0, target: nat}
      securityLists:
        - name: open
          ingress: [{protocol: all, source: 10.0.0.0/8}]
          egress: [{protocol: all, destination: 0.0.0.0/0}]
        - name: strict
          ingress: [{protocol: tcp, source: 10.0.0.0/8, ports: "22"}]
          egress: [{protocol: tcp, destination: 10.0.0.0/8, ports: "22"}]
      subnets:
        - {name: web, cidr: 10.0.1.0/24, routeTable: main, securityLists: [open]}
        - {name: db, cidr: 10.0.3.0/24, routeTable: main, securityLists: [open]}
        - {name: locked, cidr: 10.0.4.0/24, routeTable: main, securityLists: [strict]}
    - name: shared
      cidrs: [10.1.0.0/16]
      securityAttributes: {network.vcn: shared}
      localPeeringGateways: [{name: to-prod, peer: prod/to-shared}]
      routeTables:
        - name: main
          rules: [{destination: 10.0.0.0/16, target: lpg/to-prod}]
      securityLists:
        - name: open
          ingress: [{protocol: all, source: 10.0.0.0/8}]
          egress: [{protocol: all, destination: 10.0.0.0/8}]
      subnets:
        - {name: tools, cidr: 10.1.1.0/24, routeTable: main, securityLists: [open]}
    - name: island
      cidrs: [10.2.0.0/16]
      securityAttributes: {network.vcn: island}
      securityLists:
        - name: open
          ingress: [{protocol: all, source: 0.0.0.0/0}]
          egress: [{protocol: all, destination: 0.0.0.0/0}]
      subnets:
        - {name: lonely, cidr: 10.2.1.0/24, securityLists: [open]}
  instances:
    - {name: web-1, securityAttributes: {app.role: web}, vnics: [{subnet: prod/web, ip: 10.0.1.10}]}
    - {name: plain-1, vnics: [{subnet: prod/web, ip: 10.0.1.20}]}
    - {name: db-1, securityAttributes: {app.role: db}, vnics: [{subnet: prod/db, ip: 10.0.3.10}]}
    - {name: orphan-1, securityAttributes: {app.role: orphan}, vnics: [{subnet: prod/db, ip: 10.0.3.20}]}
    - name: auditor-1
      securityAttributes: {app.role: {value: db, mode: audit}}
      vnics: [{subnet: prod/db, ip: 10.0.3.30}]
    - {name: locked-1, securityAttributes: {app.role: web}, vnics: [{subnet: prod/locked, ip: 10.0.4.10}]}
    - {name: tools-1, securityAttributes: {app.role: tools}, vnics: [{subnet: shared/tools, ip: 10.1.1.10}]}
    - {name: lonely-1, securityAttributes: {app.role: web}, vnics: [{subnet: island/lonely, ip: 10.2.1.10}]}
  policies:
    - name: lab
      description: Every case
      statements:
        - in network.vcn:prod VCN allow app.role:web endpoints to connect to app.role:db endpoints with protocol='tcp/5432'
        - allow app.role:web endpoints in network.vcn:prod VCN to connect to app.role:tools endpoints with protocol='tcp/443' in network.vcn:shared VCN
        - in network.vcn:prod VCN allow app.role:web endpoints to connect to app.role:db endpoints with protocol='udp/514', connection-state='stateless'
        - in network.vcn:island VCN allow app.role:web endpoints to connect to '10.0.0.0/8'
        - in network.vcn:prod VCN allow app.role:web endpoints to connect to app.role:web endpoints with protocol='tcp/80'
  """

@Suite("Path analyzer")
struct PathAnalyzerTests {
  static let analyzer: PathAnalyzer = {
    let loaded = TenancyFile.load(SourceFile(path: "lab.yaml", text: lab))
    precondition(!loaded.hasErrors, "\(loaded.diagnostics)")
    return PathAnalyzer(loaded.tenancy)
  }()

  static func analyze(
    _ from: String, _ to: String, _ transport: FlowProtocol = .tcp, port: Int? = nil,
    bidirectional: Bool = false
  ) throws(AnalysisError) -> PathAnalysis {
    try analyzer.analyze(
      PathQuery(from: from, to: to, transport: transport, port: port, bidirectional: bidirectional))
  }

  static func zpr(_ analysis: PathAnalysis) -> [LayerDecision] {
    analysis.forward.flatMap(\.layers).filter { $0.layer == .zpr }
  }

  @Test func allowedByAStatefulStatement() throws {
    let analysis = try Self.analyze("web-1", "db-1", port: 5432, bidirectional: true)
    #expect(analysis.status == .reachable)
    #expect(Self.zpr(analysis).map(\.action) == [.zprAllowed, .zprAllowed])
    #expect(Self.zpr(analysis).allSatisfy { $0.allowedBy == .statefulZPR && $0.statement == 0 })
    #expect(Self.zpr(analysis).first?.statementText?.hasPrefix("in network.vcn:prod VCN") == true)
    #expect(analysis.returnStatus == .reachable)
    let replyZPR = analysis.returnPath?.flatMap(\.layers).first { $0.layer == .zpr }
    #expect(replyZPR?.allowedBy == .statefulZPR)
  }

  @Test func statelessStatementsDoNotImplyReplies() throws {
    let analysis = try Self.analyze("web-1", "db-1", .udp, port: 514, bidirectional: true)
    #expect(analysis.status == .reachable)
    #expect(Self.zpr(analysis).allSatisfy { $0.allowedBy == .zpr && $0.statement == 2 })
    #expect(analysis.returnStatus == .unreachable)
    let replyZPR = analysis.returnPath?.flatMap(\.layers).first { $0.layer == .zpr }
    #expect(replyZPR?.action == .zprDenied)
  }

  @Test func deniedWithTheNearMissAndAFix() throws {
    let analysis = try Self.analyze("web-1", "db-1", port: 22)
    #expect(analysis.status == .unreachable)
    #expect(analysis.stoppedAt == .zprEgress)
    #expect(Self.zpr(analysis).map(\.action) == [.zprDenied])
    let miss = analysis.nearMisses.first
    #expect(miss?.statement == 0)
    #expect(miss?.difference == .port)
    #expect(miss?.explanation.contains("port 22") == true)
    #expect(
      analysis.suggestion
        == "in network.vcn:prod VCN allow app.role:web endpoints to connect to app.role:db "
        + "endpoints with protocol='tcp/22'")
  }

  @Test func theOtherDirectionIsANearMiss() throws {
    let analysis = try Self.analyze("db-1", "web-1", port: 5432)
    #expect(analysis.status == .unreachable)
    #expect(analysis.nearMisses.first?.difference == .direction)
  }

  @Test func anEndpointNoStatementNamesIsMissingAPolicy() throws {
    let analysis = try Self.analyze("plain-1", "orphan-1", port: 80)
    #expect(analysis.status == .unreachable)
    #expect(analysis.stoppedAt == .zprIngress)
    #expect(Self.zpr(analysis).map(\.action) == [.zprMissingPolicy])
    #expect(analysis.destination.protected)
    #expect(!analysis.source.protected)
  }

  @Test func noRouteMeansZPRIsNotEvaluated() throws {
    let analysis = try Self.analyze("lonely-1", "db-1", port: 5432)
    #expect(analysis.status == .unreachable)
    #expect(analysis.stoppedAt == .route)
    #expect(Self.zpr(analysis).map(\.action) == [.zprNotEvaluatedMissingRoute])
    #expect(
      analysis.forward.flatMap(\.layers).contains { $0.layer == .route && $0.action == .denied })
  }

  @Test func securityListsDenyingMeansZPRIsNotEvaluated() throws {
    let inbound = try Self.analyze("web-1", "locked-1", port: 80)
    #expect(inbound.stoppedAt == .securityIngress)
    #expect(Self.zpr(inbound).first?.action == .zprAllowed)
    #expect(Self.zpr(inbound).last?.action == .zprNotEvaluatedSecurityDenied)
    let outbound = try Self.analyze("locked-1", "web-1", port: 80)
    #expect(outbound.stoppedAt == .securityEgress)
    #expect(Self.zpr(outbound).map(\.action) == [.zprNotEvaluatedSecurityDenied])
    let denied = outbound.forward[0].layers[0]
    #expect(denied.action == .denied && denied.reason.contains("security list 'strict'"))
  }

  @Test func crossVCNThroughLocalPeering() throws {
    let analysis = try Self.analyze("web-1", "tools-1", port: 443, bidirectional: true)
    #expect(analysis.status == .reachable)
    #expect(analysis.forward.contains { $0.kind == .gateway && $0.name.contains("'to-shared'") })
    #expect(Self.zpr(analysis).allSatisfy { $0.statement == 1 })
    #expect(analysis.returnStatus == .reachable)
    let wrongPort = try Self.analyze("web-1", "tools-1", port: 80)
    #expect(wrongPort.stoppedAt == .zprEgress)
  }

  @Test func auditModeSaysWhatZPRWouldDecide() throws {
    // auditor-1 carries app.role:db in audit mode: not protected, and not a db to ZPR yet.
    let fromWeb = try Self.analyze("web-1", "auditor-1", port: 5432)
    #expect(fromWeb.status == .unreachable)
    #expect(fromWeb.audit?.action == .zprAllowed)
    #expect(fromWeb.audit?.statement == 0)
    let fromPlain = try Self.analyze("plain-1", "auditor-1", port: 5432)
    #expect(fromPlain.status == .reachable)
    #expect(Self.zpr(fromPlain).isEmpty)
    #expect(fromPlain.audit?.action == .zprDenied)
  }

  @Test func anAddressNoVNICHoldsIsIndeterminate() throws {
    let analysis = try Self.analyze("plain-1", "10.0.3.99", port: 5432)
    #expect(analysis.status == .indeterminate)
    #expect(analysis.stoppedAt == .destination)
  }

  @Test func leavingTheTenancy() throws {
    let unprotected = try Self.analyze("plain-1", "8.8.8.8", port: 443)
    #expect(unprotected.status == .reachable)
    #expect(unprotected.forward.contains { $0.kind == .outside })
    let protected = try Self.analyze("web-1", "8.8.8.8", port: 443)
    #expect(protected.stoppedAt == .zprEgress)
    #expect(
      protected.suggestion
        == "in network.vcn:prod VCN allow app.role:web endpoints to connect to '8.8.8.8' with "
        + "protocol='tcp/443'")
  }

  @Test func unknownEndsAreErrorsWithAGuess() throws {
    #expect(throws: AnalysisError.self) { try Self.analyze("web1", "db-1", port: 1) }
    do throws(AnalysisError) {
      _ = try Self.analyze("web1", "db-1", port: 1)
    } catch {
      #expect(error.code == .unknownEnd)
      #expect(error.message.contains("did you mean 'web-1'?"))
    }
    #expect(throws: AnalysisError.self) { try Self.analyze("web-1", "db-1") }
    #expect(throws: AnalysisError.self) { try Self.analyze("web-1", "db-1", .icmp, port: 22) }
    #expect(throws: AnalysisError.self) {
      try Self.analyzer.analyze(
        PathQuery(from: "web-1", to: "db-1", transport: .tcp, port: 22, icmpType: 8))
    }
  }
}
