import Foundation
import HTTPTypes
import Hummingbird
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// `/v1/<kind>`: list, create, read, replace and delete one kind of resource; for namespaces
/// and attributes also `POST /v1/<kind>/{id}/actions/retire|reactivate` and, for namespaces,
/// `DELETE ...?cascade=true`. Bodies are the kind's tenancy-file element.
struct ResourceRoutes {
  let kind: ResourceSchema
  let store: any Store
  let snapshots: Snapshots
  var limits: ServerLimits = .standard

  func add(to router: Router<ZPRRequestContext>) {
    let group = router.group(RouterPath("/v1/\(kind.path)"))
    group.get { request, context in try await list(request, context) }
    group.post { request, context in try await create(request, context) }
    group.get(":id") { _, context in try await read(context.parameters.require("id"), context) }
    group.put(":id") { request, context in
      try await replace(context.parameters.require("id"), request, context)
    }
    group.patch(":id") { request, context in
      try await patch(context.parameters.require("id"), request, context)
    }
    group.delete(":id") { request, context in
      try await delete(context.parameters.require("id"), request, context)
    }
    if kind.hasLifecycle {
      group.post(":id/actions/:action") { request, context in
        try await lifecycle(
          context.parameters.require("id"), context.parameters.require("action"), request,
          context)
      }
    }
  }

  /// The writer for a caller's change: one to IAM policies or groups must give nobody more
  /// than the caller holds and leave the caller able to change IAM policies, if they can now.
  private func writer(_ context: ZPRRequestContext, _ request: Request) async throws
    -> CheckedCommit
  {
    var writer = CheckedCommit(store: store, caller: context.caller, snapshots: snapshots)
    writer.dryRun = try Self.dryRun(request)
    guard kind.kind == ResourceSchema.iamPolicy.kind || kind.kind == ResourceSchema.group.kind
    else {
      return writer
    }
    let now = try await snapshots.access()
    let caller = context.caller
    writer.guarding = { records in
      try AccessGuard.check(caller, now: now, then: Access(records: records))
    }
    return writer
  }

  // MARK: Handlers

  private func list(_ request: Request, _ context: ZPRRequestContext) async throws -> Response {
    let parameters = Query(request)
    func parameter(_ name: String) -> String? { parameters.string(name) }
    let limit = try parameters.integer("limit", in: 1...1000) ?? 100
    var query = ListQuery(
      name: parameter("name"), lifecycleState: try Self.lifecycleState(parameters),
      parent: kind.parent.flatMap { parameter($0.field) }, limit: limit,
      after: parameter("page"))
    let attribute = parameter("attribute")
    let access = try await snapshots.access()
    // Pages of the store are read until the page the caller asked for is full of records they
    // may inspect (and that carry `attribute=ns.key[:value]`, on the resource or a VNIC): the
    // next page starts after the last record shown, so no id of a hidden one ever leaves.
    var shown: [ResourceRecord] = []
    var more = false
    scan: while true {
      let page = try await ZPRServer.mapped { try await store.records(kind: kind.kind, query) }
      for record in page {
        guard attribute.map({ Self.carries(record, $0) }) ?? true,
          try await authorizer.allows(
            context.caller, kind.permission("INSPECT"), access.target(of: record),
            operation: "List\(kind.operation)")
        else { continue }
        if shown.count == limit {
          more = true
          break scan
        }
        shown.append(record)
      }
      guard page.count == query.limit, let last = page.last else { break }
      query.after = last.id
    }
    // Inspecting shows that a resource is there; reading shows what it holds.
    let items = shown.map { record in
      ResourceView(
        kind: kind, record: record,
        full: Authorizer.allows(
          context.caller, kind.permission("READ"), access.target(of: record), in: access))
    }
    return try ZPRServer.json(Page(items: items, nextPage: more ? shown.last?.id : nil))
  }

