import Crypto
import Foundation
public import Hummingbird
public import Logging
import NIOCore
import Synchronization
import ZPRPolicy
public import ZPRStore

/// What every request carries: who made it, once the API key is checked.
public struct ZPRRequestContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  /// The API key's user (`admin`), or `anonymous` before authentication.
  public var actor: String { caller.user }
  /// The API key's user and groups.
  public var caller = Caller(user: "anonymous", groups: [])

  public init(source: Source) {
    coreContext = .init(source: source)
  }
}

/// API keys: only their SHA-256 is stored (as the name of an `apiKey` record).
public enum APIKeys {
  /// The hash under which a key is stored.
  public static func hash(_ key: String) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for byte in SHA256.hash(data: Data(key.utf8)) {
      hex.append(digits[Int(byte >> 4)])
      hex.append(digits[Int(byte & 15)])
    }
    return String(decoding: hex, as: UTF8.self)
  }

  /// On a store without keys, creates the admin key: `bootstrap` (from `ZPR_BOOTSTRAP_KEY`) or a
  /// random one. Returns the key when it was created here, to be shown once; nil otherwise.
  public static func bootstrap(_ store: any Store, bootstrap: String?) async throws -> String? {
    guard try await store.records(kind: "apiKey", ListQuery(limit: 1)).isEmpty else {
      try await ensureAdministrators(store)
      return nil
    }
    let key =
      bootstrap
      ?? "zpr_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    do {
      let policy =
        try await store.records(
          kind: ResourceKind.iamPolicy.kind, ListQuery(name: "Administrators", limit: 1)
        ).isEmpty ? [administrators] : []
      _ = try await store.commit(
        policy + [
          .create(
            kind: "apiKey", name: hash(key), parent: nil, lifecycleState: "ACTIVE",
            body: #"{"groups":["Administrators"],"name":"admin"}"#)
        ], actor: "zpr", idempotencyKey: nil, validate: { _ in })
    } catch let error as StoreError where error.code == .duplicateName {
      // Another replica starting at the same time stored the same key first.
      return nil
    }
    return key
  }

  static var administrators: Mutation {
    .create(
      kind: ResourceKind.iamPolicy.kind, name: "Administrators", parent: nil,
      lifecycleState: "ACTIVE",
      body: TenancyDocument.json([
        "description": "The bootstrap key's group may do everything",
        "statements": ["allow group Administrators to manage all-resources in tenancy"],
      ]))
  }

  /// The IAM policy of the bootstrap key's group: Administrators may manage all-resources.
  /// Created once; kept when an administrator later changes it.
  static func ensureAdministrators(_ store: any Store) async throws {
    guard
      try await store.records(
        kind: ResourceKind.iamPolicy.kind, ListQuery(name: "Administrators", limit: 1)
      ).isEmpty
    else { return }
    do {
      _ = try await store.commit(
        [administrators], actor: "zpr", idempotencyKey: nil, validate: { _ in })
    } catch let error as StoreError where error.code == .duplicateName {
      // Another replica created it first.
    }
  }
}

/// Checks the bearer key of every request but `/healthz`.
struct APIKeyMiddleware: RouterMiddleware {
  typealias Context = ZPRRequestContext
  let store: any Store

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    if request.uri.path == "/healthz" { return try await next(request, context) }
    guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
      let record = try await store.records(
        kind: "apiKey", ListQuery(name: APIKeys.hash(String(header.dropFirst(7))), limit: 1)
      ).first, record.lifecycleState == "ACTIVE"
    else { throw APIError.unauthorized() }
    var context = context
    context.caller = callers.caller(in: record.body)
    return try await next(request, context)
  }

  let callers = Callers()
}

/// The user and groups in an API key's record (`{"name": "admin", "groups": [...]}`), parsed
/// once per distinct body: every request needs them, and keys are few.
final class Callers: Sendable {
  private let callers = Mutex<[String: Caller]>([:])

  func caller(in body: String) -> Caller {
    if let caller = callers.withLock({ $0[body] }) { return caller }
    let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    let groups = object?["groups"] as? [String] ?? (object?["group"] as? String).map { [$0] } ?? []
    let caller = Caller(user: object?["name"] as? String ?? "api-key", groups: groups)
    callers.withLock { if $0.count < 10_000 { $0[body] = caller } }
    return caller
  }
}

