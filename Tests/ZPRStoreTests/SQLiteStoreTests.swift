import Foundation
import Testing
import ZPRStore

/// A database file in a folder removed when the test ends.
final class ScratchDatabase {
  let folder: URL
  var path: String { folder.appendingPathComponent("zpr.sqlite").path }

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: folder) }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
  static func create(_ name: String, parent: String? = nil) -> Mutation {
    .create(kind: "namespace", name: name, parent: parent, lifecycleState: "ACTIVE", body: "{}")
  }

  static func accept(_ records: [ResourceRecord]) throws {}

  @Test func createsUpdatesAndDeletesWithRevisionsAndAudit() async throws {
    let scratch = try ScratchDatabase()
    let store = try SQLiteStore(path: scratch.path)
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
          lifecycleState: "INACTIVE", body: nil)
      ], actor: "admin", idempotencyKey: nil, validate: Self.accept)
    #expect(updated.revision == 2)
    #expect(try await store.record(kind: "namespace", id: record.id)?.lifecycleState == "INACTIVE")
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

  @Test func refusedChangesLeaveNothingBehind() async throws {
    let scratch = try ScratchDatabase()
    let store = try SQLiteStore(path: scratch.path)
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

  @Test func anIdempotencyKeyReplaysTheFirstCommit() async throws {
    let scratch = try ScratchDatabase()
    let store = try SQLiteStore(path: scratch.path)
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

  @Test func listsPageAndFilter() async throws {
    let scratch = try ScratchDatabase()
    let store = try SQLiteStore(path: scratch.path)
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

  @Test func concurrentCommitsGetDistinctIncreasingRevisionsAndSurviveAReopen() async throws {
    let scratch = try ScratchDatabase()
    let store = try SQLiteStore(path: scratch.path)
    let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
      for index in 0..<40 {
        group.addTask {
          try await store.commit(
            [Self.create("ns\(index)")], actor: "admin", idempotencyKey: nil,
            validate: Self.accept
          ).revision
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(revisions.sorted() == Array(1...40))
    let reopened = try SQLiteStore(path: scratch.path)
    #expect(try await reopened.revision() == 40)
    #expect(try await reopened.allRecords().count == 40)
  }

  @Test func anUnwritableFolderIsAClearError() {
    #expect(throws: StoreError.self) {
      try SQLiteStore(path: "/nonexistent-folder/zpr.sqlite")
    }
  }
}
