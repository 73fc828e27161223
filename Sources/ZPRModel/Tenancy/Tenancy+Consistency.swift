import ZPRIAM
import ZPRPolicy

extension Tenancy {
  /// Every consistency problem: unique names, references that resolve, addresses inside their
  /// blocks, blocks that do not overlap, peering both ways, well-formed rules, and attributes
  /// the catalog accepts (a declared tenancy is checked as a whole, so a value its validator
  /// rejects is an error here).
  public func consistencyIssues() -> [TenancyIssue] {
    var check = ConsistencyCheck(tenancy: self)
    check.compartments()
    check.vcns()
    check.drgs()
    check.resources()
    check.policies()
    check.tests()
    check.iam()
    return check.issues
  }
}

/// The tables of network names the consistency rules look names up in. The full check builds
/// them once; the incremental checker (``CheckedTenancy``) keeps them and refreshes the parts a
/// change touches.
struct ConsistencyTables: Sendable {
  /// The first VCN of each name.
  var vcnIndex: [String: Int] = [:]
  /// The names inside each VCN, by position.
  var vcnNames: [VCNNames] = []
  /// The first DRG of each name, and the VCNs attached to each DRG.
  var drgIndex: [String: Int] = [:]
  var drgAttachments: [Set<String>] = []
  var compartmentNames: Set<String> = []

  init(_ tenancy: Tenancy) {
    indexVCNs(tenancy)
    indexDRGs(tenancy)
    indexCompartments(tenancy)
  }

  mutating func indexVCNs(_ tenancy: Tenancy) {
    vcnIndex = [:]
    for (position, vcn) in tenancy.vcns.enumerated() where vcnIndex[vcn.name] == nil {
      vcnIndex[vcn.name] = position
    }
    vcnNames = tenancy.vcns.map(VCNNames.init)
  }

  mutating func indexDRGs(_ tenancy: Tenancy) {
    drgIndex = [:]
    for (position, drg) in tenancy.drgs.enumerated() where drgIndex[drg.name] == nil {
      drgIndex[drg.name] = position
    }
    drgAttachments = tenancy.drgs.map { Set($0.attachments) }
  }

  mutating func indexCompartments(_ tenancy: Tenancy) {
    compartmentNames = Set(tenancy.compartments.map(\.name))
  }

  /// The names of a VCN's parts, looked up without a search.
  struct VCNNames: Sendable {
    var subnets: [String: Int] = [:]
    var routeTables: Set<String>
    var securityLists: Set<String>
    var networkSecurityGroups: Set<String>
    var localPeeringGateways: [String: Int] = [:]

    init(_ vcn: VCN) {
      for (position, subnet) in vcn.subnets.enumerated() where subnets[subnet.name] == nil {
        subnets[subnet.name] = position
      }
      routeTables = Set(vcn.routeTables.map(\.name))
      securityLists = Set(vcn.securityLists.map(\.name))
      networkSecurityGroups = Set(vcn.networkSecurityGroups.map(\.name))
      for (position, gateway) in vcn.localPeeringGateways.enumerated()
      where localPeeringGateways[gateway.name] == nil {
        localPeeringGateways[gateway.name] = position
      }
    }
  }
}

/// One pass over a tenancy, collecting issues. Lookups by name go through tables built once,
/// so that the check stays close to linear in the size of the tenancy. Each rule is also run on
/// its own, element by element, by the incremental checker (``CheckedTenancy``).
struct ConsistencyCheck {
  typealias VCNNames = ConsistencyTables.VCNNames
  /// The first claim of each IP, by VCN: the resource's position and the VNIC's number.
  typealias IPOwners = [String: [IPAddress: (resource: Int, vnic: Int)]]

  let tenancy: Tenancy
  var issues: [TenancyIssue] = []
  private let tables: ConsistencyTables
  private var vcnIndex: [String: Int] { tables.vcnIndex }
  private var vcnNames: [VCNNames] { tables.vcnNames }
  private var drgIndex: [String: Int] { tables.drgIndex }
  private var drgAttachments: [Set<String>] { tables.drgAttachments }
  private var compartmentNames: Set<String> { tables.compartmentNames }
  /// Did-you-mean searches compare a name with every candidate; their total work is bounded
  /// (in candidates compared), so that a tenancy full of broken references stays cheap.
  private var suggestionsLeft = 20_000

