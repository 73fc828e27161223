/// The rules that look at a whole policy rather than one statement: the statement limit,
/// duplicate statements, and statements that another one already covers.
///
/// Coverage is found through an index of statements by (scope, source, destination), probing
/// only the broader keys of each statement, so checking stays linear in the number of
/// statements.
public struct PolicyChecker: Sendable {
  /// The options in force.
  public var options: PolicyOptions

  /// A checker with the given options.
  public init(options: PolicyOptions = PolicyOptions()) {
    self.options = options
  }

  /// Parses and checks a file: the one call most users need.
  public func check(_ source: SourceFile) -> PolicyFile {
    var file = PolicyParser(options: options).parse(source)
    file.diagnostics += check(file)
    file.diagnostics.sort { $0.range.lowerBound < $1.range.lowerBound }
    return file
  }

  /// The file-level diagnostics of a parsed file (statement-level ones come from the parser).
  public func check(_ file: PolicyFile) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    let statements = file.statements
    let limit = options.limits.statementsPerPolicy
    if statements.count > limit {
      diagnostics.append(
        Diagnostic(
          .error, .tooManyStatements,
          "this policy has \(statements.count) statements; a policy holds at most \(limit) (the "
            + "statementsPerPolicy limit): split the statements into several policies",
          at: statements[limit].range))
    }
    diagnostics += redundancies(in: statements, source: file.source)
    return diagnostics
  }

  private struct GroupKey: Hashable {
    var scope: Int
    var source: Int
    var destination: Int
  }

  /// Duplicate statements (warned on the later one) and statements another one covers.
  private func redundancies(in statements: [Statement], source: SourceFile) -> [Diagnostic] {
    guard statements.count > 1 else { return [] }
    var interner = KeyInterner()
    var keys: [GroupKey] = []
    keys.reserveCapacity(statements.count)
    var groups: [GroupKey: [Int]] = [:]
    for (index, statement) in statements.enumerated() {
      let key = GroupKey(
        scope: interner.intern(scopeKey(statement.scope)),
        source: interner.intern(EndpointKey(statement.source, defaultNamespace: ns)),
        destination: interner.intern(EndpointKey(statement.destination, defaultNamespace: ns)))
      keys.append(key)
      groups[key, default: []].append(index)
    }

    var diagnostics: [Diagnostic] = []
    var firstWithMeaning: [DuplicateKey: Int] = [:]
    let broader = interner.broaderIDs()
    for (index, statement) in statements.enumerated() {
      let key = keys[index]
      // A statement that says the same as an earlier one is a duplicate.
      let meaning = DuplicateKey(group: key, filters: statement.filters)
      if let original = firstWithMeaning[meaning] {
        diagnostics.append(
          Diagnostic(
            .warning, .duplicateStatement,
            "this statement repeats the one on line \(line(of: statements[original], in: source)): "
              + "remove one of them", at: statement.range))
        continue
      }
      firstWithMeaning[meaning] = index
      if let wider = coveringStatement(
        of: index, statements: statements, key: key, groups: groups, broader: broader)
      {
        diagnostics.append(
          Diagnostic(
            .warning, .coveredStatement,
            "the statement on line \(line(of: statements[wider], in: source)) already allows "
              + "everything this one allows: remove this statement, or narrow that one",
            at: statement.range))
      }
    }
    return diagnostics
  }

  private var ns: String { options.defaultNamespace }

  /// How many statements of one index group are compared with a statement.
  static let membersProbed = 256

  /// What a statement means, for finding exact duplicates by hashing.
  private struct DuplicateKey: Hashable {
    var group: GroupKey
    var transport: TransportProtocol?
    var ports: [ClosedRange<Int>]
    var icmpType: Int?
    var icmpCode: Int?
    var state: ConnectionState

    init(group: GroupKey, filters: Filters) {
      self.group = group
      transport = filters.transport?.transport
      ports = filters.transport?.mergedPorts ?? []
      icmpType = filters.icmpType?.value
      icmpCode = filters.icmpCode?.value
      state = filters.state
    }
  }

  /// A statement whose scope, endpoints and filters include this one's and say strictly more.
  private func coveringStatement(
    of index: Int, statements: [Statement], key: GroupKey, groups: [GroupKey: [Int]],
    broader: [[Int]]
  ) -> Int? {
    let statement = statements[index]
    for scope in [key.scope] + broader[key.scope] {
      for source in [key.source] + broader[key.source] {
        for destination in [key.destination] + broader[key.destination] {
          let candidate = GroupKey(scope: scope, source: source, destination: destination)
          guard let members = groups[candidate] else { continue }
          // Bounded, so that a pathological file (thousands of statements between the same two
          // endpoints) stays linear; real policies hold at most a few dozen statements.
          for member in members.prefix(Self.membersProbed) where member != index {
            let other = statements[member]
            guard other.filters.covers(statement.filters) else { continue }
            // Equal statements are duplicates, reported on the later one only.
            if candidate == key && statement.filters.covers(other.filters) { continue }
            return member
          }
        }
      }
    }
    return nil
  }

  private func scopeKey(_ scope: Statement.Scope) -> ScopeKey {
    switch scope {
    case .vcn(let vcn):
      return .vcn(EndpointKey(vcn, defaultNamespace: ns))
    case .crossVCN(let source, let destination):
      return .cross(
        EndpointKey(source, defaultNamespace: ns), EndpointKey(destination, defaultNamespace: ns))
    }
  }

  private func line(of statement: Statement, in source: SourceFile) -> Int {
    source.line(containing: statement.range.lowerBound)
  }
}

