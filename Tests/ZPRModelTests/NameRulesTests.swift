import Testing
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Name rules")
struct NameRulesTests {
  @Test(arguments: [
    "web-1", "Net Admins", "prod.eu_1", "café", "数据库", "db 🚀", String(repeating: "a", count: 100),
  ])
  func resourceNamesThatPass(name: String) {
    #expect((try? NameRules.resourceName(name).get()) == name)
  }

  @Test func resourceNamesAreNormalizedToNFC() throws {
    let decomposed = "cafe\u{301}"
    let name = try NameRules.resourceName(decomposed).get()
    #expect(Array(name.unicodeScalars) == Array("caf\u{E9}".unicodeScalars))
    // 100 letters with an accent each: 200 scalars written, 100 once composed.
    let accents = String(repeating: "e\u{301}", count: 100)
    #expect((try? NameRules.resourceName(accents).get())?.unicodeScalars.count == 100)
  }

  @Test(arguments: [
    ("", "empty"),
    ("   ", "only whitespace"),
    (" web", "starts or ends with whitespace"),
    ("web\t", "starts or ends with whitespace"),
    ("web\u{202E}1", "U+202E"),
    ("web\u{200B}", "U+200B"),
    ("\u{FEFF}web", "U+FEFF"),
    ("we\nb", "U+000A"),
    ("we\u{0}b", "U+0000"),
    ("we\u{2028}b", "U+2028"),
    ("we\u{2029}b", "U+2029"),
    (String(repeating: "a", count: 101), "at most 100"),
    (String(repeating: "x", count: 10_000), "at most 100"),
  ])
  func resourceNamesThatFail(name: String, phrase: String) throws {
    guard case .failure(let problem) = NameRules.resourceName(name) else {
      Issue.record("accepted \(name.debugDescription)")
      return
    }
    #expect(problem.message.contains(phrase), "\(problem.message)")
    // The offending character is named, never written out raw.
    #expect(!problem.message.unicodeScalars.contains { $0.properties.generalCategory == .format })
  }

  @Test(arguments: [
    "alice", "alice@example.com", "a.b_c-d+e", "1user", "A", String(repeating: "u", count: 100),
  ])
  func principalNamesThatPass(name: String) {
    #expect((try? NameRules.principalName(name).get()) == name)
  }

  @Test(arguments: [
    ("", "empty"),
    ("-alice", "must start with an ASCII letter or digit"),
    (".alice", "must start with an ASCII letter or digit"),
    ("\u{E5}lice", "U+00E5"),
    ("\u{430}lice", "U+0430"),  // Cyrillic a: looks like alice
    ("al ice", "U+0020"),
    ("alice\u{200B}", "U+200B"),
    ("a/b", "U+002F ('/')"),
    (String(repeating: "u", count: 101), "at most 100"),
  ])
  func principalNamesThatFail(name: String, phrase: String) {
    guard case .failure(let problem) = NameRules.principalName(name) else {
      Issue.record("accepted \(name.debugDescription)")
      return
    }
    #expect(problem.message.contains(phrase), "\(problem.message)")
  }

  @Test func theConsistencyCheckAppliesTheRules() {
    var tenancy = TenancyFixtures.threeTier()
    tenancy.resources[0].name = "web\u{202E}1"
    tenancy.policies[0].name = " spaced"
    tenancy.groups = [IAMGroup(name: "admins", members: ["nina", "n\u{131}na"])]
    let issues = tenancy.consistencyIssues().filter { $0.code == .invalidName }
    #expect(
      issues.map(\.path) == ["resources[0].name", "policies[0].name", "groups[0].members[1]"])
    #expect(issues.allSatisfy { $0.severity == .error })
    #expect(issues[0].message.contains("U+202E"))
    #expect(issues[2].message.contains("U+0131"))
  }

  @Test func theTenancyFileReadsNamesInNFCAndReportsBadOnes() throws {
    let text = """
      compartments:
        - name: "cafe\u{301}"
        - name: "ops\u{200B}"
      groups:
        - {name: admins, members: [nina, "ni\u{301}na"]}
      """
    let loaded = TenancyFile.load(SourceFile(path: "t.yaml", text: text))
    #expect(
      Array(loaded.tenancy.compartments[0].name.unicodeScalars) == Array("caf\u{E9}".unicodeScalars)
    )
    let problems = loaded.diagnostics.filter {
      $0.code == TenancyIssue.Code.invalidName.diagnosticCode
    }
    #expect(problems.map(\.path) == ["compartments[1].name", "groups[0].members[1]"])
    // Placed on the line of the element.
    let source = SourceFile(path: "t.yaml", text: text)
    #expect(problems.map { source.location(of: $0.range.lowerBound).line } == [3, 5])
  }
}
