import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Path analyzer against the reference")
struct AnalyzerAgreementTests {
  /// On random tenancies and flows, the analyzer's status, the layer where a flow stops, the
  /// deciding statement and the replies' status all equal the reference evaluator's.
  @Test func agreesWithTheReferenceOnRandomTenancies() throws {
    var sampling = Sampling(seed: 23)
    var compared = 0
    var statuses: [ReachabilityStatus: Int] = [:]
    var layers: [PathLayer: Int] = [:]
    for _ in 0..<120 {
      let tenancy = sampling.tenancy()
      let reference = ReferenceEvaluator(tenancy)
      let analyzer = PathAnalyzer(tenancy)
      for flow in sampling.flows(in: tenancy, count: 120) {
        let expected = reference.evaluate(flow, bidirectional: true)
        let source = try analyzer.resolve(flow.source.description)
        let destination = try analyzer.resolve(flow.destination.description)
        let analysis = analyzer.analyze(
          flow, source: source, destination: destination, bidirectional: true)
        #expect(analysis.status == expected.status, "\(flow)")
        #expect(analysis.stoppedAt == expected.stoppedAt, "\(flow)")
        let zprStatements = analysis.forward.flatMap(\.layers).filter { $0.layer == .zpr }
          .compactMap(\.statement)
        if let id = expected.zpr.statement, expected.status == .reachable {
          #expect(zprStatements.allSatisfy { $0 == id.statement }, "\(flow)")
        }
        #expect(analysis.returnStatus == expected.replyStatus, "replies of \(flow)")
        compared += 1
        statuses[expected.status, default: 0] += 1
        if let layer = expected.stoppedAt { layers[layer, default: 0] += 1 }
      }
    }
    #expect(compared == 120 * 120)
    // Every outcome and every stopping layer shows up, so the agreement is not vacuous.
    for status in [ReachabilityStatus.reachable, .unreachable, .indeterminate] {
      #expect(statuses[status, default: 0] > 50, "\(status): \(statuses)")
    }
    for layer in [PathLayer.securityEgress, .route, .zprEgress, .securityIngress, .zprIngress] {
      #expect(layers[layer, default: 0] > 20, "\(layer): \(layers)")
    }
  }
}
