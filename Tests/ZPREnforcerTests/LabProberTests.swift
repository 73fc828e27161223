import Foundation
import Testing
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy

/// The native prober in a real lab: allowed flows of every protocol connect, dropped ones do
/// not, and it leaves no listener behind it.
@Suite(
  "The lab's native prober",
  .enabled(if: Namespaces.available, "needs root, nftables and iproute2: it builds a lab"),
  .serialized)
struct LabProberTests {
  /// The listening TCP and bound UDP sockets in a namespace (`ss -Htuln`).
  static func listening(in namespace: String) -> String {
    Lab.shell(["ip", "netns", "exec", namespace, "ss", "-Htuln"]).output
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test func theProberSeesWhatTheTenancySaysAndClosesEverything() async throws {
    let prefix = "zlp\(getpid() % 10_000)"
    defer { _ = Lab.down(prefix: prefix) }
    let tenancy = try LabTests.load("three-tier.yaml")
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    _ = try await lab.enforce(tenancy)
    let flows = [
      LabFlow(from: "web-1", to: "app-1", transport: .tcp, port: 8080),
      LabFlow(from: "web-1", to: "app-1", transport: .tcp, port: 8081),
      LabFlow(from: "web-1", to: "db-1", transport: .tcp, port: 5432),
      LabFlow(from: "app-1", to: "db-1", transport: .tcp, port: 5432),
      LabFlow(from: "app-1", to: "web-1", transport: .icmp, port: nil),
      LabFlow(from: "web-1", to: "app-1", transport: .udp, port: 9),
    ]
    let results = try await LabProber(lab, timeout: 1).probe(flows)
    // The listeners are closed once the probe returns.
    #expect(Self.listening(in: lab.namespace(named: "app-1")!) == "")
    #expect(results.count == flows.count)
    // Each native answer is the analyzer's (both ways), and allowed TCP connects.
    let analyzer = PathAnalyzer(tenancy)
    for (flow, result) in zip(flows, results) {
      let analysis = try analyzer.analyze(
        PathQuery(
          from: flow.source, to: flow.destination, transport: flow.transport, port: flow.port,
          icmpType: flow.transport == .icmp ? 8 : nil, icmpCode: flow.transport == .icmp ? 0 : nil,
          bidirectional: true))
      let expected =
        analysis.status == .reachable && (analysis.returnStatus ?? .reachable) == .reachable
      #expect(result.connected == expected, "\(flow.label): \(result.detail)")
      #expect(!result.detail.hasPrefix("refused"), "\(flow.label): \(result.detail)")
    }
    #expect(results[0].connected, "\(results[0].detail)")
    #expect(!results[1].connected, "\(results[1].detail)")
    // Many flows at once, in batches smaller than their number: the same answers.
    let repeated = Array(repeating: flows, count: 50).flatMap { $0 }
    let again = try await LabProber(lab, timeout: 1, batch: 64).probe(repeated)
    #expect(
      again.map(\.connected)
        == Array(repeating: results.map(\.connected), count: 50).flatMap { $0 })
    #expect(Self.listening(in: lab.namespace(named: "db-1")!) == "")
  }

  /// Two unprotected VNICs behind a security list that names source ports, a stateless
  /// UDP port, ICMP types, and a stateless ping with its replies.
  static let edges = """
    defaultNamespace: oracle-zpr
    namespaces:
    - name: oracle-zpr
      description: The default namespace
      attributes:
      - name: sensitivity
        description: an attribute
    vcns:
    - name: v
      cidrs:
      - 10.0.0.0/16
      securityLists:
      - name: edges
        ingress:
        - protocol: tcp
          source: 10.0.0.0/16
          sourcePorts: 2000-2010
        - protocol: udp
          source: 10.0.0.0/16
          ports: 53
          stateless: true
        - protocol: icmp
          source: 10.0.0.0/16
          icmpType: 3
          stateless: true
        - protocol: icmp
          source: 10.0.0.0/16
          icmpType: 8
          stateless: true
        - protocol: icmp
          source: 10.0.0.0/16
          icmpType: 0
          stateless: true
        egress:
        - protocol: icmp
          destination: 10.0.0.0/16
          stateless: true
        - protocol: all
          destination: 10.0.0.0/16
      subnets:
      - name: s
        cidr: 10.0.1.0/24
        securityLists:
        - edges
    instances:
    - name: a
      vnics:
      - subnet: v/s
        ips:
        - 10.0.1.10
    - name: b
      vnics:
      - subnet: v/s
        ips:
        - 10.0.1.20

    """