  /// A check of a tenancy, with its tables when they are at hand.
  init(tenancy: Tenancy, tables: ConsistencyTables? = nil) {
    self.tenancy = tenancy
    self.tables = tables ?? ConsistencyTables(tenancy)
  }

  /// The VCN of that name.
  private func vcn(named name: String) -> VCN? {
    vcnIndex[name].map { tenancy.vcns[$0] }
  }

  /// The closest candidate to a name, while the budget for such searches lasts.
  private mutating func suggestion(for name: String, among candidates: [String]) -> String? {
    guard name.utf8.count <= NameRules.maxLength * 4 else { return nil }
    guard candidates.count <= suggestionsLeft else {
      // Past the budget, no more candidates are even gathered.
      suggestionsLeft = 0
      return nil
    }
    suggestionsLeft -= candidates.count
    return Suggestions.closest(to: name, among: candidates)
  }

  mutating func compartments() {
    unique(tenancy.compartments.map(\.name), what: "compartment", path: "compartments")
    var parents: [String: String?] = [:]
    for compartment in tenancy.compartments where parents[compartment.name] == nil {
      parents[compartment.name] = compartment.parent
    }
    let inCycles = compartmentsInCycles(parents)
    for (index, compartment) in tenancy.compartments.enumerated() {
      let path = "compartments[\(index)]"
      if let parent = compartment.parent, parents[parent] == nil {
        // In the order written (each name once), so that a tie between guesses is settled
        // the same way every time.
        unresolved(
          "compartment", parent,
          among: candidates {
            var seen: Set<String> = []
            return tenancy.compartments.map(\.name).filter { seen.insert($0).inserted }
          }, at: "\(path).parent")
        continue
      }
      // A compartment below a cycle is not reported: the cycle is, at its own members.
      if inCycles.contains(compartment.name), let parent = compartment.parent,
        inCycles.contains(parent)
      {
        error(
          .compartmentCycle,
          "compartment '\(compartment.name)' ends up inside itself: give one of the compartments "
            + "in the cycle another parent", at: "\(path).parent")
      }
    }
  }

  /// The compartments on a cycle of parents, found walking up from each compartment once
  /// (linear, however long the chains).
  private func compartmentsInCycles(_ parents: [String: String?]) -> Set<String> {
    var done: Set<String> = []
    var inCycles: Set<String> = []
    for compartment in tenancy.compartments where !done.contains(compartment.name) {
      var path: [String] = []
      var onPath: [String: Int] = [:]
      var current: String? = compartment.name
      while let name = current, !done.contains(name), parents[name] != nil {
        if let start = onPath[name] {
          inCycles.formUnion(path[start...])
          break
        }
        onPath[name] = path.count
        path.append(name)
        current = parents[name] ?? nil
      }
      done.formUnion(path)
    }
    return inCycles
  }

  mutating func vcns() {
    vcnNameRules()
    for index in tenancy.vcns.indices { vcn(at: index) }
  }

  /// VCN names follow the rules and are unique.
  mutating func vcnNameRules() {
    unique(tenancy.vcns.map(\.name), what: "VCN", path: "vcns")
  }

