import Foundation
import Testing
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// Revocation under load: many connections held open across a random tenancy's lab, then a
/// random policy change applied as the agents apply it (the reconcilers cut what the new
/// policy revokes); each held connection must then carry data exactly when the analyzer says
/// the new policy allows it.
@Suite(
  "Revocation under load",
  .enabled(
    if: Namespaces.available,
    "needs root, nftables, conntrack and iproute2 (CI has them): it builds labs"),
  .serialized)
struct LabRevocationTests {
  /// At most this many connections are held in one lab.
  static let limit = 1_500

  /// What one exchange over held connections showed, against the analyzer.
  struct Check {
    /// The flows (by index) that carried data, and those that did not.
    var carried: [Int] = []
    var stopped: [Int] = []
    /// Each flow on which the kernel and the analyzer disagree, as its reproducer.
    var disagreements: [String] = []
  }

  /// Sends data on the held connections of `indices` and compares each outcome with what the
  /// analyzer says of `tenancy` (with the connection's own source port, both ways). A
  /// connection the analyzer allows that carried nothing is asked again, more slowly, before
  /// it counts; one that carried data the analyzer forbids counts at once.
  static func check(
    _ held: LabHeldConnections, _ indices: [Int], against tenancy: Tenancy, seed: UInt64
  ) async throws -> Check {
    let analyzer = PathAnalyzer(tenancy)
    var expected: [Int: Bool] = [:]
    for index in indices {
      let flow = held.flows[index]
      expected[index] = LabDifferential.reachable(
        try LabDifferential.analyze(
          flow, in: held.lab, with: analyzer, sourcePort: held.sourcePorts[index]), flow)
    }
    var results = try await held.exchange(indices)
    let suspects = indices.filter { expected[$0] == true && !results[$0].carried }
    if !suspects.isEmpty {
      let again = try await held.exchange(suspects, timeout: 2)
      for index in suspects { results[index] = again[index] }
    }
    var check = Check()
    for index in indices {
      if results[index].carried { check.carried.append(index) } else { check.stopped.append(index) }
      guard results[index].carried != expected[index] else { continue }
      let analysis = try LabDifferential.analyze(
        held.flows[index], in: held.lab, with: analyzer, sourcePort: held.sourcePorts[index])
      check.disagreements.append(
        LabDisagreement(
          flow: held.flows[index], analyzerReachable: expected[index] == true,
          stoppedAt: analysis.stoppedAt?.rawValue,
          kernel: "a held connection: " + results[index].detail,
          sourcePort: held.sourcePorts[index]
        ).reproducer(seed: seed, tenancy: tenancy))
    }
    return check
  }

  /// A random policy change: about a third of the statements go, and the lab's first one
  /// (anything may reach an attribute on tcp/9: the protected ends mark those connections, so
  /// their reconcilers must cut them), one unprotected resource
  /// takes the first enforce-mode attribute of a protected one (ZPR now guards it, as the
  /// statements naming that attribute say), and the last protected resource loses its
  /// attributes (ZPR no longer guards it).
  static func change(_ tenancy: Tenancy, using random: inout SplitMix64) -> Tenancy {
    var changed = tenancy
    for index in changed.policies.indices {
      changed.policies[index].statements.removeAll { _ in random.chance(0.35) }
    }
    if let lab = changed.policies.firstIndex(where: { $0.name == "lab-0" }) {
      changed.policies[lab].statements.removeAll {
        $0.filters.transport?.transport == .tcp && $0.filters.transport?.ports.first?.lower == 9
      }
    }
    changed.policies.removeAll { $0.statements.isEmpty }
    func enforced(_ resource: Resource) -> [AppliedAttribute] {
      (resource.securityAttributes + resource.vnics.flatMap(\.securityAttributes)).filter {
        $0.mode == .enforce
      }
    }
    let protected = changed.resources.indices.filter { !enforced(changed.resources[$0]).isEmpty }
    let unprotected = changed.resources.indices.filter { enforced(changed.resources[$0]).isEmpty }
    if let giver = protected.first, let taker = unprotected.dropFirst().first {
      changed.resources[taker].securityAttributes.append(enforced(changed.resources[giver])[0])
    }
    if let last = protected.last, last != protected.first {
      changed.resources[last].securityAttributes = []
      for vnic in changed.resources[last].vnics.indices {
        changed.resources[last].vnics[vnic].securityAttributes = []
      }
    }
    return changed
  }

  @Test(arguments: [LabRound.zpr, .layered])
  func heldConnectionsAreCutOrKeptAsTheAnalyzerSaysOfTheNewPolicy(kind: LabRound) async throws {
    let seed: UInt64 = kind == .zpr ? 3031 : 3032
    let prefix = "zlv\(getpid() % 10_000)\(kind == .zpr ? 0 : 1)"
    defer { _ = Lab.down(prefix: prefix) }
    let tenancy = kind.tenancy(seed: seed)
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    let reconcilers = try await lab.enforce(tenancy)
    var random = SplitMix64(seed: seed)

    // TCP and UDP flows the analyzer allows now, a random selection of them.
    let analyzer = PathAnalyzer(tenancy)
    var candidates: [LabFlow] = []
    for flow in LabDifferential.flows(lab, sample: LabDifferential.sample(tenancy))
    where flow.transport != .icmp {
      let analysis = try LabDifferential.analyze(flow, in: lab, with: analyzer)
      if LabDifferential.reachable(analysis, flow) { candidates.append(flow) }
    }
    candidates.shuffle(using: &random)
    let held = try await LabHeldConnections.open(lab, flows: Array(candidates.prefix(Self.limit)))
    defer { held.close() }
    let open = held.flows.indices.filter { held.opened[$0] }
    for index in held.flows.indices where !held.opened[index] {
      Issue.record("\(held.flows[index].label) did not open: \(held.failures[index])")
    }

    // Each carries data, as the analyzer says of the policy in force.
    let before = try await Self.check(held, open, against: tenancy, seed: seed)
    #expect(before.disagreements == [], "\(before.disagreements.prefix(3).joined(separator: "\n"))")
    let live = before.carried
    let tcp = live.filter { held.flows[$0].transport == .tcp }.count

    // The policy changes under them, as the agents would apply it.
    let changed = Self.change(tenancy, using: &random)
    let clock = ContinuousClock()
    let started = clock.now
    let after = try await lab.enforce(changed, reconcilers: reconcilers)
    let applied = started.duration(to: clock.now)
    var cutByReconcilers = 0
    for reconciler in after.values { cutByReconcilers += await reconciler.cut }

    // Each is cut or kept exactly as the analyzer says of the new policy.
    let result = try await Self.check(held, live, against: changed, seed: seed)
    #expect(result.disagreements == [], "\(result.disagreements.prefix(3).joined(separator: "\n"))")
    #expect(live.count >= 200, "only \(live.count) connections held")
    #expect(!result.carried.isEmpty, "the change kept no connection")
    #expect(!result.stopped.isEmpty, "the change cut no connection")
    #expect(cutByReconcilers > 0, "no reconciler cut a tracked connection")
    print(
      "lab \(prefix) (\(kind.rawValue), seed \(seed)): \(live.count) connections held "
        + "(\(tcp) TCP, \(live.count - tcp) UDP) of \(held.flows.count) opened; the change "
        + "applied in \(applied.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2)))), "
        + "the reconcilers cut \(cutByReconcilers) tracked connections; "
        + "\(result.stopped.count) held connections cut, \(result.carried.count) kept, "
        + "\(result.disagreements.count) disagreements")
  }
}
