import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPRModel
import ZPRServer
import ZPRStore

/// The API through the real router, on a real SQLite file.
@Suite("ZPR policies API")
struct PolicyAPITests {
  static let key = "test-admin-key-0123456789abcdef0123456789"
  static let good =
    "in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'"

  /// What the policies here need: ZPR enabled, with the attributes `app` and `networks`.
  static let seed = """
    namespaces:
      - name: oracle-zpr
        description: The default namespace
        attributes:
          - {name: app, description: Application tier}
          - {name: networks, description: Network scope}
    vcns: []
    """

  /// Runs a test against a fresh server (a new database with the admin key bootstrapped), with
  /// a tenancy applied first (revision 2) unless `seed` is nil.
  static func withServer(
    seed: String? = Self.seed,
    _ body: @Sendable (any TestClientProtocol, any Store) async throws -> Void
  ) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-api-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteStore(path: folder.appendingPathComponent("zpr.sqlite").path)
    #expect(try await APIKeys.bootstrap(store, bootstrap: key) == key)
    let app = try ZPRServer.application(store: store, host: "127.0.0.1", port: 0)
    try await app.test(.router) { client in
      if let seed {
        let applied = try await client.execute(
          uri: "/v1/apply", method: .post, headers: Self.headers(),
          body: Self.body(["tenancy": seed]))
        #expect(applied.status == .ok, "\(String(buffer: applied.body))")
      }
      try await body(client, store)
    }
  }

  static func headers(ifMatch: String? = nil, idempotency: String? = nil) -> HTTPFields {
    var headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
    if let ifMatch { headers[.ifMatch] = ifMatch }
    if let idempotency { headers[HTTPField.Name("Idempotency-Key")!] = idempotency }
    return headers
  }

  static func body(_ object: [String: Any]) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
  }

  static func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)))
      as? [String: Any]
      ?? [:]
  }

  static var policy: [String: Any] {
    ["name": "three-tier", "description": "Web to database", "statements": [good]]
  }

  @Test func healthNeedsNoKeyAndEverythingElseDoes() async throws {
    try await Self.withServer { client, _ in
      try await client.execute(uri: "/healthz", method: .get) { response in
        #expect(response.status == .ok)
        #expect(Self.json(response)["status"] as? String == "ok")
      }
      try await client.execute(uri: "/v1/revision", method: .get) { response in
        #expect(response.status == .unauthorized)
        #expect(Self.json(response)["code"] as? String == "ZPR-API-001")
      }
      try await client.execute(
        uri: "/v1/revision", method: .get, headers: [.authorization: "Bearer wrong"]
      ) { response in
        #expect(response.status == .unauthorized)
      }
      try await client.execute(uri: "/v1/revision", method: .get, headers: Self.headers()) {
        response in
        #expect(Self.json(response)["revision"] as? Int == 2)
      }
    }
  }

  @Test func createReadUpdateDeleteWithETags() async throws {
    try await Self.withServer { client, _ in
      let created = try await client.execute(
        uri: "/v1/zprPolicies", method: .post, headers: Self.headers(), body: Self.body(Self.policy)
      )
      #expect(created.status == .created)
      #expect(created.headers[.eTag] == "\"1\"")
      let id = try #require(Self.json(created)["id"] as? String)
      #expect(Self.json(created)["lifecycleState"] as? String == "ACTIVE")
      #expect(Self.json(created)["statements"] as? [String] == [Self.good])
      try await client.execute(uri: "/v1/zprPolicies/\(id)", method: .get, headers: Self.headers())
      {
        response in
        #expect(response.status == .ok)
        #expect(Self.json(response)["name"] as? String == "three-tier")
      }
      var changed = Self.policy
      changed["description"] = "changed"
      try await client.execute(
        uri: "/v1/zprPolicies/\(id)", method: .put, headers: Self.headers(ifMatch: "\"7\""),
        body: Self.body(changed)
      ) { response in
        #expect(response.status == .preconditionFailed)
        #expect(Self.json(response)["code"] as? String == "ZPR-STORE-002")
      }
      try await client.execute(
        uri: "/v1/zprPolicies/\(id)", method: .put, headers: Self.headers(ifMatch: "\"1\""),
        body: Self.body(changed)
      ) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.eTag] == "\"2\"")
        #expect(Self.json(response)["description"] as? String == "changed")
      }
      try await client.execute(
        uri: "/v1/zprPolicies/\(id)", method: .delete, headers: Self.headers(ifMatch: "\"2\"")
      ) { response in
        #expect(response.status == .ok)
        #expect(Self.json(response)["deleted"] as? Bool == true)
      }
      try await client.execute(uri: "/v1/zprPolicies/\(id)", method: .get, headers: Self.headers())
      {
        response in
        #expect(response.status == .notFound)
      }
      try await client.execute(uri: "/v1/audit?after=2", method: .get, headers: Self.headers()) {
        response in
        let items = Self.json(response)["items"] as? [[String: Any]] ?? []
        #expect(items.map { $0["action"] as? String } == ["create", "update", "delete"])
        #expect(items.last?["actor"] as? String == "admin")
      }
    }
  }

  /// Every refused write answers with its code and leaves the revision where it was.
  @Test func refusedWritesLeaveNothingBehind() async throws {
    try await Self.withServer { client, store in
      var tooMany = Self.policy
      tooMany["statements"] = Array(repeating: Self.good, count: 26)
      var badStatement = Self.policy
      badStatement["statements"] = [
        "in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/ssh'"
      ]
      var wrongType = Self.policy
      wrongType["statements"] = "not a list"
      var unknown = Self.policy
      unknown["owner"] = "me"
      var missing = Self.policy
      missing["description"] = nil
      let cases: [(ByteBuffer, String)] = [
        (ByteBuffer(string: "{not json"), "ZPR-API-002"),
        (ByteBuffer(string: "[1, 2]"), "ZPR-API-002"),
        (Self.body(unknown), "ZPR-API-003"),
        (Self.body(wrongType), "ZPR-API-004"),
        (Self.body(missing), "ZPR-API-005"),
        (Self.body(tooMany), "ZPR-API-008"),
        (Self.body(badStatement), "ZPR-API-009"),
      ]
      for (body, code) in cases {
        try await client.execute(
          uri: "/v1/zprPolicies", method: .post, headers: Self.headers(), body: body
        ) { response in
          #expect(response.status == .badRequest, "\(code)")
          #expect(Self.json(response)["code"] as? String == code)
          if code == "ZPR-API-009" {
            let details = Self.json(response)["details"] as? [[String: String]] ?? []
            #expect(details.first?["code"] == "ZPL043")
            #expect(details.first?["suggestion"] == "did you mean 'tcp/22'?")
          }
        }
      }
      #expect(try await store.revision() == 2)
      _ = try await client.execute(
        uri: "/v1/zprPolicies", method: .post, headers: Self.headers(), body: Self.body(Self.policy)
      )
      try await client.execute(
        uri: "/v1/zprPolicies", method: .post, headers: Self.headers(), body: Self.body(Self.policy)
      ) { response in
        #expect(response.status == .conflict)
        #expect(Self.json(response)["code"] as? String == "ZPR-STORE-003")
        #expect(
          Self.json(response)["message"] as? String
            == "a ZPR policy named 'three-tier' already exists: choose another name, or update it")
      }
      #expect(try await store.revision() == 3)
    }
  }

  @Test func aRetriedCreateWithItsIdempotencyKeyCreatesOnce() async throws {
    try await Self.withServer { client, store in
      let first = try await client.execute(
        uri: "/v1/zprPolicies", method: .post, headers: Self.headers(idempotency: "abc"),
        body: Self.body(Self.policy))
      let second = try await client.execute(
        uri: "/v1/zprPolicies", method: .post, headers: Self.headers(idempotency: "abc"),
        body: Self.body(Self.policy))
      #expect(first.status == .created && second.status == .created)
      #expect(Self.json(first)["id"] as? String == Self.json(second)["id"] as? String)
      #expect(try await store.revision() == 3)
      try await client.execute(uri: "/v1/zprPolicies", method: .get, headers: Self.headers()) {
        response in
        #expect((Self.json(response)["items"] as? [Any])?.count == 1)
      }
    }
  }

  @Test func theWatchAnswersWhenTheRevisionMoves() async throws {
    try await Self.withServer { client, store in
      try await client.execute(
        uri: "/v1/revision/watch?after=2&timeout=0.2", method: .get, headers: Self.headers()
      ) { response in
        #expect(Self.json(response)["changed"] as? Bool == false)
        #expect(Self.json(response)["revision"] as? Int == 2)
      }
      let writer = Task {
        try await Task.sleep(for: .milliseconds(200))
        _ = try await store.commit(
          [
            .create(kind: "zprPolicy", name: "p", parent: nil, lifecycleState: .active, body: "{}")
          ],
          actor: "test", idempotencyKey: nil, validate: { _ in })
      }
      try await client.execute(
        uri: "/v1/revision/watch?after=2&timeout=30", method: .get, headers: Self.headers()
      ) { response in
        #expect(Self.json(response)["changed"] as? Bool == true)
        #expect(Self.json(response)["revision"] as? Int == 3)
      }
      try await writer.value
      try await client.execute(uri: "/v1/revision/watch", method: .get, headers: Self.headers()) {
        response in
        #expect(response.status == .badRequest)
        #expect(Self.json(response)["code"] as? String == "ZPR-API-011")
      }
    }
  }
}
