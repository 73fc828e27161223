import Foundation
import Hummingbird
import ZPRStore

/// `/v1/apiKeys`: keys of users, in groups that IAM policies name. A key is shown once, when
/// it is created; only its SHA-256 is kept.
struct APIKeyRoutes {
  let store: any Store
  let authorizer: Authorizer

  func add(to router: Router<ZPRRequestContext>) {
    let group = router.group("/v1/apiKeys")
    group.get { _, context in
      try await authorizer.require(context.caller, "USER_INSPECT", Target(), operation: "ListUser")
      let records = try await ZPRServer.mapped {
        try await store.records(kind: "apiKey", ListQuery(limit: 1000))
      }
      return try ZPRServer.json(["items": records.map(Self.shown)])
    }
    group.post { request, context in
      try await authorizer.require(
        context.caller, "USER_CREATE", Target(), operation: "CreateUser")
      let object = try await ResourceRoutes.jsonObject(request, allowed: ["user", "groups"])
      guard let user = object["user"] as? String, !user.isEmpty, user.count <= 100 else {
        throw object["user"] == nil
          ? APIError.missingField("user")
          : APIError.wrongType("user", "a name (1 to 100 characters)")
      }
      guard let groups = (object["groups"] ?? [String]()) as? [String] else {
        throw APIError.wrongType("groups", "a list of group names")
      }
      let key =
        "zpr_"
        + (0..<32).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map {
          $0.count == 1 ? "0" + $0 : $0
        }.joined()
      let commit = try await CheckedCommit(store: store).commit(
        [
          .create(
            kind: "apiKey", name: APIKeys.hash(key), parent: nil, lifecycleState: "ACTIVE",
            body: TenancyDocument.json(["name": user, "groups": groups]))
        ], actor: context.actor, idempotencyKey: ResourceRoutes.idempotencyKey(request))
      var shown = Self.shown(commit.records[0]!)
      shown["key"] = commit.replayed ? NSNull() : key
      return try ZPRServer.json(shown, status: .created)
    }
    group.delete(":id") { _, context in
      try await authorizer.require(
        context.caller, "USER_DELETE", Target(), operation: "DeleteUser")
      let id = try context.parameters.require("id")
      _ = try await CheckedCommit(store: store).commit(
        [.delete(kind: "apiKey", id: id, expectedVersion: nil)], actor: context.actor,
        idempotencyKey: nil)
      return Response(status: .noContent)
    }
  }

  /// A key as the API shows it: whose it is, never its hash.
  static func shown(_ record: ResourceRecord) -> [String: Any] {
    let body = ZPRServer.parse(record.body) as? [String: Any] ?? [:]
    return [
      "id": record.id, "user": body["name"] ?? "",
      "groups": body["groups"] ?? (body["group"].map { [$0] } ?? []),
      "lifecycleState": record.lifecycleState,
      "timeCreated": ZPRServer.timestamp(record.timeCreated),
    ]
  }
}