  /// Chosen source ports at the edges of a rule's range, several flows from one source port at
  /// once, a stateless UDP port, one-way ICMP messages (an error conntrack does not track
  /// arrives through a stateless rule; a type no rule names does not) and a stateless ping:
  /// each as the analyzer says, and the raw sockets closed afterwards.
  @Test func sourcePortsAndICMPTypesGoWhereTheRulesSay() async throws {
    let prefix = "zlp\(getpid() % 10_000)e"
    defer { _ = Lab.down(prefix: prefix) }
    let loaded = TenancyFile.load(SourceFile(path: "edges.yaml", text: Self.edges))
    #expect(!loaded.hasErrors)
    let lab = Lab(loaded.tenancy, prefix: prefix)
    try await lab.up()
    _ = try await lab.enforce(loaded.tenancy)
    let traffic: [(LabTraffic, Bool)] = [
      (.connection(.tcp, port: 9, sourcePort: 1999), false),
      (.connection(.tcp, port: 9, sourcePort: 2000), true),
      (.connection(.tcp, port: 9, sourcePort: 2010), true),
      (.connection(.tcp, port: 9, sourcePort: 2011), false),
      (.connection(.tcp, port: 9), false),
      (.connection(.udp, port: 53), true),
      (.connection(.udp, port: 54), false),
      (.icmp(type: 3, code: 1), true),
      (.icmp(type: 11, code: 0), false),
      (.ping, true),
    ]
    let flows = traffic.map { LabFlow(from: "a", to: "b", traffic: $0.0) }
    // A second for each answer: the lab suites run beside each other, and a flow that must
    // connect should not miss a short timeout on a busy machine.
    let results = try await LabProber(lab, timeout: 1).probe(flows)
    let analyzer = PathAnalyzer(loaded.tenancy)
    for (index, flow) in flows.enumerated() {
      #expect(
        results[index].connected == traffic[index].1, "\(flow.label): \(results[index].detail)")
      let analysis = try LabDifferential.analyze(
        flow, in: lab, with: analyzer, sourcePort: results[index].sourcePort)
      #expect(
        LabDifferential.reachable(analysis, flow) == results[index].connected,
        "\(flow.label): the analyzer and the kernel differ")
      if let sourcePort = flow.sourcePort {
        #expect(results[index].sourcePort == sourcePort)
      }
    }
    #expect(results[7].detail == "arrived")
    // Twenty flows from one source port to one destination cannot share a socket: they take
    // turns, and each connects.
    let same = Array(
      repeating: LabFlow(from: "a", to: "b", traffic: .connection(.tcp, port: 9, sourcePort: 2005)),
      count: 20)
    let again = try await LabProber(lab, timeout: 1, batch: 8).probe(same)
    let connected = again.filter(\.connected).count
    #expect(connected == 20, "\(again.map(\.detail))")
    // No raw, TCP or UDP socket is left behind.
    let sockets = Lab.shell(["ip", "netns", "exec", lab.namespace(named: "b")!, "ss", "-Htuwln"])
    #expect(sockets.output.trimmingCharacters(in: .whitespacesAndNewlines) == "")
  }

  @Test func anUnknownVNICIsAnError() async throws {
    let lab = Lab(try LabTests.load("three-tier.yaml"), prefix: "zlq\(getpid() % 10_000)")
    await #expect(throws: LabError.self) {
      try await LabProber(lab).probe([
        LabFlow(from: "web-1", to: "nobody", transport: .tcp, port: 80)
      ])
    }
  }
}
