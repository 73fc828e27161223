/// The one shape of zpr's errors, in every module: a stable code (an enum per module, such as
/// ``JSONReadError/Code``), a message that says what is wrong and what to do, and the error
/// that caused it when there is one. Printed as `message [CODE]`, each cause on a line of its
/// own below. Errors compare and hash by code and message, so tests compare them directly.
public protocol ZPRError: Error, Sendable, CustomStringConvertible {
  /// The stable code's text, such as `ZPR-MODEL-004`: what scripts and the error reference key on.
  var codeText: String { get }
  /// What is wrong and what to do.
  var message: String { get }
  /// The error underneath, when this one reports another's failure.
  var cause: (any Error)? { get }
}

extension ZPRError {
  /// No cause, unless the type keeps one.
  public var cause: (any Error)? { nil }

  /// `message [CODE]`, then each cause below it, one level deeper each: `  caused by: ...`.
  public var description: String {
    var text = "\(message) [\(codeText)]"
    var next = cause
    var depth = 1
    while let error = next, depth <= 8 {
      let line: String
      if let inner = error as? any ZPRError {
        line = "\(inner.message) [\(inner.codeText)]"
        next = inner.cause
      } else {
        line = String(describing: error)
        next = nil
      }
      text += "\n" + String(repeating: "  ", count: depth) + "caused by: " + line
      depth += 1
    }
    return text
  }
}

/// A code enum of an error: its raw value is the stable code.
extension ZPRError where Self: CodedError {
  public var codeText: String { code.rawValue }
}

/// An error whose code is an enum of stable codes.
public protocol CodedError {
  /// The enum of the module's codes.
  associatedtype Code: RawRepresentable where Code.RawValue == String
  /// This error's code.
  var code: Code { get }
}

/// The error underneath another, kept with it but left out of its equality and hash: two
/// errors of the same code and message are the same error, whatever caused them.
public struct ErrorCause: Hashable, Sendable {
  /// The error, if there is one.
  public var error: (any Error)?

  /// A cause.
  public init(_ error: (any Error)?) {
    self.error = error
  }

  public static func == (lhs: ErrorCause, rhs: ErrorCause) -> Bool { true }

  public func hash(into hasher: inout Hasher) {}
}
