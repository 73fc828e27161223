import Foundation
public import ZPREngine
public import ZPRModel
import ZPRPolicy

/// A flow on which the analyzer and the kernel disagree.
public struct LabDisagreement: Hashable, Sendable {
  public var flow: LabFlow
  /// Whether the analyzer says the flow and its replies get through.
  public var analyzerReachable: Bool
  /// Where the analyzer says the flow stops (`zpr`, `security-list`), when it does.
  public var stoppedAt: String?
  /// What the kernel did (`connected`, `no answer within 0.25 s`).
  public var kernel: String

  /// The disagreement with all it takes to reproduce it: the seed, the flow, both answers,
  /// the commands, and the tenancy as a tenancy file.
  public func reproducer(seed: UInt64?, tenancy: Tenancy) -> String {
    let port = flow.port.map { " --port \($0)" } ?? ""
    return """
      disagreement\(seed.map { " (seed \($0))" } ?? ""): \(flow.label): the analyzer says \
      \(analyzerReachable ? "reachable" : "unreachable")\(stoppedAt.map { " (stopped at \($0))" } ?? ""), \
      the kernel: \(kernel)
      reproduce: save the tenancy below as lab.yaml, then
        zpr analyze --tenancy lab.yaml --from \(flow.source) --to \(flow.destination) \
      --protocol \(flow.transport.rawValue)\(port) --bidirectional
        sudo zpr lab up --no-agents lab.yaml
        sudo zpr lab probe --from \(flow.source) --to \(flow.destination) \
      --protocol \(flow.transport.rawValue)\(port)
        sudo zpr lab down
      --- lab.yaml ---
      \(TenancyFile.yaml(for: tenancy))--- end ---
      """
  }
}

/// The analyzer against the kernel over a set of flows.
public struct LabComparison: Sendable {
  /// Flows compared.
  public var compared = 0
  /// The flows that connected in the kernel.
  public var connected: [LabFlow] = []
  /// The flows on which the analyzer and the kernel disagree (each confirmed by a second,
  /// slower probe).
  public var disagreements: [LabDisagreement] = []
  /// Seconds spent probing (the first, fast pass).
  public var probeSeconds: Double = 0
  /// Seconds spent asking the analyzer.
  public var analyzeSeconds: Double = 0

  /// Flows probed per second.
  public var flowsPerSecond: Double { probeSeconds > 0 ? Double(compared) / probeSeconds : 0 }

  /// A comparison of nothing yet.
  public init() {}
}

/// The differential test of the lab: which flows to try in a tenancy, how to shape a random
/// tenancy so that both outcomes occur, and the comparison of the analyzer's verdict on each
/// flow with what the kernel does. Shared by the lab tests and `zpr lab fuzz`.
public enum LabDifferential {
  /// The protocols and ports tried between each pair of VNICs: TCP to port 9 (named by nobody)
  /// and to the edges of every port range that statements and security rules name (its first
  /// and last port, and the ports just outside), UDP likewise when something names UDP, and a
  /// ping. At most `ports` ports per protocol, spread over those named.
  public static func sample(_ tenancy: Tenancy, ports: Int = 24) -> [(FlowProtocol, Int?)] {
    var tcp: Set<Int> = [9]
    var udp: Set<Int> = []
    func edges(_ lower: Int, _ upper: Int) -> [Int] {
      [lower - 1, lower, upper, upper + 1].filter { (1...65535).contains($0) }
    }
    for statement in tenancy.policies.flatMap(\.statements) {
      guard let filter = statement.filters.transport else { continue }
      let named = filter.ports.flatMap { edges($0.lower, $0.upper) }
      switch filter.transport.rawValue {
      case "udp": udp.formUnion(named.isEmpty ? [53] : named)
      case "tcp": tcp.formUnion(named)
      default: break
      }
    }
    for vcn in tenancy.vcns {
      let rules =
        vcn.securityLists.flatMap { $0.ingress + $0.egress }
        + vcn.networkSecurityGroups.flatMap { $0.ingress + $0.egress }
      for rule in rules {
        guard let range = rule.destinationPorts else { continue }
        let named = edges(range.lowerBound, range.upperBound)
        if rule.transport == .udp {
          udp.formUnion(named)
        } else if rule.transport == .tcp {
          tcp.formUnion(named)
        }
      }
    }
    if !udp.isEmpty { udp.insert(9) }
    func spread(_ ports: Set<Int>, _ limit: Int) -> [Int] {
      let sorted = ports.sorted()
      guard sorted.count > limit, limit > 1 else { return Array(sorted.prefix(max(limit, 0))) }
      return (0..<limit).map { sorted[$0 * (sorted.count - 1) / (limit - 1)] }
    }
    return spread(tcp, ports).map { (.tcp, $0) } + spread(udp, ports).map { (.udp, $0) }
      + [(.icmp, nil)]
  }

