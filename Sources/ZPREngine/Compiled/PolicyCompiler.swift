import ZPRModel
import ZPRPolicy

/// Builds a ``CompiledPolicy``: side indexes by attribute term, identity classes, address
/// intervals, signatures and the rule set of every pair of signatures a statement joins. It is
/// kept with the compiled policy, so that a change to one endpoint recompiles that endpoint
/// alone (and the pairs of any signature it is the first to have).
struct PolicyCompiler: Sendable {
  let topology: Topology
  let mode: EvaluationMode
  let statementIDs: [StatementID]
  private let statements: [Statement]

  // The state a compilation leaves, for updates.
  private var sourceSide = SideIndex()
  private var destinationSide = SideIndex()
  private var namedTerms = Set<String>()
  private var namingScopes = Set<String>()
  private var vcnTerms: [Set<String>] = []
  private var signatures = Signatures()
  private var intervals = AddressIntervals(prefixes: [])
  private var intervalSource: [[Int32]] = []
  private var intervalDestination: [[Int32]] = []
  private var classes: [ClassKey: IdentityClass] = [:]
  private var sourceSignaturesOf: [[Int32]] = []
  private var destinationSignaturesOf: [[Int32]] = []
  private var ruleSetIndex: [[Int32]: Int32] = [:]
  /// Whether the pairs exist: signatures made after that need their pairs made at once.
  private var pairsBuilt = false

  private struct ClassKey: Hashable, Sendable {
    var terms: [String]
    var vcn: Int
  }

  private struct IdentityClass: Sendable {
    var source: [Int32]
    var destination: [Int32]
    var named: Bool
  }

  init(topology: Topology, mode: EvaluationMode) {
    self.topology = topology
    self.mode = mode
    var ids: [StatementID] = []
    var statements: [Statement] = []
    for (policyIndex, policy) in topology.tenancy.policies.enumerated() {
      for (statementIndex, statement) in policy.statements.enumerated() {
        ids.append(StatementID(policy: policyIndex, statement: statementIndex))
        statements.append(statement)
      }
    }
    statementIDs = ids
    self.statements = statements
  }

  // MARK: Terms

  /// ASCII letters in lower case: names compare this way (``SecurityAttributeName/same(_:_:)``).
  static func fold(_ name: String) -> String {
    guard name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return name }
    return String(decoding: name.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
  }

  /// The terms an applied attribute answers to: its name, and its name with its value.
  static func terms(of attribute: AppliedAttribute) -> [String] {
    let name = fold(attribute.namespace) + "." + fold(attribute.key)
    return [name, name + "\u{1}" + attribute.value]
  }

  /// The term a reference looks for.
  func term(of reference: AttributeRef) -> String {
    let name =
      Self.fold(reference.namespace ?? topology.tenancy.defaultNamespace) + "."
      + Self.fold(reference.key)
    return reference.value.map { name + "\u{1}" + $0 } ?? name
  }

  private func counted(_ attributes: [AppliedAttribute]) -> [AppliedAttribute] {
    mode == .audit ? attributes : attributes.filter { $0.mode == .enforce }
  }

  // MARK: Compiling

  /// One side of the statements, indexed.
  private struct SideIndex: Sendable {
    var byTerm: [String: [Int32]] = [:]
    var allEndpointsByScope: [String: [Int32]] = [:]
    var addresses: [(IPPrefix, Int32)] = []
    var scopeTerm: [String] = []
  }

