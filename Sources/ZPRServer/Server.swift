import Crypto
import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import Synchronization
import ZPRModel
import ZPRPolicy
public import ZPRStore

/// What every request carries: who made it, once the API key is checked.
public struct ZPRRequestContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  /// Who the audit trail names: the API key's id and its user (`key/ID/admin`).
  public var actor: String { caller.actor }
  /// The API key's user and groups.
  public var caller = Caller(user: "anonymous", groups: [])

  public init(source: Source) {
    coreContext = .init(source: source)
  }
}

/// API keys: only their SHA-256 is stored (as the name of an `apiKey` record).
public enum APIKeys {
  /// The store's kind of API key records.
  public static let kind = "apiKey"

  /// The fewest characters an API key given from outside (`ZPR_BOOTSTRAP_KEY`) may have.
  public static let minimumLength = 32

  /// What is wrong with a key given from outside, or nil when it will do.
  public static func weakness(of key: String) -> String? {
    if key.isEmpty { return "is empty" }
    if key.count < minimumLength {
      return "has \(key.count) characters, fewer than \(minimumLength)"
    }
    if key.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
      return "holds spaces or control characters"
    }
    return nil
  }

  /// What an API key's record holds: whose key it is and their groups.
  struct Owner: Codable, Hashable, Sendable {
    var name: String
    var groups: [String]
  }

  /// The user and groups of an API key's record (`{"name": "admin", "groups": [...]}`).
  static func owner(of record: ResourceRecord) -> (user: String, groups: [String]) {
    let element = record.element
    let groups =
      element["groups"]?.array?.compactMap(\.string) ?? element["group"]?.string.map { [$0] } ?? []
    return (element["name"]?.string ?? "api-key", groups)
  }

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
    if let bootstrap, let problem = weakness(of: bootstrap) {
      throw APIError(
        .badRequest, "ZPR-API-031",
        "ZPR_BOOTSTRAP_KEY \(problem): set it to a random secret of at least \(minimumLength) "
          + "characters (for example: openssl rand -hex 32), or leave it unset and the server "
          + "makes one")
    }
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
          kind: ResourceSchema.iamPolicy.kind, ListQuery(name: "Administrators", limit: 1)
        ).isEmpty ? [administrators] : []
      _ = try await store.commit(
        policy + [
          .create(
            kind: "apiKey", name: hash(key), parent: nil, lifecycleState: .active,
            body: TenancyDocument.body(Owner(name: "admin", groups: ["Administrators"])))
        ], actor: "zpr", idempotencyKey: nil, validate: { _ in })
    } catch let error as StoreError where error.code == .duplicateName {
      // Another replica starting at the same time stored the same key first.
      return nil
    }
    return key
  }

  static var administrators: Mutation {
    .create(
      kind: ResourceSchema.iamPolicy.kind, name: "Administrators", parent: nil,
      lifecycleState: .active,
      body: TenancyDocument.body(
        PolicyBody(
          description: "The bootstrap key's group may do everything",
          statements: ["allow group Administrators to manage all-resources in tenancy"])))
  }

  /// The IAM policy of the bootstrap key's group: Administrators may manage all-resources.
  /// Created once; kept when an administrator later changes it.
  static func ensureAdministrators(_ store: any Store) async throws {
    guard
      try await store.records(
        kind: ResourceSchema.iamPolicy.kind, ListQuery(name: "Administrators", limit: 1)
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

/// Checks the bearer key of every request but `/healthz`: a request without one, or with a key
/// the server does not know, is answered 401 (each with its own message).
struct APIKeyMiddleware: RouterMiddleware {
  typealias Context = ZPRRequestContext
  let store: any Store

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    if request.uri.path == "/healthz" { return try await next(request, context) }
    guard let header = request.headers[.authorization] else { throw APIError.unauthorized() }
    guard header.hasPrefix("Bearer "), header.count > 7 else {
      throw APIError(
        .unauthorized, "ZPR-API-001",
        "the Authorization header must be 'Bearer KEY' (an API key of this server)")
    }
    guard
      let record = try await store.records(
        kind: APIKeys.kind, ListQuery(name: APIKeys.hash(String(header.dropFirst(7))), limit: 1)
      ).first, record.lifecycleState == .active
    else {
      throw APIError(
        .unauthorized, "ZPR-API-032",
        "the API key is not valid here: it was revoked, belongs to another server, or was "
          + "copied wrong; check the key you set ($ZPR_API_KEY or the config file) or ask an "
          + "administrator for a new one")
    }
    var context = context
    context.caller = callers.caller(of: record)
    return try await next(request, context)
  }

  let callers = Callers()
}

/// The user and groups of each API key, read once per key: every request needs them, and keys
/// are few.
final class Callers: Sendable {
  private let callers = Mutex<[String: Caller]>([:])

  func caller(of record: ResourceRecord) -> Caller {
    let cacheKey = record.id + "\u{0}" + record.body
    if let caller = callers.withLock({ $0[cacheKey] }) { return caller }
    let owner = APIKeys.owner(of: record)
    let caller = Caller(user: owner.user, groups: owner.groups, keyID: record.id)
    callers.withLock { if $0.count < 10_000 { $0[cacheKey] = caller } }
    return caller
  }
}

/// The zpr control plane's HTTP API over a store.
/// `GET /healthz`: the server answers, and the revision its store is at.
struct Health: Encodable {
  var revision: Int64
  var status: String
}

/// `GET /v1/revision/watch`: the revision, and whether it passed the one asked after.
struct Watched: Encodable {
  var changed: Bool
  var revision: Int64
}

public enum ZPRServer {
  /// The router with every route, for `zpr serve` and for tests. `incrementalWrites: false`
  /// checks every write against the whole tenancy (tests hold the two ways to each other).
  public static func router(
    store: any Store, metrics: ServerMetrics = ServerMetrics(), limits: ServerLimits = .standard,
    incrementalWrites: Bool = true, prepare: Bool = false
  ) -> Router<ZPRRequestContext> {
    let router = Router(context: ZPRRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: APIKeyMiddleware(store: store))
    router.get("/healthz") { _, _ in
      try json(Health(revision: try await store.revision(), status: "ok"))
    }
    let snapshots = Snapshots(store: store, incrementalWrites: incrementalWrites)
    // `zpr serve` reads the tenancy into the live state as it starts, not at the first write.
    if prepare, incrementalWrites { Task { await snapshots.live.prepare(snapshots) } }
    let authorizer = Authorizer(snapshots: snapshots)
    let feed = RevisionFeed(store: store)
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
      let query = Query(request)
      guard let after = try query.integer("after", in: 0...Int.max) else {
        throw APIError(
          .badRequest, "ZPR-API-011",
          "the watch needs ?after=REVISION: the revision you have (0 for none)")
      }
      let timeout = try query.seconds("timeout", in: 0...120) ?? .seconds(30)
      let revision = try await feed.wait(after: Int64(after), for: timeout)
      return try json(Watched(changed: revision > Int64(after), revision: revision))
    }
    router.get("/v1/audit") { request, context in
      // The log shows changes, before and after: an auditor's permission, and of each change
      // only what the caller may see.
      try await require(context, "POLICY_READ", "ListAudit")
      let query = Query(request)
      let after = try query.integer("after", in: 0...Int.max) ?? 0
      let limit = try query.integer("limit", in: 1...1000) ?? 100
      return try await AuditView(store: store, snapshots: snapshots).page(
        for: context.caller, after: Int64(after), limit: limit)
    }
    router.get("/metrics") { _, context in
      try await require(context, "ZPR_CONFIGURATION_READ", "GetZprConfiguration")
      return try await metrics.scrape(snapshots)
    }
    APIKeyRoutes(store: store, snapshots: snapshots).add(to: router)
    IAMExplainRoute(store: store, snapshots: snapshots, limits: limits).add(to: router)
    AgentRoutes(store: store, snapshots: snapshots).add(to: router)
    for kind in ResourceSchema.all {
      ResourceRoutes(kind: kind, store: store, snapshots: snapshots, limits: limits).add(
        to: router)
    }
    TenancyRoutes(store: store, snapshots: snapshots, limits: limits).add(to: router)
    return router
  }

  /// The HTTP/1.1 server with the limits' guards on every connection, over TLS when given.
  static func server(limits: ServerLimits, tls: TLSFiles?) throws -> HTTPServerBuilder {
    let count = ConnectionCount()
    let http = HTTPServerBuilder.http1(
      configuration: .init(
        additionalChannelHandlers: [ConnectionGuard(limits: limits, count: count)],
        idleTimeout: .seconds(Int64(limits.headerSeconds))))
    guard let tls else { return http }
    return try .tls(http, tlsConfiguration: tls.configuration)
  }

  /// An application listening on a host and port (0: any free port); `onRunning` learns the
  /// port it got.
  public static func application(
    store: any Store, host: String, port: Int, metrics: ServerMetrics = ServerMetrics(),
    limits: ServerLimits = .standard, tls: TLSFiles? = nil,
    logger: Logger = Logger(label: "zpr"),
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) throws -> some ApplicationProtocol {
    Application(
      router: router(store: store, metrics: metrics, limits: limits, prepare: true),
      server: try server(limits: limits, tls: tls),
      configuration: .init(address: .hostname(host, port: port), serverName: "zpr"),
      onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
      logger: logger)
  }

  /// Serves until the process is told to stop (SIGINT or SIGTERM), then shuts down gracefully.
  public static func run(
    store: any Store, host: String, port: Int, metrics: ServerMetrics = ServerMetrics(),
    limits: ServerLimits = .standard, tls: TLSFiles? = nil,
    logger: Logger = Logger(label: "zpr"),
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) async throws {
    try await application(
      store: store, host: host, port: port, metrics: metrics, limits: limits, tls: tls,
      logger: logger, onRunning: onRunning
    ).runService()
  }

  // MARK: JSON

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
      throw apiError(error)
    }
  }

  /// A store's refusal as the API answers it.
  static func apiError(_ error: StoreError) -> APIError {
    let status: HTTPResponse.Status =
      switch error.code {
      case .notFound: .notFound
      case .versionMismatch: .preconditionFailed
      case .duplicateName: .conflict
      case .idempotencyConflict: .unprocessableContent
      case .invalid: .badRequest
      case .unavailable: .serviceUnavailable
      case .staleRevision: .conflict
      }
    return APIError(status, error.code.rawValue, error.message)
  }
}