  /// The rules of one VCN and its parts.
  mutating func vcn(at index: Int) {
    let vcn = tenancy.vcns[index]
    let path = "vcns[\(index)]"
    compartment(vcn.compartment, at: "\(path).compartment")
    if vcn.cidrs.isEmpty {
      error(
        .missingElement, "VCN '\(vcn.name)' has no CIDR block: give it at least one",
        at: "\(path).cidrs")
    }
    blocks(
      vcn.cidrs.enumerated().map { ($0.element, "\(path).cidrs[\($0.offset)]") },
      within: "VCN '\(vcn.name)'")
    attributes(vcn.securityAttributes, on: .vcn, name: vcn.name, at: "\(path).securityAttributes")
    unique(vcn.subnets.map(\.name), what: "subnet", path: "\(path).subnets")
    unique(vcn.routeTables.map(\.name), what: "route table", path: "\(path).routeTables")
    unique(vcn.securityLists.map(\.name), what: "security list", path: "\(path).securityLists")
    unique(
      vcn.networkSecurityGroups.map(\.name), what: "network security group",
      path: "\(path).networkSecurityGroups")
    unique(
      vcn.localPeeringGateways.map(\.name), what: "local peering gateway",
      path: "\(path).localPeeringGateways")
    let names = vcnNames[index]
    subnets(of: vcn, names, at: path)
    routeTables(of: vcn, names, at: path)
    peerings(of: vcn, at: path)
    for (list, rules) in vcn.securityLists.enumerated() {
      securityRules(
        rules.ingress, in: vcn, names, nsg: false, at: "\(path).securityLists[\(list)].ingress")
      securityRules(
        rules.egress, in: vcn, names, nsg: false, at: "\(path).securityLists[\(list)].egress")
    }
    for (group, rules) in vcn.networkSecurityGroups.enumerated() {
      securityRules(
        rules.ingress, in: vcn, names, nsg: true,
        at: "\(path).networkSecurityGroups[\(group)].ingress")
      securityRules(
        rules.egress, in: vcn, names, nsg: true,
        at: "\(path).networkSecurityGroups[\(group)].egress")
    }
  }

  private mutating func subnets(of vcn: VCN, _ names: VCNNames, at path: String) {
    var placed: [(IPPrefix, String)] = []
    for (index, subnet) in vcn.subnets.enumerated() {
      let subnetPath = "\(path).subnets[\(index)]"
      if subnet.cidr.hasHostBits {
        hostBits(subnet.cidr, at: "\(subnetPath).cidr")
      } else if !vcn.cidrs.isEmpty && !vcn.cidrs.contains(where: { $0.contains(subnet.cidr) }) {
        error(
          .outsideBlock,
          "subnet '\(subnet.name)' (\(subnet.cidr)) lies outside VCN '\(vcn.name)' "
            + "(\(vcn.cidrs.map(\.description).joined(separator: ", "))): choose a block inside it",
          at: "\(subnetPath).cidr")
      }
      placed.append((subnet.cidr, "\(subnetPath).cidr"))
      if let table = subnet.routeTable, !names.routeTables.contains(table) {
        unresolved(
          "route table", table, among: candidates { vcn.routeTables.map(\.name) },
          at: "\(subnetPath).routeTable")
      }
      for (list, name) in subnet.securityLists.enumerated()
      where !names.securityLists.contains(name) {
        unresolved(
          "security list", name, among: candidates { vcn.securityLists.map(\.name) },
          at: "\(subnetPath).securityLists[\(list)]")
      }
    }
    overlaps(placed, what: "subnet")
  }

  private mutating func routeTables(of vcn: VCN, _ names: VCNNames, at path: String) {
    for (table, routeTable) in vcn.routeTables.enumerated() {
      for (index, rule) in routeTable.rules.enumerated() {
        let rulePath = "\(path).routeTables[\(table)].rules[\(index)]"
        if rule.destination.hasHostBits {
          hostBits(rule.destination, at: "\(rulePath).destination")
        }
        switch rule.target {
        case .localPeeringGateway(let name)
        where names.localPeeringGateways[name] == nil:
          unresolved(
            "local peering gateway", name,
            among: candidates { vcn.localPeeringGateways.map(\.name) },
            at: "\(rulePath).target")
        case .drg(let name):
          guard let drgPosition = drgIndex[name] else {
            unresolved(
              "DRG", name, among: candidates { tenancy.drgs.map(\.name) }, at: "\(rulePath).target")
            break
          }
          if !drgAttachments[drgPosition].contains(vcn.name) {
            error(
              .unresolvedReference,
              "route to DRG '\(name)', but VCN '\(vcn.name)' is not attached to it: add "
                + "'\(vcn.name)' to the DRG's attachments", at: "\(rulePath).target")
          }
        default:
          break
        }
      }
    }
  }

