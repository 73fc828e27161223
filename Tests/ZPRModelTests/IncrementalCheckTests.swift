import PropertyBased
import Testing
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// The incremental checker against the full check, its oracle: for random sequences of single
/// changes, valid and not, the answer for each change is the full check's of the changed
/// tenancy (same errors, codes, messages and paths), and an accepted change gives the tenancy
/// that applying it to a plain value gives.
@Suite struct IncrementalCheckTests {
  static let small = TenancyGenerator.Size(
    namespaces: 3, attributesPerNamespace: 2, vcns: 3, subnetsPerVCN: 3, resources: 20,
    policies: 3)
  static let large = TenancyGenerator.Size(
    namespaces: 8, attributesPerNamespace: 2, vcns: 6, subnetsPerVCN: 5, resources: 300,
    policies: 4)

  @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
  func smallTenanciesAgreeWithTheFullCheck(seed: UInt64) {
    agree(seed: seed, size: Self.small, steps: 150)
  }

  /// The random changes reach the rules that matter (so that agreeing means something).
  @Test func theChangesReachEveryKindOfError() {
    var codes = Set<String>()
    for seed in 21...24 as ClosedRange<UInt64> {
      codes.formUnion(agree(seed: seed, size: Self.small, steps: 150))
    }
    let wanted = [
      "ZPT001", "ZPT002", "ZPT003", "ZPT004", "ZPT005", "ZPT006", "ZPT007", "ZPT008", "ZPT009",
      "ZPT010", "ZPT011", "ZPT012", "ZPT013", "ZPL080", "ZPL081", "ZPL083",
    ]
    #expect(Set(wanted).subtracting(codes).isEmpty, "never seen: \(Set(wanted).subtracting(codes))")
  }

  @Test(arguments: [11, 12] as [UInt64])
  func largerTenanciesAgreeWithTheFullCheck(seed: UInt64) {
    agree(seed: seed, size: Self.large, steps: 120)
  }

  @Test func seededSequencesAgree() async {
    await propertyCheck(count: 8, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      agree(seed: seed, size: Self.small, steps: 40)
    }
  }

