public import ZPRPolicy

/// Generates random valid ZPL statements, and random (valid, non-canonical) ways of writing
/// them, from a seed.
public struct StatementGenerator: Sendable {
  /// The random source; exposed so callers can draw from the same sequence.
  public var random: SplitMix64

  private static let zero = SourceRange(0, 0)
  private static let commonNames = [
    "app", "tier", "networks", "oracle-zpr", "sensitivity", "SA_WEB_FRONTEND", "db", "env",
    "compute", "applications", "team-a", "pci_scope",
  ]
  private static let reserved: Set<String> = [
    "in", "vcn", "allow", "to", "connect", "endpoints", "with", "all-endpoints", "deny",
    "osn-services-ip-addresses", "osn-services-ip-endpoints",
  ]

  /// When set, attributes and addresses are drawn from these.
  private var attributePool: [AttributeRef] = []
  private var prefixPool: [IPPrefix] = []

  /// A generator for a seed.
  public init(seed: UInt64) {
    random = SplitMix64(seed: seed)
  }

  // MARK: Statements

  /// A random statement that parses and checks without errors.
  public mutating func statement() -> Statement {
    if random.chance(0.2) {
      return Statement(
        scope: .crossVCN(source: attribute(), destination: attribute()),
        source: Endpoint(.attribute(attribute()), range: Self.zero),
        destination: Endpoint(.attribute(attribute()), range: Self.zero),
        filters: filters(), range: Self.zero)
    }
    var source = endpoint()
    var destination = endpoint()
    while (source.kind == .allEndpoints && destination.kind == .allEndpoints)
      || (source.isExternal && destination.isExternal)
    {
      source = endpoint()
      destination = endpoint()
    }
    return Statement(
      scope: .vcn(attribute()), source: source, destination: destination, filters: filters(),
      range: Self.zero)
  }

  /// A random endpoint of any kind (attributes most often).
  public mutating func endpoint() -> Endpoint {
    switch Int.random(in: 0..<10, using: &random) {
    case 0..<6: Endpoint(.attribute(attribute()), range: Self.zero)
    case 6, 7: Endpoint(.address(prefix()), range: Self.zero)
    case 8: Endpoint(.allEndpoints, range: Self.zero)
    default: Endpoint(.serviceNetwork, range: Self.zero)
    }
  }

  /// A random attribute reference, sometimes with a value that needs quotes.
  public mutating func attribute() -> AttributeRef {
    if !attributePool.isEmpty { return attributePool.randomElement(using: &random)! }
    let namespace = random.chance(0.5) ? name() : nil
    let key = name()
    var value: String?
    switch Int.random(in: 0..<10, using: &random) {
    case 0..<6: value = name()
    case 6, 7: value = quotedValue()
    default: value = nil
    }
    return AttributeRef(namespace: namespace, key: key, value: value, range: Self.zero)
  }

  /// A valid name: a letter, then letters, digits, `-` and `_`; never a keyword.
  public mutating func name() -> String {
    if random.chance(0.6) { return Self.commonNames.randomElement(using: &random)! }
    let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    let rest = letters + Array("0123456789-_")
    while true {
      var name = String(letters.randomElement(using: &random)!)
      for _ in 0..<Int.random(in: 0...10, using: &random) {
        name.append(rest.randomElement(using: &random)!)
      }
      if !Self.reserved.contains(name.lowercased()) { return name }
    }
  }

  private mutating func quotedValue() -> String {
    let pieces = [
      "dev and test db", "v1.2", "it's", "a:b", "x::y", "x/y", "über", "p@ss", "'", "10.0.0.1",
    ]
    return pieces.randomElement(using: &random)! + (random.chance(0.5) ? " " + name() : "")
  }

  /// A random address block (host bits cleared) or single host, IPv4 or IPv6.
  public mutating func prefix() -> IPPrefix {
    if !prefixPool.isEmpty { return prefixPool.randomElement(using: &random)! }
    if random.chance(0.75) {
      let address = IPAddress(v4: UInt32.random(in: 0...UInt32.max, using: &random))
      let length = random.chance(0.4) ? 32 : Int.random(in: 0...32, using: &random)
      return IPPrefix(address: IPPrefix(address: address, length: length).network, length: length)
    }
    var high = UInt64.random(in: 0...UInt64.max, using: &random)
    var low = UInt64.random(in: 0...UInt64.max, using: &random)
    if random.chance(0.5) { low &= 0xFFFF }  // runs of zeros, so that '::' appears
    if random.chance(0.3) { high &= 0xFFFF_0000_0000_0000 }
    let address = IPAddress(v6High: high, low: low)
    let length = random.chance(0.4) ? 128 : Int.random(in: 0...128, using: &random)
    return IPPrefix(address: IPPrefix(address: address, length: length).network, length: length)
  }

