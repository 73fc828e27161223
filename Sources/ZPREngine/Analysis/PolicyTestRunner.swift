public import ZPRModel

/// The outcome of one of a tenancy's policy tests.
public struct PolicyTestResult: Hashable, Sendable {
  public var test: PolicyTest
  /// The test's index in the tenancy.
  public var index: Int
  public var passed: Bool
  /// The analysis of the test's flow (nil when the test could not be run).
  public var analysis: PathAnalysis?
  /// Why the test failed, in words.
  public var failure: String?
}

extension PathAnalyzer {
  /// Runs the tenancy's policy tests: `allow` passes when the flow is reachable, `deny` when it
  /// is unreachable; an indeterminate flow fails either way, since it proves nothing.
  public func runTests() -> [PolicyTestResult] {
    topology.tenancy.tests.enumerated().map { index, test in
      let query = PathQuery(
        from: test.from, to: test.to,
        transport: FlowProtocol(rawValue: test.transport.rawValue)!, port: test.port,
        icmpType: test.icmpType, icmpCode: test.icmpCode)
      let analysis: PathAnalysis
      do throws(AnalysisError) {
        analysis = try analyze(query)
      } catch {
        return PolicyTestResult(
          test: test, index: index, passed: false, analysis: nil, failure: error.message)
      }
      switch (test.expect, analysis.status) {
      case (.allow, .reachable), (.deny, .unreachable):
        return PolicyTestResult(test: test, index: index, passed: true, analysis: analysis)
      case (_, .indeterminate):
        return PolicyTestResult(
          test: test, index: index, passed: false, analysis: analysis,
          failure: "expected \(test.expect.rawValue), but the flow is INDETERMINATE: "
            + (analysis.notes.first ?? "the tenancy does not decide it"))
      case (.allow, _):
        return PolicyTestResult(
          test: test, index: index, passed: false, analysis: analysis,
          failure: "expected allow, but the flow is UNREACHABLE"
            + (analysis.stoppedAt.map { " (stopped at \($0.rawValue))" } ?? ""))
      case (.deny, _):
        let by = analysis.forward.flatMap(\.layers).first {
          $0.layer == .zpr && $0.statement != nil
        }
        return PolicyTestResult(
          test: test, index: index, passed: false, analysis: analysis,
          failure: "expected deny, but the flow is REACHABLE"
            + (by.map { " (ZPR allows it by \($0.reason))" } ?? ""))
      }
    }
  }
}
