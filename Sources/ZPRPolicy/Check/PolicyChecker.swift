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
    var file = PolicyParser(limits: options.limits).parse(source)
    let found = check(file)
    if !found.isEmpty {
      // The parser's own count of what it left out is carried into one new cap.
      var parsed = file.diagnostics
      if !file.omittedDiagnostics.isEmpty { parsed.removeLast() }
      file.diagnostics = (parsed + found).sortedBySource().capped(
        at: options.limits.diagnosticsPerFile, in: "this file",
        alreadyOmitted: file.omittedDiagnostics,
        at: SourceRange(source.bytes.count, source.bytes.count))
    }
    return file
  }

  /// The file-level diagnostics of a parsed file (statement-level ones come from the parser).
  public func check(_ file: PolicyFile) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    let statements = file.statements
    // Statements with errors count too: fixing them must not bring a new error.
    let written = file.statementLines
    let limit = options.limits.statementsPerPolicy
    if written.count > limit {
      diagnostics.append(
        Diagnostic(
          .error, .tooManyStatements,
          "this policy has \(written.count) statements; a policy holds at most \(limit) (the "
            + "statementsPerPolicy limit): split the statements into several policies",
          at: written[limit]))
    }
    if statements.count > 1 {
      var index = RedundancyIndex(
        statements: statements, defaultNamespace: options.defaultNamespace)
      diagnostics += index.diagnostics(source: file.source)
    }
    return diagnostics
  }
}

/// Finds duplicate and covered statements. Statements are reduced to integer keys and compact
/// filter summaries first, so that the probes touch no strings and no reference counts.
struct RedundancyIndex {
  /// How many statements of one index group are compared with a statement, so that a
  /// pathological file (thousands of statements between the same two endpoints) stays linear;
  /// real policies hold at most a few dozen statements.
  static let membersProbed = 256

  private let statements: [Statement]
  private var keys: [GroupKey] = []
  private var summaries: [FilterSummary] = []
  /// Every summary's merged port ranges, one after another.
  private var ports: [ClosedRange<Int32>] = []
  private var broaderScopes = BroaderKeys()
  private var broaderEndpoints = BroaderKeys()
  /// The last statement of each group; `next` chains the others.
  private var groupHeads = IntTable()
  private var next: [Int32] = []
  /// More distinct keys than `GroupKey.packed` can tell apart: the warnings are skipped.
  private var tooManyKeys = false

  init(statements: [Statement], defaultNamespace: String) {
    self.statements = statements
    // No capacity is reserved: most files repeat their keys, and a sparse table of large keys
    // costs more in cache misses than growing does.
    var interner = KeyInterner()
    guard statements.count * 2 < GroupKey.capacity else {
      tooManyKeys = true
      return
    }
    keys.reserveCapacity(statements.count)
    summaries.reserveCapacity(statements.count)
    next.reserveCapacity(statements.count)
    for (index, statement) in statements.enumerated() {
      let key = GroupKey(
        scope: interner.scope(statement.scope, defaultNamespace: defaultNamespace),
        source: interner.endpoint(statement.source, defaultNamespace: defaultNamespace),
        destination: interner.endpoint(statement.destination, defaultNamespace: defaultNamespace))
      keys.append(key)
      summaries.append(FilterSummary(statement.filters, ports: &ports))
      next.append(Int32(groupHeads.insert(key.packed, Int32(index))))
    }
    broaderScopes = interner.broaderScopes()
    broaderEndpoints = interner.broaderEndpoints()
  }