  /// Every flow of the sample between every ordered pair of the lab's VNICs that share an
  /// address family.
  public static func flows(_ lab: Lab, sample: [(FlowProtocol, Int?)]) -> [LabFlow] {
    let names = lab.hosts.map { lab.topology.endpoints[$0].name }
    var families: [String: Set<IPAddress.Family>] = [:]
    for index in lab.hosts {
      families[lab.topology.endpoints[index].name] = Set(
        lab.topology.endpoints[index].ips.map(\.family))
    }
    var flows: [LabFlow] = []
    for source in names {
      for destination in names
      where source != destination
        && !(families[source] ?? []).isDisjoint(with: families[destination] ?? [])
      {
        for (transport, port) in sample {
          flows.append(LabFlow(from: source, to: destination, transport: transport, port: port))
        }
      }
    }
    return flows
  }

  /// Probes the flows in the lab and asks the analyzer about each (both ways: a connection
  /// needs its replies). A flow that connected where the analyzer says it cannot, or that was
  /// refused (nothing listened), is a disagreement at once: no second probe may hide traffic
  /// that got through. A flow the analyzer allows that got no answer in the fast pass is
  /// probed again, slowly (1 s), and counts only when it gets none again.
  public static func compare(
    _ lab: Lab, _ tenancy: Tenancy, flows: [LabFlow], prober: LabProber? = nil
  ) async throws(LabError) -> LabComparison {
    let prober = prober ?? LabProber(lab)
    var comparison = LabComparison()
    let clock = ContinuousClock()
    let probing = clock.now
    let results = try await prober.probe(flows)
    comparison.probeSeconds = Self.seconds(probing.duration(to: clock.now))
    let analyzing = clock.now
    let analyzer = PathAnalyzer(tenancy)
    let expected = try flows.map { flow throws(LabError) in try verdict(lab, analyzer, flow) }
    comparison.analyzeSeconds = Self.seconds(analyzing.duration(to: clock.now))
    comparison.compared = flows.count
    var suspects: [Int] = []
    for (index, result) in results.enumerated() {
      if result.connected { comparison.connected.append(flows[index]) }
      if result.connected && !expected[index].reachable || result.detail.hasPrefix("refused") {
        comparison.disagreements.append(
          LabDisagreement(
            flow: flows[index], analyzerReachable: expected[index].reachable,
            stoppedAt: expected[index].stoppedAt, kernel: result.detail))
      } else if !result.connected && expected[index].reachable {
        suspects.append(index)
      }
    }
    guard !suspects.isEmpty else { return comparison }
    var slow = prober
    slow.timeout = max(prober.timeout, 1)
    slow.batch = 16
    let again = try await slow.probe(suspects.map { flows[$0] })
    for (position, index) in suspects.enumerated() {
      let result = again[position]
      guard result.connected != expected[index].reachable || result.detail.hasPrefix("refused")
      else { continue }
      comparison.disagreements.append(
        LabDisagreement(
          flow: flows[index], analyzerReachable: expected[index].reachable,
          stoppedAt: expected[index].stoppedAt, kernel: result.detail))
    }
    return comparison
  }

  /// Whether the analyzer says a flow and its replies get through, and where it stops.
  static func verdict(_ lab: Lab, _ analyzer: PathAnalyzer, _ flow: LabFlow) throws(LabError)
    -> (
      reachable: Bool, stoppedAt: String?
    )
  {
    // The ping is ICMPv6's when the prober sends it over IPv6 (the destination's first address
    // of a family the source has).
    var icmpType: Int?
    if flow.transport == .icmp {
      icmpType = try LabProber(lab).plan(flow).v6 ? 128 : 8
    }
    let analysis: PathAnalysis
    do {
      analysis = try analyzer.analyze(
        PathQuery(
          from: flow.source, to: flow.destination, transport: flow.transport, port: flow.port,
          icmpType: icmpType, icmpCode: flow.transport == .icmp ? 0 : nil, bidirectional: true))
    } catch {
      throw LabError(
        .analyzer, "the analyzer cannot answer \(flow.label): \(error.message)", cause: error)
    }
    return (
      analysis.status == .reachable && (analysis.returnStatus ?? .reachable) == .reachable,
      analysis.stoppedAt?.rawValue
    )
  }