  private func read(_ id: String, _ context: ZPRRequestContext) async throws -> Response {
    let record = try await visible(id, context, needing: "READ", operation: "Get")
    return try ZPRServer.json(ResourceView(kind: kind, record: record), etag: record.version)
  }

  /// `?lifecycleState=`: one of the states, if given.
  static func lifecycleState(_ query: Query) throws -> LifecycleState? {
    guard let text = query.string("lifecycleState") else { return nil }
    guard let state = LifecycleState(rawValue: text) else {
      throw APIError(
        .badRequest, "ZPR-API-033",
        "?lifecycleState= must be one of \(LifecycleState.allCases.map(\.rawValue).joined(separator: ", ")), "
          + "not '\(text.prefix(40))'")
    }
    return state
  }

  // MARK: Authorization

  private var authorizer: Authorizer { Authorizer(snapshots: snapshots) }

  /// A record the caller may see and act on with `action`: one they cannot even inspect is
  /// answered as if it did not exist; one they can see but not act on, with the permission
  /// they lack.
  private func visible(
    _ id: String, _ context: ZPRRequestContext, needing action: String, operation: String
  ) async throws -> ResourceRecord {
    let record = try await existing(id)
    let target = try await snapshots.access().target(of: record)
    let name = "\(operation)\(kind.operation)"
    if try await authorizer.allows(context.caller, kind.permission(action), target, operation: name)
    {
      return record
    }
    guard
      try await authorizer.allows(
        context.caller, kind.permission("INSPECT"), target, operation: name)
    else { throw missing(id) }
    throw Authorizer.forbidden(context.caller, kind.permission(action), target)
  }

  /// The namespaces whose attributes differ between two bodies (on the resource or a VNIC):
  /// changing them takes `use` on each.
  static func changedNamespaces(
    _ old: JSONValue, _ new: JSONValue, defaultNamespace: String
  )
    -> [String]
  {
    func applied(_ body: JSONValue) -> [String: String] {
      var result: [String: String] = [:]
      func add(_ attributes: JSONValue?, scope: String) {
        for (key, value) in attributes?.objectMembers ?? [] {
          // The value and mode (`{value, mode}`), or the value as it is written.
          result["\(scope)|\(key.lowercased())"] = value.sortingKeys.serialized(pretty: false)
        }
      }
      add(body["securityAttributes"], scope: "resource")
      for (index, vnic) in (body["vnics"]?.array ?? []).enumerated() {
        add(vnic["securityAttributes"], scope: "vnic\(index)")
      }
      return result
    }
    let before = applied(old)
    let after = applied(new)
    var namespaces: Set<String> = []
    for key in Set(before.keys).union(after.keys) where before[key] != after[key] {
      let attribute = String(key.split(separator: "|", maxSplits: 1)[1])
      namespaces.insert(
        attribute.contains(".")
          ? String(attribute.split(separator: ".", maxSplits: 1)[0]) : defaultNamespace.lowercased()
      )
    }
    return namespaces.sorted()
  }

  /// Applying, changing or removing attributes takes `use` on each namespace involved.
  private func requireNamespaces(
    _ old: JSONValue, _ new: JSONValue, _ context: ZPRRequestContext, operation: String
  ) async throws {
    let access = try await snapshots.access()
    for namespace in Self.changedNamespaces(old, new, defaultNamespace: access.defaultNamespace) {
      try await authorizer.require(
        context.caller, "SECURITY_ATTRIBUTE_NAMESPACE_USE", Target(namespace: namespace),
        operation: operation)
    }
  }

  /// The subnets and NSGs an owner's VNICs are placed in (`subnet|VCN/NAME`, `nsg|VCN/NAME`).
  static func attachments(_ body: JSONValue) -> Set<String> {
    var placed: Set<String> = []
    for vnic in body["vnics"]?.array ?? [] {
      guard let subnet = vnic["subnet"]?.string else { continue }
      placed.insert("subnet|" + subnet)
      let vcn = subnet.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
      for nsg in vnic["nsgs"]?.array?.compactMap(\.string) ?? [] {
        placed.insert("nsg|\(vcn)/\(nsg)")
      }
    }
    return placed
  }