/// A statement's VCN scope, reduced like ``EndpointKey``.
enum ScopeKey: Hashable {
  case vcn(EndpointKey)
  case cross(EndpointKey, EndpointKey)

  /// Broader scopes: a bare VCN attribute covers every value of it.
  func generalizations() -> [ScopeKey] {
    func widened(_ key: EndpointKey) -> [EndpointKey] {
      [key] + key.generalizations().filter { $0 != .allEndpoints }
    }
    switch self {
    case .vcn(let key):
      return widened(key).dropFirst().map { .vcn($0) }
    case .cross(let source, let destination):
      return widened(source).flatMap { s in widened(destination).map { .cross(s, $0) } }
        .filter { $0 != self }
    }
  }
}

/// Gives every distinct key a small integer, so that the index is keyed by integers.
struct KeyInterner {
  private enum Key: Hashable {
    case endpoint(EndpointKey)
    case scope(ScopeKey)
  }

  private var ids: [Key: Int] = [:]
  private var keys: [Key] = []

  var count: Int { keys.count }

  mutating func intern(_ key: EndpointKey) -> Int { intern(.endpoint(key)) }
  mutating func intern(_ key: ScopeKey) -> Int { intern(.scope(key)) }

  private mutating func intern(_ key: Key) -> Int {
    if let id = ids[key] { return id }
    ids[key] = keys.count
    keys.append(key)
    return keys.count - 1
  }

  /// For every id, the ids of the broader keys that occur in the file, most specific first.
  func broaderIDs() -> [[Int]] {
    var broader = [[Int]](repeating: [], count: keys.count)
    var addresses: [(prefix: IPPrefix, id: Int)] = []
    for (id, key) in keys.enumerated() {
      switch key {
      case .endpoint(.address(let prefix)):
        addresses.append((prefix, id))
      case .endpoint(let key):
        broader[id] = key.generalizations().compactMap { ids[.endpoint($0)] }
      case .scope(let key):
        broader[id] = key.generalizations().compactMap { ids[.scope($0)] }
      }
    }
    // Address blocks nest or are disjoint, so sorted by first address (wider first), the blocks
    // still open on a stack are exactly those containing the current one.
    addresses.sort {
      ($0.prefix.network, $0.prefix.length) < ($1.prefix.network, $1.prefix.length)
    }
    var open: [(prefix: IPPrefix, id: Int)] = []
    for address in addresses {
      while let last = open.last, !last.prefix.contains(address.prefix) { open.removeLast() }
      broader[address.id] = open.reversed().map(\.id)
      open.append(address)
    }
    return broader
  }
}
