public import ZPREngine
import ZPRModel
import ZPRPolicy

/// The security lists of a VNIC's subnet and its NSGs as nftables text: the table
/// `inet zpr_vcn`, beside zpr's own (a packet must pass both). A packet passes when any rule of
/// any of them allows it (ZPL.md section 3); replies of allowed connections pass.
public enum SecurityRuleset {
  /// The table.
  public static let table = "inet zpr_vcn"
  /// The conntrack mark bit of connections a stateful rule allowed (zpr's own bits differ).
  static let mark = "0x1"

  static func verdict(_ rule: SecurityRule) -> String {
    rule.stateless ? "accept" : "ct mark set ct mark or \(mark) accept"
  }

  /// The text for `nft -f -` (replaces the table in one transaction).
  public static func render(endpoint index: Int, in topology: Topology) -> String {
    let endpoint = topology.endpoints[index]
    var ingress: [String] = []
    var egress: [String] = []
    if let vcnIndex = endpoint.vcn {
      let vcn = topology.tenancy.vcns[vcnIndex]
      var lists: [(String, [SecurityRule], [SecurityRule])] = []
      if let subnet = endpoint.subnet {
        for name in vcn.subnets[subnet].securityLists {
          if let list = vcn.securityLists.first(where: { $0.name == name }) {
            lists.append(("security list \(name)", list.ingress, list.egress))
          }
        }
      }
      let groups = NetworkSemantics(topology).groups(of: endpoint)
      for name in groups {
        if let group = vcn.networkSecurityGroups.first(where: { $0.name == name }) {
          lists.append(("NSG \(name)", group.ingress, group.egress))
        }
      }
      func members(_ group: String) -> [String] {
        topology.endpoints.filter {
          $0.vcn == vcnIndex && NetworkSemantics(topology).groups(of: $0).contains(group)
        }.flatMap { $0.ips.filter { $0.family == .v4 }.map(\.description) }
      }
      for (name, rules, outRules) in lists {
        for rule in rules {
          ingress += self.rule(rule, direction: "saddr", members: members).map {
            "\($0) \(verdict(rule)) comment \"\(name)\""
          }
        }
        for rule in outRules {
          egress += self.rule(rule, direction: "daddr", members: members).map {
            "\($0) \(verdict(rule)) comment \"\(name)\""
          }
        }
      }
    }
    var lines = [
      "# zpr lab: the security lists and NSGs of \(endpoint.name)",
      "table \(table)", "delete table \(table)", "table \(table) {",
    ]
    for (chain, hook, rules) in [("input", "input", ingress), ("output", "output", egress)] {
      lines.append("  chain \(chain) {")
      lines.append("    type filter hook \(hook) priority filter - 10; policy drop;")
      lines.append("    \(hook == "input" ? "iif" : "oif") \"lo\" accept")
      // Replies of what a stateful rule allowed; a stateless rule's need a rule of their own.
      lines.append("    ct state established,related ct mark and \(mark) == \(mark) accept")
      // IPv4 only, as the lab: neighbour discovery passes.
      lines.append(
        "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
          + "nd-router-advert } accept")
      for rule in rules { lines.append("    \(rule)") }
      lines.append("  }")
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// One security rule as nft matches (none when it can match nothing here: an empty NSG).
  static func rule(_ rule: SecurityRule, direction: String, members: (String) -> [String])
    -> [String]
  {
    var peer: String
    switch rule.peer {
    case .cidr(let block):
      guard block.address.family == .v4 else { return [] }
      peer = block.length == 0 ? "" : "ip \(direction) \(block.network)/\(block.length) "
    case .networkSecurityGroup(let group):
      let addresses = members(group)
      guard !addresses.isEmpty else { return [] }
      peer = "ip \(direction) { \(addresses.joined(separator: ", ")) } "
    }
    if peer.isEmpty { peer = "meta nfproto ipv4 " }
    switch rule.transport {
    case .all: return [peer.trimmingSuffix()]
    case .icmp:
      var match = peer + "meta l4proto icmp"
      if let type = rule.icmpType { match += " icmp type \(type)" }
      if let code = rule.icmpCode { match += " icmp code \(code)" }
      return [match]
    case .tcp, .udp:
      var match = peer + "meta l4proto \(rule.transport.rawValue)"
      if let ports = rule.destinationPorts {
        match += " th dport \(ports.lowerBound)-\(ports.upperBound)"
      }
      if let ports = rule.sourcePorts {
        match += " th sport \(ports.lowerBound)-\(ports.upperBound)"
      }
      return [match]
    }
  }
}

extension String {
  fileprivate func trimmingSuffix() -> String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