  /// Placing a VNIC in a subnet takes `SUBNET_ATTACH` there, and in an NSG
  /// `NETWORK_SECURITY_GROUP_UPDATE_MEMBERS`: the caller must be able to use what they attach
  /// to. One they may not even inspect is answered as if it did not exist.
  func requireAttachments(
    old: JSONValue, new: JSONValue, _ caller: Caller, operation: String
  ) async throws {
    guard kind.field("vnics") != nil else { return }
    let access = try await snapshots.access()
    for placement in Self.attachments(new).subtracting(Self.attachments(old)).sorted() {
      let parts = placement.split(separator: "|", maxSplits: 1).map(String.init)
      let path = parts[1].split(separator: "/", maxSplits: 1).map(String.init)
      guard path.count == 2 else { continue }  // the tenancy check names the malformed one
      let partKind = parts[0] == "subnet" ? ResourceSchema.subnet : ResourceSchema.nsg
      let permission =
        parts[0] == "subnet" ? "SUBNET_ATTACH" : "NETWORK_SECURITY_GROUP_UPDATE_MEMBERS"
      guard
        let record = try await store.records(
          kind: partKind.kind, ListQuery(name: path[1], parent: path[0], limit: 1)
        ).first
      else { continue }  // a missing one is the tenancy check's to name
      let target = access.target(of: record)
      guard Authorizer.inspects(caller, record, in: access) else {
        throw APIError(
          .notFound, "ZPR-API-006",
          "there is no \(partKind.label) '\(parts[1])' that you may see: list them "
            + "(GET /v1/\(partKind.path)) to find one")
      }
      guard Authorizer.allows(caller, permission, target, operation: operation, in: access) else {
        throw Authorizer.forbidden(
          Caller(user: caller.user, groups: access.groups(of: caller)), permission, target)
      }
    }
  }

  private func create(_ request: Request, _ context: ZPRRequestContext) async throws -> Response {
    let (name, parent, object) = try await fields(of: request)
    let operation = "Create\(kind.operation)"
    try await authorizer.require(
      context.caller, kind.permission("CREATE"),
      try await snapshots.access().target(kind: kind, name: name, parent: parent, body: object),
      operation: operation)
    try await requireNamespaces(.object([]), object, context, operation: operation)
    try await requireAttachments(
      old: .object([]), new: object, context.caller, operation: operation)
    let (commit, report): (Commit, WriteReport)
    do {
      (commit, report) = try await writer(context, request).commitReporting(
        [
          .create(
            kind: kind.kind, name: name, parent: parent, lifecycleState: .active,
            body: TenancyDocument.body(object))
        ], actor: context.actor, idempotencyKey: try Self.idempotencyKey(request))
    } catch let error as APIError where error.code == StoreError.Code.duplicateName.rawValue {
      throw try await duplicate(name, parent: parent, context.caller, code: error.code)
    }
    let record = commit.records[0]!
    return try ZPRServer.json(
      ResourceView(kind: kind, record: record, report: report),
      status: report.dryRun ? .ok : .created, etag: report.dryRun ? nil : record.version)
  }

  /// The answer to a name that is taken: by a resource the caller may see (update it, or choose
  /// another name), or by one they may not (which it does not describe).
  private func duplicate(_ name: String, parent: String?, _ caller: Caller, code: String)
    async throws -> APIError
  {
    let access = try await snapshots.access()
    let taken = try await store.records(
      kind: kind.kind, ListQuery(name: name, parent: parent, limit: 1)
    ).first
    guard let taken, Authorizer.inspects(caller, taken, in: access) else {
      return APIError(
        .conflict, code, "the name '\(name)' cannot be used for \(kind.withArticle): choose another"
      )
    }
    return APIError(
      .conflict, code,
      "\(kind.withArticle) named '\(name)' already exists"
        + (parent.map { " in \(ResourceSchema.named(kind.parent!.kind)!.label) '\($0)'" } ?? "")
        + ": choose another name, or update it")
  }

