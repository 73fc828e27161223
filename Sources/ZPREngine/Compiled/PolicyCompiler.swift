import ZPRModel
import ZPRPolicy

/// Builds a ``CompiledPolicy``: side indexes by attribute term, identity classes, address
/// intervals, signatures and the rule set of every pair of signatures a statement joins. It is
/// kept with the compiled policy, so that a change to one endpoint recompiles that endpoint
/// alone (and the pairs of any signature it is the first to have), and a change to one policy
/// recompiles the identity classes its statements touch.
///
/// Statements are numbered by *slot*: in policy order at first; a changed policy's statements
/// get new slots at the end and its old ones are dropped, so rule sets order statements by
/// their place in the policies (``StatementID``), not by slot.
struct PolicyCompiler: Sendable {
  let topology: Topology
  let mode: EvaluationMode
  private(set) var statementIDs: [StatementID]
  private var statements: [Statement]
  /// The slots of each policy's statements.
  private var slotsByPolicy: [[Int32]] = []

  // The state a compilation leaves, for updates.
  private var sourceSide = SideIndex()
  private var destinationSide = SideIndex()
  /// How many statement sides name each attribute term, and each VCN scope by all-endpoints.
  private var namedTerms: [String: Int] = [:]
  private var namingScopes: [String: Int] = [:]
  /// The endpoints as last located, their classes, and each class's members.
  private var endpoints: [Endpoint] = []
  private var endpointClass: [Int32] = []
  /// Identity classes by number: their keys, what statements make of them, their members.
  private var classIndex: [ClassKey: Int32] = [:]
  private var classKeys: [ClassKey] = []
  private var classRecords: [IdentityClass] = []
  private var classMembers: [[Int]] = []
  /// The classes carrying each attribute term, and those in each VCN.
  private var classesByTerm: [String: [Int32]] = [:]
  private var classesByVCN: [Int: [Int32]] = [:]
  private var vcnTerms: [Set<String>] = []
  private var signatures = Signatures()
  private var intervals = AddressIntervals(prefixes: [])
  private var intervalSource: [[Int32]] = []
  private var intervalDestination: [[Int32]] = []
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
    var slots: [[Int32]] = []
    for (policyIndex, policy) in topology.tenancy.policies.enumerated() {
      slots.append([])
      for (statementIndex, statement) in policy.statements.enumerated() {
        slots[policyIndex].append(Int32(ids.count))
        ids.append(StatementID(policy: policyIndex, statement: statementIndex))
        statements.append(statement)
      }
    }
    statementIDs = ids
    self.statements = statements
    slotsByPolicy = slots
    endpoints = topology.endpoints
    endpointClass = Array(repeating: -1, count: topology.endpoints.count)
  }

  // MARK: Terms

  /// The terms an applied attribute answers to: its name, and its name with its value.
  static func terms(of attribute: AppliedAttribute) -> [String] {
    let name =
      SecurityAttributeName.folded(attribute.namespace) + "."
      + SecurityAttributeName.folded(attribute.key)
    return [name, name + "\u{1}" + attribute.value]
  }

  /// The term a reference looks for.
  func term(of reference: AttributeRef) -> String {
    let name =
      SecurityAttributeName.folded(reference.namespace ?? topology.tenancy.defaultNamespace) + "."
      + SecurityAttributeName.folded(reference.key)
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

  /// Adds a statement's sides to the indexes, or takes them out.
  private mutating func index(_ number: Int32, adding: Bool) {
    let statement = statements[Int(number)]
    let (sourceScope, destinationScope) = ZPRSemantics.scopes(of: statement)
    for (side, scope, isSource) in [
      (statement.source, sourceScope, true), (statement.destination, destinationScope, false),
    ] {
      let scopeTerm = term(of: scope)
      func change(_ body: (inout SideIndex) -> Void) {
        if isSource { body(&sourceSide) } else { body(&destinationSide) }
      }
      change {
        while $0.scopeTerm.count <= Int(number) { $0.scopeTerm.append("") }
        $0.scopeTerm[Int(number)] = scopeTerm
      }
      let step = adding ? 1 : -1
      switch side.kind {
      case .attribute(let reference):
        let term = term(of: reference)
        namedTerms[term, default: 0] += step
        change {
          if adding {
            $0.byTerm[term, default: []].append(number)
          } else {
            $0.byTerm[term]?.removeAll { $0 == number }
          }
        }
      case .allEndpoints:
        namingScopes[scopeTerm, default: 0] += step
        change {
          if adding {
            $0.allEndpointsByScope[scopeTerm, default: []].append(number)
          } else {
            $0.allEndpointsByScope[scopeTerm]?.removeAll { $0 == number }
          }
        }
      case .address(let block):
        change {
          if adding {
            $0.addresses.append((block, number))
          } else {
            $0.addresses.removeAll { $0.1 == number }
          }
        }
      case .serviceNetwork:
        for block in topology.tenancy.serviceNetwork {
          change {
            if adding {
              $0.addresses.append((block, number))
            } else {
              $0.addresses.removeAll { $0.1 == number }
            }
          }
        }
      }
    }
  }

  mutating func compile(into policy: inout CompiledPolicy) {
    let tenancy = topology.tenancy
    for number in statements.indices { index(Int32(number), adding: true) }

    // The attribute terms of each VCN.
    vcnTerms = tenancy.vcns.map { Set(counted($0.securityAttributes).flatMap(Self.terms)) }

    buildIntervals(into: &policy)

    for (index, endpoint) in topology.endpoints.enumerated() {
      locate(endpoint, at: index, into: &policy)
    }

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
        ruleSets.append(ruleSet(list))
        ruleSetIndex[list] = index
      }
      _ = pairs.insert(key, index)
      pairList.append((Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key), index))
    }
    var statistics = CompiledPolicy.Statistics()
    statistics.identityClasses = classKeys.count
    statistics.sourceSignatures = signatures.sourceLists.count
    statistics.destinationSignatures = signatures.destinationLists.count
    statistics.signaturePairs = pairKeys.count
    statistics.ruleSets = ruleSets.count
    policy.setPairs(pairs, list: pairList, ruleSets: ruleSets, statistics: statistics)
    pairsBuilt = true
  }

  /// Cuts the address space outside the VNICs at every block a statement names and gives each
  /// interval its location.
  private mutating func buildIntervals(into policy: inout CompiledPolicy) {
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
      let source = internSource(intervalSource[index], into: &policy)
      let destination = internDestination(intervalDestination[index], into: &policy)
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
  }

  // MARK: Endpoints

  /// The identity class of an endpoint: endpoints with the same counted attributes in the same
  /// VCN share it.
  private func classKey(_ endpoint: Endpoint) -> ClassKey {
    ClassKey(
      terms: Array(Set(counted(endpoint.attributes).flatMap(Self.terms))).sorted(),
      vcn: endpoint.vcn ?? -1)
  }

  /// The number of an endpoint's identity class (made, and indexed, the first time).
  private mutating func identityClass(_ key: ClassKey) -> Int32 {
    if let known = classIndex[key] { return known }
    let number = Int32(classKeys.count)
    classIndex[key] = number
    classKeys.append(key)
    classRecords.append(record(of: key))
    classMembers.append([])
    for term in key.terms { classesByTerm[term, default: []].append(number) }
    classesByVCN[key.vcn, default: []].append(number)
    return number
  }

  /// What the statements make of an identity class.
  private func record(of key: ClassKey) -> IdentityClass {
    let (terms, vcn) = (key.terms, key.vcn)
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
    return IdentityClass(
      source: matching(sourceSide), destination: matching(destinationSide),
      named: terms.contains { namedTerms[$0, default: 0] > 0 }
        || carried.contains { namingScopes[$0, default: 0] > 0 })
  }

  /// Gives an endpoint's addresses their locations (new ones, replacing any they had).
  mutating func locate(_ endpoint: Endpoint, at index: Int, into policy: inout CompiledPolicy) {
    let key = classKey(endpoint)
    let number = identityClass(key)
    let old = endpointClass[index]
    if old != number {
      if old >= 0 { classMembers[Int(old)].removeAll { $0 == index } }
      classMembers[Int(number)].append(index)
      endpointClass[index] = number
    }
    // During the first compilation the endpoints are the topology's already.
    if pairsBuilt { endpoints[index] = endpoint }
    var shared: Int32?
    place(endpoint, classRecords[Int(number)], shared: &shared, into: &policy)
  }

  /// Binds an endpoint's addresses to locations. A protected endpoint is known by its
  /// attributes alone: its addresses share `shared` (made on first use), which endpoints of one
  /// class may share too. An unprotected endpoint also answers to the addresses statements
  /// name, so each of its addresses gets its own.
  private mutating func place(
    _ endpoint: Endpoint, _ identity: IdentityClass, shared: inout Int32?,
    into policy: inout CompiledPolicy
  ) {
    let isProtected = endpoint.isProtected(in: mode)
    for address in endpoint.ips {
      if isProtected {
        if shared == nil {
          let source = internSource(identity.source, into: &policy)
          let destination = internDestination(identity.destination, into: &policy)
          shared = policy.addLocation(
            .init(source: source, destination: destination, protected: true, named: identity.named))
        }
        policy.bind(address, to: shared!)
      } else {
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

  // MARK: Policies

  /// Replaces one policy: its old statements leave the indexes, the new ones get new slots, and
  /// the endpoints of every identity class either touches are located again. When a statement
  /// names addresses, the address intervals are cut anew and the unprotected endpoints (the
  /// only ones addresses name) are located again too.
  mutating func replacePolicy(
    _ policyIndex: Int, with policy: Policy, into compiled: inout CompiledPolicy
  ) {
    let old = slotsByPolicy[policyIndex]
    func namesAddresses(_ statement: Statement) -> Bool {
      [statement.source, statement.destination].contains { $0.isExternal }
    }
    let addressesChange =
      old.contains(where: { namesAddresses(statements[Int($0)]) })
      || policy.statements.contains(where: namesAddresses)
    var touched = Set<Int32>()
    func touch(_ statement: Statement) {
      let (sourceScope, destinationScope) = ZPRSemantics.scopes(of: statement)
      for (side, scope) in [
        (statement.source, sourceScope), (statement.destination, destinationScope),
      ] {
        switch side.kind {
        case .attribute(let reference):
          touched.formUnion(classesByTerm[term(of: reference)] ?? [])
        case .allEndpoints:
          let scopeTerm = term(of: scope)
          for (vcn, terms) in vcnTerms.enumerated() where terms.contains(scopeTerm) {
            touched.formUnion(classesByVCN[vcn] ?? [])
          }
        case .address, .serviceNetwork:
          break
        }
      }
    }
    for slot in old {
      touch(statements[Int(slot)])
      index(slot, adding: false)
      statementIDs[Int(slot)] = StatementID(policy: -1, statement: -1)
    }
    var slots: [Int32] = []
    for (number, statement) in policy.statements.enumerated() {
      let slot = Int32(statements.count)
      statements.append(statement)
      statementIDs.append(StatementID(policy: policyIndex, statement: number))
      sourceSignaturesOf.append([])
      destinationSignaturesOf.append([])
      slots.append(slot)
      index(slot, adding: true)
      touch(statement)
    }
    slotsByPolicy[policyIndex] = slots
    compiled.setStatementIDs(statementIDs)
    if addressesChange {
      // The intervals are cut anew, and every unprotected endpoint answers to them.
      buildIntervals(into: &compiled)
      for (member, endpoint) in endpoints.enumerated() where !endpoint.isProtected(in: mode) {
        if endpointClass[member] >= 0 { touched.insert(endpointClass[member]) }
      }
    }
    // Each touched class is worked out once; its members' addresses are bound to the result.
    for number in touched {
      let identity = record(of: classKeys[Int(number)])
      classRecords[Int(number)] = identity
      var shared: Int32?
      for member in classMembers[Int(number)] {
        place(endpoints[member], identity, shared: &shared, into: &compiled)
      }
    }
  }

  // MARK: Signatures made after the pairs

  private mutating func internSource(_ list: [Int32], into policy: inout CompiledPolicy) -> Int32 {
    let (signature, isNew) = signatures.source(interning: list)
    if isNew { policy.appendSignature(source: list) }
    if isNew, pairsBuilt {
      for number in list { sourceSignaturesOf[Int(number)].append(signature) }
      var partners = Set<Int32>()
      for number in list { partners.formUnion(destinationSignaturesOf[Int(number)]) }
      for partner in partners {
        addPair(
          signature, partner, Self.intersect(list, signatures.destinationLists[Int(partner)]),
          into: &policy)
      }
    }
    return signature
  }

  private mutating func internDestination(_ list: [Int32], into policy: inout CompiledPolicy)
    -> Int32
  {
    let (signature, isNew) = signatures.destination(interning: list)
    if isNew { policy.appendSignature(destination: list) }
    if isNew, pairsBuilt {
      for number in list { destinationSignaturesOf[Int(number)].append(signature) }
      var partners = Set<Int32>()
      for number in list { partners.formUnion(sourceSignaturesOf[Int(number)]) }
      for partner in partners {
        addPair(
          partner, signature, Self.intersect(signatures.sourceLists[Int(partner)], list),
          into: &policy)
      }
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
      ruleSet = policy.addRuleSet(self.ruleSet(list))
      ruleSetIndex[list] = ruleSet
    }
    policy.addPair(source, destination, ruleSet)
  }

  /// The rule set of statements (by slot), ordered as the policies order them.
  private func ruleSet(_ list: [Int32]) -> RuleSet {
    RuleSet(
      list.sorted { statementIDs[Int($0)] < statementIDs[Int($1)] }
        .map { ($0, statements[Int($0)].filters) })
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
