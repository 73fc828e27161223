import Foundation
import Testing
import ZPRPolicy

/// The parser's bounds on hostile input: the statement length, the diagnostics caps, and work
/// that stays linear in the text.
@Suite("Parser limits")
struct ParserLimitsTests {
  static let base = "in n:p VCN allow a:w endpoints to connect to a:d endpoints"

  @Test func aStatementOverTheLimitIsNotRead() {
    let text = String(repeating: "{", count: 80_000)
    let (statement, diagnostics) = PolicyParser().parseStatement(text)
    #expect(statement == nil)
    #expect(diagnostics.map(\.code) == [.statementTooLong])
    #expect(diagnostics[0].message.contains("80000 characters"))
    #expect(diagnostics[0].message.contains("4096"))
    #expect(diagnostics[0].range == SourceRange(4096, 80_000))
  }

  @Test func theLimitCountsCharactersNotBytes() {
    // 4,096 two-byte characters: 8,192 bytes, within the limit.
    let text = "in n:p VCN allow 'a:" + String(repeating: "é", count: 4000) + "' to connect to a:d"
    #expect(text.unicodeScalars.count <= 4096)
    #expect(
      !PolicyParser().parseStatement(text).diagnostics.contains { $0.code == .statementTooLong })
    let longer = text + String(repeating: "é", count: 100)
    #expect(PolicyParser().parseStatement(longer).diagnostics.map(\.code) == [.statementTooLong])
  }

  @Test func theLimitIsConfigurable() {
    let limits = ZPRLimits(maxStatementLength: 20)
    #expect(
      PolicyParser(limits: limits).parseStatement(Self.base).diagnostics.map(\.code) == [
        .statementTooLong
      ])
    #expect(
      PolicyParser(limits: ZPRLimits(maxStatementLength: 200)).parseStatement(Self.base).statement
        != nil)
  }

  @Test func aLongLineInAFileIsRefusedAndTheRestRead() {
    let text =
      Self.base + "\n" + String(repeating: "x", count: 5000) + "\n"
      + Self.base.replacing("a:d", with: "a:e")
    let file = PolicyChecker().check(SourceFile(path: "t.zpl", text: text))
    #expect(file.codes == [.statementTooLong])
    #expect(file.statements.count == 2)
  }

  @Test func diagnosticsAreCappedPerStatement() {
    let (statement, diagnostics) = PolicyParser().parseStatement(
      Self.base + String(repeating: " ;", count: 500))
    #expect(statement == nil)
    #expect(diagnostics.count == 11)
    let summary = diagnostics[10]
    #expect(summary.code == .moreDiagnostics)
    #expect(summary.severity == .error)
    #expect(summary.message.hasPrefix("... and 490 more errors in this statement"))
  }

  @Test func diagnosticsAreCappedPerFile() {
    let line = "any { any {"
    let text = Array(repeating: line, count: 20_000).joined(separator: "\n")
    let file = PolicyChecker().check(SourceFile(path: "t.zpl", text: text))
    #expect(file.diagnostics.count == 201)
    let summary = file.diagnostics[200]
    #expect(summary.code == .moreDiagnostics)
    #expect(summary.message.contains("in this file"))
    #expect(summary.range.lowerBound == text.utf8.count)
    // 20,000 lines of 2 stray characters and a bad start each, and the file's 20,000 statements
    // over the statement limit: 60,001 errors, 200 shown.
    #expect(summary.message.hasPrefix("... and 59801 more errors in this file"))
  }

  @Test func theCheckersWarningsShareTheFileCap() {
    let text = Array(repeating: Self.base, count: 500).joined(separator: "\n")
    let options = PolicyOptions(limits: ZPRLimits(statementsPerPolicy: 1000))
    let file = PolicyChecker(options: options).check(SourceFile(path: "t.zpl", text: text))
    #expect(file.diagnostics.count == 201)
    #expect(file.diagnostics.dropLast().allSatisfy { $0.code == .duplicateStatement })
    #expect(file.diagnostics[200].severity == .warning)
    #expect(file.diagnostics[200].message.hasPrefix("... and 299 more warnings in this file"))
  }

  @Test func capsAreConfigurable() {
    let limits = ZPRLimits(diagnosticsPerStatement: 2, diagnosticsPerFile: 3)
    let text = Array(repeating: "; ; ;", count: 3).joined(separator: "\n")
    let file = PolicyParser(limits: limits).parse(SourceFile(path: "t.zpl", text: text))
    // Line 1: two shown and a summary; line 2: the file's cap is reached.
    #expect(
      file.diagnostics.map(\.code) == [
        .unexpectedCharacter, .unexpectedCharacter, .moreDiagnostics, .moreDiagnostics,
      ])
    #expect(file.diagnostics[2].message.contains("1 more error in this statement"))
    #expect(file.diagnostics[3].message.contains("6 more errors in this file"))
  }

  @Test func strayCharactersInALongStatementAreAllDropped() {
    // Within the length limit: 2,000 stray characters between valid words.
    let text =
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints"
      + String(repeating: "{", count: 2000)
    let (statement, diagnostics) = PolicyParser().parseStatement(text)
    #expect(statement == nil)
    #expect(diagnostics.count == 11)
    #expect(diagnostics.last?.message.hasPrefix("... and 1990 more errors") == true)
  }

  @Test func theCapLeavesACleanFileAlone() {
    #expect(PolicyChecker().check(SourceFile(path: "t.zpl", text: Self.base)).diagnostics == [])
  }

  @Test func limitsDecodeWithoutTheNewFields() throws {
    let old =
      #"{"statementsPerPolicy":5,"attributesPerResource":3,"attributesPerVNIC":5,"attributesPerVCN":1,"valuesPerEnum":100}"#
    let limits = try JSONDecoder().decode(ZPRLimits.self, from: Data(old.utf8))
    #expect(limits.statementsPerPolicy == 5)
    #expect(limits.maxStatementLength == 4096)
    #expect(limits.diagnosticsPerFile == 200)
    #expect(limits.maxNestingDepth == 64)
  }
}
