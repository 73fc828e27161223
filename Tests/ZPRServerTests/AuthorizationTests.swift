import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPRServer
import ZPRStore

/// Who may do what, through the real router: users in different groups × API operations ×
/// resources in different compartments and namespaces, each with the status it must get.
@Suite("Authorization")
struct AuthorizationTests {
  typealias API = PolicyAPITests

  static let tenancy = """
    compartments:
      - {name: A}
      - {name: A-team, parent: A}
      - {name: B}
    namespaces:
      - name: app
        description: Application tiers
        attributes: [{name: tier, description: Tier}]
      - name: network
        description: Network zones
        attributes: [{name: zone, description: Zone}]
      - name: ops
        description: Operations
        attributes: [{name: owner, description: Owner}]
      - name: spare
        description: Not used yet
        attributes: []
    vcns:
      - name: vA
        compartment: A
        cidrs: [10.1.0.0/16]
        securityAttributes: {network.zone: a}
        subnets: [{name: s, cidr: 10.1.1.0/24}]
      - name: vB
        compartment: B
        cidrs: [10.2.0.0/16]
        securityAttributes: {network.zone: b}
        subnets: [{name: s, cidr: 10.2.1.0/24}]
    instances:
      - name: iA
        compartment: A-team
        securityAttributes: {app.tier: web}
        vnics: [{subnet: vA/s, ip: 10.1.1.10}]
      - name: iB
        compartment: B
        securityAttributes: {app.tier: web}
        vnics: [{subnet: vB/s, ip: 10.2.1.10}]
    """

  static let iamPolicies: [(String, [String])] = [
    (
      "network-team",
      [
        "Allow group NetworkUsers to use vcns in compartment A",
        "Allow group NetworkUsers to manage vcns in compartment A where request.permission='VCN_UPDATE'",
        "Allow group NetworkUsers, NetViewers to use security-attribute-namespaces in tenancy where target.security-attribute-namespace.name='network'",
        "Allow group NetViewers to use vcns in compartment A",
      ]
    ),
    (
      "app-team",
      [
        "Allow group AppTeam to use instance-family in compartment A",
        "Allow group AppTeam to use security-attribute-namespaces in tenancy where target.security-attribute-namespace.name='app'",
      ]
    ),
    ("auditors", ["Allow group Auditors to inspect all-resources in tenancy"]),
  ]

  static let users: [(String, [String])] = [
    ("nina", ["NetworkUsers"]), ("vic", ["NetViewers"]), ("ann", ["AppTeam"]),
    ("aud", ["Auditors"]), ("nobody", []),
  ]

  /// One operation: how to make its request from the current state, and the status each user
  /// must get (`admin` always succeeds).
  struct Operation {
    var name: String
    var request: (State) -> (HTTPRequest.Method, String, [String: Any]?)
    var expected: [String: Int]
  }

  struct State {
    var ids: [String: String]
    var records: [String: [String: Any]]
  }

  static func toggled(_ record: [String: Any], _ change: (inout [String: Any]) -> Void)
    -> [String: Any]
  {
    var body = record.filter {
      !["id", "lifecycleState", "timeCreated", "timeUpdated"].contains($0.key)
    }
    change(&body)
    return body
  }