  mutating func diagnostics(source: SourceFile) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    guard !tooManyKeys else { return diagnostics }
    var firstWithMeaning: [DuplicateKey: Int] = [:]
    for index in statements.indices {
      // A statement that says the same as an earlier one is a duplicate.
      let meaning = DuplicateKey(group: keys[index].packed, summary: summaries[index])
      if let original = firstWithMeaning[meaning], equivalent(original, index) {
        diagnostics.append(
          Diagnostic(
            .warning, .duplicateStatement,
            "this statement repeats the one on line \(line(of: original, in: source)): "
              + "remove one of them", at: statements[index].range))
        continue
      }
      if firstWithMeaning[meaning] == nil { firstWithMeaning[meaning] = index }
      if let wider = coveringStatement(of: index) {
        diagnostics.append(
          Diagnostic(
            .warning, .coveredStatement,
            "the statement on line \(line(of: wider, in: source)) already allows everything "
              + "this one allows: remove this statement, or narrow that one",
            at: statements[index].range))
      }
    }
    return diagnostics
  }

  /// A statement whose scope, endpoints and filters include this one's and say strictly more.
  private func coveringStatement(of index: Int) -> Int? {
    let key = keys[index]
    let scopes = broaderScopes.ids(of: key.scope)
    let sources = broaderEndpoints.ids(of: key.source)
    let destinations = broaderEndpoints.ids(of: key.destination)
    // Position -1 stands for the key itself, the others for its broader keys.
    for scope in -1..<scopes.count {
      for source in -1..<sources.count {
        for destination in -1..<destinations.count {
          let candidate = GroupKey(
            scope: scope < 0 ? key.scope : Int(scopes[scopes.startIndex + scope]),
            source: source < 0 ? key.source : Int(sources[sources.startIndex + source]),
            destination: destination < 0
              ? key.destination : Int(destinations[destinations.startIndex + destination]))
          var member = groupHeads.find(candidate.packed)
          var probed = 0
          while member >= 0 && probed < Self.membersProbed {
            defer {
              member = Int(next[member])
              probed += 1
            }
            guard member != index, covers(member, index) else { continue }
            // Equal statements are duplicates, reported on the later one only.
            if candidate == key && covers(index, member) { continue }
            return member
          }
        }
      }
    }
    return nil
  }

  private func covers(_ wider: Int, _ narrower: Int) -> Bool {
    summaries[wider].covers(summaries[narrower], ports: ports)
  }

  private func equivalent(_ first: Int, _ second: Int) -> Bool {
    keys[first] == keys[second] && covers(first, second) && covers(second, first)
  }

  private func line(of index: Int, in source: SourceFile) -> Int {
    source.line(containing: statements[index].range.lowerBound)
  }
}

/// A statement's place in the index: interned scope, source and destination.
struct GroupKey: Hashable {
  var scope: Int
  var source: Int
  var destination: Int

  /// How many distinct ids `packed` can hold.
  static let capacity = 1 << 21

  /// The three ids in one word (21 bits each).
  var packed: UInt64 {
    UInt64(scope) << 42 | UInt64(source) << 21 | UInt64(destination)
  }
}

/// What a statement means, for finding exact duplicates by hashing; a hash match is confirmed
/// by comparing the summaries.
private struct DuplicateKey: Hashable {
  var group: UInt64
  var summary: FilterSummary
}

/// The filters of a statement without reference-counted parts.
struct FilterSummary: Hashable {
  /// 0 for every protocol, else 1 + the index of the protocol in `TransportProtocol.allCases`.
  var transport: UInt8
  var stateless: Bool
  /// -1 for any.
  var icmpType: Int16
  var icmpCode: Int16
  /// Where the merged ports start in the shared array, and how many (0: every port).
  var portStart: Int32
  var portCount: Int32
  /// A hash of the merged ports, so that equal lists hash alike wherever they are stored.
  var portHash: UInt64

  init(_ filters: Filters, ports: inout [ClosedRange<Int32>]) {
    transport =
      filters.transport.map { UInt8(TransportProtocol.allCases.firstIndex(of: $0.transport)! + 1) }
      ?? 0
    stateless = filters.state == .stateless
    icmpType = filters.icmpType.map { Int16($0.value) } ?? -1
    icmpCode = filters.icmpCode.map { Int16($0.value) } ?? -1
    let start = ports.count
    // The parser sorts the ports; merge overlapping and adjacent ranges as they are stored.
    for port in filters.transport?.ports ?? [] {
      let (lower, upper) = (Int32(port.lower), Int32(port.upper))
      if ports.count > start, let last = ports.last, lower <= last.upperBound + 1 {
        ports[ports.count - 1] = last.lowerBound...max(last.upperBound, upper)
      } else {
        ports.append(lower...upper)
      }
    }
    // Every port, spelt out, is no port filter.
    if ports.count == start + 1 && ports[start] == 1...65535 { ports.removeLast() }
    var hash = FNV1a()
    for range in ports[start...] {
      hash.mix(UInt64(range.lowerBound) << 16 | UInt64(range.upperBound))
    }
    portStart = Int32(start)
    portCount = Int32(ports.count - start)
    portHash = hash.value
  }

