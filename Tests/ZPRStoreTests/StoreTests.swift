import Foundation
import Testing
import ZPRModel
import ZPRStore

/// The stores the suite runs against: SQLite always; PostgreSQL when `ZPR_TEST_POSTGRES_URL`
/// names a server (`.ci/run` starts one with scripts/test-postgres.sh).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case sqlite
  case postgres

  static let postgresURL = ProcessInfo.processInfo.environment["ZPR_TEST_POSTGRES_URL"]

  static var available: [StoreKind] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

  var testDescription: String { rawValue }
}

/// A fresh, empty database of one kind, removed when the test ends: a file in a scratch folder,
/// or a PostgreSQL database of its own.
final class ScratchDatabase: @unchecked Sendable {
  let kind: StoreKind
  let folder: URL
  let postgresName = "zpr_test_" + UUID().uuidString.lowercased().replacing("-", with: "")

  var path: String { folder.appendingPathComponent("zpr.sqlite").path }

  init(_ kind: StoreKind = .sqlite) throws {
    self.kind = kind
    folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    if kind == .postgres { try Self.psql("CREATE DATABASE \(postgresName)") }
  }

  /// A store on this database (each call is another connection, like another replica).
  func open() async throws -> any Store {
    switch kind {
    case .sqlite: return try SQLiteStore(path: path)
    case .postgres:
      let admin = StoreKind.postgresURL!
      let base = admin[..<admin.lastIndex(of: "/")!]
      return try await PostgresStore(url: "\(base)/\(postgresName)")
    }
  }

  static func psql(_ command: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    process.arguments = [StoreKind.postgresURL!, "-q", "-c", command]
    try process.run()
    process.waitUntilExit()
  }

  deinit {
    try? FileManager.default.removeItem(at: folder)
    if kind == .postgres { try? Self.psql("DROP DATABASE IF EXISTS \(postgresName) WITH (FORCE)") }
  }
}

@Suite("Stores")
struct StoreTests {
  static func create(_ name: String, parent: String? = nil) -> Mutation {
    .create(kind: "namespace", name: name, parent: parent, lifecycleState: .active, body: "{}")
  }

  static func accept(_ records: [ResourceRecord]) throws {}

  @Test(arguments: StoreKind.available)
  func createsUpdatesAndDeletesWithRevisionsAndAudit(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let store = try await scratch.open()
    #expect(try await store.revision() == 0)
    let created = try await store.commit(
      [Self.create("app")], actor: "admin", idempotencyKey: nil, validate: Self.accept)
    #expect(created.revision == 1)
    let record = try #require(created.records.first ?? nil)
    #expect(record.version == 1 && record.name == "app" && record.revision == 1)
    let updated = try await store.commit(
      [
        .update(
          kind: "namespace", id: record.id, expectedVersion: 1, name: nil,
          lifecycleState: .inactive, body: nil)
      ], actor: "admin", idempotencyKey: nil, validate: Self.accept)
    #expect(updated.revision == 2)
    #expect(try await store.record(kind: "namespace", id: record.id)?.lifecycleState == .inactive)
    #expect(try await store.record(kind: "namespace", id: record.id)?.version == 2)
    _ = try await store.commit(
      [.delete(kind: "namespace", id: record.id, expectedVersion: 2)], actor: "bob",
      idempotencyKey: nil, validate: Self.accept)
    #expect(try await store.record(kind: "namespace", id: record.id) == nil)
    let audit = try await store.audit(after: 0, limit: 10)
    #expect(audit.map(\.action) == ["create", "update", "delete"])
    #expect(audit.map(\.revision) == [1, 2, 3])
    #expect(audit[0].before == nil && audit[0].after != nil)
    #expect(audit[2].actor == "bob" && audit[2].after == nil && audit[2].before != nil)
  }

