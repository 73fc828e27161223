public import Foundation
import Logging
import PostgresNIO
import ZPRModel

/// The store in PostgreSQL, through postgres-nio: several `zpr serve` replicas may share one
/// database. Every commit first takes the revision row's lock, so commits from all replicas
/// run one after another and revisions stay strictly increasing.
///
/// Watching (``revisions()``): every commit sends `NOTIFY zpr_revision, '<revision>'` in its
/// transaction (PostgreSQL delivers it when the transaction commits), and each store listens on
/// one dedicated connection, so every replica learns of every commit at once.
public final class PostgresStore: Store {
  private let client: PostgresClient
  private let cache = StateCache()
  private let runner: Task<Void, Never>
  private let logger = Logger(label: "zpr.store.postgres")
  private let listenConfiguration: PostgresConnection.Configuration
  private let hub = RevisionHub()
  private let safetyPoll: Duration
  private let listener = BackgroundTask()

  /// The channel commits notify and watchers listen on.
  static let channel = "zpr_revision"

  /// The `application_name` of the listening connection (to find it in `pg_stat_activity`).
  public static let listenerApplicationName = "zpr-revision-listener"

  /// Connects to `postgres://user[:password]@host[:port]/database` and migrates the schema;
  /// watchers also read the revision every `safetyPoll`, in case a notification was lost.
  public init(url: String, safetyPoll: Duration = .seconds(5)) async throws {
    guard let parsed = URL(string: url),
      parsed.scheme == "postgres" || parsed.scheme == "postgresql",
      let host = parsed.host, let user = parsed.user
    else {
      throw StoreError(
        .invalid,
        "'\(url)' is not a PostgreSQL URL: write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
    }
    let database = parsed.path.split(separator: "/").first.map(String.init)
    let configuration = PostgresClient.Configuration(
      host: host, port: parsed.port ?? 5432, username: user, password: parsed.password,
      database: database, tls: .disable)
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    self.client = client
    var listen = PostgresConnection.Configuration(
      host: host, port: parsed.port ?? 5432, username: user, password: parsed.password,
      database: database, tls: .disable)
    listen.options.additionalStartupParameters = [
      ("application_name", Self.listenerApplicationName)
    ]
    listenConfiguration = listen
    self.safetyPoll = safetyPoll
    runner = Task { await client.run() }
    do {
      try await migrate()
    } catch {
      runner.cancel()
      throw StoreError(
        .unavailable,
        "cannot use the database at \(host):\(parsed.port ?? 5432): check that it runs and "
          + "that the user may create tables", cause: error)
    }
  }

  deinit { runner.cancel() }

  /// The versioned schema, applied under an advisory lock so that replicas starting together
  /// migrate once. A migration, once released, never changes: add a new one.
  private static let migrations: [(String, [PostgresQuery])] = [
    (
      "v1: resources, revision, audit, idempotency",
      [
        "CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL)",
        "INSERT INTO revision (id, value) VALUES (1, 0)",
        """
        CREATE TABLE resources (
          kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
          parent TEXT NOT NULL, lifecycle_state TEXT NOT NULL, body TEXT NOT NULL,
          version BIGINT NOT NULL, time_created DOUBLE PRECISION NOT NULL,
          time_updated DOUBLE PRECISION NOT NULL, revision BIGINT NOT NULL,
          PRIMARY KEY (kind, id))
        """,
        "CREATE UNIQUE INDEX resources_unique_name ON resources (kind, parent, name_key)",
        """
        CREATE TABLE audit (
          revision BIGINT NOT NULL, sequence INTEGER NOT NULL, time DOUBLE PRECISION NOT NULL,
          actor TEXT NOT NULL, action TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
          before TEXT, after TEXT, PRIMARY KEY (revision, sequence))
        """,
        """
        CREATE TABLE idempotency (
          actor TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL,
          time DOUBLE PRECISION NOT NULL, PRIMARY KEY (actor, key))
        """,
      ]
    ),
    (
      "v2: agent reports",
      [
        """
        CREATE TABLE agent_reports (
          host TEXT PRIMARY KEY, report TEXT NOT NULL, time DOUBLE PRECISION NOT NULL)
        """
      ]
    ),
  ]

  private func migrate() async throws {
    try await client.withTransaction(logger: logger) { connection in
      try await connection.query("SELECT pg_advisory_xact_lock(727372)", logger: logger)
      try await connection.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)", logger: logger)
      var applied = Set<String>()
      for try await version in try await connection.query(
        "SELECT version FROM schema_migrations", logger: logger
      ).decode(String.self) {
        applied.insert(version)
      }
      for (version, statements) in Self.migrations where !applied.contains(version) {
        for statement in statements { try await connection.query(statement, logger: logger) }
        try await connection.query(
          "INSERT INTO schema_migrations (version) VALUES (\(version))", logger: logger)
      }
    }
  }