  static var operations: [Operation] {
    [
      Operation(
        name: "read vA", request: { (.get, "/v1/vcns/\($0.ids["vA"]!)", nil) },
        expected: ["nina": 200, "vic": 200, "ann": 404, "aud": 403, "nobody": 404]),
      Operation(
        name: "read vB", request: { (.get, "/v1/vcns/\($0.ids["vB"]!)", nil) },
        expected: ["nina": 404, "vic": 404, "ann": 404, "aud": 403, "nobody": 404]),
      Operation(
        name: "relabel vA (network.zone)",
        request: { state in
          (
            .put, "/v1/vcns/\(state.ids["vA"]!)",
            toggled(state.records["vA"]!) { body in
              let zone = (body["securityAttributes"] as? [String: Any])?["network.zone"] as? String
              body["securityAttributes"] = ["network.zone": zone == "a" ? "c" : "a"]
            }
          )
        },
        // `use vcns` does not give VCN_UPDATE; the network team's manage-where statement does.
        expected: ["nina": 200, "vic": 403, "ann": 404, "aud": 403, "nobody": 404]),
      Operation(
        name: "relabel vB (network.zone)",
        request: { state in
          (
            .put, "/v1/vcns/\(state.ids["vB"]!)",
            toggled(state.records["vB"]!) { body in
              let zone = (body["securityAttributes"] as? [String: Any])?["network.zone"] as? String
              body["securityAttributes"] = ["network.zone": zone == "b" ? "d" : "b"]
            }
          )
        }, expected: ["nina": 404, "vic": 404, "ann": 404, "aud": 403, "nobody": 404]),
      Operation(
        name: "relabel iA (app.tier), in A's sub-compartment",
        request: { state in
          (
            .put, "/v1/instances/\(state.ids["iA"]!)",
            toggled(state.records["iA"]!) { body in
              var attributes = body["securityAttributes"] as? [String: Any] ?? [:]
              attributes["app.tier"] = attributes["app.tier"] as? String == "web" ? "api" : "web"
              body["securityAttributes"] = attributes
            }
          )
        }, expected: ["nina": 404, "vic": 404, "ann": 200, "aud": 403, "nobody": 404]),
      Operation(
        name: "put ops.owner on iA",
        request: { state in
          (
            .put, "/v1/instances/\(state.ids["iA"]!)",
            toggled(state.records["iA"]!) { body in
              var attributes = body["securityAttributes"] as? [String: Any] ?? [:]
              attributes["ops.owner"] = attributes["ops.owner"] == nil ? "sre" : nil
              body["securityAttributes"] = attributes
            }
          )
        },
        // Updating the instance is not enough: the ops namespace takes `use` too.
        expected: ["nina": 404, "vic": 404, "ann": 403, "aud": 403, "nobody": 404]),
      Operation(
        name: "relabel iB (app.tier), in B",
        request: { state in
          (
            .put, "/v1/instances/\(state.ids["iB"]!)",
            toggled(state.records["iB"]!) { body in
              body["securityAttributes"] = [
                "app.tier": (body["securityAttributes"] as? [String: Any])?["app.tier"] as? String
                  == "web" ? "api" : "web"
              ]
            }
          )
        }, expected: ["nina": 404, "vic": 404, "ann": 404, "aud": 403, "nobody": 404]),
      Operation(
        name: "create a ZPR policy",
        request: { _ in
          (
            .post, "/v1/zprPolicies",
            [
              "name": "p-\(UUID().uuidString.prefix(8))", "description": "web to web",
              "statements": [
                "in network.zone:a VCN allow app.tier:web endpoints to connect to app.tier:web endpoints with protocol='tcp/80'"
              ],
            ]
          )
        }, expected: ["nina": 403, "vic": 403, "ann": 403, "aud": 403, "nobody": 403]),
      Operation(
        name: "retire namespace spare",
        request: { state in
          (.post, "/v1/securityAttributeNamespaces/\(state.ids["spare"]!)/actions/retire", nil)
        }, expected: ["nina": 404, "vic": 404, "ann": 404, "aud": 403, "nobody": 404]),
      Operation(
        name: "read the audit log", request: { _ in (.get, "/v1/audit", nil) },
        expected: ["nina": 403, "vic": 403, "ann": 403, "aud": 403, "nobody": 403]),
      Operation(
        name: "analyze a path",
        request: { _ in
          (.post, "/v1/pathAnalysis", ["from": "iA", "to": "iB", "protocol": "tcp", "port": 80])
        }, expected: ["nina": 403, "vic": 403, "ann": 403, "aud": 403, "nobody": 403]),
    ]
  }

