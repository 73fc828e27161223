public import Foundation
import GRDB
import ZPRModel

/// The store in an embedded SQLite file (WAL mode), through GRDB. One process writes at a
/// time; readers never wait for it.
///
/// Watching (``revisions()``): a commit through any store object of this process on the same
/// file tells that file's watchers at once. Another process writing the same file is not a
/// supported setup for watching: its commits are seen only by a slow safety poll (every
/// `safetyPoll`, one second by default), so its watchers learn of them late but never miss them.
public final class SQLiteStore: Store {
  private let pool: DatabasePool
  private let cache = StateCache()
  private let hub: RevisionHub
  private let safetyPoll: Duration
  private let poller = BackgroundTask()

  /// Opens (creating and migrating) the database at a path; watchers also read the revision
  /// every `safetyPoll`, in case another process writes the file.
  public init(path: String, safetyPoll: Duration = .seconds(1)) throws {
    hub = SQLiteHubs.hub(for: path)
    self.safetyPoll = safetyPoll
    do {
      var configuration = Configuration()
      configuration.busyMode = .timeout(5)
      pool = try DatabasePool(path: path, configuration: configuration)
      try Self.migrator.migrate(pool)
    } catch {
      throw StoreError(
        .unavailable,
        "cannot open the database at \(path): check the folder exists and is writable",
        cause: error)
    }
  }