  // MARK: Reading

  private static let columns =
    "kind, id, name, parent, lifecycle_state, body, version, time_created, time_updated, revision"

  private typealias Columns = (
    String, String, String, String, String, String, Int64, Double, Double, Int64
  )

  private static func record(_ row: Columns) -> ResourceRecord {
    ResourceRecord(
      kind: row.0, id: row.1, name: row.2, parent: row.3.isEmpty ? nil : row.3,
      lifecycleState: LifecycleState(stored: row.4), body: row.5, version: row.6,
      timeCreated: Date(timeIntervalSinceReferenceDate: row.7),
      timeUpdated: Date(timeIntervalSinceReferenceDate: row.8), revision: row.9)
  }

  private static func records(_ rows: PostgresRowSequence) async throws -> [ResourceRecord] {
    var records: [ResourceRecord] = []
    for try await row in rows.decode(Columns.self) { records.append(record(row)) }
    return records
  }

  public func revision() async throws -> Int64 {
    try await Self.revision(client, logger)
  }

  private static func revision(_ client: PostgresClient, _ logger: Logger) async throws -> Int64 {
    for try await value in try await client.query(
      "SELECT value FROM revision WHERE id = 1", logger: logger
    ).decode(Int64.self) {
      return value
    }
    return 0
  }

  // MARK: Watching

