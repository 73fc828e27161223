import Foundation
import Hummingbird
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// `/v1/apiKeys`: keys of users, in groups that IAM policies name. A key is shown once, when
/// it is created; only its SHA-256 is kept.
struct APIKeyRoutes {
  let store: any Store
  let snapshots: Snapshots

  private var authorizer: Authorizer { Authorizer(snapshots: snapshots) }

  func add(to router: Router<ZPRRequestContext>) {
    let group = router.group("/v1/apiKeys")
    group.get { _, context in
      try await authorizer.require(context.caller, "USER_INSPECT", Target(), operation: "ListUser")
      let records = try await ZPRServer.mapped {
        try await store.records(kind: APIKeys.kind, ListQuery(limit: 1000))
      }
      let access = try await snapshots.access()
      return try ZPRServer.json(
        Page(
          items: records.filter { Authorizer.inspects(context.caller, $0, in: access) }.map(
            Self.shown)))
    }
    group.post { request, context in
      let access = try await snapshots.access()
      // A key's request is small: nothing larger is read before the caller is known to may.
      let asked = try await RequestBody.decode(KeyRequest.self, from: request, limit: 8 << 10)
      let user = try Names.principal(asked.user, field: "user")
      let groups = asked.groups ?? []
      guard groups.count <= 100 else {
        throw APIError.wrongType("groups", KeyRequest.expected["groups"]!)
      }
      for name in groups { _ = try Names.resource(name, field: "groups") }
      // A key for a user who exists already acts as that user: it takes the right to manage
      // them (USER_UPDATE), not just to make users; and every group it names is checked.
      let exists = access.users.contains(user)
      let permission = exists ? "USER_UPDATE" : "USER_CREATE"
      let target = Target(
        name: user, groups: Array(Set(groups + access.groups(ofUser: user))).sorted(), user: user)
      try await authorizer.require(
        context.caller, permission, target, operation: exists ? "UpdateUser" : "CreateUser")
      // Whoever holds the new key acts as that user: making one for someone who holds more
      // than the caller would hand the caller their permissions.
      if exists, user != context.caller.user {
        try AccessGuard.refuseActingAbove(
          context.caller, on: user, in: access, doing: "make a key for")
      }
      let key =
        "zpr_"
        + (0..<32).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map {
          $0.count == 1 ? "0" + $0 : $0
        }.joined()
      let caller = context.caller
      let commit = try await CheckedCommit(
        store: store,
        guarding: { records in
          try AccessGuard.check(caller, now: access, then: Access(records: records))
        }, caller: caller, snapshots: snapshots
      ).commit(
        [
          .create(
            kind: APIKeys.kind, name: APIKeys.hash(key), parent: nil, lifecycleState: .active,
            body: TenancyDocument.body(APIKeys.Owner(name: user, groups: groups)))
        ], actor: context.actor, idempotencyKey: try ResourceRoutes.idempotencyKey(request))
      var shown = Self.shown(commit.records[0]!)
      // The key itself only once: a replayed request gets `null`.
      shown.key = commit.replayed ? .null : .string(key)
      return try ZPRServer.json(shown, status: .created)
    }
    group.delete(":id") { _, context in
      let id = try context.parameters.require("id")
      let access = try await snapshots.access()
      guard
        let record = try await store.record(kind: APIKeys.kind, id: id),
        Authorizer.inspects(context.caller, record, in: access)
      else {
        throw APIError(
          .notFound, "ZPR-API-006",
          "there is no API key with id '\(id)' that you may see: list them (GET /v1/apiKeys)")
      }
      try await authorizer.require(
        context.caller, "USER_DELETE", access.target(of: record), operation: "DeleteUser")
      // Revoking the key of someone who holds more than the caller is theirs (or an
      // administrator's) to do.
      let owner = APIKeys.owner(of: record)
      if owner.user != context.caller.user {
        try AccessGuard.refuseActingAbove(
          context.caller, on: owner.user, in: access, doing: "revoke a key of")
      }
      let caller = context.caller
      _ = try await CheckedCommit(
        store: store,
        guarding: { records in
          try AccessGuard.check(caller, now: access, then: Access(records: records))
        }, caller: caller, snapshots: snapshots
      ).commit(
        [.delete(kind: APIKeys.kind, id: id, expectedVersion: nil)], actor: context.actor,
        idempotencyKey: nil)
      return Response(status: .noContent)
    }
  }

  /// A key as the API shows it: whose it is, never its hash.
  static func shown(_ record: ResourceRecord) -> KeyView {
    let owner = APIKeys.owner(of: record)
    return KeyView(
      groups: owner.groups, id: record.id, lifecycleState: record.lifecycleState,
      timeCreated: ZPRServer.timestamp(record.timeCreated), user: owner.user)
  }

