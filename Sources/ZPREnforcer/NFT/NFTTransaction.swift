/// Changes to nftables that the kernel applies all or not at all (one `nft -f` batch): a
/// table defined anew, or elements added to and deleted from its maps.
public struct NFTTransaction: Hashable, Sendable {
  /// One change.
  public enum Operation: Hashable, Sendable {
    /// Defines the table anew: created if missing, deleted and defined again, so the kernel
    /// holds either the old table or the new one, never a mix.
    case replace(NFTTable)
    /// Adds elements to a map of a table (`inet zpr`).
    case addElements(table: String, map: String, [NFTElement])
    /// Deletes the elements of these keys from a map of a table.
    case deleteElements(table: String, map: String, keys: [String])
  }

  /// The changes, in order.
  public var operations: [Operation]

  /// A transaction.
  public init(_ operations: [Operation] = []) {
    self.operations = operations
  }

  /// The transaction that defines a table anew.
  public static func replacing(_ table: NFTTable) -> NFTTransaction {
    NFTTransaction([.replace(table)])
  }

  /// Whether it changes nothing.
  public var isEmpty: Bool { operations.isEmpty }

  /// Whether it only adds and deletes map elements (counters keep counting).
  public var updatesElementsOnly: Bool {
    operations.allSatisfy { if case .replace = $0 { false } else { true } }
  }

  /// The text `nft -f -` applies in one transaction.
  public var text: String {
    var lines: [String] = []
    for operation in operations {
      switch operation {
      case .replace(let table):
        if let comment = table.comment { lines.append("# \(comment)") }
        lines.append("table \(table.qualifiedName)")
        lines.append("delete table \(table.qualifiedName)")
        lines += table.definition(comments: true)
      case .addElements(let table, let map, let elements):
        lines.append(
          "add element \(table) \(map) { "
            + elements.map(\.description).joined(separator: ", ") + " }")
      case .deleteElements(let table, let map, let keys):
        lines.append("delete element \(table) \(map) { \(keys.joined(separator: ", ")) }")
      }
    }
    return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
  }
}

extension NFTTable {
  /// The element updates that turn this table into `new` (deletions first, so that no
  /// interval overlaps one that leaves), in one transaction; empty when their maps hold the
  /// same elements. Nil when they differ in more than map elements and comments (a counter,
  /// set, chain, rule or hook): the table must then be replaced.
  public func elementUpdate(to new: NFTTable) -> NFTTransaction? {
    guard structure == new.structure else { return nil }
    var deletions: [NFTTransaction.Operation] = []
    var additions: [NFTTransaction.Operation] = []
    for (before, after) in zip(maps, new.maps) {
      let kept = Set(before.elements).intersection(after.elements)
      let removed = before.elements.filter { !kept.contains($0) }.map(\.key)
      let added = after.elements.filter { !kept.contains($0) }
      if !removed.isEmpty {
        deletions.append(.deleteElements(table: qualifiedName, map: after.name, keys: removed))
      }
      if !added.isEmpty {
        additions.append(.addElements(table: qualifiedName, map: after.name, added))
      }
    }
    return NFTTransaction(deletions + additions)
  }
}
