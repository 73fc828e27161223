import Testing
import ZPRIAM
import ZPRPolicy

/// The limits: no input makes the parser slow or its report long.
@Suite("IAM limits")
struct IAMLimitsTests {
  static func parse(_ text: String, limits: IAMLimits = .standard) -> IAMPolicyFile {
    IAMParser(limits: limits).parse(SourceFile(path: "t.iam", text: text))
  }

  /// No limit on the length of a statement: only the caps on diagnostics.
  static let unlimited = IAMLimits(
    statementsPerPolicy: .max, statementLength: .max, diagnosticsPerStatement: 10,
    diagnosticsPerFile: 100)

  @Test func theStandardLimitsAreTheCloudServices() {
    #expect(IAMLimits.standard.statementsPerPolicy == 50)
    #expect(IAMLimits.standard.statementLength == 4096)
    #expect(IAMLimits.standard.diagnosticsPerStatement == 10)
    #expect(IAMLimits.standard.diagnosticsPerFile == 100)
  }

  @Test func aStatementLongerThanTheLimitIsRefusedWhole() {
    let statement = "allow group A to read vcns in tenancy"
    // Exactly at the limit (padded with spaces inside the statement), and over it.
    let atLimit = statement.replacing(
      " in tenancy", with: String(repeating: " ", count: 4096 - statement.count) + " in tenancy")
    #expect(atLimit.count == 4096)
    #expect(Self.parse(atLimit).diagnostics.isEmpty)
    #expect(Self.parse(atLimit).statements.count == 1)
    let file = Self.parse(atLimit + "x")
    #expect(file.statements.isEmpty)
    #expect(file.statementCount == 1)
    #expect(file.diagnostics.map(\.code) == [IAMCode.statementTooLong])
    #expect(file.diagnostics.first?.severity == .error)
    // A comment after a statement does not count; characters are counted, not bytes.
    #expect(
      Self.parse(statement + " # " + String(repeating: "é", count: 10_000)).diagnostics.isEmpty)
    let accented =
      "allow group '" + String(repeating: "é", count: 4000) + "' to read vcns in tenancy"
    #expect(Self.parse(accented).diagnostics.isEmpty)
    // The other statements of the file are still read.
    let mixed = Self.parse(
      statement + "\n" + String(repeating: "{", count: 100_000) + "\n" + statement)
    #expect(mixed.statements.count == 2)
    #expect(mixed.diagnostics.map(\.code) == [IAMCode.statementTooLong])
  }

  @Test func aPolicyHoldsAtMostFiftyStatements() {
    let statement = "allow group A to read vcns in tenancy"
    let fifty = Array(repeating: statement, count: 50).joined(separator: "\n# a comment\n")
    #expect(Self.parse(fifty).diagnostics.isEmpty)
    let file = Self.parse(fifty + "\n\n" + statement + "\n" + statement)
    #expect(file.statementCount == 52)
    #expect(file.diagnostics.map(\.code) == [IAMCode.tooManyStatements])
    #expect(file.source.line(containing: file.diagnostics[0].range.lowerBound) == 101)
  }

  @Test func oneStatementReportsAtMostTenDiagnostics() {
    // Forty conditions that can never hold: forty warnings, ten shown.
    let clauses = Array(repeating: "request.permission='USER_READ'", count: 40)
    let text =
      "allow group A to manage vcns in tenancy where any {\(clauses.joined(separator: ", "))}"
    let file = Self.parse(text)
    #expect(file.statements.count == 1)
    #expect(file.diagnostics.count == 11)
    #expect(file.diagnostics.prefix(10).allSatisfy { $0.code == IAMCode.permissionNotGranted })
    let last = file.diagnostics[10]
    #expect(last.code == IAMCode.moreDiagnostics)
    #expect(last.severity == .warning)
    #expect(last.message.contains("30 more"))
  }

  @Test func aFileReportsAtMostAHundredDiagnosticsAndSaysHowManyMore() {
    let file = Self.parse(
      Array(repeating: "Alow group A to read vcns in tenancy", count: 300).joined(separator: "\n"))
    #expect(file.diagnostics.count == 101)
    let last = file.diagnostics[100]
    #expect(last.code == IAMCode.moreDiagnostics)
    #expect(last.severity == .error)
    // 300 statements with an error each, and the 51st is one too many for a policy.
    #expect(last.message.contains("and 201 more"), "\(last.message)")
  }

  /// Inputs that would make a careless parser slow or its report long.
  static func hostile(_ index: Int) -> String {
    switch index {
    case 0: String(repeating: "{", count: 100_000)
    case 1:
      "allow group A to read vcns in tenancy where " + String(repeating: "any {", count: 100_000)
    case 2:
      "allow group A to read vcns in tenancy where any {"
        + Array(repeating: "request.permission='VCN_INSPECT'", count: 5_000).joined(separator: ",")
    case 3: "allow group " + Array(repeating: "a", count: 50_000).joined(separator: ", ") + " to"
    case 4: "allow " + String(repeating: "x", count: 200_000)
    case 5: "allow group A to read " + String(repeating: "vcn ", count: 50_000) + "in tenancy"
    case 6: "allow group A to read vcns in tenancy where " + String(repeating: "'", count: 100_001)
    default:
      "allow group A to manage vcns in tenancy where all {"
        + Array(repeating: "request.permission='USER_READ'", count: 5_000).joined(separator: ",")
        + "}"
    }
  }

  @Test(arguments: 0..<8)
  func noInputMakesTheReportGrowWithIt(hostile index: Int) {
    let text = Self.hostile(index)
    // Without the length limit, so that the parser reads it all: the caps still hold, and every
    // message stays short.
    let file = Self.parse(text + "\n" + text, limits: Self.unlimited)
    #expect(file.diagnostics.count <= 2 * 11)
    for diagnostic in file.diagnostics {
      #expect(diagnostic.message.count < 400, "\(diagnostic.message.prefix(200))")
    }
    // And with it, one diagnostic a line.
    let limited = Self.parse(text + "\n" + text)
    #expect(
      limited.diagnostics.map(\.code) == [IAMCode.statementTooLong, IAMCode.statementTooLong])
  }
}
