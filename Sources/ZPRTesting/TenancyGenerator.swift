public import ZPRModel
import ZPRPolicy

/// Generates random tenancies that the model accepts (no consistency issues), from a seed.
public struct TenancyGenerator: Sendable {
  /// How big a tenancy to make.
  public struct Size: Sendable {
    public var namespaces: Int
    public var attributesPerNamespace: Int
    public var vcns: Int
    public var subnetsPerVCN: Int
    public var resources: Int
    public var policies: Int
    /// The share of subnets that are IPv6 (`fd00:0:V:S::/64` in a VCN's `fd00:0:V::/48`); 0
    /// makes the same tenancies as before the option existed.
    public var ipv6Share: Double = 0

    /// A size; `vcns` is at most 256 and `subnetsPerVCN` at most 256 (10.V.S.0/24 blocks).
    public init(
      namespaces: Int, attributesPerNamespace: Int, vcns: Int, subnetsPerVCN: Int, resources: Int,
      policies: Int
    ) {
      precondition(vcns <= 256 && subnetsPerVCN <= 256, "blocks are 10.V.S.0/24")
      self.namespaces = namespaces
      self.attributesPerNamespace = attributesPerNamespace
      self.vcns = vcns
      self.subnetsPerVCN = subnetsPerVCN
      self.resources = resources
      self.policies = policies
    }
  }

  /// The random source.
  public var random: SplitMix64

  /// A generator for a seed.
  public init(seed: UInt64) {
    random = SplitMix64(seed: seed)
  }

  /// A random consistent tenancy of about the given size.
  public mutating func tenancy(_ size: Size) -> Tenancy {
    var tenancy = Tenancy()
    try! tenancy.catalog.enableZPR()
    let usable = catalog(&tenancy.catalog, size)
    tenancy.compartments = (0..<Int.random(in: 0...3, using: &random)).map {
      Compartment(name: "c\($0)", parent: $0 == 0 ? nil : "c\($0 - 1)")
    }
    tenancy.vcns = (0..<size.vcns).map {
      vcn($0, size: size, usable: usable, compartments: tenancy.compartments)
    }
    peerAndRoute(&tenancy)
    tenancy.resources = resources(
      size, vcns: tenancy.vcns, usable: usable, compartments: tenancy.compartments)
    var statements = StatementGenerator(seed: random.next())
    tenancy.policies = (0..<size.policies).map { index in
      Policy(
        name: "policy-\(index)", description: "Generated policy \(index)",
        statements: (0..<Int.random(in: 1...5, using: &random)).map { _ in
          statement(usable, filters: statements.filters())
        })
    }
    return tenancy
  }

  /// A statement naming attributes of the catalog (with values they accept, or none).
  private mutating func statement(
    _ usable: [(namespace: String, key: String, values: [String])], filters: Filters
  ) -> Statement {
    func reference() -> AttributeRef {
      let pick = usable.randomElement(using: &random)!
      return AttributeRef(
        namespace: pick.namespace, key: pick.key,
        value: random.chance(0.8) ? pick.values.randomElement(using: &random)! : nil,
        range: SourceRange(0, 0))
    }
    let zero = SourceRange(0, 0)
    if random.chance(0.2) {
      return Statement(
        scope: .crossVCN(source: reference(), destination: reference()),
        source: Endpoint(.attribute(reference()), range: zero),
        destination: Endpoint(.attribute(reference()), range: zero), filters: filters, range: zero)
    }
    let destination: Endpoint.Kind =
      random.chance(0.2) ? .address(TenancyFixtures.prefix("0.0.0.0/0")) : .attribute(reference())
    return Statement(
      scope: .vcn(reference()), source: Endpoint(.attribute(reference()), range: zero),
      destination: Endpoint(destination, range: zero), filters: filters, range: zero)
  }

  // MARK: Parts