  /// Runs `steps` random changes through both checks; returns the codes of the errors seen.
  @discardableResult
  private func agree(seed: UInt64, size: TenancyGenerator.Size, steps: Int) -> Set<String> {
    var codes = Set<String>()
    var generator = TenancyGenerator(seed: seed)
    let start = generator.tenancy(size)
    #expect(start.errors().isEmpty)
    var checked = CheckedTenancy(start)
    var changes = ChangeGenerator(seed: seed)
    var accepted = 0
    for step in 0..<steps {
      let change = changes.change(for: checked.tenancy)
      let before = checked.tenancy
      var expected = before
      let expectation: Result<Tenancy, ChangeRefusal>
      do {
        try expected.apply(change)
        let errors = expected.errors()
        expectation = errors.isEmpty ? .success(expected) : .failure(.inconsistent(errors))
      } catch {
        expectation = .failure(.inapplicable(error))
      }
      do {
        try checked.apply(change)
        accepted += 1
        guard case .success(let tenancy) = expectation else {
          Issue.record("seed \(seed) step \(step): \(change) accepted, expected \(expectation)")
          return codes
        }
        #expect(checked.tenancy == tenancy, "seed \(seed) step \(step): \(change)")
      } catch {
        #expect(checked.tenancy == before, "seed \(seed) step \(step): refusal changed it")
        switch (error, expectation) {
        case (.inapplicable(let got), .failure(.inapplicable(let want))):
          #expect(got == want, "seed \(seed) step \(step): \(change)")
        case (.inconsistent(let got), .failure(.inconsistent(let want))):
          #expect(Self.normal(got) == Self.normal(want), "seed \(seed) step \(step): \(change)")
          codes.formUnion(Self.normal(want).map { $0[0] })
        default:
          Issue.record("seed \(seed) step \(step): \(change) gave \(error), want \(expectation)")
          return codes
        }
      }
    }
    #expect(accepted > steps / 10, "seed \(seed): too few changes accepted to test much")
    // The final state: consistent, and its indices answer as freshly built ones do.
    #expect(checked.tenancy.errors().isEmpty)
    let fresh = CheckedTenancy(checked.tenancy)
    for _ in 0..<30 {
      let change = changes.change(for: checked.tenancy)
      #expect(
        Self.outcome(checked.applying(change)) == Self.outcome(fresh.applying(change)),
        "seed \(seed): \(change)")
    }
    return codes
  }

  /// Errors as comparable multisets: (code, message, path), sorted.
  static func normal(_ errors: TenancyErrors) -> [[String]] {
    (errors.issues.map { [$0.code.rawValue, $0.message, $0.path] }
      + errors.statements.map { [$0.code.rawValue, $0.message, $0.path ?? ""] })
      .sorted { $0.lexicographicallyPrecedes($1) }
  }

  static func outcome(_ result: Result<CheckedTenancy, ChangeRefusal>) -> String {
    switch result {
    case .success(let checked): "accepted \(checked.tenancy.hashValue)"
    case .failure(.inapplicable(let error)): "inapplicable \(error)"
    case .failure(.inconsistent(let errors)): "refused \(normal(errors))"
    }
  }

  // MARK: Specific cases

  static func example() -> Tenancy {
    var tenancy = Tenancy()
    try! tenancy.catalog.enableZPR()
    tenancy.compartments = [Compartment(name: "prod")]
    tenancy.vcns = [
      VCN(
        name: "v", compartment: "prod", cidrs: [TenancyFixtures.prefix("10.0.0.0/16")],
        networkSecurityGroups: [NetworkSecurityGroup(name: "web")],
        subnets: [Subnet(name: "s", cidr: TenancyFixtures.prefix("10.0.1.0/24"))])
    ]
    tenancy.resources = [
      server("a", ip: "10.0.1.4", groups: ["web"]),
      server("b", ip: "10.0.1.5"),
    ]
    tenancy.tests = [
      PolicyTest(name: "t", from: "a", to: "b/0", transport: .tcp, port: 80, expect: .allow)
    ]
    return tenancy
  }

  static func server(
    _ name: String, ip: String, subnet: String = "s", groups: [String] = [],
    attributes: [AppliedAttribute] = []
  ) -> Resource {
    Resource(
      name: name, compartment: "prod", securityAttributes: attributes,
      vnics: [
        VNIC(
          vcn: "v", subnet: subnet, ips: [IPAddress(ip)!], networkSecurityGroups: groups)
      ])
  }

  /// The errors a change is refused for, which the full check must give too.
  static func refusal(_ change: TenancyChange, on tenancy: Tenancy = example()) -> [[String]] {
    var changed = tenancy
    try! changed.apply(change)
    guard case .failure(.inconsistent(let errors)) = CheckedTenancy(tenancy).applying(change)
    else { return [] }
    #expect(normal(errors) == normal(changed.errors()))
    return normal(errors)
  }

  @Test func aDuplicatedIPIsReportedAtTheLaterResource() {
    #expect(
      Self.refusal(.upsertResource(Self.server("c", ip: "10.0.1.4")))
        == [
          [
            "ZPT009",
            "10.0.1.4 is already used by a/0 in VCN 'v': give each VNIC its own IP",
            "resources[2].vnics[0].ips[0]",
          ]
        ])
  }

  @Test func anIPOutsideItsSubnetIsRefused() {
    #expect(
      Self.refusal(.upsertResource(Self.server("b", ip: "10.0.2.9")))
        == [
          [
            "ZPT003",
            "10.0.2.9 lies outside subnet 's' (10.0.1.0/24): choose an address inside it",
            "resources[1].vnics[0].ips[0]",
          ]
        ])
  }

  @Test func removingAReferencedSubnetLeavesEachReferrerUnresolved() {
    let message = "there is no subnet named 'v/s': define it, or fix the name"
    #expect(
      Self.refusal(.removeSubnet(vcn: "v", name: "s"))
        == [
          ["ZPT002", message, "resources[0].vnics[0].subnet"],
          ["ZPT002", message, "resources[1].vnics[0].subnet"],
        ])
  }

  @Test func removingAnNSGInUseIsRefused() {
    #expect(
      Self.refusal(.removeNetworkSecurityGroup(vcn: "v", name: "web"))
        == [
          [
            "ZPT002", "there is no network security group named 'web': define it, or fix the name",
            "resources[0].vnics[0].networkSecurityGroups[0]",
          ]
        ])
  }

  @Test func removingATestedResourceBreaksTheTest() {
    #expect(
      Self.refusal(.removeResource("b"))
        == [
          [
            "ZPT002",
            "there is no resource named 'b' (did you mean 'a'?): define it, or fix the name",
            "tests[0].to",
          ]
        ])
  }

  @Test func renamingOntoAnotherNameIsADuplicate() {
    let renamed = Self.server("a", ip: "10.0.1.5")
    #expect(
      Self.refusal(.upsertResource(renamed, replacing: "b"))
        == [
          [
            "ZPT001", "another resource is already named 'a': give each its own name",
            "resources[1].name",
          ],
          [
            "ZPT002",
            "there is no resource named 'b' (did you mean 'a'?): define it, or fix the name",
            "tests[0].to",
          ],
        ])
  }

  @Test func retiringAnAttributeInUseIsRefusedWhereItIsCarried() {
    var tenancy = Self.example()
    let sensitivity = AppliedAttribute(namespace: "oracle-zpr", key: "sensitivity", value: "high")
    tenancy.resources[1].securityAttributes = [sensitivity]
    #expect(
      Self.refusal(.retireAttribute(namespace: "oracle-zpr", name: "sensitivity"), on: tenancy)
        == [
          [
            "ZPT008",
            "instance 'b': attribute oracle-zpr.sensitivity is retired: reactivate it, or apply "
              + "another one",
            "resources[1].securityAttributes",
          ]
        ])
  }

  @Test func aCompartmentCycleIsRefused() {
    var tenancy = Self.example()
    tenancy.compartments.append(Compartment(name: "dev", parent: "prod"))
    let message = { (name: String) in
      "compartment '\(name)' ends up inside itself: give one of the compartments in the cycle "
        + "another parent"
    }
    #expect(
      Self.refusal(.upsertCompartment(Compartment(name: "prod", parent: "dev")), on: tenancy)
        == [
          ["ZPT011", message("dev"), "compartments[1].parent"],
          ["ZPT011", message("prod"), "compartments[0].parent"],
        ])
  }

  @Test func anAcceptedChangeAndAMissingElement() throws {
    var checked = CheckedTenancy(Self.example())
    try checked.apply(.upsertResource(Self.server("c", ip: "10.0.1.6")))
    try checked.apply(.removeResource("c"))
    #expect(checked.tenancy == Self.example())
    #expect(throws: ChangeRefusal.self) { try checked.apply(.removeResource("nope")) }
  }
}

