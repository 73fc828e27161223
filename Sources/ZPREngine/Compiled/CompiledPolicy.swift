import ZPRModel
public import ZPRPolicy

/// A tenancy's policies compiled into decision tables, for one evaluation mode.
///
/// Every address of the tenancy is a *location*: a VNIC's address, or an elementary interval of
/// the address space outside the VNICs (cut at every CIDR a statement names). A location has a
/// source signature and a destination signature: the statements whose source (destination) side
/// matches it. Endpoints with the same attributes in VCNs with the same attributes form one
/// identity class and share signatures, so there are far fewer signatures than endpoints. Each
/// pair of signatures that some statement joins has a rule set: port intervals per protocol with
/// the first statement granting each. A decision is two address lookups, one pair lookup and a
/// search in a few intervals, whatever the number of statements or endpoints.
public struct CompiledPolicy: Sendable {
  public let mode: EvaluationMode
  /// The statements, as the tables number them (in policy order, until a policy is replaced).
  public private(set) var statementIDs: [StatementID]

  // Locations.
  /// IPv4 addresses of VNICs with their locations inline: one cache line per lookup.
  private var v4Locations = AddressTable()
  private var v6Locations: [IPAddress: Int32] = [:]
  /// For each location: its signatures and what ZPR needs to know of its endpoint, packed
  /// together so that a decision touches one cache line per end.
  private var locations: [Location] = []
  /// Elementary intervals outside the VNICs: sorted starts and their locations, per family.
  private var v4Starts: [UInt32] = []
  private var v4Intervals: [Int32] = []
  private var v6Starts: [IPAddress] = []
  private var v6Intervals: [Int32] = []

  // Pairs of signatures.
  private var pairs = IntTable()
  private var ruleSets = RuleSetStore()
  /// Every pair of signatures with a rule set: (source, destination, rule set).
  private var pairList: [(Int32, Int32, Int32)] = []
  /// The statements (numbers, ascending) of each source and destination signature.
  private var sourceStatements: [[Int32]] = []
  private var destinationStatements: [[Int32]] = []

  /// The compiler's state, kept for updates.
  private var compiler: PolicyCompiler?
  /// Whether the first compilation is over (addresses are then rebound, not kept).
  private var isBuilt = false

  /// How many identity classes, signatures and rule sets the compilation made.
  public private(set) var statistics = Statistics()

  /// Sizes of the compiled tables.
  public struct Statistics: Hashable, Sendable {
    public var identityClasses = 0
    public var sourceSignatures = 0
    public var destinationSignatures = 0
    public var signaturePairs = 0
    public var ruleSets = 0
    public var locations = 0
  }

  /// Compiles a topology's policies for a mode.
  public init(_ topology: Topology, mode: EvaluationMode = .enforce) {
    self.mode = mode
    var compiler = PolicyCompiler(topology: topology, mode: mode)
    statementIDs = compiler.statementIDs
    compiler.compile(into: &self)
    self.compiler = compiler
    isBuilt = true
  }

  /// Recompiles one endpoint whose attributes changed (see ``Topology/setAttributes(_:ofResource:)``):
  /// its addresses get new locations, and a signature no endpoint had before gets its pairs.
  /// Nothing else is touched, so the cost does not grow with the tenancy.
  public mutating func update(_ endpoint: Endpoint, at index: Int) {
    guard var compiler = compiler.take() else { return }
    compiler.locate(endpoint, at: index, into: &self)
    self.compiler = compiler
  }

  /// Recompiles for a changed policy (the topology already holds it, see
  /// ``Topology/setPolicy(_:at:)``): only the identity classes its old and new statements touch
  /// are located again (and, when it names addresses, the address intervals and the
  /// unprotected endpoints).
  public mutating func replacePolicy(at index: Int, in topology: Topology) {
    guard var compiler = compiler.take() else { return }
    compiler.replacePolicy(index, with: topology.tenancy.policies[index], into: &self)
    self.compiler = compiler
  }