  /// Random filters that check cleanly: sorted, disjoint ports; ICMP code only with a type.
  public mutating func filters() -> Filters {
    var filters = Filters()
    if random.chance(0.7) {
      let transport = TransportProtocol.allCases.randomElement(using: &random)!
      var ports: [PortRange] = []
      if transport.hasPorts && random.chance(0.8) {
        var next = 1
        for _ in 0..<Int.random(in: 1...4, using: &random) {
          guard next < 65000 else { break }
          let lower = Int.random(in: next...min(65535, next + 20000), using: &random)
          let upper =
            random.chance(0.6) ? lower : min(65535, lower + Int.random(in: 1...500, using: &random))
          ports.append(PortRange(lower, upper, range: Self.zero))
          next = upper + 2
        }
      }
      filters.transport = ProtocolFilter(transport: transport, ports: ports, range: Self.zero)
      if transport.isICMP && random.chance(0.5) {
        filters.icmpType = NumberFilter(Int.random(in: 0...255, using: &random), range: Self.zero)
        if random.chance(0.5) {
          filters.icmpCode = NumberFilter(Int.random(in: 0...255, using: &random), range: Self.zero)
        }
      }
    }
    if random.chance(0.3) {
      let state: ConnectionState = random.chance(0.7) ? .stateless : .stateful
      filters.connectionState = ConnectionStateFilter(state, range: Self.zero)
    }
    return filters
  }

  // MARK: Spellings

  /// A valid but non-canonical way to write `statement`: keyword case, quoting, `endpoints`
  /// left out, spacing, filter order and separators, port order all vary.
  public mutating func spelling(of statement: Statement) -> String {
    var words: [String] = []
    switch statement.scope {
    case .vcn(let vcn):
      words = [
        keyword("in"), spell(vcn), keyword("VCN"), keyword("allow"), spell(statement.source),
      ]
      words += [keyword("to"), keyword("connect"), keyword("to"), spell(statement.destination)]
      words += spell(statement.filters)
    case .crossVCN(let sourceVCN, let destinationVCN):
      words = [keyword("allow"), spell(statement.source), keyword("in"), spell(sourceVCN)]
      words += [keyword("VCN"), keyword("to"), keyword("connect"), keyword("to")]
      words += [spell(statement.destination)]
      let filters = spell(statement.filters)
      let atEnd = random.chance(0.5)
      if !atEnd { words += filters }
      words += [keyword("in"), spell(destinationVCN), keyword("VCN")]
      if atEnd { words += filters }
    }
    let separator = random.chance(0.8) ? " " : (random.chance(0.5) ? "  " : "\t")
    return (random.chance(0.1) ? " " : "") + words.joined(separator: separator)
  }

  private mutating func keyword(_ word: String) -> String {
    switch Int.random(in: 0..<4, using: &random) {
    case 0: word.uppercased()
    case 1: word.prefix(1).uppercased() + word.dropFirst().lowercased()
    default: word
    }
  }

  private mutating func spell(_ attribute: AttributeRef) -> String {
    let canonical = PolicyFormatter.format(attribute)
    if canonical.hasPrefix("'") || !random.chance(0.2) { return canonical }
    return "'" + canonical + "'"  // quoting where it is not needed is allowed
  }

  private mutating func spell(_ endpoint: Endpoint) -> String {
    switch endpoint.kind {
    case .attribute(let attribute):
      return spell(attribute) + (random.chance(0.7) ? " " + keyword("endpoints") : "")
    case .address(let prefix):
      var text = prefix.description
      if prefix.isHost && random.chance(0.3) { text += "/\(prefix.length)" }
      return random.chance(0.5) ? "'\(text)'" : text
    case .allEndpoints:
      return keyword("all-endpoints")
    case .serviceNetwork:
      let name = random.chance(0.5) ? "osn-services-ip-addresses" : "osn-services-ip-endpoints"
      return random.chance(0.5) ? "'\(name)'" : keyword(name)
    }
  }

  private mutating func spell(_ filters: Filters) -> [String] {
    var parts: [String] = []
    let equals = random.chance(0.8) ? "=" : " = "
    if let transport = filters.transport {
      var ports = transport.ports.map(\.description)
      ports.shuffle(using: &random)
      let name =
        random.chance(0.3)
        ? transport.transport.rawValue.uppercased() : transport.transport.rawValue
      let list = ports.joined(separator: random.chance(0.8) ? "," : ", ")
      parts.append("\(keyword("protocol"))\(equals)'\(name)\(ports.isEmpty ? "" : "/" + list)'")
    }
    if let type = filters.icmpType { parts.append("protocol.icmp.type\(equals)'\(type.value)'") }
    if let code = filters.icmpCode { parts.append("protocol.icmp.code\(equals)'\(code.value)'") }
    if let state = filters.connectionState {
      parts.append("connection-state\(equals)'\(keyword(state.state.rawValue))'")
    }
    guard !parts.isEmpty else { return [] }
    parts.shuffle(using: &random)
    var words = [keyword("with"), parts[0]]
    for part in parts.dropFirst() {
      if random.chance(0.5) {
        words[words.count - 1] += ","
        words.append(part)
      } else {
        words += [keyword("with"), part]
      }
    }
    return words
  }

  // MARK: Files

  /// A policy text of `count` canonical statements, one per line, with a comment now and then.
  /// With a `vocabulary`, statements draw their attributes and addresses from that many of
  /// each, as a real tenancy does; without one, nearly every attribute is new.
  public mutating func policyText(statements count: Int, vocabulary: Int? = nil) -> String {
    if let vocabulary {
      attributePool = (0..<vocabulary).map { _ in attribute() }
      prefixPool = (0..<vocabulary).map { _ in prefix() }
    }
    defer {
      attributePool = []
      prefixPool = []
    }
    var text = "# generated policy\n"
    text.reserveCapacity(count * 110)
    for index in 0..<count {
      if index % 50 == 49 { text += "\n# section \(index / 50)\n" }
      text += PolicyFormatter.format(statement()) + "\n"
    }
    return text
  }
}