  @Test func everyUserGetsWhatTheirGroupsPoliciesGrant() async throws {
    try await API.withServer(seed: Self.tenancy) { client, store in
      // The IAM policies and the users' keys, made by the admin.
      for (name, statements) in Self.iamPolicies {
        let response = try await client.execute(
          uri: "/v1/iamPolicies", method: .post, headers: API.headers(),
          body: API.body(["name": name, "description": name, "statements": statements]))
        #expect(response.status == .created, "\(String(buffer: response.body))")
      }
      var keys = ["admin": API.key]
      for (user, groups) in Self.users {
        let response = try await client.execute(
          uri: "/v1/apiKeys", method: .post, headers: API.headers(),
          body: API.body(["user": user, "groups": groups]))
        keys[user] = try #require(API.json(response)["key"] as? String)
      }
      func headers(_ user: String) -> HTTPFields {
        [.authorization: "Bearer \(keys[user]!)", .contentType: "application/json"]
      }
      func state() async throws -> State {
        var state = State(ids: [:], records: [:])
        for path in ["vcns", "instances", "securityAttributeNamespaces"] {
          let response = try await client.execute(
            uri: "/v1/\(path)", method: .get, headers: API.headers())
          for item in API.json(response)["items"] as? [[String: Any]] ?? [] {
            let name = item["name"] as! String
            state.ids[name] = item["id"] as? String
            state.records[name] = item
          }
        }
        return state
      }
      var checked = 0
      var mismatches: [String] = []
      for operation in Self.operations {
        for user in ["admin"] + Self.users.map(\.0) {
          let before = try await store.revision()
          let (method, uri, body) = operation.request(try await state())
          let response = try await client.execute(
            uri: uri, method: method, headers: headers(user), body: body.map(API.body))
          let expected =
            operation.expected[user] ?? (method == .post && uri == "/v1/zprPolicies" ? 201 : 200)
          checked += 1
          if Int(response.status.code) != expected {
            mismatches.append(
              "\(operation.name) as \(user): \(response.status.code), expected \(expected): "
                + String(buffer: response.body))
          }
          if response.status.code == 403 {
            // A refusal names the permission that is missing.
            #expect((API.json(response)["message"] as? String)?.contains("it takes ") == true)
          }
          if response.status.code >= 400 {
            #expect(try await store.revision() == before, "\(operation.name) as \(user)")
          }
        }
      }
      #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
      #expect(checked == Self.operations.count * 6)
      // Lists show only what each user may inspect.
      for (user, expected) in [
        ("admin", ["vA", "vB"]), ("nina", ["vA"]), ("vic", ["vA"]), ("ann", []),
        ("aud", ["vA", "vB"]), ("nobody", []),
      ] {
        let response = try await client.execute(
          uri: "/v1/vcns", method: .get, headers: headers(user))
        let names = (API.json(response)["items"] as? [[String: Any]] ?? []).compactMap {
          $0["name"] as? String
        }
        #expect(names.sorted() == expected, "\(user) sees \(names)")
      }
      // Pages count only what the caller sees, and never point at a hidden record.
      for (user, pages) in [("admin", 2), ("nina", 1)] {
        var page: String?
        var seen = 0
        repeat {
          let response = try await client.execute(
            uri: "/v1/vcns?limit=1" + (page.map { "&page=\($0)" } ?? ""), method: .get,
            headers: headers(user))
          let object = API.json(response)
          #expect((object["items"] as? [Any])?.count == 1, "\(user)")
          page = object["nextPage"] as? String
          seen += 1
        } while page != nil && seen < 5
        #expect(seen == pages, "\(user) read \(seen) pages")
      }
      // The server explains a decision for a user, from the groups of their keys.
      func explain(_ body: [String: Any], as user: String = "admin") async throws -> (
        Int, [String: Any]
      ) {
        let response = try await client.execute(
          uri: "/v1/iam/explain", method: .post, headers: headers(user), body: API.body(body))
        return (response.status.code, API.json(response))
      }
      var (status, answer) = try await explain([
        "user": "nina", "permission": "VCN_UPDATE", "resource": "vcns/vA",
      ])
      #expect(status == 200)
      #expect(answer["allowed"] as? Bool == true)
      #expect(answer["policy"] as? String == "network-team")
      #expect(answer["statement"] as? Int == 1)
      (status, answer) = try await explain([
        "user": "vic", "permission": "VCN_UPDATE", "resource": "vcns/vA",
      ])
      #expect(answer["allowed"] as? Bool == false)
      #expect(
        (answer["lacks"] as? [String])?.first?.hasPrefix("'use' does not grant VCN_UPDATE") == true,
        "\(answer)")
      (status, answer) = try await explain([
        "user": "ann", "permission": "INSTANCE_UPDATE", "resource": "instances/iB",
      ])
      #expect(answer["allowed"] as? Bool == false)
      #expect((answer["lacks"] as? [String])?.first?.contains("compartment B") == true)
      (status, answer) = try await explain(["user": "nina", "permission": "VCN_UDPATE"])
      #expect(status == 400)
      #expect((answer["message"] as? String)?.contains("did you mean 'VCN_UPDATE'?") == true)
      (status, _) = try await explain(
        ["user": "vic", "permission": "VCN_READ"], as: "nina")
      #expect(status == 403)
      for (user, expected) in [("admin", 4), ("aud", 4), ("nina", 0), ("nobody", 0)] {
        let response = try await client.execute(
          uri: "/v1/iamPolicies", method: .get, headers: headers(user))
        #expect((API.json(response)["items"] as? [Any])?.count == expected, "\(user)")
      }
    }
  }

  @Test func iamPoliciesAreCheckedAsZprIamCheckChecksThem() async throws {
    try await API.withServer(seed: nil) { client, store in
      let before = try await store.revision()
      let response = try await client.execute(
        uri: "/v1/iamPolicies", method: .post, headers: API.headers(),
        body: API.body([
          "name": "slips", "description": "as published",
          "statements": [
            "Allow group NetworkUsers to manage vcns in compartment CompartmentA where request.permission='VCN_UDPATE'"
          ],
        ]))
      #expect(response.status == .badRequest)
      let details = API.json(response)["details"] as? [[String: String]] ?? []
      #expect(details.first?["code"] == "IAM031")
      #expect(details.first?["suggestion"] == "did you mean 'VCN_UPDATE'?")
      #expect(try await store.revision() == before)
    }
  }
}