  private func replace(_ id: String, _ request: Request, _ context: ZPRRequestContext)
    async throws -> Response
  {
    let object = try await RequestBody.object(
      request, allowed: kind.keys, limit: limits.bodyBytes)
    return try await replace(id, with: object, request, context)
  }

  /// `PATCH`: a JSON merge patch (RFC 7386) of the element: the fields it names replace the
  /// resource's (a list as a whole), `null` removes one, the others stay.
  private func patch(_ id: String, _ request: Request, _ context: ZPRRequestContext)
    async throws -> Response
  {
    let patch = try await RequestBody.object(
      request, allowed: kind.keys, limit: limits.bodyBytes)
    let current = try await visible(id, context, needing: "UPDATE", operation: "Update")
    var object = current.element
    object.set("name", .string(current.name))
    if let field = kind.parent?.field { object.set(field, .string(current.parent ?? "")) }
    for (key, value) in patch.objectMembers ?? [] { object.set(key, value.isNull ? nil : value) }
    // Without If-Match, the patch applies to the version it was read at, so a change made in
    // between is not overwritten.
    return try await replace(id, with: object, request, context, read: current)
  }

  /// Replaces a resource's element; `read` is the record a `PATCH` read (and authorized) to
  /// build it from, which it is then only changed at.
  private func replace(
    _ id: String, with element: JSONValue, _ request: Request, _ context: ZPRRequestContext,
    read: ResourceRecord? = nil
  ) async throws -> Response {
    let (name, parent, object) = try fields(of: element)
    let operation = "Update\(kind.operation)"
    let current: ResourceRecord
    if let read {
      current = read
    } else {
      current = try await visible(id, context, needing: "UPDATE", operation: "Update")
    }
    let readVersion = read?.version
    // Moving it to another compartment takes the permission there too.
    try await authorizer.require(
      context.caller, kind.permission("UPDATE"),
      try await snapshots.access().target(kind: kind, name: name, parent: parent, body: object),
      operation: operation)
    let old = current.element
    try await requireNamespaces(old, object, context, operation: operation)
    try await requireAttachments(old: old, new: object, context.caller, operation: operation)
    if let field = kind.parent?.field, parent != current.parent {
      throw APIError(
        .badRequest, "ZPR-API-019",
        "\(kind.withArticle) cannot move: '\(field)' is '\(current.parent ?? "")'; to put it "
          + "elsewhere, delete it and create it there")
    }
    let (commit, report) = try await writer(context, request).commitReporting(
      [
        .update(
          kind: kind.kind, id: id, expectedVersion: try Self.ifMatch(request) ?? readVersion,
          name: name, lifecycleState: nil, body: TenancyDocument.body(object))
      ], actor: context.actor, idempotencyKey: try Self.idempotencyKey(request))
    let record = commit.records[0]!
    return try ZPRServer.json(
      ResourceView(kind: kind, record: record, report: report),
      etag: report.dryRun ? nil : record.version)
  }

  private func delete(_ id: String, _ request: Request, _ context: ZPRRequestContext)
    async throws -> Response
  {
    let expected = try Self.ifMatch(request)
    let record = try await visible(id, context, needing: "DELETE", operation: "Delete")
    if !kind.hasLifecycle { try await refuseParts(of: record, context.caller) }
    var mutations: [Mutation] = [.delete(kind: kind.kind, id: id, expectedVersion: expected)]
    if kind.hasLifecycle {
      let cascade = request.uri.queryParameters["cascade"].map(String.init) == "true"
      mutations = try await lifecycleMutations(id, expected: expected) {
        catalog, record throws(ModelError) in
        if kind.kind == ResourceSchema.namespace.kind {
          try catalog.deleteNamespace(record.name, cascade: cascade)
        } else {
          try catalog.deleteAttribute(record.name, in: record.parent ?? "")
        }
      }
    }
    let (_, report) = try await writer(context, request).commitReporting(
      mutations, actor: context.actor, idempotencyKey: try Self.idempotencyKey(request))
    return try ZPRServer.json(Deleted(id: id, report: report))
  }

