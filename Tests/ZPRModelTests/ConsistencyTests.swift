import Testing
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Tenancy consistency")
struct ConsistencyTests {
  typealias Mutation = @Sendable (inout Tenancy) -> Void

  static func prefix(_ text: String) -> IPPrefix { TenancyFixtures.prefix(text) }
  static func address(_ text: String) -> IPAddress { TenancyFixtures.address(text) }

  @Test func fixturesAreConsistent() {
    #expect(TenancyFixtures.threeTier().consistencyIssues() == [])
    #expect(TenancyFixtures.twoVCNsPeered().consistencyIssues() == [])
  }

  /// One mistake each: the code and the path it must be reported at.
  static let mistakes: [(String, TenancyIssue.Code, String, Mutation)] = [
    (
      "duplicate subnet", .duplicateName, "vcns[0].subnets[1].name",
      { $0.vcns[0].subnets[1].name = "web" }
    ),
    ("duplicate resource", .duplicateName, "resources[1].name", { $0.resources[1].name = "web-1" }),
    ("duplicate VCN", .duplicateName, "vcns[1].name", { $0.vcns.append($0.vcns[0]) }),
    (
      "unknown route table", .unresolvedReference, "vcns[0].subnets[0].routeTable",
      { $0.vcns[0].subnets[0].routeTable = "mian" }
    ),
    (
      "unknown security list", .unresolvedReference, "vcns[0].subnets[2].securityLists[0]",
      { $0.vcns[0].subnets[2].securityLists = ["closed"] }
    ),
    (
      "unknown subnet", .unresolvedReference, "resources[0].vnics[0].subnet",
      { $0.resources[0].vnics[0].subnet = "wbe" }
    ),
    (
      "unknown VCN", .unresolvedReference, "resources[0].vnics[0].subnet",
      { $0.resources[0].vnics[0].vcn = "dev" }
    ),
    (
      "unknown NSG", .unresolvedReference, "resources[2].vnics[0].networkSecurityGroups[0]",
      { $0.resources[2].vnics[0].networkSecurityGroups = ["dbs"] }
    ),
    (
      "unknown compartment", .unresolvedReference, "resources[0].compartment",
      { $0.resources[0].compartment = "ops" }
    ),
    (
      "subnet outside its VCN", .outsideBlock, "vcns[0].subnets[0].cidr",
      { $0.vcns[0].subnets[0].cidr = prefix("10.9.1.0/24") }
    ),
    (
      "IP outside its subnet", .outsideBlock, "resources[0].vnics[0].ips[0]",
      { $0.resources[0].vnics[0].ips = [address("10.0.2.99")] }
    ),
    (
      "overlapping subnets", .overlappingBlocks, "vcns[0].subnets[1].cidr",
      { $0.vcns[0].subnets[1].cidr = prefix("10.0.1.128/25") }
    ),
    (
      "overlapping VCN blocks", .overlappingBlocks, "vcns[0].cidrs[1]",
      { $0.vcns[0].cidrs.append(prefix("10.0.128.0/17")) }
    ),
    (
      "host bits", .hostBitsSet, "vcns[0].subnets[0].cidr",
      { $0.vcns[0].subnets[0].cidr = prefix("10.0.1.5/24") }
    ),
    (
      "shared IP", .duplicateAddress, "resources[1].vnics[0].ips[0]",
      {
        $0.resources[1].vnics[0] = VNIC(vcn: "prod", subnet: "web", ips: [address("10.0.1.10")])
      }
    ),
    ("no VNIC", .missingElement, "resources[0].vnics", { $0.resources[0].vnics = [] }),
    ("no IP", .missingElement, "resources[0].vnics[0].ips", { $0.resources[0].vnics[0].ips = [] }),
    ("no CIDR", .missingElement, "vcns[0].cidrs", { $0.vcns[0].cidrs = [] }),
    (
      "value the validator rejects", .invalidAttributes, "resources[0].securityAttributes",
      {
        $0.resources[0].securityAttributes = [
          AppliedAttribute(namespace: "app", key: "tier", value: "cache")
        ]
      }
    ),
    (
      "two attributes on a VCN", .invalidAttributes, "vcns[0].securityAttributes",
      {
        $0.vcns[0].securityAttributes.append(
          AppliedAttribute(namespace: "app", key: "tier", value: "web"))
      }
    ),
    (
      "unknown VNIC attribute", .invalidAttributes, "resources[0].vnics[0].securityAttributes",
      {
        $0.resources[0].vnics[0].securityAttributes = [
          AppliedAttribute(namespace: "app", key: "role", value: "x")
        ]
      }
    ),
    (
      "NSG in a security list rule", .invalidRule, "vcns[0].securityLists[0].ingress[1]",
      {
        $0.vcns[0].securityLists[0].ingress.append(
          SecurityRule(transport: .tcp, peer: .networkSecurityGroup("db")))
      }
    ),
    (
      "ports on ICMP", .invalidRule, "vcns[0].networkSecurityGroups[0].ingress[1].destinationPorts",
      {
        $0.vcns[0].networkSecurityGroups[0].ingress.append(
          SecurityRule(transport: .icmp, peer: .cidr(prefix("0.0.0.0/0")), destinationPorts: 1...2))
      }
    ),
    (
      "ICMP code without type", .invalidRule, "vcns[0].securityLists[0].egress[1]",
      {
        $0.vcns[0].securityLists[0].egress.append(
          SecurityRule(transport: .icmp, peer: .cidr(prefix("0.0.0.0/0")), icmpCode: 4))
      }
    ),
    (
      "port 0", .invalidRule, "vcns[0].securityLists[0].egress[1].destinationPorts",
      {
        $0.vcns[0].securityLists[0].egress.append(
          SecurityRule(transport: .udp, peer: .cidr(prefix("0.0.0.0/0")), destinationPorts: 0...53))
      }
    ),
    (
      "unknown NSG in an NSG rule", .unresolvedReference,
      "vcns[0].networkSecurityGroups[0].ingress[1]",
      {
        $0.vcns[0].networkSecurityGroups[0].ingress.append(
          SecurityRule(transport: .tcp, peer: .networkSecurityGroup("web")))
      }
    ),
    (
      "route to a DRG the VCN is not attached to", .unresolvedReference,
      "vcns[0].routeTables[0].rules[0].target",
      {
        $0.drgs = [DynamicRoutingGateway(name: "hub")]
        $0.vcns[0].routeTables[0].rules = [
          RouteRule(destination: prefix("192.168.0.0/16"), target: .drg("hub"))
        ]
      }
    ),
    (
      "DRG attached to an unknown VCN", .unresolvedReference, "drgs[0].attachments[0]",
      {
        $0.drgs = [DynamicRoutingGateway(name: "hub", attachments: ["qa"])]
      }
    ),
    (
      "route to an unknown LPG", .unresolvedReference, "vcns[0].routeTables[0].rules[0].target",
      {
        $0.vcns[0].routeTables[0].rules = [
          RouteRule(destination: prefix("10.1.0.0/16"), target: .localPeeringGateway("nowhere"))
        ]
      }
    ),
    (
      "compartment cycle", .compartmentCycle, "compartments[0].parent",
      {
        $0.compartments = [
          Compartment(name: "a", parent: "b"), Compartment(name: "b", parent: "a"),
        ]
      }
    ),
    (
      "a name with a bidi override", .invalidName, "vcns[0].subnets[0].name",
      { $0.vcns[0].subnets[0].name = "web\u{202E}" }
    ),
    (
      "too many statements", .tooManyStatements, "policies[0].statements",
      {
        $0.policies[0].statements = Array(repeating: $0.policies[0].statements[0], count: 26)
      }
    ),
  ]