  /// Creates namespaces and attributes (some retired); returns the active attributes with a
  /// value each accepts.
  private mutating func catalog(_ catalog: inout SecurityAttributeCatalog, _ size: Size) -> [(
    namespace: String, key: String, values: [String]
  )] {
    var usable: [(String, String, [String])] = [
      ("oracle-zpr", "sensitivity", ["high", "low", "null", "a: b"])
    ]
    for index in 0..<size.namespaces {
      let namespace = "ns\(index)" + (random.chance(0.3) ? "-X_\(index % 7)" : "")
      try! catalog.createNamespace(namespace, description: "Namespace \(index): #\(index) 'quoted'")
      for number in 0..<size.attributesPerNamespace {
        let key = "attr\(number)"
        let values = ["v\(number)", "yes", "10.0.0.\(number)", "#x", "- y"]
        let validator: AttributeValidator = random.chance(0.5) ? .oneOf(values) : .anyValue
        try! catalog.createAttribute(
          key, in: namespace, description: "Attribute \(number)", validator: validator)
        if random.chance(0.1) {
          try! catalog.retireAttribute(key, in: namespace)
        } else {
          usable.append((namespace, key, values))
        }
      }
      if size.namespaces > 1 && random.chance(0.05) {
        try! catalog.retireNamespace(namespace)
        usable.removeAll { $0.0 == namespace }
      }
    }
    return usable
  }

  /// Up to `limit` distinct attributes with accepted values, in random modes.
  private mutating func attributes(
    _ usable: [(namespace: String, key: String, values: [String])], limit: Int
  ) -> [AppliedAttribute] {
    guard !usable.isEmpty else { return [] }
    var chosen: [AppliedAttribute] = []
    for _ in 0..<Int.random(in: 0...limit, using: &random) {
      let pick = usable.randomElement(using: &random)!
      guard !chosen.contains(where: { $0.namespace == pick.namespace && $0.key == pick.key }) else {
        continue
      }
      chosen.append(
        AppliedAttribute(
          namespace: pick.namespace, key: pick.key,
          value: pick.values.randomElement(using: &random)!,
          mode: random.chance(0.2) ? .audit : .enforce))
    }
    return chosen
  }

  private mutating func vcn(
    _ index: Int, size: Size, usable: [(namespace: String, key: String, values: [String])],
    compartments: [Compartment]
  ) -> VCN {
    let name = "vcn-\(index)"
    let v6 = prefix("fd00:0:\(String(index, radix: 16))::/48")
    let groups = (0..<Int.random(in: 0...2, using: &random)).map {
      NetworkSecurityGroup(name: "nsg\($0)")
    }
    var vcn = VCN(
      name: name, compartment: compartments.randomElement(using: &random)?.name,
      cidrs: [prefix("10.\(index).0.0/16")] + (size.ipv6Share > 0 ? [v6] : []),
      securityAttributes: attributes(usable, limit: 1),
      routeTables: [RouteTable(name: "main")],
      securityLists: [
        SecurityList(
          name: "sl", ingress: rules(groups: [], ipv6: size.ipv6Share > 0),
          egress: rules(groups: [], ipv6: size.ipv6Share > 0))
      ],
      networkSecurityGroups: groups)
    for group in vcn.networkSecurityGroups.indices {
      vcn.networkSecurityGroups[group].ingress = rules(
        groups: groups.map(\.name), ipv6: size.ipv6Share > 0)
      vcn.networkSecurityGroups[group].egress = rules(
        groups: groups.map(\.name), ipv6: size.ipv6Share > 0)
    }
    vcn.subnets = (0..<size.subnetsPerVCN).map {
      let ipv6 = size.ipv6Share > 0 && random.chance(size.ipv6Share)
      return Subnet(
        name: "s\($0)",
        cidr: ipv6
          ? prefix("fd00:0:\(String(index, radix: 16)):\(String($0, radix: 16))::/64")
          : prefix("10.\(index).\($0).0/24"),
        routeTable: random.chance(0.8) ? "main" : nil,
        securityLists: random.chance(0.7) ? ["sl"] : [])
    }
    return vcn
  }

  private mutating func rules(groups: [String], ipv6: Bool) -> [SecurityRule] {
    (0..<Int.random(in: 0...3, using: &random)).map { _ in
      let transport = RuleProtocol.allCases.randomElement(using: &random)!
      let peer: RulePeer =
        !groups.isEmpty && random.chance(0.3)
        ? .networkSecurityGroup(groups.randomElement(using: &random)!)
        : .cidr(
          ipv6 && random.chance(0.4)
            ? prefix(random.chance(0.5) ? "::/0" : "fd00::/16")
            : prefix(
              random.chance(0.5)
                ? "0.0.0.0/0" : "10.\(Int.random(in: 0...255, using: &random)).0.0/16"))
      var rule = SecurityRule(stateless: random.chance(0.2), transport: transport, peer: peer)
      if transport == .tcp || transport == .udp {
        if random.chance(0.6) {
          let low = Int.random(in: 1...65000, using: &random)
          rule.destinationPorts = low...(low + Int.random(in: 0...500, using: &random))
        }
        if random.chance(0.2) { rule.sourcePorts = 1024...65535 }
      } else if transport == .icmp && random.chance(0.5) {
        rule.icmpType = Int.random(in: 0...255, using: &random)
        if random.chance(0.5) { rule.icmpCode = Int.random(in: 0...15, using: &random) }
      }
      return rule
    }
  }

