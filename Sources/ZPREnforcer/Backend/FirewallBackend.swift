public import ZPREngine

/// Where rulesets go: the kernel through `nft` (``NFTBackend``), or memory for unit tests
/// (``FakeFirewallBackend``, which keeps the typed tables).
public protocol FirewallBackend: Sendable {
  /// Checks a transaction without applying it (`nft -c -f -`).
  func check(_ transaction: NFTTransaction) async throws(EnforcerError)
  /// Applies a transaction, all of it or nothing (`nft -f -`).
  func apply(_ transaction: NFTTransaction) async throws(EnforcerError)
  /// zpr's table as the kernel holds it, without counter values (`nft -s list table inet zpr`);
  /// nil when there is none.
  func listTable() async throws(EnforcerError) -> String?
  /// The ruleset's generation, which every committed transaction raises (by anyone, on any
  /// table); nil when the backend cannot tell, and the table must be read back to be checked.
  func generation() async throws(EnforcerError) -> UInt32?
  /// The denied flows recorded since they were last read, and the statements' counters.
  func observations() async throws(EnforcerError) -> FirewallObservations
  /// Removes zpr's table (nothing else is touched).
  func deleteTable() async throws(EnforcerError)
  /// The connections the kernel tracks that a stateful statement allowed (conntrack entries
  /// with zpr's mark), by their original direction.
  func trackedConnections() async throws(EnforcerError) -> [Flow]
  /// Forgets a tracked connection: its next packet is a new flow, decided by the ruleset again.
  func cut(_ connection: Flow) async throws(EnforcerError)
}

/// What the kernel saw: packets per statement counter, and flows no statement allowed.
public struct FirewallObservations: Hashable, Sendable {
  /// Packets counted by each statement's counter (`s0_1`) and by `denied`.
  public var packets: [String: Int]
  /// Denied flows: `in` or `out`, the peer and the host address, the protocol and the port.
  public var denied: [DeniedFlow]

  /// Observations.
  public init(packets: [String: Int] = [:], denied: [DeniedFlow] = []) {
    self.packets = packets
    self.denied = denied
  }
}

/// A flow the ruleset dropped because no statement allowed it, or (audit) one it accepted that
/// no statement would allow once the audit-mode attributes are enforced.
public struct DeniedFlow: Hashable, Sendable {
  /// `in` (the peer tried to reach this host) or `out`.
  public var direction: String
  public var peer: String
  public var host: String
  /// `tcp` or `udp`.
  public var transport: String
  public var port: Int
  /// Denied in audit mode only: accepted, and recorded.
  public var audit: Bool

  /// A denied flow.
  public init(
    direction: String, peer: String, host: String, transport: String, port: Int,
    audit: Bool = false
  ) {
    self.direction = direction
    self.peer = peer
    self.host = host
    self.transport = transport
    self.port = port
    self.audit = audit
  }
}
