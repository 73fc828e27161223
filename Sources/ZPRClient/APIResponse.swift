public import Foundation

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
  public var object: [String: Any] {
    (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
  }
}
