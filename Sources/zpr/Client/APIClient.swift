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
    guard let key = environment["ZPR_API_KEY"] ?? file["apiKey"] as? String else {
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
    return APIClient(base: url, key: key)
  }
}

/// A thin client of the zpr REST API.
struct APIClient {
  let base: URL
  let key: String

  /// Sends a request; returns the status, the body and the ETag. Errors the server answers
  /// with are thrown as a `CLIError` carrying its code, message and details.
  @discardableResult
  func send(
    _ method: String, _ path: String, json: Any? = nil, headers: [String: String] = [:]
  ) async throws -> (status: Int, body: Data, etag: String?) {
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
      throw CLIError(
        code: object["code"] as? String ?? "HTTP-\(http.statusCode)", message: message,
        exitCode: 1)
    }
    return (http.statusCode, data, http.value(forHTTPHeaderField: "ETag"))
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
