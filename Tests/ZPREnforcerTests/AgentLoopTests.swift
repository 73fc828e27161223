import Foundation
import Synchronization
import Testing
import ZPREnforcer
import ZPREngine
import ZPRModel
import ZPRPolicy

/// The agent's loop over the fake firewall and a fake control plane: what it applies, what it
/// reports, how it keeps the last good ruleset and retries, and that it stops when cancelled.
/// Time never passes: the loop's sleep is the test's.
@Suite("Agent loop", .timeLimit(.minutes(1)))
struct AgentLoopTests {
  static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples/tenancies/three-tier.yaml").path

  /// The three-tier example, where web-1 reaches app-1 on `port`.
  static func tenancy(port: Int = 8080) throws -> Tenancy {
    let text = try String(contentsOfFile: example, encoding: .utf8)
      .replacingOccurrences(of: "tcp/8080", with: "tcp/\(port)")
      .replacingOccurrences(of: "port: 8080", with: "port: \(port)")
    let loaded = TenancyFile.load(SourceFile(path: example, text: text))
    #expect(!loaded.hasErrors)
    return loaded.tenancy
  }

  /// The rule of app-1's table that lets web-1 in on `port`.
  static func webToApp(_ port: Int) -> String {
    "10.0.1.10 . 10.0.2.10 . tcp . \(port) : jump s0_0"
  }

  /// The report of app-1 enforcing the tenancy with `port` at `revision`.
  static func report(
    _ revision: Int64, _ status: AgentReport.Status = .enforcing, port: Int = 8080
  ) throws -> AgentReport {
    let ruleset = try EnforcedTenancy(try tenancy(port: port)).ruleset(for: "app-1")
    return AgentReport(
      revision: revision, status: status, statements: ruleset.statements.count,
      elements: ruleset.elementCount)
  }

  /// A failure the fake control plane throws while it is unreachable.
  struct Unreachable: Error {}

  /// A control plane in memory: the tenancy at a revision, the reports it was sent, and
  /// whether it can be reached.
  final class FakeControlPlane: AgentControlPlane {
    private struct State {
      var tenancy: Tenancy
      var revision: Int64
      var reachable = true
      var reports: [AgentReport] = []
      var waits: [Int64] = []
    }

    private let state: Mutex<State>
    /// When nothing is new, the watch holds until the task is cancelled (as a long poll
    /// would); otherwise it answers with the current revision at once.
    let holds: Bool
    /// Each report as it arrives.
    let arrivals: AsyncStream<AgentReport>
    private let arrived: AsyncStream<AgentReport>.Continuation

    init(tenancy: Tenancy, revision: Int64 = 1, holds: Bool = false) {
      state = Mutex(State(tenancy: tenancy, revision: revision))
      self.holds = holds
      (arrivals, arrived) = AsyncStream.makeStream()
    }

    var reports: [AgentReport] { state.withLock { $0.reports } }
    /// The revisions the loop waited to be passed.
    var waits: [Int64] { state.withLock { $0.waits } }
    var reachable: Bool {
      get { state.withLock { $0.reachable } }
      set { state.withLock { $0.reachable = newValue } }
    }

    /// A new revision of the tenancy.
    func publish(_ tenancy: Tenancy, revision: Int64) {
      state.withLock {
        $0.tenancy = tenancy
        $0.revision = revision
      }
    }

    func tenancy() async throws -> (tenancy: Tenancy, revision: Int64) {
      try state.withLock {
        guard $0.reachable else { throw Unreachable() }
        return ($0.tenancy, $0.revision)
      }
    }

    func report(_ report: AgentReport) async throws {
      try state.withLock {
        guard $0.reachable else { throw Unreachable() }
        $0.reports.append(report)
      }
      arrived.yield(report)
    }

    func waitForRevision(after revision: Int64) async throws -> Int64 {
      let current = try state.withLock {
        guard $0.reachable else { throw Unreachable() }
        $0.waits.append(revision)
        return $0.revision
      }
      if holds, current <= revision {
        try await Task.sleep(for: .seconds(3600))
      }
      return current
    }
  }

