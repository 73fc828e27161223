import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Where the server is and the key to use: `--server` or `ZPR_SERVER`, and `ZPR_API_KEY`, or
/// else the config file `~/.config/zpr/config.json` (`{"server": URL, "apiKey": KEY}`).
struct ClientOptions: ParsableArguments {
  @Option(help: "The zpr server (default: $ZPR_SERVER, the config file, or http://127.0.0.1:8080).")
  var server: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  static var configPath: String {
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return "\(home)/.config/zpr/config.json"
  }

  func client() throws -> APIClient {
    try APIClient.resolve(server: server)
  }
}

extension APIClient {
  /// The client for `--server` (or `ZPR_SERVER`, or the config file) with the key from
  /// `ZPR_API_KEY` or the config file.
  static func resolve(server: String?) throws -> APIClient {
    let environment = ProcessInfo.processInfo.environment
    let file =
      (try? Data(contentsOf: URL(fileURLWithPath: ClientOptions.configPath))).flatMap {
        try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
      } ?? [:]
    let server =
      server ?? environment["ZPR_SERVER"] ?? file["server"] as? String ?? "http://127.0.0.1:8080"
    let key: String
    let keySource: KeySource
    if let set = environment["ZPR_API_KEY"], !set.isEmpty {
      (key, keySource) = (set, .environment)
    } else if let written = file["apiKey"] as? String, !written.isEmpty {
      (key, keySource) = (written, .configFile(ClientOptions.configPath))
    } else {
      throw CLIError(
        code: "ZPR-CLI-010",
        message:
          "no API key: set ZPR_API_KEY to the key `zpr serve` printed, or write it to "
          + "\(ClientOptions.configPath) as {\"server\": \"\(server)\", \"apiKey\": \"KEY\"}")
    }
    guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
      throw CLIError(
        code: "ZPR-CLI-011",
        message: "--server must be a URL such as http://127.0.0.1:8080, not '\(server)'")
    }
    return APIClient(base: url, key: key, keySource: keySource)
  }
}

/// Where the client's API key came from, for messages about it.
enum KeySource: Hashable, CustomStringConvertible {
  /// The environment variable `ZPR_API_KEY`.
  case environment
  /// The config file at this path.
  case configFile(String)

  var description: String {
    switch self {
    case .environment: "ZPR_API_KEY"
    case .configFile(let path): "the config file \(path)"
    }
  }
}

/// An answer of the server: its status, body and headers.
struct APIResponse: Sendable {
  var status: Int
  var body: Data
  /// The headers, by lower-case name.
  var headers: [String: String]

  init(status: Int, body: Data, response: HTTPURLResponse) {
    self.status = status
    self.body = body
    var headers: [String: String] = [:]
    for case (let name as String, let value as String) in response.allHeaderFields {
      headers[name.lowercased()] = value
    }
    self.headers = headers
  }

  /// A header's value (names compare without regard to case).
  func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A thin client of the zpr REST API.
struct APIClient {
  let base: URL
  let key: String
  /// Where ``key`` came from.
  var keySource = KeySource.environment

  /// Sends a request; returns the status, the body and the ETag. Errors the server answers
  /// with are thrown as a `CLIError` carrying its code, message and details.
  @discardableResult
  func send(
    _ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:]
  ) async throws -> (status: Int, body: Data, etag: String?) {
    let answer = try await exchange(method, path, json: json, headers: headers)
    return (answer.status, answer.body, answer.header("ETag"))
  }

  /// Sends a request; returns the whole answer. Errors the server answers with are thrown as a
  /// `CLIError` carrying its code, message and details; a refused key says where it came from.
  func exchange(
    _ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:]
  ) async throws -> APIResponse {
    var request = URLRequest(url: URL(string: base.absoluteString + path)!)
    request.httpMethod = method
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if let json {
      request.httpBody = try JSONSerialization.data(withJSONObject: json)
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let data: Data
    let response: URLResponse
    do {
      (data, response) = try await URLSession.shared.data(for: request)
    } catch {
      throw CLIError(
        code: "ZPR-CLI-012",
        message:
          "cannot reach the zpr server at \(base.absoluteString) (\(error.localizedDescription)): "
          + "start it with `zpr serve`, or point --server or ZPR_SERVER at it", exitCode: 1)
    }
    let http = response as! HTTPURLResponse
    guard (200..<300).contains(http.statusCode) else {
      let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
      let code = object["code"] as? String ?? "HTTP-\(http.statusCode)"
      if http.statusCode == 401 {
        throw CLIError.keyRefused(
          by: base.absoluteString, from: keySource, code: code,
          reason: object["message"] as? String)
      }
      var message = object["message"] as? String ?? "the server answered \(http.statusCode)"
      for detail in object["details"] as? [[String: Any]] ?? [] {
        let text =
          detail["message"] as? String ?? detail["failure"].map { "\($0)" } ?? "\(detail)"
        // Name the resource unless the message already does.
        let name =
          (detail["name"] as? String).flatMap {
            text.contains("'\($0)'") ? nil : "\(detail["kind"] ?? "") '\($0)': "
          } ?? ""
        let line = detail["line"].map { "line \($0): " } ?? ""
        message +=
          "\n  - \(line)\(name)\(text)"
          + (detail["suggestion"].map { " (\($0))" } ?? "")
      }
      throw CLIError(code: code, message: message, exitCode: 1)
    }
    return APIResponse(status: http.statusCode, body: data, response: http)
  }

  /// The response as a JSON object.
  func object(_ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:])
    async throws -> [String: Any]
  {
    let (_, data, _) = try await send(method, path, json: json, headers: headers)
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
  }
}

/// JSON for people: sorted keys, indented.
func prettyJSON(_ value: Any) -> String {
  let data =
    (try? JSONSerialization.data(
      withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
    ?? Data()
  return String(decoding: data, as: UTF8.self)
}

extension CLIError {
  /// The server answered 401 to the key that was sent: the message names where the key came
  /// from and what to do. The code stays the server's (`ZPR-API-032`: a key it does not know).
  static func keyRefused(by server: String, from source: KeySource, code: String, reason: String?)
    -> CLIError
  {
    let why =
      code == "ZPR-API-032"
      ? "the server does not know it (it was revoked, belongs to another server, or was "
        + "copied wrong)"
      : (reason ?? "the server answered 401")
    return CLIError(
      code: code,
      message:
        "the zpr server at \(server) refused the API key from \(source): \(why); check that "
        + "\(source) holds the whole key as it was given to you, or ask an administrator of "
        + "this server for a new one (they create it with POST /v1/apiKeys, see docs/api.md; "
        + "on a new server the admin key is the one `zpr serve` printed on first start)",
      exitCode: 1)
  }
}
