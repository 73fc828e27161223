import Foundation
import Hummingbird
import Logging
import Synchronization
import ZPREngine
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// Every write goes through here: the change commits only if the tenancy it leaves passes the
/// checks of `zpr tenancy check` and every policy test, all inside the store's transaction.
struct CheckedCommit {
  let store: any Store
  /// A further check of the state after the change (that the caller keeps their access).
  var guarding: (@Sendable ([ResourceRecord]) throws -> Void)? = nil
  /// Who makes the change, and the snapshots to tell what they may see: a refusal says
  /// nothing about resources the caller may not inspect.
  var caller: Caller? = nil
  var snapshots: Snapshots? = nil

  /// Check the change and answer what it would do, without committing it.
  var dryRun = false

  /// Commits the mutations by `actor`, or refuses them with the problems they cause.
  func commit(_ mutations: [Mutation], actor: String, idempotencyKey: String?) async throws
    -> Commit
  {
    try await commitReporting(mutations, actor: actor, idempotencyKey: idempotencyKey).commit
  }

  /// Commits the mutations (or, in a dry run, only checks them) and answers what they change
  /// in access and which warnings they bring, for a caller who may see the whole tenancy.
  func commitReporting(_ mutations: [Mutation], actor: String, idempotencyKey: String?)
    async throws -> (commit: Commit, report: WriteReport)
  {
    // One element's change is checked against the live tenancy (what it touches); the others,
    // and changes to who may change what, against the whole tenancy they leave.
    if let snapshots, snapshots.incrementalWrites, mutations.count == 1, guarding == nil {
      do {
        if let answer = try await live(mutations[0], snapshots, actor, idempotencyKey) {
          return answer
        }
      } catch let error as APIError {
        guard let caller else { throw error }
        throw try await Redaction.redact(error, for: caller, snapshots: snapshots)
      }
    }
    let guarding = guarding
    let before = try await snapshots?.snapshot()
    let visible: Bool
    if let caller, let snapshots {
      visible = try await snapshots.seesEverything(caller)
    } else {
      visible = false
    }
    let report = Mutex(WriteReport(visible: visible, dryRun: dryRun, before: before))
    let dryRun = dryRun
    let commit: Commit
    do {
      commit = try await ZPRServer.mapped {
        try await store.commit(
          mutations, actor: actor, idempotencyKey: dryRun ? nil : idempotencyKey,
          validate: { records in
            let (tenancy, warnings) = try Self.validate(records)
            try guarding?(records)
            report.withLock {
              $0.after = (tenancy, warnings)
              $0.records = records
            }
            if dryRun { throw DryRun(records: records) }
          })
      }
    } catch let dry as DryRun {
      let written = Self.written(mutations, in: dry.records)
      var done = report.withLock { $0 }
      done.limit(to: (before?.revision ?? 0) + 1)
      return (Commit(revision: before?.revision ?? 0, records: written, replayed: false), done)
    } catch let error as APIError {
      guard let caller, let snapshots else { throw error }
      throw try await Redaction.redact(error, for: caller, snapshots: snapshots)
    }
    var done = report.withLock { $0 }
    if !commit.replayed, let snapshots, let after = done.after {
      // The state the check saw is the new revision's: the next write starts from it.
      await snapshots.install(
        Snapshots.Snapshot(
          revision: commit.revision, records: done.records, tenancy: after.tenancy,
          warnings: after.warnings))
    }
    Self.logger.info(
      commit.replayed ? "replayed an earlier commit" : "committed",
      metadata: [
        "revision": "\(commit.revision)", "actor": "\(actor)", "changes": "\(mutations.count)",
        "kinds": "\(Set(mutations.map(\.kind)).sorted().joined(separator: ","))",
      ])
    done.limit(to: commit.revision)
    return (commit, done)
  }

  /// One mutation through the live tenancy, with its report when the tenancy is small enough
  /// to compare whole (``WriteReport/limit`` resources); nil when that path does not carry it.
  private func live(
    _ mutation: Mutation, _ snapshots: Snapshots, _ actor: String, _ idempotencyKey: String?
  ) async throws -> (commit: Commit, report: WriteReport)? {
    let small = await snapshots.live.holds(atMost: WriteReport.limit)
    let before = small ? try await snapshots.snapshot() : nil
    var visible = false
    if small, let caller { visible = try await snapshots.seesEverything(caller) }
    guard
      let outcome = try await snapshots.live.commit(
        mutation, actor: actor, idempotencyKey: idempotencyKey, dryRun: dryRun,
        reportLimit: small ? WriteReport.limit : -1, snapshots: snapshots)
    else { return nil }
    var report = WriteReport(visible: visible, dryRun: dryRun, before: before)
    if outcome.records == nil, !outcome.commit.replayed { report.skipped = WriteReport.tooLarge }
    if let records = outcome.records {
      let (tenancy, problems) = TenancyDocument(records: records).load()
      let warnings = problems.filter { $0.severity == .warning }
      report.after = (tenancy, warnings)
      if !dryRun {
        await snapshots.install(
          Snapshots.Snapshot(
            revision: outcome.commit.revision, records: records, tenancy: tenancy,
            warnings: warnings))
      }
    }
    report.limit(to: dryRun ? outcome.commit.revision + 1 : outcome.commit.revision)
    if !dryRun {
      Self.logger.info(
        outcome.commit.replayed ? "replayed an earlier commit" : "committed",
        metadata: [
          "revision": "\(outcome.commit.revision)", "actor": "\(actor)", "changes": "1",
          "kinds": "\(mutation.kind)",
        ])
    }
    return (outcome.commit, report)
  }