  /// What the loop logged and how long it asked to sleep.
  final class Recorder: Sendable {
    private let state = Mutex<(events: [AgentEvent], sleeps: [Duration])>(([], []))
    var events: [AgentEvent] { state.withLock { $0.events } }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    func log(_ event: AgentEvent) { state.withLock { $0.events.append(event) } }
    func slept(_ duration: Duration) { state.withLock { $0.sleeps.append(duration) } }

    /// The revisions and outcomes of the `enforced` events.
    var enforced: [String] {
      events.compactMap {
        guard case .enforced(let revision, let outcome, _, _) = $0 else { return nil }
        return "\(revision) \(outcome.rawValue)"
      }
    }
    /// The codes of the failures.
    var failures: [String] {
      events.compactMap {
        guard case .failed(let error) = $0 else { return nil }
        return (error as? EnforcerError)?.code.rawValue ?? "\(type(of: error))"
      }
    }
  }

  /// A loop for app-1, fail closed as the agent starts it; its sleeps only record.
  static func loop(
    _ backend: FakeFirewallBackend, _ controlPlane: FakeControlPlane, _ recorder: Recorder,
    sleep: (@Sendable (Duration) async throws -> Void)? = nil
  ) async throws -> AgentLoop {
    let reconciler = Reconciler(backend: backend)
    _ = try await reconciler.failClosed(host: "app-1")
    return AgentLoop(
      host: "app-1", reconciler: reconciler, controlPlane: controlPlane, interval: .seconds(2),
      sleep: sleep ?? { recorder.slept($0) }, log: { recorder.log($0) })
  }