  mutating func setStatementIDs(_ ids: [StatementID]) {
    statementIDs = ids
  }

  // MARK: Deciding

  /// ZPR's decision about a flow: the same as ``ZPRSemantics/decide(_:mode:)``, in constant time.
  public func decide(_ flow: Flow) -> ZPRDecision {
    let source = location(of: flow.source)
    let destination = location(of: flow.destination)
    var decision = ZPRDecision(egress: nil, ingress: nil, statement: nil, stateful: false)
    guard source.protected || destination.protected else { return decision }
    let key =
      UInt64(UInt32(bitPattern: source.source)) << 32
      | UInt64(UInt32(bitPattern: destination.destination))
    let ruleSet = pairs.find(key)
    if ruleSet >= 0, let (first, stateful) = ruleSets.match(ruleSet, flow) {
      decision.statement = statementIDs[Int(first)]
      decision.stateful = stateful
    }
    let allowed = decision.statement != nil
    if source.protected {
      decision.egress = allowed ? .allowed : source.named ? .denied : .missingPolicy
    }
    if destination.protected {
      decision.ingress = allowed ? .allowed : destination.named ? .denied : .missingPolicy
    }
    return decision
  }

  // MARK: Reading the tables

  /// Where an address stands: its signatures, and whether ZPR protects it.
  public func signatures(at address: IPAddress) -> (
    source: Int32, destination: Int32, protected: Bool
  ) {
    let location = location(of: address)
    return (location.source, location.destination, location.protected)
  }

  /// The statements with a side that matches either end of a flow (either way round): the only
  /// ones that can match it or nearly match it. In policy order.
  public func statementsTouching(_ flow: Flow) -> [StatementID] {
    let source = location(of: flow.source)
    let destination = location(of: flow.destination)
    var numbers = Set<Int32>()
    for list in [
      sourceStatements[Int(source.source)], destinationStatements[Int(source.destination)],
      sourceStatements[Int(destination.source)],
      destinationStatements[Int(destination.destination)],
    ] {
      numbers.formUnion(list)
    }
    return numbers.sorted().map { statementIDs[Int($0)] }
  }

  /// Every pair of signatures some statement joins.
  public var signaturePairs: [(source: Int32, destination: Int32)] {
    pairList.map { ($0.0, $0.1) }
  }

  /// What ZPR grants from one signature to another: port ranges per protocol and ICMP messages,
  /// each with the first statement granting it.
  public func grants(from source: Int32, to destination: Int32) -> [Grant] {
    let key = UInt64(UInt32(bitPattern: source)) << 32 | UInt64(UInt32(bitPattern: destination))
    let index = pairs.find(key)
    guard index >= 0 else { return [] }
    let ruleSet = ruleSets.ruleSet(index)
    var grants: [Grant] = []
    for (transport, spans) in [("tcp", ruleSet.tcp), ("udp", ruleSet.udp)] {
      for span in spans {
        grants.append(
          Grant(
            transport: transport, ports: Int(span.lower)...Int(span.upper), icmpType: nil,
            icmpCode: nil, statement: statementIDs[Int(span.first)], stateful: span.stateful))
      }
    }
    for icmp in ruleSet.icmp {
      grants.append(
        Grant(
          transport: icmp.family == 6 ? "icmp6" : icmp.family == 4 ? "icmp" : "icmp/icmp6",
          ports: nil, icmpType: icmp.type < 0 ? nil : Int(icmp.type),
          icmpCode: icmp.code < 0 ? nil : Int(icmp.code),
          statement: statementIDs[Int(icmp.statement)],
          stateful: icmp.stateful))
    }
    return grants
  }

