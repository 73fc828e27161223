import Foundation
import Synchronization
import Testing
import ZPRModel
import ZPRStore

extension ScratchDatabase {
  /// A store on this database whose watchers poll only every `safetyPoll` (an hour: they learn
  /// of commits only by being told).
  func open(safetyPoll: Duration) async throws -> any Store {
    switch kind {
    case .sqlite: return try SQLiteStore(path: path, safetyPoll: safetyPoll)
    case .postgres:
      let admin = StoreKind.postgresURL!
      let base = admin[..<admin.lastIndex(of: "/")!]
      return try await PostgresStore(url: "\(base)/\(postgresName)", safetyPoll: safetyPoll)
    }
  }

  /// The rows `psql` prints for a query on this database, one a line.
  func query(_ sql: String) throws -> [String] {
    let admin = StoreKind.postgresURL!
    let base = admin[..<admin.lastIndex(of: "/")!]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    process.arguments = ["\(base)/\(postgresName)", "-qAt", "-c", sql]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}

/// Reads a stream of revisions in a task of its own, keeping the largest, and answers whether it
/// reached a revision within a generous time (it looks at what it kept, never at the store).
final class RevisionWatcher: Sendable {
  private final class Latest: Sendable {
    let value = Mutex<Int64>(0)
  }

  private let latest = Latest()
  private let reader: Task<Void, Never>

  init(_ revisions: AsyncStream<Int64>) {
    let latest = latest
    reader = Task {
      for await revision in revisions { latest.value.withLock { $0 = max($0, revision) } }
    }
  }

  deinit { reader.cancel() }

  /// True once the stream announced `revision` or a later one; false when `limit` passes first.
  func reaches(_ revision: Int64, within limit: Duration = .seconds(60)) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if latest.value.withLock({ $0 }) >= revision { return true }
      try? await Task.sleep(for: .milliseconds(5))
    }
    return latest.value.withLock { $0 } >= revision
  }
}

@Suite("Revision watching")
struct RevisionWatchTests {
  static let create: @Sendable (String) -> Mutation = { name in
    .create(kind: "namespace", name: name, parent: nil, lifecycleState: .active, body: "{}")
  }

  static func commit(_ store: any Store, _ name: String) async throws -> Int64 {
    try await store.commit(
      [create(name)], actor: "admin", idempotencyKey: nil, validate: { _ in }
    ).revision
  }

  /// A commit through a second store on the same database (a second replica) wakes a watcher
  /// of the first, although neither polls (their safety poll waits an hour): it is told.
  @Test(arguments: StoreKind.available)
  func aCommitThroughAnotherReplicaIsAnnounced(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let first = try await scratch.open(safetyPoll: .seconds(3600))
    let second = try await scratch.open(safetyPoll: .seconds(3600))
    #expect(try await Self.commit(second, "before") == 1)
    let watcher = RevisionWatcher(first.revisions())
    // The first announcement is the revision as the watch starts (for PostgreSQL: once it
    // listens).
    #expect(await watcher.reaches(1), "the watch did not start")
    for index in 2...4 {
      let revision = try await Self.commit(second, "app\(index)")
      #expect(await watcher.reaches(revision), "revision \(revision) was not announced")
    }
    // And its own commits too.
    let own = try await Self.commit(first, "own")
    #expect(await watcher.reaches(own))
  }

  /// Many streams on one store each hear of one commit.
  @Test(arguments: StoreKind.available)
  func everyStreamHearsOfACommit(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let first = try await scratch.open(safetyPoll: .seconds(3600))
    let second = try await scratch.open(safetyPoll: .seconds(3600))
    _ = try await Self.commit(second, "before")
    let watchers = (0..<50).map { _ in RevisionWatcher(first.revisions()) }
    for watcher in watchers { #expect(await watcher.reaches(1)) }
    let revision = try await Self.commit(second, "after")
    for watcher in watchers { #expect(await watcher.reaches(revision)) }
  }

  /// The listening connection killed by the server: the store reconnects, reads the revision
  /// again (a commit made meanwhile is not lost) and hears of later commits.
  @Test(
    .enabled(
      if: StoreKind.postgresURL != nil,
      "ZPR_TEST_POSTGRES_URL is not set: run scripts/test-postgres.sh as root to test it"))
  func theListenerReconnectsAfterItsConnectionIsKilled() async throws {
    let scratch = try ScratchDatabase(.postgres)
    let first = try await scratch.open(safetyPoll: .seconds(3600))
    let second = try await scratch.open(safetyPoll: .seconds(3600))
    _ = try await Self.commit(second, "before")
    let watcher = RevisionWatcher(first.revisions())
    #expect(await watcher.reaches(1))
    let listeners = """
      SELECT pid FROM pg_stat_activity WHERE datname = current_database()
      AND application_name = '\(PostgresStore.listenerApplicationName)'
      """
    // The listening connection opens beside the first read: wait for it (on a loaded machine
    // it may come after the watcher's first answer).
    var killed: [String] = []
    for _ in 0..<100 {
      killed = try scratch.query(listeners)
      if !killed.isEmpty { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(killed.count == 1, "listeners: \(killed)")
    _ = try scratch.query("SELECT pg_terminate_backend(pid) FROM (\(listeners)) AS listener")
    // Committed while the listener is down (or just back): announced all the same.
    let meanwhile = try await Self.commit(second, "meanwhile")
    #expect(await watcher.reaches(meanwhile), "the commit made meanwhile was lost")
    // Wait for the new listening connection, then commit: told through it.
    var back: [String] = []
    for _ in 0..<50 {
      back = try scratch.query(listeners)
      if !back.isEmpty && Set(back).isDisjoint(with: killed) { break }
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(back.count == 1 && Set(back).isDisjoint(with: killed), "listeners: \(back)")
    for index in 0..<3 {
      let revision = try await Self.commit(second, "after\(index)")
      #expect(await watcher.reaches(revision), "revision \(revision) was not announced")
    }
  }

  /// A store's safety poll finds a commit it was not told of (another process's, for SQLite).
  @Test func theSafetyPollFindsCommitsItWasNotToldOf() async throws {
    let scratch = try ScratchDatabase(.sqlite)
    let first = try await scratch.open(safetyPoll: .milliseconds(50))
    let watcher = RevisionWatcher(first.revisions())
    // Written by SQLite directly, as another process would: no store hears of it.
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [scratch.path, "UPDATE revision SET value = 7 WHERE id = 1"]
    try process.run()
    process.waitUntilExit()
    #expect(await watcher.reaches(7))
  }
}