  @Test(arguments: StoreKind.available)
  func refusedChangesLeaveNothingBehind(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let store = try await scratch.open()
    let first = try await store.commit(
      [Self.create("app")], actor: "admin", idempotencyKey: nil, validate: Self.accept)
    let id = try #require(first.records.first ?? nil).id

    // A stale version.
    await #expect(throws: StoreError.self) {
      try await store.commit(
        [
          .update(
            kind: "namespace", id: id, expectedVersion: 7, name: nil, lifecycleState: nil,
            body: "{\"x\":1}")
        ],
        actor: "admin", idempotencyKey: nil, validate: Self.accept)
    }
    // A duplicate name (names are unique without regard to case).
    await #expect(throws: StoreError.self) {
      try await store.commit(
        [Self.create("APP")], actor: "admin", idempotencyKey: nil, validate: Self.accept)
    }
    // A good mutation followed by a bad one: neither is written.
    await #expect(throws: StoreError.self) {
      try await store.commit(
        [Self.create("net"), .delete(kind: "namespace", id: "nope", expectedVersion: nil)],
        actor: "admin", idempotencyKey: nil, validate: Self.accept)
    }
    // A validation that refuses.
    struct Refused: Error {}
    await #expect(throws: Refused.self) {
      try await store.commit(
        [Self.create("other")], actor: "admin", idempotencyKey: nil,
        validate: { _ in throw Refused() })
    }
    #expect(try await store.revision() == 1)
    #expect(try await store.allRecords().map(\.name) == ["app"])
    #expect(try await store.audit(after: 0, limit: 10).count == 1)
    #expect(try await store.record(kind: "namespace", id: id)?.body == "{}")
    // The same name under another parent is fine.
    _ = try await store.commit(
      [Self.create("app", parent: "x")], actor: "admin", idempotencyKey: nil,
      validate: Self.accept)
  }

  /// The check sees the whole state the commit leaves, whether the store remembers the state
  /// before it or has to read it (another replica committed in between).
  @Test(arguments: StoreKind.available)
  func theCheckSeesTheWholeStateAfterTheChange(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let store = try await scratch.open()
    let other = try await scratch.open()
    final class Seen: @unchecked Sendable { var names: [[String]] = [] }
    let seen = Seen()
    @Sendable func record(_ records: [ResourceRecord]) {
      seen.names.append(records.map(\.name).sorted())
    }
    let a = try await store.commit(
      [Self.create("a"), Self.create("b")], actor: "admin", idempotencyKey: nil,
      validate: { record($0) })
    _ = try await store.commit(
      [Self.create("c"), .delete(kind: "namespace", id: a.records[0]!.id, expectedVersion: 1)],
      actor: "admin", idempotencyKey: nil, validate: { record($0) })
    // Another replica's commit: the first store's remembered state is now behind.
    _ = try await other.commit(
      [Self.create("d")], actor: "admin", idempotencyKey: nil, validate: { record($0) })
    _ = try await store.commit(
      [Self.create("e")], actor: "admin", idempotencyKey: nil, validate: { record($0) })
    // A refused commit leaves the remembered state as it was.
    struct Refused: Error {}
    await #expect(throws: Refused.self) {
      try await store.commit(
        [Self.create("f")], actor: "admin", idempotencyKey: nil, validate: { _ in throw Refused() })
    }
    _ = try await store.commit(
      [Self.create("g")], actor: "admin", idempotencyKey: nil, validate: { record($0) })
    #expect(
      seen.names == [
        ["a", "b"], ["b", "c"], ["b", "c", "d"], ["b", "c", "d", "e"], ["b", "c", "d", "e", "g"],
      ])
  }

  @Test(arguments: StoreKind.available)
  func anIdempotencyKeyReplaysTheFirstCommit(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let store = try await scratch.open()
    let first = try await store.commit(
      [Self.create("app")], actor: "admin", idempotencyKey: "k1", validate: Self.accept)
    let again = try await store.commit(
      [Self.create("app")], actor: "admin", idempotencyKey: "k1", validate: Self.accept)
    #expect(again.replayed)
    #expect(again.revision == first.revision)
    #expect(again.records == first.records)
    #expect(try await store.revision() == 1)
    do {
      _ = try await store.commit(
        [Self.create("other")], actor: "admin", idempotencyKey: "k1", validate: Self.accept)
      Issue.record("a key reused for another change must be refused")
    } catch let error as StoreError {
      #expect(error.code == .idempotencyConflict)
    }
  }

  @Test(arguments: StoreKind.available)
  func listsPageAndFilter(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let store = try await scratch.open()
    for index in 0..<25 {
      _ = try await store.commit(
        [Self.create("ns\(index)", parent: index % 2 == 0 ? "even" : "odd")], actor: "admin",
        idempotencyKey: nil, validate: Self.accept)
    }
    var seen: [String] = []
    var after: String?
    repeat {
      let page = try await store.records(kind: "namespace", ListQuery(limit: 10, after: after))
      seen += page.map(\.name)
      after = page.count == 10 ? page.last?.id : nil
    } while after != nil
    #expect(seen.count == 25 && Set(seen).count == 25)
    #expect(try await store.records(kind: "namespace", ListQuery(parent: "even")).count == 13)
    #expect(
      try await store.records(kind: "namespace", ListQuery(name: "NS3")).map(\.name) == ["ns3"])
  }

  /// Two stores on one database (two replicas) commit concurrently: no update is lost, every
  /// revision is distinct and they run 1, 2, 3... in commit order; a store opened afterwards
  /// sees everything.
  @Test(arguments: StoreKind.available)
  func twoReplicasShareOneDatabase(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let first = try await scratch.open()
    let second = try await scratch.open()
    let created = try await first.commit(
      [.create(kind: "counter", name: "c", parent: nil, lifecycleState: .active, body: "0")],
      actor: "admin", idempotencyKey: nil, validate: Self.accept)
    let counter = try #require(created.records.first ?? nil).id
    let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
      for index in 0..<40 {
        let store = index % 2 == 0 ? first : second
        group.addTask {
          // Read, add one, write back with the version read: a stale version retries, so no
          // increment is lost.
          while true {
            let current = try await store.record(kind: "counter", id: counter)!
            do {
              return try await store.commit(
                [
                  .update(
                    kind: "counter", id: counter, expectedVersion: current.version, name: nil,
                    lifecycleState: nil, body: String(Int(current.body)! + 1))
                ], actor: "replica-\(index % 2)", idempotencyKey: nil, validate: Self.accept
              ).revision
            } catch let error as StoreError where error.code == .versionMismatch {
              continue
            }
          }
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(revisions.count == 40 && Set(revisions).count == 40)
    let audit = try await first.audit(after: 0, limit: 100)
    #expect(audit.map(\.revision) == Array(1...41))
    let reopened = try await scratch.open()
    #expect(try await reopened.revision() == 41)
    #expect(try await reopened.record(kind: "counter", id: counter)?.body == "40")
  }

  /// An agent's report replaces its last one, takes no revision, and every replica (and a
  /// restart) sees it.
  @Test(arguments: StoreKind.available)
  func agentReportsAreSharedAndReplaced(kind: StoreKind) async throws {
    let scratch = try ScratchDatabase(kind)
    let first = try await scratch.open()
    let second = try await scratch.open()
    try await first.putAgentReport(host: "web-1", report: #"{"revision":1}"#, time: Date())
    try await second.putAgentReport(host: "app-1", report: #"{"revision":1}"#, time: Date())
    try await first.putAgentReport(host: "web-1", report: #"{"revision":2}"#, time: Date())
    let reports = try await second.agentReports()
    #expect(reports.map(\.host) == ["app-1", "web-1"])
    #expect(reports.last?.report == #"{"revision":2}"#)
    #expect(try await first.revision() == 0)
    #expect(try await first.audit(after: 0, limit: 10).isEmpty)
    let reopened = try await scratch.open()
    #expect(try await reopened.agentReports().count == 2)
  }

  @Test(
    .enabled(
      if: StoreKind.postgresURL != nil,
      "ZPR_TEST_POSTGRES_URL is not set: run scripts/test-postgres.sh as root (as .ci/run does) to test the PostgreSQL store"
    ))
  func thePostgreSQLStoreIsTested() async throws {
    #expect(StoreKind.available.contains(.postgres))
    await #expect(throws: StoreError.self) {
      try await PostgresStore(url: "mysql://nobody@127.0.0.1/x")
    }
  }

  @Test func anUnwritableFolderIsAClearError() {
    #expect(throws: StoreError.self) {
      try SQLiteStore(path: "/nonexistent-folder/zpr.sqlite")
    }
  }
}