  /// An address family's space as runs of addresses that ZPR sees alike (the same signatures
  /// and standing), ascending and disjoint: each VNIC address, and the intervals between them,
  /// with alike neighbours merged. What a ruleset's address sets are made of.
  public func regions(_ family: IPAddress.Family) -> [AddressRegion] {
    let vnics: [(address: IPAddress, location: Location)]
    let starts: [IPAddress]
    let intervals: [Int32]
    if family == .v4 {
      vnics = v4Locations.entries.sorted { $0.address < $1.address }.map {
        (IPAddress(v4: $0.address), $0.location)
      }
      starts = v4Starts.map { IPAddress(v4: $0) }
      intervals = v4Intervals
    } else {
      vnics = v6Locations.map { ($0.key, locations[Int($0.value)]) }.sorted { $0.0 < $1.0 }
      starts = v6Starts
      intervals = v6Intervals
    }
    var regions: [AddressRegion] = []
    func add(_ first: IPAddress, _ last: IPAddress, _ location: Location) {
      if let previous = regions.last, previous.last.successor == first,
        previous.source == location.source, previous.destination == location.destination,
        previous.protected == location.protected
      {
        regions[regions.count - 1].last = last
        return
      }
      regions.append(
        AddressRegion(
          first: first, last: last, source: location.source,
          destination: location.destination, protected: location.protected))
    }
    var next = 0
    for (index, start) in starts.enumerated() {
      let end =
        index + 1 < starts.count ? starts[index + 1].predecessor! : IPAddress.last(of: family)
      let location = locations[Int(intervals[index])]
      var cursor: IPAddress? = start
      while next < vnics.count, vnics[next].address <= end {
        let address = vnics[next].address
        if let from = cursor, address > from { add(from, address.predecessor!, location) }
        add(address, address, vnics[next].location)
        cursor = address.successor
        next += 1
      }
      if let from = cursor, from <= end { add(from, end, location) }
    }
    return regions
  }

  /// The location of an address.
  @inline(__always)
  private func location(of address: IPAddress) -> Location {
    if let v4 = address.v4Value {
      if let found = v4Locations.find(v4) { return found }
      return locations[Int(v4Intervals[Self.lastIndex(notAbove: v4, in: v4Starts)])]
    }
    if let found = v6Locations[address] { return locations[Int(found)] }
    return locations[Int(v6Intervals[Self.lastIndex(notAbove: address, in: v6Starts)])]
  }

  /// The index of the last element not above `value` (the first element is the smallest value).
  private static func lastIndex<T: Comparable>(notAbove value: T, in sorted: [T]) -> Int {
    var low = 0
    var high = sorted.count
    while high - low > 1 {
      let middle = (low + high) / 2
      if sorted[middle] <= value { low = middle } else { high = middle }
    }
    return low
  }

  // MARK: Building (for the compiler)

  /// A location's signatures and its endpoint's standing with ZPR.
  struct Location: Sendable {
    var source: Int32
    var destination: Int32
    /// The endpoint is protected.
    var protected: Bool
    /// Some statement names the endpoint.
    var named: Bool
  }

  mutating func addLocation(_ location: Location) -> Int32 {
    locations.append(location)
    return Int32(locations.count - 1)
  }

  /// Binds an address to a location: the first VNIC to hold it keeps it during compilation;
  /// an update rebinds it.
  mutating func bind(_ address: IPAddress, to location: Int32) {
    let replacing = isBuilt
    if let v4 = address.v4Value {
      if replacing || v4Locations.find(v4) == nil {
        v4Locations.insert(v4, locations[Int(location)])
      }
    } else if replacing || v6Locations[address] == nil {
      v6Locations[address] = location
    }
  }

  mutating func addRuleSet(_ ruleSet: RuleSet) -> Int32 {
    let index = ruleSets.append(ruleSet)
    statistics.ruleSets = ruleSets.count
    return index
  }

  mutating func addPair(_ source: Int32, _ destination: Int32, _ ruleSet: Int32) {
    let key = UInt64(UInt32(bitPattern: source)) << 32 | UInt64(UInt32(bitPattern: destination))
    if pairs.insert(key, ruleSet) < 0 {
      pairList.append((source, destination, ruleSet))
      statistics.signaturePairs = pairList.count
    }
  }

