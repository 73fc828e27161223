/// The limits the server holds every caller to, in one place. `zpr serve` sets them from its
/// options; docs/security.md lists the defaults and how to change each.
public struct ServerLimits: Hashable, Sendable {
  /// The largest request body of a single resource or query (bytes).
  public var bodyBytes: Int
  /// The largest request body of `apply` and `whatIf`, which carry a whole tenancy file (bytes).
  public var tenancyBytes: Int
  /// Connections served at once; the ones over it are closed as they arrive.
  public var connections: Int
  /// Seconds a connection may take to send a complete request head (after connecting, or after
  /// the last response); also how long an idle connection stays open.
  public var headerSeconds: Int
  /// Seconds a request may take to send its body once its head has arrived.
  public var bodySeconds: Int

  /// Limits from their parts; the defaults suit a control plane on one machine.
  public init(
    bodyBytes: Int = 256 << 10, tenancyBytes: Int = 32 << 20, connections: Int = 512,
    headerSeconds: Int = 20, bodySeconds: Int = 60
  ) {
    self.bodyBytes = bodyBytes
    self.tenancyBytes = tenancyBytes
    self.connections = connections
    self.headerSeconds = headerSeconds
    self.bodySeconds = bodySeconds
  }

  /// The defaults.
  public static let standard = ServerLimits()
}
