import Foundation
import HTTPTypes
import Hummingbird
import ZPREngine
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// The routes about the tenancy as a whole: the ZPR configuration (enable), path analysis, the
/// reachability matrix, the what-if diff, `apply` and `export`.
struct TenancyRoutes {
  let store: any Store
  let snapshots: Snapshots
  let limits: ServerLimits

  private func writer(_ context: ZPRRequestContext) -> CheckedCommit {
    CheckedCommit(store: store, caller: context.caller, snapshots: snapshots)
  }

  /// Throws 403 unless the caller may inspect every resource: the whole-tenancy views (analysis,
  /// the matrix, what-if, apply and its dry run, export) would otherwise show what they may not
  /// see. Checked before anything large is read.
  private func requireWholeTenancy(
    _ context: ZPRRequestContext, _ permission: String, _ operation: String
  )
    async throws
  {
    try await require(context, permission, operation)
    guard try await snapshots.seesEverything(context.caller) else {
      throw APIError(
        .forbidden, "ZPR-API-028",
        "\(context.caller.user) may not do this: it covers the whole tenancy, and some of its "
          + "resources are outside what \(context.caller.user) may inspect; an administrator "
          + "can grant it with a statement such as: Allow group GROUP to inspect all-resources "
          + "in tenancy")
    }
  }

  private var authorizer: Authorizer { Authorizer(snapshots: snapshots) }

  /// Throws 403 unless the caller has the permission in the tenancy.
  private func require(_ context: ZPRRequestContext, _ permission: String, _ operation: String)
    async throws
  {
    try await authorizer.require(context.caller, permission, Target(), operation: operation)
  }

  /// The revision an export is of (`ZPR-Revision`).
  static let revisionHeader = HTTPField.Name("ZPR-Revision")!
  /// How many resources an export holds (`ZPR-Resource-Count`).
  static let resourceCountHeader = HTTPField.Name("ZPR-Resource-Count")!

  func add(to router: Router<ZPRRequestContext>) {
    router.get("/v1/zprConfiguration") { _, context in
      try await require(context, "ZPR_CONFIGURATION_READ", "GetZprConfiguration")
      return try await configuration()
    }
    router.put("/v1/zprConfiguration") { request, context in
      try await require(context, "ZPR_CONFIGURATION_UPDATE", "UpdateZprConfiguration")
      return try await updateConfiguration(request, context)
    }
    router.post("/v1/zprConfiguration/actions/enable") { request, context in
      try await require(context, "ZPR_CONFIGURATION_CREATE", "EnableZpr")
      return try await enable(request, context)
    }
    router.post("/v1/pathAnalysis") { request, context in
      try await requireWholeTenancy(context, "ZPR_POLICY_READ", "AnalyzePath")
      return try await analyze(request)
    }
    router.get("/v1/reachabilityMatrix") { _, context in
      try await requireWholeTenancy(context, "ZPR_POLICY_READ", "GetReachabilityMatrix")
      let (analyzer, tenancy) = try await snapshots.analyzer()
      let matrix = ReachabilityMatrix(analyzer.compiled, topology: analyzer.topology)
      return try ZPRServer.json(matrix.json(tenancy: tenancy), pretty: true)
    }
    router.post("/v1/whatIf") { request, context in
      try await requireWholeTenancy(context, "ZPR_POLICY_READ", "WhatIf")
      return try await whatIf(request)
    }
    router.post("/v1/apply") { request, context in
      try await requireWholeTenancy(context, "ZPR_POLICY_READ", "Apply")
      return try await apply(request, context)
    }
    router.get("/v1/export") { _, context in
      try await requireWholeTenancy(context, "ZPR_CONFIGURATION_READ", "Export")
      let snapshot = try await snapshots.snapshot()
      let access = try await snapshots.access()
      // The whole tenancy: only for a caller who may read every part of it.
      var resources = 0
      for record in snapshot.records {
        guard let kind = ResourceSchema.named(record.kind) else { continue }
        try await authorizer.require(
          context.caller, kind.permission("READ"), access.target(of: record),
          operation: "Export")
        resources += 1
      }
      return Response(
        status: .ok,
        headers: [
          .contentType: "application/yaml", Self.revisionHeader: String(snapshot.revision),
          Self.resourceCountHeader: String(resources),
        ],
        body: ResponseBody { writer in
          // Streamed, a section (or a run of elements) at a time.
          try await TenancyFile.writeYAML(for: snapshot.tenancy.inNameOrder) { text in
            try await writer.write(ByteBuffer(string: text))
          }
          try await writer.finish(nil)
        })
    }
  }