  private mutating func peerings(of vcn: VCN, at path: String) {
    for (index, gateway) in vcn.localPeeringGateways.enumerated() {
      guard let peer = gateway.peer else { continue }
      let peerPath = "\(path).localPeeringGateways[\(index)].peer"
      guard let other = self.vcn(named: peer.vcn) else {
        unresolved("VCN", peer.vcn, among: candidates { tenancy.vcns.map(\.name) }, at: peerPath)
        continue
      }
      guard
        let otherGateway = vcnIndex[peer.vcn].flatMap({
          vcnNames[$0].localPeeringGateways[peer.gateway]
        })
        .map({ other.localPeeringGateways[$0] })
      else {
        unresolved(
          "local peering gateway", "\(peer.vcn)/\(peer.gateway)",
          among: candidates { other.localPeeringGateways.map { "\(peer.vcn)/\($0.name)" } },
          at: peerPath)
        continue
      }
      if otherGateway.peer?.vcn != vcn.name || otherGateway.peer?.gateway != gateway.name {
        error(
          .oneWayPeering,
          "'\(vcn.name)/\(gateway.name)' peers with '\(peer.vcn)/\(peer.gateway)', which does not "
            + "peer back: set its peer to '\(vcn.name)/\(gateway.name)'", at: peerPath)
      }
      if let overlap = overlapping(vcn, other) {
        error(
          .overlappingBlocks,
          "VCN '\(vcn.name)' and its peer '\(other.name)' overlap (\(overlap)): peered VCNs need "
            + "blocks that do not overlap", at: peerPath)
      }
      if peer.vcn == vcn.name {
        error(
          .oneWayPeering,
          "'\(vcn.name)/\(gateway.name)' peers with its own VCN: peer with another VCN",
          at: peerPath)
      }
    }
  }

  private mutating func securityRules(
    _ rules: [SecurityRule], in vcn: VCN, _ names: VCNNames, nsg: Bool, at path: String
  ) {
    for (index, rule) in rules.enumerated() {
      let rulePath = "\(path)[\(index)]"
      switch rule.peer {
      case .cidr(let block) where block.hasHostBits:
        hostBits(block, at: rulePath)
      case .networkSecurityGroup(let name) where !nsg:
        error(
          .invalidRule,
          "security list rules name CIDRs, not NSGs ('\(name)'): use a CIDR, or move the rule to "
            + "an NSG", at: rulePath)
      case .networkSecurityGroup(let name)
      where !names.networkSecurityGroups.contains(name):
        unresolved(
          "network security group", name,
          among: candidates { vcn.networkSecurityGroups.map(\.name) }, at: rulePath
        )
      default:
        break
      }
      let hasPorts = rule.transport == .tcp || rule.transport == .udp
      for (ports, field) in [
        (rule.destinationPorts, "destinationPorts"), (rule.sourcePorts, "sourcePorts"),
      ] {
        guard let ports else { continue }
        if !hasPorts {
          error(
            .invalidRule,
            "\(rule.transport.rawValue) has no ports: remove \(field), or use tcp or udp",
            at: "\(rulePath).\(field)")
        } else if ports.lowerBound < 1 || ports.upperBound > 65535 {
          error(
            .invalidRule,
            "ports are 1 to 65535, not \(ports.lowerBound)-\(ports.upperBound): write a range inside it",
            at: "\(rulePath).\(field)")
        }
      }
      if rule.icmpType != nil || rule.icmpCode != nil {
        if rule.transport != .icmp {
          error(
            .invalidRule,
            "ICMP type and code need protocol icmp: set protocol to icmp, or remove them",
            at: rulePath)
        } else if rule.icmpCode != nil && rule.icmpType == nil {
          error(.invalidRule, "an ICMP code needs an ICMP type: add icmpType", at: rulePath)
        }
        for value in [rule.icmpType, rule.icmpCode].compactMap({ $0 })
        where !(0...255).contains(value) {
          error(
            .invalidRule,
            "ICMP types and codes are 0 to 255, not \(value): write a number in that range",
            at: rulePath)
        }
      }
    }
  }