  static func == (lhs: FilterSummary, rhs: FilterSummary) -> Bool {
    (lhs.transport, lhs.stateless, lhs.icmpType, lhs.icmpCode, lhs.portCount, lhs.portHash)
      == (rhs.transport, rhs.stateless, rhs.icmpType, rhs.icmpCode, rhs.portCount, rhs.portHash)
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(transport)
    hasher.combine(stateless)
    hasher.combine(icmpType)
    hasher.combine(icmpCode)
    hasher.combine(portHash)
  }

  /// Whether these filters admit every flow that `narrower` admits: a stateful statement admits
  /// everything a stateless one does; no protocol admits every protocol; no ports admit every
  /// port; an ICMP type or code admits only itself. (``Filters/covers(_:)`` is this rule.)
  func covers(_ narrower: FilterSummary, ports: [ClosedRange<Int32>]) -> Bool {
    if stateless && !narrower.stateless { return false }
    if transport == 0 { return icmpType < 0 && icmpCode < 0 }
    guard transport == narrower.transport else { return false }
    if icmpType >= 0 && narrower.icmpType != icmpType { return false }
    if icmpCode >= 0 && narrower.icmpCode != icmpCode { return false }
    if portCount == 0 { return true }
    if narrower.portCount == 0 { return false }
    let ours = ports[Int(portStart)..<Int(portStart + portCount)]
    for index in Int(narrower.portStart)..<Int(narrower.portStart + narrower.portCount) {
      let port = ports[index]
      guard
        ours.contains(where: {
          $0.lowerBound <= port.lowerBound && port.upperBound <= $0.upperBound
        })
      else { return false }
    }
    return true
  }
}

/// For every key id, the ids of the broader keys that occur in the file, most specific first,
/// stored one after another.
struct BroaderKeys {
  private var starts: [Int32] = [0]
  private var storage: [Int32] = []

  /// Appends the broader ids of the next key id.
  mutating func append(_ ids: some Sequence<Int>) {
    for id in ids { storage.append(Int32(id)) }
    starts.append(Int32(storage.count))
  }

  /// The broader ids of a key id.
  func ids(of id: Int) -> ArraySlice<Int32> {
    storage[Int(starts[id])..<Int(starts[id + 1])]
  }
}

/// Gives every distinct endpoint and every distinct scope of a file a small integer (two
/// separate numberings), so that the index is keyed by integers. Attributes are interned once
/// by their fingerprinted key; endpoints and scopes refer to them by number.
struct KeyInterner {
  private enum EndpointRecord {
    case attribute(Int)
    case address(IPPrefix)
    case other
  }

  private enum ScopeRecord {
    case vcn(Int)
    case cross(Int, Int)
  }

  private var attributeIDs: [AttributeKey: Int] = [:]
  private var attributes: [AttributeKey] = []
  /// For each attribute, its endpoint id and its VCN-scope id, or -1 where it is not used so.
  private var endpointOfAttribute: [Int32] = []
  private var scopeOfAttribute: [Int32] = []
  private var addressIDs: [IPPrefix: Int] = [:]
  private var allEndpointsID = -1
  private var serviceNetworkID = -1
  private var crossScopeIDs = IntTable()
  private var endpoints: [EndpointRecord] = []
  private var scopes: [ScopeRecord] = []

  /// The id of an endpoint.
  mutating func endpoint(_ endpoint: Endpoint, defaultNamespace: String) -> Int {
    switch endpoint.kind {
    case .attribute(let attribute):
      return endpointID(ofAttribute: attributeID(attribute, defaultNamespace: defaultNamespace))
    case .address(let prefix):
      if let id = addressIDs[prefix] { return id }
      addressIDs[prefix] = endpoints.count
      endpoints.append(.address(prefix))
      return endpoints.count - 1
    case .allEndpoints:
      if allEndpointsID < 0 { allEndpointsID = newEndpoint() }
      return allEndpointsID
    case .serviceNetwork:
      if serviceNetworkID < 0 { serviceNetworkID = newEndpoint() }
      return serviceNetworkID
    }
  }

