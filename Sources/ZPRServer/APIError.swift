import Foundation
public import Hummingbird
public import ZPRPolicy

/// An error the API answers with: the right 4xx (or 5xx), a stable code, a message that says
/// what to do, and for refused policies the diagnostics.
public struct APIError: HTTPResponseError, ZPRError {
  public var status: HTTPResponse.Status
  public var code: String
  public var message: String
  /// Diagnostics of a refused policy: `[{"code", "message", "line", "column", "suggestion"}]`.
  public var details: [[String: String]]

  /// An error.
  public init(
    _ status: HTTPResponse.Status, _ code: String, _ message: String,
    details: [[String: String]] = []
  ) {
    self.status = status
    self.code = code
    self.message = message
    self.details = Self.capped(details)
  }

  /// The stable code.
  public var codeText: String { code }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    try ZPRServer.json(
      Problem(code: code, details: details.isEmpty ? nil : details, message: message),
      status: status)
  }

  /// The answer's body: `code`, `message`, and the details when there are any.
  struct Problem: Encodable {
    var code: String
    var details: [[String: String]]?
    var message: String
  }

  /// The most details an answer lists; the rest are counted in a last one.
  static let detailLimit = 50

  /// Details cut to the limit, with a last one that counts the others.
  static func capped(_ details: [[String: String]]) -> [[String: String]] {
    guard details.count > detailLimit else { return details }
    return Array(details.prefix(detailLimit)) + [
      ["message": "... and \(details.count - detailLimit) more: fix these first"]
    ]
  }

  static func unauthorized() -> APIError {
    APIError(
      .unauthorized, "ZPR-API-001",
      "this call needs an API key: send the header 'Authorization: Bearer KEY'")
  }

  static func malformed(_ reason: String) -> APIError {
    APIError(
      .badRequest, "ZPR-API-002", "the body is not valid JSON (\(reason)): send a JSON object")
  }

  static func unknownField(_ field: String, allowed: [String]) -> APIError {
    APIError(
      .badRequest, "ZPR-API-003",
      "unknown field '\(field)': the fields are \(allowed.joined(separator: ", "))")
  }

  static func wrongType(_ field: String, _ expected: String) -> APIError {
    APIError(.badRequest, "ZPR-API-004", "'\(field)' must be \(expected)")
  }

  static func missingField(_ field: String) -> APIError {
    APIError(.badRequest, "ZPR-API-005", "'\(field)' is required: add it")
  }
}