/// Random single changes for a tenancy: mostly plausible ones, many of them wrong on purpose.
struct ChangeGenerator {
  var random: SplitMix64
  var statements: [Statement] = []

  init(seed: UInt64) { random = SplitMix64(seed: seed ^ 0x5EED) }

  private mutating func pick<T>(_ items: [T]) -> T? { items.randomElement(using: &random) }
  private mutating func chance(_ probability: Double) -> Bool { random.chance(probability) }
  private mutating func number(_ range: ClosedRange<Int>) -> Int {
    Int.random(in: range, using: &random)
  }

  /// A name that exists, one that does not, or one that breaks the naming rules.
  private mutating func name(among names: [String], fresh: String) -> String {
    if chance(0.08) { return "bad\u{7}name" }
    if chance(0.25) || names.isEmpty { return fresh }
    return pick(names)!
  }

  mutating func change(for tenancy: Tenancy) -> TenancyChange {
    switch number(0...99) {
    case 0..<40: resourceChange(tenancy)
    case 40..<52: vcnPartChange(tenancy)
    case 52..<58: vcnChange(tenancy)
    case 58..<70: catalogChange(tenancy)
    case 70..<75: compartmentChange(tenancy)
    case 75..<80: drgChange(tenancy)
    case 80..<87: policyChange(tenancy)
    case 87..<95: testChange(tenancy)
    default: iamChange(tenancy)
    }
  }