  // MARK: The ZPR configuration

  private func configurationRecord() async throws -> ResourceRecord? {
    try await ZPRServer.mapped {
      try await store.records(kind: ResourceSchema.configurationKind, ListQuery(limit: 1)).first
    }
  }

  private func configuration() async throws -> Response {
    guard let record = try await configurationRecord() else {
      return try ZPRServer.json(JSONValue.object([("enabled", .bool(false))]))
    }
    var object = JSONValue.object([
      ("enabled", .bool(true)), ("id", .string(record.id)),
      ("lifecycleState", .string(record.lifecycleState.rawValue)),
      ("timeCreated", .string(ZPRServer.timestamp(record.timeCreated))),
      ("timeUpdated", .string(ZPRServer.timestamp(record.timeUpdated))),
    ])
    for (key, value) in record.element.objectMembers ?? [] { object.set(key, value) }
    return try ZPRServer.json(object.sortingKeys, etag: record.version)
  }

  /// The configuration's fields, as `enable` and its update take them.
  struct Configuration: Codable, FieldsNamed {
    var defaultNamespace: String?
    var serviceNetwork: [String]?
    static let fields = ["defaultNamespace", "serviceNetwork"]
    static let expected = [
      "defaultNamespace": "a namespace name",
      "serviceNetwork": "a list of CIDR blocks (strings)",
    ]
  }

  /// "Enable ZPR": the configuration, and the default namespace with its example attribute.
  private func enable(_ request: Request, _ context: ZPRRequestContext) async throws -> Response {
    let body = try await ResourceRoutes.jsonObject(
      request, allowed: ["defaultNamespace"], limits: limits, emptyIsObject: true)
    let name =
      try RequestBody.decode(Configuration.self, from: body).defaultNamespace ?? "oracle-zpr"
    if try await configurationRecord() != nil {
      throw APIError(
        .conflict, ModelError.Code.alreadyEnabled.rawValue,
        "ZPR is already enabled: change its configuration (PUT /v1/zprConfiguration) instead")
    }
    // The example namespace as "Enable ZPR" makes it; a stored namespace of the same name
    // makes the commit fail as a duplicate.
    var catalog = SecurityAttributeCatalog()
    do throws(ModelError) {
      try catalog.enableZPR(defaultNamespace: name)
    } catch {
      throw APIError(.conflict, error.code.rawValue, error.message)
    }
    let namespace = catalog.namespace(named: name)!
    let mutations: [Mutation] =
      [
        Mutation.create(
          kind: ResourceSchema.configurationKind, name: "zpr", parent: nil,
          lifecycleState: .active,
          body: TenancyDocument.body(Configuration(defaultNamespace: name))),
        Mutation.create(
          kind: ResourceSchema.namespace.kind, name: name, parent: nil, lifecycleState: .active,
          body: TenancyDocument.body(Described(description: namespace.description))),
      ]
      + namespace.attributes.map {
        Mutation.create(
          kind: ResourceSchema.attribute.kind, name: $0.name, parent: name,
          lifecycleState: .active,
          body: TenancyDocument.body(Described(description: $0.description))
        )
      }
    _ = try await writer(context).commit(
      mutations, actor: context.actor, idempotencyKey: try ResourceRoutes.idempotencyKey(request))
    return try await configuration()
  }

  private func updateConfiguration(_ request: Request, _ context: ZPRRequestContext)
    async throws -> Response
  {
    let object = try await ResourceRoutes.jsonObject(
      request, allowed: ["defaultNamespace", "serviceNetwork"], limits: limits)
    guard let record = try await configurationRecord() else {
      throw APIError(
        .conflict, "ZPR-API-014",
        "ZPR is not enabled: enable it first (POST /v1/zprConfiguration/actions/enable)")
    }
    _ = try RequestBody.decode(Configuration.self, from: object)
    var body = record.element
    for (key, value) in object.objectMembers ?? [] { body.set(key, value) }
    _ = try await writer(context).commit(
      [
        .update(
          kind: record.kind, id: record.id, expectedVersion: try ResourceRoutes.ifMatch(request),
          name: nil, lifecycleState: nil, body: TenancyDocument.body(body))
      ], actor: context.actor, idempotencyKey: try ResourceRoutes.idempotencyKey(request))
    return try await configuration()
  }

