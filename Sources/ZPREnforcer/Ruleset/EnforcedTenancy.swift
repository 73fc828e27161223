public import ZPREngine
public import ZPRModel

/// A tenancy compiled for enforcement, once for all its hosts: in enforce mode, and in audit
/// mode too when some attribute is in audit mode.
public struct EnforcedTenancy: Sendable {
  public let topology: Topology
  public let enforce: CompiledPolicy
  public let audit: CompiledPolicy?

  /// Compiles a tenancy.
  public init(_ tenancy: Tenancy) {
    topology = Topology(tenancy)
    enforce = CompiledPolicy(topology)
    audit =
      topology.endpoints.contains(where: \.hasAuditAttributes)
      ? CompiledPolicy(topology, mode: .audit) : nil
  }

  /// The ruleset of one host (`web-1`, or `web-1/1`).
  public func ruleset(for host: String, revision: Int64? = nil) throws(EnforcerError)
    -> HostRuleset
  {
    try HostRuleset(
      host: host, topology: topology, compiled: enforce, audit: audit, revision: revision)
  }
}
