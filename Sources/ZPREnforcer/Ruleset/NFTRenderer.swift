import ZPRPolicy

/// Renders a host's ruleset as a typed nftables table, `inet zpr` (``NFTTable``), which a
/// transaction defines anew (created if missing, deleted and defined again), so the kernel holds
/// either the old ruleset or the new one, never a mix.
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

  /// The ruleset as `nft` text: the transaction that defines its table anew.
  public static func render(_ ruleset: HostRuleset) -> String {
    NFTTransaction.replacing(table(for: ruleset)).text
  }

  /// The ruleset as a typed table.
  public static func table(for ruleset: HostRuleset) -> NFTTable {
    let place = ruleset.addresses.map(\.description).joined(separator: ", ")
    let comment =
      "zpr: the ruleset of \(ruleset.host)" + (place.isEmpty ? "" : " (\(place))")
      + (ruleset.revision.map { ", revision \($0)" } ?? "") + ": "
      + (ruleset.protected
        ? "ZPR protects it; what no statement allows is dropped"
        : "ZPR does not protect it; it filters nothing itself")
    var counted: Set<String> = []
    var objects: [NFTObject] = ruleset.statements.compactMap {
      guard counted.insert($0.counter).inserted else { return nil }
      return .counter(NFTCounter($0.counter, comment: "\($0.counter): \(Self.comment($0.label))"))
    }
    objects.append(.counter(NFTCounter("denied")))
    if ruleset.audit != nil { objects.append(.counter(NFTCounter("audit_denied"))) }
    let families = families(of: ruleset)
    for family in families {
      // Denied flows, for the agent's flow records (entries expire by themselves).
      var recorded = ["denied_in", "denied_out"]
      if ruleset.audit != nil { recorded += ["audit_denied_in", "audit_denied_out"] }
      for set in recorded {
        objects.append(
          .set(
            NFTSet(
              "\(set)\(family.suffix)",
              type: "\(family.address) . \(family.address) . inet_proto . inet_service",
              size: 65535, flags: ["dynamic", "timeout"], timeout: "10m")))
      }
      for map in maps(of: ruleset, family) {
        objects.append(
          .map(NFTMap(map.name, type: map.type, flags: ["interval"], elements: map.elements)))
      }
    }
    for statement in ruleset.statements {
      objects.append(
        .chain(
          NFTChain(
            statement.name,
            rules: ["counter name \"\(statement.counter)\""]
              + (statement.stateful ? ["ct mark set ct mark or \(statefulMark)"] : [])
              + ["accept"])))
    }
    objects += chains(
      "input", hook: "input", map: "ingress", denied: "denied_in", families, ruleset)
    objects += chains(
      "output", hook: "output", map: "egress", denied: "denied_out", families, ruleset)
    let (family, name) = tableName
    return NFTTable(family: family, name: name, comment: comment, objects: objects)
  }

  /// The table's family and name.
  static var tableName: (String, String) {
    let parts = table.split(separator: " ")
    return (String(parts[0]), String(parts[1]))
  }

  /// The element updates that turn the table of `old` into that of `new` (one transaction;
  /// empty when the maps are equal); nil when the two differ in more than map elements
  /// (statements, protection, audit, address families): the table is then replaced.
  public static func update(from old: HostRuleset, to new: HostRuleset) -> NFTTransaction? {
    table(for: old).elementUpdate(to: table(for: new))
  }

  /// A verdict map of the table: its name, key type and elements (`KEY : VERDICT`).
  struct VerdictMap {
    var name: String
    var type: String
    var elements: [NFTElement]
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

  /// A hook's base chain, and in audit mode the chain it goes on to for the decision.
  private static func chains(
    _ name: String, hook: String, map: String, denied: String, _ families: [Family],
    _ ruleset: HostRuleset
  ) -> [NFTObject] {
    let base = NFTHook(hook: hook, policy: ruleset.protected ? "drop" : "accept")
    guard ruleset.protected || ruleset.audit != nil else {
      return [.chain(NFTChain(name, hook: base))]
    }
    var rules = [
      "\(hook == "input" ? "iif" : "oif") \"lo\" accept",
      "ct state established,related ct mark and \(statefulMark) == \(statefulMark) accept",
    ]
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
      return [.chain(NFTChain(name, hook: base, rules: rules + decide))]
    }
    // Audit mode: a new flow it allows goes straight to the decision; one it would deny is
    // recorded (and counted) first, then decided as enforce mode decides.
    for family in families {
      rules.append(
        "ct state new \(key(family)) . meta l4proto . th dport vmap @audit_\(map)\(family.suffix)")
      rules.append(
        "ct state new \(key(family)) . \(family.icmpMatch) vmap @audit_\(map)_icmp\(family.suffix)")
    }
    for family in families {
      rules.append(
        "ct state new meta l4proto { tcp, udp } update @audit_\(denied)\(family.suffix) "
          + "{ \(key(family)) . meta l4proto . th dport }")
    }
    rules.append("ct state new counter name \"audit_denied\"")
    rules.append("goto decide_\(name)")
    return [
      .chain(NFTChain(name, hook: base, rules: rules)),
      .chain(NFTChain("decide_\(name)", rules: decide)),
    ]
  }

  private static func portElement(_ element: PortElement, _ verdict: String?) -> NFTElement {
    NFTElement(
      key: "\(range(element.peers)) . \(element.local) . \(element.transport) . "
        + range(element.ports), value: verdict ?? "jump \(element.statement)")
  }

  private static func icmpElement(_ element: ICMPElement, _ verdict: String?) -> NFTElement {
    NFTElement(
      key: "\(range(element.peers)) . \(element.local) . \(range(element.types)) . "
        + range(element.codes), value: verdict ?? "jump \(element.statement)")
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
