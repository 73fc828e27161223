import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing
import ZPRServer
import ZPRStore

#if canImport(Glibc)
  import Glibc
#endif

/// The attacks an ordinary API key was found to get away with, each tried against the real
/// server's application (its router, middleware and handlers, on a real SQLite file) and shown
/// refused, with the server still up and the store unchanged. The attacks on connections go
/// through a real listener with raw sockets (below), and HTTPS through the binary (ServeTests).
@Suite("Security of the control plane")
struct SecurityTests {
  typealias API = PolicyAPITests
  typealias Resources = ResourceAPITests

  static let tenancy = """
    compartments:
      - {name: Shared}
      - {name: Hidden}
    namespaces:
      - name: app
        description: Application tiers
        attributes: [{name: tier, description: Tier}]
    vcns:
      - name: shared
        compartment: Shared
        cidrs: [10.1.0.0/16]
        networkSecurityGroups: [{name: web}]
        subnets: [{name: s, cidr: 10.1.1.0/24}]
      - name: secret
        compartment: Hidden
        cidrs: [10.9.0.0/16]
        subnets: [{name: s, cidr: 10.9.1.0/24}]
    instances:
      - name: secret-db
        compartment: Hidden
        vnics: [{subnet: secret/s, ip: 10.9.1.10}]
      - name: hidden-app
        compartment: Hidden
        vnics: [{subnet: shared/s, ip: 10.1.1.50}]
    groups:
      - {name: HelpDesk, description: Help desk, members: [helen]}
      - {name: GroupAdmins, description: Group admins, members: [gus]}
      - {name: UserAdmins, description: User admins, members: [uma]}
      - {name: Builders, description: Instances in Shared, members: [bob]}
      - {name: PolicyReaders, description: Reads ZPR policies, members: [pat]}
      - {name: Auditors, description: Reads IAM policies, members: [aud]}
      - {name: Viewers, description: Sees VCNs, members: [vic]}
      - {name: Powerful, description: Manages VCNs, members: []}
    iamPolicies:
      - name: Administrators
        description: The bootstrap key's group may do everything
        statements: [allow group Administrators to manage all-resources in tenancy]
      - name: staff
        description: Who does what
        statements:
          - allow group HelpDesk to manage users in tenancy where target.group.name != 'Administrators'
          - allow group HelpDesk to use groups in tenancy where target.group.name != 'Administrators'
          - allow group GroupAdmins to use groups in tenancy
          - allow group UserAdmins to manage users in tenancy
          - allow group Builders to manage instances in compartment Shared
          - allow group Builders to use subnets in compartment Shared
          - allow group Builders to inspect network-security-groups in compartment Shared
          - allow group PolicyReaders to read zpr-policy in tenancy
          - allow group Auditors to read policies in tenancy
          - allow group Viewers to inspect vcns in tenancy
          - allow group Powerful to manage vcns in tenancy
          - allow group Auditors to inspect volume-family in tenancy
          - allow any-user to manage vcns in tenancy where request.user.name = 'ghost'
          - allow group Viewers to read vcns in tenancy where request.groups.name = 'Ops'
    """

  /// The users of the tenancy, each with a key.
  static let users = ["helen", "gus", "uma", "bob", "pat", "aud", "vic", "nobody"]

