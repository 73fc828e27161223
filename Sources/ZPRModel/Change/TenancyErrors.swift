public import ZPRPolicy

/// The errors that make a tenancy unacceptable: its consistency errors and the errors the
/// catalog finds in its policies' statements (unknown namespaces and attributes, rejected
/// values), as the tenancy file loader reports them. Warnings are not part of it.
public struct TenancyErrors: Hashable, Sendable {
  /// The error issues of ``Tenancy/consistencyIssues()``.
  public var issues: [TenancyIssue]
  /// The catalog's errors in policy statements, each with its path
  /// (`policies[1].statements[0]`).
  public var statements: [Diagnostic]

  /// Errors from their parts.
  public init(issues: [TenancyIssue] = [], statements: [Diagnostic] = []) {
    self.issues = issues
    self.statements = statements
  }

  /// Whether there are none.
  public var isEmpty: Bool { issues.isEmpty && statements.isEmpty }
}

/// Why ``CheckedTenancy`` refused a change.
public enum ChangeRefusal: Error, Hashable, Sendable {
  /// The change cannot be made at all (nothing to remove, a catalog step the catalog refuses).
  case inapplicable(ModelError)
  /// The changed tenancy would have these errors.
  case inconsistent(TenancyErrors)
}

extension Tenancy {
  /// Every error of the whole tenancy, checked from scratch: what ``CheckedTenancy`` answers
  /// for one change, with work proportional to the change.
  public func errors() -> TenancyErrors {
    TenancyErrors(
      issues: consistencyIssues().filter { $0.severity == .error },
      statements: statementErrors(inPolicies: Array(policies.indices)))
  }

  /// The catalog's errors in the statements of the policies at these positions.
  func statementErrors(inPolicies positions: [Int]) -> [Diagnostic] {
    let check = PolicyCatalogCheck(catalogOf: self)
    var errors: [Diagnostic] = []
    for position in positions {
      for (number, statement) in policies[position].statements.enumerated() {
        for var problem in check.catalogProblems(for: statement) where problem.severity == .error {
          problem.path = "policies[\(position)].statements[\(number)]"
          errors.append(problem)
        }
      }
    }
    return errors
  }
}
