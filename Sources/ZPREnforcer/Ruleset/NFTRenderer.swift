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
    var recorded = ["denied_in4", "denied_out4"]
    if ruleset.audit != nil {
      lines.append("  counter audit_denied {")
      lines.append("  }")
      recorded += ["audit_denied_in4", "audit_denied_out4"]
    }
    // Denied flows, for the agent's flow records (entries expire by themselves).
    for set in recorded {
      lines.append("  set \(set) {")
      lines.append("    type ipv4_addr . ipv4_addr . inet_proto . inet_service")
      lines.append("    size 65535")
      lines.append("    flags dynamic,timeout")
      lines.append("    timeout 10m")
      lines.append("  }")
    }
    map(
      "ingress4", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
      ruleset.ingress.map { portElement($0) }, into: &lines)
    map(
      "egress4", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
      ruleset.egress.map { portElement($0) }, into: &lines)
    map(
      "ingress_icmp4", "ipv4_addr . ipv4_addr . icmp_type . icmp_code",
      ruleset.ingressICMP.map { icmpElement($0) }, into: &lines)
    map(
      "egress_icmp4", "ipv4_addr . ipv4_addr . icmp_type . icmp_code",
      ruleset.egressICMP.map { icmpElement($0) }, into: &lines)
    if let audit = ruleset.audit {
      // What audit mode allows goes on to be decided; the rest is recorded first.
      map(
        "audit_ingress4", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
        audit.ingress.map { portElement($0, verdict: "goto decide_input") }, into: &lines)
      map(
        "audit_egress4", "ipv4_addr . ipv4_addr . inet_proto . inet_service",
        audit.egress.map { portElement($0, verdict: "goto decide_output") }, into: &lines)
      map(
        "audit_ingress_icmp4", "ipv4_addr . ipv4_addr . icmp_type . icmp_code",
        audit.ingressICMP.map { icmpElement($0, verdict: "goto decide_input") }, into: &lines)
      map(
        "audit_egress_icmp4", "ipv4_addr . ipv4_addr . icmp_type . icmp_code",
        audit.egressICMP.map { icmpElement($0, verdict: "goto decide_output") }, into: &lines)
    }
    for statement in ruleset.statements {
      lines.append("  chain \(statement.name) {")
      lines.append("    counter name \"\(statement.name)\"")
      if statement.stateful { lines.append("    ct mark set ct mark or \(statefulMark)") }
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
    let policy = ruleset.protected ? "drop" : "accept"
    lines.append("    type filter hook \(hook) priority filter; policy \(policy);")
    guard ruleset.protected || ruleset.audit != nil else {
      lines.append("  }")
      return
    }
    lines.append("    \(hook == "input" ? "iif" : "oif") \"lo\" accept")
    lines.append(
      "    ct state established,related ct mark and \(statefulMark) == \(statefulMark) accept")
    var decide: [String] = []
    if ruleset.protected {
      decide.append("\(key) . meta l4proto . th dport vmap @\(map)4")
      decide.append("\(key) . icmp type . icmp code vmap @\(map)_icmp4")
      // IPv6 is not rendered yet: only neighbour discovery passes, so nothing gets around ZPR.
      decide.append(
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
          + "nd-router-advert } accept")
      decide.append(
        "meta l4proto { tcp, udp } update @\(denied) { \(key) . meta l4proto . th dport }")
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
    lines.append("    ct state new \(key) . meta l4proto . th dport vmap @audit_\(map)4")
    lines.append("    ct state new \(key) . icmp type . icmp code vmap @audit_\(map)_icmp4")
    lines.append(
      "    ct state new meta l4proto { tcp, udp } update @audit_\(denied) "
        + "{ \(key) . meta l4proto . th dport }")
    lines.append("    ct state new counter name \"audit_denied\"")
    lines.append("    goto decide_\(name)")
    lines.append("  }")
    lines.append("  chain decide_\(name) {")
    for rule in decide { lines.append("    \(rule)") }
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

  private static func portElement(_ element: HostRuleset.PortElement, verdict: String? = nil)
    -> String
  {
    "\(range(element.peers)) . \(IPAddress(v4: element.local)) . \(element.transport) . "
      + "\(range(element.ports)) : \(verdict ?? "jump \(element.statement)")"
  }

  private static func icmpElement(_ element: HostRuleset.ICMPElement, verdict: String? = nil)
    -> String
  {
    "\(range(element.peers)) . \(IPAddress(v4: element.local)) . \(range(element.types)) . "
      + "\(range(element.codes)) : \(verdict ?? "jump \(element.statement)")"
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
