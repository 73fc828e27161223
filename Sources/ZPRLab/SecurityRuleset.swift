public import ZPREnforcer
public import ZPREngine
import ZPRModel
import ZPRPolicy

/// The security lists of a VNIC's subnet and its NSGs as nftables text: the table
/// `inet zpr_vcn`, beside zpr's own (a packet must pass both). A packet passes when any rule of
/// any of them allows it (ZPL.md section 3); replies of allowed connections pass.
public enum SecurityRuleset {
  /// The conntrack mark bit of connections a stateful rule allowed (zpr's own bits differ).
  static let mark = "0x1"

  /// The chain a stateful rule goes to: it marks the connection, then accepts. In a chain of
  /// its own, so that a packet conntrack does not track (an ICMP error without a connection),
  /// whose mark cannot be set, is still accepted by the next rule.
  static let statefulChain = "stateful_accept"

  static func verdict(_ rule: SecurityRule) -> String {
    rule.stateless ? "accept" : "goto \(statefulChain)"
  }

  /// The typed table (a transaction replaces it whole).
  public static func table(endpoint index: Int, in topology: Topology) -> NFTTable {
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
      func members(_ group: String) -> [IPAddress] {
        topology.endpoints.filter {
          $0.vcn == vcnIndex && NetworkSemantics(topology).groups(of: $0).contains(group)
        }.flatMap(\.ips)
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
    let chains = [("input", ingress), ("output", egress)].map { hook, rules in
      NFTChain(
        hook, hook: NFTHook(hook: hook, priority: "filter - 10", policy: "drop"),
        rules: [
          "\(hook == "input" ? "iif" : "oif") \"lo\" accept",
          // Replies of what a stateful rule allowed; a stateless rule's need a rule of their own.
          "ct state established,related ct mark and \(mark) == \(mark) accept",
          // Neighbour discovery passes, or no IPv6 address answers at all.
          "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
            + "nd-router-advert } accept",
        ] + rules)
    }
    let marking = NFTChain(statefulChain, rules: ["ct mark set ct mark or \(mark)", "accept"])
    return NFTTable(
      family: "inet", name: "zpr_vcn",
      comment: "zpr lab: the security lists and NSGs of \(endpoint.name)",
      objects: ([marking] + chains).map { .chain($0) })
  }

  /// One security rule as nft matches, one per address family its peer has (none when it can
  /// match nothing here: an empty NSG). A rule of protocol ICMP takes ICMP over IPv4 and ICMPv6
  /// over IPv6, as the analyzer does; its type and code are matched as given.
  static func rule(
    _ rule: SecurityRule, direction: String, members: (String) -> [IPAddress]
  ) -> [String] {
    var peers: [(IPAddress.Family, String)] = []
    switch rule.peer {
    case .cidr(let block):
      let family = block.address.family
      peers.append(
        (
          family,
          block.length == 0
            ? "meta nfproto \(family == .v4 ? "ipv4" : "ipv6")"
            : "\(match(family)) \(direction) \(block.network)/\(block.length)"
        ))
    case .networkSecurityGroup(let group):
      let addresses = members(group)
      for family in [IPAddress.Family.v4, .v6] {
        let mine = addresses.filter { $0.family == family }.map(\.description)
        guard !mine.isEmpty else { continue }
        peers.append(
          (family, "\(match(family)) \(direction) { \(mine.joined(separator: ", ")) }"))
      }
    }
    return peers.map { family, peer in
      switch rule.transport {
      case .all: return peer
      case .icmp:
        let icmp = family == .v4 ? "icmp" : "icmpv6"
        var match = peer + " meta l4proto \(family == .v4 ? "icmp" : "ipv6-icmp")"
        if let type = rule.icmpType { match += " \(icmp) type \(type)" }
        if let code = rule.icmpCode { match += " \(icmp) code \(code)" }
        return match
      case .tcp, .udp:
        var match = peer + " meta l4proto \(rule.transport.rawValue)"
        if let ports = rule.destinationPorts {
          match += " th dport \(ports.lowerBound)-\(ports.upperBound)"
        }
        if let ports = rule.sourcePorts {
          match += " th sport \(ports.lowerBound)-\(ports.upperBound)"
        }
        return match
      }
    }
  }

  private static func match(_ family: IPAddress.Family) -> String {
    family == .v4 ? "ip" : "ip6"
  }
}
