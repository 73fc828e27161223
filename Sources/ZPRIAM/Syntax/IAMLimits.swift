/// The limits of the IAM language: how much one policy and one statement may hold, and how many
/// diagnostics a file reports. The cloud service has the same statement limit per policy.
public struct IAMLimits: Hashable, Sendable {
  /// The most statements one IAM policy may hold.
  public var statementsPerPolicy: Int
  /// The longest statement, in characters (a comment after it does not count).
  public var statementLength: Int
  /// The most diagnostics reported for one statement; one more says how many were left out.
  public var diagnosticsPerStatement: Int
  /// The most diagnostics reported for one file; one more says how many were left out.
  public var diagnosticsPerFile: Int
  /// The most IAM policies a tenancy may hold (with the statements per policy, this bounds
  /// the statements every authorization reads).
  public var policiesPerTenancy: Int

  /// Limits from their parts.
  public init(
    statementsPerPolicy: Int, statementLength: Int, diagnosticsPerStatement: Int,
    diagnosticsPerFile: Int, policiesPerTenancy: Int = 100
  ) {
    self.statementsPerPolicy = statementsPerPolicy
    self.statementLength = statementLength
    self.diagnosticsPerStatement = diagnosticsPerStatement
    self.diagnosticsPerFile = diagnosticsPerFile
    self.policiesPerTenancy = policiesPerTenancy
  }

  /// The limits zpr applies: 50 statements a policy and 100 policies (as the cloud service),
  /// 4,096 characters a statement, 10 diagnostics a statement and 100 a file.
  public static let standard = IAMLimits(
    statementsPerPolicy: 50, statementLength: 4096, diagnosticsPerStatement: 10,
    diagnosticsPerFile: 100)
}
