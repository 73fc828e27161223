public import Foundation
public import ZPRModel
public import ZPRPolicy

/// One stored resource: its identity, its place, its state, and its body (the JSON of the
/// element as the tenancy file writes it).
public struct ResourceRecord: Hashable, Sendable, Codable {
  /// `namespace`, `policy`, `vcn`, `instance`, ...
  public var kind: String
  public var id: String
  public var name: String
  /// The resource it belongs to (an attribute's namespace, a subnet's VCN), if any.
  public var parent: String?
  public var lifecycleState: LifecycleState
  /// The resource's JSON.
  public var body: String
  /// Bumped by every change: the resource's ETag.
  public var version: Int64
  public var timeCreated: Date
  public var timeUpdated: Date
  /// The revision of the tenancy that last changed it.
  public var revision: Int64

  /// A record.
  public init(
    kind: String, id: String, name: String, parent: String? = nil,
    lifecycleState: LifecycleState = .active, body: String, version: Int64 = 1,
    timeCreated: Date = Date(), timeUpdated: Date = Date(), revision: Int64 = 0
  ) {
    self.kind = kind
    self.id = id
    self.name = name
    self.parent = parent
    self.lifecycleState = lifecycleState
    self.body = body
    self.version = version
    self.timeCreated = timeCreated
    self.timeUpdated = timeUpdated
    self.revision = revision
  }
}

/// One change in a commit.
public enum Mutation: Hashable, Sendable, Codable {
  /// A new resource (its id, version, times and revision are the store's to set).
  case create(
    kind: String, name: String, parent: String?, lifecycleState: LifecycleState, body: String)
  /// A new body, name or state for a resource, when its version is still `expectedVersion`
  /// (nil: whatever it is).
  case update(
    kind: String, id: String, expectedVersion: Int64?, name: String?,
    lifecycleState: LifecycleState?,
    body: String?)
  /// Removes a resource, when its version is still `expectedVersion` (nil: whatever it is).
  case delete(kind: String, id: String, expectedVersion: Int64?)
}

/// What a commit did: the revision it got and the records it wrote (nil for a delete).
public struct Commit: Hashable, Sendable, Codable {
  public var revision: Int64
  public var records: [ResourceRecord?]
  /// True when an idempotency key matched an earlier commit, which is returned instead.
  public var replayed: Bool

  /// A commit's answer.
  public init(revision: Int64, records: [ResourceRecord?], replayed: Bool) {
    self.revision = revision
    self.records = records
    self.replayed = replayed
  }
}

/// An append-only record of one accepted change.
public struct AuditRecord: Hashable, Sendable, Codable {
  public var revision: Int64
  public var time: Date
  public var actor: String
  /// `create`, `update` or `delete`.
  public var action: String
  public var kind: String
  public var id: String
  /// The record before and after (JSON of ``ResourceRecord``; nil where there is none).
  public var before: String?
  public var after: String?
}

/// Which records a list returns: a page, filtered by name, state or parent.
public struct ListQuery: Hashable, Sendable {
  public var name: String?
  public var lifecycleState: LifecycleState?
  public var parent: String?
  /// At most this many; the page after the record with this id.
  public var limit: Int
  public var after: String?

  /// A query.
  public init(
    name: String? = nil, lifecycleState: LifecycleState? = nil, parent: String? = nil,
    limit: Int = 100,
    after: String? = nil
  ) {
    self.name = name
    self.lifecycleState = lifecycleState
    self.parent = parent
    self.limit = limit
    self.after = after
  }
}

/// Why the store refused something: a stable code and what to do.
public struct StoreError: ZPRError, CodedError, Hashable {
  /// Stable codes.
  public enum Code: String, Hashable, Sendable {
    case notFound = "ZPR-STORE-001"
    case versionMismatch = "ZPR-STORE-002"
    case duplicateName = "ZPR-STORE-003"
    case invalid = "ZPR-STORE-004"
    case idempotencyConflict = "ZPR-STORE-005"
    case unavailable = "ZPR-STORE-006"
    case staleRevision = "ZPR-STORE-007"
  }

  public var code: Code
  public var message: String
  /// The database's own error, when one was the reason.
  public var cause: (any Error)? { underlying.error }
  private var underlying: ErrorCause

  /// An error.
  public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    underlying = ErrorCause(cause)
  }
}