  // MARK: Analysis

  /// The same question and answer as `zpr analyze --format json`.
  private func analyze(_ request: Request) async throws -> Response {
    let asked = try await RequestBody.decode(
      AnalysisRequest.self, from: request, limit: limits.bodyBytes)
    guard let transport = FlowProtocol(rawValue: asked.protocol) else {
      throw APIError.wrongType("protocol", "tcp, udp or icmp")
    }
    let query = PathQuery(
      from: asked.from, to: asked.to, transport: transport, port: asked.port,
      sourcePort: asked.sourcePort, icmpType: asked.icmpType, icmpCode: asked.icmpCode,
      bidirectional: asked.bidirectional ?? false)
    let (analyzer, _) = try await snapshots.analyzer()
    let analysis: PathAnalysis
    do {
      analysis = try analyzer.analyze(query)
    } catch {
      throw APIError(.badRequest, error.code.rawValue, error.message)
    }
    return try ZPRServer.json(AnalysisJSON.json(analysis), pretty: true)
  }

  /// What access would change: `{"policies": [{name, description, statements}]}` (added, or
  /// replacing those of the same name) or `{"tenancy": "<tenancy file>"}`.
  private func whatIf(_ request: Request) async throws -> Response {
    let asked = try await RequestBody.decode(
      WhatIfRequest.self, from: request, limit: limits.tenancyBytes,
      option: "--max-tenancy-bytes")
    let old = try await snapshots.snapshot().tenancy
    var new = old
    if let text = asked.tenancy {
      new = try Self.loadFile(text, path: "tenancy").tenancy
    } else if let policies = asked.policies {
      guard policies.count <= 1000 else {
        throw APIError.wrongType("policies", "a list of at most 1000 policies")
      }
      for (index, policy) in policies.enumerated() {
        guard let name = policy["name"]?.string else {
          throw APIError.wrongType("policies[\(index)].name", "a string")
        }
        let statements = try PolicyStatements.zpr.check(policy).compactMap {
          PolicyParser().parseStatement($0).statement
        }
        let replacement = Policy(
          name: name, description: policy["description"]?.string ?? "",
          statements: statements)
        if let at = new.policies.firstIndex(where: { $0.name == name }) {
          new.policies[at] = replacement
        } else {
          new.policies.append(replacement)
        }
      }
      let problems = new.catalogDiagnostics(for: new.policies.flatMap(\.statements))
        .filter { $0.severity == .error }
      guard problems.isEmpty else {
        throw APIError(
          .unprocessableContent, "ZPR-API-012",
          "the policies do not fit the tenancy: \(problems[0].message)",
          details: problems.map { ["code": $0.code.rawValue, "message": $0.message] })
      }
    } else {
      throw APIError.missingField("policies")
    }
    return try ZPRServer.json(PolicyDiff(old: old, new: new).json(old: old, new: new), pretty: true)
  }

  // MARK: Apply