  /// Refuses to delete what still holds parts (a VCN its subnets, route tables, ...), naming
  /// them (those the caller may see) so that they can be deleted first.
  private func refuseParts(of record: ResourceRecord, _ caller: Caller) async throws {
    let access = try await snapshots.access()
    var held: [String] = []
    var total = 0
    var hidden = 0
    for part in ResourceSchema.all where part.parent?.kind == kind.kind {
      let children = try await ZPRServer.mapped {
        try await store.records(kind: part.kind, ListQuery(parent: record.name, limit: 1000))
      }
      guard !children.isEmpty else { continue }
      total += children.count
      let seen = children.filter { Authorizer.inspects(caller, $0, in: access) }.map(\.name)
        .sorted()
      hidden += children.count - seen.count
      if !seen.isEmpty {
        let noun = seen.count == 1 ? part.label : part.plural
        held.append(
          "\(seen.count) \(noun) (\(seen.prefix(5).joined(separator: ", "))"
            + (seen.count > 5 ? ", ..." : "") + ")")
      }
    }
    guard total > 0 else { return }
    if hidden > 0 { held.append("\(hidden) you may not see") }
    throw APIError(
      .conflict, "ZPR-API-043",
      "\(kind.label) '\(record.name)' still holds \(held.joined(separator: ", ")): delete "
        + "\(total == 1 ? "it" : "them") first")
  }

  /// Retire or reactivate a namespace or attribute, by the catalog's rules.
  private func lifecycle(
    _ id: String, _ action: String, _ request: Request, _ context: ZPRRequestContext
  ) async throws -> Response {
    guard action == "retire" || action == "reactivate" else {
      throw APIError(
        .notFound, "ZPR-API-016",
        "there is no action '\(action)' on \(kind.withArticle): the actions are retire and reactivate"
      )
    }
    let namespace = kind.kind == ResourceSchema.namespace.kind
    _ = try await visible(
      id, context, needing: "UPDATE", operation: action == "retire" ? "Retire" : "Reactivate")
    let mutations = try await lifecycleMutations(id, expected: try Self.ifMatch(request)) {
      catalog, record throws(ModelError) in
      switch (action, namespace) {
      case ("retire", true): try catalog.retireNamespace(record.name)
      case ("retire", false): try catalog.retireAttribute(record.name, in: record.parent ?? "")
      case (_, true): try catalog.reactivateNamespace(record.name)
      default: try catalog.reactivateAttribute(record.name, in: record.parent ?? "")
      }
    }
    let (commit, report): (Commit, WriteReport)
    do {
      (commit, report) = try await writer(context, request).commitReporting(
        mutations, actor: context.actor, idempotencyKey: try Self.idempotencyKey(request))
    } catch let error as APIError where action == "retire" {
      throw Self.carried(error, by: try await existing(id), kind: kind)
    }
    let record = commit.records.compactMap { $0 }.first { $0.id == id }!
    return try ZPRServer.json(
      ResourceView(kind: kind, record: record, report: report),
      etag: report.dryRun ? nil : record.version)
  }

