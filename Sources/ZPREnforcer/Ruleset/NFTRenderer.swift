import ZPRPolicy

/// Renders a host's ruleset as the text `nft -f -` applies in one transaction: the table
/// `inet zpr` is created if missing, deleted and defined again, so the kernel holds either the
/// old ruleset or the new one, never a mix.
///
/// A packet crosses the same few rules whatever the number of statements or endpoints: replies
/// of allowed flows pass by conntrack; a new flow is one lookup in a verdict map keyed by the
/// peer address, the protocol and the port (or ICMP type and code), which jumps to the
/// granting statement's chain (its counter, then accept); anything else is recorded in the
/// `denied4` set (peer, host, protocol, port) and dropped. A policy change that keeps the
/// statements changes only map elements.
public enum NFTRenderer {
  /// The table every zpr ruleset lives in.
  public static let table = "inet zpr"
  /// The conntrack mark of flows a stateful statement allowed: their replies pass.
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
    // Denied flows, for the agent's flow records (entries expire by themselves).
    for direction in ["in", "out"] {
      lines.append("  set denied_\(direction)4 {")
      lines.append("    type ipv4_addr . ipv4_addr . inet_proto . inet_service")
      lines.append("    size 65535")
      lines.append("    flags dynamic,timeout")
      lines.append("    timeout 10m")
      lines.append("  }")
    }
    map(
      "ingress4", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
      ruleset.ingress.map(portElement), into: &lines)
    map(
      "egress4", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
      ruleset.egress.map(portElement), into: &lines)
    map(
      "ingress_icmp4", "ipv4_addr . ipv4_addr . icmp_type . icmp_code",
      ruleset.ingressICMP.map(icmpElement), into: &lines)
    map(
      "egress_icmp4", "ipv4_addr . ipv4_addr . icmp_type . icmp_code",
      ruleset.egressICMP.map(icmpElement), into: &lines)
    for statement in ruleset.statements {
      lines.append("  chain \(statement.name) {")
      lines.append("    counter name \"\(statement.name)\"")
      if statement.stateful { lines.append("    ct mark set \(statefulMark)") }
      lines.append("    accept")
      lines.append("  }")
    }
    chain(
      "input", hook: "input", map: "ingress", denied: "denied_in4",
      key: "ip saddr . ip daddr", ruleset, into: &lines)
    chain(
      "output", hook: "output", map: "egress", denied: "denied_out4",
      key: "ip daddr . ip saddr", ruleset, into: &lines)
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  private static func chain(
    _ name: String, hook: String, map: String, denied: String, key: String,
    _ ruleset: HostRuleset, into lines: inout [String]
  ) {
    lines.append("  chain \(name) {")
    guard ruleset.protected else {
      lines.append("    type filter hook \(hook) priority filter; policy accept;")
      lines.append("  }")
      return
    }
    lines.append("    type filter hook \(hook) priority filter; policy drop;")
    lines.append("    \(hook == "input" ? "iif" : "oif") \"lo\" accept")
    lines.append("    ct state established,related ct mark \(statefulMark) accept")
    lines.append("    \(key) . meta l4proto . th dport vmap @\(map)4")
    lines.append("    \(key) . icmp type . icmp code vmap @\(map)_icmp4")
    // IPv6 is not rendered yet: only neighbour discovery passes, so nothing gets around ZPR.
    lines.append(
      "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
        + "nd-router-advert } accept")
    lines.append(
      "    meta l4proto { tcp, udp } update @\(denied) { \(key) . meta l4proto . th dport }")
    lines.append("    counter name \"denied\" drop")
    lines.append("  }")
  }

  private static func map(
    _ name: String, _ type: String, _ elements: [String], into lines: inout [String]
  ) {
    lines.append("  map \(name) {")
    lines.append("    type \(type) : verdict")
    lines.append("    flags interval")
    if !elements.isEmpty {
      lines.append("    elements = {")
      for (index, element) in elements.enumerated() {
        lines.append("      \(element)" + (index == elements.count - 1 ? "" : ","))
      }
      lines.append("    }")
    }
    lines.append("  }")
  }

  private static func portElement(_ element: HostRuleset.PortElement) -> String {
    "\(range(element.peers)) . \(IPAddress(v4: element.local)) . \(element.transport) . "
      + "\(range(element.ports)) : "
      + "jump \(element.statement)"
  }

  private static func icmpElement(_ element: HostRuleset.ICMPElement) -> String {
    "\(range(element.peers)) . \(IPAddress(v4: element.local)) . \(range(element.types)) . "
      + "\(range(element.codes)) : "
      + "jump \(element.statement)"
  }

  static func range(_ peers: ClosedRange<UInt32>) -> String {
    let first = IPAddress(v4: peers.lowerBound).description
    return peers.count == 1 ? first : "\(first)-\(IPAddress(v4: peers.upperBound))"
  }

  static func range(_ values: ClosedRange<Int>) -> String {
    values.count == 1 ? "\(values.lowerBound)" : "\(values.lowerBound)-\(values.upperBound)"
  }

  /// A statement's text on one comment line.
  private static func comment(_ text: String) -> String {
    String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
  }
}