  /// `POST /v1/apiKeys`: whose key, and their groups.
  struct KeyRequest: Decodable, FieldsNamed {
    var user: String
    var groups: [String]?
    static let fields = ["user", "groups"]
    static let expected = [
      "user": "a user name", "groups": "a list of at most 100 group names",
    ]
  }

  /// A key as the API shows it (the key itself only in the answer that made it).
  struct KeyView: Encodable {
    var groups: [String]
    var id: String
    /// Absent but in the answer that made it: the key, or `null` when that answer is replayed.
    var key: JSONValue?
    var lifecycleState: LifecycleState
    var timeCreated: String
    var user: String
  }
}

/// `POST /v1/iam/explain`: would the IAM policies let a user do something to a resource, and by
/// which statement? `{"user", "permission", "resource": "vcns/NAME"}` (or just a permission, for
/// the tenancy). The user's groups are those of their keys.
struct IAMExplainRoute {
  let store: any Store
  let snapshots: Snapshots
  let limits: ServerLimits

  private var authorizer: Authorizer { Authorizer(snapshots: snapshots) }

  func add(to router: Router<ZPRRequestContext>) {
    router.post("/v1/iam/explain") { request, context in
      // What others may do is an auditor's question.
      try await authorizer.require(
        context.caller, "POLICY_READ", Target(), operation: "ExplainIam")
      let asked = try await RequestBody.decode(
        ExplainRequest.self, from: request, limit: limits.bodyBytes)
      let user = asked.user
      let permission = asked.permission.uppercased()
      guard PermissionCatalog.permissions.contains(permission) else {
        let guess = Suggestions.closest(
          to: permission, among: PermissionCatalog.permissions.sorted())
        throw APIError(
          .badRequest, "ZPR-API-022",
          "'\(permission)' is not a permission" + (guess.map { ": did you mean '\($0)'?" } ?? "")
            + " (the catalog: docs/iam.md)")
      }
      let access = try await snapshots.access()
      let groups = access.groups(ofUser: user)
      var target = Target()
      if let reference = asked.resource {
        guard let slash = reference.firstIndex(of: "/"),
          let kind = ResourceSchema.all.first(where: { $0.path == reference[..<slash] })
        else {
          throw APIError.wrongType(
            "resource", "COLLECTION/NAME, such as vcns/prod or instances/web-1")
        }
        let name = String(reference[reference.index(after: slash)...])
        guard
          let record = try await store.records(kind: kind.kind, ListQuery(name: name, limit: 2))
            .first, Authorizer.inspects(context.caller, record, in: access)
        else {
          throw APIError(
            .notFound, "ZPR-API-006", "there is no \(kind.label) named '\(name)' that you may see")
        }
        target = access.target(of: record)
      }
      let request = Authorizer.request(
        Caller(user: user, groups: groups), permission, target, in: access)
      let evaluator = access.evaluator
      func text(_ policy: String, _ index: Int) -> String {
        evaluator.policies.first { $0.name == policy }?.statements[index].canonical ?? ""
      }
      var answer = Explanation(
        allowed: false, compartment: target.compartment.joined(separator: ":"),
        groups: request.groups, permission: permission, user: user)
      switch evaluator.decide(request) {
      case .allowed(let policy, let index):
        answer.allowed = true
        answer.policy = policy
        answer.statement = index
        answer.statementText = text(policy, index)
      case .denied(let closest):
        if let closest {
          answer.closestPolicy = closest.policy
          answer.closestStatement = closest.statement
          answer.statementText = text(closest.policy, closest.statement)
          answer.lacks = closest.lacks
        }
      }
      return try ZPRServer.json(answer)
    }
  }

  /// What to explain: a user, a permission, and where (`vcns/prod`; the tenancy if absent).
  struct ExplainRequest: Decodable, FieldsNamed {
    var user: String
    var permission: String
    var resource: String?
    static let fields = ["user", "permission", "resource"]
    static let expected = [
      "user": "a user name", "permission": "a permission",
      "resource": "COLLECTION/NAME, such as vcns/prod or instances/web-1",
    ]
  }

  /// The answer: allowed or not, by which statement, or the closest one and what it lacks.
  struct Explanation: Encodable {
    var allowed: Bool
    var closestPolicy: String?
    var closestStatement: Int?
    var compartment: String
    var groups: [String]
    var lacks: [String]?
    var permission: String
    var policy: String?
    var statement: Int?
    var statementText: String?
    var user: String
  }
}
