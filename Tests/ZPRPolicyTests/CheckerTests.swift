import Testing
import ZPRPolicy

@Suite("File-level checks")
struct CheckerTests {
  static let base = "in n:p VCN allow a:w endpoints to connect to a:d endpoints"

  @Test func statementLimitIsConfigurable() {
    let text = (1...4).map { Self.base.replacing("a:d", with: "a:d\($0)") }.joined(separator: "\n")
    #expect(!check(text).hasErrors)
    let limited = check(text, options: PolicyOptions(limits: ZPRLimits(statementsPerPolicy: 3)))
    #expect(limited.codes == [.tooManyStatements])
    #expect(limited.diagnostics[0].message.contains("statementsPerPolicy"))
    #expect(limited.source.line(containing: limited.diagnostics[0].range.lowerBound) == 4)
  }

  @Test func duplicatesIgnoreSpellingAndDefaultNamespace() {
    let file = check(
      """
      in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/22,23'
      IN N:p vcn ALLOW oracle-zpr.a:w to connect to A:d with protocol='TCP/22-23', connection-state='stateful'
      """)
    #expect(file.codes == [.duplicateStatement])
    #expect(file.diagnostics[0].message.contains("line 1"))
  }

  @Test func statementsWithErrorsCountTowardTheLimit() {
    let text =
      (1...3).map { Self.base.replacing("a:d", with: "a:d\($0)") }.joined(separator: "\n")
      + "\n" + Self.base + " with protocol='tcp/ssh'"
    let file = check(text, options: PolicyOptions(limits: ZPRLimits(statementsPerPolicy: 3)))
    // The limit is reported at the start of the fourth statement, before its port error.
    #expect(file.codes == [.tooManyStatements, .nonNumericPort])
  }

  @Test func everyPortSpeltOutIsEveryPort() {
    let file = check(
      Self.base + " with protocol='tcp'\n" + Self.base + " with protocol='tcp/1-65535'")
    #expect(file.codes == [.duplicateStatement])
  }

  @Test func valuesAreCaseSensitive() {
    #expect(check(Self.base + "\n" + Self.base.replacing("a:w", with: "a:W")).diagnostics.isEmpty)
  }

  static let coverPairs: [(String, String)] = [
    // (wider, narrower)
    ("in n:p VCN allow a endpoints to connect to a:d endpoints", base),
    ("in n:p VCN allow all-endpoints to connect to a:d endpoints", base),
    ("in n VCN allow a:w endpoints to connect to a:d endpoints", base),
    (base, base + " with protocol='udp/53'"),
    (base + " with protocol='tcp'", base + " with protocol='tcp/22'"),
    (base + " with protocol='tcp/20-30,80'", base + " with protocol='tcp/22,25-26,80'"),
    (base + " with protocol='tcp/1-100,101-200'", base + " with protocol='tcp/90-110'"),
    (
      base + " with protocol='tcp/22'",
      base + " with protocol='tcp/22', connection-state='stateless'"
    ),
    (base + " with protocol='icmp'", base + " with protocol='icmp', protocol.icmp.type='8'"),
    (
      base + " with protocol='icmp', protocol.icmp.type='3'",
      base + " with protocol='icmp', protocol.icmp.type='3', protocol.icmp.code='4'"
    ),
    (
      "in n:p VCN allow a:w endpoints to connect to '10.0.0.0/8'",
      "in n:p VCN allow a:w endpoints to connect to '10.1.2.0/24'"
    ),
    (
      "in n:p VCN allow a:w endpoints to connect to '0.0.0.0/0'",
      "in n:p VCN allow a:w endpoints to connect to '10.1.2.3'"
    ),
    (
      "allow a endpoints in n:p VCN to connect to a:d endpoints in n VCN",
      "allow a:w endpoints in n:p VCN to connect to a:d endpoints in n:q VCN"
    ),
  ]

  @Test(arguments: coverPairs)
  func widerStatementCoversNarrowerInEitherOrder(wider: String, narrower: String) {
    for text in [wider + "\n" + narrower, narrower + "\n" + wider] {
      let file = check(text)
      #expect(file.codes == [.coveredStatement], "\(text)")
      let warned = file.diagnostics.first.map { file.source.text(of: $0.range) }
      #expect(warned == narrower)
    }
  }

  static let unrelatedPairs: [(String, String)] = [
    (base + " with protocol='tcp/22'", base + " with protocol='udp/22'"),
    (base + " with protocol='tcp/22'", base + " with protocol='tcp/23'"),
    (
      base + " with protocol='tcp/22', connection-state='stateless'",
      base + " with protocol='tcp/23'"
    ),
    (
      base + " with protocol='icmp', protocol.icmp.type='8'",
      base + " with protocol='icmp', protocol.icmp.type='0'"
    ),
    (
      base + " with protocol='icmp', protocol.icmp.type='8'",
      base + " with protocol='icmp6', protocol.icmp.type='8'"
    ),
    (
      "in n:p VCN allow a:w endpoints to connect to '10.0.0.0/8'",
      "in n:p VCN allow a:w endpoints to connect to '11.0.0.0/8'"
    ),
    (
      "in n:p VCN allow all-endpoints to connect to a:d endpoints",
      "in n:p VCN allow '10.0.0.0/8' to connect to a:d endpoints"
    ),
    (
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints",
      "in n:q VCN allow a:w endpoints to connect to a:d endpoints"
    ),
  ]

  @Test(arguments: unrelatedPairs)
  func unrelatedStatementsAreNotReported(first: String, second: String) {
    #expect(check(first + "\n" + second).diagnostics.isEmpty)
  }

  @Test func statementsWithErrorsAreNotComparedForCoverage() {
    let file = check(Self.base + "\n" + Self.base + " with protocol='tcp/ssh'")
    #expect(file.codes == [.nonNumericPort])
  }
}
