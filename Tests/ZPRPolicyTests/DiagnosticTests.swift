import Foundation
import Testing
import ZPRPolicy

@Suite("Diagnostics")
struct DiagnosticTests {
  static let base = "in n:p VCN allow a:w endpoints to connect to a:d endpoints"

  /// One input per code that must produce it (and a suggestion where one is promised).
  static let samples: [(code: String, text: String, suggestion: String?)] = [
    ("ZPL001", "in n:p VCN allow a:w endpoints to connect to a:d endpoints;", nil),
    ("ZPL002", base + " with protocol='tcp/22", "did you mean 'tcp/22'?"),
    ("ZPL002", base + " with protocol=\"tcp/22\"", "did you mean 'tcp/22'?"),
    ("ZPL002", base + " with protocol=\"tcp/22", "did you mean 'tcp/22'?"),
    ("ZPL002", base + " with protocol=\u{2018}tcp/22\u{2019}", "did you mean 'tcp/22'?"),
    ("ZPL001", ";", nil),
    ("ZPL003", base + " with protocol='tcp/" + String(repeating: "1,", count: 2100) + "2'", nil),
    ("ZPL004", base + String(repeating: ";", count: 12), nil),
    ("ZPL001", "  ( ) ", nil),
    (
      "ZPL010", base + " with protocol='tcp/22' connection-state='stateless'",
      "did you mean ', connection-state'?"
    ),
    ("ZPL010", base + " wiht protocol='tcp/22'", "did you mean 'with'?"),
    (
      "ZPL010",
      "allow a:w endpoints in n:p VCN to connect to a:d endpoints wiht protocol='tcp/22' in n:q VCN",
      "did you mean 'with'?"
    ),
    (
      "ZPL015", "in n:p VCN allow all-endpoint to connect to a:d endpoints",
      "did you mean 'all-endpoints'?"
    ),
    (
      "ZPL030", "in n:p VCN allow a:w endpoints to connect to '01.2.3.4/32'",
      "did you mean '1.2.3.4/32'?"
    ),
    (
      "ZPL010", "in n:p VCN alow a:w endpoints to connect to a:d endpoints", "did you mean 'allow'?"
    ),
    (
      "ZPL010", "in n:p VCN allow a:w endpoints to conect to a:d endpoints",
      "did you mean 'connect'?"
    ),
    ("ZPL010", "in n:p VNC allow a:w endpoints to connect to a:d endpoints", "did you mean 'VCN'?"),
    (
      "ZPL010", "in n:p VCN allow a:w endpoint to connect to a:d endpoints",
      "did you mean 'endpoints'?"
    ),
    (
      "ZPL010", "alow a:w endpoints in n:p VCN to connect to a:d endpoints in n:q VCN",
      "did you mean 'allow'?"
    ),
    ("ZPL010", "in n:p VCN allow a:w endpoints to connect", nil),
    ("ZPL010", "allow a:w endpoints in n:p VCN to connect to a:d endpoints", nil),
    ("ZPL011", base + " in n:q VCN", nil),
    ("ZPL011", base + " " + base, nil),
    ("ZPL012", "in n:p VCN deny a:w endpoints to connect to a:d endpoints", nil),
    ("ZPL012", "deny a:w endpoints in n:p VCN to connect to a:d endpoints in n:q VCN", nil),
    ("ZPL013", "permit a:w endpoints to connect to a:d endpoints", nil),
    ("ZPL014", "in n:p VCN allow to connect to a:d endpoints", nil),
    ("ZPL014", "in VCN allow a:w endpoints to connect to a:d endpoints", nil),
    ("ZPL020", "in n:p VCN allow 1app:w endpoints to connect to a:d endpoints", nil),
    ("ZPL020", "in n:p VCN allow 'a p:w' endpoints to connect to a:d endpoints", nil),
    (
      "ZPL021", "in n:p VCN allow app:v1.2 endpoints to connect to a:d endpoints",
      "did you mean 'app:v1.2'?"
    ),
    ("ZPL021", "in n:p VCN allow app: endpoints to connect to a:d endpoints", nil),
    ("ZPL022", "in n:p VCN allow a.b.c:w endpoints to connect to a:d endpoints", nil),
    (
      "ZPL021", "in n:p VCN allow ns.k:v:x endpoints to connect to a:d endpoints",
      "did you mean 'ns.k:v:x'?"
    ),
    ("ZPL030", "in n:p VCN allow a:w endpoints to connect to '10.0.0.300'", nil),
    ("ZPL030", "in n:p VCN allow a:w endpoints to connect to fd00::g", nil),
    ("ZPL030", "in n:p VCN allow a:w endpoints to connect to 'fd00::1::2'", nil),
    ("ZPL031", "in n:p VCN allow a:w endpoints to connect to '10.0.0.0/33'", nil),
    (
      "ZPL032", "in n:p VCN allow a:w endpoints to connect to '10.0.0.5/16'",
      "did you mean '10.0.0.0/16' (the block) or '10.0.0.5' (the host)?"
    ),
    ("ZPL040", base + " with protocl='tcp/22'", "did you mean 'protocol'?"),
    ("ZPL040", base + " with port='22'", "did you mean protocol='tcp/<port>'?"),
    ("ZPL040", base + " with icmp.type='8'", "did you mean 'protocol.icmp.type'?"),
    ("ZPL041", base + " with protocol=tcp", "did you mean protocol='tcp'?"),
    ("ZPL041", base + " with protocol", nil),
    ("ZPL042", base + " with protocol='tpc/22'", "did you mean 'tcp/22'?"),
    ("ZPL042", base + " with protocol='6/22'", "did you mean 'tcp/22'?"),
    ("ZPL042", base + " with protocol='all'", nil),
    ("ZPL043", base + " with protocol='tcp/ssh'", "did you mean 'tcp/22'?"),
    ("ZPL043", base + " with protocol='tcp/22,https'", "did you mean 'tcp/22,443'?"),
    ("ZPL043", base + " with protocol='tcp/frobnicate'", nil),
    ("ZPL044", base + " with protocol='tcp/0'", nil),
    ("ZPL044", base + " with protocol='tcp/70000'", nil),
    ("ZPL044", base + " with protocol='tcp/22,'", nil),
    ("ZPL044", base + " with protocol='tcp/22-'", nil),
    ("ZPL044", base + " with protocol='tcp/-22'", nil),
    ("ZPL045", base + " with protocol='tcp/1522-1521'", "did you mean 'tcp/1521-1522'?"),
    (
      "ZPL046", base + " with protocol='icmp/8'",
      "did you mean protocol='icmp', protocol.icmp.type='8'?"
    ),
    ("ZPL046", base + " with protocol='tcp/22', protocol.icmp.type='8'", nil),
    ("ZPL047", base + " with protocol='icmp', protocol.icmp.type='256'", nil),
    ("ZPL047", base + " with protocol='icmp', protocol.icmp.type='echo'", nil),
    ("ZPL048", base + " with protocol='tcp/22', protocol='tcp/80'", nil),
    (
      "ZPL049", base + " with connection-state='stateles'",
      "did you mean connection-state='stateless'?"
    ),
    ("ZPL050", "in n:p VCN allow all-endpoints to connect to all-endpoints", nil),
    ("ZPL051", "in n:p VCN allow '10.0.0.0/8' to connect to 'osn-services-ip-addresses'", nil),
    ("ZPL052", "allow '10.0.0.0/8' in n:p VCN to connect to a:d endpoints in n:q VCN", nil),
    ("ZPL053", base + " with protocol='icmp', protocol.icmp.code='0'", nil),
    (
      "ZPL060",
      String(repeating: base + "\n", count: 1).replacing("a:d", with: "a:d1")
        + (2...26).map {
          base.replacing("a:d", with: "a:d\($0)")
        }.joined(separator: "\n"), nil
    ),
    ("ZPL070", base + "\n" + base, nil),
    ("ZPL071", base + " with protocol='tcp/22'\n" + base, nil),
    ("ZPL072", base + " with protocol='tcp/20-25,22'", "did you mean 'tcp/20-25'?"),
  ]

