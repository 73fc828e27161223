public import Foundation
public import ZPRPolicy

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// An answer of the server: its status, body and headers.
public struct APIResponse: Sendable {
  /// The HTTP status.
  public var status: Int
  /// The body as it came.
  public var body: Data
  /// The headers, by lower-case name.
  public var headers: [String: String]

  /// An answer.
  public init(status: Int, body: Data, headers: [String: String] = [:]) {
    self.status = status
    self.body = body
    self.headers = Dictionary(
      headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
  }

  init(status: Int, body: Data, response: HTTPURLResponse) {
    var headers: [String: String] = [:]
    for case (let name as String, let value as String) in response.allHeaderFields {
      headers[name.lowercased()] = value
    }
    self.init(status: status, body: body, headers: headers)
  }

  /// A header's value (names compare without regard to case).
  public func header(_ name: String) -> String? { headers[name.lowercased()] }

  /// The body as a JSON object; empty when it is not one.
  public var object: JSONValue {
    guard let value = try? JSONValue.parse(Array(body)), value.objectMembers != nil else {
      return .object([])
    }
    return value
  }

  /// The body as a typed value; a body of another shape is refused with what was wrong
  /// (`ZPR-CLI-035`), which means this client and the server disagree on the API.
  public func decode<T: Decodable>(_ type: T.Type) throws(APIError) -> T {
    do {
      return try JSONValueDecoder().decode(type, from: try JSONValue.parse(Array(body)))
    } catch let error as DecodingError {
      let (field, reason) = error.fieldAndReason
      throw APIError(
        code: APIError.unexpectedAnswerCode,
        message:
          "the server's answer is not what this zpr expects: '\(field)' \(reason); use a zpr of "
          + "the server's version (`zpr --version`, and the server's log)")
    } catch {
      throw APIError(
        code: APIError.unexpectedAnswerCode,
        message:
          "the server's answer is not JSON (\(error)): check that --server names a zpr server")
    }
  }
}