  @Test(arguments: mistakes.indices)
  func eachMistakeIsReportedWhereItIs(index: Int) {
    let (name, code, path, mutate) = Self.mistakes[index]
    var tenancy = TenancyFixtures.threeTier()
    mutate(&tenancy)
    let issues = tenancy.consistencyIssues()
    #expect(
      issues.contains { $0.code == code && $0.path == path && $0.severity == .error },
      "\(name): \(issues)")
  }

  @Test func peeringMustGoBothWays() {
    var tenancy = TenancyFixtures.twoVCNsPeered()
    tenancy.vcns[1].localPeeringGateways[0].peer = nil
    let issues = tenancy.consistencyIssues()
    #expect(issues.map(\.code) == [.oneWayPeering])
    #expect(issues.first?.path == "vcns[0].localPeeringGateways[0].peer")
    #expect(issues.first?.message.contains("set its peer to 'prod/to-shared'") == true)
  }

  @Test func unresolvedNamesSuggestTheClosest() {
    var tenancy = TenancyFixtures.threeTier()
    tenancy.resources[0].vnics[0].subnet = "wbe"
    let message = tenancy.consistencyIssues().first?.message ?? ""
    #expect(message.contains("did you mean 'prod/web'?"))
  }

  @Test func everyCodeIsExercised() {
    let tested = Set(Self.mistakes.map(\.1)).union([.oneWayPeering])
    for code in TenancyIssue.Code.allCases {
      #expect(tested.contains(code), "no test for \(code.rawValue)")
    }
  }
}