  /// A retirement refused because resources carry what it retires, said in one line first:
  /// "3 resources still carry app.tier (web-1, app-1, db-1): remove it from them first".
  static func carried(_ error: APIError, by record: ResourceRecord, kind: ResourceSchema)
    -> APIError
  {
    let carriers = error.details.filter { $0["code"] == "ZPT008" }.compactMap { detail in
      detail["name"].map { (detail["kind"].flatMap(ResourceSchema.named)?.label ?? "", $0) }
    }
    guard error.code == "ZPR-API-012", !carriers.isEmpty,
      carriers.count == error.details.count
    else { return error }
    let what =
      kind.kind == ResourceSchema.attribute.kind
      ? "\(record.parent ?? "").\(record.name)" : "attributes of namespace \(record.name)"
    let labels = Set(carriers.map(\.0))
    let noun =
      labels.count == 1
      ? (carriers.count == 1
        ? labels.first!
        : ResourceSchema.all.first { $0.label == labels.first! }?.plural ?? "resources")
      : (carriers.count == 1 ? "resource" : "resources")
    let names = carriers.map(\.1)
    let shown =
      names.prefix(5).joined(separator: ", ")
      + (names.count > 5 ? " and \(names.count - 5) more" : "")
    return APIError(
      error.status, error.code,
      "\(carriers.count) \(noun) still \(carriers.count == 1 ? "carries" : "carry") \(what) "
        + "(\(shown)): remove it from "
        + "\(carriers.count == 1 ? "it" : "them") first, then retire it (nothing was changed)",
      details: error.details)
  }

  /// Runs a lifecycle change on the current catalog (which refuses what its rules forbid) and
  /// turns the states it leaves into mutations of the namespace and attribute records.
  private func lifecycleMutations(
    _ id: String, expected: Int64?,
    _ change: (inout SecurityAttributeCatalog, ResourceRecord) throws(ModelError) -> Void
  ) async throws -> [Mutation] {
    let record = try await existing(id)
    if let expected, expected != record.version {
      throw APIError(
        .preconditionFailed, StoreError.Code.versionMismatch.rawValue,
        "\(kind.label) '\(record.name)' is at version \(record.version), not \(expected): "
          + "someone changed it since you read it; read it again and retry")
    }
    let snapshot = try await snapshots.snapshot()
    var catalog = snapshot.tenancy.catalog
    do throws(ModelError) {
      try change(&catalog, record)
    } catch {
      throw APIError(.conflict, error.code.rawValue, error.message)
    }
    var mutations: [Mutation] = []
    for other in snapshot.records
    where other.kind == ResourceSchema.namespace.kind || other.kind == ResourceSchema.attribute.kind
    {
      let state: LifecycleState? =
        other.kind == ResourceSchema.namespace.kind
        ? catalog.namespace(named: other.name)?.state
        : catalog.attribute(other.name, in: other.parent ?? "")?.state
      switch state {
      case .active?, .inactive?:
        if state! != other.lifecycleState {
          mutations.append(
            .update(
              kind: other.kind, id: other.id, expectedVersion: other.version, name: nil,
              lifecycleState: state!, body: nil))
        }
      default:
        mutations.append(.delete(kind: other.kind, id: other.id, expectedVersion: other.version))
      }
    }
    return mutations
  }

  // MARK: Bodies

  /// The name, parent and stored body of a request's element, checked for shape here; what
  /// the element means is checked with the whole tenancy when it commits.
  private func fields(of request: Request) async throws -> (String, String?, JSONValue) {
    try fields(
      of: try await RequestBody.object(request, allowed: kind.keys, limit: limits.bodyBytes))
  }

  /// The element's name, its parent's, and its other fields (the body to store).
  private func fields(of element: JSONValue) throws -> (String, String?, JSONValue) {
    var object = element
    for field in kind.requiredKeys where object[field]?.isNull ?? true {
      throw APIError.missingField(field)
    }
    guard let written = object["name"]?.string else {
      throw APIError.wrongType("name", "a string")
    }
    object.set("name", nil)
    let name = try Names.resource(written, field: "name")
    var parent: String?
    if let field = kind.parent?.field {
      guard let value = object[field]?.string else {
        throw APIError.wrongType(
          field, "the name of a \(ResourceSchema.named(kind.parent!.kind)!.label)")
      }
      object.set(field, nil)
      parent = value
    }
    if kind.kind == ResourceSchema.policy.kind { try PolicyStatements.zpr.check(object) }
    if kind.kind == ResourceSchema.iamPolicy.kind { try PolicyStatements.iam.check(object) }
    if kind.kind == ResourceSchema.group.kind, let members = object["members"] {
      guard let names = members.array?.compactMap(\.string), names.count == members.array?.count
      else {
        throw APIError.wrongType("members", "a list of user names")
      }
      object.set(
        "members", .array(try names.map { .string(try Names.principal($0, field: "members")) }))
    }
    if kind.hasLifecycle || kind.kind == ResourceSchema.group.kind,
      let description = object["description"], description.string == nil
    {
      throw APIError.wrongType("description", "a string")
    }
    return (name, parent, object)
  }