  mutating func compile(into policy: inout CompiledPolicy) {
    let tenancy = topology.tenancy
    for (number, statement) in statements.enumerated() {
      let (sourceScope, destinationScope) = ZPRSemantics.scopes(of: statement)
      for (side, scope, isSource) in [
        (statement.source, sourceScope, true), (statement.destination, destinationScope, false),
      ] {
        let scopeTerm = term(of: scope)
        func add(_ body: (inout SideIndex) -> Void) {
          if isSource { body(&sourceSide) } else { body(&destinationSide) }
        }
        add { $0.scopeTerm.append(scopeTerm) }
        switch side.kind {
        case .attribute(let reference):
          let term = term(of: reference)
          namedTerms.insert(term)
          add { $0.byTerm[term, default: []].append(Int32(number)) }
        case .allEndpoints:
          namingScopes.insert(scopeTerm)
          add { $0.allEndpointsByScope[scopeTerm, default: []].append(Int32(number)) }
        case .address(let block):
          add { $0.addresses.append((block, Int32(number))) }
        case .serviceNetwork:
          for block in tenancy.serviceNetwork {
            add { $0.addresses.append((block, Int32(number))) }
          }
        }
      }
    }

    // The attribute terms of each VCN.
    vcnTerms = tenancy.vcns.map { Set(counted($0.securityAttributes).flatMap(Self.terms)) }

    // Address intervals outside the VNICs: the statements whose address side covers each.
    intervals = AddressIntervals(
      prefixes: sourceSide.addresses.map(\.0) + destinationSide.addresses.map(\.0))
    intervalSource = intervals.starts.map { start in
      sourceSide.addresses.filter { $0.0.contains(start) }.map(\.1).sorted()
    }
    intervalDestination = intervals.starts.map { start in
      destinationSide.addresses.filter { $0.0.contains(start) }.map(\.1).sorted()
    }
    var externalLocations: [UInt64: Int32] = [:]
    var intervalLocations: [Int32] = []
    for index in intervals.starts.indices {
      let source = signatures.source(intervalSource[index])
      let destination = signatures.destination(intervalDestination[index])
      let key = UInt64(UInt32(source)) << 32 | UInt64(UInt32(destination))
      if let known = externalLocations[key] {
        intervalLocations.append(known)
      } else {
        let location = policy.addLocation(
          .init(source: source, destination: destination, protected: false, named: false))
        externalLocations[key] = location
        intervalLocations.append(location)
      }
    }
    let v4Count = intervals.starts.prefix { $0.family == .v4 }.count
    policy.setIntervals(
      v4: intervals.starts[..<v4Count].map { $0.v4Value! }, Array(intervalLocations[..<v4Count]),
      v6: Array(intervals.starts[v4Count...]), Array(intervalLocations[v4Count...]))

    for endpoint in topology.endpoints { locate(endpoint, into: &policy) }

    // The rule set of every pair of signatures some statement joins.
    sourceSignaturesOf = [[Int32]](repeating: [], count: statements.count)
    destinationSignaturesOf = [[Int32]](repeating: [], count: statements.count)
    for (signature, list) in signatures.sourceLists.enumerated() {
      for number in list { sourceSignaturesOf[Int(number)].append(Int32(signature)) }
    }
    for (signature, list) in signatures.destinationLists.enumerated() {
      for number in list { destinationSignaturesOf[Int(number)].append(Int32(signature)) }
    }
    var pairIndex = IntTable()
    var pairKeys: [UInt64] = []
    var pairStatements: [[Int32]] = []
    for number in statements.indices {
      for source in sourceSignaturesOf[number] {
        for destination in destinationSignaturesOf[number] {
          let key = UInt64(UInt32(source)) << 32 | UInt64(UInt32(destination))
          let existing = pairIndex.find(key)
          if existing >= 0 {
            pairStatements[existing].append(Int32(number))
          } else {
            _ = pairIndex.insert(key, Int32(pairKeys.count))
            pairKeys.append(key)
            pairStatements.append([Int32(number)])
          }
        }
      }
    }
    var ruleSets: [RuleSet] = []
    var pairs = IntTable()
    var pairList: [(Int32, Int32, Int32)] = []
    for (key, list) in zip(pairKeys, pairStatements) {
      let index: Int32
      if let known = ruleSetIndex[list] {
        index = known
      } else {
        index = Int32(ruleSets.count)
        ruleSets.append(RuleSet(list.map { ($0, statements[Int($0)].filters) }))
        ruleSetIndex[list] = index
      }
      _ = pairs.insert(key, index)
      pairList.append((Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key), index))
    }
    var statistics = CompiledPolicy.Statistics()
    statistics.identityClasses = classes.count
    statistics.sourceSignatures = signatures.sourceLists.count
    statistics.destinationSignatures = signatures.destinationLists.count
    statistics.signaturePairs = pairKeys.count
    statistics.ruleSets = ruleSets.count
    policy.setSignatures(source: signatures.sourceLists, destination: signatures.destinationLists)
    policy.setPairs(pairs, list: pairList, ruleSets: ruleSets, statistics: statistics)
    pairsBuilt = true
  }

  // MARK: Endpoints

  /// The identity class of an endpoint: endpoints with the same counted attributes in the same
  /// VCN share it.
  private mutating func identityClass(_ endpoint: Endpoint) -> IdentityClass {
    let terms = Array(Set(counted(endpoint.attributes).flatMap(Self.terms))).sorted()
    let vcn = endpoint.vcn ?? -1
    let key = ClassKey(terms: terms, vcn: vcn)
    if let known = classes[key] { return known }
    let carried = vcn >= 0 ? vcnTerms[vcn] : []
    func matching(_ side: SideIndex) -> [Int32] {
      var found: [Int32] = []
      for term in terms {
        for number in side.byTerm[term] ?? [] where carried.contains(side.scopeTerm[Int(number)]) {
          found.append(number)
        }
      }
      for term in carried { found += side.allEndpointsByScope[term] ?? [] }
      return Array(Set(found)).sorted()
    }
    let made = IdentityClass(
      source: matching(sourceSide), destination: matching(destinationSide),
      named: terms.contains(where: namedTerms.contains)
        || carried.contains(where: namingScopes.contains))
    classes[key] = made
    return made
  }

  /// Gives an endpoint's addresses their locations (new ones, replacing any they had).
  mutating func locate(_ endpoint: Endpoint, into policy: inout CompiledPolicy) {
    let identity = identityClass(endpoint)
    let isProtected = endpoint.isProtected(in: mode)
    var classLocation: Int32?
    for address in endpoint.ips {
      if isProtected {
        // A protected endpoint is known by its attributes alone: one location for all its
        // addresses.
        if classLocation == nil {
          let source = internSource(identity.source, into: &policy)
          let destination = internDestination(identity.destination, into: &policy)
          classLocation = policy.addLocation(
            .init(source: source, destination: destination, protected: true, named: identity.named))
        }
        policy.bind(address, to: classLocation!)
      } else {
        // An unprotected endpoint also answers to the addresses statements name.
        let interval = intervals.index(of: address)
        let source = internSource(
          Self.merge(identity.source, intervalSource[interval]), into: &policy)
        let destination = internDestination(
          Self.merge(identity.destination, intervalDestination[interval]), into: &policy)
        let location = policy.addLocation(
          .init(source: source, destination: destination, protected: false, named: identity.named))
        policy.bind(address, to: location)
      }
    }
  }

  // MARK: Signatures made after the pairs

  private mutating func internSource(_ list: [Int32], into policy: inout CompiledPolicy) -> Int32 {
    let (signature, isNew) = signatures.source(interning: list)
    if isNew, pairsBuilt {
      for number in list { sourceSignaturesOf[Int(number)].append(signature) }
      var partners = Set<Int32>()
      for number in list { partners.formUnion(destinationSignaturesOf[Int(number)]) }
      for partner in partners {
        addPair(
          signature, partner, Self.intersect(list, signatures.destinationLists[Int(partner)]),
          into: &policy)
      }
      policy.setSignatures(source: signatures.sourceLists, destination: signatures.destinationLists)
    }
    return signature
  }

  private mutating func internDestination(_ list: [Int32], into policy: inout CompiledPolicy)
    -> Int32
  {
    let (signature, isNew) = signatures.destination(interning: list)
    if isNew, pairsBuilt {
      for number in list { destinationSignaturesOf[Int(number)].append(signature) }
      var partners = Set<Int32>()
      for number in list { partners.formUnion(sourceSignaturesOf[Int(number)]) }
      for partner in partners {
        addPair(
          partner, signature, Self.intersect(signatures.sourceLists[Int(partner)], list),
          into: &policy)
      }
      policy.setSignatures(source: signatures.sourceLists, destination: signatures.destinationLists)
    }
    return signature
  }

  private mutating func addPair(
    _ source: Int32, _ destination: Int32, _ list: [Int32], into policy: inout CompiledPolicy
  ) {
    guard !list.isEmpty else { return }
    let ruleSet: Int32
    if let known = ruleSetIndex[list] {
      ruleSet = known
    } else {
      ruleSet = policy.addRuleSet(RuleSet(list.map { ($0, statements[Int($0)].filters) }))
      ruleSetIndex[list] = ruleSet
    }
    policy.addPair(source, destination, ruleSet)
  }

  /// The common elements of two ascending lists.
  static func intersect(_ lhs: [Int32], _ rhs: [Int32]) -> [Int32] {
    var common: [Int32] = []
    var (left, right) = (0, 0)
    while left < lhs.count, right < rhs.count {
      if lhs[left] < rhs[right] {
        left += 1
      } else if rhs[right] < lhs[left] {
        right += 1
      } else {
        common.append(lhs[left])
        left += 1
        right += 1
      }
    }
    return common
  }

  /// The union of two ascending lists, ascending.
  static func merge(_ lhs: [Int32], _ rhs: [Int32]) -> [Int32] {
    if lhs.isEmpty { return rhs }
    if rhs.isEmpty { return lhs }
    var merged: [Int32] = []
    merged.reserveCapacity(lhs.count + rhs.count)
    var (left, right) = (0, 0)
    while left < lhs.count || right < rhs.count {
      if right == rhs.count || (left < lhs.count && lhs[left] < rhs[right]) {
        merged.append(lhs[left])
        left += 1
      } else if left == lhs.count || rhs[right] < lhs[left] {
        merged.append(rhs[right])
        right += 1
      } else {
        merged.append(lhs[left])
        left += 1
        right += 1
      }
    }
    return merged
  }
}

