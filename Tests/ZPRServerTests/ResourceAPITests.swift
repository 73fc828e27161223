import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRServer
import ZPRStore

/// Every kind of resource through the real router on a real SQLite file, on top of the
/// three-tier example: the whole life of one, and every way a write is refused, each refusal
/// leaving the revision and the records as they were.
@Suite("Resources API")
struct ResourceAPITests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let threeTier = try! String(
    contentsOf: root.appendingPathComponent("examples/tenancies/three-tier.yaml"), encoding: .utf8)

  typealias API = PolicyAPITests

  /// A valid new element of each kind on top of the example, and its collection.
  static var samples: [(path: String, body: [String: Any])] {
    [
      ("securityAttributeNamespaces", ["name": "extra", "description": "Extra labels"]),
      (
        "securityAttributes",
        ["name": "color", "namespace": "app", "description": "Colour", "values": ["red", "blue"]]
      ),
      (
        "zprPolicies",
        [
          "name": "ops", "description": "Operations",
          "statements": [
            "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/9090'"
          ],
        ]
      ),
      ("compartments", ["name": "prod-net"]),
      ("vcns", ["name": "dev", "cidrs": ["10.50.0.0/16"]]),
      (
        "routeTables",
        [
          "name": "public", "vcn": "prod",
          "rules": [["destination": "0.0.0.0/0", "target": "internet"]],
        ]
      ),
      ("localPeeringGateways", ["name": "to-nowhere", "vcn": "prod"]),
      (
        "securityLists",
        [
          "name": "ssh", "vcn": "prod",
          "ingress": [["protocol": "tcp", "source": "10.0.0.0/16", "ports": "22"]],
          "egress": [] as [Any],
        ]
      ),
      (
        "networkSecurityGroups",
        [
          "name": "web", "vcn": "prod",
          "ingress": [["protocol": "tcp", "source": "0.0.0.0/0", "ports": "443"]],
          "egress": [["protocol": "all", "destination": "0.0.0.0/0"]],
        ]
      ),
      (
        "subnets",
        [
          "name": "batch", "vcn": "prod", "cidr": "10.0.9.0/24", "routeTable": "main",
          "securityLists": ["internal"],
        ]
      ),
      ("drgs", ["name": "hub", "attachments": ["prod"]]),
      (
        "instances",
        [
          "name": "web-2", "securityAttributes": ["app.tier": "web"],
          "vnics": [["subnet": "prod/web", "ip": "10.0.1.20"]],
        ]
      ),
      (
        "databases",
        [
          "name": "db-2", "securityAttributes": ["app.tier": "db"],
          "vnics": [["subnet": "prod/db", "ip": "10.0.3.20", "nsgs": ["db"]]],
        ]
      ),
      ("loadBalancers", ["name": "lb-1", "vnics": [["subnet": "prod/web", "ip": "10.0.1.5"]]]),
      ("privateEndpoints", ["name": "pe-1", "vnics": [["subnet": "prod/app", "ip": "10.0.2.5"]]]),
      (
        "policyTests",
        [
          "name": "web reaches app", "from": "web-1", "to": "app-1", "protocol": "tcp",
          "port": 8080, "expect": "allow",
        ]
      ),
    ]
  }

  static func send(
    _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String,
    _ body: [String: Any]? = nil, headers: HTTPFields = API.headers()
  ) async throws -> (HTTPResponse.Status, [String: Any], String?) {
    let response = try await client.execute(
      uri: uri, method: method, headers: headers, body: body.map(API.body))
    return (response.status, API.json(response), response.headers[.eTag])
  }

  /// What must not move when a write is refused.
  static func state(_ store: any Store) async throws -> (Int64, [ResourceRecord]) {
    (try await store.revision(), try await store.allRecords().sorted { $0.id < $1.id })
  }

  @Test(arguments: samples.map(\.path))
  func oneOfEachKindLivesAndDies(path: String) async throws {
    try await API.withServer(seed: Self.threeTier) { client, store in
      let sample = Self.samples.first { $0.path == path }!.body
      let (status, created, etag) = try await Self.send(client, .post, "/v1/\(path)", sample)
      #expect(status == .created, "\(created)")
      #expect(etag == "\"1\"")
      let id = try #require(created["id"] as? String)
      #expect(created["lifecycleState"] as? String == "ACTIVE")
      #expect(created["timeCreated"] as? String != nil)
      for (key, value) in sample {
        #expect(
          TenancyDocumentJSON.same(created[key], value), "\(key): \(created[key] ?? "nil")")
      }
      // It reads back, lists, and is found by name.
      let (_, read, _) = try await Self.send(client, .get, "/v1/\(path)/\(id)")
      #expect(read["id"] as? String == id)
      let name = sample["name"] as! String
      let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
      let (_, listed, _) = try await Self.send(client, .get, "/v1/\(path)?name=\(query)")
      #expect((listed["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
      // Replaced at its version; a stale version is refused and changes nothing.
      var renamed = sample
      renamed["name"] = name + "-2"
      let (replaced, after, newTag) = try await Self.send(
        client, .put, "/v1/\(path)/\(id)", renamed, headers: API.headers(ifMatch: "\"1\""))
      #expect(replaced == .ok, "\(after)")
      #expect(newTag == "\"2\"")
      let before = try await Self.state(store)
      let (stale, refusal, _) = try await Self.send(
        client, .put, "/v1/\(path)/\(id)", sample, headers: API.headers(ifMatch: "\"1\""))
      #expect(stale == .preconditionFailed)
      #expect(refusal["code"] as? String == "ZPR-STORE-002")
      #expect(try await Self.state(store) == before)
      // Deleted (a namespace or attribute must be retired first).
      if path == "securityAttributeNamespaces" || path == "securityAttributes" {
        let (active, refused, _) = try await Self.send(client, .delete, "/v1/\(path)/\(id)")
        #expect(active == .conflict)
        #expect(refused["code"] as? String == "ZPR-MODEL-004")
        #expect(try await Self.state(store) == before)
        let (retired, _, _) = try await Self.send(
          client, .post, "/v1/\(path)/\(id)/actions/retire")
        #expect(retired == .ok)
      }
      let (deleted, _, _) = try await Self.send(client, .delete, "/v1/\(path)/\(id)")
      #expect(deleted == .ok)
      let (gone, missing, _) = try await Self.send(client, .get, "/v1/\(path)/\(id)")
      #expect(gone == .notFound)
      #expect(missing["code"] as? String == "ZPR-API-006")
    }
  }

  /// Every malformed or refused write, for every kind, leaves nothing behind.
  @Test(arguments: samples.map(\.path))
  func everyRefusedWriteLeavesNothingBehind(path: String) async throws {
    try await API.withServer(seed: Self.threeTier) { client, store in
      let sample = Self.samples.first { $0.path == path }!.body
      let before = try await Self.state(store)
      func refused(
        _ body: ByteBuffer, headers: HTTPFields = API.headers(), _ status: HTTPResponse.Status,
        _ code: String, _ comment: Testing.Comment
      ) async throws {
        let response = try await client.execute(
          uri: "/v1/\(path)", method: .post, headers: headers, body: body)
        #expect(response.status == status, comment)
        #expect(API.json(response)["code"] as? String == code, comment)
        #expect(
          (API.json(response)["message"] as? String)?.isEmpty == false, "a message says why")
        #expect(try await Self.state(store) == before, comment)
      }
      try await refused(ByteBuffer(string: "{not json"), .badRequest, "ZPR-API-002", "malformed")
      try await refused(ByteBuffer(string: "[1]"), .badRequest, "ZPR-API-002", "not an object")
      var unknown = sample
      unknown["colour"] = "red"
      try await refused(API.body(unknown), .badRequest, "ZPR-API-003", "unknown field")
      var wrongName = sample
      wrongName["name"] = 7
      try await refused(API.body(wrongName), .badRequest, "ZPR-API-004", "wrong type")
      var noName = sample
      noName["name"] = nil
      try await refused(API.body(noName), .badRequest, "ZPR-API-005", "missing name")
      var longName = sample
      longName["name"] = String(repeating: "n", count: 101)
      try await refused(API.body(longName), .badRequest, "ZPR-API-007", "over-long name")
      try await refused(
        API.body(sample), headers: [.contentType: "application/json"], .unauthorized,
        "ZPR-API-001", "no key")
      let big = ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
      let response = try await client.execute(
        uri: "/v1/\(path)", method: .post, headers: API.headers(), body: big)
      #expect(response.status == .contentTooLarge)
      #expect(try await Self.state(store) == before)
      // A second one by the same name conflicts, and leaves only the first.
      let (created, _, _) = try await Self.send(client, .post, "/v1/\(path)", sample)
      #expect(created == .created)
      let afterFirst = try await Self.state(store)
      let (conflict, body, _) = try await Self.send(client, .post, "/v1/\(path)", sample)
      #expect(conflict == .conflict)
      #expect(body["code"] as? String == "ZPR-STORE-003")
      #expect(try await Self.state(store) == afterFirst)
    }
  }

  @Test func writesThatBreakTheTenancyOrItsTestsAreRefusedWithTheReason() async throws {
    try await API.withServer(seed: Self.threeTier) { client, store in
      let before = try await Self.state(store)
      // Outside its VCN.
      var (status, body, _) = try await Self.send(
        client, .post, "/v1/subnets", ["name": "far", "vcn": "prod", "cidr": "10.9.0.0/24"])
      #expect(status == .unprocessableContent)
      #expect(body["code"] as? String == "ZPR-API-012")
      var details = body["details"] as? [[String: String]] ?? []
      #expect(details.first?["code"] == "ZPT003")
      #expect(details.first?["name"] == "far")
      // In a VCN that does not exist.
      (status, body, _) = try await Self.send(
        client, .post, "/v1/subnets", ["name": "far", "vcn": "nope", "cidr": "10.9.0.0/24"])
      #expect(status == .unprocessableContent)
      #expect((body["details"] as? [[String: String]])?.first?["code"] == "ZPT002")
      // A value the attribute does not allow, with the fix.
      (status, body, _) = try await Self.send(
        client, .post, "/v1/zprPolicies",
        [
          "name": "typo", "description": "x",
          "statements": [
            "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'",
            "in network.vcn:prod VCN allow app.tier:wbe endpoints to connect to app.tier:db endpoints",
          ],
        ])
      details = body["details"] as? [[String: String]] ?? []
      #expect(details.first?["code"] == "ZPL083")
      #expect(details.first?["suggestion"] == "did you mean 'web'?")
      // The statement at fault is named by its place.
      #expect(details.first?["statement"] == "1")
      #expect(details.first?["name"] == "typo")
      // A policy that breaks a policy test.
      (status, body, _) = try await Self.send(
        client, .post, "/v1/zprPolicies",
        [
          "name": "open", "description": "x",
          "statements": [
            "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:db endpoints"
          ],
        ])
      #expect(status == .unprocessableContent)
      #expect(body["code"] as? String == "ZPR-API-013")
      #expect(
        (body["details"] as? [[String: String]])?.first?["test"]
          == "the web tier never reaches the database")
      // A value of the wrong shape inside an element.
      (status, body, _) = try await Self.send(
        client, .post, "/v1/subnets",
        ["name": "s", "vcn": "prod", "cidr": "10.0.9.0/24", "securityLists": 7])
      #expect(status == .badRequest)
      #expect((body["details"] as? [[String: String]])?.first?["code"] == "ZPT101")
      // A subnet cannot move to another VCN.
      let (_, list, _) = try await Self.send(client, .get, "/v1/subnets?name=web")
      let web = try #require((list["items"] as? [[String: Any]])?.first)
      var moved = web.filter { ["name", "cidr", "routeTable", "securityLists"].contains($0.key) }
      moved["vcn"] = "dev"
      (status, body, _) = try await Self.send(client, .put, "/v1/subnets/\(web["id"]!)", moved)
      #expect(body["code"] as? String == "ZPR-API-019")
      // Deleting a VCN that subnets belong to.
      let (_, vcns, _) = try await Self.send(client, .get, "/v1/vcns")
      let prod = try #require((vcns["items"] as? [[String: Any]])?.first?["id"] as? String)
      (status, body, _) = try await Self.send(client, .delete, "/v1/vcns/\(prod)")
      #expect(status == .conflict)
      #expect(body["code"] as? String == "ZPR-API-043")
      #expect(try await Self.state(store) == before)
    }
  }

  @Test func namespacesAndAttributesFollowTheirLifecycle() async throws {
    try await API.withServer(seed: Self.threeTier) { client, store in
      _ = try await Self.send(
        client, .post, "/v1/securityAttributeNamespaces", ["name": "ops", "description": "Ops"])
      _ = try await Self.send(
        client, .post, "/v1/securityAttributes",
        ["name": "owner", "namespace": "ops", "description": "Owner"])
      let (_, namespaces, _) = try await Self.send(
        client, .get, "/v1/securityAttributeNamespaces?name=ops")
      let ops = try #require((namespaces["items"] as? [[String: Any]])?.first?["id"] as? String)
      // Retiring the namespace retires its attribute; reactivating it does not.
      var (status, body, _) = try await Self.send(
        client, .post, "/v1/securityAttributeNamespaces/\(ops)/actions/retire")
      #expect(status == .ok)
      #expect(body["lifecycleState"] as? String == "INACTIVE")
      let (_, attributes, _) = try await Self.send(
        client, .get, "/v1/securityAttributes?namespace=ops")
      #expect(
        (attributes["items"] as? [[String: Any]])?.first?["lifecycleState"] as? String == "INACTIVE"
      )
      (status, body, _) = try await Self.send(
        client, .post, "/v1/securityAttributeNamespaces/\(ops)/actions/retire")
      #expect(status == .conflict)
      (status, _, _) = try await Self.send(
        client, .post, "/v1/securityAttributeNamespaces/\(ops)/actions/reactivate")
      #expect(status == .ok)
      let (_, still, _) = try await Self.send(client, .get, "/v1/securityAttributes?namespace=ops")
      #expect(
        (still["items"] as? [[String: Any]])?.first?["lifecycleState"] as? String == "INACTIVE")
      // A retired namespace that holds attributes is deleted only with cascade.
      _ = try await Self.send(
        client, .post, "/v1/securityAttributeNamespaces/\(ops)/actions/retire")
      (status, body, _) = try await Self.send(
        client, .delete, "/v1/securityAttributeNamespaces/\(ops)")
      #expect(status == .conflict)
      #expect(body["code"] as? String == "ZPR-MODEL-011")
      (status, _, _) = try await Self.send(
        client, .delete, "/v1/securityAttributeNamespaces/\(ops)?cascade=true")
      #expect(status == .ok)
      let (_, none, _) = try await Self.send(client, .get, "/v1/securityAttributes?namespace=ops")
      #expect((none["items"] as? [Any])?.isEmpty == true)
      // An attribute resources carry cannot be retired from under them.
      let (_, tiers, _) = try await Self.send(client, .get, "/v1/securityAttributes?name=tier")
      let tier = try #require((tiers["items"] as? [[String: Any]])?.first?["id"] as? String)
      let before = try await Self.state(store)
      (status, body, _) = try await Self.send(
        client, .post, "/v1/securityAttributes/\(tier)/actions/retire")
      #expect(status == .unprocessableContent)
      #expect((body["details"] as? [[String: String]])?.first?["code"] == "ZPT008")
      // One line says what blocks and what to do first.
      #expect(
        body["message"] as? String
          == "3 resources still carry app.tier (web-1, app-1, db-1): remove it from them first, "
          + "then retire it (nothing was changed)")
      #expect(try await Self.state(store) == before)
      // Lists filter by attribute.
      let (_, web, _) = try await Self.send(client, .get, "/v1/instances?attribute=app.tier:web")
      #expect((web["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["web-1"])
    }
  }

  @Test func applyPlansThenAppliesAndExportRoundTrips() async throws {
    try await API.withServer(seed: nil) { client, store in
      // Dry run: the plan and the access it gains; nothing changes.
      var (status, body, _) = try await Self.send(
        client, .post, "/v1/apply?dryRun=true", ["tenancy": Self.threeTier])
      #expect(status == .ok)
      let plan = body["plan"] as? [String: [[String: Any]]] ?? [:]
      #expect(plan["create"]?.count == 23)
      #expect((body["reachability"] as? [String: Any])?["changes"] as? Int == 2)
      #expect(try await store.revision() == 1)
      (status, body, _) = try await Self.send(
        client, .post, "/v1/apply", ["tenancy": Self.threeTier])
      #expect(body["revision"] as? Int == 2)
      // What the server exports applies back with no change, and means the same tenancy.
      let exported = String(
        buffer: try await client.execute(uri: "/v1/export", method: .get, headers: API.headers())
          .body)
      (status, body, _) = try await Self.send(
        client, .post, "/v1/apply?dryRun=true", ["tenancy": exported])
      let again = body["plan"] as? [String: [Any]] ?? [:]
      #expect(again.values.allSatisfy { $0.isEmpty }, "\(again)")
      let original = TenancyFile.load(SourceFile(path: "a", text: Self.threeTier)).tenancy
      let roundTrip = TenancyFile.load(SourceFile(path: "b", text: exported)).tenancy
      // The same VCN; its parts come back in name order.
      func sorted(_ vcns: [VCN]) -> [VCN] {
        vcns.map {
          var vcn = $0
          vcn.subnets.sort { $0.name < $1.name }
          return vcn
        }
      }
      #expect(sorted(roundTrip.vcns) == sorted(original.vcns))
      #expect(Set(roundTrip.resources.map(\.name)) == Set(original.resources.map(\.name)))
      // A file with errors is refused by line, and nothing changes.
      let broken = Self.threeTier.replacingOccurrences(of: "10.0.1.10", with: "10.0.1.300")
      (status, body, _) = try await Self.send(client, .post, "/v1/apply", ["tenancy": broken])
      #expect(status == .badRequest)
      #expect(body["code"] as? String == "ZPR-API-018")
      #expect((body["details"] as? [[String: String]])?.first?["line"] != nil)
      #expect(try await store.revision() == 2)
      // Removing a resource from the file deletes it.
      let fewer = Self.threeTier.replacingOccurrences(
        of:
          "  - name: app-1\n    securityAttributes: {app.tier: app}\n    vnics: [{subnet: prod/app, ip: 10.0.2.10}]\n",
        with: ""
      )
      .replacingOccurrences(
        of: "  - {from: web-1, to: app-1, protocol: tcp, port: 8080, expect: allow}\n", with: ""
      )
      .replacingOccurrences(
        of: "  - {from: app-1, to: db-1, protocol: tcp, port: 5432, expect: allow}\n", with: ""
      )
      .replacingOccurrences(
        of: "  - {from: db-1, to: app-1, protocol: tcp, port: 8080, expect: deny}\n", with: ""
      )
      .replacingOccurrences(
        of: "  - {from: web-1, to: app-1, protocol: icmp, expect: deny}\n", with: "")
      (status, body, _) = try await Self.send(client, .post, "/v1/apply", ["tenancy": fewer])
      #expect(status == .ok, "\(body)")
      let deletes = (body["plan"] as? [String: [[String: Any]]])?["delete"] ?? []
      #expect(deletes.contains { $0["name"] as? String == "app-1" })
      let (_, instances, _) = try await Self.send(client, .get, "/v1/instances")
      #expect((instances["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["web-1"])
    }
  }

  @Test func analysisMatrixAndWhatIfAnswerAsTheCommandLineDoes() async throws {
    try await API.withServer(seed: Self.threeTier) { client, _ in
      let analyzer = PathAnalyzer(
        TenancyFile.load(SourceFile(path: "t", text: Self.threeTier)).tenancy)
      for (from, to, port) in [
        ("web-1", "app-1", 8080), ("web-1", "db-1", 5432), ("app-1", "db-1", 5432),
      ] {
        let response = try await client.execute(
          uri: "/v1/pathAnalysis", method: .post, headers: API.headers(),
          body: API.body(["from": from, "to": to, "protocol": "tcp", "port": port]))
        let local = try analyzer.analyze(
          PathQuery(from: from, to: to, transport: .tcp, port: port))
        #expect(String(buffer: response.body) == AnalysisJSON.json(local).serialized())
      }
      var (status, body, _) = try await Self.send(
        client, .post, "/v1/pathAnalysis",
        ["from": "web-9", "to": "app-1", "protocol": "tcp", "port": 1])
      #expect(status == .badRequest)
      #expect(body["code"] as? String == "ZPR-ANALYZE-001")
      (status, body, _) = try await Self.send(client, .get, "/v1/reachabilityMatrix")
      #expect((body["cells"] as? [Any])?.count == 2)
      (status, body, _) = try await Self.send(
        client, .post, "/v1/whatIf",
        [
          "policies": [
            [
              "name": "three-tier", "description": "web to app only",
              "statements": [
                "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'"
              ],
            ]
          ]
        ])
      let pairs = body["pairs"] as? [[String: Any]] ?? []
      #expect(pairs.count == 1)
      #expect(pairs.first?["from"] as? [String] == ["app-1/0"])
      #expect((pairs.first?["lost"] as? [Any])?.count == 1)
    }
  }

  @Test func enablingZPRCreatesTheDefaultNamespaceOnce() async throws {
    try await API.withServer(seed: nil) { client, _ in
      var (status, body, _) = try await Self.send(client, .get, "/v1/zprConfiguration")
      #expect(body["enabled"] as? Bool == false)
      (status, body, _) = try await Self.send(
        client, .post, "/v1/zprPolicies", PolicyAPITests.policy)
      #expect(status == .unprocessableContent)
      #expect(
        (body["details"] as? [[String: String]])?.contains { $0["code"] == "ZPR-API-014" } == true)
      (status, body, _) = try await Self.send(client, .post, "/v1/zprConfiguration/actions/enable")
      #expect(status == .ok)
      #expect(body["defaultNamespace"] as? String == "oracle-zpr")
      (status, body, _) = try await Self.send(client, .post, "/v1/zprConfiguration/actions/enable")
      #expect(status == .conflict)
      #expect(body["code"] as? String == "ZPR-MODEL-009")
      let (_, attributes, _) = try await Self.send(
        client, .get, "/v1/securityAttributes?namespace=oracle-zpr")
      #expect(
        (attributes["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["sensitivity"])
    }
  }
}

/// Compares a value the API returned with the one sent (numbers and strings of JSON alike).
enum TenancyDocumentJSON {
  static func same(_ returned: Any?, _ sent: Any) -> Bool {
    guard let returned else { return false }
    return NSArray(array: [returned]).isEqual(to: [sent])
  }
}