  /// The request's JSON object, with no fields but the allowed ones, of at most the body
  /// limit.
  static func jsonObject(
    _ request: Request, allowed: [String], limits: ServerLimits, emptyIsObject: Bool = false
  ) async throws -> JSONValue {
    try await RequestBody.object(
      request, allowed: allowed, limit: limits.bodyBytes, emptyIsObject: emptyIsObject)
  }

  private func existing(_ id: String) async throws -> ResourceRecord {
    guard
      let record = try await ZPRServer.mapped({ try await store.record(kind: kind.kind, id: id) })
    else { throw missing(id) }
    return record
  }

  private func missing(_ id: String) -> APIError {
    APIError(
      .notFound, "ZPR-API-006",
      "there is no \(kind.label) with id '\(id)' that you may see: list them "
        + "(GET /v1/\(kind.path)) to find it")
  }

  /// Whether a record (or one of its VNICs) carries `ns.key:value` or `ns.key`.
  static func carries(_ record: ResourceRecord, _ filter: String) -> Bool {
    let parts = filter.split(separator: ":", maxSplits: 1).map(String.init)
    let object = record.element
    var sets = [object["securityAttributes"]?.objectMembers ?? []]
    for vnic in object["vnics"]?.array ?? [] {
      sets.append(vnic["securityAttributes"]?.objectMembers ?? [])
    }
    return sets.contains { attributes in
      attributes.contains { key, value in
        guard SecurityAttributeName.same(key, parts[0]) else { return false }
        guard parts.count == 2 else { return true }
        return (value["value"] ?? value).string == parts[1]
      }
    }
  }

  /// The version an `If-Match: "N"` header expects (nil without one).
  static func ifMatch(_ request: Request) throws -> Int64? {
    guard let header = request.headers[.ifMatch] else { return nil }
    // Exactly an ETag this server gives: a quoted version number.
    let inner = header.hasPrefix("\"")
    let closed = header.count >= 3 && header.hasSuffix("\"")
    let digits = inner && closed ? header.dropFirst().dropLast() : ""
    guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
      let version = Int64(digits)
    else {
      throw APIError(
        .badRequest, "ZPR-API-010",
        "If-Match must be the ETag a read returned, such as \"3\", not '\(header)'")
    }
    return version
  }

  /// Whether the request asks for a dry run (`?dryRun=true`, or the header `Zpr-Dry-Run: true`).
  static func dryRun(_ request: Request) throws -> Bool {
    if let header = request.headers[HTTPField.Name("Zpr-Dry-Run")!] {
      guard header == "true" || header == "false" else {
        throw APIError(
          .badRequest, "ZPR-API-033",
          "Zpr-Dry-Run must be true or false, not '\(header.prefix(40))'")
      }
      if header == "true" { return true }
    }
    return try Query(request).flag("dryRun") ?? false
  }

  static func idempotencyKey(_ request: Request) throws -> String? {
    guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
    guard (1...200).contains(key.count),
      key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
    else {
      throw APIError(
        .badRequest, "ZPR-API-034",
        "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces (a UUID "
          + "will do)")
    }
    return key
  }
}

