import Foundation
public import ZPREngine
public import ZPRModel
import ZPRPolicy

/// A flow on which the analyzer and the kernel disagree.
public struct LabDisagreement: Hashable, Sendable {
  public var flow: LabFlow
  /// Whether the analyzer says the flow (and its replies, unless it is one-way) gets through.
  public var analyzerReachable: Bool
  /// Where the analyzer says the flow stops (`zpr`, `security-list`), when it does.
  public var stoppedAt: String?
  /// What the kernel did (`connected`, `no answer within 0.25 s`).
  public var kernel: String
  /// The source port the kernel's flow had (the analyzer was asked with it), when it had one.
  public var sourcePort: Int?

  /// A disagreement about a flow: the analyzer's answer, where it stops, what the kernel did,
  /// and the source port the kernel's flow had.
  public init(
    flow: LabFlow, analyzerReachable: Bool, stoppedAt: String?, kernel: String,
    sourcePort: Int? = nil
  ) {
    self.flow = flow
    self.analyzerReachable = analyzerReachable
    self.stoppedAt = stoppedAt
    self.kernel = kernel
    self.sourcePort = sourcePort
  }

  /// The disagreement with all it takes to reproduce it: the seed, the flow, both answers,
  /// the commands, and the tenancy as a tenancy file.
  public func reproducer(seed: UInt64?, tenancy: Tenancy) -> String {
    var options = flow.port.map { " --port \($0)" } ?? ""
    if let sourcePort = sourcePort ?? flow.sourcePort { options += " --source-port \(sourcePort)" }
    if let type = flow.icmpType {
      options += " --icmp-type \(type) --icmp-code \(flow.icmpCode ?? 0)"
    }
    return """
      disagreement\(seed.map { " (seed \($0))" } ?? ""): \(flow.label): the analyzer says \
      \(analyzerReachable ? "reachable" : "unreachable")\(stoppedAt.map { " (stopped at \($0))" } ?? ""), \
      the kernel: \(kernel)
      reproduce: save the tenancy below as lab.yaml, then
        zpr analyze --tenancy lab.yaml --from \(flow.source) --to \(flow.destination) \
      --protocol \(flow.transport.rawValue)\(options)\(flow.isOneWay ? "" : " --bidirectional")
        sudo zpr lab up --no-agents lab.yaml
        sudo zpr lab probe --from \(flow.source) --to \(flow.destination) \
      --protocol \(flow.transport.rawValue)\(options)
        sudo zpr lab down
      --- lab.yaml ---
      \(TenancyFile.yaml(for: tenancy))--- end ---
      """
  }
}

/// How much of what the analyzer knows the compared flows exercised: each count is of flows
/// that got through in the kernel, as the analyzer said, unless it says otherwise.
public struct LabCoverage: Hashable, Sendable {
  /// A stateless security list or NSG rule let the flow through (its replies needed a rule of
  /// their own).
  public var statelessRules = 0
  /// A stateless ZPR statement allowed the flow (its replies needed a statement of their own).
  public var statelessStatements = 0
  /// One-way ICMP messages of a type other than echo that were tried.
  public var icmpTypesTried = 0
  /// One-way ICMP messages of a type other than echo that arrived.
  public var icmpTypes = 0
  /// One-way ICMP messages that conntrack does not track (errors without a related
  /// connection, types no connection starts with) that arrived: decided by the rules alone.
  public var untrackedICMP = 0
  /// Flows with an end in audit mode that the audit policy would deny (and that passed).
  public var auditDenied = 0
  /// Flows from a chosen source port that were tried.
  public var sourcePortsTried = 0
  /// Flows from a chosen source port.
  public var sourcePorts = 0
  /// Flows that a security rule naming source ports let through.
  public var sourcePortRules = 0
  /// Flows from an end ZPR does not protect to one it protects.
  public var unprotectedToProtected = 0
  /// Flows from an end ZPR protects to one it does not.
  public var protectedToUnprotected = 0
  /// Flows that a restrictive security list let through at one end (or one way) and an NSG
  /// at the other: both layers had a say.
  public var securityListAndNSG = 0
  /// Flows between VCNs (through a local peering or a DRG).
  public var acrossVCNs = 0
  /// Flows over IPv6.
  public var ipv6 = 0

