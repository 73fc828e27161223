import Testing
import ZPRPolicy

@testable import ZPRModel

/// The tenancy file's bounds on hostile input: nesting depth, alias expansion, and the number
/// of diagnostics a load returns.
@Suite("Tenancy file limits")
struct TenancyLimitsTests {
  static func load(_ text: String, limits: ZPRLimits = .standard) -> TenancyFile.Loaded {
    TenancyFile.load(SourceFile(path: "t.yaml", text: text), limits: limits)
  }

  /// The codes of a load's diagnostics.
  static func codes(_ text: String, limits: ZPRLimits = .standard) -> [String] {
    load(text, limits: limits).diagnostics.map(\.code.rawValue)
  }

  @Test(arguments: [
    "compartments: " + String(repeating: "[", count: 50_000)
      + String(repeating: "]", count: 50_000),
    String(repeating: "{a: ", count: 50_000),
    String(repeating: "{\"a\": ", count: 50_000),
    String(repeating: "[{a: ", count: 20_000),
    String(repeating: "- ", count: 50_000) + "x",
    "a: " + String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
  ])
  func deepFlowNestingIsRefusedAtTheLine(text: String) throws {
    let loaded = Self.load(text)
    #expect(loaded.diagnostics.map(\.code) == [TenancyFileCode.tooDeep])
    let message = try #require(loaded.diagnostics.first?.message)
    #expect(message.hasPrefix("line 1 nests"))
    #expect(message.contains("more than 64 levels deep (the maxNestingDepth limit"))
  }

  @Test func deepBlockNestingIsRefusedAtTheLine() {
    let text = (0..<100).map { String(repeating: " ", count: 2 * $0) + "k\($0):" }
      .joined(separator: "\n")
    let loaded = Self.load(text)
    #expect(loaded.diagnostics.map(\.code) == [TenancyFileCode.tooDeep])
    #expect(loaded.diagnostics.first?.message.hasPrefix("line 65 ") == true)
    let lists = (0..<100).map { String(repeating: " ", count: 2 * $0) + "-" }
      .joined(separator: "\n")
    #expect(Self.codes(lists) == ["ZPT106"])
  }

  @Test func depthWithinTheLimitIsRead() {
    let nested = "a: " + String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
    // Not a tenancy, but read: the only problem is the unknown key.
    #expect(Self.codes(nested) == ["ZPT102"])
  }

  @Test func theLimitIsConfigurable() {
    let limits = ZPRLimits(maxNestingDepth: 3)
    #expect(Self.codes("vcns: [[[x]]]", limits: limits) == ["ZPT106"])
    #expect(Self.codes("vcns: [[x]]", limits: limits) != ["ZPT106"])
  }

  @Test func bracketsInTextDoNotCount() {
    let brackets = String(repeating: "[", count: 100)
    let text = """
      # \(brackets)
      compartments:
        - name: a
        - name: 'b\(brackets)'
        - name: "c\(brackets)"
        - name: d\(brackets)
      policies:
        - name: p
          description: |
            \(brackets)
            {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{
          statements: []
      """
    #expect(!Self.codes(text).contains("ZPT106"))
  }

  @Test func anAliasBombIsRefused() {
    var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in 1...8 {
      let previous = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
      lines.append("a\(level): &a\(level) [\(previous)]")
    }
    let loaded = Self.load(lines.joined(separator: "\n"))
    #expect(loaded.diagnostics.map(\.code) == [TenancyFileCode.aliasExpansion])
    #expect(loaded.diagnostics.first?.message.contains("100000 nodes") == true)
  }

  @Test func aChainOfAliasesIsRefusedForItsDepth() {
    var lines = ["- &a0 [x]"]
    for level in 1..<5000 { lines.append("- &a\(level) [*a\(level - 1)]") }
    let loaded = Self.load(lines.joined(separator: "\n"))
    #expect(loaded.diagnostics.map(\.code) == [TenancyFileCode.tooDeep])
    #expect(loaded.diagnostics.first?.message.contains("alias *a62") == true)
  }

  @Test func anAliasInAKeyIsRefused() {
    let text = "base: &b x\nother:\n  *b : 1\n"
    let loaded = Self.load(text)
    #expect(loaded.diagnostics.map(\.code) == [TenancyFileCode.aliasExpansion])
    #expect(loaded.diagnostics.first?.message.contains("in a key") == true)
  }

  @Test func ordinaryAliasesStillWork() {
    let written = """
      vcns:
        - name: prod
          cidrs: [10.0.0.0/16]
          networkSecurityGroups:
            - name: a
              ingress: &rules [{protocol: tcp, source: 10.0.0.0/16, ports: "22"}]
            - name: b
              ingress: *rules
      """
    let expanded = written.replacing("&rules ", with: "").replacing(
      "*rules", with: "[{protocol: tcp, source: 10.0.0.0/16, ports: \"22\"}]")
    let (aliased, plain) = (Self.load(written), Self.load(expanded))
    #expect(aliased.diagnostics == [] && plain.diagnostics == [])
    #expect(aliased.tenancy == plain.tenancy)
  }

  @Test func theAliasBudgetIsConfigurable() {
    let text = "a: &a [1, 2, 3, 4]\nb: *a\nc: *a\n"
    #expect(Self.codes(text, limits: ZPRLimits(maxAliasNodes: 9)) == ["ZPT107"])
    #expect(!Self.codes(text, limits: ZPRLimits(maxAliasNodes: 10)).contains("ZPT107"))
  }

  @Test func theReadersBoundTheirOwnDepth() throws {
    // The subset reader declines past its limit; the full parser's path refuses.
    let bytes = Array("a: [[[[1]]]]".utf8)
    #expect(YAMLSubsetReader.read(bytes, maxDepth: 4) == nil)
    #expect(YAMLSubsetReader.read(bytes, maxDepth: 5) != nil)
    let source = SourceFile(path: "t.yaml", text: "a: [[[[1]]]]")
    #expect(throws: YAMLRefusal.self) {
      try YAMLDocument.readWithYams(source, limits: ZPRLimits(maxNestingDepth: 4))
    }
    #expect(try YAMLDocument.readWithYams(source, limits: ZPRLimits(maxNestingDepth: 5)) != nil)
  }

  @Test func diagnosticsAreCapped() throws {
    let text = "vcns:\n" + (0..<500).map { "  - {name: v\($0), cidrz: x}" }.joined(separator: "\n")
    let loaded = Self.load(text)
    #expect(loaded.diagnostics.count == 201)
    let summary = try #require(loaded.diagnostics.last)
    #expect(summary.code == TenancyFileCode.moreDiagnostics)
    #expect(summary.message.hasPrefix("... and 800 more errors in this file"))
    #expect(summary.range.lowerBound == text.utf8.count)
  }

  @Test func aLongPolicyStatementIsNotParsed() {
    let statement =
      "in n:p VCN allow a:w endpoints to connect to " + String(repeating: "a", count: 5000)
    let text = "policies:\n  - name: p\n    description: d\n    statements:\n      - \(statement)\n"
    let loaded = Self.load(text)
    #expect(loaded.diagnostics.map(\.code) == [.statementTooLong])
    #expect(loaded.diagnostics.first?.path == "policies[0].statements[0]")
  }
}
