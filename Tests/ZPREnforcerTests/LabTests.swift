import Foundation
import Testing
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// The analyzer against the kernel: a tenancy built as a lab of network namespaces (routers,
/// bridges, security lists and NSGs, zpr's rulesets), every ordered pair of VNICs tried for
/// real over a sample of protocols and ports, each result compared with `zpr analyze`'s.
@Suite(
  "The lab against the analyzer",
  .enabled(
    if: Namespaces.available,
    "needs root, nftables, iproute2, iputils-ping and python3 (CI has them): it builds labs"),
  .serialized)
struct LabTests {
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "examples/tenancies")

  /// The flows tried from each VNIC to each other: TCP to the ports statements and security
  /// rules name and to one nobody names, UDP likewise when something names UDP, and a ping.
  static func sample(_ tenancy: Tenancy) -> [(FlowProtocol, Int?)] {
    var tcp: Set<Int> = [9]
    var udp: Set<Int> = []
    for statement in tenancy.policies.flatMap(\.statements) {
      guard let filter = statement.filters.transport else { continue }
      let ports = filter.ports.map(\.lower).filter { (1...65535).contains($0) }
      switch filter.transport.rawValue {
      case "udp": udp.formUnion(ports.isEmpty ? [53] : ports)
      case "tcp": tcp.formUnion(ports)
      default: break
      }
    }
    for vcn in tenancy.vcns {
      for rule
        in (vcn.securityLists.flatMap { $0.ingress }
        + vcn.networkSecurityGroups.flatMap { $0.ingress })
      {
        if let ports = rule.destinationPorts, (1...65535).contains(ports.lowerBound) {
          if rule.transport == .udp {
            udp.insert(ports.lowerBound)
          } else {
            tcp.insert(ports.lowerBound)
          }
        }
      }
    }
    if !udp.isEmpty { udp.insert(9) }
    // At most four TCP and two UDP ports: every denied probe waits out its timeout.
    return tcp.sorted().prefix(4).map { (.tcp, $0) } + udp.sorted().prefix(2).map { (.udp, $0) }
      + [(.icmp, nil)]
  }

  /// Tries every ordered pair of the lab's VNICs over the sample; the disagreements.
  static func compare(_ lab: Lab, _ tenancy: Tenancy) throws -> (
    compared: Int, allowed: Int, disagreements: [String], connected: [(String, String)]
  ) {
    let analyzer = PathAnalyzer(tenancy)
    let names = lab.hosts.map { lab.topology.endpoints[$0].name }
    var compared = 0
    var allowed = 0
    var disagreements: [String] = []
    var connected: [(String, String)] = []
    func families(_ name: String) -> Set<IPAddress.Family> {
      Set(lab.topology.endpoints[lab.topology.endpoint(named: name)!].ips.map(\.family))
    }
    for source in names {
      // Only VNICs with an address family in common can reach each other.
      for destination in names
      where source != destination && !families(source).isDisjoint(with: families(destination)) {
        let ping = families(source).contains(.v4) && families(destination).contains(.v4) ? 8 : 128
        for (transport, port) in sample(tenancy) {
          // A connection needs its replies: the analyzer is asked both ways.
          let analysis = try analyzer.analyze(
            PathQuery(
              from: source, to: destination, transport: transport, port: port,
              icmpType: transport == .icmp ? ping : nil, icmpCode: transport == .icmp ? 0 : nil,
              bidirectional: true))
          let expected =
            analysis.status == .reachable && (analysis.returnStatus ?? .reachable) == .reachable
          let probe = try lab.probe(
            from: source, to: destination, transport: transport, port: port, timeout: 0.5)
          compared += 1
          if probe.connected {
            allowed += 1
            connected.append((source, destination))
          }
          if probe.connected != expected {
            disagreements.append(
              "\(source) -> \(destination) \(transport.rawValue)\(port.map { "/\($0)" } ?? ""): "
                + "the analyzer says \(expected ? "reachable" : "unreachable") "
                + "(\(analysis.stoppedAt?.rawValue ?? "-")), the kernel \(probe.detail)")
          }
        }
      }
    }
    return (compared, allowed, disagreements, connected)
  }

  /// A policy the lab tests add so that flows connect: anything may reach the attribute of a
  /// protected VNIC on tcp/9, and such VNICs may ping anything (ICMP and ICMPv6), in VCNs that
  /// carry `ns0.attr0:lab`. Names the first enforce-mode attribute of up to `limit` protected
  /// VNICs (a statement must name one on a side); nil when no VNIC is protected.
  static func labPolicy(_ tenancy: Tenancy, limit: Int) -> Policy? {
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
      }.map { PolicyParser().parseStatement($0).statement! })
  }

  /// Builds a lab of a tenancy, enforces it, compares every flow of the sample with the
  /// analyzer (expecting no disagreement), and takes the lab down.
  static func differential(_ tenancy: Tenancy, prefix: String) async throws -> (
    compared: Int, allowed: Int, disagreements: [String], connected: [(String, String)]
  ) {
    defer { _ = Lab.down(prefix: prefix) }
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    _ = try await lab.enforce(tenancy)
    let result = try Self.compare(lab, tenancy)
    #expect(result.disagreements == [], "\(result.disagreements.joined(separator: "\n"))")
    return result
  }

  /// Security lists that let everything through in each VCN, so that what ZPR and the routes
  /// decide shows.
  static func openSecurityLists(_ tenancy: inout Tenancy) {
    let all = ["0.0.0.0/0", "::/0"].map { TenancyFixtures.prefix($0) }
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

  static func load(_ name: String) throws -> Tenancy {
    let path = examples.appendingPathComponent(name).path
    let loaded = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8)))
    #expect(!loaded.hasErrors)
    return loaded.tenancy
  }

  @Test(arguments: ["three-tier.yaml", "iam.yaml", "two-vcns.yaml", "hub.yaml"])
  func theExamplesBehaveInTheKernelAsTheAnalyzerSays(name: String) async throws {
    let result = try await Self.differential(
      Self.load(name), prefix: "zlt\(getpid() % 10_000)")
    // Both outcomes occur, so the agreement means something.
    #expect(result.allowed >= 1, "only \(result.allowed) of \(result.compared) flows connected")
    #expect(result.allowed < result.compared)
    print(
      "lab \(name): \(result.compared) flows compared, \(result.allowed) connected, 0 disagreements"
    )
  }

  /// A policy change in a running lab: the flows it revokes stop, the ones it adds start, and
  /// the kernel still agrees with the analyzer about every flow.
  @Test func aPolicyChangeDuringTheTestKeepsTheKernelAndTheAnalyzerInStep() async throws {
    let prefix = "zlc\(getpid() % 10_000)"
    defer { _ = Lab.down(prefix: prefix) }
    let tenancy = try Self.load("three-tier.yaml")
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    let reconcilers = try await lab.enforce(tenancy)
    #expect(try lab.probe(from: "web-1", to: "app-1", transport: .tcp, port: 8080).connected)
    // Revoke web -> app, allow web -> db on 5432 (the NSG allows only the app subnet: still no).
    var changed = tenancy
    changed.policies[0].statements[0] = PolicyParser().parseStatement(
      "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8081'"
    ).statement!
    _ = try await lab.enforce(changed, reconcilers: reconcilers)
    #expect(!(try lab.probe(from: "web-1", to: "app-1", transport: .tcp, port: 8080).connected))
    #expect(try lab.probe(from: "web-1", to: "app-1", transport: .tcp, port: 8081).connected)
    let result = try Self.compare(lab, changed)
    #expect(result.disagreements == [], "\(result.disagreements.joined(separator: "\n"))")
  }

  /// Random single-VCN tenancies: generated attributes, statements, security lists and NSGs.
  @Test func randomTenanciesBehaveInTheKernelAsTheAnalyzerSays() async throws {
    var random = SplitMix64(seed: 2026)
    var compared = 0
    var connected = 0
    for round in 0..<2 {
      var generator = TenancyGenerator(seed: random.next())
      var tenancy = generator.tenancy(
        TenancyGenerator.Size(
          namespaces: 2, attributesPerNamespace: 2, vcns: 1, subnetsPerVCN: 2, resources: 4,
          policies: 3))
      if round == 0 {
        // Open security lists, so that what ZPR decides shows.
        Self.openSecurityLists(&tenancy)
        // Two unprotected resources, and statements that name a protected VNIC's attribute in
        // a VCN that carries the one they name.
        for index in 0..<min(2, tenancy.resources.count) {
          tenancy.resources[index].securityAttributes = []
          for vnic in tenancy.resources[index].vnics.indices {
            tenancy.resources[index].vnics[vnic].securityAttributes = []
          }
        }
        tenancy.vcns[0].securityAttributes = [
          AppliedAttribute(namespace: "ns0", key: "attr0", value: "lab")
        ]
        if let policy = Self.labPolicy(tenancy, limit: 1) { tenancy.policies.append(policy) }
      }
      let result = try await Self.differential(
        tenancy, prefix: "zlr\(getpid() % 10_000)\(round)")
      compared += result.compared
      connected += result.allowed
    }
    #expect(compared >= 40)
    #expect(connected >= 1, "no flow connected in \(compared)")
    print("lab, random tenancies: \(compared) flows compared, \(connected) connected")
  }

  /// A random tenancy of three VCNs with IPv6 subnets beside IPv4 ones, joined by local
  /// peering and by a DRG every VCN is attached to, with open security lists: flows within and
  /// across VCNs, over both address families. (One tenancy: every denied probe waits out its
  /// timeout.)
  @Test func aRandomTenancyAcrossVCNsAndAddressFamiliesBehavesAsTheAnalyzerSays() async throws {
    var generator = TenancyGenerator(seed: 2027)
    var size = TenancyGenerator.Size(
      namespaces: 2, attributesPerNamespace: 2, vcns: 3, subnetsPerVCN: 2, resources: 7,
      policies: 3)
    size.ipv6Share = 0.4
    var tenancy = generator.tenancy(size)
    // Every VCN on the DRG, with routes to the blocks of the others that no peering covers.
    tenancy.drgs = [DynamicRoutingGateway(name: "hub", attachments: tenancy.vcns.map(\.name))]
    for a in tenancy.vcns.indices {
      let covered = tenancy.vcns[a].routeTables[0].rules.map(\.destination)
      for b in tenancy.vcns.indices where b != a {
        for block in tenancy.vcns[b].cidrs where !covered.contains(block) {
          tenancy.vcns[a].routeTables[0].rules.append(
            RouteRule(destination: block, target: .drg("hub")))
        }
      }
    }
    // Open security lists and VCNs that carry one attribute, with statements across them.
    Self.openSecurityLists(&tenancy)
    for vcn in tenancy.vcns.indices {
      tenancy.vcns[vcn].securityAttributes = [
        AppliedAttribute(namespace: "ns0", key: "attr0", value: "lab")
      ]
    }
    if let policy = Self.labPolicy(tenancy, limit: 3) { tenancy.policies.append(policy) }
    let result = try await Self.differential(tenancy, prefix: "zlx\(getpid() % 10_000)")
    let topology = Topology(tenancy)
    func endpoint(_ name: String) -> ZPREngine.Endpoint {
      topology.endpoints[topology.endpoint(named: name)!]
    }
    let across = result.connected.filter { endpoint($0.0).vcn != endpoint($0.1).vcn }.count
    let ipv6 = result.connected.filter { endpoint($0.0).ips.first?.family == .v6 }.count
    let acrossV4 =
      result.connected.filter {
        endpoint($0.0).vcn != endpoint($0.1).vcn && endpoint($0.0).ips.first?.family == .v4
      }.count
    // Flows across VCNs and over IPv6 connected, so the agreement covers them.
    #expect(across >= 1, "no flow across VCNs connected")
    #expect(ipv6 >= 1, "no IPv6 flow connected")
    #expect(acrossV4 >= 1, "no IPv4 flow across VCNs connected")
    print(
      "lab, a random tenancy across VCNs and families: \(result.compared) flows compared, "
        + "\(result.allowed) connected (\(across) across VCNs, \(ipv6) over IPv6), 0 disagreements")
  }
}