  mutating func setIntervals(
    v4 starts: [UInt32], _ v4: [Int32], v6 v6Starts: [IPAddress], _ v6: [Int32]
  ) {
    self.v4Starts = starts
    v4Intervals = v4
    self.v6Starts = v6Starts
    v6Intervals = v6
  }

  mutating func appendSignature(source list: [Int32]) {
    sourceStatements.append(list)
  }

  mutating func appendSignature(destination list: [Int32]) {
    destinationStatements.append(list)
  }

  mutating func setPairs(
    _ pairs: IntTable, list: [(Int32, Int32, Int32)], ruleSets: [RuleSet], statistics: Statistics
  ) {
    self.pairs = pairs
    pairList = list
    for ruleSet in ruleSets { _ = self.ruleSets.append(ruleSet) }
    var statistics = statistics
    statistics.locations = locations.count
    self.statistics = statistics
  }
}

/// A run of addresses of one family that ZPR sees alike: its signatures, and whether ZPR
/// protects it.
public struct AddressRegion: Hashable, Sendable {
  public var first: IPAddress
  public var last: IPAddress
  public var source: Int32
  public var destination: Int32
  public var protected: Bool
}

/// An open-addressing table from IPv4 addresses to locations, stored inline so that a lookup
/// touches one cache line.
struct AddressTable: Sendable {
  private struct Slot: Sendable {
    var key: UInt32
    var used: Bool
    var location: CompiledPolicy.Location
  }

  private var slots: [Slot] = []
  private var count = 0

  @inline(__always)
  func find(_ key: UInt32) -> CompiledPolicy.Location? {
    guard !slots.isEmpty else { return nil }
    let mask = slots.count - 1
    var slot = Self.slot(key, mask)
    while slots[slot].used {
      if slots[slot].key == key { return slots[slot].location }
      slot = (slot + 1) & mask
    }
    return nil
  }

  /// Every address in the table with its location, in no order.
  var entries: [(address: UInt32, location: CompiledPolicy.Location)] {
    slots.filter(\.used).map { ($0.key, $0.location) }
  }

  /// Stores (or replaces) the location of an address.
  mutating func insert(_ key: UInt32, _ location: CompiledPolicy.Location) {
    if (count + 1) * 2 > slots.count { grow() }
    let mask = slots.count - 1
    var slot = Self.slot(key, mask)
    while slots[slot].used {
      if slots[slot].key == key {
        slots[slot].location = location
        return
      }
      slot = (slot + 1) & mask
    }
    slots[slot] = Slot(key: key, used: true, location: location)
    count += 1
  }

  private mutating func grow() {
    let old = slots
    let empty = CompiledPolicy.Location(source: 0, destination: 0, protected: false, named: false)
    slots = Array(
      repeating: Slot(key: 0, used: false, location: empty), count: max(16, slots.count * 2))
    count = 0
    for slot in old where slot.used { insert(slot.key, slot.location) }
  }

  @inline(__always)
  private static func slot(_ key: UInt32, _ mask: Int) -> Int {
    Int(
      truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15)
        >> UInt64(64 - mask.nonzeroBitCount))
  }
}

/// Something ZPR allows between two signatures: TCP or UDP to a range of destination ports, or
/// ICMP messages (a type and code, or any), with the first statement that allows it.
public struct Grant: Hashable, Sendable, CustomStringConvertible {
  /// `tcp`, `udp`, `icmp`, `icmp6`, or `icmp/icmp6` for a statement without a protocol.
  public var transport: String
  public var ports: ClosedRange<Int>?
  public var icmpType: Int?
  public var icmpCode: Int?
  public var statement: StatementID
  /// Whether a granting statement is stateful (replies pass).
  public var stateful: Bool

