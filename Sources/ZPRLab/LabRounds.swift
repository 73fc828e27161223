import ZPREngine
public import ZPRModel
import ZPRPolicy
import ZPRTesting

/// The kinds of random tenancy the differential test goes through, one kind per round in
/// turn, so that every feature the analyzer knows is tried against the kernel: what ZPR
/// decides (open security lists), security lists and NSGs that both restrict, tenancies as
/// generated, and VCNs joined by peering and a DRG over IPv4 and IPv6.
public enum LabRound: String, CaseIterable, Hashable, Sendable {
  /// One VCN with open security lists (stateless ones half the time), so that ZPR decides:
  /// the lab's statements (ports, ICMP types and codes, stateless statements with and without
  /// a statement for their replies, addresses), ends ZPR does not protect beside ones it does,
  /// and attributes in audit mode.
  case zpr
  /// One VCN (some IPv6 subnets) whose security lists and NSGs both restrict: stateful and
  /// stateless rules (some with rules for their replies, some without), rules on source ports,
  /// ICMP types and codes, NSGs naming each other; half the ends unprotected, the lab's
  /// statements for the rest.
  case layered
  /// One VCN as the generator makes it: random security lists, NSGs and statements.
  case generated
  /// Three VCNs with IPv6 subnets beside IPv4 ones, joined by local peering and a DRG every
  /// VCN is attached to, with open security lists (stateless ones half the time) and the
  /// lab's statements.
  case acrossVCNs

  /// The kind of a round (they take turns).
  public init(round: Int) {
    self = Self.allCases[round % Self.allCases.count]
  }

  /// How many VCNs the generated tenancy should have.
  public var vcns: Int { self == .acrossVCNs ? 3 : 1 }

  /// The share of IPv6 subnets the generated tenancy should have.
  public var ipv6Share: Double {
    switch self {
    case .acrossVCNs: 0.4
    case .layered: 0.3
    case .zpr, .generated: 0
    }
  }

  /// The random tenancy of this kind of round: generated from the seed in the size it asks
  /// for, then shaped (``shape(_:using:)``).
  public func tenancy(seed: UInt64, resources: Int = 20) -> Tenancy {
    var generator = TenancyGenerator(seed: seed)
    var size = TenancyGenerator.Size(
      namespaces: 2, attributesPerNamespace: 2, vcns: vcns, subnetsPerVCN: 2,
      resources: resources, policies: 3)
    size.ipv6Share = ipv6Share
    var tenancy = generator.tenancy(size)
    shape(&tenancy, using: &generator.random)
    return tenancy
  }

  /// Shapes a generated tenancy of this kind of round (of ``vcns`` VCNs and ``ipv6Share``).
  public func shape(_ tenancy: inout Tenancy, using random: inout some RandomNumberGenerator) {
    switch self {
    case .zpr:
      LabDifferential.exposeZPR(&tenancy, stateless: Bool.random(using: &random))
      LabDifferential.addAuditAttributes(&tenancy)
    case .layered:
      let ports = LabDifferential.layerSecurity(&tenancy, using: &random)
      LabDifferential.unprotect(&tenancy, share: 0.5)
      LabDifferential.labelVCNs(&tenancy)
      tenancy.policies += LabDifferential.labPolicies(tenancy, limit: 2, ports: ports)
      LabDifferential.addAuditAttributes(&tenancy)
    case .generated:
      break
    case .acrossVCNs:
      LabDifferential.joinVCNs(&tenancy, stateless: Bool.random(using: &random))
      LabDifferential.addAuditAttributes(&tenancy)
    }
  }
}

/// The ports the layered security rules name, for the statements that let them through ZPR.
public struct LabPorts: Hashable, Sendable {
  public var tcp: ClosedRange<Int>
  public var udp: ClosedRange<Int>
}

extension LabDifferential {
  /// Adds, in each VCN, a security list that lets everything through, and makes it the only
  /// one of every subnet: what ZPR and the routes decide shows. Its rules are stateless when
  /// asked (a rule each way lets every reply through too).
  public static func openSecurityLists(_ tenancy: inout Tenancy, stateless: Bool = false) {
    let all = ["0.0.0.0/0", "::/0"].compactMap { try? IPPrefix.parse($0).get() }
    for vcn in tenancy.vcns.indices {
      let rules = all.map {
        SecurityRule(stateless: stateless, transport: .all, peer: .cidr($0))
      }
      tenancy.vcns[vcn].securityLists.append(
        SecurityList(name: LabCoverage.openList, ingress: rules, egress: rules))
      for index in tenancy.vcns[vcn].subnets.indices {
        tenancy.vcns[vcn].subnets[index].securityLists = [LabCoverage.openList]
      }
    }
  }

