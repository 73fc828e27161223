public import ZPRModel

/// What a change to the policies (or to the whole tenancy) does: which endpoint pairs gain or
/// lose access under ZPR, on which protocols and ports, and through which statements.
///
/// Endpoints are matched by name (`web-1/0`) across the two versions and grouped by how both
/// versions' statements see them, so the diff is computed per pair of groups, never per pair of
/// endpoints. A pair that ZPR does not govern (no end protected) counts as allowing everything:
/// protecting an endpoint shows as lost access, unprotecting one as gained.
public struct PolicyDiff: Sendable {
  /// One protocol and port range (or ICMP message), with the statement that allows it in the
  /// version it belongs to (nil: ZPR did not govern the pair).
  public struct Access: Hashable, Sendable, CustomStringConvertible {
    /// `tcp`, `udp`, or `icmp` (with `message` such as `icmp type 8`).
    public var transport: String
    public var ports: ClosedRange<Int>?
    public var message: String?
    public var statement: StatementID?

    public var description: String {
      if let ports {
        if ports == 0...65535 { return "\(transport) (every port)" }
        return ports.count == 1
          ? "\(transport)/\(ports.lowerBound)"
          : "\(transport)/\(ports.lowerBound)-\(ports.upperBound)"
      }
      return message ?? transport
    }
  }

  /// A pair of endpoint groups whose access changes.
  public struct Change: Hashable, Sendable {
    /// The endpoints' names (present in either version).
    public var from: [String]
    public var to: [String]
    /// Access the new version grants that the old did not (statements of the new version).
    public var gained: [Access]
    /// Access the old version granted that the new does not (statements of the old version).
    public var lost: [Access]
  }

  public var changes: [Change]
  /// Endpoints that ZPR protected and no longer does, though they are still there: every flow
  /// to and from them is now left to the network's rules.
  public var unprotected: [String]

