public import ZPRPolicy

/// Why a change to the model was refused. Nothing was changed. The code is stable; the message
/// says what is wrong and what to do.
public struct ModelError: ZPRError, CodedError, Hashable {
  /// A stable code such as `ZPR-MODEL-004`.
  public let code: Code
  /// What is wrong and how to fix it.
  public let message: String

  /// The stable codes.
  public enum Code: String, Hashable, Sendable, CaseIterable {
    /// A name breaks the naming rule.
    case invalidName = "ZPR-MODEL-001"
    /// A name is already taken (names compare without regard to case).
    case duplicateName = "ZPR-MODEL-002"
    /// Nothing by that name exists.
    case notFound = "ZPR-MODEL-003"
    /// The object is not in a state that allows the operation.
    case invalidState = "ZPR-MODEL-004"
    /// A limit of `ZPRLimits` would be exceeded.
    case limitExceeded = "ZPR-MODEL-005"
    /// An ENUM validator is malformed.
    case invalidValidator = "ZPR-MODEL-006"
    /// A value does not pass the attribute's validator.
    case valueRejected = "ZPR-MODEL-007"
    /// A description is missing.
    case missingDescription = "ZPR-MODEL-008"
    /// ZPR is already enabled.
    case alreadyEnabled = "ZPR-MODEL-009"
    /// The same attribute is applied twice to one resource.
    case duplicateAttribute = "ZPR-MODEL-010"
    /// A namespace still holds attributes.
    case notEmpty = "ZPR-MODEL-011"
    /// A command-line flag for a resource's field is unknown or its value is malformed.
    case invalidFlag = "ZPR-MODEL-012"
    /// An element given as JSON or YAML is neither, or breaks the file's limits.
    case invalidElement = "ZPR-MODEL-013"
  }

  /// An error with a code and a message.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

}
