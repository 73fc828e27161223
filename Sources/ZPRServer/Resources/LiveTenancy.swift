import Foundation
import HTTPTypes
import ZPREngine
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// The current revision's tenancy, checked and indexed, kept by the server that writes it. A
/// write of one element is checked against it alone (``CheckedTenancy``: what the change
/// touches, and the policy tests it can affect), committed only if the store is still at that
/// revision, and then applied to it: no write reads, renders or checks the whole tenancy. A
/// commit by another replica moves the store on; the next write finds that, reads the new
/// revision and checks against it, so a write built on a stale revision is checked again,
/// never lost.
///
/// Writes the single-element path cannot carry (several mutations, namespaces and attributes,
/// renames of anything but resources, the ZPR configuration, changes to who may change what)
/// answer nil and take the whole-tenancy check.
actor LiveTenancy {
  let store: any Store
  private var state: State?
  /// Writes run one at a time: each is checked against the state the one before left.
  private var writing = false
  private var waiting: [CheckedContinuation<Void, Never>] = []

  /// The checked tenancy of one revision, with its records.
  struct State {
    var revision: Int64
    /// Every record by id, and the id of each name (`kind|parent|name` without case).
    var records: [String: ResourceRecord]
    var names: [String: String]
    var checked: CheckedTenancy
    var enabled: Bool
    /// How many resources (owners of VNICs) it holds.
    var resources: Int
  }

  /// What a write did (or in a dry run would do).
  struct Outcome: Sendable {
    var commit: Commit
    /// Every record after it, for a report (only kept for tenancies within the report's size).
    var records: [ResourceRecord]?
  }

  init(store: any Store) {
    self.store = store
  }

  /// Reads the store's current revision into the live state now (at start-up, after an
  /// `apply`), so that the first single write need not: in the background, while the server
  /// answers.
  func prepare(_ snapshots: Snapshots) async {
    await lock()
    defer { unlock() }
    if let prepared = try? await current(snapshots) { state = prepared }
  }

  /// Whether the kept state (if any) has at most this many resources.
  func holds(atMost resources: Int) -> Bool {
    state.map { $0.resources <= resources } ?? true
  }

  /// Commits one mutation checked against the live state, or nil when it is not one this path
  /// carries. `reportLimit`: with at most that many resources, the outcome keeps every record.
  func commit(
    _ mutation: Mutation, actor: String, idempotencyKey: String?, dryRun: Bool,
    reportLimit: Int, snapshots: Snapshots
  ) async throws -> Outcome? {
    guard Self.carries(mutation) else { return nil }
    await lock()
    defer { unlock() }
    var attempt = 0
    while true {
      attempt += 1
      var state = try await current(snapshots)
      let prepared: (TenancyChange?, ResourceRecord?)?
      do {
        prepared = try prepare(mutation, in: state)
      } catch  where idempotencyKey != nil {
        // A retry of a change already made would be refused here (its name is taken, its
        // version has moved): the store answers it with the first answer instead.
        return nil
      }
      guard let (change, record) = prepared, let change else { return nil }
      if dryRun {
        // Checked on a copy, which is dropped.
        switch state.checked.applying(change) {
        case .success(let changed): try runTests(for: change, in: changed)
        case .failure(let refusal): throw problems(refusal, change, state, writing: record)
        }
        let written = record.map { [$0] } ?? [nil]
        return Outcome(
          commit: Commit(revision: state.revision, records: written, replayed: false),
          records: state.resources <= reportLimit ? after(record, mutation, in: state) : nil)
      }
      // Checked in place: the state is then held once, so nothing is copied.
      self.state = nil
      do {
        try state.checked.apply(change)
      } catch let refusal {
        self.state = state
        throw problems(refusal, change, state, writing: record)
      }
      // State is now the new tenancy; any failure below drops it (it is read again next time).
      try runTests(for: change, in: state.checked)
      let commit: Commit
      do {
        commit = try await store.commit(
          [mutation], actor: actor, idempotencyKey: idempotencyKey, after: state.revision)
      } catch let error as StoreError {
        // Another replica committed first: check again against what it left.
        guard error.code == .staleRevision, attempt < 3 else { throw ZPRServer.apiError(error) }
        continue
      }
      if commit.replayed { return Outcome(commit: commit, records: nil) }
      state.revision = commit.revision
      Self.record(mutation, written: commit.records.first ?? nil, in: &state)
      self.state = state
      return Outcome(
        commit: commit,
        records: state.resources <= reportLimit ? Array(state.records.values) : nil)
    }
  }

  // MARK: The state

  /// The state at the store's revision: kept, or read again (after another replica's commit,
  /// or a write that failed after changing it).
  private func current(_ snapshots: Snapshots) async throws -> State {
    let revision: Int64
    do {
      revision = try await store.revision()
    } catch let error as StoreError {
      throw ZPRServer.apiError(error)
    }
    if let state, state.revision == revision { return state }
    let snapshot = try await snapshots.snapshot()
    var records: [String: ResourceRecord] = [:]
    var names: [String: String] = [:]
    for record in snapshot.records {
      records[record.id] = record
      names[Self.nameKey(record.kind, record.parent, record.name)] = record.id
    }
    return State(
      revision: snapshot.revision, records: records, names: names,
      checked: CheckedTenancy(snapshot.tenancy),
      enabled: snapshot.records.contains { $0.kind == ResourceSchema.configurationKind },
      resources: snapshot.tenancy.resources.count)
  }

  private func lock() async {
    while writing { await withCheckedContinuation { waiting.append($0) } }
    writing = true
  }

  private func unlock() {
    writing = false
    if !waiting.isEmpty { waiting.removeFirst().resume() }
  }

  static func nameKey(_ kind: String, _ parent: String?, _ name: String) -> String {
    "\(kind)|\(ResourceRecord.nameKey(parent ?? ""))|\(ResourceRecord.nameKey(name))"
  }

  // MARK: One mutation

  /// The kinds whose single changes this path carries: all but namespaces, attributes and the
  /// ZPR configuration (which go through the catalog's operations, or hold the whole set-up),
  /// groups and IAM policies.
  private static func carries(_ mutation: Mutation) -> Bool {
    guard let schema = ResourceSchema.named(mutation.kind) else { return false }
    // Changes to who may change what are checked with the whole access picture (lockout,
    // escalation), so they take the whole check too.
    return ![
      ResourceSchema.namespace.kind, ResourceSchema.attribute.kind, ResourceSchema.group.kind,
      ResourceSchema.iamPolicy.kind,
    ].contains(schema.kind)
  }

  /// The change a mutation makes, and the record as it would be written (nil for a delete);
  /// nil when this path does not carry it. Throws what the store would: a missing record, a
  /// stale version, a name taken.
  private func prepare(_ mutation: Mutation, in state: State) throws -> (
    TenancyChange?, ResourceRecord?
  )? {
    switch mutation {
    case .create(let kind, let name, let parent, let lifecycleState, let body):
      let schema = ResourceSchema.named(kind)!
      guard state.names[Self.nameKey(kind, parent, name)] == nil else {
        throw ZPRServer.apiError(StoreError.duplicateName)
      }
      let record = ResourceRecord(
        kind: kind, id: "", name: name, parent: parent, lifecycleState: lifecycleState,
        body: body, revision: state.revision + 1)
      try admit(schema, record, in: state)
      // Resources of every kind share one set of names: a clash with another kind's is the
      // whole check's to answer (the change would otherwise replace that one).
      if Self.takenByAnotherKind(name, kind, in: state) { return nil }
      return (try upsert(schema, record, replacing: nil, in: state), record)
    case .update(let kind, let id, let expected, let name, let lifecycleState, let body):
      let schema = ResourceSchema.named(kind)!
      let old = try existing(kind, id, expected, in: state)
      var record = old
      if let name { record.name = name }
      if let lifecycleState { record.lifecycleState = lifecycleState }
      if let body { record.body = body }
      let renamed = ResourceRecord.nameKey(record.name) != ResourceRecord.nameKey(old.name)
      if renamed {
        // Only a resource keeps its place when renamed; other renames take the whole check.
        guard ResourceSchema.owners.contains(where: { $0.kind == kind }) else { return nil }
        guard state.names[Self.nameKey(kind, record.parent, record.name)] == nil else {
          throw ZPRServer.apiError(StoreError.duplicateName)
        }
        if Self.takenByAnotherKind(record.name, kind, in: state) { return nil }
      }
      try admit(schema, record, in: state)
      return (try upsert(schema, record, replacing: renamed ? old.name : nil, in: state), record)
    case .delete(let kind, let id, let expected):
      let schema = ResourceSchema.named(kind)!
      let old = try existing(kind, id, expected, in: state)
      // The model removes a VCN with its parts, the store only the VCN's record: a VCN that
      // still holds parts is the whole check's to refuse (their records would be left behind).
      if schema.kind == ResourceSchema.vcn.kind,
        let vcn = state.checked.tenancy.vcn(named: old.name),
        !(vcn.subnets.isEmpty && vcn.routeTables.isEmpty && vcn.securityLists.isEmpty
          && vcn.networkSecurityGroups.isEmpty && vcn.localPeeringGateways.isEmpty)
      {
        return nil
      }
      return (TenancyFile.remove(schema, name: old.name, parent: old.parent), nil)
    }
  }

  /// Whether a resource of another kind (instance, database, ...) has the name.
  private static func takenByAnotherKind(_ name: String, _ kind: String, in state: State)
    -> Bool
  {
    ResourceSchema.owners.contains {
      $0.kind != kind && state.names[nameKey($0.kind, nil, name)] != nil
    }
  }

  /// The record an update or delete is about, at the version it expects.
  private func existing(_ kind: String, _ id: String, _ expected: Int64?, in state: State) throws
    -> ResourceRecord
  {
    guard let record = state.records[id], record.kind == kind else {
      throw ZPRServer.apiError(
        StoreError(.notFound, "there is no \(kind) with id '\(id)': list them to find it"))
    }
    if let expected, record.version != expected {
      throw ZPRServer.apiError(
        StoreError(
          .versionMismatch,
          "\(kind) '\(record.name)' is at version \(record.version), not \(expected): someone "
            + "changed it since you read it; read it again and retry"))
    }
    return record
  }

  /// The check of a tenancy's set-up that is not the model's: ZPR enabled before any policy.
  private func admit(_ schema: ResourceSchema, _ record: ResourceRecord, in state: State) throws {
    if schema.kind == ResourceSchema.policy.kind, !state.enabled {
      throw Self.refusal([.notEnabled(record)])
    }
  }

  /// The change that puts a record's element in the tenancy; refuses an element of the wrong
  /// shape, or a part whose VCN does not exist, as the whole check would.
  private func upsert(
    _ schema: ResourceSchema, _ record: ResourceRecord, replacing: String?, in state: State
  ) throws -> TenancyChange? {
    if let parent = schema.parent,
      state.names[Self.nameKey(parent.kind, nil, record.parent ?? "")] == nil
    {
      let parentLabel = ResourceSchema.named(parent.kind)!.label
      let message =
        "\(schema.label) '\(record.name)' belongs to \(parentLabel) '\(record.parent ?? "")', "
        + "which does not exist: create it first, or set '\(parent.field)' to one that exists"
      throw Self.refusal(
        [
          TenancyDocument.Problem(
            severity: .error, code: "ZPT002", message: message, record: record)
        ])
    }
    let (change, diagnostics) = TenancyFile.upsert(
      schema, name: record.name, parent: record.parent, json: record.body, replacing: replacing)
    // An element of the wrong shape is refused as the whole check refuses it (which also
    // names what the part it could read breaks): rare enough to take that path.
    guard !diagnostics.contains(where: { $0.severity == .error }) else { return nil }
    return change
  }

  /// The records after a dry run's change, for its report.
  private func after(_ record: ResourceRecord?, _ mutation: Mutation, in state: State)
    -> [ResourceRecord]
  {
    var records = state.records
    switch mutation {
    case .create:
      if var record {
        record.id = "\(record.kind)-dry-run"
        records[record.id] = record
      }
    case .update(_, let id, _, _, _, _): records[id] = record
    case .delete(_, let id, _): records[id] = nil
    }
    return Array(records.values)
  }

  /// Keeps what a commit wrote in the state's records and names.
  private static func record(_ mutation: Mutation, written: ResourceRecord?, in state: inout State)
  {
    switch mutation {
    case .create(let kind, _, _, _, _):
      guard let written else { return }
      state.records[written.id] = written
      state.names[nameKey(kind, written.parent, written.name)] = written.id
    case .update(_, let id, _, _, _, _):
      guard let written, let old = state.records[id] else { return }
      state.names[nameKey(old.kind, old.parent, old.name)] = nil
      state.records[id] = written
      state.names[nameKey(written.kind, written.parent, written.name)] = id
    case .delete(_, let id, _):
      guard let old = state.records.removeValue(forKey: id) else { return }
      state.names[nameKey(old.kind, old.parent, old.name)] = nil
    }
    state.resources = state.checked.tenancy.resources.count
  }

  // MARK: Answers

  /// A refusal as the whole check answers it: each problem named by the record it is about.
  private func problems(
    _ refusal: ChangeRefusal, _ change: TenancyChange, _ state: State, writing: ResourceRecord?
  ) -> APIError {
    switch refusal {
    case .inapplicable(let error):
      return APIError(.conflict, error.code.rawValue, error.message)
    case .inconsistent(let errors):
      // The problems' paths are in the changed tenancy (a refusal is rare: copying is fine).
      var tenancy = state.checked.tenancy
      try? tenancy.apply(change)
      let owners = RecordPaths(tenancy: tenancy, state: state, writing: writing)
      var problems = errors.issues.map {
        TenancyDocument.Problem(
          severity: $0.severity, code: $0.code.rawValue, message: $0.message,
          record: owners.record(at: $0.path))
      }
      // A statement's problems in the order they stand in it, as a file lists them.
      var statements: [Diagnostic] = []
      for diagnostic in errors.statements {
        let start = statements.lastIndex { $0.path != diagnostic.path }.map { $0 + 1 } ?? 0
        let at =
          statements[start...].firstIndex { $0.range.lowerBound > diagnostic.range.lowerBound }
          ?? statements.endIndex
        statements.insert(diagnostic, at: at)
      }
      problems += statements.map {
        TenancyDocument.Problem(
          severity: $0.severity, code: $0.code.rawValue, message: $0.message,
          suggestion: $0.suggestion, record: owners.record(at: $0.path ?? ""), path: $0.path)
      }
      return Self.refusal(problems)
    }
  }

  /// The refusal of a change that would leave these errors (see ``CheckedCommit``).
  static func refusal(_ errors: [TenancyDocument.Problem]) -> APIError {
    let shapeOnly = errors.allSatisfy { $0.code.hasPrefix("ZPT1") }
    return APIError(
      shapeOnly ? .badRequest : .unprocessableContent, "ZPR-API-012",
      "the change would leave the tenancy with \(errors.count == 1 ? "an error" : "\(errors.count) errors"): "
        + "\(errors[0].message) (see details; nothing was changed)",
      details: errors.map(\.detail))
  }

  /// Runs the policy tests a change can affect, on the part of the tenancy they are about: a
  /// flow's answer depends on its two ends, the network and the policies, never on other
  /// resources. A change to one resource affects the tests that name it; one to the network or
  /// the policies, every test; one to IAM or compartments, none.
  private func runTests(for change: TenancyChange, in checked: CheckedTenancy) throws {
    let tenancy = checked.tenancy
    var tests: [PolicyTest]
    switch change {
    case .upsertResource(let resource, let replacing):
      let names = Set([resource.name] + (replacing.map { [$0] } ?? []))
      tests = tenancy.tests.filter {
        names.contains(Self.resource(of: $0.from)) || names.contains(Self.resource(of: $0.to))
      }
    case .upsertTest(let test): tests = tenancy.tests.filter { $0 == test }
    case .removeResource, .removeTest, .upsertCompartment, .removeCompartment:
      tests = []
    default: tests = tenancy.tests
    }
    guard !tests.isEmpty else { return }
    var scoped = tenancy
    scoped.tests = tests
    let ends = Set(tests.flatMap { [Self.resource(of: $0.from), Self.resource(of: $0.to)] })
    // An end given as an address may be any resource's: such tests see the whole tenancy.
    if !ends.contains(where: { IPAddress($0) != nil }) {
      scoped.resources = checked.resources(named: ends)
    }
    try CheckedCommit.requirePassing(PathAnalyzer(scoped).runTests())
  }

  /// The resource a test's end names (`web-1` of `web-1/0`).
  private static func resource(of end: String) -> String {
    guard IPAddress(end) == nil, let slash = end.lastIndex(of: "/"),
      end[end.index(after: slash)...].allSatisfy(\.isNumber)
    else { return end }
    return String(end[..<slash])
  }
}