  /// `tcp/5432`, `tcp/1000-2000`, `tcp` (every port), `icmp type 8`.
  public var description: String {
    if let ports {
      if ports == 0...65535 { return transport }
      return ports.count == 1
        ? "\(transport)/\(ports.lowerBound)"
        : "\(transport)/\(ports.lowerBound)-\(ports.upperBound)"
    }
    var text = transport
    if let icmpType { text += " type \(icmpType)" }
    if let icmpCode { text += " code \(icmpCode)" }
    return text
  }
}

/// Every rule set in three flat arrays (TCP spans, UDP spans, ICMP grants) with each set's
/// bounds, so that a decision reads them without touching a reference count.
struct RuleSetStore: Sendable {
  private struct Bounds: Sendable {
    var tcp: Int32
    var tcpEnd: Int32
    var udp: Int32
    var udpEnd: Int32
    var icmp: Int32
    var icmpEnd: Int32
  }

  private var tcp: [RuleSet.Span] = []
  private var udp: [RuleSet.Span] = []
  private var icmp: [RuleSet.ICMPGrant] = []
  private var bounds: [Bounds] = []

  var count: Int { bounds.count }

  mutating func append(_ ruleSet: RuleSet) -> Int32 {
    bounds.append(
      Bounds(
        tcp: Int32(tcp.count), tcpEnd: Int32(tcp.count + ruleSet.tcp.count),
        udp: Int32(udp.count), udpEnd: Int32(udp.count + ruleSet.udp.count),
        icmp: Int32(icmp.count), icmpEnd: Int32(icmp.count + ruleSet.icmp.count)))
    tcp += ruleSet.tcp
    udp += ruleSet.udp
    icmp += ruleSet.icmp
    return Int32(bounds.count - 1)
  }

  /// A rule set, rebuilt from the arrays.
  func ruleSet(_ index: Int) -> RuleSet {
    let bound = bounds[index]
    var ruleSet = RuleSet([])
    ruleSet.tcp = Array(tcp[Int(bound.tcp)..<Int(bound.tcpEnd)])
    ruleSet.udp = Array(udp[Int(bound.udp)..<Int(bound.udpEnd)])
    ruleSet.icmp = Array(icmp[Int(bound.icmp)..<Int(bound.icmpEnd)])
    return ruleSet
  }

  /// The first statement of a rule set that admits the flow, and whether any admitting one is
  /// stateful.
  @inline(__always)
  func match(_ index: Int, _ flow: Flow) -> (Int32, Bool)? {
    let bound = bounds[index]
    switch flow.transport {
    case .tcp: return Self.find(Int32(flow.destinationPort), in: tcp, bound.tcp, bound.tcpEnd)
    case .udp: return Self.find(Int32(flow.destinationPort), in: udp, bound.udp, bound.udpEnd)
    case .icmp:
      let family: Int8 = flow.destination.family == .v4 ? 4 : 6
      var first: Int32 = -1
      var stateful = false
      var position = Int(bound.icmp)
      while position < Int(bound.icmpEnd) {
        let grant = icmp[position]
        if (grant.family == 0 || grant.family == family)
          && (grant.type < 0 || grant.type == flow.icmpType)
          && (grant.code < 0 || grant.code == flow.icmpCode)
        {
          if first < 0 { first = grant.statement }
          stateful = stateful || grant.stateful
        }
        position += 1
      }
      return first < 0 ? nil : (first, stateful)
    }
  }

  @inline(__always)
  private static func find(_ port: Int32, in spans: [RuleSet.Span], _ start: Int32, _ end: Int32)
    -> (Int32, Bool)?
  {
    var low = Int(start)
    var high = Int(end)
    while low < high {
      let middle = (low + high) / 2
      let span = spans[middle]
      if port < span.lower {
        high = middle
      } else if port > span.upper {
        low = middle + 1
      } else {
        return (span.first, span.stateful)
      }
    }
    return nil
  }
}