/// The zpr control plane's HTTP API over a store.
public enum ZPRServer {
  /// The router with every route, for `zpr serve` and for tests.
  public static func router(store: any Store, metrics: ServerMetrics = ServerMetrics())
    -> Router<ZPRRequestContext>
  {
    let router = Router(context: ZPRRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: APIKeyMiddleware(store: store))
    router.get("/healthz") { _, _ in
      try json(["status": "ok", "revision": try await store.revision()])
    }
    let snapshots = Snapshots(store: store)
    let authorizer = Authorizer(snapshots: snapshots)
    @Sendable func require(_ context: ZPRRequestContext, _ permission: String, _ operation: String)
      async throws
    {
      try await authorizer.require(context.caller, permission, Target(), operation: operation)
    }
    router.get("/v1/revision") { _, context in
      try await require(context, "ZPR_CONFIGURATION_INSPECT", "GetRevision")
      return try json(["revision": try await store.revision()])
    }
    // The watch: a long poll that answers as soon as the revision passes `after` (or when
    // `timeout` seconds pass, 30 by default, at most 120), so agents learn of changes at once.
    router.get("/v1/revision/watch") { request, context in
      try await require(context, "ZPR_CONFIGURATION_INSPECT", "GetRevision")
      let parameters = request.uri.queryParameters
      guard let after = Int64(parameters["after"].map(String.init) ?? "") else {
        throw APIError(
          .badRequest, "ZPR-API-011",
          "the watch needs ?after=REVISION: the revision you have (0 for none)")
      }
      let timeout = min(max(Double(parameters["timeout"].map(String.init) ?? "") ?? 30, 0), 120)
      let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
      var revision = try await store.revision()
      while revision <= after, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(50))
        revision = try await store.revision()
      }
      return try json(["revision": revision, "changed": revision > after])
    }
    router.get("/v1/audit") { request, context in
      // The log shows every change, before and after: an auditor's permission.
      try await require(context, "POLICY_READ", "ListAudit")
      let after = Int64(request.uri.queryParameters["after"].map(String.init) ?? "") ?? 0
      let limit = Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 100
      let records = try await mapped {
        try await store.audit(after: after, limit: min(limit, 1000))
      }
      return try json([
        "items": records.map { record -> [String: Any] in
          // An API key's record holds its hash: the log says a key changed, not what it is.
          let hidden: [String: Any] = ["id": record.id, "note": "API key details are not shown"]
          func shown(_ text: String?) -> Any {
            guard let text else { return NSNull() }
            return record.kind == "apiKey" ? hidden : (parse(text) ?? NSNull())
          }
          return [
            "revision": record.revision, "time": timestamp(record.time), "actor": record.actor,
            "action": record.action, "kind": record.kind, "id": record.id,
            "before": shown(record.before), "after": shown(record.after),
          ]
        }
      ])
    }
    router.get("/metrics") { _, context in
      try await require(context, "ZPR_CONFIGURATION_READ", "GetZprConfiguration")
      return try await metrics.scrape(snapshots)
    }
    APIKeyRoutes(store: store, authorizer: authorizer).add(to: router)
    IAMExplainRoute(store: store, snapshots: snapshots, authorizer: authorizer).add(to: router)
    AgentRoutes(authorizer: authorizer, store: store).add(to: router)
    for kind in ResourceKind.all {
      ResourceRoutes(kind: kind, store: store, snapshots: snapshots).add(to: router)
    }
    TenancyRoutes(store: store, snapshots: snapshots).add(to: router)
    return router
  }

  /// An application listening on a host and port (0: any free port); `onRunning` learns the
  /// port it got.
  public static func application(
    store: any Store, host: String, port: Int, metrics: ServerMetrics = ServerMetrics(),
    logger: Logger = Logger(label: "zpr"),
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) -> some ApplicationProtocol {
    Application(
      router: router(store: store, metrics: metrics),
      configuration: .init(address: .hostname(host, port: port), serverName: "zpr"),
      onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
      logger: logger)
  }

  /// Serves until the process is told to stop (SIGINT or SIGTERM), then shuts down gracefully.
  public static func run(
    store: any Store, host: String, port: Int, metrics: ServerMetrics = ServerMetrics(),
    logger: Logger = Logger(label: "zpr"),
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) async throws {
    try await application(
      store: store, host: host, port: port, metrics: metrics, logger: logger,
      onRunning: onRunning
    ).runService()
  }

  // MARK: JSON

  static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok, etag: Int64? = nil)
    throws -> Response
  {
    let data = try JSONSerialization.data(
      withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    var headers: HTTPFields = [.contentType: "application/json"]
    if let etag { headers[.eTag] = "\"\(etag)\"" }
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  static func parse(_ text: String) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(text.utf8))
  }

  /// RFC 3339 in UTC with milliseconds: `2026-11-23T16:47:51.087Z`.
  static func timestamp(_ date: Date) -> String {
    date.formatted(timestampStyle)
  }

  private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

  /// Runs a store call, answering its refusals with the right status.
  static func mapped<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch let error as StoreError {
      let status: HTTPResponse.Status =
        switch error.code {
        case .notFound: .notFound
        case .versionMismatch: .preconditionFailed
        case .duplicateName: .conflict
        case .idempotencyConflict: .unprocessableContent
        case .invalid: .badRequest
        case .unavailable: .serviceUnavailable
        }
      throw APIError(status, error.code.rawValue, error.message)
    }
  }
}