/// The checks of a policy's body that need no tenancy, for both languages (ZPR policies and IAM
/// policies): a description, a list of statements within the language's limit, and statements
/// that parse, each problem a detail (statement, code, message, column, suggestion).
struct PolicyStatements: Sendable {
  /// `ZPR-API-009` or `ZPR-API-020`.
  let code: String
  /// "statement" or "IAM statement".
  let noun: String
  /// "policy" or "IAM policy".
  let policy: String
  let limit: Int
  /// The error diagnostics of one statement's text.
  let diagnostics: @Sendable (String) -> [Diagnostic]

  /// ZPR policies' statements.
  static let zpr = PolicyStatements(
    code: "ZPR-API-009", noun: "statement", policy: "policy",
    limit: ZPRLimits.standard.statementsPerPolicy,
    diagnostics: { PolicyParser().parseStatement($0).diagnostics })

  /// IAM policies' statements (an empty one is an error too).
  static let iam = PolicyStatements(
    code: "ZPR-API-020", noun: "IAM statement", policy: "IAM policy",
    limit: IAMLimits.standard.statementsPerPolicy,
    diagnostics: { text in
      let (statement, diagnostics) = IAMParser().parseStatement(text)
      guard statement == nil, diagnostics.isEmpty else { return diagnostics }
      return [
        Diagnostic(.error, IAMCode.expectedWord, "the statement is empty", at: SourceRange(0, 0))
      ]
    })

  /// Checks the body; returns its statements.
  @discardableResult
  func check(_ object: JSONValue) throws -> [String] {
    guard object["description"]?.string != nil else {
      throw APIError.wrongType("description", "a string")
    }
    guard let list = object["statements"]?.array, case let texts = list.compactMap(\.string),
      texts.count == list.count
    else {
      throw APIError.wrongType("statements", "a list of \(noun)s (strings)")
    }
    guard texts.count <= limit else {
      throw APIError(
        .badRequest, "ZPR-API-008",
        "the \(policy) has \(texts.count) statements; a \(policy) holds at most \(limit): split "
          + "it into several \(policy == "policy" ? "policies" : "IAM policies")")
    }
    var details: [[String: String]] = []
    for (index, text) in texts.enumerated() {
      for diagnostic in diagnostics(text) where diagnostic.severity == .error {
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
        .badRequest, code,
        "\(details.count == 1 ? "a \(noun) has an error" : "\(noun)s have \(details.count) errors"): "
          + "see details, fix them and send the \(policy) again", details: details)
    }
    return texts
  }
}

/// A resource as the API shows it: its identity, state and times, then its element's fields;
/// to a caller who may inspect but not read it, only that it is there, where, and its state.
/// A write's answer adds what the write changes in access.
struct ResourceView: Encodable {
  var kind: ResourceSchema
  var record: ResourceRecord
  /// Whether the caller may read what it holds.
  var full = true
  var report: WriteReport?

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: JSONKey.self)
    try container.encode(record.id, forKey: JSONKey("id"))
    try container.encode(record.name, forKey: JSONKey("name"))
    if let field = kind.parent?.field {
      try container.encode(record.parent ?? "", forKey: JSONKey(field))
    }
    let element = record.element
    if !full, kind.field("compartment") != nil, let compartment = element["compartment"]?.string {
      try container.encode(compartment, forKey: JSONKey("compartment"))
    }
    try container.encode(record.lifecycleState, forKey: JSONKey("lifecycleState"))
    try container.encode(
      ZPRServer.timestamp(record.timeCreated), forKey: JSONKey("timeCreated"))
    try container.encode(
      ZPRServer.timestamp(record.timeUpdated), forKey: JSONKey("timeUpdated"))
    if full {
      for (key, value) in element.objectMembers ?? [] {
        try container.encode(value, forKey: JSONKey(key))
      }
    }
    try report?.encode(into: &container)
  }
}

/// The answer to a delete: the id, whether it is gone (not on a dry run), and the report.
struct Deleted: Encodable {
  var id: String
  var report: WriteReport

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: JSONKey.self)
    try container.encode(id, forKey: JSONKey("id"))
    try container.encode(!report.dryRun, forKey: JSONKey("deleted"))
    try report.encode(into: &container)
  }
}