  mutating func drgs() {
    unique(tenancy.drgs.map(\.name), what: "DRG", path: "drgs")
    for (index, drg) in tenancy.drgs.enumerated() {
      let attached = drg.attachments.compactMap { self.vcn(named: $0) }
      for overlap in Self.overlappingVCNs(attached) {
        let (vcn, other) = (attached[overlap.later], attached[overlap.earlier])
        error(
          .overlappingBlocks,
          "VCNs '\(other.name)' and '\(vcn.name)', both attached to DRG '\(drg.name)', overlap "
            + "(\(overlap.blocks)): attached VCNs need blocks that do not overlap",
          at: "drgs[\(index)].attachments")
      }
      for (attachment, name) in drg.attachments.enumerated() where self.vcn(named: name) == nil {
        unresolved(
          "VCN", name, among: candidates { tenancy.vcns.map(\.name) },
          at: "drgs[\(index)].attachments[\(attachment)]")
      }
    }
  }

  mutating func resources() {
    unique(tenancy.resources.map(\.name), what: "resource", path: "resources")
    // IPs are unique within a VCN.
    var owners: IPOwners = [:]
    for index in tenancy.resources.indices { resource(at: index, owners: &owners) }
  }

  /// The rules of one resource and its VNICs; `owners` holds the IPs claimed by the resources
  /// before it (those whose IPs may be the same as its own), and gets its own.
  mutating func resource(at index: Int, owners: inout IPOwners) {
    let resource = tenancy.resources[index]
    // Paths and labels are only written out for problems, so they are built only then.
    func path() -> String { "resources[\(index)]" }
    compartment(resource.compartment, at: "\(path()).compartment")
    attributes(
      resource.securityAttributes, on: resource.kind, name: resource.name,
      at: "\(path()).securityAttributes")
    if resource.vnics.isEmpty {
      error(
        .missingElement, "\(resource.kind.rawValue) '\(resource.name)' has no VNIC: give it one",
        at: "\(path()).vnics")
    }
    for (number, vnic) in resource.vnics.enumerated() {
      func vnicPath() -> String { "\(path()).vnics[\(number)]" }
      func label() -> String { "\(resource.name)/\(number)" }
      attributes(
        vnic.securityAttributes, on: .vnic, name: label(), at: "\(vnicPath()).securityAttributes")
      for attribute in vnic.securityAttributes {
        guard
          let inherited = resource.securityAttributes.first(where: {
            SecurityAttributeName.same($0.namespace, attribute.namespace)
              && SecurityAttributeName.same($0.key, attribute.key)
          }), inherited.value != attribute.value
        else { continue }
        error(
          .invalidAttributes,
          "VNIC \(label()) sets \(attribute.qualifiedName) to '\(attribute.value)', but its "
            + "\(resource.kind.rawValue) sets it to '\(inherited.value)': a VNIC carries one value "
            + "of an attribute; remove one", at: "\(vnicPath()).securityAttributes")
      }
      guard let vcn = self.vcn(named: vnic.vcn) else {
        unresolved(
          "VCN", vnic.vcn, among: candidates { tenancy.vcns.map(\.name) },
          at: "\(vnicPath()).subnet")
        continue
      }
      let names = vcnIndex[vcn.name].map { vcnNames[$0] }
      guard let subnet = names?.subnets[vnic.subnet].map({ vcn.subnets[$0] }) else {
        unresolved(
          "subnet", "\(vnic.vcn)/\(vnic.subnet)",
          among: candidates { vcn.subnets.map { "\(vcn.name)/\($0.name)" } },
          at: "\(vnicPath()).subnet")
        continue
      }
      if vnic.ips.isEmpty {
        error(
          .missingElement, "VNIC \(label()) has no IP: give it its private IP",
          at: "\(vnicPath()).ips")
      }
      for (ipIndex, ip) in vnic.ips.enumerated() {
        func ipPath() -> String { "\(vnicPath()).ips[\(ipIndex)]" }
        if !subnet.cidr.contains(ip) {
          error(
            .outsideBlock,
            "\(ip) lies outside subnet '\(subnet.name)' (\(subnet.cidr)): choose an address inside it",
            at: ipPath())
        }
        if let (ownerIndex, ownerVNIC) = owners[vcn.name, default: [:]][ip] {
          let owner = "\(tenancy.resources[ownerIndex].name)/\(ownerVNIC)"
          error(
            .duplicateAddress,
            "\(ip) is already used by \(owner) in VCN '\(vcn.name)': give each VNIC its own IP",
            at: ipPath())
        } else {
          owners[vcn.name, default: [:]][ip] = (index, number)
        }
      }
      for (group, name) in vnic.networkSecurityGroups.enumerated()
      where names?.networkSecurityGroups.contains(name) != true {
        unresolved(
          "network security group", name,
          among: candidates { vcn.networkSecurityGroups.map(\.name) },
          at: "\(vnicPath()).networkSecurityGroups[\(group)]")
      }
    }
  }

