import ZPRPolicy

/// Renders a host's ruleset as the text `nft -f -` applies in one transaction: the table
/// `inet zpr` is created if missing, deleted and defined again, so the kernel holds either the
/// old ruleset or the new one, never a mix.
///
/// A packet crosses the same few rules whatever the number of statements or endpoints: replies
/// of allowed flows pass by conntrack; a new flow is one lookup in a verdict map keyed by the
/// peer address, the protocol and the port (or ICMP type and code), which jumps to the
/// granting statement's chain (its counter, then accept); anything else is recorded in the
/// `denied_in4` or `denied_out4` set (`...6` for IPv6: peer, host, protocol, port) and
/// dropped. Each of the host's address families has its own maps and sets. A policy change
/// that keeps the statements changes only map elements.
public enum NFTRenderer {
  /// The table every zpr ruleset lives in.
  public static let table = "inet zpr"
  /// The conntrack mark bits of flows a stateful statement allowed: their replies pass. Set
  /// with `or`, so other users of the mark keep their bits.
  public static let statefulMark = "0x5a5052"
  /// The same mark as a number, as conntrack lists it.
  public static let statefulMarkValue = 0x5a5052

  /// The ruleset as `nft` text.
  public static func render(_ ruleset: HostRuleset) -> String {
    var lines: [String] = []
    let place = ruleset.addresses.map(\.description).joined(separator: ", ")
    lines.append(
      "# zpr: the ruleset of \(ruleset.host)" + (place.isEmpty ? "" : " (\(place))")
        + (ruleset.revision.map { ", revision \($0)" } ?? "") + ": "
        + (ruleset.protected
          ? "ZPR protects it; what no statement allows is dropped"
          : "ZPR does not protect it; it filters nothing itself"))
    lines.append("table \(table)")
    lines.append("delete table \(table)")
    lines.append("table \(table) {")
    for statement in ruleset.statements {
      lines.append("  # \(statement.name): \(comment(statement.label))")
      lines.append("  counter \(statement.name) {")
      lines.append("  }")
    }
    lines.append("  counter denied {")
    lines.append("  }")
    if ruleset.audit != nil {
      lines.append("  counter audit_denied {")
      lines.append("  }")
    }
    let families = families(of: ruleset)
    for family in families {
      // Denied flows, for the agent's flow records (entries expire by themselves).
      var recorded = ["denied_in", "denied_out"]
      if ruleset.audit != nil { recorded += ["audit_denied_in", "audit_denied_out"] }
      for set in recorded {
        lines.append("  set \(set)\(family.suffix) {")
        lines.append("    type \(family.address) . \(family.address) . inet_proto . inet_service")
        lines.append("    size 65535")
        lines.append("    flags dynamic,timeout")
        lines.append("    timeout 10m")
        lines.append("  }")
      }
      for map in maps(of: ruleset, family) {
        lines.append("  map \(map.name) {")
        lines.append("    type \(map.type) : verdict")
        lines.append("    flags interval")
        if !map.elements.isEmpty {
          lines.append("    elements = {")
          for (index, element) in map.elements.enumerated() {
            lines.append("      \(element)" + (index == map.elements.count - 1 ? "" : ","))
          }
          lines.append("    }")
        }
        lines.append("  }")
      }
    }
    for statement in ruleset.statements {
      lines.append("  chain \(statement.name) {")
      lines.append("    counter name \"\(statement.name)\"")
      if statement.stateful { lines.append("    ct mark set ct mark or \(statefulMark)") }
      lines.append("    accept")
      lines.append("  }")
    }
    chain(
      "input", hook: "input", map: "ingress", denied: "denied_in", families, ruleset, into: &lines)
    chain(
      "output", hook: "output", map: "egress", denied: "denied_out", families, ruleset, into: &lines
    )
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// The commands that turn the table of `old` into that of `new` by element updates alone
  /// (deletions first, so no interval overlaps a leaving one), for one `nft -f` transaction;
  /// empty when the maps are equal. Nil when the two differ in more than map elements
  /// (statements, protection, audit, address families): the table is then replaced.
  public static func update(from old: HostRuleset, to new: HostRuleset) -> [String]? {
    let families = families(of: new)
    // A statement edited in place keeps its chain and counter: only its comment changes.
    guard
      old.statements.map({ [$0.name, "\($0.stateful)"] })
        == new.statements.map({ [$0.name, "\($0.stateful)"] }),
      old.protected == new.protected,
      (old.audit == nil) == (new.audit == nil),
      families.map(\.suffix) == Self.families(of: old).map(\.suffix)
    else { return nil }
    var deletions: [String] = []
    var additions: [String] = []
    for family in families {
      for (before, after) in zip(maps(of: old, family), maps(of: new, family)) {
        let kept = Set(before.elements).intersection(after.elements)
        let removed = before.elements.filter { !kept.contains($0) }.map(key)
        let added = after.elements.filter { !kept.contains($0) }
        if !removed.isEmpty {
          deletions.append(
            "delete element \(table) \(after.name) { \(removed.joined(separator: ", ")) }")
        }
        if !added.isEmpty {
          additions.append(
            "add element \(table) \(after.name) { \(added.joined(separator: ", ")) }")
        }
      }
    }
    return deletions + additions
  }

  /// An element's key (`KEY : VERDICT` without the verdict).
  private static func key(_ element: String) -> String {
    element.ranges(of: " : ").first.map { String(element[..<$0.lowerBound]) } ?? element
  }

  /// A verdict map of the table: its name, key type and elements (`KEY : VERDICT`).
  struct VerdictMap {
    var name: String
    var type: String
    var elements: [String]
  }

  /// The address families a ruleset has maps and sets for: those of the host's addresses.
  static func families(of ruleset: HostRuleset) -> [Family] {
    Family.all.filter { family in ruleset.addresses.contains { $0.family == family.family } }
  }

  /// The verdict maps of one address family.
  static func maps(of ruleset: HostRuleset, _ family: Family) -> [VerdictMap] {
    var sources: [(String, [PortElement], [ICMPElement], String?)] = [
      ("ingress", ruleset.ingress, ruleset.ingressICMP, nil),
      ("egress", ruleset.egress, ruleset.egressICMP, nil),
    ]
    if let audit = ruleset.audit {
      // What audit mode allows goes on to be decided; the rest is recorded first.
      sources += [
        ("audit_ingress", audit.ingress, audit.ingressICMP, "goto decide_input"),
        ("audit_egress", audit.egress, audit.egressICMP, "goto decide_output"),
      ]
    }
    return sources.flatMap { name, ports, icmp, verdict in
      [
        VerdictMap(
          name: "\(name)\(family.suffix)",
          type: "\(family.address) . \(family.address) . inet_proto . inet_service",
          elements: ports.filter { $0.local.family == family.family }.map {
            portElement($0, verdict)
          }),
        VerdictMap(
          name: "\(name)_icmp\(family.suffix)",
          type: "\(family.address) . \(family.address) . \(family.icmpKey)",
          elements: icmp.filter { $0.local.family == family.family }.map {
            icmpElement($0, verdict)
          }),
      ]
    }
  }

  typealias PortElement = HostRuleset.PortElement
  typealias ICMPElement = HostRuleset.ICMPElement

  /// How nft names an address family's keys and matches.
  struct Family {
    var family: IPAddress.Family
    /// The sets' and maps' suffix (`4`, `6`).
    var suffix: String
    /// The address type (`ipv4_addr`).
    var address: String
    /// The ICMP part of a key's type.
    var icmpKey: String
    /// The address match (`ip`, `ip6`).
    var match: String
    /// The ICMP part of a match.
    var icmpMatch: String

    static let all = [
      Family(
        family: .v4, suffix: "4", address: "ipv4_addr", icmpKey: "icmp_type . icmp_code",
        match: "ip", icmpMatch: "icmp type . icmp code"),
      Family(
        family: .v6, suffix: "6", address: "ipv6_addr", icmpKey: "icmpv6_type . icmpv6_code",
        match: "ip6", icmpMatch: "icmpv6 type . icmpv6 code"),
    ]
  }

  private static func chain(
    _ name: String, hook: String, map: String, denied: String, _ families: [Family],
    _ ruleset: HostRuleset, into lines: inout [String]
  ) {
    lines.append("  chain \(name) {")
    let policy = ruleset.protected ? "drop" : "accept"
    lines.append("    type filter hook \(hook) priority filter; policy \(policy);")
    guard ruleset.protected || ruleset.audit != nil else {
      lines.append("  }")
      return
    }
    lines.append("    \(hook == "input" ? "iif" : "oif") \"lo\" accept")
    lines.append(
      "    ct state established,related ct mark and \(statefulMark) == \(statefulMark) accept")
    func key(_ family: Family) -> String {
      hook == "input"
        ? "\(family.match) saddr . \(family.match) daddr"
        : "\(family.match) daddr . \(family.match) saddr"
    }
    var decide: [String] = []
    if ruleset.protected {
      // IPv6 neighbour discovery passes: without it no IPv6 address is reachable at all.
      decide.append(
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
          + "nd-router-advert } accept")
      for family in families {
        decide.append("\(key(family)) . meta l4proto . th dport vmap @\(map)\(family.suffix)")
        decide.append("\(key(family)) . \(family.icmpMatch) vmap @\(map)_icmp\(family.suffix)")
      }
      for family in families {
        decide.append(
          "meta l4proto { tcp, udp } update @\(denied)\(family.suffix) "
            + "{ \(key(family)) . meta l4proto . th dport }")
      }
      decide.append("counter name \"denied\" drop")
    } else {
      decide.append("accept")
    }
    guard ruleset.audit != nil else {
      for rule in decide { lines.append("    \(rule)") }
      lines.append("  }")
      return
    }
    // Audit mode: a new flow it allows goes straight to the decision; one it would deny is
    // recorded (and counted) first, then decided as enforce mode decides.
    for family in families {
      lines.append(
        "    ct state new \(key(family)) . meta l4proto . th dport vmap @audit_\(map)\(family.suffix)"
      )
      lines.append(
        "    ct state new \(key(family)) . \(family.icmpMatch) vmap @audit_\(map)_icmp\(family.suffix)"
      )
    }
    for family in families {
      lines.append(
        "    ct state new meta l4proto { tcp, udp } update @audit_\(denied)\(family.suffix) "
          + "{ \(key(family)) . meta l4proto . th dport }")
    }
    lines.append("    ct state new counter name \"audit_denied\"")
    lines.append("    goto decide_\(name)")
    lines.append("  }")
    lines.append("  chain decide_\(name) {")
    for rule in decide { lines.append("    \(rule)") }
    lines.append("  }")
  }

  private static func portElement(_ element: PortElement, _ verdict: String?) -> String {
    "\(range(element.peers)) . \(element.local) . \(element.transport) . "
      + "\(range(element.ports)) : \(verdict ?? "jump \(element.statement)")"
  }

  private static func icmpElement(_ element: ICMPElement, _ verdict: String?) -> String {
    "\(range(element.peers)) . \(element.local) . \(range(element.types)) . "
      + "\(range(element.codes)) : \(verdict ?? "jump \(element.statement)")"
  }

  static func range(_ peers: ClosedRange<IPAddress>) -> String {
    peers.lowerBound == peers.upperBound
      ? "\(peers.lowerBound)" : "\(peers.lowerBound)-\(peers.upperBound)"
  }

  static func range(_ values: ClosedRange<Int>) -> String {
    values.count == 1 ? "\(values.lowerBound)" : "\(values.lowerBound)-\(values.upperBound)"
  }

  /// A statement's text on one comment line.
  private static func comment(_ text: String) -> String {
    String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
  }
}