  /// Peers VCNs two by two (both ways, with routes), and attaches some to a DRG.
  private mutating func peerAndRoute(_ tenancy: inout Tenancy) {
    var index = 0
    while index + 1 < tenancy.vcns.count {
      if random.chance(0.5) {
        let (left, right) = (tenancy.vcns[index].name, tenancy.vcns[index + 1].name)
        tenancy.vcns[index].localPeeringGateways.append(
          LocalPeeringGateway(name: "to-\(right)", peer: (right, "to-\(left)")))
        tenancy.vcns[index + 1].localPeeringGateways.append(
          LocalPeeringGateway(name: "to-\(left)", peer: (left, "to-\(right)")))
        // Each block of the other (IPv4, and IPv6 when there is one) through the gateway.
        for block in tenancy.vcns[index].cidrs.indices {
          tenancy.vcns[index].routeTables[0].rules.append(
            RouteRule(
              destination: tenancy.vcns[index + 1].cidrs[block],
              target: .localPeeringGateway("to-\(right)")))
          tenancy.vcns[index + 1].routeTables[0].rules.append(
            RouteRule(
              destination: tenancy.vcns[index].cidrs[block],
              target: .localPeeringGateway("to-\(left)")))
        }
      }
      index += 2
    }
    let attached = tenancy.vcns.indices.filter { _ in random.chance(0.3) }
    guard !attached.isEmpty else { return }
    tenancy.drgs = [
      DynamicRoutingGateway(name: "hub", attachments: attached.map { tenancy.vcns[$0].name })
    ]
    for vcn in attached {
      tenancy.vcns[vcn].routeTables[0].rules.append(
        RouteRule(destination: prefix("192.168.0.0/16"), target: .drg("hub")))
    }
  }

  private mutating func resources(
    _ size: Size, vcns: [VCN], usable: [(namespace: String, key: String, values: [String])],
    compartments: [Compartment]
  ) -> [Resource] {
    guard !vcns.isEmpty, size.subnetsPerVCN > 0 else { return [] }
    var nextHost: [String: Int] = [:]
    var resources: [Resource] = []
    for index in 0..<size.resources {
      // A VNIC adds attributes to its resource's; it never gives one of them another value.
      let inherited = attributes(usable, limit: 3)
      let rest = usable.filter { pick in
        !inherited.contains { $0.namespace == pick.namespace && $0.key == pick.key }
      }
      var vnics: [VNIC] = []
      for _ in 0..<(random.chance(0.1) ? 2 : 1) {
        let vcn = vcns.randomElement(using: &random)!
        let subnet = vcn.subnets.randomElement(using: &random)!
        let key = "\(vcn.name)/\(subnet.name)"
        let host = nextHost[key, default: 4]
        guard host < 255 else { continue }
        nextHost[key] = host + 1
        let network = subnet.cidr.network
        let ip =
          network.family == .v4
          ? IPAddress(v4: network.v4Value! + UInt32(host))
          : IPAddress(v6High: network.high, low: network.low + UInt64(host))
        vnics.append(
          VNIC(
            vcn: vcn.name, subnet: subnet.name, ips: [ip],
            networkSecurityGroups: vcn.networkSecurityGroups.isEmpty || random.chance(0.5)
              ? [] : [vcn.networkSecurityGroups[0].name],
            securityAttributes: attributes(rest, limit: 2)))
      }
      guard !vnics.isEmpty else { continue }
      resources.append(
        Resource(
          name: "r\(index)",
          kind: [.instance, .instance, .database, .loadBalancer, .privateEndpoint].randomElement(
            using: &random)!,
          compartment: compartments.randomElement(using: &random)?.name,
          securityAttributes: inherited, vnics: vnics))
    }
    return resources
  }

  private func prefix(_ text: String) -> IPPrefix { TenancyFixtures.prefix(text) }
}