  /// Nothing covered yet.
  public init() {}

  /// The counts of two comparisons together.
  public static func + (lhs: LabCoverage, rhs: LabCoverage) -> LabCoverage {
    var sum = lhs
    sum.statelessRules += rhs.statelessRules
    sum.statelessStatements += rhs.statelessStatements
    sum.icmpTypesTried += rhs.icmpTypesTried
    sum.icmpTypes += rhs.icmpTypes
    sum.untrackedICMP += rhs.untrackedICMP
    sum.auditDenied += rhs.auditDenied
    sum.sourcePortsTried += rhs.sourcePortsTried
    sum.sourcePorts += rhs.sourcePorts
    sum.sourcePortRules += rhs.sourcePortRules
    sum.unprotectedToProtected += rhs.unprotectedToProtected
    sum.protectedToUnprotected += rhs.protectedToUnprotected
    sum.securityListAndNSG += rhs.securityListAndNSG
    sum.acrossVCNs += rhs.acrossVCNs
    sum.ipv6 += rhs.ipv6
    return sum
  }

  /// Each count by name, in a fixed order.
  public var counts: [(name: String, count: Int)] {
    [
      ("stateless rules", statelessRules), ("stateless statements", statelessStatements),
      ("ICMP types tried", icmpTypesTried), ("ICMP types arrived", icmpTypes),
      ("untracked ICMP arrived", untrackedICMP),
      ("audit would deny", auditDenied), ("source ports tried", sourcePortsTried),
      ("source ports", sourcePorts), ("source-port rules", sourcePortRules),
      ("unprotected -> protected", unprotectedToProtected),
      ("protected -> unprotected", protectedToUnprotected),
      ("security list and NSG", securityListAndNSG), ("across VCNs", acrossVCNs),
      ("IPv6", ipv6),
    ]
  }

