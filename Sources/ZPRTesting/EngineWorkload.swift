public import ZPRModel
import ZPRPolicy

/// A large tenancy shaped like a real one, for measuring the decision engine: endpoints play
/// roles (`app.role:rN`) in environments (`app.env`), VCNs are zoned (`network.zone`), and
/// statements join roles on a few ports, with some address and cross-VCN statements.
public struct EngineWorkload: Sendable {
  /// The generated tenancy.
  public let tenancy: Tenancy
  /// The ports statements name, for aiming flows at them.
  public let ports: [Int]

  /// A workload of about `endpoints` VNICs and `statements` statements.
  public init(endpoints: Int, statements: Int, seed: UInt64 = 42) {
    var random = SplitMix64(seed: seed)
    let roles = max(4, statements / 8)
    let zones = ["prod", "stage", "dev", "shared"]
    var tenancy = Tenancy()
    try! tenancy.catalog.enableZPR()
    try! tenancy.catalog.createNamespace("app", description: "Applications")
    try! tenancy.catalog.createAttribute("role", in: "app", description: "Role")
    try! tenancy.catalog.createAttribute(
      "env", in: "app", description: "Environment", validator: .oneOf(["a", "b", "c"]))
    try! tenancy.catalog.createNamespace("network", description: "Networks")
    try! tenancy.catalog.createAttribute(
      "zone", in: "network", description: "Zone", validator: .oneOf(zones))
    let vcnCount = max(1, min(200, (endpoints + 4_999) / 5_000))
    let subnetsPerVCN = 20
    for index in 0..<vcnCount {
      // Each VCN gets its own /16: 10.index.0.0/16.
      let block = UInt32(10 << 24) | UInt32(index) << 16
      var vcn = VCN(
        name: "vcn-\(index)", cidrs: [IPPrefix(address: IPAddress(v4: block), length: 16)],
        securityAttributes: [
          AppliedAttribute(namespace: "network", key: "zone", value: zones[index % zones.count])
        ],
        routeTables: [RouteTable(name: "main")],
        securityLists: [
          SecurityList(
            name: "open",
            ingress: [
              SecurityRule(transport: .all, peer: .cidr(TenancyFixtures.prefix("0.0.0.0/0")))
            ],
            egress: [
              SecurityRule(transport: .all, peer: .cidr(TenancyFixtures.prefix("0.0.0.0/0")))
            ])
        ])
      vcn.subnets = (0..<subnetsPerVCN).map {
        Subnet(
          name: "s\($0)",
          cidr: IPPrefix(address: IPAddress(v4: block | UInt32($0) << 8), length: 24),
          routeTable: "main", securityLists: ["open"])
      }
      tenancy.vcns.append(vcn)
    }
    var ports = [22, 443, 5432, 8080, 53]
    for _ in 0..<20 { ports.append(Int.random(in: 1024...60000, using: &random)) }
    var resources: [Resource] = []
    for index in 0..<endpoints {
      let vcn = index % vcnCount
      let slot = index / vcnCount
      let subnet = slot % subnetsPerVCN
      let host = 4 + slot / subnetsPerVCN
      guard host < 255 else { break }
      let address = IPAddress(
        v4: UInt32(10 << 24) | UInt32(vcn) << 16 | UInt32(subnet) << 8 | UInt32(host))
      let role = Int.random(in: 0..<roles, using: &random)
      resources.append(
        Resource(
          name: "e\(index)",
          securityAttributes: [
            AppliedAttribute(namespace: "app", key: "role", value: "r\(role)"),
            AppliedAttribute(
              namespace: "app", key: "env", value: ["a", "b", "c"].randomElement(using: &random)!),
          ],
          vnics: [VNIC(vcn: "vcn-\(vcn)", subnet: "s\(subnet)", ips: [address])]))
    }
    tenancy.resources = resources
    let zero = SourceRange(0, 0)
    func role() -> AttributeRef {
      AttributeRef(
        namespace: "app", key: "role", value: "r\(Int.random(in: 0..<roles, using: &random))",
        range: zero)
    }
    func zone() -> AttributeRef {
      AttributeRef(
        namespace: "network", key: "zone", value: zones.randomElement(using: &random)!, range: zero)
    }
    var all: [Statement] = []
    for _ in 0..<statements {
      let port = ports.randomElement(using: &random)!
      let transport: ProtocolFilter
      switch Int.random(in: 0..<10, using: &random) {
      case 0:
        transport = ProtocolFilter(
          transport: .udp, ports: [PortRange(53, 53, range: zero)], range: zero)
      case 1: transport = ProtocolFilter(transport: .icmp, ports: [], range: zero)
      case 2:
        transport = ProtocolFilter(
          transport: .tcp,
          ports: [PortRange(port, port + 10, range: zero), PortRange(22, 22, range: zero)],
          range: zero)
      default:
        transport = ProtocolFilter(
          transport: .tcp, ports: [PortRange(port, port, range: zero)], range: zero)
      }
      let filters = Filters(transport: transport)
      switch Int.random(in: 0..<20, using: &random) {
      case 0:
        all.append(
          Statement(
            scope: .vcn(zone()), source: Endpoint(.attribute(role()), range: zero),
            destination: Endpoint(.address(TenancyFixtures.prefix("0.0.0.0/0")), range: zero),
            filters: filters, range: zero))
      case 1, 2, 3:
        all.append(
          Statement(
            scope: .crossVCN(source: zone(), destination: zone()),
            source: Endpoint(.attribute(role()), range: zero),
            destination: Endpoint(.attribute(role()), range: zero), filters: filters, range: zero))
      default:
        all.append(
          Statement(
            scope: .vcn(zone()), source: Endpoint(.attribute(role()), range: zero),
            destination: Endpoint(.attribute(role()), range: zero), filters: filters, range: zero))
      }
    }
    let perPolicy = tenancy.catalog.limits.statementsPerPolicy
    tenancy.policies = stride(from: 0, to: all.count, by: perPolicy).map {
      Policy(
        name: "policy-\($0 / perPolicy)", description: "Generated",
        statements: Array(all[$0..<min(all.count, $0 + perPolicy)]))
    }
    self.tenancy = tenancy
    self.ports = ports
  }
}