/// Interned signatures: each distinct list of statements gets one number.
private struct Signatures: Sendable {
  var sourceIndex: [[Int32]: Int32] = [:]
  var sourceLists: [[Int32]] = []
  var destinationIndex: [[Int32]: Int32] = [:]
  var destinationLists: [[Int32]] = []

  mutating func source(_ list: [Int32]) -> Int32 { source(interning: list).0 }

  mutating func destination(_ list: [Int32]) -> Int32 { destination(interning: list).0 }

  /// The list's number, and whether it was just made.
  mutating func source(interning list: [Int32]) -> (Int32, Bool) {
    if let known = sourceIndex[list] { return (known, false) }
    sourceIndex[list] = Int32(sourceLists.count)
    sourceLists.append(list)
    return (Int32(sourceLists.count - 1), true)
  }

  mutating func destination(interning list: [Int32]) -> (Int32, Bool) {
    if let known = destinationIndex[list] { return (known, false) }
    destinationIndex[list] = Int32(destinationLists.count)
    destinationLists.append(list)
    return (Int32(destinationLists.count - 1), true)
  }
}

/// The address space cut at the edges of a set of blocks: every address of one elementary
/// interval lies in the same blocks. Both families' whole spaces are covered: IPv4 first.
struct AddressIntervals: Sendable {
  /// The first address of each interval, ascending (IPv4 intervals before IPv6 ones).
  let starts: [IPAddress]