/// Finds the record a model path (`resources[2].vnics[0]`, `vcns[1].subnets[0]`) is about.
private struct RecordPaths {
  let tenancy: Tenancy
  let state: LiveTenancy.State
  /// The record being written (new ones are not among the state's records yet).
  let writing: ResourceRecord?

  func record(at path: String) -> ResourceRecord? {
    let parts = path.split(separator: ".").map(String.init)
    guard let (section, index) = Self.indexed(parts.first ?? "") else { return nil }
    func find(_ kind: String, _ parent: String?, _ name: String) -> ResourceRecord? {
      let key = LiveTenancy.nameKey(kind, parent, name)
      if let writing, LiveTenancy.nameKey(writing.kind, writing.parent, writing.name) == key {
        return writing
      }
      return state.names[key].flatMap { state.records[$0] }
    }
    switch section {
    case "resources":
      guard index < tenancy.resources.count else { return nil }
      let name = tenancy.resources[index].name
      return ResourceSchema.owners.lazy.compactMap { find($0.kind, nil, name) }.first
    case "vcns":
      guard index < tenancy.vcns.count else { return nil }
      let vcn = tenancy.vcns[index]
      if parts.count > 1, let (part, position) = Self.indexed(parts[1]),
        let schema = ResourceSchema.vcnParts.first(where: { $0.section == part })
      {
        let names: [String] =
          switch part {
          case "subnets": vcn.subnets.map(\.name)
          case "routeTables": vcn.routeTables.map(\.name)
          case "securityLists": vcn.securityLists.map(\.name)
          case "networkSecurityGroups": vcn.networkSecurityGroups.map(\.name)
          default: vcn.localPeeringGateways.map(\.name)
          }
        if position < names.count, let found = find(schema.kind, vcn.name, names[position]) {
          return found
        }
      }
      return find(ResourceSchema.vcn.kind, nil, vcn.name)
    case "compartments":
      return index < tenancy.compartments.count
        ? find(ResourceSchema.compartment.kind, nil, tenancy.compartments[index].name) : nil
    case "drgs":
      return index < tenancy.drgs.count
        ? find(ResourceSchema.drg.kind, nil, tenancy.drgs[index].name) : nil
    case "policies":
      return index < tenancy.policies.count
        ? find(ResourceSchema.policy.kind, nil, tenancy.policies[index].name) : nil
    case "tests":
      return index < tenancy.tests.count
        ? tenancy.tests[index].name.flatMap { find(ResourceSchema.test.kind, nil, $0) } : nil
    case "groups":
      return index < tenancy.groups.count
        ? find(ResourceSchema.group.kind, nil, tenancy.groups[index].name) : nil
    case "iamPolicies":
      return index < tenancy.iamPolicies.count
        ? find(ResourceSchema.iamPolicy.kind, nil, tenancy.iamPolicies[index].name) : nil
    default: return nil
    }
  }

  /// `vcns[3]` as ("vcns", 3).
  private static func indexed(_ segment: String) -> (String, Int)? {
    guard let open = segment.firstIndex(of: "["), segment.hasSuffix("]"),
      let index = Int(segment[segment.index(after: open)..<segment.index(before: segment.endIndex)])
    else { return nil }
    return (String(segment[..<open]), index)
  }
}
