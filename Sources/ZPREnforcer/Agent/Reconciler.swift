import ZPREngine

/// Keeps one host's firewall equal to the ruleset it should enforce: each new ruleset is
/// checked (`nft -c`), then applied in one transaction (element updates when only map elements
/// change, the whole table otherwise), and the established connections it no longer allows are
/// cut. Between changes it checks that the kernel's table is still the one it applied and, when
/// someone changed it, applies it again. The check is cheap: when the ruleset's generation has
/// not moved since zpr's own commit, nothing changed; only when it has is the table read back
/// and compared.
public actor Reconciler {
  public let backend: any FirewallBackend
  /// The table last applied; the generation its commit left (nil: unknown), and the kernel's
  /// listing of it (nil: not read yet).
  private var applied: (table: NFTTable, generation: UInt32?, listing: String?)?
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
    // The ruleset in force is the table last applied: no need to render it again (a check
    // between changes passes the same ruleset, compared at once).
    let table =
      if let applied, ruleset == current { applied.table } else { NFTRenderer.table(for: ruleset) }
    if let applied, applied.table == table {
      if try await intact(readingListing: true) { return .unchanged }
      try await commit(.replacing(table), table)
      current = ruleset
      return .repaired
    }
    lastChange = try await change(to: table)
    current = ruleset
    cut = try await cutRevoked(ruleset)
    return .applied
  }

  /// Puts a new table in the kernel: as element updates when only map elements change and
  /// the kernel still holds the table last applied, by replacing the table otherwise.
  private func change(to table: NFTTable) async throws(EnforcerError) -> Change {
    if let applied, let update = applied.table.elementUpdate(to: table),
      try await intact(readingListing: false)
    {
      if update.isEmpty {
        // Only comments differ, which the kernel does not keep.
        self.applied?.table = table
      } else {
        try await commit(update, table)
      }
      return .elements
    }
    try await commit(.replacing(table), table)
    return .table
  }

  /// Whether the kernel's table is still the one last applied: certainly so when the
  /// ruleset's generation is still the one zpr's commit left; otherwise when its listing is
  /// still the one read after that commit. `readingListing`: a check between changes reads
  /// that listing, once, while the generation vouches for it (a change does not wait for it).
  private func intact(readingListing: Bool) async throws(EnforcerError) -> Bool {
    guard let applied else { return false }
    let generation = try await backend.generation()
    if let generation, generation == applied.generation {
      if readingListing, applied.listing == nil, let listing = try await backend.listTable(),
        try await backend.generation() == generation
      {
        self.applied?.listing = Self.normalized(listing)
      }
      return true
    }
    guard let reference = applied.listing, let listing = try await backend.listTable(),
      Self.normalized(listing) == reference
    else { return false }
    // Unchanged, though something else was committed: this generation (read before the
    // listing, so that a later commit shows) is the one to compare with from now on.
    self.applied?.generation = generation
    return true
  }

  /// Checks and applies a transaction that leaves `table` in the kernel, and remembers how to
  /// tell later that it is still there: the generation after its commit when the commit was
  /// the only one in between, the kernel's listing when the backend tells no generation.
  private func commit(_ transaction: NFTTransaction, _ table: NFTTable)
    async throws(EnforcerError)
  {
    try await backend.check(transaction)
    let before = try await backend.generation()
    try await backend.apply(transaction)
    let after = try await backend.generation()
    guard let before, let after else {
      applied = (table, nil, Self.normalized(try await backend.listTable() ?? ""))
      return
    }
    // Another commit between the two readings may have changed the table: nothing is known
    // of it then, and the next check replaces it.
    applied = (table, after == before &+ 1 ? after : nil, nil)
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

  /// Cuts the tracked connections the new ruleset no longer allows as they are: those no
  /// statement allows any more, and those only a stateless statement does (their replies need
  /// a statement of their own now). Conntrack forgets them, so their next packet is decided
  /// again: dropped, or accepted without letting the replies pass.
  private func cutRevoked(_ ruleset: HostRuleset) async throws(EnforcerError) -> Int {
    guard ruleset.protected else { return 0 }
    let own = Set(ruleset.addresses)
    let stateful = Set(ruleset.statements.filter(\.stateful).map(\.name))
    var count = 0
    for connection in try await backend.trackedConnections() {
      let inbound = own.contains(connection.destination)
      guard inbound || own.contains(connection.source) else { continue }
      if let chain = ruleset.statement(for: connection, inbound: inbound), stateful.contains(chain)
      {
        continue
      }
      try await backend.cut(connection)
      count += 1
    }
    return count
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
