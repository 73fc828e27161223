public import ZPRPolicy

/// An error of the zpr REST API client: a stable code, a message that says what to do, and,
/// when the server answered, its HTTP status and the details it gave.
public struct APIError: ZPRError, Hashable {
  /// A stable code: the server's (such as `ZPR-API-013`), `HTTP-` and the status when the
  /// server gave none, or the client's own (`ZPR-CLI-010` to `ZPR-CLI-012`, `ZPR-CLI-033`).
  public var code: String
  /// What went wrong and what to do, with the server's details on lines of their own.
  public var message: String
  /// The HTTP status the server answered with; nil when no answer came.
  public var status: Int?
  /// The details the server gave (each failing check, resource or line).
  public var details: [Detail]

  /// One detail of the server's error answer.
  public struct Detail: Hashable, Sendable {
    /// What is wrong.
    public var message: String
    /// The kind of the resource it is about, such as `instance`.
    public var kind: String?
    /// The name of the resource it is about.
    public var name: String?
    /// The line of the submitted file it is about.
    public var line: Int?
    /// What to do about it.
    public var suggestion: String?

    /// A detail.
    public init(
      message: String, kind: String? = nil, name: String? = nil, line: Int? = nil,
      suggestion: String? = nil
    ) {
      self.message = message
      self.kind = kind
      self.name = name
      self.line = line
      self.suggestion = suggestion
    }
  }

  /// An error.
  public init(code: String, message: String, status: Int? = nil, details: [Detail] = []) {
    self.code = code
    self.message = message
    self.status = status
    self.details = details
  }

  /// The stable code.
  public var codeText: String { code }

  /// The code of ``noKey(server:configPath:)``.
  public static let noKeyCode = "ZPR-CLI-010"
  /// The code of ``badServer(_:)``.
  public static let badServerCode = "ZPR-CLI-011"
  /// The code of ``unreachable(_:reason:)``.
  public static let unreachableCode = "ZPR-CLI-012"

  /// The code of ``unsendable(_:reason:)``.
  public static let unsendableCode = "ZPR-CLI-033"
  /// The code of an answer that is not what the client expects (``APIResponse/decode(_:)``).
  public static let unexpectedAnswerCode = "ZPR-CLI-035"

  /// A request that cannot be sent as it was made (a path that makes no URL, a body that is
  /// not JSON): a mistake of the program that made it.
  public static func unsendable(_ path: String, reason: String) -> APIError {
    APIError(
      code: unsendableCode,
      message:
        "cannot send the request to \(path): \(reason); this is a bug in the program that made "
        + "it, please report it")
  }

  /// Neither `ZPR_API_KEY` nor the config file holds a key.
  public static func noKey(server: String, configPath: String) -> APIError {
    APIError(
      code: noKeyCode,
      message:
        "no API key: set ZPR_API_KEY to the key `zpr serve` printed, or write it to "
        + "\(configPath) as {\"server\": \"\(server)\", \"apiKey\": \"KEY\"}")
  }

  /// The server's address is not an http or https URL.
  public static func badServer(_ server: String) -> APIError {
    APIError(
      code: badServerCode,
      message: "--server must be a URL such as http://127.0.0.1:8080, not '\(server)'")
  }

  /// No answer came from the server.
  public static func unreachable(_ server: String, reason: String) -> APIError {
    APIError(
      code: unreachableCode,
      message:
        "cannot reach the zpr server at \(server) (\(reason)): "
        + "start it with `zpr serve`, or point --server or ZPR_SERVER at it")
  }

  /// The server answered 401 to the key that was sent: the message names where the key came
  /// from and what to do. The code stays the server's (`ZPR-API-032`: a key it does not know).
  public static func keyRefused(
    by server: String, from source: KeySource, code: String, reason: String?
  ) -> APIError {
    let why =
      code == "ZPR-API-032"
      ? "the server does not know it (it was revoked, belongs to another server, or was "
        + "copied wrong)"
      : (reason ?? "the server answered 401")
    return APIError(
      code: code,
      message:
        "the zpr server at \(server) refused the API key from \(source): \(why); check that "
        + "\(source) holds the whole key as it was given to you, or ask an administrator of "
        + "this server for a new one (they create it with POST /v1/apiKeys, see docs/api.md; "
        + "on a new server the admin key is the one `zpr serve` printed on first start)",
      status: 401)
  }

  /// The server's error answer (a JSON object with `code`, `message` and `details`, or
  /// anything else) as an error: its message, then each detail on a line of its own.
  static func answer(status: Int, object: JSONValue) -> APIError {
    let code = object["code"]?.string ?? "HTTP-\(status)"
    var message = object["message"]?.string ?? "the server answered \(status)"
    var details: [Detail] = []
    for detail in object["details"]?.array ?? [] {
      // A detail's fields as text, whatever JSON type they came as.
      func field(_ key: String) -> String? {
        detail[key].map { $0.string ?? $0.serialized(pretty: false) }
      }
      let text = field("message") ?? field("failure") ?? detail.serialized(pretty: false)
      // Name the resource unless the message already does.
      let name =
        field("name").flatMap {
          text.contains("'\($0)'") ? nil : "\(field("kind") ?? "") '\($0)': "
        } ?? ""
      let line = field("line").map { "line \($0): " } ?? ""
      // A statement's place in its policy, as the element's path writes it.
      let statement = field("statement").map { "statements[\($0)]: " } ?? ""
      message +=
        "\n  - \(line)\(name)\(statement)\(text)"
        + (field("suggestion").map { " (\($0))" } ?? "")
      details.append(
        Detail(
          message: text, kind: field("kind"), name: field("name"),
          line: field("line").flatMap { Int($0) }, suggestion: field("suggestion")))
    }
    return APIError(code: code, message: message, status: status, details: details)
  }
}