  /// Stops a dry run's transaction once the change is checked, with the records it would leave.
  private struct DryRun: Error {
    var records: [ResourceRecord]
  }

  /// The records a change would write, as a commit lists them (nil for a delete): found in the
  /// state it leaves by kind and id, or for a create by kind, name and parent.
  private static func written(_ mutations: [Mutation], in records: [ResourceRecord])
    -> [ResourceRecord?]
  {
    mutations.map { mutation in
      switch mutation {
      case .create(let kind, let name, let parent, _, _):
        records.first { $0.kind == kind && $0.name == name && $0.parent == parent }
      case .update(let kind, let id, _, _, _, _): records.first { $0.kind == kind && $0.id == id }
      case .delete: nil
      }
    }
  }

  static let logger = Logger(label: "zpr.store")

  /// Refuses a state with errors or failing policy tests; answers the tenancy it makes and its
  /// warnings.
  @discardableResult
  static func validate(_ records: [ResourceRecord]) throws -> (Tenancy, [TenancyDocument.Problem]) {
    try requireIAMPolicies(records.lazy.filter { $0.kind == ResourceSchema.iamPolicy.kind }.count)
    let document = TenancyDocument(records: records)
    let (tenancy, problems) = document.load()
    var errors = problems.filter { $0.severity == .error }
    if !document.enabled,
      let policy = records.first(where: { $0.kind == ResourceSchema.policy.kind })
    {
      errors.append(.notEnabled(policy))
    }
    guard errors.isEmpty else { throw LiveTenancy.refusal(errors) }
    let warnings = problems.filter { $0.severity == .warning }
    guard !tenancy.tests.isEmpty else { return (tenancy, warnings) }
    try requirePassing(PathAnalyzer(tenancy).runTests())
    return (tenancy, warnings)
  }

  /// Refuses a whole tenancy (as `apply` makes it) with errors, too many IAM policies, or
  /// failing policy tests: the checks ``validate(_:)-(ResourceRecord)`` makes of records, on
  /// the tenancy itself.
  static func validate(_ tenancy: Tenancy) throws {
    try requireIAMPolicies(tenancy.iamPolicies.count)
    let errors = tenancy.errors()
    let problems =
      errors.issues.map {
        TenancyDocument.Problem(
          severity: .error, code: $0.code.rawValue, message: "\($0.path): \($0.message)")
      }
      + errors.statements.map {
        TenancyDocument.Problem(
          severity: .error, code: $0.code.rawValue, message: $0.message,
          suggestion: $0.suggestion)
      }
    guard problems.isEmpty else { throw LiveTenancy.refusal(problems) }
    guard !tenancy.tests.isEmpty else { return }
    try requirePassing(PathAnalyzer(tenancy).runTests())
  }

  /// Commits mutations checked against revision `revision` (by ``validate(_:)-(Tenancy)``),
  /// only if the store is still there; otherwise refuses them (ZPR-STORE-007: plan again).
  func commit(
    _ mutations: [Mutation], actor: String, idempotencyKey: String?, after revision: Int64
  ) async throws -> Commit {
    let commit: Commit
    do {
      commit = try await ZPRServer.mapped {
        try await store.commit(
          mutations, actor: actor, idempotencyKey: idempotencyKey, after: revision)
      }
    } catch let error as APIError {
      guard let caller, let snapshots else { throw error }
      throw try await Redaction.redact(error, for: caller, snapshots: snapshots)
    }
    Self.logger.info(
      commit.replayed ? "replayed an earlier commit" : "committed",
      metadata: [
        "revision": "\(commit.revision)", "actor": "\(actor)", "changes": "\(mutations.count)",
        "kinds": "\(Set(mutations.map(\.kind)).sorted().joined(separator: ","))",
      ])
    return commit
  }

  /// Refuses a tenancy of more IAM policies than a tenancy holds (ZPR-API-029).
  static func requireIAMPolicies(_ count: Int) throws {
    let limit = IAMLimits.standard.policiesPerTenancy
    guard count <= limit else {
      throw APIError(
        .unprocessableContent, "ZPR-API-029",
        "the tenancy would hold \(count) IAM policies; it holds at most \(limit): merge some "
          + "(each holds up to \(IAMLimits.standard.statementsPerPolicy) statements)")
    }
  }

