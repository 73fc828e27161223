import Crypto
import Foundation
import Synchronization
import ZPRModel
public import ZPRPolicy

// What a commit means, whatever the database: the records a mutation makes, the checks on the
// record it changes, its audit entry, the commit's time, and the errors. Both stores call these,
// so SQLite and PostgreSQL cannot drift apart.

extension Mutation {
  /// The kind of resource it changes.
  public var kind: String {
    switch self {
    case .create(let kind, _, _, _, _), .update(let kind, _, _, _, _, _), .delete(let kind, _, _):
      kind
    }
  }

  /// What identifies a change for its idempotency key: the SHA-256 (hex) of the mutations'
  /// JSON with sorted keys. The same request rebuilt on a retry gives the same mutations, and
  /// so the same hash; the store keeps the 64 characters, never the change itself.
  static func requestHash(_ mutations: [Mutation]) throws -> String {
    let text = try StoreJSON.text(mutations)
    return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
  }

  /// `create`, `update` or `delete`, as the audit log names it.
  var action: String {
    switch self {
    case .create: "create"
    case .update: "update"
    case .delete: "delete"
    }
  }
}

extension LifecycleState {
  /// A state as a store column holds it; the stores write only the states' names, so anything
  /// else (a database edited by hand) reads as the state that hides the record, `DELETED`.
  init(stored: String) {
    self = LifecycleState(rawValue: stored) ?? .deleted
  }
}

extension ResourceRecord {
  /// The element the body holds (an empty object if it is not one: the stores write only
  /// bodies the server made).
  public var element: JSONValue {
    // The body was bounded when it was written: read it whole, whatever its longest string.
    let limits = JSONLimits(maxStringLength: max(body.utf8.count, 1), maxValues: Int.max)
    guard let value = try? JSONValue.parse(body, limits: limits), value.objectMembers != nil else {
      return .object([])
    }
    return value
  }

  /// The record a create makes, with a new id.
  static func created(
    kind: String, name: String, parent: String?, lifecycleState: LifecycleState, body: String,
    now: Date,
    revision: Int64
  ) -> ResourceRecord {
    ResourceRecord(
      kind: kind, id: "\(kind)-\(UUID().uuidString.lowercased())", name: name, parent: parent,
      lifecycleState: lifecycleState, body: body, version: 1, timeCreated: now, timeUpdated: now,
      revision: revision)
  }

  /// This record after an update: the given fields replaced, the next version.
  func updated(
    name: String?, lifecycleState: LifecycleState?, body: String?, now: Date, revision: Int64
  )
    -> ResourceRecord
  {
    var after = self
    if let name { after.name = name }
    if let lifecycleState { after.lifecycleState = lifecycleState }
    if let body { after.body = body }
    after.version += 1
    after.timeUpdated = now
    after.revision = revision
    return after
  }

  /// The record an update or delete found, when there is one at the expected version.
  static func checked(_ record: ResourceRecord?, kind: String, id: String, expected: Int64?)
    throws -> ResourceRecord
  {
    guard let record else {
      throw StoreError(.notFound, "there is no \(kind) with id '\(id)': list them to find it")
    }
    if let expected, record.version != expected {
      throw StoreError(
        .versionMismatch,
        "\(kind) '\(record.name)' is at version \(record.version), not \(expected): someone changed "
          + "it since you read it; read it again and retry")
    }
    return record
  }

  /// Names are unique without regard to ASCII case: the key they are compared by.
  public static func nameKey(_ name: String) -> String {
    String(decoding: name.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
  }
}

/// One audit entry of a commit, before it is written.
struct AuditEntry {
  var action: String
  var kind: String
  var id: String
  var before: String?
  var after: String?

  init(_ mutation: Mutation, before: ResourceRecord?, after: ResourceRecord?) throws {
    let subject = after ?? before!
    action = mutation.action
    kind = subject.kind
    id = subject.id
    self.before = try before.map(StoreJSON.text)
    self.after = try after.map(StoreJSON.text)
  }
}

/// The JSON the stores keep (audit records, idempotent responses): sorted keys, dates as
/// Foundation writes them, so they read back exactly.
enum StoreJSON {
  static func text(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  static func commit(_ text: String) throws -> Commit {
    try JSONDecoder().decode(Commit.self, from: Data(text.utf8))
  }
}

enum StoreClock {
  private static let last = Mutex(0.0)

  /// The time of a commit of `count` changes, to the microsecond (so that it reads back
  /// exactly): later than every earlier commit of this process, with a microsecond for each
  /// change after it (``time(_:_:)``). Records are thereby ordered by their creation times as
  /// they were made, one commit after another and within one, whatever they are renamed to:
  /// the server's whole-tenancy check lists them in that order.
  static func now(count: Int = 1) -> Date {
    let time = last.withLock { last in
      let now = (Date().timeIntervalSinceReferenceDate * 1_000_000).rounded() / 1_000_000
      let start = max(now, last + 0.000_001)
      last = start + Double(max(count, 1) - 1) * 0.000_001
      return start
    }
    return Date(timeIntervalSinceReferenceDate: time)
  }

  /// The time of the change at `sequence` in a commit at `time`.
  static func time(_ time: Date, _ sequence: Int) -> Date {
    time.addingTimeInterval(Double(sequence) * 0.000_001)
  }
}

extension StoreError {
  static func idempotencyConflict(_ key: String) -> StoreError {
    StoreError(
      .idempotencyConflict,
      "the idempotency key '\(key)' was used for another change: use a new key for a new change")
  }

  /// A change checked against revision `revision` when another commit came first.
  static func stale(_ revision: Int64) -> StoreError {
    StoreError(
      .staleRevision,
      "the change was checked against revision \(revision), and another change was committed "
        + "since: check it again against the current revision and retry")
  }

  /// A name another record of the kind (and parent) has.
  public static var duplicateName: StoreError {
    StoreError(
      .duplicateName,
      "another resource of that kind already has that name here: choose another name")
  }
}

/// The whole state as of a revision, kept between commits so that a commit's check need not
/// read every record again. Revisions are strictly serial across replicas, so the state before
/// revision N is current exactly when the cache holds revision N - 1; anything else is read anew.
final class StateCache: Sendable {
  private let state = Mutex<(revision: Int64, records: [String: ResourceRecord])>((-1, [:]))

  /// The state after a commit that got `revision` and changed these records, from the cache
  /// when it holds the revision before, else nil.
  func state(at revision: Int64, changes: [(before: ResourceRecord?, after: ResourceRecord?)])
    -> [String: ResourceRecord]?
  {
    guard var records = state.withLock({ $0.revision == revision - 1 ? $0.records : nil }) else {
      return nil
    }
    records.apply(changes)
    return records
  }

  /// Keeps the state of a committed revision, unless a later one is already kept.
  func keep(_ records: [String: ResourceRecord], at revision: Int64) {
    state.withLock { if $0.revision < revision { $0 = (revision, records) } }
  }
}

extension Dictionary where Key == String, Value == ResourceRecord {
  /// Records by `kind/id`.
  init(records: [ResourceRecord]) {
    self.init(uniqueKeysWithValues: records.map { ("\($0.kind)/\($0.id)", $0) })
  }

  mutating func apply(_ changes: [(before: ResourceRecord?, after: ResourceRecord?)]) {
    for (before, after) in changes {
      if let after {
        self["\(after.kind)/\(after.id)"] = after
      } else if let before {
        self["\(before.kind)/\(before.id)"] = nil
      }
    }
  }
}