  /// Runs a test against the server's application seeded with the tenancy, with a key for each
  /// user. (Its requests go to the application without sockets: on a machine running every
  /// suite at once, a socket client's time limit would fail the test, not the server.)
  static func withServer(
    limits: ServerLimits = .standard,
    _ body: @Sendable (any TestClientProtocol, any Store, [String: HTTPFields]) async throws -> Void
  ) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-security-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteStore(path: folder.appendingPathComponent("zpr.sqlite").path)
    #expect(try await APIKeys.bootstrap(store, bootstrap: API.key) == API.key)
    let app = try ZPRServer.application(store: store, host: "127.0.0.1", port: 0, limits: limits)
    try await app.test(.router) { client in
      let applied = try await client.execute(
        uri: "/v1/apply", method: .post, headers: API.headers(),
        body: API.body(["tenancy": tenancy]))
      #expect(applied.status == .ok, "\(String(buffer: applied.body))")
      var keys: [String: HTTPFields] = [:]
      for user in users {
        keys[user] = try await GroupsAndLockoutTests.key(client, user: user)
      }
      try await body(client, store, keys)
    }
  }

  /// Sends a raw body (bytes as they are).
  static func raw(
    _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ text: String,
    headers: HTTPFields = API.headers()
  ) async throws -> (HTTPResponse.Status, [String: Any], String) {
    let response = try await client.execute(
      uri: uri, method: method, headers: headers, body: ByteBuffer(string: text))
    return (response.status, API.json(response), String(buffer: response.body))
  }

  /// The server answers and the store is as it was.
  static func stillUp(
    _ client: some TestClientProtocol, _ store: any Store, _ before: (Int64, [ResourceRecord])
  ) async throws {
    let health = try await client.execute(uri: "/healthz", method: .get, headers: [:])
    #expect(health.status == .ok)
    let after = try await Resources.state(store)
    #expect(after.0 == before.0)
    #expect(after.1 == before.1)
  }

  // MARK: Critical and high

  @Test func deepNestingAndAliasBombsAreRefusedNotFollowed() async throws {
    try await Self.withServer { client, store, keys in
      let before = try await Resources.state(store)
      let bombs = [
        "compartments: " + String(repeating: "[", count: 50_000)
          + String(repeating: "]", count: 50_000),
        String(repeating: "{a: ", count: 50_000),
        (["a0: &a0 [x]"]
          + (1...8).map { n in
            "a\(n): &a\(n) [" + Array(repeating: "*a\(n - 1)", count: 10).joined(separator: ", ")
              + "]"
          }).joined(separator: "\n"),
      ]
      for bomb in bombs {
        for path in ["/v1/apply", "/v1/apply?dryRun=true", "/v1/whatIf"] {
          // A key with no permission is refused before anything is parsed.
          let (denied, _, _) = try await Resources.send(
            client, .post, path, ["tenancy": bomb], headers: keys["nobody"]!)
          #expect(denied == .forbidden)
          // The administrator's is parsed, within the limits, and refused with a diagnostic.
          let (status, body, _) = try await Resources.send(client, .post, path, ["tenancy": bomb])
          #expect(status == .badRequest, "\(path): \(body)")
          #expect(body["code"] as? String == "ZPR-API-018", "\(body)")
        }
      }
      try await Self.stillUp(client, store, before)
    }
  }

  @Test func useGroupsCannotClimbToAdmin() async throws {
    try await Self.withServer { client, store, keys in
      let before = try await Resources.state(store)
      let helpDesk = try await GroupsAndLockoutTests.id(client, "groups", "HelpDesk")
      let powerful = try await GroupsAndLockoutTests.id(client, "groups", "Powerful")
      // Renaming a group to Administrators makes its members administrators.
      var (status, body, _) = try await Resources.send(
        client, .put, "/v1/groups/\(helpDesk)",
        ["name": "Administrators", "description": "x", "members": ["helen"]],
        headers: keys["gus"]!)
      #expect(status == .forbidden, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-026")
      // Joining a group that holds more than gus does.
      (status, body, _) = try await Resources.send(
        client, .put, "/v1/groups/\(powerful)",
        ["name": "Powerful", "description": "Manages VCNs", "members": ["gus"]],
        headers: keys["gus"]!)
      #expect(status == .forbidden, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-025")
      // The help desk's own guard, as the cloud service writes it.
      let administrators = try await GroupsAndLockoutTests.id(client, "groups", "Powerful")
      _ = administrators
      try await Self.stillUp(client, store, before)
      // What use groups is for still works: a description.
      (status, body, _) = try await Resources.send(
        client, .put, "/v1/groups/\(powerful)",
        ["name": "Powerful", "description": "Manages every VCN", "members": [String]()],
        headers: keys["gus"]!)
      #expect(status == .ok, "\(body)")
    }
  }

  @Test func manageUsersCannotMintAdmins() async throws {
    try await Self.withServer { client, store, keys in
      let before = try await Resources.state(store)
      for (user, body) in [
        ("uma", ["user": "x", "groups": ["Administrators"]]),
        ("uma", ["user": "admin", "groups": [String]()]),
        ("uma", ["user": "y", "groups": ["Powerful"]]),
        ("helen", ["user": "z", "groups": ["Administrators"]]),
        ("helen", ["user": "z", "groups": ["Builders"]]),
        // A new user named in a statement gets what it grants.
        ("uma", ["user": "ghost", "groups": [String]()]),
        // Joining a group that another statement's condition tests.
        ("helen", ["user": "vic", "groups": ["Ops"]]),
      ] as [(String, [String: Any])] {
        let (status, answer, _) = try await Resources.send(
          client, .post, "/v1/apiKeys", body, headers: keys[user]!)
        #expect(status == .forbidden, "\(user) \(body): \(answer)")
        #expect(answer["key"] == nil)
      }
      // Nor revoke the administrator's key.
      let (_, list, _) = try await Resources.send(client, .get, "/v1/apiKeys")
      let adminKey = try #require(
        (list["items"] as? [[String: Any]])?.first { $0["user"] as? String == "admin" }?["id"]
          as? String)
      let (revoked, answer, _) = try await Resources.send(
        client, .delete, "/v1/apiKeys/\(adminKey)", headers: keys["uma"]!)
      #expect(revoked == .forbidden, "\(answer)")
      try await Self.stillUp(client, store, before)
      // A key for a new user with no groups is what the help desk is for.
      let (made, key, _) = try await Resources.send(
        client, .post, "/v1/apiKeys", ["user": "newbie", "groups": [String]()],
        headers: keys["helen"]!)
      #expect(made == .created, "\(key)")
    }
  }

  @Test func aVNICGoesOnlyWhereTheCallerMayAttach() async throws {
    try await Self.withServer { client, store, keys in
      let before = try await Resources.state(store)
      func instance(_ subnet: String, nsgs: [String] = [], name: String = "b-1", ip: String)
        -> [String: Any]
      {
        [
          "name": name, "compartment": "Shared",
          "vnics": [["subnet": subnet, "ip": ip, "nsgs": nsgs]],
        ]
      }
      var (status, body, _) = try await Resources.send(
        client, .post, "/v1/instances", instance("secret/s", ip: "10.9.1.20"),
        headers: keys["bob"]!)
      #expect(status == .notFound, "\(body)")
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/instances", instance("shared/s", nsgs: ["web"], ip: "10.1.1.20"),
        headers: keys["bob"]!)
      #expect(status == .forbidden, "\(body)")
      #expect(
        (body["message"] as? String)?.contains("NETWORK_SECURITY_GROUP_UPDATE_MEMBERS") == true)
      // Errors do not tell of what bob may not see: an address a hidden instance holds, a name
      // a hidden instance has.
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/instances", instance("shared/s", ip: "10.1.1.50"),
        headers: keys["bob"]!)
      #expect(status == .unprocessableContent, "\(body)")
      let text = "\(body)"
      #expect(!text.contains("hidden-app") && !text.contains("Hidden"), "\(text)")
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/instances", instance("shared/s", name: "secret-db", ip: "10.1.1.21"),
        headers: keys["bob"]!)
      #expect(status == .conflict, "\(body)")
      #expect(!"\(body)".contains("Hidden") && !"\(body)".contains("update it"), "\(body)")
      try await Self.stillUp(client, store, before)
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/instances", instance("shared/s", ip: "10.1.1.20"),
        headers: keys["bob"]!)
      #expect(status == .created, "\(body)")
    }
  }

  // MARK: Medium

  @Test func statementsCannotAmplify() async throws {
    try await Self.withServer { client, store, _ in
      let before = try await Resources.state(store)
      for statements in [
        [String(repeating: "{", count: 80_000)], [String(repeating: "any {", count: 40_000)],
        Array(repeating: String(repeating: "{ ", count: 2_000), count: 25),
      ] {
        let (status, body, text) = try await Self.raw(
          client, .post, "/v1/zprPolicies",
          String(
            decoding: try JSONSerialization.data(withJSONObject: [
              "name": "p", "description": "d", "statements": statements,
            ]), as: UTF8.self))
        #expect(status == .badRequest || status == .contentTooLarge)
        #expect(text.utf8.count < 64 << 10, "an answer of \(text.utf8.count) bytes")
        #expect((body["details"] as? [Any])?.count ?? 0 <= 60)
      }
      var (status, body, _) = try await Resources.send(
        client, .post, "/v1/iamPolicies",
        [
          "name": "many", "description": "too many",
          "statements": Array(
            repeating: "allow group G to inspect vcns in tenancy", count: 51),
        ])
      #expect(status == .badRequest, "\(body)")
      // Nor many policies: a tenancy holds at most 100.
      let many = (0...100).map { n in
        "  - {name: p\(n), description: d, statements: [\"allow group G to inspect vcns in tenancy\"]}"
      }
      let file =
        "iamPolicies:\n  - name: Administrators\n    description: all\n"
        + "    statements: [allow group Administrators to manage all-resources in tenancy]\n"
        + many.joined(separator: "\n")
      (status, body, _) = try await Resources.send(client, .post, "/v1/apply", ["tenancy": file])
      #expect(status == .unprocessableContent, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-029")
      try await Self.stillUp(client, store, before)
    }
  }

  @Test func bodiesAreHeldToTheirRoutesLimits() async throws {
    try await Self.withServer(
      limits: ServerLimits(bodyBytes: 4 << 10, tenancyBytes: 3 << 20)
    ) {
      client, store, _ in
      let before = try await Resources.state(store)
      // A tenancy file of 2 MiB is within apply's limit (its text is one long JSON string).
      let large = Self.tenancy + "\n" + String(repeating: "# padding\n", count: 200_000)
      var (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply?dryRun=true", ["tenancy": large])
      #expect(status == .ok, "\(body)")
      // Over it, the answer names the limit and the option that raises it.
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply", ["tenancy": large + large])
      #expect(status == .contentTooLarge)
      #expect(body["code"] as? String == "ZPR-API-030")
      #expect((body["message"] as? String)?.contains("--max-tenancy-bytes") == true, "\(body)")
      // One resource's body is held to the smaller limit.
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/compartments",
        ["name": "big", "parent": String(repeating: "x", count: 8 << 10)])
      #expect(status == .contentTooLarge)
      #expect((body["message"] as? String)?.contains("--max-body-bytes") == true, "\(body)")
      try await Self.stillUp(client, store, before)
    }
  }

  @Test func whatACallerCannotInspectIsInvisible() async throws {
    try await Self.withServer { client, _, keys in
      // A dry run, what-if and analysis cover the whole tenancy.
      for (path, body) in [
        ("/v1/apply?dryRun=true", ["tenancy": "groups: []"]),
        ("/v1/whatIf", ["tenancy": "groups: []"]),
        (
          "/v1/pathAnalysis",
          ["from": "secret-db", "to": "hidden-app", "protocol": "tcp", "port": 80]
        ),
      ] as [(String, [String: Any])] {
        let (status, answer, _) = try await Resources.send(
          client, .post, path, body, headers: keys["pat"]!)
        #expect(status == .forbidden, "\(path): \(answer)")
        #expect(!"\(answer)".contains("Administrators") && !"\(answer)".contains("secret"))
      }
      // Inspecting shows a VCN is there, not what it holds.
      let (_, list, _) = try await Resources.send(client, .get, "/v1/vcns", headers: keys["vic"]!)
      let items = try #require(list["items"] as? [[String: Any]])
      #expect(items.count == 2)
      #expect(items.allSatisfy { $0["cidrs"] == nil && $0["subnets"] == nil })
      let (_, full, _) = try await Resources.send(client, .get, "/v1/vcns")
      #expect((full["items"] as? [[String: Any]])?.allSatisfy { $0["cidrs"] != nil } == true)
      // Reading IAM policies shows their changes, not every resource's.
      let (status, audit, _) = try await Resources.send(
        client, .get, "/v1/audit?limit=1000", headers: keys["aud"]!)
      #expect(status == .ok)
      let kinds = Set(
        (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
      #expect(kinds == ["iamPolicy"], "\(kinds)")
      #expect(!"\(audit)".contains("secret-db"))
    }
  }

  @Test func agentsReportAsAgents() async throws {
    try await Self.withServer { client, store, keys in
      // A key that may only read policies cannot report.
      var (status, body, _) = try await Resources.send(
        client, .put, "/v1/agents/secret-db", ["revision": 1, "status": "enforcing"],
        headers: keys["pat"]!)
      #expect(status == .forbidden, "\(body)")
      let revision = try await store.revision()
      for (host, report, expected) in [
        (
          "secret-db", ["revision": 999_999, "status": "enforcing"], HTTPResponse.Status.badRequest
        ),
        ("nowhere", ["revision": 1, "status": "enforcing"], .notFound),
        ("secret-db", ["revision": 1, "status": "enforcing", "cut": true], .badRequest),
        ("secret-db", ["revision": 1, "status": "bored"], .badRequest),
        (
          "secret-db",
          [
            "revision": 1, "status": "enforcing",
            "denied": Array(repeating: ["port": 1], count: 1001),
          ], .badRequest
        ),
        (
          "secret-db",
          ["revision": 1, "status": "enforcing", "denied": [["port": 1, "evil": "x"]]],
          .badRequest
        ),
      ] as [(String, [String: Any], HTTPResponse.Status)] {
        (status, body, _) = try await Resources.send(client, .put, "/v1/agents/\(host)", report)
        #expect(status == expected, "\(host) \(report): \(body)")
      }
      for host in ["secret-db", "hidden-app"] {
        (status, body, _) = try await Resources.send(
          client, .put, "/v1/agents/\(host)",
          [
            "revision": Int(revision), "status": "enforcing", "statements": 2,
            "denied": [["direction": "in", "peer": "10.0.0.1", "port": 22]],
          ])
        #expect(status == .noContent, "\(body)")
      }
      (status, body, _) = try await Resources.send(client, .get, "/v1/agents?limit=1")
      #expect((body["items"] as? [Any])?.count == 1)
      let next = try #require(body["nextPage"] as? String)
      (status, body, _) = try await Resources.send(client, .get, "/v1/agents?limit=1&page=\(next)")
      #expect((body["items"] as? [[String: Any]])?.first?["host"] as? String == "secret-db")
      (status, _, _) = try await Resources.send(client, .delete, "/v1/agents/secret-db")
      #expect(status == .noContent)
      (_, body, _) = try await Resources.send(client, .get, "/v1/agents")
      #expect((body["items"] as? [[String: Any]])?.map { $0["host"] as? String } == ["hidden-app"])
    }
  }

  @Test func idleConnectionsAreClosedAndCapped() async throws {
    // A server of its own, spoken to with raw sockets only.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-connections-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteStore(path: folder.appendingPathComponent("zpr.sqlite").path)
    let ports = AsyncStream<Int>.makeStream()
    let app = try ZPRServer.application(
      store: store, host: "127.0.0.1", port: 0,
      limits: ServerLimits(connections: 8, headerSeconds: 1, bodySeconds: 1)
    ) { port in ports.continuation.yield(port) }
    // Stopped gracefully at the end (cancelling it with connections queued trips NIO).
    let services = ServiceGroup(
      configuration: .init(services: [app], logger: Logger(label: "zpr-test")))
    let server = Task { try await services.run() }
    var listening = ports.stream.makeAsyncIterator()
    if let port = await listening.next() {
      // The sockets block: on a thread of their own, so that the server's tasks keep the
      // cooperative threads.
      await Self.onThread { Self.checkConnections(port: port) }
    } else {
      Issue.record("the server did not start")
    }
    await services.triggerGracefulShutdown()
    try await server.value
  }

  /// Runs blocking work on a thread of its own.
  static func onThread(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      let thread = Thread {
        work()
        done.resume()
      }
      thread.start()
    }
  }

  /// Twenty connections that never send a request: over the cap they are closed at once, the
  /// rest once the header time is up; then a new client is served.
  static func checkConnections(port: Int) {
    let sockets = (0..<20).map { _ in connect(port: port) }
    defer { for socket in sockets { close(socket) } }
    for socket in sockets {
      #expect(closedByServer(socket), "a connection stayed open")
    }
    #expect(healthy(port: port), "a new client was not served")
  }

  /// Whether a new client's `GET /healthz` is answered 200 (tried a few times: on a loaded
  /// machine the closed connections may take a moment to be counted out).
  static func healthy(port: Int) -> Bool {
    for _ in 0..<5 {
      let fresh = connect(port: port)
      defer { close(fresh) }
      let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
      guard send(fresh, request, request.count, 0) == request.count else { continue }
      var answer = [UInt8](repeating: 0, count: 512)
      var timeout = timeval(tv_sec: 10, tv_usec: 0)
      setsockopt(fresh, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      let read = recv(fresh, &answer, answer.count, 0)
      if String(decoding: answer.prefix(max(read, 0)), as: UTF8.self).hasPrefix("HTTP/1.1 200") {
        return true
      }
    }
    return false
  }

  @Test func aThousandWatchersCostOnePoll() async throws {
    try await API.withServer { client, store in
      let counting = CountingStore(store)
      let app = try ZPRServer.application(store: counting, host: "127.0.0.1", port: 0)
      try await app.test(.router) { client in
        let before = counting.revisionCalls
        try await withThrowingTaskGroup(of: Bool.self) { group in
          for _ in 0..<200 {
            group.addTask {
              let response = try await client.execute(
                uri: "/v1/revision/watch?after=\(try await store.revision())&timeout=1",
                method: .get, headers: API.headers())
              return response.status == .ok
            }
          }
          for try await ok in group { #expect(ok) }
        }
        // One read per watcher to start, and one subscription for all of them: a poll per
        // watcher would be 200 x 20.
        let calls = counting.revisionCalls - before
        #expect(calls < 600, "\(calls) revision reads")
      }
      _ = client
    }
  }

  // MARK: Low

  @Test func theAuditTrailNamesTheKeyAndWhatItMade() async throws {
    try await Self.withServer { client, _, keys in
      let (_, list, _) = try await Resources.send(client, .get, "/v1/apiKeys")
      let umaKey = try #require(
        (list["items"] as? [[String: Any]])?.first { $0["user"] as? String == "uma" }?["id"]
          as? String)
      let (made, _, _) = try await Resources.send(
        client, .post, "/v1/apiKeys", ["user": "fresh", "groups": [String]()],
        headers: keys["uma"]!)
      #expect(made == .created)
      let (_, audit, _) = try await Resources.send(client, .get, "/v1/audit?limit=1000")
      let last = try #require((audit["items"] as? [[String: Any]])?.last)
      #expect(last["actor"] as? String == "uma")
      #expect(last["actorKey"] as? String == umaKey)
      let after = try #require(last["after"] as? [String: Any])
      #expect(after["user"] as? String == "fresh")
      #expect(after["groups"] as? [String] == [])
    }
  }

  @Test func namesAreCheckedAndKeysAreStrong() async throws {
    try await Self.withServer { client, store, _ in
      let before = try await Resources.state(store)
      for name in ["a\u{0}b", "\u{202E}evil", "   ", "line\nbreak", "\u{1B}[31mred"] {
        let (status, body, _) = try await Resources.send(
          client, .post, "/v1/compartments", ["name": name])
        #expect(status == .badRequest, "\(name.debugDescription): \(body)")
      }
      for user in ["ev\nil", "\u{430}dmin", "", "admin\u{200B}"] {
        let (status, body, _) = try await Resources.send(
          client, .post, "/v1/apiKeys", ["user": user, "groups": [String]()])
        #expect(status == .badRequest, "\(user.debugDescription): \(body)")
      }
      try await Self.stillUp(client, store, before)
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-keys-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteStore(path: folder.appendingPathComponent("zpr.sqlite").path)
    for weak in ["a", "", String(repeating: "k", count: 31), String(repeating: "k ", count: 20)] {
      await #expect(throws: APIError.self) {
        _ = try await APIKeys.bootstrap(store, bootstrap: weak)
      }
    }
    #expect(try await store.revision() == 0)
  }

  @Test func theLastKeyThatManagesUsersStays() async throws {
    try await API.withServer(seed: nil) { client, store in
      let (_, list, _) = try await Resources.send(client, .get, "/v1/apiKeys")
      let admin = try #require((list["items"] as? [[String: Any]])?.first?["id"] as? String)
      let before = try await Resources.state(store)
      let (status, body, _) = try await Resources.send(client, .delete, "/v1/apiKeys/\(admin)")
      #expect(status == .conflict, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-024")
      #expect(try await Resources.state(store) == before)
    }
  }

  @Test func inputIsReadStrictly() async throws {
    try await Self.withServer { client, store, _ in
      let before = try await Resources.state(store)
      let vcn = try await GroupsAndLockoutTests.id(client, "vcns", "shared")
      for header in ["\"-1\"", "\"1x2\"", "1", "W/\"1\"", "\"\""] {
        let (status, body, _) = try await Resources.send(
          client, .delete, "/v1/vcns/\(vcn)", headers: API.headers(ifMatch: header))
        #expect(status == .badRequest, "If-Match \(header): \(body)")
      }
      var (status, body, _) = try await Self.raw(
        client, .post, "/v1/compartments", #"{"name": "a", "name": "b"}"#)
      #expect(status == .badRequest, "\(body)")
      (status, body, _) = try await Self.raw(
        client, .post, "/v1/pathAnalysis",
        #"{"from": "secret-db", "to": "hidden-app", "protocol": "tcp", "port": true}"#)
      #expect(status == .badRequest, "\(body)")
      // A null is no way to leave a field out: each typed body refuses it by name.
      for (path, text, field) in [
        (
          "/v1/pathAnalysis",
          #"{"from": "secret-db", "to": "hidden-app", "protocol": "tcp", "port": null}"#, "port"
        ),
        ("/v1/apiKeys", #"{"user": "k", "groups": null}"#, "groups"),
        (
          "/v1/iam/explain", #"{"user": "k", "permission": "VCN_READ", "resource": null}"#,
          "resource"
        ),
        ("/v1/apply", #"{"tenancy": "defaultNamespace: a", "path": null}"#, "path"),
      ] {
        let (refusal, _, answer) = try await Self.raw(client, .post, path, text)
        #expect(refusal == .badRequest, "\(path): \(answer)")
        #expect(
          answer.contains("ZPR-API-004") && answer.contains("'\(field)'"), "\(path): \(answer)")
      }
      for query in ["limit=abc", "limit=0", "limit=5000", "limit=-1"] {
        (status, body, _) = try await Resources.send(client, .get, "/v1/vcns?\(query)")
        #expect(status == .badRequest, "\(query): \(body)")
      }
      try await Self.stillUp(client, store, before)
    }
  }

  @Test func answersCarryTheSecurityHeaders() async throws {
    try await Self.withServer { client, _, _ in
      let missing = try await client.execute(uri: "/v1/vcns", method: .get, headers: [:])
      #expect(missing.status == .unauthorized)
      #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
      let invalid = try await client.execute(
        uri: "/v1/vcns", method: .get, headers: [.authorization: "Bearer nope"])
      #expect(invalid.status == .unauthorized)
      #expect(API.json(invalid)["code"] as? String != API.json(missing)["code"] as? String)
      let made = try await client.execute(
        uri: "/v1/apiKeys", method: .post, headers: API.headers(),
        body: API.body(["user": "k", "groups": [String]()]))
      #expect(made.status == .created)
      #expect(made.headers[.cacheControl] == "no-store")
      #expect(made.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
    }
  }

  // MARK: Sockets

  /// A TCP connection to the port on loopback.
  static func connect(port: Int) -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    return socket
  }

  /// Whether the server closes the connection (read returns end of file) within 30 seconds.
  static func closedByServer(_ socket: Int32) -> Bool {
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var byte: UInt8 = 0
    let read = recv(socket, &byte, 1, 0)
    return read == 0 || (read < 0 && errno == ECONNRESET)
  }
}

/// A store that counts how often the revision is asked for.
final class CountingStore: Store, @unchecked Sendable {
  let base: any Store
  private let lock = NSLock()
  private var calls = 0

  init(_ base: any Store) {
    self.base = base
  }

  var revisionCalls: Int { lock.withLock { calls } }
  /// How often every record was read (a whole-tenancy check or snapshot).
  var allRecordsCalls: Int { lock.withLock { wholeReads } }
  private var wholeReads = 0

  func revision() async throws -> Int64 {
    lock.withLock { calls += 1 }
    return try await base.revision()
  }

  func record(kind: String, id: String) async throws -> ResourceRecord? {
    try await base.record(kind: kind, id: id)
  }

  func records(kind: String, _ query: ListQuery) async throws -> [ResourceRecord] {
    try await base.records(kind: kind, query)
  }

  func allRecords() async throws -> [ResourceRecord] {
    lock.withLock { wholeReads += 1 }
    return try await base.allRecords()
  }

  func commit(
    _ mutations: [Mutation], actor: String, idempotencyKey: String?, check: CommitCheck
  ) async throws -> Commit {
    try await base.commit(mutations, actor: actor, idempotencyKey: idempotencyKey, check: check)
  }

  func audit(after revision: Int64, limit: Int) async throws -> [AuditRecord] {
    try await base.audit(after: revision, limit: limit)
  }

  func putAgentReport(host: String, report: String, time: Date) async throws {
    try await base.putAgentReport(host: host, report: report, time: time)
  }

  func agentReports(after: String?, limit: Int) async throws -> [(host: String, report: String)] {
    try await base.agentReports(after: after, limit: limit)
  }

  func deleteAgentReport(host: String) async throws -> Bool {
    try await base.deleteAgentReport(host: host)
  }
}

/// What came from outside is printed escaped: a name cannot forge a log line or move a
/// terminal's cursor.
@Suite("Escaped output")
struct EscapedOutputTests {
  @Test func controlAndFormatCharactersAreEscaped() {
    #expect(TerminalText.escaped("web-1") == "web-1")
    #expect(TerminalText.escaped("évian ✓") == "évian ✓")
    #expect(TerminalText.escaped("a\nb") == "a\\nb")
    #expect(TerminalText.escaped("\u{1B}[31mred") == "\\u{1B}[31mred")
    #expect(TerminalText.escaped("\u{202E}evil") == "\\u{202E}evil")
    #expect(TerminalText.escaped("zero\u{200B}width") == "zero\\u{200B}width")
    #expect(TerminalText.escaped("nul\u{0}") == "nul\\u{0}")
  }

  @Test func theTextLogEscapesMessagesAndMetadata() {
    let recorder = Recorder()
    let handler = EscapingLogHandler(RecordingHandler(recorder: recorder))
    var logger = Logger(label: "test") { _ in handler }
    logger.logLevel = .info
    logger.info("committed\nforged line", metadata: ["actor": "eve\ninfo: admin did it"])
    let (message, metadata) = recorder.last
    #expect(message == "committed\\nforged line")
    #expect(metadata["actor"] == "eve\\ninfo: admin did it")
  }

  final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var entry: (String, [String: String]) = ("", [:])
    var last: (String, [String: String]) { lock.withLock { entry } }
    func record(_ message: String, _ metadata: [String: String]) {
      lock.withLock { entry = (message, metadata) }
    }
  }

  struct RecordingHandler: LogHandler {
    let recorder: Recorder
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
      recorder.record(
        event.message.description, (event.metadata ?? [:]).mapValues { $0.description })
    }
  }
}