  /// `stateless rules 120, stateless statements 4, ...`.
  public var summary: String {
    counts.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
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
  /// What the compared flows exercised.
  public var coverage = LabCoverage()
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
  /// ICMP types the sample never sends one-way: echo requests and replies (pings try them, and
  /// a lone reply could pass as the answer to someone's ping) and IPv6 neighbour discovery
  /// (133 to 137), which both firewalls always let through and the analyzer does not model.
  public static let excludedICMPTypes: Set<Int> = [0, 8, 128, 129, 133, 134, 135, 136, 137]

  /// The traffic tried between each pair of VNICs: TCP to port 9 (named by nobody) and to the
  /// edges of every port range that statements and security rules name (its first and last
  /// port, and the ports just outside), UDP likewise when something names UDP; TCP and UDP from
  /// the edges of every source port range that security rules name (to the rule's first port,
  /// or 9), never from a port the sample also uses as a destination (a listener holds it, and
  /// a flow the other way would be taken for a reply); a ping; and one-way ICMP messages of
  /// every type (and code, and the code after it) that rules and statements name, besides
  /// destination unreachable (3/3) and time exceeded (11/0). At most `ports` destination
  /// ports per protocol, `sourcePorts` source ports and `icmpTypes` ICMP messages, spread over
  /// those named.
  public static func sample(
    _ tenancy: Tenancy, ports: Int = 24, sourcePorts: Int = 12, icmpTypes: Int = 8
  ) -> [LabTraffic] {
    var tcp: Set<Int> = [9]
    var udp: Set<Int> = []
    var fromPorts: Set<LabTraffic> = []
    var icmp: Set<[Int]> = [[3, 3], [11, 0]]
    func edges(_ lower: Int, _ upper: Int) -> [Int] {
      [lower - 1, lower, upper, upper + 1].filter { (1...65535).contains($0) }
    }
    func messages(_ type: Int, _ code: Int?) -> [[Int]] {
      guard (0...255).contains(type), !excludedICMPTypes.contains(type) else { return [] }
      guard let code else { return [[type, 0]] }
      return [[type, code], [type, code + 1]].filter { (0...255).contains($0[1]) }
    }
    for statement in tenancy.policies.flatMap(\.statements) {
      if let type = statement.filters.icmpType?.value {
        icmp.formUnion(messages(type, statement.filters.icmpCode?.value))
      }
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
        if rule.transport == .icmp, let type = rule.icmpType {
          icmp.formUnion(messages(type, rule.icmpCode))
        }
        guard rule.transport == .tcp || rule.transport == .udp else { continue }
        if let range = rule.destinationPorts {
          let named = edges(range.lowerBound, range.upperBound)
          if rule.transport == .udp { udp.formUnion(named) } else { tcp.formUnion(named) }
        }
        if let range = rule.sourcePorts {
          let transport: FlowProtocol = rule.transport == .udp ? .udp : .tcp
          let port = rule.destinationPorts?.lowerBound ?? 9
          for sourcePort in edges(range.lowerBound, range.upperBound) {
            fromPorts.insert(.connection(transport, port: port, sourcePort: sourcePort))
          }
        }
      }
    }
    if !udp.isEmpty { udp.insert(9) }
    func spread<T>(_ values: [T], _ limit: Int) -> [T] {
      guard values.count > limit, limit > 1 else { return Array(values.prefix(max(limit, 0))) }
      return (0..<limit).map { values[$0 * (values.count - 1) / (limit - 1)] }
    }
    let destinations = [
      (FlowProtocol.tcp, spread(tcp.sorted(), ports)), (.udp, spread(udp.sorted(), ports)),
    ]
    var traffic = destinations.flatMap { transport, ports in
      ports.map { LabTraffic.connection(transport, port: $0) }
    }
    // A source port must never be a destination port of the same protocol in the sample.
    let sorted = fromPorts.sorted {
      ($0.transport.rawValue, $0.sourcePort ?? 0, $0.port ?? 0)
        < ($1.transport.rawValue, $1.sourcePort ?? 0, $1.port ?? 0)
    }
    let chosen = spread(sorted, sourcePorts)
    var used: [FlowProtocol: Set<Int>] = [.tcp: Set(tcp), .udp: Set(udp)]
    for entry in chosen { used[entry.transport, default: []].insert(entry.port ?? 0) }
    traffic += chosen.filter { !used[$0.transport, default: []].contains($0.sourcePort ?? 0) }
    traffic.append(.ping)
    traffic += spread(icmp.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }, icmpTypes).map {
      .icmp(type: $0[0], code: $0[1])
    }
    return traffic
  }

  /// Every flow of the sample between every ordered pair of the lab's VNICs that share an
  /// address family.
  public static func flows(_ lab: Lab, sample: [LabTraffic]) -> [LabFlow] {
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
        for traffic in sample {
          flows.append(LabFlow(from: source, to: destination, traffic: traffic))
        }
      }
    }
    return flows
  }

  /// Probes the flows in the lab and asks the analyzer about each (both ways: a connection
  /// needs its replies; one way for a one-way ICMP message), with the source port the kernel's
  /// flow had. A flow that connected where the analyzer says it cannot, or that was refused
  /// (nothing listened), is a disagreement at once: no second probe may hide traffic that got
  /// through. A flow the analyzer allows that got no answer in the fast pass is probed again,
  /// slowly (1 s), and counts only when it gets none again.
  public static func compare(
    _ lab: Lab, _ tenancy: Tenancy, flows: [LabFlow], prober: LabProber? = nil
  ) async throws(LabError) -> LabComparison {
    let prober = prober ?? LabProber(lab)
    var comparison = LabComparison()
    let clock = ContinuousClock()
    let probing = clock.now
    var results = try await prober.probe(flows)
    comparison.probeSeconds = Self.seconds(probing.duration(to: clock.now))
    let analyzing = clock.now
    let analyzer = PathAnalyzer(tenancy)
    var analyses = try flows.indices.map { index throws(LabError) in
      try analyze(flows[index], in: lab, with: analyzer, sourcePort: results[index].sourcePort)
    }
    comparison.analyzeSeconds = Self.seconds(analyzing.duration(to: clock.now))
    comparison.compared = flows.count
    func disagreement(_ index: Int) -> LabDisagreement {
      LabDisagreement(
        flow: flows[index], analyzerReachable: reachable(analyses[index], flows[index]),
        stoppedAt: analyses[index].stoppedAt?.rawValue, kernel: results[index].detail,
        sourcePort: results[index].sourcePort)
    }
    var suspects: [Int] = []
    var disagreeing: Set<Int> = []
    for (index, result) in results.enumerated() {
      let expected = reachable(analyses[index], flows[index])
      if result.connected && !expected || result.detail.hasPrefix("refused") {
        disagreeing.insert(index)
      } else if !result.connected && expected {
        suspects.append(index)
      }
    }
    if !suspects.isEmpty {
      var slow = prober
      slow.timeout = max(prober.timeout, 1)
      slow.batch = 16
      let again = try await slow.probe(suspects.map { flows[$0] })
      for (position, index) in suspects.enumerated() {
        let result = again[position]
        if result.sourcePort != results[index].sourcePort {
          // The kernel chose another port this time: ask the analyzer about that one.
          analyses[index] = try analyze(
            flows[index], in: lab, with: analyzer, sourcePort: result.sourcePort)
        }
        results[index] = result
        if result.connected != reachable(analyses[index], flows[index])
          || result.detail.hasPrefix("refused")
        {
          disagreeing.insert(index)
        }
      }
    }
    let network = analyzer.network
    comparison.disagreements = disagreeing.sorted().map(disagreement)
    for index in flows.indices {
      comparison.coverage.tried(flows[index])
      guard results[index].connected else { continue }
      comparison.connected.append(flows[index])
      guard !disagreeing.contains(index) else { continue }
      comparison.coverage.count(analyses[index], flows[index], analyzer, network)
    }
    return comparison
  }

  /// The analyzer's answer about a flow of the lab (from the source port the kernel's flow
  /// had, when it had one): both ways, or one way for a one-way ICMP message. A ping is
  /// ICMPv6's (128) when the prober sends it over IPv6.
  public static func analyze(
    _ flow: LabFlow, in lab: Lab, with analyzer: PathAnalyzer, sourcePort: Int? = nil
  ) throws(LabError) -> PathAnalysis {
    var icmpType = flow.icmpType
    if flow.transport == .icmp, icmpType == nil {
      icmpType = try LabProber(lab).plan(flow).v6 ? 128 : 8
    }
    do {
      return try analyzer.analyze(
        PathQuery(
          from: flow.source, to: flow.destination, transport: flow.transport, port: flow.port,
          sourcePort: flow.transport == .icmp ? nil : sourcePort ?? flow.sourcePort,
          icmpType: icmpType, icmpCode: flow.transport == .icmp ? flow.icmpCode ?? 0 : nil,
          bidirectional: !flow.isOneWay))
    } catch {
      throw LabError(
        .analyzer, "the analyzer cannot answer \(flow.label): \(error.message)", cause: error)
    }
  }

  /// Whether conntrack tracks a one-way ICMP message of a type: the requests that open a
  /// connection (echo, timestamp, information and address mask requests; ICMPv6 echo and node
  /// information queries). Errors without a related connection, and every other type, are
  /// not tracked: the kernel decides each by the rules alone, as the analyzer does.
  public static func tracked(icmpType type: Int, v6: Bool) -> Bool {
    v6 ? [128, 139].contains(type) : [8, 13, 15, 17].contains(type)
  }

  /// Whether an analysis says the flow gets through: its replies too, unless it is one-way.
  public static func reachable(_ analysis: PathAnalysis, _ flow: LabFlow) -> Bool {
    analysis.status == .reachable
      && (flow.isOneWay || (analysis.returnStatus ?? .reachable) == .reachable)
  }

  private static func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }
}