/// Where zpr keeps the tenancy: resources, the revision counter, the audit log, idempotency
/// keys. Every commit is one transaction: all of its mutations and its audit records, or
/// nothing. Implementations: SQLite (``SQLiteStore``) and PostgreSQL (``PostgresStore``).
public protocol Store: Sendable {
  /// The revision of the last accepted change (0 before any).
  func revision() async throws -> Int64

  /// A record by kind and id.
  func record(kind: String, id: String) async throws -> ResourceRecord?

  /// Records of a kind, in id order, a page at a time.
  func records(kind: String, _ query: ListQuery) async throws -> [ResourceRecord]

  /// Every record (to build the tenancy from).
  func allRecords() async throws -> [ResourceRecord]

  /// Applies mutations as one change by `actor`: checks versions and names, and the change as
  /// `check` says, writes, gets the next revision, appends the audit records; a refused change
  /// writes nothing. With an idempotency key the same
  /// actor already used for the same mutations, the earlier commit is returned and nothing is
  /// written; for other mutations, the key is refused.
  func commit(
    _ mutations: [Mutation], actor: String, idempotencyKey: String?, check: CommitCheck
  ) async throws -> Commit

  /// Audit records after a revision, oldest first.
  func audit(after revision: Int64, limit: Int) async throws -> [AuditRecord]

  /// Keeps an enforcement agent's last report (its JSON text), replacing the one before.
  /// Reports are the agents' state, not the tenancy's: they take no revision and no audit
  /// record, and every replica sees them.
  func putAgentReport(host: String, report: String, time: Date) async throws

  /// Agents' last reports in host order, a page at a time: at most `limit`, after the host
  /// `after` (nil: from the first).
  func agentReports(after: String?, limit: Int) async throws -> [(host: String, report: String)]

  /// Forgets an agent's report (a host taken out of service); false when there was none.
  func deleteAgentReport(host: String) async throws -> Bool

  /// The revisions as they are committed, through this store or any other replica on the same
  /// database, for as long as the stream is iterated.
  ///
  /// The contract: every committed revision is eventually announced on every replica, but
  /// announcements may be coalesced (after 5, 6 and 7 are committed, announcing 7 alone is
  /// enough) and may repeat or start with the current revision, so a watcher keeps the largest
  /// value it has seen. The stream may start announcing a moment after it is made: read
  /// ``revision()`` after making it, not before, to miss nothing. Ending the iteration (or
  /// cancelling its task) ends the stream.
  ///
  /// The default asks ``revision()`` once a second; the SQLite and PostgreSQL stores are told
  /// of each commit instead (see theirs).
  func revisions() -> AsyncStream<Int64>
}

extension Store {
  /// Revisions by asking ``revision()`` once a second (for stores that cannot be told).
  public func revisions() -> AsyncStream<Int64> {
    AsyncStream(Int64.self, bufferingPolicy: .bufferingNewest(1)) { continuation in
      let poll = Task {
        while !Task.isCancelled {
          if let revision = try? await revision() { continuation.yield(revision) }
          try? await Task.sleep(for: .seconds(1))
        }
      }
      continuation.onTermination = { _ in poll.cancel() }
    }
  }
}

/// How a commit is checked before it is written.
public enum CommitCheck: Sendable {
  /// `validate` sees every record as the change leaves them, inside the transaction (no other
  /// commit can come between), and may throw to refuse the change.
  case validate(@Sendable ([ResourceRecord]) throws -> Void)
  /// The change was checked by the caller against the state of this revision (as a server
  /// that keeps the tenancy in memory does): it is made only if the store is still there, and
  /// otherwise refused with ``StoreError/Code/staleRevision``, so a change checked against an
  /// old state is never committed.
  case after(Int64)
}

extension Store {
  /// A commit checked by `validate` (``CommitCheck/validate(_:)``).
  public func commit(
    _ mutations: [Mutation], actor: String, idempotencyKey: String?,
    validate: @escaping @Sendable ([ResourceRecord]) throws -> Void
  ) async throws -> Commit {
    try await commit(
      mutations, actor: actor, idempotencyKey: idempotencyKey, check: .validate(validate))
  }

  /// A commit made only at a revision (``CommitCheck/after(_:)``).
  public func commit(
    _ mutations: [Mutation], actor: String, idempotencyKey: String?, after revision: Int64
  ) async throws -> Commit {
    try await commit(
      mutations, actor: actor, idempotencyKey: idempotencyKey, check: .after(revision))
  }

  /// Every agent's last report, by host name.
  public func agentReports() async throws -> [(host: String, report: String)] {
    try await agentReports(after: nil, limit: Int(Int32.max))
  }
}