  init(prefixes: [IPPrefix]) {
    var v4: Set<UInt32> = [0]
    var v6: Set<IPAddress> = [IPAddress(v6High: 0, low: 0)]
    for prefix in prefixes {
      let network = prefix.network
      if let start = network.v4Value {
        v4.insert(start)
        let end = UInt64(start) + (UInt64(1) << UInt64(32 - prefix.length))
        if end <= UInt64(UInt32.max) { v4.insert(UInt32(end)) }
      } else {
        v6.insert(network)
        if let next = Self.v6End(network, length: prefix.length) { v6.insert(next) }
      }
    }
    starts = v4.sorted().map { IPAddress(v4: $0) } + v6.sorted()
  }

  /// The address just past an IPv6 block, or nil past the end of the space.
  private static func v6End(_ network: IPAddress, length: Int) -> IPAddress? {
    if length == 0 { return nil }
    if length <= 64 {
      let step = UInt64(1) << UInt64(64 - length)
      let (high, overflow) = network.high.addingReportingOverflow(length == 64 ? 1 : step)
      return overflow ? nil : IPAddress(v6High: high, low: 0)
    }
    let step = length == 128 ? UInt64(1) : UInt64(1) << UInt64(128 - length)
    let (low, carry) = network.low.addingReportingOverflow(step)
    if !carry { return IPAddress(v6High: network.high, low: low) }
    let (high, overflow) = network.high.addingReportingOverflow(1)
    return overflow ? nil : IPAddress(v6High: high, low: low)
  }

  /// The interval holding an address.
  func index(of address: IPAddress) -> Int {
    var low = 0
    var high = starts.count
    while high - low > 1 {
      let middle = (low + high) / 2
      if starts[middle] <= address { low = middle } else { high = middle }
    }
    return low
  }
}
