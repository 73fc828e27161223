import Synchronization
public import ZPREngine

/// A firewall in memory, for unit tests: it keeps what was applied, can be made to fail or to
/// drift, and counts what it was asked to do.
public final class FakeFirewallBackend: FirewallBackend {
  private struct State {
    var table: String?
    var applied: [String] = []
    var checks = 0
    var failure: EnforcerError?
    var connections: [Flow] = []
  }

  private let state = Mutex(State())

  /// An empty firewall.
  public init() {}

  /// Every ruleset applied, in order.
  public var applied: [String] { state.withLock { $0.applied } }
  /// How many rulesets were checked.
  public var checks: Int { state.withLock { $0.checks } }

  /// Makes the next checks and applies fail with this error (nil: succeed again).
  public func fail(with error: EnforcerError?) { state.withLock { $0.failure = error } }

  /// Changes the table behind the agent's back, as another tool would.
  public func tamper(_ change: @Sendable (String) -> String) {
    state.withLock { $0.table = $0.table.map(change) }
  }

  public func check(_ ruleset: String) async throws(EnforcerError) {
    let failure = state.withLock {
      $0.checks += 1
      return $0.failure
    }
    if let failure { throw failure }
  }

  public func apply(_ ruleset: String) async throws(EnforcerError) {
    let failure: EnforcerError? = state.withLock {
      if let failure = $0.failure { return failure }
      $0.applied.append(ruleset)
      // What the kernel would list: the definition, without comments or the replace preamble.
      $0.table = Self.listing(of: ruleset)
      return nil
    }
    if let failure { throw failure }
  }

  public func listTable() async throws(EnforcerError) -> String? {
    state.withLock { $0.table }
  }

  public func observations() async throws(EnforcerError) -> FirewallObservations {
    FirewallObservations()
  }

  public func deleteTable() async throws(EnforcerError) {
    state.withLock { $0.table = nil }
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

  static func listing(of ruleset: String) -> String {
    ruleset.split(separator: "\n").filter {
      !$0.trimmingPrefix(while: \.isWhitespace).hasPrefix("#")
        && !$0.hasPrefix("delete table") && $0 != "table \(NFTRenderer.table)"
    }.joined(separator: "\n")
  }
}