  private static func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }

  /// Adds, in each VCN, a security list that lets everything through, and makes it the only
  /// one of every subnet: what ZPR and the routes decide shows.
  public static func openSecurityLists(_ tenancy: inout Tenancy) {
    let all = ["0.0.0.0/0", "::/0"].compactMap { try? IPPrefix.parse($0).get() }
    for vcn in tenancy.vcns.indices {
      tenancy.vcns[vcn].securityLists.append(
        SecurityList(
          name: "lab-open", ingress: all.map { SecurityRule(transport: .all, peer: .cidr($0)) },
          egress: all.map { SecurityRule(transport: .all, peer: .cidr($0)) }))
      for index in tenancy.vcns[vcn].subnets.indices {
        tenancy.vcns[vcn].subnets[index].securityLists = ["lab-open"]
      }
    }
  }

  /// A policy that makes flows connect: anything may reach the attribute of a protected VNIC
  /// on tcp/9, and such VNICs may ping anything (ICMP and ICMPv6), in VCNs that carry
  /// `ns0.attr0:lab`. Names the first enforce-mode attribute of up to `limit` protected VNICs
  /// (a statement must name one on a side); nil when no VNIC is protected.
  public static func labPolicy(_ tenancy: Tenancy, limit: Int) -> Policy? {
    var terms: [String] = []
    for endpoint in Topology(tenancy).endpoints where endpoint.isProtected(in: .enforce) {
      guard let attribute = endpoint.attributes.first(where: { $0.mode == .enforce }) else {
        continue
      }
      let term = "'\(attribute.namespace).\(attribute.key):\(attribute.value)'"
      if !terms.contains(term) { terms.append(term) }
    }
    guard !terms.isEmpty else { return nil }
    return Policy(
      name: "lab", description: "lab",
      statements: terms.prefix(limit).flatMap { term in
        [
          "in ns0.attr0:lab VCN allow all-endpoints to connect to \(term) endpoints with protocol='tcp/9'",
          "in ns0.attr0:lab VCN allow \(term) endpoints to connect to all-endpoints with protocol='icmp'",
          "in ns0.attr0:lab VCN allow \(term) endpoints to connect to all-endpoints with protocol='icmp6'",
        ]
      }.compactMap { PolicyParser().parseStatement($0).statement })
  }

  /// Shapes a random single-VCN tenancy so that ZPR's decisions show and both outcomes occur:
  /// open security lists, two unprotected resources, the VCN carrying `ns0.attr0:lab`, and
  /// ``labPolicy(_:limit:)``.
  public static func exposeZPR(_ tenancy: inout Tenancy) {
    openSecurityLists(&tenancy)
    for index in 0..<min(2, tenancy.resources.count) {
      tenancy.resources[index].securityAttributes = []
      for vnic in tenancy.resources[index].vnics.indices {
        tenancy.resources[index].vnics[vnic].securityAttributes = []
      }
    }
    for vcn in tenancy.vcns.indices {
      tenancy.vcns[vcn].securityAttributes = [
        AppliedAttribute(namespace: "ns0", key: "attr0", value: "lab")
      ]
    }
    if let policy = labPolicy(tenancy, limit: 1) { tenancy.policies.append(policy) }
  }

  /// Joins every VCN of a tenancy to one DRG (`hub`), with routes to the blocks of the others
  /// that no peering covers, opens the security lists, and adds ``labPolicy(_:limit:)`` across
  /// VCNs that all carry `ns0.attr0:lab`.
  public static func joinVCNs(_ tenancy: inout Tenancy) {
    tenancy.drgs = [DynamicRoutingGateway(name: "hub", attachments: tenancy.vcns.map(\.name))]
    for a in tenancy.vcns.indices where !tenancy.vcns[a].routeTables.isEmpty {
      let covered = tenancy.vcns[a].routeTables[0].rules.map(\.destination)
      for b in tenancy.vcns.indices where b != a {
        for block in tenancy.vcns[b].cidrs where !covered.contains(block) {
          tenancy.vcns[a].routeTables[0].rules.append(
            RouteRule(destination: block, target: .drg("hub")))
        }
      }
    }
    openSecurityLists(&tenancy)
    for vcn in tenancy.vcns.indices {
      tenancy.vcns[vcn].securityAttributes = [
        AppliedAttribute(namespace: "ns0", key: "attr0", value: "lab")
      ]
    }
    if let policy = labPolicy(tenancy, limit: 3) { tenancy.policies.append(policy) }
  }
}
