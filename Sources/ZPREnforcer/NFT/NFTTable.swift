/// A table of nftables objects, typed: what zpr's renderers build and hand to a backend in an
/// ``NFTTransaction``, instead of text. Its objects keep the order they are defined in.
public struct NFTTable: Hashable, Sendable {
  /// The address family (`inet`).
  public var family: String
  /// The table's name (`zpr`).
  public var name: String
  /// A comment line written before the table's definition (nft does not keep it).
  public var comment: String?
  /// Counters, sets, maps and chains, in the order they are defined.
  public var objects: [NFTObject]

  /// A table.
  public init(family: String, name: String, comment: String? = nil, objects: [NFTObject] = []) {
    self.family = family
    self.name = name
    self.comment = comment
    self.objects = objects
  }

  /// The family and name, as commands name the table (`inet zpr`).
  public var qualifiedName: String { "\(family) \(name)" }

  /// The table's verdict maps, in order.
  public var maps: [NFTMap] {
    objects.compactMap { if case .map(let map) = $0 { map } else { nil } }
  }

  /// The table's chains, in order.
  public var chains: [NFTChain] {
    objects.compactMap { if case .chain(let chain) = $0 { chain } else { nil } }
  }

  /// The map of that name, if the table has one.
  public func map(named name: String) -> NFTMap? {
    maps.first { $0.name == name }
  }

  /// The chain of that name, if the table has one.
  public func chain(named name: String) -> NFTChain? {
    chains.first { $0.name == name }
  }

  /// Changes the map of that name; false when there is none.
  @discardableResult
  public mutating func updateMap(named name: String, _ change: (inout NFTMap) -> Void) -> Bool {
    guard let index = objects.firstIndex(where: { $0.isMap(named: name) }),
      case .map(var map) = objects[index]
    else { return false }
    change(&map)
    objects[index] = .map(map)
    return true
  }

  /// Changes the chain of that name; false when there is none.
  @discardableResult
  public mutating func updateChain(named name: String, _ change: (inout NFTChain) -> Void)
    -> Bool
  {
    guard let index = objects.firstIndex(where: { $0.isChain(named: name) }),
      case .chain(var chain) = objects[index]
    else { return false }
    change(&chain)
    objects[index] = .chain(chain)
    return true
  }

  /// The same table without comments or map elements: two tables that differ only in those
  /// can be turned into each other by element updates.
  var structure: NFTTable {
    var copy = withoutComments
    copy.objects = copy.objects.map { object in
      guard case .map(var map) = object else { return object }
      map.elements = []
      return .map(map)
    }
    return copy
  }

  /// The same table without its comments, as the kernel keeps it.
  public var withoutComments: NFTTable {
    var copy = self
    copy.comment = nil
    copy.objects = objects.map { object in
      guard case .counter(var counter) = object else { return object }
      counter.comment = nil
      return .counter(counter)
    }
    return copy
  }

  /// The definition, `table FAMILY NAME { ... }`, one line each; with the comment lines when
  /// asked (nft keeps none of them).
  func definition(comments: Bool) -> [String] {
    var lines = ["table \(qualifiedName) {"]
    for object in objects { object.write(into: &lines, comments: comments) }
    lines.append("}")
    return lines
  }

  /// The table as a listing shows it: the definition, without comments.
  public var listing: String { definition(comments: false).joined(separator: "\n") }
}

/// One object of a table.
public enum NFTObject: Hashable, Sendable {
  /// A named counter.
  case counter(NFTCounter)
  /// A set that rules add to (`update @set { ... }`).
  case set(NFTSet)
  /// A verdict map.
  case map(NFTMap)
  /// A chain of rules.
  case chain(NFTChain)

  /// The object's name.
  public var name: String {
    switch self {
    case .counter(let counter): counter.name
    case .set(let set): set.name
    case .map(let map): map.name
    case .chain(let chain): chain.name
    }
  }

  func isMap(named name: String) -> Bool {
    if case .map(let map) = self { map.name == name } else { false }
  }

  func isChain(named name: String) -> Bool {
    if case .chain(let chain) = self { chain.name == name } else { false }
  }