  mutating func policies() {
    unique(tenancy.policies.map(\.name), what: "policy", path: "policies")
    let limit = tenancy.catalog.limits.statementsPerPolicy
    for (index, policy) in tenancy.policies.enumerated() where policy.statements.count > limit {
      error(
        .tooManyStatements,
        "policy '\(policy.name)' has \(policy.statements.count) statements; a policy holds at most "
          + "\(limit) (the statementsPerPolicy limit): split it into several policies",
        at: "policies[\(index)].statements")
    }
  }

  /// A test's ends name resources (NAME, or NAME/N for its VNIC N) or addresses.
  mutating func tests() {
    var names: [String: Int] = [:]
    for resource in tenancy.resources { names[resource.name] = resource.vnics.count }
    tests(vnicCount: { names[$0] }, distinctNames: names.count)
  }

  /// The tests, given the number of VNICs of the (last) resource of each name, and how many
  /// distinct resource names there are.
  mutating func tests(vnicCount: (String) -> Int?, distinctNames: Int) {
    for (index, test) in tenancy.tests.enumerated() {
      if let name = test.name { checkName(name, at: "tests[\(index)].name") }
    }
    for (index, test) in tenancy.tests.enumerated() {
      for (key, end) in [("from", test.from), ("to", test.to)] where IPAddress(end) == nil {
        let parts = end.split(separator: "/", maxSplits: 1).map(String.init)
        if let vnics = vnicCount(parts[0]) {
          if parts.count == 2, Int(parts[1]).map({ !(0..<vnics).contains($0) }) ?? true {
            error(
              .unresolvedReference,
              "'\(parts[0])' has \(vnics) VNIC\(vnics == 1 ? "" : "s"); '\(end)' names none of "
                + "them: write \(parts[0])/0 to \(parts[0])/\(max(0, vnics - 1))",
              at: "tests[\(index)].\(key)")
          }
        } else {
          // Too many names to search: found so without gathering them (as `suggestion` would).
          if distinctNames > suggestionsLeft, parts[0].utf8.count <= NameRules.maxLength * 4 {
            suggestionsLeft = 0
          }
          let known = candidates {
            var seen: Set<String> = []
            return tenancy.resources.map(\.name).filter { seen.insert($0).inserted }
          }
          unresolved("resource", parts[0], among: known, at: "tests[\(index)].\(key)")
        }
      }
    }
  }

  // MARK: Helpers

  private mutating func attributes(
    _ attributes: [AppliedAttribute], on kind: ResourceKind, name: @autoclosure () -> String,
    at path: @autoclosure () -> String
  ) {
    guard !attributes.isEmpty else { return }
    do {
      try tenancy.catalog.validate(attributes, on: kind, name: name())
    } catch {
      issues.append(TenancyIssue(.error, .invalidAttributes, error.message, at: path()))
    }
  }