  /// The id of a VCN scope.
  mutating func scope(_ scope: Statement.Scope, defaultNamespace: String) -> Int {
    switch scope {
    case .vcn(let vcn):
      let attribute = attributeID(vcn, defaultNamespace: defaultNamespace)
      if scopeOfAttribute[attribute] < 0 {
        scopeOfAttribute[attribute] = Int32(scopes.count)
        scopes.append(.vcn(attribute))
      }
      return Int(scopeOfAttribute[attribute])
    case .crossVCN(let source, let destination):
      let pair = (
        attributeID(source, defaultNamespace: defaultNamespace),
        attributeID(destination, defaultNamespace: defaultNamespace)
      )
      let packed = UInt64(pair.0) << 32 | UInt64(pair.1)
      let found = crossScopeIDs.find(packed)
      if found >= 0 { return found }
      _ = crossScopeIDs.insert(packed, Int32(scopes.count))
      scopes.append(.cross(pair.0, pair.1))
      return scopes.count - 1
    }
  }

  private mutating func attributeID(_ attribute: AttributeRef, defaultNamespace: String) -> Int {
    let key = AttributeKey(
      namespace: attribute.namespace ?? defaultNamespace, key: attribute.key,
      value: attribute.value)
    if let id = attributeIDs[key] { return id }
    attributeIDs[key] = attributes.count
    attributes.append(key)
    endpointOfAttribute.append(-1)
    scopeOfAttribute.append(-1)
    return attributes.count - 1
  }

  private mutating func endpointID(ofAttribute attribute: Int) -> Int {
    if endpointOfAttribute[attribute] < 0 {
      endpointOfAttribute[attribute] = Int32(endpoints.count)
      endpoints.append(.attribute(attribute))
    }
    return Int(endpointOfAttribute[attribute])
  }

  private mutating func newEndpoint() -> Int {
    endpoints.append(.other)
    return endpoints.count - 1
  }

  /// The attribute with any value, when the file names it.
  private func bareID(of attribute: Int) -> Int? {
    guard attributes[attribute].value != nil else { return nil }
    return attributeIDs[attributes[attribute].bare]
  }

  /// For every endpoint id, the ids of the broader endpoints that occur in the file, most
  /// specific first: a bare attribute and all-endpoints widen an attribute; address blocks
  /// widen the blocks inside them.
  func broaderEndpoints() -> BroaderKeys {
    // Address blocks nest or are disjoint, so sorted by first address (wider first), the blocks
    // still open on a stack are exactly those containing the current one.
    var addresses = addressIDs.map { (prefix: $0.key, id: $0.value) }
    addresses.sort {
      ($0.prefix.network, $0.prefix.length) < ($1.prefix.network, $1.prefix.length)
    }
    var containers = [[Int]](repeating: [], count: addresses.isEmpty ? 0 : endpoints.count)
    var open: [(prefix: IPPrefix, id: Int)] = []
    for address in addresses {
      while let last = open.last, !last.prefix.contains(address.prefix) { open.removeLast() }
      if !open.isEmpty { containers[address.id] = open.reversed().map(\.id) }
      open.append(address)
    }
    var broader = BroaderKeys()
    for (id, record) in endpoints.enumerated() {
      switch record {
      case .attribute(let attribute):
        let bare = bareID(of: attribute).map { Int(endpointOfAttribute[$0]) }
        broader.append(
          [bare ?? -1, allEndpointsID].lazy.filter { $0 >= 0 })
      case .address:
        broader.append(containers[id])
      case .other:
        broader.append([])
      }
    }
    return broader
  }

  /// For every scope id, the ids of the broader scopes that occur in the file: a bare VCN
  /// attribute covers every value of it.
  func broaderScopes() -> BroaderKeys {
    var broader = BroaderKeys()
    func bareScope(_ attribute: Int) -> Int? {
      bareID(of: attribute).map { Int(scopeOfAttribute[$0]) }.flatMap { $0 >= 0 ? $0 : nil }
    }
    for record in scopes {
      switch record {
      case .vcn(let attribute):
        broader.append(bareScope(attribute).map { [$0] } ?? [])
      case .cross(let source, let destination):
        var ids: [Int] = []
        for widenSource in [false, true] {
          for widenDestination in [false, true] where widenSource || widenDestination {
            let s = widenSource ? bareID(of: source) : source
            let d = widenDestination ? bareID(of: destination) : destination
            guard let s, let d else { continue }
            let found = crossScopeIDs.find(UInt64(s) << 32 | UInt64(d))
            if found >= 0 { ids.append(found) }
          }
        }
        broader.append(ids)
      }
    }
    return broader
  }
}
