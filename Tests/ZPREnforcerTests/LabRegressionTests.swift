import Foundation
import Testing
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// The disagreements the lab's differential test found between the analyzer and the kernel,
/// each kept as its tenancy (`Regressions/`) and held here: the flow that disagreed must now
/// behave in the kernel as the analyzer says, and as the analyzer says it should.
@Suite(
  "Disagreements the lab found",
  .enabled(
    if: Namespaces.available,
    "needs root, nftables, conntrack and iproute2 (CI has them): it builds labs"),
  .serialized)
struct LabRegressionTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Regressions")

  static func load(_ name: String) throws -> Tenancy {
    let path = directory.appendingPathComponent("\(name).yaml").path
    let loaded = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8)))
    #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
    return loaded.tenancy
  }

  /// Builds the tenancy's lab, probes the flows, and expects each to connect as `expected`
  /// says and the analyzer to agree; takes the lab down.
  static func expect(
    _ name: String, _ flows: [(LabFlow, Bool)], prefix: String
  ) async throws {
    defer { _ = Lab.down(prefix: prefix) }
    let tenancy = try load(name)
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    _ = try await lab.enforce(tenancy)
    let result = try await LabDifferential.compare(lab, tenancy, flows: flows.map(\.0))
    #expect(
      result.disagreements == [],
      "\(result.disagreements.map { $0.reproducer(seed: nil, tenancy: tenancy) })")
    for (flow, connects) in flows {
      #expect(result.connected.contains(flow) == connects, "\(flow.label)")
    }
  }

  /// A stateless statement listed first and a stateful one after, both allowing udp/53: the
  /// replies pass (the flow jumps to the stateless statement's stateful chain). The host's
  /// ruleset used to build one chain per statement, from the first grant that named it, so
  /// the connection was not marked and its replies were dropped.
  @Test func aStatefulStatementAfterAStatelessOneLetsTheRepliesThrough() async throws {
    let ruleset = try EnforcedTenancy(Self.load("overlap")).ruleset(for: "server")
    #expect(ruleset.statements.map(\.name) == ["s0_0", "s0_0_stateful", "s0_1"])
    #expect(ruleset.statements.map(\.counter) == ["s0_0", "s0_0", "s0_1"])
    #expect(ruleset.statementCount == 2)
    let table = NFTRenderer.table(for: ruleset)
    #expect(
      table.chain(named: "s0_0_stateful")?.rules.contains { $0.hasPrefix("ct mark set") } == true)
    #expect(table.chain(named: "s0_0")?.rules.contains { $0.hasPrefix("ct mark set") } == false)
    try await Self.expect(
      "overlap",
      [
        (LabFlow(from: "client", to: "server", traffic: .connection(.udp, port: 53)), true),
        (LabFlow(from: "client", to: "server", traffic: .connection(.udp, port: 54)), false),
      ], prefix: "zlr\(getpid() % 10_000)a")
  }

  /// An ICMPv6 echo request through stateless security rules that let requests (128) in and
  /// out but replies (129) only out: the reply is dropped on its way back in, as the kernel
  /// shows. The analyzer used to take the reply for another request (128), which the rules let
  /// in, and called the ping reachable.
  @Test func anICMPv6EchoIsAnsweredByAnEchoReply() async throws {
    #expect(
      Flow(icmpFrom: IPAddress("fd00::a")!, to: IPAddress("fd00::b")!, type: 128, code: 0).reply
        .icmpType == 129)
    #expect(
      Flow(icmpFrom: IPAddress("10.0.0.1")!, to: IPAddress("10.0.0.2")!, type: 13, code: 0).reply
        .icmpType == 14)
    let analysis = try PathAnalyzer(Self.load("v6echo")).analyze(
      PathQuery(
        from: "a", to: "b", transport: .icmp, port: nil, icmpType: 128, icmpCode: 0,
        bidirectional: true))
    #expect(analysis.status == .reachable)
    #expect(analysis.returnStatus == .unreachable)
    try await Self.expect(
      "v6echo", [(LabFlow(from: "a", to: "b", traffic: .ping), false)],
      prefix: "zlr\(getpid() % 10_000)b")
  }

  /// An ICMP error without a connection (destination unreachable) through a stateful security
  /// rule arrives: the lab's security table used to set the mark and accept in one rule, which
  /// ends at a packet conntrack does not track.
  @Test func anUntrackedICMPErrorPassesAStatefulSecurityRule() async throws {
    try await Self.expect(
      "untracked",
      [
        (LabFlow(from: "client", to: "server", traffic: .icmp(type: 3, code: 3)), true),
        (LabFlow(from: "client", to: "server", traffic: .icmp(type: 13, code: 0)), true),
      ], prefix: "zlr\(getpid() % 10_000)c")
  }

  /// Connections allowed statefully, then only by stateless statements: the reconcilers cut
  /// them, so their replies need a statement of their own, as the analyzer says. They used to
  /// be kept (only a connection no statement allowed was cut).
  @Test func aConnectionWhoseStatementTurnedStatelessIsCut() async throws {
    let prefix = "zlr\(getpid() % 10_000)d"
    defer { _ = Lab.down(prefix: prefix) }
    let tenancy = try Self.load("flip")
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    let reconcilers = try await lab.enforce(tenancy)
    let flows = [
      LabFlow(from: "client", to: "server", traffic: .connection(.udp, port: 53)),
      LabFlow(from: "client", to: "server", traffic: .connection(.tcp, port: 53)),
    ]
    let held = try await LabHeldConnections.open(lab, flows: flows)
    defer { held.close() }
    #expect(held.opened == [true, true], "\(held.failures)")
    #expect(try await held.exchange().map(\.carried) == [true, true])
    var changed = tenancy
    changed.policies[0].statements.removeFirst(2)
    let after = try await lab.enforce(changed, reconcilers: reconcilers)
    var cut = 0
    for reconciler in after.values { cut += await reconciler.cut }
    #expect(cut >= 2)
    #expect(try await held.exchange().map(\.carried) == [false, false])
    let analyzer = PathAnalyzer(changed)
    for flow in flows {
      let analysis = try LabDifferential.analyze(flow, in: lab, with: analyzer)
      #expect(analysis.status == .reachable)
      #expect(analysis.returnStatus == .unreachable)
    }
  }
}
