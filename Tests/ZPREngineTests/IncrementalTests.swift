import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Incremental updates")
struct IncrementalTests {
  /// Gives a resource new attributes and updates the compiled tables for its endpoints.
  static func relabel(
    _ resource: Int, _ attributes: [AppliedAttribute], _ topology: inout Topology,
    _ compiled: inout CompiledPolicy
  ) {
    for endpoint in topology.setAttributes(attributes, ofResource: resource) {
      compiled.update(topology.endpoints[endpoint], at: endpoint)
    }
  }

  /// Expects the updated tables to decide every flow as a fresh compilation and the reference
  /// do; returns how many decisions differ from `before` (the tables before the updates).
  static func expectFresh(
    _ compiled: CompiledPolicy, _ topology: Topology, mode: EvaluationMode, _ flows: [Flow],
    before: [ZPRDecision]
  ) -> Int {
    let fresh = CompiledPolicy(Topology(topology.tenancy), mode: mode)
    let reference = ZPRSemantics(Topology(topology.tenancy))
    var changed = 0
    for (flow, old) in zip(flows, before) {
      let updated = compiled.decide(flow)
      #expect(updated == fresh.decide(flow), "\(mode) \(flow)")
      #expect(updated == reference.decide(flow, mode: mode), "\(mode) \(flow)")
      if updated != old { changed += 1 }
    }
    return changed
  }

  /// Changing resources' attributes one at a time and updating only their endpoints decides
  /// every flow as a fresh compilation and the reference do.
  @Test func updatesDecideAsAFreshCompilation() {
    var sampling = Sampling(seed: 41)
    var random = SplitMix64(seed: 42)
    var compared = 0
    var changedDecisions = 0
    for _ in 0..<60 {
      let tenancy = sampling.tenancy()
      guard !tenancy.resources.isEmpty else { continue }
      let vocabulary = Array(Set(tenancy.resources.flatMap(\.securityAttributes)))
      for mode in EvaluationMode.allCases {
        var topology = Topology(tenancy)
        var compiled = CompiledPolicy(topology, mode: mode)
        let flows = sampling.flows(in: tenancy, count: 60)
        let before = flows.map { compiled.decide($0) }
        for _ in 0..<4 {
          let resource = Int.random(in: 0..<tenancy.resources.count, using: &random)
          var attributes: [AppliedAttribute] = []
          for _ in 0..<Int.random(in: 0...2, using: &random) {
            guard var pick = vocabulary.randomElement(using: &random) else { break }
            if random.chance(0.3) { pick.mode = pick.mode == .audit ? .enforce : .audit }
            if !attributes.contains(where: { $0.namespace == pick.namespace && $0.key == pick.key })
            {
              attributes.append(pick)
            }
          }
          Self.relabel(resource, attributes, &topology, &compiled)
        }
        changedDecisions += Self.expectFresh(compiled, topology, mode: mode, flows, before: before)
        compared += flows.count
      }
    }
    #expect(changedDecisions > 100, "only \(changedDecisions) of \(compared) decisions changed")
  }

  /// Replacing policies one at a time (statements dropped, added, reordered; some naming
  /// addresses, which compile everything again), mixed with relabelled resources, decides every
  /// flow as a fresh compilation and the reference do.
  @Test func replacedPoliciesDecideAsAFreshCompilation() {
    var sampling = Sampling(seed: 43)
    var random = SplitMix64(seed: 44)
    var compared = 0
    var changedDecisions = 0
    for _ in 0..<60 {
      let tenancy = sampling.tenancy()
      guard !tenancy.policies.isEmpty else { continue }
      let pool = tenancy.policies.flatMap(\.statements)
      let vocabulary = Array(Set(tenancy.resources.flatMap(\.securityAttributes)))
      for mode in EvaluationMode.allCases {
        var topology = Topology(tenancy)
        var compiled = CompiledPolicy(topology, mode: mode)
        let flows = sampling.flows(in: tenancy, count: 60)
        let before = flows.map { compiled.decide($0) }
        for _ in 0..<4 {
          if random.chance(0.7) {
            let index = Int.random(in: 0..<topology.tenancy.policies.count, using: &random)
            var policy = topology.tenancy.policies[index]
            if !policy.statements.isEmpty, random.chance(0.5) {
              policy.statements.remove(
                at: Int.random(in: 0..<policy.statements.count, using: &random))
            }
            for _ in 0..<Int.random(in: 0...2, using: &random) {
              var statement = pool.randomElement(using: &random)!
              if random.chance(0.5) {
                statement.filters = Filters(
                  transport: ProtocolFilter(
                    transport: .tcp,
                    ports: [
                      PortRange(
                        22, 22 + Int.random(in: 0...500, using: &random), range: SourceRange(0, 0))
                    ],
                    range: SourceRange(0, 0)))
              }
              policy.statements.insert(
                statement, at: Int.random(in: 0...policy.statements.count, using: &random))
            }
            topology.setPolicy(policy, at: index)
            compiled.replacePolicy(at: index, in: topology)
          } else if !topology.tenancy.resources.isEmpty {
            let resource = Int.random(in: 0..<topology.tenancy.resources.count, using: &random)
            let attributes = Array(vocabulary.shuffled(using: &random).prefix(1))
            Self.relabel(resource, attributes, &topology, &compiled)
          }
        }
        changedDecisions += Self.expectFresh(compiled, topology, mode: mode, flows, before: before)
        compared += flows.count
      }
    }
    #expect(changedDecisions > 100, "only \(changedDecisions) of \(compared) decisions changed")
  }
}
