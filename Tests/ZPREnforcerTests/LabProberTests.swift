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
    let results = try await LabProber(lab).probe(flows)
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
    let again = try await LabProber(lab, batch: 64).probe(repeated)
    #expect(
      again.map(\.connected)
        == Array(repeating: results.map(\.connected), count: 50).flatMap { $0 })
    #expect(Self.listening(in: lab.namespace(named: "db-1")!) == "")
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