  func write(into lines: inout [String], comments: Bool) {
    switch self {
    case .counter(let counter):
      if comments, let comment = counter.comment { lines.append("  # \(comment)") }
      lines.append("  counter \(counter.name) {")
      lines.append("  }")
    case .set(let set):
      lines.append("  set \(set.name) {")
      lines.append("    type \(set.type)")
      if let size = set.size { lines.append("    size \(size)") }
      if !set.flags.isEmpty { lines.append("    flags \(set.flags.joined(separator: ","))") }
      if let timeout = set.timeout { lines.append("    timeout \(timeout)") }
      lines.append("  }")
    case .map(let map):
      lines.append("  map \(map.name) {")
      lines.append("    type \(map.type) : \(map.value)")
      if !map.flags.isEmpty { lines.append("    flags \(map.flags.joined(separator: ","))") }
      if !map.elements.isEmpty {
        lines.append("    elements = {")
        for (index, element) in map.elements.enumerated() {
          lines.append("      \(element)" + (index == map.elements.count - 1 ? "" : ","))
        }
        lines.append("    }")
      }
      lines.append("  }")
    case .chain(let chain):
      lines.append("  chain \(chain.name) {")
      if let hook = chain.hook { lines.append("    \(hook)") }
      for rule in chain.rules { lines.append("    \(rule)") }
      lines.append("  }")
    }
  }
}

/// A named counter (`counter NAME`), which rules count into with `counter name "NAME"`.
public struct NFTCounter: Hashable, Sendable {
  public var name: String
  /// A comment line written before it (what it counts).
  public var comment: String?

  /// A counter.
  public init(_ name: String, comment: String? = nil) {
    self.name = name
    self.comment = comment
  }
}

/// A named set, such as the flows the ruleset denied (`type A . B`, `flags dynamic,timeout`).
public struct NFTSet: Hashable, Sendable {
  public var name: String
  /// The key type (`ipv4_addr . ipv4_addr . inet_proto . inet_service`).
  public var type: String
  public var size: Int?
  public var flags: [String]
  /// How long an element lives (`10m`).
  public var timeout: String?

  /// A set.
  public init(
    _ name: String, type: String, size: Int? = nil, flags: [String] = [], timeout: String? = nil
  ) {
    self.name = name
    self.type = type
    self.size = size
    self.flags = flags
    self.timeout = timeout
  }
}

/// A named map from keys to values (zpr's are verdict maps: a key's element says which chain
/// to jump to).
public struct NFTMap: Hashable, Sendable {
  public var name: String
  /// The key type (`ipv4_addr . ipv4_addr . inet_proto . inet_service`).
  public var type: String
  /// The value type (`verdict`).
  public var value: String
  public var flags: [String]
  public var elements: [NFTElement]

  /// A map.
  public init(
    _ name: String, type: String, value: String = "verdict", flags: [String] = [],
    elements: [NFTElement] = []
  ) {
    self.name = name
    self.type = type
    self.value = value
    self.flags = flags
    self.elements = elements
  }
}

/// One element of a map: its key (`10.0.1.10 . 10.0.2.10 . tcp . 8080`, ranges as `A-B`) and
/// its value (`jump s0_0`).
public struct NFTElement: Hashable, Sendable, CustomStringConvertible {
  public var key: String
  public var value: String

  /// An element.
  public init(key: String, value: String) {
    self.key = key
    self.value = value
  }

  /// `KEY : VALUE`, as nft writes it.
  public var description: String { "\(key) : \(value)" }
}

/// A chain: a base chain has a hook (`type filter hook input priority filter; policy drop;`),
/// a regular one is only jumped to. Rules are nft's own text, one per line.
public struct NFTChain: Hashable, Sendable {
  public var name: String
  public var hook: NFTHook?
  public var rules: [String]

  /// A chain.
  public init(_ name: String, hook: NFTHook? = nil, rules: [String] = []) {
    self.name = name
    self.hook = hook
    self.rules = rules
  }
}

/// Where a base chain hooks in, and what it does with a packet no rule decided.
public struct NFTHook: Hashable, Sendable, CustomStringConvertible {
  /// `filter`.
  public var type: String
  /// `input`, `output`, `forward`.
  public var hook: String
  /// `filter`, `filter - 10`.
  public var priority: String
  /// `accept` or `drop`.
  public var policy: String

  /// A hook.
  public init(type: String = "filter", hook: String, priority: String = "filter", policy: String) {
    self.type = type
    self.hook = hook
    self.priority = priority
    self.policy = policy
  }

  /// The chain's first line, as nft writes it.
  public var description: String {
    "type \(type) hook \(hook) priority \(priority); policy \(policy);"
  }
}