  private mutating func address(in subnet: Subnet) -> IPAddress {
    let network = subnet.cidr.network
    let host = number(chance(0.1) ? 256...300 : 2...40)
    return network.family == .v4
      ? IPAddress(v4: network.v4Value! + UInt32(host))
      : IPAddress(v6High: network.high, low: network.low + UInt64(host))
  }

  private mutating func attributes(_ tenancy: Tenancy, limit: Int) -> [AppliedAttribute] {
    var chosen: [AppliedAttribute] = []
    for _ in 0..<number(0...limit) {
      guard let namespace = pick(tenancy.catalog.namespaces),
        let attribute = pick(namespace.attributes)
      else { continue }
      let value =
        if case .oneOf(let values) = attribute.validator, !chance(0.1) {
          pick(values)!
        } else {
          chance(0.05) ? "" : "v\(number(0...3))"
        }
      chosen.append(
        AppliedAttribute(
          namespace: chance(0.05) ? "nope" : namespace.name, key: attribute.name, value: value))
    }
    return chosen
  }

  private mutating func vnic(_ tenancy: Tenancy) -> VNIC {
    guard let vcn = pick(tenancy.vcns), let subnet = pick(vcn.subnets) else {
      return VNIC(vcn: "nowhere", subnet: "s", ips: [])
    }
    var ips = [address(in: subnet)]
    if chance(0.2), let other = pick(tenancy.resources), let ip = other.vnics.first?.ips.first {
      ips = [ip]  // likely taken
    }
    if chance(0.05) { ips = [] }
    return VNIC(
      vcn: chance(0.03) ? "nope" : vcn.name, subnet: chance(0.03) ? "nope" : subnet.name, ips: ips,
      networkSecurityGroups: chance(0.3)
        ? [chance(0.2) ? "nope" : (pick(vcn.networkSecurityGroups)?.name ?? "nsg-x")] : [],
      securityAttributes: chance(0.2) ? attributes(tenancy, limit: 1) : [])
  }

  private mutating func resourceChange(_ tenancy: Tenancy) -> TenancyChange {
    let existing = pick(tenancy.resources)
    switch number(0...9) {
    case 0...3:
      var resource = Resource(
        name: "new\(number(0...9999))", kind: pick([.instance, .database])!,
        compartment: chance(0.05) ? "nope" : pick(tenancy.compartments)?.name,
        securityAttributes: attributes(tenancy, limit: chance(0.05) ? 4 : 2),
        vnics: (0..<number(0...2)).map { _ in vnic(tenancy) })
      if chance(0.1) { resource.vnics = [vnic(tenancy)] }
      return .upsertResource(resource)
    case 4...6:
      guard var resource = existing else { return .removeResource("nope") }
      if chance(0.5) { resource.securityAttributes = attributes(tenancy, limit: 3) }
      if chance(0.5) { resource.vnics[0] = vnic(tenancy) }
      if chance(0.1) { resource.compartment = "nope" }
      if chance(0.15) {
        let old = resource.name
        resource.name = name(
          among: tenancy.resources.map(\.name), fresh: "renamed\(number(0...99))")
        return .upsertResource(resource, replacing: old)
      }
      return .upsertResource(resource)
    default:
      return .removeResource(chance(0.05) ? "nope" : (existing?.name ?? "nope"))
    }
  }

