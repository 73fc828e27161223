import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Compiled engine")
struct CompiledEngineTests {
  /// The compiled tables decide every flow as the reference semantics do, in both modes.
  @Test func agreesWithTheReferenceOnRandomTenancies() {
    var sampling = Sampling(seed: 11)
    var compared = 0
    var allowed = 0
    var denied = 0
    var missing = 0
    for _ in 0..<150 {
      let tenancy = sampling.tenancy()
      let topology = Topology(tenancy)
      let semantics = ZPRSemantics(topology)
      let flows = sampling.flows(in: tenancy, count: 200)
      for mode in EvaluationMode.allCases {
        let compiled = CompiledPolicy(topology, mode: mode)
        for flow in flows {
          let expected = semantics.decide(flow, mode: mode)
          let actual = compiled.decide(flow)
          #expect(actual == expected, "\(mode) \(flow)")
          compared += 1
          if expected.statement != nil { allowed += 1 }
          if expected.egress == .denied || expected.ingress == .denied { denied += 1 }
          if expected.egress == .missingPolicy || expected.ingress == .missingPolicy {
            missing += 1
          }
        }
      }
    }
    // The sample reaches every outcome, so the agreement above means something.
    #expect(compared == 150 * 200 * 2)
    #expect(allowed > 250, "only \(allowed) allowed flows among \(compared)")
    #expect(denied > 500, "only \(denied) denied flows among \(compared)")
    #expect(missing > 500, "only \(missing) flows missing a policy among \(compared)")
  }
}