  /// A block of one VCN that overlaps one of the other, described, if any.
  private func overlapping(_ vcn: VCN, _ other: VCN) -> String? {
    Self.overlappingVCNs([other, vcn]).first?.blocks
  }

  /// The VCNs, by position, with a block that overlaps a block of an earlier one: later, then
  /// earlier, each pair once with its first overlapping blocks (in the order the VCNs list
  /// them), described.
  static func overlappingVCNs(_ vcns: [VCN]) -> [(later: Int, earlier: Int, blocks: String)] {
    var blocks: [IPPrefix] = []
    var owners: [(vcn: Int, block: Int)] = []
    for (position, vcn) in vcns.enumerated() {
      for (number, block) in vcn.cidrs.enumerated() {
        blocks.append(block)
        owners.append((position, number))
      }
    }
    // For each pair of VCNs, the first pair of their blocks that overlap.
    var first: [Pair: (Int, Int)] = [:]
    for pair in overlappingPairs(blocks) {
      var (later, earlier) = (owners[pair.later], owners[pair.earlier])
      guard later.vcn != earlier.vcn else { continue }
      if later.vcn < earlier.vcn { swap(&later, &earlier) }
      let key = Pair(later: later.vcn, earlier: earlier.vcn)
      let blocks = (later.block, earlier.block)
      if let known = first[key], known <= blocks { continue }
      first[key] = blocks
    }
    return first.sorted { ($0.key.later, $0.key.earlier) < ($1.key.later, $1.key.earlier) }.map {
      let (later, earlier) = ($0.key.later, $0.key.earlier)
      let text = "\(vcns[later].cidrs[$0.value.0]) and \(vcns[earlier].cidrs[$0.value.1])"
      return (later, earlier, text)
    }
  }

  /// Two positions.
  private struct Pair: Hashable {
    var later: Int
    var earlier: Int
  }

  /// The pairs of blocks that overlap, as (later, earlier) positions, in that order; at most
  /// `limit` of them. Blocks either nest or are apart, so after sorting by address each block
  /// overlaps exactly the chain of earlier blocks that still contain it: the work is
  /// `n log n` plus the pairs found, not `n²`.
  static func overlappingPairs(_ blocks: [IPPrefix], limit: Int = 10_000) -> [(
    later: Int, earlier: Int
  )] {
    let networks = blocks.map(\.network)
    let order = blocks.indices.sorted {
      (networks[$0], blocks[$0].length, $0) < (networks[$1], blocks[$1].length, $1)
    }
    var chain: [Int] = []
    var pairs: [(later: Int, earlier: Int)] = []
    search: for index in order {
      while let last = chain.last, !blocks[last].contains(blocks[index]) { chain.removeLast() }
      for other in chain {
        pairs.append((max(index, other), min(index, other)))
        if pairs.count >= limit { break search }
      }
      chain.append(index)
    }
    return pairs.sorted { ($0.later, $0.earlier) < ($1.later, $1.earlier) }
  }

  private mutating func compartment(_ name: String?, at path: @autoclosure () -> String) {
    guard let name, !compartmentNames.contains(name) else { return }
    unresolved(
      "compartment", name, among: candidates { tenancy.compartments.map(\.name) }, at: path())
  }

  private mutating func blocks(_ blocks: [(IPPrefix, String)], within owner: String) {
    for (block, path) in blocks where block.hasHostBits { hostBits(block, at: path) }
    overlaps(blocks, what: "CIDR block of \(owner)")
  }

  private mutating func overlaps(_ blocks: [(IPPrefix, String)], what: String) {
    for pair in Self.overlappingPairs(blocks.map(\.0)) {
      let ((block, path), other) = (blocks[pair.later], blocks[pair.earlier].0)
      error(
        .overlappingBlocks,
        "\(what) \(block) overlaps \(other): choose blocks that do not overlap", at: path)
    }
  }