  /// The revisions of this database, from every replica: one connection per store listens on
  /// `zpr_revision` (opened by the first call, reopened after a short pause when it drops, the
  /// revision read again each time it is open, since a notification may have been missed
  /// meanwhile); the store's own commits are announced directly, and a poll every `safetyPoll`
  /// is a backstop for a connection that died without saying so.
  public func revisions() -> AsyncStream<Int64> {
    let stream = hub.watch()
    let (client, hub, logger) = (client, hub, logger)
    let (configuration, interval) = (listenConfiguration, safetyPoll)
    listener.start {
      await withTaskGroup(of: Void.self) { group in
        group.addTask {
          await Self.listen(configuration, client: client, hub: hub, logger: logger)
        }
        group.addTask {
          while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if let revision = try? await Self.revision(client, logger) { hub.announce(revision) }
          }
        }
      }
    }
    return stream
  }

  /// Listens until cancelled, reconnecting (after 0.1 s, then up to 2 s between tries) when the
  /// connection drops.
  private static func listen(
    _ configuration: PostgresConnection.Configuration, client: PostgresClient, hub: RevisionHub,
    logger: Logger
  ) async {
    var pause = Duration.milliseconds(100)
    var connectionID = 0
    while !Task.isCancelled {
      connectionID += 1
      do {
        let connection = try await PostgresConnection.connect(
          configuration: configuration, id: connectionID, logger: logger)
        do {
          try await connection.listen(on: channel) { notifications in
            // Listening now: whatever was committed before is in the revision.
            hub.announce(try await revision(client, logger))
            pause = .milliseconds(100)
            for try await notification in notifications {
              if let revision = Int64(notification.payload) { hub.announce(revision) }
            }
          }
        } catch {
          try? await connection.close()
          throw error
        }
        try? await connection.close()
      } catch {
        if Task.isCancelled { return }
        logger.warning(
          "the revision listener lost its connection; reconnecting",
          metadata: ["error": "\(String(reflecting: error))"])
      }
      try? await Task.sleep(for: pause)
      pause = min(pause * 2, .seconds(2))
    }
  }

  public func record(kind: String, id: String) async throws -> ResourceRecord? {
    var query = PostgresQuery(
      unsafeSQL: "SELECT \(Self.columns) FROM resources WHERE kind = $1 AND id = $2")
    query.binds.append(kind)
    query.binds.append(id)
    return try await Self.records(try await client.query(query, logger: logger)).first
  }

  public func records(kind: String, _ query: ListQuery) async throws -> [ResourceRecord] {
    var sql = "SELECT \(Self.columns) FROM resources WHERE kind = $1"
    var binds = PostgresBindings()
    binds.append(kind)
    func add(_ condition: String, _ value: String) {
      binds.append(value)
      sql += " AND \(condition) $\(binds.count)"
    }
    if let name = query.name { add("name_key =", ResourceRecord.nameKey(name)) }
    if let state = query.lifecycleState { add("lifecycle_state =", state.rawValue) }
    if let parent = query.parent { add("parent =", parent) }
    if let after = query.after { add("id >", after) }
    binds.append(max(0, query.limit))
    sql += " ORDER BY id LIMIT $\(binds.count)"
    return try await Self.records(
      try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
  }

  public func allRecords() async throws -> [ResourceRecord] {
    try await Self.records(
      try await client.query(
        PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM resources ORDER BY kind, id"),
        logger: logger))
  }

  public func audit(after revision: Int64, limit: Int) async throws -> [AuditRecord] {
    var records: [AuditRecord] = []
    let rows = try await client.query(
      """
      SELECT revision, time, actor, action, kind, id, before, after FROM audit
      WHERE revision > \(revision) ORDER BY revision, sequence LIMIT \(max(0, limit))
      """, logger: logger)
    for try await row in rows.decode(
      (Int64, Double, String, String, String, String, String?, String?).self)
    {
      records.append(
        AuditRecord(
          revision: row.0, time: Date(timeIntervalSinceReferenceDate: row.1), actor: row.2,
          action: row.3, kind: row.4, id: row.5, before: row.6, after: row.7))
    }
    return records
  }

  public func agentReports(after: String?, limit: Int) async throws -> [(
    host: String, report: String
  )] {
    var reports: [(host: String, report: String)] = []
    let after = after ?? ""
    for try await row in try await client.query(
      "SELECT host, report FROM agent_reports WHERE host > \(after) ORDER BY host LIMIT \(limit)",
      logger: logger
    ).decode((String, String).self) {
      reports.append((row.0, row.1))
    }
    return reports
  }

  public func deleteAgentReport(host: String) async throws -> Bool {
    var deleted = false
    for try await _ in try await client.query(
      "DELETE FROM agent_reports WHERE host = \(host) RETURNING host", logger: logger
    ).decode(String.self) {
      deleted = true
    }
    return deleted
  }

  // MARK: Writing

  public func putAgentReport(host: String, report: String, time: Date) async throws {
    try await client.query(
      """
      INSERT INTO agent_reports (host, report, time)
      VALUES (\(host), \(report), \(time.timeIntervalSinceReferenceDate))
      ON CONFLICT (host) DO UPDATE SET report = excluded.report, time = excluded.time
      """, logger: logger)
  }

  /// Thrown inside a transaction to roll it back and return an earlier commit instead.
  private struct Replay: Error {
    var commit: Commit
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
    let logger = logger
    let cache = cache
    do {
      let (commit, state) = try await client.withTransaction(logger: logger) {
        connection -> (Commit, [String: ResourceRecord]?) in
        // The revision row's lock orders every commit of every replica.
        var revision: Int64 = 0
        for try await value in try await connection.query(
          "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value", logger: logger
        ).decode(Int64.self) {
          revision = value
        }
        if let expected, revision != expected + 1 { throw StoreError.stale(expected) }
        if let idempotencyKey {
          for try await (stored, response) in try await connection.query(
            "SELECT request, response FROM idempotency WHERE actor = \(actor) AND key = \(idempotencyKey)",
            logger: logger
          ).decode((String, String).self) {
            guard stored == request else {
              throw StoreError(
                .idempotencyConflict,
                "the idempotency key '\(idempotencyKey)' was used for another change: use a new "
                  + "key for a new change")
            }
            var commit = try StoreJSON.commit(response)
            commit.replayed = true
            throw Replay(commit: commit)
          }
        }
        let now = StoreClock.now(count: mutations.count)
        var written: [ResourceRecord?] = []
        var audits: [AuditEntry] = []
        var changes: [(before: ResourceRecord?, after: ResourceRecord?)] = []
        for (sequence, mutation) in mutations.enumerated() {
          let (before, after) = try await Self.apply(
            mutation, on: connection, revision: revision, now: StoreClock.time(now, sequence),
            logger: logger)
          written.append(after)
          changes.append((before, after))
          audits.append(try AuditEntry(mutation, before: before, after: after))
        }
        var state: [String: ResourceRecord]?
        if let validate {
          var records = cache.state(at: revision, changes: changes)
          if records == nil {
            records = [String: ResourceRecord](
              records: try await Self.records(
                try await connection.query(
                  PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM resources"),
                  logger: logger)))
          }
          try validate(Array(records!.values))
          state = records
        }
        let time = now.timeIntervalSinceReferenceDate
        for (sequence, entry) in audits.enumerated() {
          try await connection.query(
            """
            INSERT INTO audit (revision, sequence, time, actor, action, kind, id, before, after)
            VALUES (\(revision), \(sequence), \(time), \(actor), \(entry.action), \(entry.kind),
            \(entry.id), \(entry.before), \(entry.after))
            """, logger: logger)
        }
        let commit = Commit(revision: revision, records: written, replayed: false)
        // Delivered to every listening replica when (and only if) the transaction commits.
        try await connection.query(
          "SELECT pg_notify(\(Self.channel), \(String(revision)))", logger: logger)
        if let idempotencyKey {
          let response = try StoreJSON.text(commit)
          try await connection.query(
            """
            INSERT INTO idempotency (actor, key, request, response, time)
            VALUES (\(actor), \(idempotencyKey), \(request), \(response), \(time))
            """, logger: logger)
        }
        return (commit, state)
      }
      if let state { cache.keep(state, at: commit.revision) }
      hub.announce(commit.revision)
      return commit
    } catch {
      // The transaction wraps what the closure threw.
      var cause: any Error = error
      if let failed = error as? PostgresTransactionError, let inner = failed.closureError {
        cause = inner
      }
      if let replay = cause as? Replay { return replay.commit }
      if let database = cause as? PSQLError, database.serverInfo?[.sqlState] == "23505" {
        throw StoreError.duplicateName
      }
      throw cause
    }
  }

  private static func apply(
    _ mutation: Mutation, on connection: PostgresConnection, revision: Int64, now: Date,
    logger: Logger
  ) async throws -> (ResourceRecord?, ResourceRecord?) {
    let time = now.timeIntervalSinceReferenceDate
    switch mutation {
    case .create(let kind, let name, let parent, let state, let body):
      let record = ResourceRecord.created(
        kind: kind, name: name, parent: parent, lifecycleState: state, body: body, now: now,
        revision: revision)
      let key = ResourceRecord.nameKey(name)
      let parentText = parent ?? ""
      try await connection.query(
        """
        INSERT INTO resources (kind, id, name, name_key, parent, lifecycle_state, body, version,
        time_created, time_updated, revision) VALUES (\(kind), \(record.id), \(name), \(key),
        \(parentText), \(state.rawValue), \(body), \(Int64(1)), \(time), \(time), \(revision))
        """, logger: logger)
      return (nil, record)
    case .update(let kind, let id, let expected, let name, let state, let body):
      let before = try await existing(kind, id, expected, on: connection, logger: logger)
      let after = before.updated(
        name: name, lifecycleState: state, body: body, now: now, revision: revision)
      let key = ResourceRecord.nameKey(after.name)
      try await connection.query(
        """
        UPDATE resources SET name = \(after.name), name_key = \(key),
        lifecycle_state = \(after.lifecycleState.rawValue), body = \(after.body), version = \(after.version),
        time_updated = \(time), revision = \(revision) WHERE kind = \(kind) AND id = \(id)
        """, logger: logger)
      return (before, after)
    case .delete(let kind, let id, let expected):
      let before = try await existing(kind, id, expected, on: connection, logger: logger)
      try await connection.query(
        "DELETE FROM resources WHERE kind = \(kind) AND id = \(id)", logger: logger)
      return (before, nil)
    }
  }

  private static func existing(
    _ kind: String, _ id: String, _ expected: Int64?, on connection: PostgresConnection,
    logger: Logger
  ) async throws -> ResourceRecord {
    var query = PostgresQuery(
      unsafeSQL: "SELECT \(columns) FROM resources WHERE kind = $1 AND id = $2 FOR UPDATE")
    query.binds.append(kind)
    query.binds.append(id)
    return try ResourceRecord.checked(
      try await records(try await connection.query(query, logger: logger)).first, kind: kind,
      id: id, expected: expected)
  }

}