  /// `{"tenancy": "<tenancy file>", "path": "name for messages"}`, `?dryRun=true`: the plan
  /// (creates, updates, deletes) and the reachability it changes; without dryRun, applied as
  /// one commit.
  private func apply(_ request: Request, _ context: ZPRRequestContext) async throws -> Response {
    let dryRun = try Query(request).flag("dryRun") ?? false
    let asked = try await RequestBody.decode(
      ApplyRequest.self, from: request, limit: limits.tenancyBytes,
      option: "--max-tenancy-bytes")
    let path = asked.path ?? "tenancy"
    guard path.count <= 200 else {
      throw APIError.wrongType("path", ApplyRequest.expected["path"]!)
    }
    let loaded = try Self.loadFile(asked.tenancy, path: path)
    var desired = loaded.tenancy
    let snapshot = try await snapshots.snapshot()
    // A section the file leaves out (groups, iamPolicies) leaves what it is about as it is.
    let leaving = Set(
      ResourceSchema.optionalSections.filter { !loaded.sections.contains($0.key) }.values)
    if leaving.contains(ResourceSchema.group.kind) { desired.groups = snapshot.tenancy.groups }
    if leaving.contains(ResourceSchema.iamPolicy.kind) {
      desired.iamPolicies = snapshot.tenancy.iamPolicies
    }
    let plan = ApplyPlan(
      current: snapshot.records, desired: TenancyDocument.records(for: desired), leaving: leaving)
    if !dryRun {
      let now = try await snapshots.access()
      let then = Access(tenancy: desired, keyGroups: now.keyGroups)
      // Each step is authorized as its own call would be, unless the caller holds everything
      // (`manage all-resources in tenancy`, unconditionally), which every step then takes.
      let groups = now.groups(of: context.caller)
      if !now.evaluator.holdsEverything(user: context.caller.user, groups: groups) {
        try await authorize(plan, context, now: now, then: then)
      }
      try AccessGuard.check(context.caller, now: now, then: then)
    }
    var result = ApplyAnswer(dryRun: dryRun, plan: plan.summary, revision: snapshot.revision)
    // What the change does to reachability compares the two tenancies whole: up to a size.
    let size = max(snapshot.tenancy.resources.count, desired.resources.count)
    if size <= WriteReport.limit {
      result.reachability = PolicyDiff(old: snapshot.tenancy, new: desired).json(
        old: snapshot.tenancy, new: desired)
    } else {
      result.reachabilitySkipped = WriteReport.tooLarge
    }
    if !dryRun, !plan.mutations.isEmpty {
      // The file was checked as it was read; what the tenancy keeps of the server's (groups
      // and IAM policies the file leaves out) is checked with it here, with the tests, and the
      // change commits only if nothing was committed since the plan was made.
      try CheckedCommit.validate(desired)
      let commit = try await writer(context).commit(
        plan.mutations, actor: context.actor,
        idempotencyKey: try ResourceRoutes.idempotencyKey(request), after: snapshot.revision)
      result.revision = commit.revision
      // The next single write checks against the applied tenancy: read it in now.
      if snapshots.incrementalWrites {
        let snapshots = snapshots
        Task { await snapshots.live.prepare(snapshots) }
      }
    }
    return try ZPRServer.json(result)
  }

  /// Every step of a plan takes what the same call of the API would take: the kind's
  /// permission where the resource is (and will be), and `use` on the namespaces whose
  /// attributes it changes.
  private func authorize(
    _ plan: ApplyPlan, _ context: ZPRRequestContext, now: Access, then: Access
  ) async throws {
    func routes(_ kind: String) -> ResourceRoutes? {
      ResourceSchema.named(kind).map {
        ResourceRoutes(kind: $0, store: store, snapshots: snapshots, limits: limits)
      }
    }
    func body(_ text: String) -> JSONValue { (try? JSONValue.parse(text)) ?? .object([]) }
    func namespaces(_ old: JSONValue, _ new: JSONValue) async throws {
      for namespace in ResourceRoutes.changedNamespaces(
        old, new, defaultNamespace: then.defaultNamespace)
      {
        try await authorizer.require(
          context.caller, "SECURITY_ATTRIBUTE_NAMESPACE_USE", Target(namespace: namespace),
          operation: "Apply")
      }
    }
    for record in plan.deletes {
      guard let routes = routes(record.kind) else {
        try await require(context, "ZPR_CONFIGURATION_DELETE", "Apply")
        continue
      }
      try await authorizer.require(
        context.caller, routes.kind.permission("DELETE"), now.target(of: record),
        operation: "Apply")
    }
    for (stored, wanted) in plan.updates {
      guard let routes = routes(stored.kind) else {
        try await require(context, "ZPR_CONFIGURATION_UPDATE", "Apply")
        continue
      }
      // Where it is, and where it will be.
      for target in [
        now.target(of: stored),
        then.target(
          kind: routes.kind, name: wanted.name, parent: wanted.parent, body: body(wanted.body)),
      ] {
        try await authorizer.require(
          context.caller, routes.kind.permission("UPDATE"), target, operation: "Apply")
      }
      try await namespaces(body(stored.body), body(wanted.body))
      try await routes.requireAttachments(
        old: body(stored.body), new: body(wanted.body), context.caller, operation: "Apply")
    }
    for wanted in plan.creates {
      guard let routes = routes(wanted.kind) else {
        try await require(context, "ZPR_CONFIGURATION_CREATE", "Apply")
        continue
      }
      try await authorizer.require(
        context.caller, routes.kind.permission("CREATE"),
        then.target(
          kind: routes.kind, name: wanted.name, parent: wanted.parent, body: body(wanted.body)),
        operation: "Apply")
      try await namespaces(.object([]), body(wanted.body))
      try await routes.requireAttachments(
        old: .object([]), new: body(wanted.body), context.caller, operation: "Apply")
    }
  }