  /// Refuses a change after which policy tests fail, naming them.
  static func requirePassing(_ results: [PolicyTestResult]) throws {
    let failures = results.filter { !$0.passed }
    guard failures.isEmpty else {
      func label(_ result: PolicyTestResult) -> String {
        result.test.name ?? "\(result.test.from) -> \(result.test.to)"
      }
      throw APIError(
        .unprocessableContent, "ZPR-API-013",
        "the change would break \(failures.count == 1 ? "a policy test" : "\(failures.count) policy tests"): "
          + "'\(label(failures[0]))' \(failures[0].failure ?? "fails"); change the policies, or the "
          + "test if the new behaviour is wanted (nothing was changed)",
        details: failures.map { ["test": label($0), "failure": $0.failure ?? ""] })
    }
  }
}

/// The tenancy at the store's current revision, loaded once per revision and shared by the
/// reads that need all of it (analysis, matrix, what-if, export, lifecycle checks).
actor Snapshots {
  let store: any Store
  private var current: Snapshot?
  /// The tenancy single writes are checked against.
  nonisolated let live: LiveTenancy
  /// Whether single writes are checked against it (else against the whole tenancy).
  nonisolated let incrementalWrites: Bool

  struct Snapshot: Sendable {
    var revision: Int64
    var records: [ResourceRecord]
    var tenancy: Tenancy
    /// The tenancy's warnings (a change answers with those it adds).
    var warnings: [TenancyDocument.Problem]
    /// Built on first use, with the time compiling took.
    var analyzer: PathAnalyzer?
    var compileTime: Duration = .zero
  }

  init(store: any Store, incrementalWrites: Bool = true) {
    self.store = store
    live = LiveTenancy(store: store)
    self.incrementalWrites = incrementalWrites
  }

  /// Keeps the state a commit left as the latest snapshot, unless a newer one is kept.
  func install(_ snapshot: Snapshot) {
    guard (current?.revision ?? -1) < snapshot.revision else { return }
    var snapshot = snapshot
    // In the store's order, as a snapshot read from it has them.
    snapshot.records.sort { ($0.kind, $0.id) < ($1.kind, $1.id) }
    current = snapshot
  }

  /// The tenancy as of the latest revision.
  func snapshot() async throws -> Snapshot {
    while true {
      let revision = try await store.revision()
      if let current, current.revision == revision { return current }
      let records = try await store.allRecords()
      // A commit in between would make the records newer than the revision: read again.
      guard try await store.revision() == revision else { continue }
      let (tenancy, problems) = TenancyDocument(records: records).load()
      let snapshot = Snapshot(
        revision: revision, records: records, tenancy: tenancy,
        warnings: problems.filter { $0.severity == .warning })
      current = snapshot
      return snapshot
    }
  }

  /// What authorization needs, as of the latest revision: read from the few kinds it needs,
  /// once per revision.
  func access() async throws -> Access {
    while true {
      let revision = try await store.revision()
      if let cached = access, cached.revision == revision { return cached.access }
      var records: [ResourceRecord] = []
      for kind in Access.kinds {
        var query = ListQuery(limit: 1000)
        while true {
          let page = try await store.records(kind: kind, query)
          records += page
          guard page.count == query.limit, let last = page.last else { break }
          query.after = last.id
        }
      }
      guard try await store.revision() == revision else { continue }
      let built = Access(records: records)
      access = (revision, built)
      return built
    }
  }

  private var access: (revision: Int64, access: Access)?

  /// Whether a caller may inspect every record of the latest revision (the whole-tenancy views
  /// answer only such callers), kept per revision.
  func seesEverything(_ caller: Caller) async throws -> Bool {
    let snapshot = try await snapshot()
    let access = try await access()
    let key = "\(caller.user)\u{0}\(access.groups(of: caller).joined(separator: "\u{0}"))"
    if visibility.revision != snapshot.revision { visibility = (snapshot.revision, [:]) }
    if let known = visibility.callers[key] { return known }
    let sees = snapshot.records.allSatisfy { Authorizer.inspects(caller, $0, in: access) }
    if visibility.callers.count < 10_000 { visibility.callers[key] = sees }
    return sees
  }

  private var visibility: (revision: Int64, callers: [String: Bool]) = (-1, [:])

  /// The analyzer (compiled policy) of the latest revision.
  func analyzer() async throws -> (PathAnalyzer, Tenancy) {
    let (analyzer, tenancy, _, _) = try await compiled()
    return (analyzer, tenancy)
  }

  /// The analyzer of the latest revision, its tenancy, the revision and how long compiling
  /// took.
  func compiled() async throws -> (PathAnalyzer, Tenancy, Int64, Duration) {
    var snapshot = try await snapshot()
    if let analyzer = snapshot.analyzer {
      return (analyzer, snapshot.tenancy, snapshot.revision, snapshot.compileTime)
    }
    let start = ContinuousClock.now
    let analyzer = PathAnalyzer(snapshot.tenancy)
    snapshot.compileTime = ContinuousClock.now - start
    snapshot.analyzer = analyzer
    if current?.revision == snapshot.revision { current = snapshot }
    return (analyzer, snapshot.tenancy, snapshot.revision, snapshot.compileTime)
  }
}