  private mutating func vcnPartChange(_ tenancy: Tenancy) -> TenancyChange {
    guard let vcn = pick(tenancy.vcns) else { return .removeSubnet(vcn: "nope", name: "s") }
    let name = vcn.name
    switch number(0...11) {
    case 0...2:
      var subnet = pick(vcn.subnets) ?? Subnet(name: "s9", cidr: vcn.cidrs[0])
      if chance(0.3) { subnet.name = "s\(number(0...30))" }
      let base = vcn.cidrs[0]
      let text = "\(base.network)".split(separator: ".").prefix(2).joined(separator: ".")
      if base.network.family == .v4 {
        let length = pick([24, 24, 25, 23, 16])!
        let third = number(0...30)
        subnet.cidr =
          chance(0.05)
          ? TenancyFixtures.prefix("\(text).\(third).7/24")
          : chance(0.05)
            ? TenancyFixtures.prefix("172.16.\(third).0/24")
            : TenancyFixtures.prefix(
              "\(text).\(length == 16 ? 0 : third).\(length == 25 ? pick([0, 128])! : 0)/\(length)")
      }
      if chance(0.1) { subnet.routeTable = "nope" }
      if chance(0.1) { subnet.securityLists = ["nope"] }
      return .upsertSubnet(vcn: name, subnet)
    case 3: return .removeSubnet(vcn: name, name: pick(vcn.subnets)?.name ?? "s0")
    case 4:
      let groups = vcn.networkSecurityGroups.map(\.name)
      let rule = SecurityRule(
        transport: .tcp,
        peer: .networkSecurityGroup(chance(0.3) ? "nope" : (pick(groups) ?? "nsg0")),
        destinationPorts: chance(0.3) ? 0...70000 : 443...443)
      return .upsertNetworkSecurityGroup(
        vcn: name, NetworkSecurityGroup(name: "nsg\(number(0...3))", ingress: [rule]))
    case 5:
      return .removeNetworkSecurityGroup(
        vcn: name, name: pick(vcn.networkSecurityGroups)?.name ?? "nsg0")
    case 6: return .removeRouteTable(vcn: name, name: "main")
    case 7:
      let target: RouteTarget =
        chance(0.5) ? .drg(pick(tenancy.drgs)?.name ?? "hub") : .localPeeringGateway("nope")
      return .upsertRouteTable(
        vcn: name,
        RouteTable(
          name: "main", rules: [RouteRule(destination: vcn.cidrs[0], target: target)]))
    case 8: return .removeSecurityList(vcn: name, name: "sl")
    case 9:
      return .upsertSecurityList(
        vcn: name,
        SecurityList(
          name: "sl", ingress: [SecurityRule(transport: .icmp, peer: .cidr(vcn.cidrs[0]))],
          egress: chance(0.4)
            ? [SecurityRule(transport: .udp, peer: .networkSecurityGroup("x"))] : []
        ))
    case 10:
      guard let gateway = pick(vcn.localPeeringGateways) else {
        return .removeLocalPeeringGateway(vcn: name, name: "nope")
      }
      return .removeLocalPeeringGateway(vcn: name, name: gateway.name)
    default:
      let other = pick(tenancy.vcns)!
      let gateway = pick(other.localPeeringGateways)?.name ?? "gw"
      return .upsertLocalPeeringGateway(
        vcn: name,
        LocalPeeringGateway(
          name: pick(vcn.localPeeringGateways)?.name ?? "gw",
          peer: chance(0.2) ? nil : (other.name, chance(0.2) ? "nope" : gateway)))
    }
  }

  private mutating func vcnChange(_ tenancy: Tenancy) -> TenancyChange {
    switch number(0...5) {
    case 0...2:
      guard var vcn = pick(tenancy.vcns) else { break }
      if chance(0.4), let other = pick(tenancy.vcns) { vcn.cidrs = other.cidrs }
      if chance(0.2) { vcn.cidrs = [TenancyFixtures.prefix("10.200.0.0/16")] }
      if chance(0.1) { vcn.cidrs = [] }
      if chance(0.2) { vcn.securityAttributes = attributes(tenancy, limit: 2) }
      if chance(0.1) { vcn.compartment = "nope" }
      return .upsertVCN(vcn)
    case 3:
      return .upsertVCN(
        VCN(
          name: name(among: [], fresh: "vnew\(number(0...9))"),
          cidrs: [TenancyFixtures.prefix("10.\(number(100...250)).0.0/16")]))
    default:
      break
    }
    return .removeVCN(pick(tenancy.vcns)?.name ?? "nope")
  }