  /// A tenancy file's tenancy, or its errors (by line and column) as the refusal.
  static func loadFile(_ text: String, path: String) throws -> TenancyFile.Loaded {
    let loaded = TenancyFile.load(SourceFile(path: path, text: text))
    let source = SourceFile(path: path, text: text)
    let errors = loaded.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty else {
      throw APIError(
        .badRequest, "ZPR-API-018",
        "the tenancy file has \(errors.count == 1 ? "an error" : "\(errors.count) errors"): fix "
          + "\(errors.count == 1 ? "it" : "them") (`zpr tenancy check \(path)` shows them too)",
        details: errors.map { diagnostic in
          let location = source.location(of: diagnostic.range.lowerBound)
          var detail = [
            "code": diagnostic.code.rawValue, "message": diagnostic.message,
            "line": String(location.line), "column": String(location.column),
          ]
          if let path = diagnostic.path { detail["path"] = path }
          if let suggestion = diagnostic.suggestion { detail["suggestion"] = suggestion }
          return detail
        })
    }
    return loaded
  }

}

/// `POST /v1/pathAnalysis`: the flow to explain, as `zpr analyze` asks it.
struct AnalysisRequest: Decodable, FieldsNamed {
  var from: String
  var to: String
  var `protocol`: String
  var port: Int?
  var sourcePort: Int?
  var icmpType: Int?
  var icmpCode: Int?
  var bidirectional: Bool?

  static let fields = [
    "from", "to", "protocol", "port", "sourcePort", "icmpType", "icmpCode", "bidirectional",
  ]
  static let expected = ["protocol": "tcp, udp or icmp"]
}

/// `POST /v1/whatIf`: policies to add or replace, or a whole tenancy file.
struct WhatIfRequest: Decodable, FieldsNamed {
  var policies: [JSONValue]?
  var tenancy: String?

  static let fields = ["policies", "tenancy"]
  static let expected = [
    "tenancy": "the text of a tenancy file", "policies": "a list of policies (objects)",
  ]
}

/// `POST /v1/apply`: a tenancy file's text, and the name to give it in messages.
struct ApplyRequest: Decodable, FieldsNamed {
  var tenancy: String
  var path: String?

  static let fields = ["tenancy", "path"]
  static let expected = [
    "tenancy": "a string", "path": "a file name of at most 200 characters",
  ]
}

/// What `apply` answers: the plan, what it does to reachability (or why that was left out),
/// and the revision the tenancy is at.
struct ApplyAnswer: Encodable {
  var dryRun: Bool
  var plan: ApplyPlan.Summary
  var reachability: JSONValue = .null
  var reachabilitySkipped: String?
  var revision: Int64
}

/// A namespace's or attribute's stored body.
struct Described: Codable {
  var description: String
}

/// A ZPR or IAM policy's stored body.
struct PolicyBody: Codable {
  var description: String
  var statements: [String]
}

extension Tenancy {
  /// The tenancy with every section in name order, as an export lists it (the server keeps
  /// elements in the order they were created).
  var inNameOrder: Tenancy {
    func sorted<T>(_ items: [T], _ name: (T) -> String) -> [T] {
      items.sorted { name($0).lowercased() < name($1).lowercased() }
    }
    var tenancy = self
    tenancy.compartments = sorted(compartments, \.name)
    tenancy.vcns = sorted(vcns, \.name).map { vcn in
      var vcn = vcn
      vcn.subnets = sorted(vcn.subnets, \.name)
      vcn.routeTables = sorted(vcn.routeTables, \.name)
      vcn.securityLists = sorted(vcn.securityLists, \.name)
      vcn.networkSecurityGroups = sorted(vcn.networkSecurityGroups, \.name)
      vcn.localPeeringGateways = sorted(vcn.localPeeringGateways, \.name)
      return vcn
    }
    tenancy.drgs = sorted(drgs, \.name)
    tenancy.resources = sorted(resources, \.name)
    tenancy.policies = sorted(policies, \.name)
    tenancy.tests = sorted(tests) { $0.name ?? "" }
    tenancy.groups = sorted(groups, \.name)
    tenancy.iamPolicies = sorted(iamPolicies, \.name)
    return tenancy
  }
}
