import Foundation
import Hummingbird
import ZPRIAM
import ZPRPolicy
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

/// `POST /v1/iam/explain`: would the IAM policies let a user do something to a resource, and by
/// which statement? `{"user", "permission", "resource": "vcns/NAME"}` (or just a permission, for
/// the tenancy). The user's groups are those of their keys.
struct IAMExplainRoute {
  let store: any Store
  let snapshots: Snapshots
  let authorizer: Authorizer

  func add(to router: Router<ZPRRequestContext>) {
    router.post("/v1/iam/explain") { request, context in
      // What others may do is an auditor's question.
      try await authorizer.require(
        context.caller, "POLICY_READ", Target(), operation: "ExplainIam")
      let object = try await ResourceRoutes.jsonObject(
        request, allowed: ["user", "permission", "resource"])
      guard let user = object["user"] as? String else {
        throw object["user"] == nil
          ? APIError.missingField("user") : APIError.wrongType("user", "a user name")
      }
      guard let permission = (object["permission"] as? String)?.uppercased() else {
        throw object["permission"] == nil
          ? APIError.missingField("permission") : APIError.wrongType("permission", "a permission")
      }
      guard PermissionCatalog.permissions.contains(permission) else {
        let guess = Suggestions.closest(
          to: permission, among: PermissionCatalog.permissions.sorted())
        throw APIError(
          .badRequest, "ZPR-API-022",
          "'\(permission)' is not a permission" + (guess.map { ": did you mean '\($0)'?" } ?? "")
            + " (the catalog: docs/iam.md)")
      }
      var groups: [String] = []
      for record in try await store.records(kind: "apiKey", ListQuery(limit: 1000)) {
        let body = ZPRServer.parse(record.body) as? [String: Any] ?? [:]
        guard body["name"] as? String == user else { continue }
        groups += body["groups"] as? [String] ?? (body["group"] as? String).map { [$0] } ?? []
      }
      let access = try await snapshots.access()
      groups = access.groups(of: Caller(user: user, groups: groups))
      var target = Target()
      if let reference = object["resource"] {
        guard let reference = reference as? String,
          let slash = reference.firstIndex(of: "/"),
          let kind = ResourceKind.all.first(where: { $0.path == reference[..<slash] })
        else {
          throw APIError.wrongType(
            "resource", "COLLECTION/NAME, such as vcns/prod or instances/web-1")
        }
        let name = String(reference[reference.index(after: slash)...])
        guard
          let record = try await store.records(kind: kind.kind, ListQuery(name: name, limit: 2))
            .first
        else {
          throw APIError(
            .notFound, "ZPR-API-006", "there is no \(kind.label) named '\(name)'")
        }
        target = ResourceRoutes(kind: kind, store: store, snapshots: snapshots).target(
          of: record, in: access)
      }
      let request = IAMRequest(
        user: user, groups: Array(Set(groups)).sorted(), permission: permission,
        compartment: target.compartment, namespace: target.namespace, resourceName: target.name)
      let evaluator = access.evaluator
      func text(_ policy: String, _ index: Int) -> String {
        evaluator.policies.first { $0.name == policy }?.statements[index].canonical ?? ""
      }
      var answer: [String: Any] = [
        "user": user, "groups": request.groups, "permission": permission,
        "compartment": target.compartment.joined(separator: ":"),
      ]
      switch evaluator.decide(request) {
      case .allowed(let policy, let index):
        answer["allowed"] = true
        answer["policy"] = policy
        answer["statement"] = index
        answer["statementText"] = text(policy, index)
      case .denied(let closest):
        answer["allowed"] = false
        if let closest {
          answer["closestPolicy"] = closest.policy
          answer["closestStatement"] = closest.statement
          answer["statementText"] = text(closest.policy, closest.statement)
          answer["lacks"] = closest.lacks
        }
      }
      return try ZPRServer.json(answer)
    }
  }
}