  private mutating func catalogChange(_ tenancy: Tenancy) -> TenancyChange {
    let namespace = pick(tenancy.catalog.namespaces.filter(\.state.isLive))
    let space = namespace?.name ?? "oracle-zpr"
    let attribute = pick(namespace?.attributes.filter(\.state.isLive) ?? [])?.name ?? "sensitivity"
    switch number(0...9) {
    case 0: return .retireNamespace(space)
    case 1: return .reactivateNamespace(space)
    case 2, 3: return .retireAttribute(namespace: space, name: attribute)
    case 4: return .reactivateAttribute(namespace: space, name: attribute)
    case 5: return .removeAttribute(namespace: space, name: attribute)
    case 6: return .removeNamespace(space)
    case 7: return .upsertNamespace(name: "ns-new\(number(0...3))", description: "new")
    default:
      let validator: AttributeValidator =
        chance(0.5)
        ? .anyValue : .oneOf(["yes", "v0", "v1", "high"].filter { _ in chance(0.6) } + ["x"])
      return .upsertAttribute(
        namespace: space, name: chance(0.3) ? "fresh" : attribute, description: "d",
        validator: validator)
    }
  }

  private mutating func compartmentChange(_ tenancy: Tenancy) -> TenancyChange {
    let names = tenancy.compartments.map(\.name)
    if chance(0.3) { return .removeCompartment(pick(names) ?? "nope") }
    return .upsertCompartment(
      Compartment(
        name: name(among: names, fresh: "c\(number(0...6))"),
        parent: chance(0.3) ? nil : name(among: names, fresh: "nope")))
  }

  private mutating func drgChange(_ tenancy: Tenancy) -> TenancyChange {
    if chance(0.3) { return .removeDRG(pick(tenancy.drgs)?.name ?? "hub") }
    let attached =
      tenancy.vcns.map(\.name).filter { _ in chance(0.4) } + (chance(0.1) ? ["nope"] : [])
    return .upsertDRG(
      DynamicRoutingGateway(name: chance(0.7) ? "hub" : "hub2", attachments: attached))
  }

  private mutating func policyChange(_ tenancy: Tenancy) -> TenancyChange {
    // Statements to reuse, kept from the first policies seen (the policies may all go).
    if statements.isEmpty { statements = tenancy.policies.flatMap(\.statements) }
    guard var statement = pick(statements) else { return .removePolicy("nope") }
    var policy =
      pick(tenancy.policies) ?? Policy(name: "policy-new", description: "d", statements: [])
    if chance(0.2) { return .removePolicy(policy.name) }
    if chance(0.4) {
      statement.scope = .vcn(
        AttributeRef(
          namespace: chance(0.5) ? "nope" : nil, key: chance(0.5) ? "sensitivity" : "nokey",
          value: chance(0.5) ? "high" : "zzz", range: SourceRange(0, 0)))
    }
    policy.statements = [statement] + (chance(0.15) ? Array(repeating: statement, count: 30) : [])
    if chance(0.3) { policy.name = name(among: [], fresh: "policy-new\(number(0...3))") }
    return .upsertPolicy(policy)
  }

  private mutating func testChange(_ tenancy: Tenancy) -> TenancyChange {
    let names = tenancy.tests.compactMap(\.name)
    if chance(0.3) { return .removeTest(pick(names) ?? "nope") }
    func end(_ generator: inout ChangeGenerator) -> String {
      guard let resource = generator.pick(tenancy.resources) else { return "10.0.0.1" }
      switch generator.number(0...5) {
      case 0: return "\(resource.name)/\(generator.number(0...2))"
      case 1: return "gone\(generator.number(0...3))"
      case 2: return "10.0.0.\(generator.number(1...9))"
      default: return resource.name
      }
    }
    return .upsertTest(
      PolicyTest(
        name: name(among: names, fresh: "t\(number(0...9))"), from: end(&self), to: end(&self),
        transport: .tcp, port: 443, expect: .allow))
  }

  private mutating func iamChange(_ tenancy: Tenancy) -> TenancyChange {
    switch number(0...3) {
    case 0:
      return .upsertGroup(
        IAMGroup(
          name: name(among: tenancy.groups.map(\.name), fresh: "g\(number(0...3))"),
          members: chance(0.2) ? ["bad name"] : ["alice"]))
    case 1: return .removeGroup(pick(tenancy.groups)?.name ?? "nope")
    case 2:
      return .upsertIAMPolicy(
        IAMPolicy(name: name(among: [], fresh: "iam\(number(0...3))"), statements: []))
    default: return .removeIAMPolicy(pick(tenancy.iamPolicies)?.name ?? "nope")
    }
  }
}