  /// The attribute every VCN carries in the lab's statements (`in lab.vcn:lab VCN`).
  static let vcnAttribute = AppliedAttribute(namespace: "lab", key: "vcn", value: "lab")

  /// Adds the lab's namespace to the catalog, `lab`, with its attributes `vcn` (the scope of
  /// the lab's statements) and `audit` (applied in audit mode), so that a shaped tenancy is
  /// still one the model accepts (its reproducer loads).
  public static func addLabNamespace(_ tenancy: inout Tenancy) {
    guard tenancy.catalog.namespace(named: "lab") == nil else { return }
    try? tenancy.catalog.createNamespace("lab", description: "The lab's attributes")
    for key in ["vcn", "audit"] {
      try? tenancy.catalog.createAttribute(
        key, in: "lab", description: "The lab's \(key) attribute", validator: .anyValue)
    }
  }

  /// Makes every VCN carry `lab.vcn:lab`, the scope of the lab's statements.
  public static func labelVCNs(_ tenancy: inout Tenancy) {
    addLabNamespace(&tenancy)
    for vcn in tenancy.vcns.indices {
      tenancy.vcns[vcn].securityAttributes = [vcnAttribute]
    }
  }

  /// Takes every attribute off the first resources (the given share of them, at least two):
  /// ZPR does not protect their VNICs.
  public static func unprotect(_ tenancy: inout Tenancy, share: Double) {
    let count = max(2, Int(Double(tenancy.resources.count) * share))
    for index in 0..<min(count, tenancy.resources.count) {
      tenancy.resources[index].securityAttributes = []
      for vnic in tenancy.resources[index].vnics.indices {
        tenancy.resources[index].vnics[vnic].securityAttributes = []
      }
    }
  }

  /// An attribute in audit mode that no statement names, on the first resource (which
  /// ``unprotect(_:share:)`` left unprotected: audit mode would protect it, and deny what no
  /// statement allows it) and on the third (protected, most likely).
  public static func addAuditAttributes(_ tenancy: inout Tenancy) {
    addLabNamespace(&tenancy)
    for index in [0, 2] where index < tenancy.resources.count {
      tenancy.resources[index].securityAttributes.append(
        AppliedAttribute(namespace: "lab", key: "audit", value: "on", mode: .audit))
    }
  }

  /// The lab's statements, a policy per protected VNIC's first enforce-mode attribute (of up to
  /// `limit` of them), in VCNs that carry `lab.vcn:lab`: anything may reach it on tcp/9 and
  /// send it destination unreachable (ICMP type 3, any code; ICMPv6 type 1 code 3 only); it may
  /// ping anything (ICMP and ICMPv6); it may reach unprotected ends (`10.0.0.0/8`,
  /// `fd00::/16`) on udp/53 statelessly, and they may answer on any UDP port; anything may
  /// reach it on udp/5353 statelessly, with no statement for the replies. With `ports`, anything
  /// may reach it on those TCP and UDP ports too. Empty when no VNIC is protected.
  public static func labPolicies(_ tenancy: Tenancy, limit: Int, ports: LabPorts? = nil)
    -> [Policy]
  {
    var terms: [String] = []
    for endpoint in Topology(tenancy).endpoints where endpoint.isProtected(in: .enforce) {
      guard let attribute = endpoint.attributes.first(where: { $0.mode == .enforce }) else {
        continue
      }
      let term = "'\(attribute.namespace).\(attribute.key):\(attribute.value)'"
      if !terms.contains(term) { terms.append(term) }
    }
    let scope = "in lab.vcn:lab VCN allow"
    return terms.prefix(limit).enumerated().map { index, term in
      var texts = [
        "\(scope) all-endpoints to connect to \(term) endpoints with protocol='tcp/9'",
        "\(scope) \(term) endpoints to connect to all-endpoints with protocol='icmp'",
        "\(scope) \(term) endpoints to connect to all-endpoints with protocol='icmp6'",
        "\(scope) all-endpoints to connect to \(term) endpoints with protocol='icmp', "
          + "protocol.icmp.type='3'",
        "\(scope) all-endpoints to connect to \(term) endpoints with protocol='icmp6', "
          + "protocol.icmp.type='1', protocol.icmp.code='3'",
        "\(scope) all-endpoints to connect to \(term) endpoints with protocol='udp/5353', "
          + "connection-state='stateless'",
      ]
      for block in ["10.0.0.0/8", "fd00::/16"] {
        texts += [
          "\(scope) \(term) endpoints to connect to '\(block)' with protocol='udp/53', "
            + "connection-state='stateless'",
          "\(scope) '\(block)' to connect to \(term) endpoints with protocol='udp', "
            + "connection-state='stateless'",
        ]
      }
      if let ports {
        for (name, range) in [("tcp", ports.tcp), ("udp", ports.udp)] {
          texts.append(
            "\(scope) all-endpoints to connect to \(term) endpoints with "
              + "protocol='\(name)/\(range.lowerBound)-\(range.upperBound)'")
        }
      }
      return Policy(
        name: "lab-\(index)", description: "the lab's statements",
        statements: texts.map { text in
          guard let statement = PolicyParser().parseStatement(text).statement else {
            preconditionFailure("the lab's statement does not parse: \(text)")
          }
          return statement
        })
    }
  }