  private mutating func hostBits(_ block: IPPrefix, at path: String) {
    error(
      .hostBitsSet,
      "\(block) has bits set after the first \(block.length): did you mean "
        + "\(IPPrefix(address: block.network, length: block.length))?", at: path)
  }

  /// Groups and IAM policies have their own names; a statement's compartment should exist
  /// (a warning: IAM policies may be written before the compartments they are about).
  mutating func iam() {
    unique(tenancy.groups.map(\.name), what: "group", path: "groups")
    for (index, group) in tenancy.groups.enumerated() {
      for (number, member) in group.members.enumerated() {
        if case .failure(let problem) = NameRules.principalName(member) {
          error(.invalidName, problem.message, at: "groups[\(index)].members[\(number)]")
        }
      }
    }
    unique(tenancy.iamPolicies.map(\.name), what: "IAM policy", path: "iamPolicies")
    // Statements name compartments without regard to case.
    let parents = Dictionary(
      tenancy.compartments.map { ($0.name.lowercased(), $0.parent?.lowercased()) },
      uniquingKeysWith: { first, _ in first })
    let names = tenancy.compartments.map(\.name)
    for (index, policy) in tenancy.iamPolicies.enumerated() {
      for (number, statement) in policy.statements.enumerated() {
        guard case .compartment(let path) = statement.location else { continue }
        // `A:B:C`: each compartment inside the one before it.
        let place = "iamPolicies[\(index)].statements[\(number)]"
        for (depth, name) in path.enumerated() {
          guard let parent = parents[name.lowercased()] else {
            let guess =
              suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            issues.append(
              TenancyIssue(
                .warning, .unresolvedReference,
                "the statement names compartment '\(name)'\(guess), which the tenancy does not "
                  + "define: it grants nothing until that compartment exists; fix the name, or "
                  + "add the compartment", at: place))
            break
          }
          let expected = depth > 0 ? path[depth - 1].lowercased() : nil
          if parent != expected {
            issues.append(
              TenancyIssue(
                .warning, .unresolvedReference,
                "compartment '\(name)' is "
                  + (parent.map { "inside '\($0)'" } ?? "at the root")
                  + (expected.map { ", not inside '\($0)'" } ?? "")
                  + ": write its path from the root, '"
                  + tenancy.compartmentPath(
                    of: names.first { $0.lowercased() == name.lowercased() }
                  )
                  .joined(separator: ":") + "'",
                at: place))
            break
          }
        }
      }
    }
  }

  /// Names of one kind follow the naming rules (``NameRules/resourceName(_:)``) and are unique.
  private mutating func unique(_ names: [String], what: String, path: String) {
    var seen: Set<String> = []
    for (index, name) in names.enumerated() {
      checkName(name, at: "\(path)[\(index)].name")
      if !seen.insert(name).inserted { duplicate(name, what: what, at: "\(path)[\(index)].name") }
    }
  }

  /// A name given to an earlier element of the same kind, reported at the later one.
  mutating func duplicate(_ name: String, what: String, at path: String) {
    error(
      .duplicateName, "another \(what) is already named '\(name)': give each its own name",
      at: path)
  }

  mutating func checkName(_ name: String, at path: @autoclosure () -> String) {
    if case .failure(let problem) = NameRules.resourceName(name) {
      error(.invalidName, problem.message, at: path())
    }
  }

  /// The candidates for a did-you-mean, gathered only while the budget for them lasts.
  private func candidates(_ gather: () -> [String]) -> [String] {
    suggestionsLeft > 0 ? gather() : []
  }

  private mutating func unresolved(
    _ what: String, _ name: String, among known: [String], at path: @autoclosure () -> String
  ) {
    let guess = suggestion(for: name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
    error(
      .unresolvedReference,
      "there is no \(what) named '\(name)'\(guess): define it, or fix the name", at: path())
  }

  private mutating func error(
    _ code: TenancyIssue.Code, _ message: @autoclosure () -> String,
    at path: @autoclosure () -> String
  ) {
    issues.append(TenancyIssue(.error, code, message(), at: path()))
  }
}
