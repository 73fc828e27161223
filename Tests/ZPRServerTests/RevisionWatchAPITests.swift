import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPRModel
import ZPRServer
import ZPRStore

/// `GET /v1/revision/watch` on one replica, woken by a commit through another: the server is
/// told of the commit (its store's safety poll waits an hour), it does not poll.
@Suite("Revision watch across replicas")
struct RevisionWatchAPITests {
  static let postgres = ProcessInfo.processInfo.environment["ZPR_TEST_POSTGRES_URL"]

  static var kinds: [String] { postgres == nil ? ["sqlite"] : ["sqlite", "postgres"] }

  /// Opens two stores (two replicas) on a fresh database of a kind, runs `body`, and removes
  /// the database.
  static func withReplicas(
    _ kind: String, _ body: (any Store, any Store) async throws -> Void
  ) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-watch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    if kind == "sqlite" {
      let path = folder.appendingPathComponent("zpr.sqlite").path
      try await body(
        try SQLiteStore(path: path, safetyPoll: .seconds(3600)),
        try SQLiteStore(path: path, safetyPoll: .seconds(3600)))
      return
    }
    let admin = try #require(postgres)
    let name = "zpr_watch_" + UUID().uuidString.lowercased().replacing("-", with: "")
    try psql(admin, "CREATE DATABASE \(name)")
    defer { try? psql(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    let url = "\(admin[..<admin.lastIndex(of: "/")!])/\(name)"
    try await body(
      try await PostgresStore(url: url, safetyPoll: .seconds(3600)),
      try await PostgresStore(url: url, safetyPoll: .seconds(3600)))
  }

  static func psql(_ url: String, _ command: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    process.arguments = [url, "-q", "-c", command]
    try process.run()
    process.waitUntilExit()
  }

  static func commit(_ store: any Store, _ name: String) async throws -> Int64 {
    try await store.commit(
      [.create(kind: "namespace", name: name, parent: nil, lifecycleState: .active, body: "{}")],
      actor: "test", idempotencyKey: nil, validate: { _ in }
    ).revision
  }

  /// A hundred watches on the first replica all answer (changed, with the new revision) soon
  /// after a commit through the second, long before their 120 s run out.
  @Test(arguments: kinds)
  func aCommitThroughAnotherReplicaAnswersEveryWatch(kind: String) async throws {
    try await Self.withReplicas(kind) { first, second in
      #expect(
        try await APIKeys.bootstrap(first, bootstrap: PolicyAPITests.key) == PolicyAPITests.key)
      let app = try ZPRServer.application(store: first, host: "127.0.0.1", port: 0)
      try await app.test(.router) { client in
        let before = try await first.revision()
        let committed = try await withThrowingTaskGroup(of: (Bool, Int).self) { group in
          for _ in 0..<100 {
            group.addTask {
              let response = try await client.execute(
                uri: "/v1/revision/watch?after=\(before)&timeout=120", method: .get,
                headers: PolicyAPITests.headers())
              let json = PolicyAPITests.json(response)
              return (json["changed"] as? Bool ?? false, json["revision"] as? Int ?? -1)
            }
          }
          try await Task.sleep(for: .milliseconds(300))
          let revision = try await Self.commit(second, "elsewhere")
          let committed = ContinuousClock.now
          for try await (changed, answered) in group {
            #expect(changed && answered == Int(revision))
          }
          return committed
        }
        // Generous (the machine may be busy with every other suite): a watch left to its
        // timeout would take 120 s.
        #expect(ContinuousClock.now - committed < .seconds(60))
        // Still answered when the revision moves again (the feed follows anew).
        let again = Task {
          try await Task.sleep(for: .milliseconds(200))
          return try await Self.commit(second, "again")
        }
        let response = try await client.execute(
          uri: "/v1/revision/watch?after=\(before + 1)&timeout=120", method: .get,
          headers: PolicyAPITests.headers())
        #expect(PolicyAPITests.json(response)["revision"] as? Int == Int(try await again.value))
      }
    }
  }

  /// Watches with different time limits, the longest first, each answer (unchanged) when its
  /// own runs out: one timer serves them all, set again for every earlier limit.
  @Test func everyWatchKeepsItsOwnTimeLimit() async throws {
    try await Self.withReplicas("sqlite") { first, _ in
      #expect(
        try await APIKeys.bootstrap(first, bootstrap: PolicyAPITests.key) == PolicyAPITests.key)
      let app = try ZPRServer.application(store: first, host: "127.0.0.1", port: 0)
      try await app.test(.router) { client in
        let revision = try await first.revision()
        try await withThrowingTaskGroup(of: (Double, Duration, Bool).self) { group in
          for (index, limit) in [3.0, 2.0, 0.2, 1.0, 0.5, 0.2].enumerated() {
            group.addTask {
              try await Task.sleep(for: .milliseconds(20 * index))
              let start = ContinuousClock.now
              let response = try await client.execute(
                uri: "/v1/revision/watch?after=\(revision)&timeout=\(limit)", method: .get,
                headers: PolicyAPITests.headers())
              return (
                limit, ContinuousClock.now - start,
                PolicyAPITests.json(response)["changed"] as? Bool == false
              )
            }
          }
          for try await (limit, took, unchanged) in group {
            #expect(unchanged)
            // Not before its time (less a few milliseconds), and not long after.
            #expect(took >= .seconds(limit) - .milliseconds(20), "\(limit) s took \(took)")
            #expect(took < .seconds(limit + 10), "\(limit) s took \(took)")
          }
        }
      }
    }
  }

  /// A watch that nothing wakes still answers when its time runs out, unchanged.
  @Test func aQuietWatchTimesOut() async throws {
    try await Self.withReplicas("sqlite") { first, _ in
      #expect(
        try await APIKeys.bootstrap(first, bootstrap: PolicyAPITests.key) == PolicyAPITests.key)
      let app = try ZPRServer.application(store: first, host: "127.0.0.1", port: 0)
      try await app.test(.router) { client in
        let revision = try await first.revision()
        let response = try await client.execute(
          uri: "/v1/revision/watch?after=\(revision)&timeout=0.3", method: .get,
          headers: PolicyAPITests.headers())
        #expect(PolicyAPITests.json(response)["changed"] as? Bool == false)
        #expect(PolicyAPITests.json(response)["revision"] as? Int == Int(revision))
      }
    }
  }
}