  @Test func appliesTheFirstRevisionAndEachNewOneAndReportsEach() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy())
    let recorder = Recorder()
    let loop = try await Self.loop(backend, controlPlane, recorder)

    #expect(await loop.step())
    let first = try #require(try await backend.listTable())
    #expect(first.contains(Self.webToApp(8080)), "\(first)")
    #expect(await loop.enforced == 1)
    #expect(controlPlane.reports == [try Self.report(1)])
    #expect(controlPlane.reports.first?.statements == 2)

    controlPlane.publish(try Self.tenancy(port: 8081), revision: 2)
    #expect(await loop.step())
    let second = try #require(try await backend.listTable())
    #expect(second.contains(Self.webToApp(8081)), "\(second)")
    #expect(!second.contains(". tcp . 8080 :"))
    #expect(controlPlane.reports == [try Self.report(1), try Self.report(2, port: 8081)])
    #expect(recorder.enforced == ["1 applied", "2 applied"])
    // It waited past nothing first, then past the revision it enforced.
    #expect(controlPlane.waits == [0, 1])
    #expect(recorder.sleeps.isEmpty)
  }

  @Test func checksTheTableBetweenRevisionsAndPutsItBackWhenItDrifted() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy())
    let recorder = Recorder()
    let loop = try await Self.loop(backend, controlPlane, recorder)
    #expect(await loop.step())
    let applies = backend.applied.count

    // Nothing new and nothing changed: nothing is applied, and it reports again.
    #expect(await loop.step())
    #expect(backend.applied.count == applies)
    #expect(controlPlane.reports.map(\.revision) == [1, 1])

    // Someone removes web-1's rule: it is put back.
    backend.tamper { table in
      table.updateMap(named: "ingress4") {
        $0.elements.removeAll { "\($0)" == Self.webToApp(8080) }
      }
    }
    #expect(await loop.step())
    #expect(try await backend.listTable()?.contains(Self.webToApp(8080)) == true)
    #expect(backend.applied.count == applies + 1)
    #expect(recorder.events.contains { if case .repaired = $0 { true } else { false } })
    #expect(controlPlane.reports.last?.status == .enforcing)
  }

  @Test func keepsTheLastGoodRulesetAndReportsTheFailureWhenTheFirewallRefuses() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy())
    let recorder = Recorder()
    let loop = try await Self.loop(backend, controlPlane, recorder)
    #expect(await loop.step())

    backend.fail(with: EnforcerError(.rulesetRefused, "nft refused the ruleset"))
    controlPlane.publish(try Self.tenancy(port: 8081), revision: 2)
    #expect(await loop.step())
    // Revision 1's ruleset stays in force, and the server hears of the failure.
    let table = try #require(try await backend.listTable())
    #expect(table.contains(Self.webToApp(8080)), "\(table)")
    #expect(!table.contains(". tcp . 8081 :"))
    #expect(await loop.enforced == 1)
    #expect(controlPlane.reports == [try Self.report(1), try Self.report(1, .error)])
    #expect(recorder.failures == ["ZPR-ENF-003"])
    #expect(recorder.sleeps == [.seconds(2)])

    // Once the firewall takes it again, the next step applies revision 2.
    backend.fail(with: nil)
    #expect(await loop.step())
    #expect(try await backend.listTable()?.contains(Self.webToApp(8081)) == true)
    #expect(controlPlane.reports.last == (try Self.report(2, port: 8081)))
    #expect(recorder.enforced == ["1 applied", "2 applied"])
  }

  @Test func reportsFailClosedWhenTheFirstTenancyDoesNotRender() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy())
    let recorder = Recorder()
    let reconciler = Reconciler(backend: backend)
    _ = try await reconciler.failClosed(host: "app-9")
    let loop = AgentLoop(
      host: "app-9", reconciler: reconciler, controlPlane: controlPlane, interval: .seconds(2),
      sleep: { recorder.slept($0) }, log: { recorder.log($0) })
    #expect(await loop.step())
    // No host app-9: the fail-closed table stays, and the report says so.
    #expect(recorder.failures == ["ZPR-ENF-001"])
    #expect(await loop.enforced == nil)
    #expect(controlPlane.reports.map(\.status) == [.failClosed])
    #expect(controlPlane.reports.first?.revision == 0)
    #expect(try await backend.listTable()?.contains(Self.webToApp(8080)) == false)
  }

  @Test func backsOffAndRetriesWhileTheControlPlaneIsUnreachable() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy(), holds: true)
    controlPlane.reachable = false
    let recorder = Recorder()
    // The second backoff ends with the control plane back.
    let loop = try await Self.loop(backend, controlPlane, recorder) { duration in
      recorder.slept(duration)
      if recorder.sleeps.count == 2 { controlPlane.reachable = true }
    }
    let running = Task { await loop.run() }
    var arrivals = controlPlane.arrivals.makeAsyncIterator()
    let report = await arrivals.next()
    running.cancel()
    await running.value

    // Two failures, each followed by the interval's backoff, then the first revision.
    #expect(recorder.sleeps == [.seconds(2), .seconds(2)])
    #expect(recorder.failures == ["Unreachable", "Unreachable"])
    #expect(report == (try Self.report(1)))
    #expect(controlPlane.reports == [report])
    #expect(try await backend.listTable()?.contains(Self.webToApp(8080)) == true)
  }

  @Test func stopsWhenCancelledWhileItWaitsForARevision() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy(), holds: true)
    let recorder = Recorder()
    let loop = try await Self.loop(backend, controlPlane, recorder)
    let running = Task { await loop.run() }
    var arrivals = controlPlane.arrivals.makeAsyncIterator()
    _ = await arrivals.next()
    // The loop now holds in the watch, past revision 1; cancelling ends it.
    running.cancel()
    await running.value
    #expect(controlPlane.reports.map(\.revision) == [1])
    #expect(recorder.failures.isEmpty)
    #expect(recorder.sleeps.isEmpty)
  }

  @Test func stopsWhenCancelledWhileItBacksOff() async throws {
    let backend = FakeFirewallBackend()
    let controlPlane = FakeControlPlane(tenancy: try Self.tenancy())
    controlPlane.reachable = false
    let recorder = Recorder()
    let (backingOff, started) = AsyncStream<Void>.makeStream()
    let loop = try await Self.loop(backend, controlPlane, recorder) { duration in
      recorder.slept(duration)
      started.yield()
      try await Task.sleep(for: .seconds(3600))
    }
    let running = Task { await loop.run() }
    var iterator = backingOff.makeAsyncIterator()
    _ = await iterator.next()
    running.cancel()
    await running.value
    // One failure, one backoff cut short, and no further attempt.
    #expect(recorder.failures == ["Unreachable"])
    #expect(recorder.sleeps == [.seconds(2)])
    #expect(await loop.enforced == nil)
  }
}