  /// The versioned schema. A migration, once released, never changes: add a new one.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: resources, revision, audit, idempotency") { db in
      try db.execute(
        sql: """
          CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
          INSERT INTO revision (id, value) VALUES (1, 0);
          CREATE TABLE resources (
            kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
            parent TEXT NOT NULL, lifecycle_state TEXT NOT NULL, body TEXT NOT NULL,
            version INTEGER NOT NULL, time_created REAL NOT NULL, time_updated REAL NOT NULL,
            revision INTEGER NOT NULL, PRIMARY KEY (kind, id));
          -- Times are seconds since 2001-01-01 UTC (Foundation's reference date).
          CREATE UNIQUE INDEX resources_unique_name ON resources (kind, parent, name_key);
          CREATE TABLE audit (
            revision INTEGER NOT NULL, sequence INTEGER NOT NULL, time REAL NOT NULL,
            actor TEXT NOT NULL, action TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
            before TEXT, after TEXT, PRIMARY KEY (revision, sequence));
          CREATE TABLE idempotency (
            actor TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL,
            time REAL NOT NULL, PRIMARY KEY (actor, key));
          """)
    }
    migrator.registerMigration("v2: agent reports") { db in
      try db.execute(
        sql: """
          CREATE TABLE agent_reports (
            host TEXT PRIMARY KEY, report TEXT NOT NULL, time REAL NOT NULL);
          """)
    }
    return migrator
  }

  public func revision() async throws -> Int64 {
    try Self.revision(pool)
  }

  private static func revision(_ pool: DatabasePool) throws -> Int64 {
    try readNow(pool) { db in
      try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM revision WHERE id = 1")) ?? 0
    }
  }

  /// The revisions of this file: each commit through a store of this process on it announces
  /// its revision directly; a safety poll every `safetyPoll` catches other processes' commits.
  public func revisions() -> AsyncStream<Int64> {
    let stream = hub.watch()
    let (pool, hub, interval) = (pool, hub, safetyPoll)
    poller.start {
      while !Task.isCancelled {
        if let revision = try? Self.revision(pool) { hub.announce(revision) }
        try? await Task.sleep(for: interval)
      }
    }
    return stream
  }

  public func record(kind: String, id: String) async throws -> ResourceRecord? {
    try await read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT * FROM resources WHERE kind = ? AND id = ?"),
        arguments: [kind, id]
      ).map(Self.record)
    }
  }

  public func records(kind: String, _ query: ListQuery) async throws -> [ResourceRecord] {
    try await read { db in
      var sql = "SELECT * FROM resources WHERE kind = ?"
      var arguments: StatementArguments = [kind]
      if let name = query.name {
        sql += " AND name_key = ?"
        _ = arguments.append(contentsOf: [ResourceRecord.nameKey(name)])
      }
      if let state = query.lifecycleState {
        sql += " AND lifecycle_state = ?"
        _ = arguments.append(contentsOf: [state.rawValue])
      }
      if let parent = query.parent {
        sql += " AND parent = ?"
        _ = arguments.append(contentsOf: [parent])
      }
      if let after = query.after {
        sql += " AND id > ?"
        _ = arguments.append(contentsOf: [after])
      }
      sql += " ORDER BY id LIMIT ?"
      _ = arguments.append(contentsOf: [max(0, query.limit)])
      // One statement per combination of filters, prepared once per connection.
      return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(Self.record)
    }
  }

  public func allRecords() async throws -> [ResourceRecord] {
    try await read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM resources ORDER BY kind, id").map(Self.record)
    }
  }

  public func audit(after revision: Int64, limit: Int) async throws -> [AuditRecord] {
    try await read { db in
      try Row.fetchAll(
        db,
        sql: "SELECT * FROM audit WHERE revision > ? ORDER BY revision, sequence LIMIT ?",
        arguments: [revision, max(0, limit)]
      ).map { row in
        AuditRecord(
          revision: row["revision"], time: Date(timeIntervalSinceReferenceDate: row["time"]),
          actor: row["actor"], action: row["action"], kind: row["kind"], id: row["id"],
          before: row["before"], after: row["after"])
      }
    }
  }

  public func putAgentReport(host: String, report: String, time: Date) async throws {
    try await pool.write { db in
      try db.execute(
        sql: """
          INSERT INTO agent_reports (host, report, time) VALUES (?, ?, ?)
          ON CONFLICT (host) DO UPDATE SET report = excluded.report, time = excluded.time
          """, arguments: [host, report, time.timeIntervalSinceReferenceDate])
    }
  }

  public func agentReports(after: String?, limit: Int) async throws -> [(
    host: String, report: String
  )] {
    try await read { db in
      try Row.fetchAll(
        db,
        sql: "SELECT host, report FROM agent_reports WHERE host > ? ORDER BY host LIMIT ?",
        arguments: [after ?? "", limit]
      ).map { (host: $0["host"], report: $0["report"]) }
    }
  }

  public func deleteAgentReport(host: String) async throws -> Bool {
    try await pool.write { db in
      try db.execute(sql: "DELETE FROM agent_reports WHERE host = ?", arguments: [host])
      return db.changesCount > 0
    }
  }

  public func commit(
    _ mutations: [Mutation], actor: String, idempotencyKey: String?, check: CommitCheck
  ) async throws -> Commit {
    let (validate, expected): ((@Sendable ([ResourceRecord]) throws -> Void)?, Int64?) =
      switch check {
      case .validate(let validate): (validate, nil)
      case .after(let revision): (nil, revision)
      }
    // What identifies the change for its key (only a keyed change needs it: an apply's
    // mutations take seconds to hash).
    let request = idempotencyKey == nil ? "" : try Mutation.requestHash(mutations)
    let cache = cache
    do {
      let (commit, state) = try await pool.write { db -> (Commit, [String: ResourceRecord]?) in
        if let idempotencyKey,
          let row = try Row.fetchOne(
            db, sql: "SELECT request, response FROM idempotency WHERE actor = ? AND key = ?",
            arguments: [actor, idempotencyKey])
        {
          guard (row["request"] as String) == request else {
            throw StoreError.idempotencyConflict(idempotencyKey)
          }
          var commit = try StoreJSON.commit(row["response"])
          commit.replayed = true
          return (commit, nil)
        }
        let now = StoreClock.now(count: mutations.count)
        guard
          let revision = try Int64.fetchOne(
            db, sql: "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value")
        else {
          throw StoreError(.unavailable, "the revision counter is missing: migrate the database")
        }
        if let expected, revision != expected + 1 { throw StoreError.stale(expected) }
        var written: [ResourceRecord?] = []
        var audits: [AuditEntry] = []
        var changes: [(before: ResourceRecord?, after: ResourceRecord?)] = []
        for (sequence, mutation) in mutations.enumerated() {
          let (before, after) = try Self.apply(
            mutation, in: db, revision: revision, now: StoreClock.time(now, sequence))
          written.append(after)
          changes.append((before, after))
          audits.append(try AuditEntry(mutation, before: before, after: after))
        }
        var state: [String: ResourceRecord]?
        if let validate {
          let records =
            try cache.state(at: revision, changes: changes)
            ?? [String: ResourceRecord](
              records: try Row.fetchAll(db, sql: "SELECT * FROM resources").map(Self.record))
          try validate(Array(records.values))
          state = records
        }
        for (sequence, entry) in audits.enumerated() {
          try db.execute(
            sql: """
              INSERT INTO audit (revision, sequence, time, actor, action, kind, id, before, after)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
              """,
            arguments: [
              revision, sequence, now.timeIntervalSinceReferenceDate, actor, entry.action,
              entry.kind, entry.id, entry.before, entry.after,
            ])
        }
        let commit = Commit(revision: revision, records: written, replayed: false)
        if let idempotencyKey {
          try db.execute(
            sql:
              "INSERT INTO idempotency (actor, key, request, response, time) VALUES (?, ?, ?, ?, ?)",
            arguments: [
              actor, idempotencyKey, request, try StoreJSON.text(commit),
              now.timeIntervalSinceReferenceDate,
            ])
        }
        return (commit, state)
      }
      if let state { cache.keep(state, at: commit.revision) }
      if !commit.replayed { hub.announce(commit.revision) }
      return commit
    } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
      throw StoreError.duplicateName
    }
  }

  // MARK: Helpers

  /// A read on the calling thread: a point read in WAL mode takes microseconds and never waits
  /// for the writer, so handing it to another thread and back would cost more than it does.
  private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws
    -> T
  {
    try Self.readNow(pool, body)
  }

  private static func readNow<T>(_ pool: DatabasePool, _ body: (Database) throws -> T) throws -> T {
    try pool.read(body)
  }

  /// Applies one mutation; returns the record before and after.
  private static func apply(_ mutation: Mutation, in db: Database, revision: Int64, now: Date)
    throws -> (ResourceRecord?, ResourceRecord?)
  {
    switch mutation {
    case .create(let kind, let name, let parent, let state, let body):
      let record = ResourceRecord.created(
        kind: kind, name: name, parent: parent, lifecycleState: state, body: body, now: now,
        revision: revision)
      try insert(record, in: db)
      return (nil, record)
    case .update(let kind, let id, let expected, let name, let state, let body):
      let before = try existing(kind: kind, id: id, expected: expected, in: db)
      let after = before.updated(
        name: name, lifecycleState: state, body: body, now: now, revision: revision)
      try db.execute(
        sql: """
          UPDATE resources SET name = ?, name_key = ?, lifecycle_state = ?, body = ?, version = ?,
          time_updated = ?, revision = ? WHERE kind = ? AND id = ?
          """,
        arguments: [
          after.name, ResourceRecord.nameKey(after.name), after.lifecycleState.rawValue, after.body,
          after.version,
          now.timeIntervalSinceReferenceDate, revision, kind, id,
        ])
      return (before, after)
    case .delete(let kind, let id, let expected):
      let before = try existing(kind: kind, id: id, expected: expected, in: db)
      try db.execute(sql: "DELETE FROM resources WHERE kind = ? AND id = ?", arguments: [kind, id])
      return (before, nil)
    }
  }

  private static func existing(kind: String, id: String, expected: Int64?, in db: Database) throws
    -> ResourceRecord
  {
    try ResourceRecord.checked(
      try Row.fetchOne(
        db.cachedStatement(sql: "SELECT * FROM resources WHERE kind = ? AND id = ?"),
        arguments: [kind, id]
      ).map(Self.record), kind: kind, id: id, expected: expected)
  }

  private static func insert(_ record: ResourceRecord, in db: Database) throws {
    try db.execute(
      sql: """
        INSERT INTO resources (kind, id, name, name_key, parent, lifecycle_state, body, version,
        time_created, time_updated, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        record.kind, record.id, record.name, ResourceRecord.nameKey(record.name),
        record.parent ?? "",
        record.lifecycleState.rawValue, record.body, record.version,
        record.timeCreated.timeIntervalSinceReferenceDate,
        record.timeUpdated.timeIntervalSinceReferenceDate, record.revision,
      ])
  }

  private static func record(_ row: Row) -> ResourceRecord {
    let parent: String = row["parent"]
    return ResourceRecord(
      kind: row["kind"], id: row["id"], name: row["name"], parent: parent.isEmpty ? nil : parent,
      lifecycleState: LifecycleState(stored: row["lifecycle_state"]), body: row["body"],
      version: row["version"],
      timeCreated: Date(timeIntervalSinceReferenceDate: row["time_created"]),
      timeUpdated: Date(timeIntervalSinceReferenceDate: row["time_updated"]),
      revision: row["revision"])
  }

}