  /// Shapes a random single-VCN tenancy so that ZPR's decisions show and both outcomes occur:
  /// open security lists (stateless ones when asked), two unprotected resources, the VCN
  /// carrying `lab.vcn:lab`, and ``labPolicies(_:limit:ports:)`` for one attribute.
  public static func exposeZPR(_ tenancy: inout Tenancy, stateless: Bool = false) {
    openSecurityLists(&tenancy, stateless: stateless)
    unprotect(&tenancy, share: 0)
    labelVCNs(&tenancy)
    tenancy.policies += labPolicies(tenancy, limit: 1)
  }

  /// Joins every VCN of a tenancy to one DRG (`hub`), with routes to the blocks of the others
  /// that no peering covers, opens the security lists, and adds ``labPolicies(_:limit:ports:)``
  /// for three attributes across VCNs that all carry `lab.vcn:lab`.
  public static func joinVCNs(_ tenancy: inout Tenancy, stateless: Bool = false) {
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
    openSecurityLists(&tenancy, stateless: stateless)
    labelVCNs(&tenancy)
    tenancy.policies += labPolicies(tenancy, limit: 3)
  }

  /// Replaces the security lists and NSGs of every VCN with ones that both restrict, around
  /// random ports P (TCP), Q (UDP) and S (source ports): a security list `lab-layer` (on most
  /// subnets) that lets in TCP to P...P+20 (stateful) and P+30...P+50 (stateless, its replies
  /// out only from P+30...P+45), lets out TCP to P+10...P+40 statelessly (its replies in from
  /// those ports), TCP from S...S+100 both ways, UDP to Q+5...Q+15 statelessly with its
  /// replies, every ICMP message out, and in destination unreachable (3) and echo requests;
  /// NSGs `lab-a` and `lab-b` (each VNIC joins none, one or both) with TCP to P+15...P+35 and
  /// time exceeded (11/0) among `lab-a`'s members, TCP from `lab-b` on S+50...S+200, stateless
  /// UDP to Q...Q+10 among `lab-a` with its replies, UDP to Q...Q+20 into `lab-b` (stateful),
  /// a stateless ping into `lab-b` over IPv4 with its replies, TCP out of `lab-b` to
  /// P...P+60. Returns the ports the lab's statements should let through ZPR.
  public static func layerSecurity(
    _ tenancy: inout Tenancy, using random: inout some RandomNumberGenerator
  ) -> LabPorts {
    let p = Int.random(in: 1024...60000, using: &random)
    let q = Int.random(in: 1024...60000, using: &random)
    let s = Int.random(in: 1024...60000, using: &random)
    for index in tenancy.vcns.indices {
      let blocks = tenancy.vcns[index].cidrs.map { RulePeer.cidr($0) }
      let v4 = tenancy.vcns[index].cidrs.filter { $0.address.family == .v4 }.map {
        RulePeer.cidr($0)
      }
      let v6 = tenancy.vcns[index].cidrs.filter { $0.address.family == .v6 }.map {
        RulePeer.cidr($0)
      }
      func each(_ peers: [RulePeer], _ make: (RulePeer) -> SecurityRule) -> [SecurityRule] {
        peers.map(make)
      }
      let list = SecurityList(
        name: "lab-layer",
        ingress: each(blocks) { .init(transport: .tcp, peer: $0, destinationPorts: p...p + 20) }
          + each(blocks) {
            .init(stateless: true, transport: .tcp, peer: $0, destinationPorts: p + 30...p + 50)
          }
          + each(blocks) {
            .init(stateless: true, transport: .tcp, peer: $0, sourcePorts: p + 10...p + 40)
          }
          + each(blocks) { .init(transport: .tcp, peer: $0, sourcePorts: s...s + 100) }
          + each(blocks) {
            .init(stateless: true, transport: .udp, peer: $0, destinationPorts: q + 5...q + 15)
          }
          + each(blocks) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 3) }
          + each(v4) { .init(transport: .icmp, peer: $0, icmpType: 8) }
          + each(v6) { .init(transport: .icmp, peer: $0, icmpType: 128) },
        egress: each(blocks) {
          .init(stateless: true, transport: .tcp, peer: $0, destinationPorts: p + 10...p + 40)
        }
          + each(blocks) {
            .init(stateless: true, transport: .tcp, peer: $0, sourcePorts: p + 30...p + 45)
          }
          + each(blocks) { .init(transport: .tcp, peer: $0, sourcePorts: s...s + 100) }
          + each(blocks) {
            .init(stateless: true, transport: .udp, peer: $0, sourcePorts: q + 5...q + 15)
          }
          + each(blocks) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 3) }
          + each(blocks) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 11) }
          + each(blocks) { .init(transport: .icmp, peer: $0) })
      let a = RulePeer.networkSecurityGroup("lab-a")
      let b = RulePeer.networkSecurityGroup("lab-b")
      let groupA = NetworkSecurityGroup(
        name: "lab-a",
        ingress: [
          .init(transport: .tcp, peer: a, destinationPorts: p + 15...p + 35),
          .init(transport: .tcp, peer: b, sourcePorts: s + 50...s + 200),
          .init(stateless: true, transport: .udp, peer: a, destinationPorts: q...q + 10),
          .init(stateless: true, transport: .udp, peer: a, sourcePorts: q...q + 10),
          .init(stateless: true, transport: .icmp, peer: a, icmpType: 11, icmpCode: 0),
        ],
        egress: [
          .init(transport: .tcp, peer: a),
          .init(stateless: true, transport: .udp, peer: a, destinationPorts: q...q + 10),
          .init(stateless: true, transport: .udp, peer: a, sourcePorts: q...q + 10),
          .init(stateless: true, transport: .icmp, peer: a, icmpType: 11, icmpCode: 0),
        ])
      // A stateless ping: the request in, its reply out (ICMPv6's are 128 and 129).
      let groupB = NetworkSecurityGroup(
        name: "lab-b",
        ingress: each(blocks) { .init(transport: .udp, peer: $0, destinationPorts: q...q + 20) }
          + each(v4) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 8) }
          + each(v6) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 128) },
        egress: each(blocks) { .init(transport: .tcp, peer: $0, destinationPorts: p...p + 60) }
          + each(blocks) { .init(transport: .udp, peer: $0) }
          + each(v4) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 0) }
          + each(v6) { .init(stateless: true, transport: .icmp, peer: $0, icmpType: 129) })
      tenancy.vcns[index].securityLists = [list]
      tenancy.vcns[index].networkSecurityGroups = [groupA, groupB]
      for subnet in tenancy.vcns[index].subnets.indices {
        // The first subnet always has the list, the others mostly: NSGs alone decide there.
        let listed = subnet == 0 || Double.random(in: 0..<1, using: &random) < 0.6
        tenancy.vcns[index].subnets[subnet].securityLists = listed ? ["lab-layer"] : []
      }
    }
    let names = tenancy.vcns.map(\.name)
    for resource in tenancy.resources.indices {
      for vnic in tenancy.resources[resource].vnics.indices
      where names.contains(tenancy.resources[resource].vnics[vnic].vcn) {
        tenancy.resources[resource].vnics[vnic].networkSecurityGroups =
          [[], ["lab-a"], ["lab-b"], ["lab-a", "lab-b"]].randomElement(using: &random)!
      }
    }
    return LabPorts(tcp: p...p + 50, udp: q...q + 20)
  }
}