extension LabCoverage {
  /// Counts what a flow tried, whatever came of it.
  mutating func tried(_ flow: LabFlow) {
    if flow.isOneWay { icmpTypesTried += 1 }
    if flow.sourcePort != nil { sourcePortsTried += 1 }
  }

  /// Counts what a flow that got through exercised, as the analyzer explains it.
  mutating func count(
    _ analysis: PathAnalysis, _ flow: LabFlow, _ analyzer: PathAnalyzer,
    _ network: NetworkSemantics
  ) {
    let topology = analyzer.topology
    let packet = analysis.flow
    if flow.isOneWay {
      icmpTypes += 1
      if !LabDifferential.tracked(
        icmpType: packet.icmpType, v6: packet.destination.family == .v6)
      {
        untrackedICMP += 1
      }
    }
    if flow.sourcePort != nil { sourcePorts += 1 }
    if packet.destination.family == .v6 { ipv6 += 1 }
    switch (analysis.source.protected, analysis.destination.protected) {
    case (false, true): unprotectedToProtected += 1
    case (true, false): protectedToUnprotected += 1
    default: break
    }
    if let audit = analysis.audit, audit.action != .zprAllowed { auditDenied += 1 }
    let decision = analyzer.compiled.decide(packet)
    if decision.applies, decision.statement != nil, !decision.stateful {
      statelessStatements += 1
    }
    guard let source = topology.endpoint(at: packet.source),
      let destination = topology.endpoint(at: packet.destination)
    else { return }
    if topology.endpoints[source].vcn != topology.endpoints[destination].vcn { acrossVCNs += 1 }
    // The rules that let the flow out of its source and into its destination, and, unless it
    // is one-way, those that let its replies back when the first were stateless.
    var matches: [(SecurityMatch, Int, PacketDirection)] = []
    let egress = network.securityMatch(packet, at: source, .egress)
    let ingress = network.securityMatch(packet, at: destination, .ingress)
    if let egress { matches.append((egress, source, .egress)) }
    if let ingress { matches.append((ingress, destination, .ingress)) }
    if !flow.isOneWay {
      if let ingress, !ingress.stateful,
        let back = network.securityMatch(packet.reply, at: destination, .egress)
      {
        matches.append((back, destination, .egress))
      }
      if let egress, !egress.stateful,
        let back = network.securityMatch(packet.reply, at: source, .ingress)
      {
        matches.append((back, source, .ingress))
      }
    }
    if matches.contains(where: { !$0.0.stateful }) { statelessRules += 1 }
    var restrictiveList = false
    var group = false
    var namesSourcePorts = false
    for (match, endpoint, direction) in matches {
      guard let vcn = topology.endpoints[endpoint].vcn else { continue }
      let rules: [SecurityRule]
      switch match.source {
      case .securityList(let name):
        restrictiveList = restrictiveList || name != Self.openList
        let list = topology.tenancy.vcns[vcn].securityLists.first { $0.name == name }
        rules = (direction == .egress ? list?.egress : list?.ingress) ?? []
      case .networkSecurityGroup(let name):
        group = true
        let nsg = topology.tenancy.vcns[vcn].networkSecurityGroups.first { $0.name == name }
        rules = (direction == .egress ? nsg?.egress : nsg?.ingress) ?? []
      }
      if match.rule < rules.count, rules[match.rule].sourcePorts != nil {
        namesSourcePorts = true
      }
    }
    if restrictiveList && group { securityListAndNSG += 1 }
    if namesSourcePorts { sourcePortRules += 1 }
  }

  /// The name of the security list that lets everything through (``LabDifferential/openSecurityLists(_:stateless:)``).
  static let openList = "lab-open"
}
