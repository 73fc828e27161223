import Foundation
import HTTPTypes
import Hummingbird
import ZPRPolicy
import ZPRStore

/// `/v1/zprPolicies`: ZPR policies (name, description, statements). Every write checks the
/// statements as `zpr policy check` does and refuses them with the diagnostics.
struct PolicyRoutes {
  let store: any Store
  static let kind = "zprPolicy"
  static let fields = ["name", "description", "statements"]

  func add(to router: Router<ZPRRequestContext>) {
    let group = router.group("/v1/zprPolicies")
    group.get { request, _ in try await list(request) }
    group.post { request, context in try await create(request, context) }
    group.get(":id") { _, context in try await read(context.parameters.require("id")) }
    group.put(":id") { request, context in
      try await update(context.parameters.require("id"), request, context)
    }
    group.delete(":id") { request, context in
      try await delete(context.parameters.require("id"), request, context)
    }
  }

  // MARK: Handlers

  private func list(_ request: Request) async throws -> Response {
    let parameters = request.uri.queryParameters
    let limit = min(Int(parameters["limit"].map(String.init) ?? "") ?? 100, 1000)
    let records = try await ZPRServer.mapped {
      try await store.records(
        kind: Self.kind,
        ListQuery(
          name: parameters["name"].map(String.init),
          lifecycleState: parameters["lifecycleState"].map(String.init), limit: limit,
          after: parameters["page"].map(String.init)))
    }
    var object: [String: Any] = ["items": records.map(Self.resource)]
    if records.count == limit, let last = records.last { object["nextPage"] = last.id }
    return try ZPRServer.json(object)
  }

  private func read(_ id: String) async throws -> Response {
    guard
      let record = try await ZPRServer.mapped({ try await store.record(kind: Self.kind, id: id) })
    else {
      throw APIError(
        .notFound, "ZPR-API-006", "there is no ZPR policy with id '\(id)': list them to find it")
    }
    return try ZPRServer.json(Self.resource(record), etag: record.version)
  }

  private func create(_ request: Request, _ context: ZPRRequestContext) async throws -> Response {
    let policy = try await Self.policy(from: request)
    let commit = try await ZPRServer.mapped {
      try await store.commit(
        [
          .create(
            kind: Self.kind, name: policy.name, parent: nil, lifecycleState: "ACTIVE",
            body: policy.body)
        ], actor: context.actor, idempotencyKey: Self.idempotencyKey(request), validate: { _ in })
    }
    let record = commit.records[0]!
    return try ZPRServer.json(Self.resource(record), status: .created, etag: record.version)
  }

  private func update(_ id: String, _ request: Request, _ context: ZPRRequestContext) async throws
    -> Response
  {
    let policy = try await Self.policy(from: request)
    let commit = try await ZPRServer.mapped {
      try await store.commit(
        [
          .update(
            kind: Self.kind, id: id, expectedVersion: try Self.ifMatch(request), name: policy.name,
            lifecycleState: nil, body: policy.body)
        ], actor: context.actor, idempotencyKey: Self.idempotencyKey(request), validate: { _ in })
    }
    let record = commit.records[0]!
    return try ZPRServer.json(Self.resource(record), etag: record.version)
  }

  private func delete(_ id: String, _ request: Request, _ context: ZPRRequestContext) async throws
    -> Response
  {
    _ = try await ZPRServer.mapped {
      try await store.commit(
        [.delete(kind: Self.kind, id: id, expectedVersion: try Self.ifMatch(request))],
        actor: context.actor, idempotencyKey: Self.idempotencyKey(request), validate: { _ in })
    }
    return Response(status: .noContent)
  }

  // MARK: Bodies

  /// A policy from a request body, checked field by field and statement by statement.
  private static func policy(from request: Request) async throws -> (name: String, body: String) {
    let object = try await jsonObject(request, allowed: fields)
    for field in fields where object[field] == nil { throw APIError.missingField(field) }
    guard let name = object["name"] as? String else { throw APIError.wrongType("name", "a string") }
    guard let description = object["description"] as? String else {
      throw APIError.wrongType("description", "a string")
    }
    guard let statements = object["statements"] as? [Any], statements.allSatisfy({ $0 is String })
    else { throw APIError.wrongType("statements", "a list of statements (strings)") }
    let texts = statements.map { $0 as! String }
    guard !name.isEmpty, name.count <= 100 else {
      throw APIError(.badRequest, "ZPR-API-007", "'name' must have 1 to 100 characters")
    }
    let limit = ZPRLimits.standard.statementsPerPolicy
    guard texts.count <= limit else {
      throw APIError(
        .badRequest, "ZPR-API-008",
        "the policy has \(texts.count) statements; a policy holds at most \(limit) (the "
          + "statementsPerPolicy limit): split it into several policies")
    }
    var details: [[String: String]] = []
    for (index, text) in texts.enumerated() {
      for diagnostic in PolicyParser().parseStatement(text).diagnostics
      where diagnostic.severity == .error {
        var detail = [
          "statement": String(index), "code": diagnostic.code.rawValue,
          "message": diagnostic.message, "column": String(diagnostic.range.lowerBound + 1),
        ]
        if let suggestion = diagnostic.suggestion { detail["suggestion"] = suggestion }
        details.append(detail)
      }
    }
    guard details.isEmpty else {
      throw APIError(
        .badRequest, "ZPR-API-009",
        "\(details.count == 1 ? "a statement has an error" : "statements have \(details.count) errors"): "
          + "see details, fix them and send the policy again", details: details)
    }
    let body = try JSONSerialization.data(
      withJSONObject: ["description": description, "statements": texts],
      options: [.sortedKeys, .withoutEscapingSlashes])
    return (name, String(decoding: body, as: UTF8.self))
  }

  /// The request's JSON object, with no fields but the allowed ones.
  static func jsonObject(_ request: Request, allowed: [String]) async throws -> [String: Any] {
    let buffer = try await request.body.collect(upTo: 1 << 20)
    let data = Data(buffer.readableBytesView)
    let parsed: Any
    do {
      parsed = try JSONSerialization.jsonObject(with: data)
    } catch {
      throw APIError.malformed("it does not parse")
    }
    guard let object = parsed as? [String: Any] else {
      throw APIError.malformed("it is not an object")
    }
    if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
      throw APIError.unknownField(unknown, allowed: allowed)
    }
    return object
  }

  static func resource(_ record: ResourceRecord) -> [String: Any] {
    var object = ZPRServer.parse(record.body) as? [String: Any] ?? [:]
    object["id"] = record.id
    object["name"] = record.name
    object["lifecycleState"] = record.lifecycleState
    object["timeCreated"] = ZPRServer.timestamp(record.timeCreated)
    object["timeUpdated"] = ZPRServer.timestamp(record.timeUpdated)
    return object
  }

  /// The version an `If-Match: "N"` header expects (nil without one).
  static func ifMatch(_ request: Request) throws -> Int64? {
    guard let header = request.headers[.ifMatch] else { return nil }
    let digits = header.filter(\.isNumber)
    guard let version = Int64(digits), !digits.isEmpty else {
      throw APIError(
        .badRequest, "ZPR-API-010",
        "If-Match must be the ETag a read returned, such as \"3\", not '\(header)'")
    }
    return version
  }

  static func idempotencyKey(_ request: Request) -> String? {
    request.headers[HTTPField.Name("Idempotency-Key")!]
  }
}
