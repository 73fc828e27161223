import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPRModel
import ZPRServer
import ZPRStore

/// What every write answers besides the resource: the access it changes, the warnings it
/// brings, and the same without committing in a dry run; and partial updates (PATCH).
@Suite("Write reports, dry runs and PATCH")
struct WriteReportTests {
  typealias API = PolicyAPITests
  typealias Resources = ResourceAPITests

  /// The three-tier example without its policy tests (which would refuse the changes here).
  static let seed =
    String(
      Resources.threeTier[..<Resources.threeTier.range(of: "\ntests:")!.lowerBound]) + "\n"

  @Test("a dry run answers as the write would, and changes nothing")
  func dryRun() async throws {
    try await API.withServer(seed: Self.seed) { client, store in
      let before = try await Resources.state(store)
      let web2: [String: Any] = [
        "name": "web-2", "securityAttributes": ["app.tier": "web"],
        "vnics": [["subnet": "prod/web", "ip": "10.0.1.20"]],
      ]
      for (uri, headers) in [
        ("/v1/instances?dryRun=true", API.headers()),
        (
          "/v1/instances",
          {
            var h = API.headers()
            h[HTTPField.Name("Zpr-Dry-Run")!] = "true"
            return h
          }()
        ),
      ] {
        let (status, body, etag) = try await Resources.send(
          client, .post, uri, web2, headers: headers)
        #expect(status == .ok, "\(body)")
        #expect(body["dryRun"] as? Bool == true)
        #expect(body["name"] as? String == "web-2")
        #expect(etag == nil)
        let changes = try #require(body["accessChanges"] as? [[String: Any]])
        #expect(
          changes.contains {
            ($0["from"] as? [String])?.contains { $0.hasPrefix("web-2") } == true
              && ($0["gained"] as? [String])?.contains("tcp/8080") == true
          }, "\(changes)")
        #expect(try await Resources.state(store) == before)
      }
      // A dry run is refused as the write would be, and still changes nothing.
      var clash = web2
      clash["vnics"] = [["subnet": "prod/web", "ip": "10.0.1.10"]]
      let (status, body, _) = try await Resources.send(
        client, .post, "/v1/instances?dryRun=true", clash)
      #expect(status == .unprocessableContent)
      #expect(body["code"] as? String == "ZPR-API-012")
      #expect(try await Resources.state(store) == before)
      let (bad, refusal, _) = try await Resources.send(
        client, .post, "/v1/instances?dryRun=maybe", web2)
      #expect(bad == .badRequest)
      #expect(refusal["code"] as? String == "ZPR-API-033")
    }
  }

  @Test("a change that unprotects an endpoint says so, with the access it loses")
  func unprotecting() async throws {
    try await API.withServer(seed: Self.seed) { client, _ in
      let (_, list, _) = try await Resources.send(client, .get, "/v1/instances?name=app-1")
      let id = try #require((list["items"] as? [[String: Any]])?.first?["id"] as? String)
      let (status, body, etag) = try await Resources.send(
        client, .patch, "/v1/instances/\(id)", ["securityAttributes": NSNull()])
      #expect(status == .ok, "\(body)")
      #expect(etag == "\"2\"")
      // The patch removed the attributes and kept the VNICs.
      #expect(body["securityAttributes"] == nil)
      #expect((body["vnics"] as? [[String: Any]])?.first?["subnet"] as? String == "prod/app")
      let warnings = try #require(body["warnings"] as? [[String: Any]])
      #expect(
        warnings.contains {
          $0["code"] as? String == "ZPR-API-042"
            && ($0["message"] as? String)?.contains("app-1") == true
        }, "\(warnings)")
      // The statement that named app.tier:app now matches nothing: said, naming the policy.
      #expect(
        warnings.contains { ($0["message"] as? String)?.contains("'three-tier'") == true },
        "\(warnings)")
      let changes = try #require(body["accessChanges"] as? [[String: Any]])
      #expect(
        changes.contains {
          ($0["to"] as? [String])?.contains { $0.hasPrefix("app-1") } == true
            && ($0["lost"] as? [String])?.contains("tcp/8080") == true
        }, "\(changes)")
    }
  }

  @Test("retiring an attribute that statements still name warns, naming the statement")
  func retiringANamedAttribute() async throws {
    try await API.withServer(seed: Self.seed) { client, _ in
      var (status, body, _) = try await Resources.send(
        client, .post, "/v1/securityAttributes",
        ["name": "color", "namespace": "app", "description": "Colour", "values": ["red"]])
      #expect(status == .created, "\(body)")
      let id = try #require(body["id"] as? String)
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/zprPolicies",
        [
          "name": "colors", "description": "By colour",
          "statements": [
            "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'",
            "in network.vcn:prod VCN allow app.color:red endpoints to connect to app.tier:db endpoints with protocol='tcp/5432'",
          ],
        ])
      #expect(status == .created, "\(body)")
      (status, body, _) = try await Resources.send(
        client, .post, "/v1/securityAttributes/\(id)/actions/retire")
      #expect(status == .ok, "\(body)")
      let warnings = try #require(body["warnings"] as? [[String: Any]])
      #expect(
        warnings.contains {
          ($0["message"] as? String)?.hasPrefix("ZPR policy 'colors', statement 1: ") == true
            && ($0["message"] as? String)?.contains("app.color") == true
        }, "\(warnings)")
    }
  }

  @Test("PATCH changes only what it names, at the version it read")
  func patch() async throws {
    try await API.withServer(seed: Self.seed) { client, store in
      let (_, list, _) = try await Resources.send(client, .get, "/v1/subnets?name=web")
      let subnet = try #require((list["items"] as? [[String: Any]])?.first)
      let id = try #require(subnet["id"] as? String)
      let (status, body, _) = try await Resources.send(
        client, .patch, "/v1/subnets/\(id)", ["securityLists": [] as [Any]])
      #expect(status == .ok, "\(body)")
      #expect((body["securityLists"] as? [Any])?.isEmpty == true)
      #expect(body["cidr"] as? String == subnet["cidr"] as? String)
      #expect(body["routeTable"] as? String == subnet["routeTable"] as? String)
      let before = try await Resources.state(store)
      let (stale, refusal, _) = try await Resources.send(
        client, .patch, "/v1/subnets/\(id)", ["cidr": "10.0.7.0/24"],
        headers: API.headers(ifMatch: "\"1\""))
      #expect(stale == .preconditionFailed)
      #expect(refusal["code"] as? String == "ZPR-STORE-002")
      let (unknown, refused, _) = try await Resources.send(
        client, .patch, "/v1/subnets/\(id)", ["colour": "red"])
      #expect(unknown == .badRequest)
      #expect(refused["code"] as? String == "ZPR-API-003")
      #expect(try await Resources.state(store) == before)
    }
  }

  @Test("a VCN that still holds parts is not deleted; the answer names them")
  func vcnWithParts() async throws {
    try await API.withServer(seed: Self.seed) { client, store in
      let (_, list, _) = try await Resources.send(client, .get, "/v1/vcns?name=prod")
      let id = try #require((list["items"] as? [[String: Any]])?.first?["id"] as? String)
      let before = try await Resources.state(store)
      let (status, body, _) = try await Resources.send(client, .delete, "/v1/vcns/\(id)")
      #expect(status == .conflict)
      #expect(body["code"] as? String == "ZPR-API-043")
      let message = try #require(body["message"] as? String)
      #expect(message.hasPrefix("VCN 'prod' still holds 1 route table (main), "), "\(message)")
      #expect(message.contains(", 3 subnets (app, db, web)"), "\(message)")
      #expect(message.hasSuffix(": delete them first"), "\(message)")
      #expect(try await Resources.state(store) == before)
    }
  }

  @Test("every kind of the schema has its collection")
  func everyKindIsServed() async throws {
    try await API.withServer(seed: Self.seed) { client, _ in
      for schema in ResourceSchema.all {
        let (status, body, _) = try await Resources.send(client, .get, "/v1/\(schema.path)")
        #expect(status == .ok, "\(schema.path): \(body)")
        #expect(body["items"] is [Any], "\(schema.path)")
      }
    }
  }
}