/// The statements that join one pair of signatures, as port intervals per protocol.
struct RuleSet: Sendable {
  /// Disjoint, sorted ranges of destination ports with the first statement granting them and
  /// whether any granting statement is stateful.
  struct Span: Sendable {
    var lower: Int32
    var upper: Int32
    var first: Int32
    var stateful: Bool
  }

  /// An ICMP grant: family (4, 6, or 0 for both), type and code (-1: any).
  struct ICMPGrant: Sendable {
    var family: Int8
    var type: Int32
    var code: Int32
    var statement: Int32
    var stateful: Bool
  }

  var tcp: [Span] = []
  var udp: [Span] = []
  var icmp: [ICMPGrant] = []

  /// The rule set of statements (their numbers, ascending, and their filters).
  /// The rule set of statements given in policy order (their numbers and filters): the first
  /// to grant something is the one reported for it.
  init(_ statements: [(number: Int32, filters: Filters)]) {
    typealias Range = (lower: Int32, upper: Int32, priority: Int, number: Int32, stateful: Bool)
    var tcpRanges: [Range] = []
    var udpRanges: [Range] = []
    for (priority, (number, filters)) in statements.enumerated() {
      let stateful = filters.state == .stateful
      let typeFilter = Int32(filters.icmpType?.value ?? -1)
      let codeFilter = Int32(filters.icmpCode?.value ?? -1)
      let icmpOnly = filters.icmpType != nil || filters.icmpCode != nil
      switch filters.transport?.transport {
      case nil:
        if !icmpOnly {
          tcpRanges.append((0, 65535, priority, number, stateful))
          udpRanges.append((0, 65535, priority, number, stateful))
        }
        icmp.append(
          ICMPGrant(
            family: 0, type: typeFilter, code: codeFilter, statement: number, stateful: stateful))
      case .tcp?, .udp?:
        guard !icmpOnly else { continue }
        let ranges =
          filters.transport!.ports.isEmpty
          ? [(Int32(0), Int32(65535))]
          : filters.transport!.ports.map { (Int32($0.lower), Int32($0.upper)) }
        for (lower, upper) in ranges {
          if filters.transport!.transport == .tcp {
            tcpRanges.append((lower, upper, priority, number, stateful))
          } else {
            udpRanges.append((lower, upper, priority, number, stateful))
          }
        }
      case .icmp?, .icmp6?:
        icmp.append(
          ICMPGrant(
            family: filters.transport!.transport == .icmp ? 4 : 6, type: typeFilter,
            code: codeFilter, statement: number, stateful: stateful))
      }
    }
    tcp = Self.spans(tcpRanges)
    udp = Self.spans(udpRanges)
  }

  /// Disjoint spans from overlapping ranges: each point gets the covering statement that comes
  /// first in policy order and whether any covering statement is stateful.
  private static func spans(
    _ ranges: [(lower: Int32, upper: Int32, priority: Int, number: Int32, stateful: Bool)]
  ) -> [Span] {
    guard !ranges.isEmpty else { return [] }
    var cuts = Set<Int32>()
    for range in ranges {
      cuts.insert(range.lower)
      cuts.insert(range.upper + 1)
    }
    let points = cuts.sorted()
    var spans: [Span] = []
    for (start, end) in zip(points, points.dropFirst()) {
      var first: Int32 = -1
      var firstPriority = Int.max
      var stateful = false
      for range in ranges where range.lower <= start && start <= range.upper {
        if range.priority < firstPriority {
          firstPriority = range.priority
          first = range.number
        }
        stateful = stateful || range.stateful
      }
      guard first >= 0 else { continue }
      if var last = spans.last, last.upper == start - 1, last.first == first,
        last.stateful == stateful
      {
        last.upper = end - 1
        spans[spans.count - 1] = last
      } else {
        spans.append(Span(lower: start, upper: end - 1, first: first, stateful: stateful))
      }
    }
    return spans
  }
}
