/// Who may reach whom under ZPR: endpoints grouped by how statements see them (same source and
/// destination signatures), and for each pair of groups what ZPR grants, with the statement
/// that grants it. Computed from the compiled tables, one signature pair at a time, never
/// endpoint pair by endpoint pair.
///
/// Only pairs that ZPR governs appear (at least one end protected). Pairs that no statement
/// joins are denied by ZPR; pairs of two unprotected endpoints are left to the network layers.
public struct ReachabilityMatrix: Sendable {
  /// Endpoints that statements cannot tell apart.
  public struct Group: Hashable, Sendable {
    /// The endpoints' indexes in the topology, and their names (`web-1/0`).
    public var endpoints: [Int]
    public var names: [String]
    public var protected: Bool
  }

  /// What ZPR grants from every endpoint of one group to every endpoint of another.
  public struct Cell: Hashable, Sendable {
    public var from: Int
    public var to: Int
    public var grants: [Grant]
  }

  public var groups: [Group]
  public var cells: [Cell]

  /// The matrix of a compiled policy over its topology's endpoints.
  public init(_ compiled: CompiledPolicy, topology: Topology) {
    struct Key: Hashable {
      var source: Int32
      var destination: Int32
      var protected: Bool
    }
    var groupIndex: [Key: Int] = [:]
    var groups: [Group] = []
    var bySource: [Int32: [Int]] = [:]
    var byDestination: [Int32: [Int]] = [:]
    for (index, endpoint) in topology.endpoints.enumerated() {
      guard let address = endpoint.ips.first else { continue }
      let (source, destination, protected) = compiled.signatures(at: address)
      let key = Key(source: source, destination: destination, protected: protected)
      if let known = groupIndex[key] {
        groups[known].endpoints.append(index)
        groups[known].names.append(endpoint.name)
      } else {
        groupIndex[key] = groups.count
        bySource[source, default: []].append(groups.count)
        byDestination[destination, default: []].append(groups.count)
        groups.append(Group(endpoints: [index], names: [endpoint.name], protected: protected))
      }
    }
    var cells: [Cell] = []
    for (source, destination) in compiled.signaturePairs {
      let from = bySource[source] ?? []
      let to = byDestination[destination] ?? []
      guard !from.isEmpty, !to.isEmpty else { continue }
      let grants = compiled.grants(from: source, to: destination)
      for sourceGroup in from {
        for destinationGroup in to
        where groups[sourceGroup].protected || groups[destinationGroup].protected {
          cells.append(Cell(from: sourceGroup, to: destinationGroup, grants: grants))
        }
      }
    }
    cells.sort { ($0.from, $0.to) < ($1.from, $1.to) }
    self.groups = groups
    self.cells = cells
  }
}
