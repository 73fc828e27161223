import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPRServer
import ZPRStore

/// Groups as resources, IAM policies and groups in the tenancy file that `apply` and `export`
/// speak, and the guard that keeps a caller from locking themselves out.
@Suite("Groups, IAM in the tenancy file, lockout")
struct GroupsAndLockoutTests {
  typealias API = PolicyAPITests
  typealias Resources = ResourceAPITests

  static let network = """
    compartments:
      - {name: Prod}
      - {name: Network, parent: Prod}
    vcns:
      - name: prod
        compartment: Network
        cidrs: [10.0.0.0/16]
        subnets: [{name: s, cidr: 10.0.1.0/24}]
    """

  static func key(
    _ client: some TestClientProtocol, user: String, groups: [String] = []
  ) async throws -> HTTPFields {
    let (status, body, _) = try await Resources.send(
      client, .post, "/v1/apiKeys", ["user": user, "groups": groups])
    #expect(status == .created)
    let key = try #require(body["key"] as? String)
    return [.authorization: "Bearer \(key)", .contentType: "application/json"]
  }

  static func id(_ client: some TestClientProtocol, _ path: String, _ name: String) async throws
    -> String
  {
    let (_, list, _) = try await Resources.send(client, .get, "/v1/\(path)?name=\(name)")
    return try #require((list["items"] as? [[String: Any]])?.first?["id"] as? String)
  }

  @Test func aGroupsMembersGetWhatItsStatementsGrant() async throws {
    try await API.withServer(seed: Self.network) { client, store in
      let nina = try await Self.key(client, user: "nina")
      var (status, _, _) = try await Resources.send(
        client, .get, "/v1/vcns/\(try await Self.id(client, "vcns", "prod"))", headers: nina)
      #expect(status == .notFound)
      (status, _, _) = try await Resources.send(
        client, .post, "/v1/iamPolicies",
        [
          "name": "network", "description": "network team",
          "statements": ["allow group NetworkUsers to use vcns in compartment Prod:Network"],
        ])
      #expect(status == .created)
      // Not yet a member: still nothing.
      var (_, list, _) = try await Resources.send(client, .get, "/v1/vcns", headers: nina)
      #expect((list["items"] as? [Any])?.isEmpty ?? true)
      let (created, group, etag) = try await Resources.send(
        client, .post, "/v1/groups",
        ["name": "NetworkUsers", "description": "network team", "members": ["nina"]])
      #expect(created == .created, "\(group)")
      (_, list, _) = try await Resources.send(client, .get, "/v1/vcns", headers: nina)
      #expect((list["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["prod"])
      // Taken out of the group, she loses it again.
      (status, _, _) = try await Resources.send(
        client, .put, "/v1/groups/\(group["id"] as? String ?? "")",
        ["name": "NetworkUsers", "description": "network team", "members": [String]()],
        headers: API.headers(ifMatch: etag))
      #expect(status == .ok)
      (_, list, _) = try await Resources.send(client, .get, "/v1/vcns", headers: nina)
      #expect((list["items"] as? [Any])?.isEmpty ?? true)
      // A group's members must be names.
      let before = try await Resources.state(store)
      let (refused, body, _) = try await Resources.send(
        client, .post, "/v1/groups", ["name": "Bad", "description": "x", "members": [1]])
      #expect(refused == .badRequest, "\(body)")
      #expect(try await Resources.state(store) == before)
    }
  }

