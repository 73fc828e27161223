import ZPREngine

/// Keeps one host's firewall equal to the ruleset it should enforce: each new ruleset is
/// checked (`nft -c`), then applied in one transaction (element updates when only map elements
/// change, the whole table otherwise), and the established connections it no longer allows are
/// cut; between changes the kernel's table is read back and, when someone changed it, applied
/// again.
public actor Reconciler {
  public let backend: any FirewallBackend
  /// The text last applied, and the kernel's listing right after it.
  private var applied: (text: String, listing: String)?
  /// The ruleset being enforced.
  public private(set) var current: HostRuleset?

  /// What one reconciliation did.
  public enum Outcome: String, Hashable, Sendable {
    /// The ruleset was new and is now enforced.
    case applied
    /// The kernel already enforced it.
    case unchanged
    /// The kernel's table had drifted from it (changed or removed by someone else) and was
    /// put back.
    case repaired
  }

  /// A reconciler over a backend.
  public init(backend: any FirewallBackend) {
    self.backend = backend
  }

  /// Before the first ruleset: a protected host lets nothing through (fail closed).
  public func failClosed(host: String) async throws(EnforcerError) -> Outcome {
    try await enforce(.failClosed(host: host))
  }

  /// Makes the kernel enforce a ruleset, applying it only when it is new or has drifted. When
  /// applying fails, the previous ruleset stays in force (fail static) and the error is thrown.
  @discardableResult
  public func enforce(_ ruleset: HostRuleset) async throws(EnforcerError) -> Outcome {
    let text = NFTRenderer.render(ruleset)
    if let applied, applied.text == text {
      let listing = try await backend.listTable()
      if let listing, Self.normalized(listing) == applied.listing { return .unchanged }
      try await install(text)
      current = ruleset
      return .repaired
    }
    lastChange = try await change(to: ruleset, text: text)
    current = ruleset
    cut = try await cutRevoked(ruleset)
    return .applied
  }

  /// Puts a new ruleset in the kernel: as element updates when only map elements change and
  /// the table is still the one last applied, by replacing the table otherwise.
  private func change(to ruleset: HostRuleset, text: String) async throws(EnforcerError)
    -> Change
  {
    if let applied, let current, let changes = NFTRenderer.update(from: current, to: ruleset) {
      // Element updates land on the table last applied, so it must still be that one.
      let listing = try await backend.listTable()
      if let listing, Self.normalized(listing) == applied.listing {
        if !changes.isEmpty {
          let update = changes.joined(separator: "\n") + "\n"
          try await backend.check(update)
          try await backend.apply(update)
        }
        let after = changes.isEmpty ? listing : try await backend.listTable() ?? ""
        self.applied = (text, Self.normalized(after))
        return .elements
      }
    }
    try await install(text)
    return .table
  }

  /// How a new ruleset reached the kernel.
  public enum Change: String, Hashable, Sendable {
    /// The table was replaced (a first ruleset, or one whose statements, protection or
    /// address families differ).
    case table
    /// Only map elements were added and deleted (one transaction; counters keep counting).
    case elements
  }

  /// How the last new ruleset was applied.
  public private(set) var lastChange: Change?

  /// How many established connections the last new ruleset cut.
  public private(set) var cut = 0

  /// Cuts the tracked connections the new ruleset no longer allows: conntrack forgets them,
  /// so their next packet is decided again, and dropped.
  private func cutRevoked(_ ruleset: HostRuleset) async throws(EnforcerError) -> Int {
    guard ruleset.protected else { return 0 }
    let own = Set(ruleset.addresses)
    var count = 0
    for connection in try await backend.trackedConnections() {
      let inbound = own.contains(connection.destination)
      guard inbound || own.contains(connection.source),
        ruleset.statement(for: connection, inbound: inbound) == nil
      else { continue }
      try await backend.cut(connection)
      count += 1
    }
    return count
  }

  private func install(_ text: String) async throws(EnforcerError) {
    try await backend.check(text)
    try await backend.apply(text)
    let listing = try await backend.listTable() ?? ""
    applied = (text, Self.normalized(listing))
  }

  /// A listing without what changes by itself: the (audit-)denied-flow sets' elements.
  static func normalized(_ listing: String) -> String {
    var lines: [String] = []
    var inDeniedSet = false
    var skippingElements = false
    for line in listing.split(separator: "\n", omittingEmptySubsequences: true) {
      let trimmed = line.trimmingPrefix(while: \.isWhitespace)
      if trimmed.hasPrefix("set "), trimmed.contains("denied_") { inDeniedSet = true }
      if inDeniedSet, trimmed.hasPrefix("elements = {") { skippingElements = true }
      if skippingElements {
        if trimmed.hasSuffix("}") { skippingElements = false }
        continue
      }
      if inDeniedSet, trimmed == "}" { inDeniedSet = false }
      lines.append(String(line))
    }
    return lines.joined(separator: "\n")
  }
}
