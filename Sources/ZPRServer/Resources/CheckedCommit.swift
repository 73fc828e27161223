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
      return (
        Commit(revision: before?.revision ?? 0, records: written, replayed: false),
        report.withLock { $0 }
      )
    } catch let error as APIError {
      guard let caller, let snapshots else { throw error }
      throw try await Redaction.redact(error, for: caller, snapshots: snapshots)
    }
    let done = report.withLock { $0 }
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
    return (commit, done)
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
    let policies = records.lazy.filter { $0.kind == ResourceSchema.iamPolicy.kind }.count
    let limit = IAMLimits.standard.policiesPerTenancy
    guard policies <= limit else {
      throw APIError(
        .unprocessableContent, "ZPR-API-029",
        "the tenancy would hold \(policies) IAM policies; it holds at most \(limit): merge some "
          + "(each holds up to \(IAMLimits.standard.statementsPerPolicy) statements)")
    }
    let document = TenancyDocument(records: records)
    let (tenancy, problems) = document.load()
    var errors = problems.filter { $0.severity == .error }
    if !document.enabled,
      let policy = records.first(where: { $0.kind == ResourceSchema.policy.kind })
    {
      errors.append(
        .init(
          severity: .error, code: "ZPR-API-014",
          message:
            "ZPR is not enabled, so there can be no ZPR policies: enable it first "
            + "(POST /v1/zprConfiguration/actions/enable, or `zpr apply`)", record: policy))
    }
    guard errors.isEmpty else {
      // Values of the wrong shape are a bad request; a well-formed change that leaves the
      // tenancy inconsistent cannot be processed.
      let shapeOnly = errors.allSatisfy { $0.code.hasPrefix("ZPT1") }
      throw APIError(
        shapeOnly ? .badRequest : .unprocessableContent, "ZPR-API-012",
        "the change would leave the tenancy with \(errors.count == 1 ? "an error" : "\(errors.count) errors"): "
          + "\(errors[0].message) (see details; nothing was changed)",
        details: errors.map(\.detail))
    }
    let warnings = problems.filter { $0.severity == .warning }
    guard !tenancy.tests.isEmpty else { return (tenancy, warnings) }
    let failures = PathAnalyzer(tenancy).runTests().filter { !$0.passed }
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
    return (tenancy, warnings)
  }
}

/// The tenancy at the store's current revision, loaded once per revision and shared by the
/// reads that need all of it (analysis, matrix, what-if, export, lifecycle checks).
actor Snapshots {
  let store: any Store
  private var current: Snapshot?

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

  init(store: any Store) {
    self.store = store
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