  @Test func applyAndExportCarryIAMPoliciesAndGroups() async throws {
    try await API.withServer(seed: nil) { client, store in
      // A file without the sections leaves the server's IAM policies alone.
      var (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply", ["tenancy": Self.network])
      #expect(status == .ok, "\(body)")
      var (_, policies, _) = try await Resources.send(client, .get, "/v1/iamPolicies")
      #expect(
        (policies["items"] as? [[String: Any]])?.map { $0["name"] as? String }
          == ["Administrators"])
      // Export writes them; with a group and a policy added, apply creates them.
      var exported = String(
        buffer: try await client.execute(uri: "/v1/export", method: .get, headers: API.headers())
          .body)
      #expect(exported.contains("iamPolicies:"), "\(exported)")
      exported +=
        "groups:\n- {name: NetworkUsers, description: net, members: [nina]}\n"
      exported = exported.replacingOccurrences(
        of: "iamPolicies:\n",
        with:
          "iamPolicies:\n- {name: network, description: net, statements: [\"Allow group NetworkUsers to use vcns in compartment Prod:Network\"]}\n"
      )
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply", ["tenancy": exported])
      #expect(status == .ok, "\(body)\n\(exported)")
      let created = (body["plan"] as? [String: [[String: Any]]])?["create"] ?? []
      #expect(Set(created.compactMap { $0["name"] as? String }) == ["NetworkUsers", "network"])
      let nina = try await Self.key(client, user: "nina")
      let (_, list, _) = try await Resources.send(client, .get, "/v1/vcns", headers: nina)
      #expect((list["items"] as? [[String: Any]])?.count == 1)
      // Applying the export again changes nothing, statements' spelling included.
      let again = String(
        buffer: try await client.execute(uri: "/v1/export", method: .get, headers: API.headers())
          .body)
      #expect(again.contains("allow group NetworkUsers to use vcns in compartment Prod:Network"))
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply?dryRun=true", ["tenancy": again])
      let plan = body["plan"] as? [String: [Any]] ?? [:]
      #expect(plan.values.allSatisfy { $0.isEmpty }, "\(plan)")
      // An IAM statement with a slip is refused by line, with its fix.
      let slip = again.replacingOccurrences(
        of: "allow group NetworkUsers to use", with: "allow NetworkUsers to use")
      let before = try await Resources.state(store)
      (status, body, _) = try await Resources.send(client, .post, "/v1/apply", ["tenancy": slip])
      #expect(status == .badRequest)
      let detail = (body["details"] as? [[String: String]])?.first ?? [:]
      #expect(detail["code"] == "IAM011")
      #expect(detail["suggestion"] == "write 'group NetworkUsers'")
      #expect(detail["line"] != nil)
      #expect(try await Resources.state(store) == before)
      // An empty section deletes them.
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply?dryRun=true",
        ["tenancy": Self.network + "\ngroups: []\n"])
      let deleted = (body["plan"] as? [String: [[String: Any]]])?["delete"] ?? []
      #expect(deleted.compactMap { $0["name"] as? String } == ["NetworkUsers"])
      _ = policies
      (_, policies, _) = try await Resources.send(client, .get, "/v1/iamPolicies")
      #expect((policies["items"] as? [Any])?.count == 2)
    }
  }

  @Test func nobodyLocksThemselvesOut() async throws {
    try await API.withServer(seed: Self.network) { client, store in
      let before = try await Resources.state(store)
      // Applying IAM policies that leave out the admin's statement.
      let file =
        Self.network
        + "\niamPolicies:\n  - {name: readers, description: r, statements: [\"allow group Auditors to read all-resources in tenancy\"]}\n"
      var (status, body, _) = try await Resources.send(
        client, .post, "/v1/apply", ["tenancy": file])
      #expect(status == .conflict, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-023")
      #expect((body["message"] as? String)?.contains("POLICY_UPDATE") == true)
      #expect(try await Resources.state(store) == before)
      // Deleting or weakening the Administrators policy through the API.
      let (_, list, _) = try await Resources.send(
        client, .get, "/v1/iamPolicies?name=Administrators")
      let id = try #require((list["items"] as? [[String: Any]])?.first?["id"] as? String)
      (status, body, _) = try await Resources.send(client, .delete, "/v1/iamPolicies/\(id)")
      #expect(status == .conflict, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-023")
      (status, body, _) = try await Resources.send(
        client, .put, "/v1/iamPolicies/\(id)",
        [
          "name": "Administrators", "description": "weaker",
          "statements": ["allow group Administrators to read all-resources in tenancy"],
        ])
      #expect(status == .conflict, "\(body)")
      #expect(try await Resources.state(store) == before)
      // With the permission kept elsewhere first, the change goes through.
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/groups",
        ["name": "IAMAdmins", "description": "i", "members": ["admin"]])
      #expect(status == .created)
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/iamPolicies",
        [
          "name": "iam-admins", "description": "i",
          "statements": ["allow group IAMAdmins to manage policies in tenancy"],
        ])
      #expect(status == .created, "\(body)")
      // Nor can the last key that may manage users lose that: someone must be able to make
      // keys again.
      (status, body, _) = try await Resources.send(client, .delete, "/v1/iamPolicies/\(id)")
      #expect(status == .conflict, "\(body)")
      #expect(body["code"] as? String == "ZPR-API-024")
      #expect(
        try await Resources.state(store) == (
          before.0 + 2, try await store.allRecords().sorted { $0.id < $1.id }
        ))
      (status, body, _) = try await Resources.send(
        client, .put,
        "/v1/iamPolicies/\(try await GroupsAndLockoutTests.id(client, "iamPolicies", "iam-admins"))",
        [
          "name": "iam-admins", "description": "i",
          "statements": [
            "allow group IAMAdmins to manage policies in tenancy",
            "allow group IAMAdmins to manage users in tenancy",
          ],
        ])
      #expect(status == .ok, "\(body)")
      (status, body, _) = try await Resources.send(client, .delete, "/v1/iamPolicies/\(id)")
      #expect(status == .ok, "\(body)")
    }
  }
}