  /// The diff between two versions of a tenancy.
  public init(old: Tenancy, new: Tenancy) {
    let oldTopology = Topology(old)
    let newTopology = Topology(new)
    let oldPolicy = CompiledPolicy(oldTopology)
    let newPolicy = CompiledPolicy(newTopology)

    /// How one version sees an endpoint: its signatures and protection (nil: not there).
    struct View: Hashable {
      var source: Int32
      var destination: Int32
      var protected: Bool
    }
    func views(_ topology: Topology, _ compiled: CompiledPolicy) -> [String: View] {
      var views: [String: View] = [:]
      for endpoint in topology.endpoints {
        guard let address = endpoint.ips.first else { continue }
        let (source, destination, protected) = compiled.signatures(at: address)
        views[endpoint.name] = View(source: source, destination: destination, protected: protected)
      }
      return views
    }
    let oldViews = views(oldTopology, oldPolicy)
    let newViews = views(newTopology, newPolicy)
    let names = Set(oldViews.keys).union(newViews.keys).sorted()
    unprotected = names.filter {
      oldViews[$0]?.protected == true && newViews[$0].map { !$0.protected } == true
    }

    struct Role: Hashable {
      var old: Int32?
      var oldProtected: Bool
      var new: Int32?
      var newProtected: Bool
    }
    var sourceGroups: [Role: [String]] = [:]
    var destinationGroups: [Role: [String]] = [:]
    for name in names {
      let old = oldViews[name]
      let new = newViews[name]
      sourceGroups[
        Role(
          old: old?.source, oldProtected: old?.protected ?? false, new: new?.source,
          newProtected: new?.protected ?? false), default: []
      ].append(name)
      destinationGroups[
        Role(
          old: old?.destination, oldProtected: old?.protected ?? false, new: new?.destination,
          newProtected: new?.protected ?? false), default: []
      ].append(name)
    }

    // The pairs of groups to compare: those some statement joins in either version, and those
    // (present in both) whose ZPR standing differs between the versions.
    var candidates = Set<[Role]>()
    var sourcesByOld: [Int32: [Role]] = [:]
    var sourcesByNew: [Int32: [Role]] = [:]
    var destinationsByOld: [Int32: [Role]] = [:]
    var destinationsByNew: [Int32: [Role]] = [:]
    for role in sourceGroups.keys {
      if let old = role.old { sourcesByOld[old, default: []].append(role) }
      if let new = role.new { sourcesByNew[new, default: []].append(role) }
    }
    for role in destinationGroups.keys {
      if let old = role.old { destinationsByOld[old, default: []].append(role) }
      if let new = role.new { destinationsByNew[new, default: []].append(role) }
    }
    for (source, destination) in oldPolicy.signaturePairs {
      for from in sourcesByOld[source] ?? [] {
        for to in destinationsByOld[destination] ?? [] { candidates.insert([from, to]) }
      }
    }
    for (source, destination) in newPolicy.signaturePairs {
      for from in sourcesByNew[source] ?? [] {
        for to in destinationsByNew[destination] ?? [] { candidates.insert([from, to]) }
      }
    }
    func present(_ role: Role) -> Bool { role.old != nil && role.new != nil }
    func governed(_ from: Role, _ to: Role) -> (Bool, Bool) {
      (from.oldProtected || to.oldProtected, from.newProtected || to.newProtected)
    }
    let presentSources = sourceGroups.keys.filter(present)
    let presentDestinations = destinationGroups.keys.filter(present)
    for from in presentSources where from.oldProtected != from.newProtected {
      for to in presentDestinations where governed(from, to).0 != governed(from, to).1 {
        candidates.insert([from, to])
      }
    }
    for to in presentDestinations where to.oldProtected != to.newProtected {
      for from in presentSources where governed(from, to).0 != governed(from, to).1 {
        candidates.insert([from, to])
      }
    }

    func access(
      _ compiled: CompiledPolicy, _ source: Int32?, _ sourceProtected: Bool, _ destination: Int32?,
      _ destinationProtected: Bool
    ) -> [Access]? {
      guard let source, let destination else { return nil }
      guard sourceProtected || destinationProtected else {
        return [
          Access(transport: "tcp", ports: 0...65535), Access(transport: "udp", ports: 0...65535),
          Access(transport: "icmp", message: "icmp (every message)"),
        ]
      }
      return compiled.grants(from: source, to: destination).map { grant in
        switch grant.transport {
        case "tcp", "udp":
          Access(transport: grant.transport, ports: grant.ports, statement: grant.statement)
        default:
          Access(transport: "icmp", message: grant.description, statement: grant.statement)
        }
      }
    }

    var changes: [Change] = []
    for pair in candidates {
      let (source, destination) = (pair[0], pair[1])
      let before =
        access(
          oldPolicy, source.old, source.oldProtected, destination.old, destination.oldProtected)
        ?? []
      let after =
        access(
          newPolicy, source.new, source.newProtected, destination.new, destination.newProtected)
        ?? []
      let gained = Self.subtract(after, before)
      let lost = Self.subtract(before, after)
      guard !gained.isEmpty || !lost.isEmpty else { continue }
      changes.append(
        Change(
          from: sourceGroups[source]!, to: destinationGroups[destination]!, gained: gained,
          lost: lost))
    }
    changes.sort {
      ($0.from.first ?? "", $0.to.first ?? "") < ($1.from.first ?? "", $1.to.first ?? "")
    }
    self.changes = changes
  }

  /// The access of `lhs` that `rhs` does not have: port ranges cut by `rhs`'s ranges of the same
  /// protocol; ICMP messages that `rhs` does not list (any ICMP covers every message).
  static func subtract(_ lhs: [Access], _ rhs: [Access]) -> [Access] {
    var result: [Access] = []
    for access in lhs {
      if let ports = access.ports {
        var remaining = [ports]
        for other in rhs where other.transport == access.transport {
          guard let cut = other.ports else { continue }
          remaining = remaining.flatMap { range -> [ClosedRange<Int>] in
            guard range.overlaps(cut) else { return [range] }
            var pieces: [ClosedRange<Int>] = []
            if range.lowerBound < cut.lowerBound {
              pieces.append(range.lowerBound...(cut.lowerBound - 1))
            }
            if range.upperBound > cut.upperBound {
              pieces.append((cut.upperBound + 1)...range.upperBound)
            }
            return pieces
          }
        }
        result += remaining.map {
          Access(transport: access.transport, ports: $0, statement: access.statement)
        }
      } else {
        let covered = rhs.contains {
          $0.transport == "icmp" && ($0.message == access.message || $0.statement == nil)
        }
        if !covered { result.append(access) }
      }
    }
    return result
  }
}
