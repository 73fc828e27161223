public import ZPRModel
public import ZPRPolicy

/// Small, realistic tenancies for tests: each is consistent as built.
public enum TenancyFixtures {
  /// A three-tier application in one VCN: web, app and db subnets, an instance in each (the
  /// database as a database resource), and a policy for web -> app -> db.
  public static func threeTier() -> Tenancy {
    var catalog = SecurityAttributeCatalog()
    try! catalog.enableZPR()
    try! catalog.createNamespace("app", description: "Application tiers")
    try! catalog.createAttribute(
      "tier", in: "app", description: "Tier", validator: .oneOf(["web", "app", "db"]))
    try! catalog.createNamespace("network", description: "Network scopes")
    try! catalog.createAttribute("vcn", in: "network", description: "The VCN a rule speaks about")

    let openList = SecurityList(
      name: "open", ingress: [SecurityRule(transport: .all, peer: .cidr(prefix("10.0.0.0/16")))],
      egress: [SecurityRule(transport: .all, peer: .cidr(prefix("0.0.0.0/0")))])
    let databaseGroup = NetworkSecurityGroup(
      name: "db",
      ingress: [
        SecurityRule(
          transport: .tcp, peer: .cidr(prefix("10.0.2.0/24")), destinationPorts: 5432...5432)
      ], egress: [SecurityRule(transport: .all, peer: .cidr(prefix("0.0.0.0/0")))])
    let vcn = VCN(
      name: "prod", cidrs: [prefix("10.0.0.0/16")],
      securityAttributes: [AppliedAttribute(namespace: "network", key: "vcn", value: "prod")],
      routeTables: [RouteTable(name: "main")], securityLists: [openList],
      networkSecurityGroups: [databaseGroup],
      subnets: ["web", "app", "db"].enumerated().map { index, name in
        Subnet(
          name: name, cidr: prefix("10.0.\(index + 1).0/24"), routeTable: "main",
          securityLists: ["open"])
      })
    func tier(_ value: String) -> [AppliedAttribute] {
      [AppliedAttribute(namespace: "app", key: "tier", value: value)]
    }
    let resources = [
      Resource(
        name: "web-1", securityAttributes: tier("web"),
        vnics: [VNIC(vcn: "prod", subnet: "web", ips: [address("10.0.1.10")])]),
      Resource(
        name: "app-1", securityAttributes: tier("app"),
        vnics: [VNIC(vcn: "prod", subnet: "app", ips: [address("10.0.2.10")])]),
      Resource(
        name: "db-1", kind: .database, securityAttributes: tier("db"),
        vnics: [
          VNIC(
            vcn: "prod", subnet: "db", ips: [address("10.0.3.10")], networkSecurityGroups: ["db"])
        ]),
    ]
    let policy = Policy(
      name: "three-tier", description: "Web to app to database",
      statements: [
        "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'",
        "in network.vcn:prod VCN allow app.tier:app endpoints to connect to app.tier:db endpoints with protocol='tcp/5432'",
      ].map(statement))
    return Tenancy(catalog: catalog, vcns: [vcn], resources: resources, policies: [policy])
  }

  /// Two VCNs joined by local peering gateways that name each other, with routes both ways.
  public static func twoVCNsPeered() -> Tenancy {
    var tenancy = threeTier()
    tenancy.vcns[0].localPeeringGateways = [
      LocalPeeringGateway(name: "to-shared", peer: ("shared", "to-prod"))
    ]
    tenancy.vcns[0].routeTables[0].rules = [
      RouteRule(destination: prefix("10.1.0.0/16"), target: .localPeeringGateway("to-shared"))
    ]
    tenancy.vcns.append(
      VCN(
        name: "shared", cidrs: [prefix("10.1.0.0/16")],
        securityAttributes: [AppliedAttribute(namespace: "network", key: "vcn", value: "shared")],
        routeTables: [
          RouteTable(
            name: "main",
            rules: [
              RouteRule(destination: prefix("10.0.0.0/16"), target: .localPeeringGateway("to-prod"))
            ])
        ],
        localPeeringGateways: [LocalPeeringGateway(name: "to-prod", peer: ("prod", "to-shared"))],
        subnets: [Subnet(name: "tools", cidr: prefix("10.1.1.0/24"), routeTable: "main")]))
    tenancy.resources.append(
      Resource(
        name: "tools-1",
        securityAttributes: [AppliedAttribute(namespace: "app", key: "tier", value: "app")],
        vnics: [VNIC(vcn: "shared", subnet: "tools", ips: [address("10.1.1.10")])]))
    return tenancy
  }

  /// A prefix from text that is known to be valid.
  public static func prefix(_ text: String) -> IPPrefix {
    try! IPPrefix.parse(text).get()
  }

  /// An address from text that is known to be valid.
  public static func address(_ text: String) -> IPAddress {
    IPAddress(text)!
  }

  /// A statement from text that is known to be valid.
  public static func statement(_ text: String) -> Statement {
    PolicyParser().parseStatement(text).statement!
  }
}