  @Test(arguments: samples.indices)
  func sampleProducesItsCode(index: Int) throws {
    let sample = Self.samples[index]
    let file = check(sample.text)
    let match = file.diagnostics.first { $0.code.rawValue == sample.code }
    let found = try #require(
      match, "\(sample.code) not reported for: \(sample.text)\ngot: \(file.diagnostics)")
    if let suggestion = sample.suggestion {
      #expect(found.suggestion == suggestion)
    }
    // Every diagnostic points inside the text.
    for diagnostic in file.diagnostics {
      #expect(
        diagnostic.range.lowerBound >= 0 && diagnostic.range.upperBound <= sample.text.utf8.count)
    }
  }

  @Test func everyCodeHasASample() {
    let covered = Set(Self.samples.map(\.code))
    for code in DiagnosticCode.all {
      #expect(covered.contains(code.rawValue), "no test for \(code): \(code.summary)")
    }
    #expect(
      Set(DiagnosticCode.all.map(\.rawValue)).count == DiagnosticCode.all.count, "codes are unique")
  }

  /// One mistake, one diagnostic.
  @Test(arguments: [
    (base + " with protocol.icmp.code='0'", ["ZPL046"]),
    (base + " with protocol='icmp', protocol.icmp.code='0'", ["ZPL053"]),
    (
      "allow all-endpoints in n:p VCN to connect to all-endpoints in n:q VCN", ["ZPL052", "ZPL052"]
    ),
    ("in n:p VCN allow a:w endpoints to connect to ‘10.0.0.0/16’", ["ZPL002"]),
  ])
  func oneMistakeOneDiagnostic(text: String, codes: [String]) {
    #expect(check(text).codes.map(\.rawValue) == codes)
  }

  @Test func diagnosticsComeInSourceOrder() {
    let file = check(
      "allow '10.0.0.0/8' in n:p VCN to connect to a:d with protocol='tcp/ssh' in n:q VCN\n"
        + Self.base + " with protocol.icmp.type='8', protocol='tcp/x'")
    let offsets = file.diagnostics.map(\.range.lowerBound)
    #expect(offsets == offsets.sorted())
    #expect(file.diagnostics.count == 4)
  }

  @Test func keywordsKeepTheirMeaningInQuotes() throws {
    #expect(
      check("in n:p VCN allow 'all-endpoints' to connect to 'all-endpoints'").codes == [
        .allEndpointsBothSides
      ])
    #expect(
      try statement("in n:p VCN allow all-endpoints endpoints to connect to a:d").source.kind
        == .allEndpoints)
  }

  @Test func warningsDoNotFailAFile() {
    let file = check(Self.base + "\n" + Self.base)
    #expect(!file.hasErrors)
    #expect(file.diagnostics.map(\.severity) == [.warning])
  }

  @Test func everyErrorInAFileIsReported() {
    let file = check(
      """
      in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/ssh'
      in n:p VCN allow a:w endpoints to connect to a:d endpoints
      in n:p VCN deny a:w endpoints to connect to a:d endpoints
      in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/0,99999'
      """)
    #expect(file.codes == [.nonNumericPort, .onlyAllow, .portOutOfRange, .portOutOfRange])
    #expect(file.statements.count == 1)
  }

  @Test func goldenTextForAServiceNamePort() {
    let file = check(Self.base + " with protocol='tcp/ssh'")
    #expect(
      DiagnosticRenderer().render(file) == """
        test.zpl:1:79: error: ports are numeric: 'ssh' is not a port number; write the number, e.g. 'tcp/8080' [ZPL043]
        in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/ssh'
                                                                                      ^~~
          suggestion: did you mean 'tcp/22'?

        """)
  }

  @Test func goldenTextForAMisspeltKeywordAndADeny() {
    let file = check(
      """
      # two slips
      in n:p VCN allow a:w endpoints to conect to a:d endpoints
      \tin n:p VCN deny a:w endpoints to connect to a:d endpoints
      """)
    #expect(
      DiagnosticRenderer().render(file) == """
        test.zpl:2:35: error: 'conect' is not a keyword: expected 'connect' after 'to' ('to connect to') [ZPL010]
        in n:p VCN allow a:w endpoints to conect to a:d endpoints
                                          ^~~~~~
          suggestion: did you mean 'connect'?
        test.zpl:3:13: error: ZPR has no deny statements: whatever no statement allows is denied; remove this statement and narrow the allow statements instead [ZPL012]
        \tin n:p VCN deny a:w endpoints to connect to a:d endpoints
        \t           ^~~~

        """)
  }

  @Test func goldenTextForACoveredStatement() {
    let file = check(
      """
      in n:p VCN allow app endpoints to connect to a:d endpoints
      in n:p VCN allow app:web endpoints to connect to a:d endpoints with protocol='tcp/443'
      """)
    #expect(
      DiagnosticRenderer().render(file) == """
        test.zpl:2:1: warning: the statement on line 1 already allows everything this one allows: remove this statement, or narrow that one [ZPL071]
        in n:p VCN allow app:web endpoints to connect to a:d endpoints with protocol='tcp/443'
        ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

        """)
  }

  @Test func columnsCountCharactersNotBytes() {
    let file = check("in n:p VCN allow 'app:über' endpoints to connect to '10.0.0.300'")
    let diagnostic = file.diagnostics[0]
    // The address starts after the quote in column 53; 'ü' is two bytes but one column.
    #expect(
      file.source.location(of: diagnostic.range.lowerBound) == SourceLocation(line: 1, column: 54))
  }
}

@Suite("The diagnostics reference")
struct DiagnosticsDocumentTests {
  @Test func docsListEveryCode() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(
      contentsOf: root.appendingPathComponent("docs/diagnostics.md"), encoding: .utf8)
    // The first table lists the language's own codes; later sections list those of other modules.
    let firstTable = text.components(separatedBy: "\n## ").first ?? text
    let listed = firstTable.split(separator: "\n").filter { $0.hasPrefix("| ZPL") }.map {
      String($0.dropFirst(2).prefix(6))
    }
    #expect(listed == DiagnosticCode.all.map(\.rawValue))
  }
}
