import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy

@Suite("Policy tests in the tenancy file")
struct PolicyTestTests {
  static func load(_ tests: String) -> TenancyFile.Loaded {
    TenancyFile.load(SourceFile(path: "lab.yaml", text: lab + "\ntests:\n" + tests))
  }

  @Test func testsAreReadAndRun() {
    let loaded = Self.load(
      """
        - {from: web-1, to: db-1, protocol: tcp, port: 5432, expect: allow}
        - {name: no ssh to the database, from: web-1, to: db-1/0, protocol: tcp, port: 22, expect: deny}
        - {from: web-1, to: 10.0.3.10, protocol: tcp, port: 22, expect: allow}
        - {from: plain-1, to: 10.0.3.99, protocol: icmp, expect: deny}
      """)
    #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
    #expect(loaded.tenancy.tests.count == 4)
    #expect(loaded.tenancy.tests[1].label == "no ssh to the database")
    let results = PathAnalyzer(loaded.tenancy).runTests()
    #expect(results.map(\.passed) == [true, true, false, false])
    #expect(results[2].failure?.hasPrefix("expected allow, but the flow is UNREACHABLE") == true)
    #expect(results[3].failure?.contains("INDETERMINATE") == true)
  }

  @Test func badTestsAreReportedWhereTheyAre() {
    let loaded = Self.load(
      """
        - {from: web1, to: db-1, protocol: tcp, port: 5432, expect: allow}
        - {from: web-1, to: db-1/3, protocol: tcp, port: 5432, expect: allow}
        - {from: web-1, to: db-1, protocol: tcp, expect: allow}
        - {from: web-1, to: db-1, protocol: tpc, port: 1, expect: allow}
        - {from: web-1, to: db-1, protocol: tcp, port: 1, expect: maybe}
        - {from: web-1, to: db-1, protocol: icmp, port: 7, expect: deny}
      """)
    let errors = loaded.diagnostics.filter { $0.severity == .error }
    #expect(
      errors.map(\.path) == [
        "tests[0].from", "tests[1].to", "tests[2]", "tests[3].protocol", "tests[4].expect",
        "tests[5].port",
      ])
    #expect(errors[0].message.contains("did you mean 'web-1'?"))
    #expect(errors[3].suggestion == "did you mean 'tcp'?")
  }

  @Test func testsRoundTripThroughTheFile() {
    let loaded = Self.load(
      """
        - {name: named, from: web-1, to: db-1, protocol: tcp, port: 5432, expect: allow}
        - {from: web-1, to: db-1, protocol: icmp, icmpType: 8, icmpCode: 0, expect: deny}
      """)
    let again = TenancyFile.load(
      SourceFile(path: "again.yaml", text: TenancyFile.yaml(for: loaded.tenancy)))
    #expect(again.tenancy.tests == loaded.tenancy.tests)
  }
}
