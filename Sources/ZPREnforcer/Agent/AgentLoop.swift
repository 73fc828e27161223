public import ZPRModel

/// Where an agent gets its tenancy and tells what it enforces: the zpr server, reached by the
/// executable through its REST client, or a fake in tests.
public protocol AgentControlPlane: Sendable {
  /// The tenancy to enforce and the revision it is at.
  func tenancy() async throws -> (tenancy: Tenancy, revision: Int64)
  /// Tells the control plane what this agent enforces.
  func report(_ report: AgentReport) async throws
  /// The latest revision once it is past `revision`, or the current one after a while (a long
  /// poll): the agent then checks that the kernel still holds its ruleset.
  func waitForRevision(after revision: Int64) async throws -> Int64
}

/// What an agent tells its control plane: the revision it enforces, how, and what its host
/// denied lately.
public struct AgentReport: Hashable, Sendable {
  /// The state of the agent's enforcement.
  public enum Status: String, Hashable, Sendable {
    /// A revision's ruleset is in force.
    case enforcing
    /// No revision was enforced yet: a protected host lets nothing through.
    case failClosed
    /// The last step failed; the last ruleset stays in force (fail static).
    case error
  }

  /// The revision whose ruleset is in force (0: none yet).
  public var revision: Int64
  /// How it is enforced.
  public var status: Status
  /// The statements of the ruleset in force.
  public var statements: Int
  /// The map elements of the ruleset in force.
  public var elements: Int
  /// The established connections the last new ruleset cut.
  public var cut: Int
  /// The flows the host denied since the last report.
  public var denied: [DeniedFlow]

  /// A report.
  public init(
    revision: Int64, status: Status, statements: Int = 0, elements: Int = 0, cut: Int = 0,
    denied: [DeniedFlow] = []
  ) {
    self.revision = revision
    self.status = status
    self.statements = statements
    self.elements = elements
    self.cut = cut
    self.denied = denied
  }
}

/// What an agent's loop did, for its log.
public enum AgentEvent: Sendable {
  /// A revision's ruleset was enforced: applied when new, or already in force.
  case enforced(
    revision: Int64, outcome: Reconciler.Outcome, ruleset: HostRuleset, cut: Int)
  /// The kernel's table had drifted (someone changed or removed it) and was put back.
  case repaired
  /// A step failed: the last ruleset stays in force, and the loop retries after the interval.
  case failed(any Error)
}

/// An agent's loop: waits for each new revision of the control plane, renders the host's
/// ruleset, enforces it through the reconciler, and reports what it enforces. Between
/// revisions it checks that the kernel still holds the ruleset. When a step fails (the control
/// plane cannot be reached, the tenancy does not render, the firewall refuses the ruleset) the
/// last ruleset stays in force (fail static), the failure is reported, and the loop waits the
/// interval before it tries again.
///
/// Enforce ``Reconciler/failClosed(host:)`` first: until the first revision, a protected host
/// should let nothing through.
public actor AgentLoop {
  /// The VNIC this agent enforces for: a resource's name or `RESOURCE/N`.
  public let host: String
  /// Keeps the firewall equal to the ruleset.
  public let reconciler: Reconciler
  /// Where the tenancy comes from and reports go.
  public let controlPlane: any AgentControlPlane
  /// How long to wait after a failed step.
  public let interval: Duration
  private let sleep: @Sendable (Duration) async throws -> Void
  private let log: @Sendable (AgentEvent) -> Void

  /// The revision whose ruleset is in force; nil before the first.
  public private(set) var enforced: Int64?
  /// The latest revision the loop has read.
  private var seen: Int64 = -1

  /// A loop for `host`. `sleep` waits (throwing when cancelled; tests pass their own), `log`
  /// hears what the loop does.
  public init(
    host: String, reconciler: Reconciler, controlPlane: any AgentControlPlane,
    interval: Duration,
    sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
    log: @escaping @Sendable (AgentEvent) -> Void = { _ in }
  ) {
    self.host = host
    self.reconciler = reconciler
    self.controlPlane = controlPlane
    self.interval = interval
    self.sleep = sleep
    self.log = log
  }

  /// Runs steps until the task is cancelled.
  public func run() async {
    while !Task.isCancelled {
      guard await step() else { return }
    }
  }

  /// One step: waits for the next revision, enforces it (or checks the one in force), and
  /// reports. After a failure it reports it and waits the interval. False when it was
  /// cancelled.
  @discardableResult
  public func step() async -> Bool {
    do {
      let latest = try await controlPlane.waitForRevision(after: max(seen, 0))
      if latest != enforced {
        let (tenancy, revision) = try await controlPlane.tenancy()
        let ruleset = try EnforcedTenancy(tenancy).ruleset(for: host, revision: revision)
        let outcome = try await reconciler.enforce(ruleset)
        enforced = revision
        seen = revision
        log(
          .enforced(
            revision: revision, outcome: outcome, ruleset: ruleset, cut: await reconciler.cut))
      } else if let current = await reconciler.current {
        // Nothing new: check that the kernel still holds it.
        if try await reconciler.enforce(current) == .repaired { log(.repaired) }
      }
      try await controlPlane.report(await report(.enforcing))
      return true
    } catch {
      if Task.isCancelled || error is CancellationError { return false }
      log(.failed(error))
      try? await controlPlane.report(await report(enforced == nil ? .failClosed : .error))
      do {
        try await sleep(interval)
      } catch { return false }
      return !Task.isCancelled
    }
  }

  /// What is in force now, with the flows the host denied lately.
  private func report(_ status: AgentReport.Status) async -> AgentReport {
    let current = await reconciler.current
    let denied = (try? await reconciler.backend.observations().denied) ?? []
    return AgentReport(
      revision: enforced ?? 0, status: status, statements: current?.statementCount ?? 0,
      elements: current?.elementCount ?? 0, cut: await reconciler.cut, denied: denied)
  }
}
