import Foundation
import Synchronization
public import ZPREngine

/// A firewall in memory, for unit tests: it keeps the typed tables that transactions leave
/// (as the kernel would, all of a transaction or nothing), can be made to fail or to drift,
/// and counts what it was asked to do.
public final class FakeFirewallBackend: FirewallBackend {
  private struct State {
    var tables: [String: NFTTable] = [:]
    var applied: [NFTTransaction] = []
    var checks = 0
    var listings = 0
    var generation: UInt32 = 1
    var failure: EnforcerError?
    var connections: [Flow] = []
  }

  private let state = Mutex(State())

  /// An empty firewall.
  public init() {}

  /// Every transaction applied, in order.
  public var applied: [NFTTransaction] { state.withLock { $0.applied } }
  /// How many transactions were checked.
  public var checks: Int { state.withLock { $0.checks } }
  /// How many times zpr's table was listed.
  public var listings: Int { state.withLock { $0.listings } }
  /// zpr's table as it holds it now; nil when there is none.
  public var table: NFTTable? { state.withLock { $0.tables[NFTRenderer.table] } }

  /// Makes the next checks and applies fail with this error (nil: succeed again).
  public func fail(with error: EnforcerError?) { state.withLock { $0.failure = error } }

  /// Changes zpr's table behind the agent's back, as another tool would (a transaction of its
  /// own: the generation moves).
  public func tamper(_ change: (inout NFTTable) -> Void) {
    state.withLock {
      guard var table = $0.tables[NFTRenderer.table] else { return }
      change(&table)
      $0.tables[NFTRenderer.table] = table
      $0.generation &+= 1
    }
  }

  public func check(_ transaction: NFTTransaction) async throws(EnforcerError) {
    let failure = state.withLock { state -> EnforcerError? in
      state.checks += 1
      if let failure = state.failure { return failure }
      var tables = state.tables
      do throws(EnforcerError) {
        try Self.apply(transaction, to: &tables)
      } catch {
        return EnforcerError(.rulesetRefused, error.message)
      }
      return nil
    }
    if let failure { throw failure }
  }

  public func apply(_ transaction: NFTTransaction) async throws(EnforcerError) {
    let failure = state.withLock { state -> EnforcerError? in
      if let failure = state.failure { return failure }
      var tables = state.tables
      do throws(EnforcerError) {
        try Self.apply(transaction, to: &tables)
      } catch {
        return error
      }
      state.tables = tables
      state.applied.append(transaction)
      state.generation &+= 1
      return nil
    }
    if let failure { throw failure }
  }

  public func listTable() async throws(EnforcerError) -> String? {
    state.withLock {
      $0.listings += 1
      return $0.tables[NFTRenderer.table]?.listing
    }
  }

  public func generation() async throws(EnforcerError) -> UInt32? {
    state.withLock { $0.generation }
  }

  public func observations() async throws(EnforcerError) -> FirewallObservations {
    FirewallObservations()
  }

  public func deleteTable() async throws(EnforcerError) {
    state.withLock {
      if $0.tables.removeValue(forKey: NFTRenderer.table) != nil { $0.generation &+= 1 }
    }
  }

  /// The connections it tracks, as a test sets them up.
  public var connections: [Flow] {
    get { state.withLock { $0.connections } }
    set { state.withLock { $0.connections = newValue } }
  }

  public func trackedConnections() async throws(EnforcerError) -> [Flow] { connections }

  public func cut(_ connection: Flow) async throws(EnforcerError) {
    state.withLock { $0.connections.removeAll { $0 == connection } }
  }

  /// A transaction's operations on the tables, in order, as the kernel takes them: a table
  /// replaced whole (without its comments, which nft does not keep); elements added to a map
  /// (one already there with the same value is no change, with another value refused) or
  /// deleted from it (a missing one refused). Throws on the first refusal.
  static func apply(_ transaction: NFTTransaction, to tables: inout [String: NFTTable])
    throws(EnforcerError)
  {
    for operation in transaction.operations {
      switch operation {
      case .replace(let table):
        tables[table.qualifiedName] = table.withoutComments
      case .addElements(let name, let map, let elements):
        try update(&tables, name, map) { (current: inout [NFTElement]) throws(EnforcerError) in
          for element in elements {
            if let present = current.first(where: { $0.key == element.key }) {
              guard present.value == element.value else {
                throw EnforcerError(
                  .applyFailed, "Could not process rule: File exists: \(element.key)")
              }
              continue
            }
            current.append(element)
          }
        }
      case .deleteElements(let name, let map, let keys):
        try update(&tables, name, map) { (current: inout [NFTElement]) throws(EnforcerError) in
          for key in keys {
            guard let index = current.firstIndex(where: { $0.key == key }) else {
              throw EnforcerError(
                .applyFailed, "Could not process rule: No such file or directory: \(key)")
            }
            current.remove(at: index)
          }
        }
      }
    }
  }

  private static func update(
    _ tables: inout [String: NFTTable], _ name: String, _ map: String,
    _ change: (inout [NFTElement]) throws(EnforcerError) -> Void
  ) throws(EnforcerError) {
    guard var table = tables[name], var elements = table.map(named: map)?.elements else {
      throw EnforcerError(
        .applyFailed, "Could not process rule: No such file or directory: map \(name) \(map)")
    }
    try change(&elements)
    table.updateMap(named: map) { $0.elements = elements }
    tables[name] = table
  }
}
