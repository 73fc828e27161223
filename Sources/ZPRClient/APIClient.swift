public import Foundation
public import ZPRPolicy

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Where the client's API key came from, for messages about it.
public enum KeySource: Hashable, Sendable, CustomStringConvertible {
  /// The environment variable `ZPR_API_KEY`.
  case environment
  /// The config file at this path.
  case configFile(String)

  /// `ZPR_API_KEY`, or "the config file PATH".
  public var description: String {
    switch self {
    case .environment: "ZPR_API_KEY"
    case .configFile(let path): "the config file \(path)"
    }
  }
}

/// A thin client of the zpr REST API: where the server is, the key it sends, and the errors
/// the server answers with as ``APIError``s.
public struct APIClient: Sendable {
  /// The server's address, such as `http://127.0.0.1:8080`.
  public let base: URL
  /// The API key, sent as `Authorization: Bearer KEY`.
  public let key: String
  /// Where ``key`` came from.
  public var keySource: KeySource
  /// How long to wait for an answer to go on, in seconds: a minute, longer for the calls
  /// that read or write a whole tenancy (`apply` of a large one takes a while).
  public var timeout: Double = 60

  /// A client of the server at `base` with a key.
  public init(base: URL, key: String, keySource: KeySource = .environment) {
    self.base = base
    self.key = key
    self.keySource = keySource
  }

  /// The server used when none is named.
  public static let defaultServer = "http://127.0.0.1:8080"

  /// The config file: `~/.config/zpr/config.json` (`{"server": URL, "apiKey": KEY}`).
  public static var defaultConfigPath: String {
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return "\(home)/.config/zpr/config.json"
  }

  /// The client for `server` (or else `ZPR_SERVER`, the config file's, or
  /// ``defaultServer``) with the key from `ZPR_API_KEY` or the config file.
  public static func resolve(
    server: String?,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    configPath: String = APIClient.defaultConfigPath
  ) throws(APIError) -> APIClient {
    let file =
      (try? Data(contentsOf: URL(fileURLWithPath: configPath))).flatMap {
        try? JSONValue.parse(Array($0))
      } ?? .object([])
    let server =
      server ?? environment["ZPR_SERVER"] ?? file["server"]?.string ?? defaultServer
    let key: String
    let keySource: KeySource
    if let set = environment["ZPR_API_KEY"], !set.isEmpty {
      (key, keySource) = (set, .environment)
    } else if let written = file["apiKey"]?.string, !written.isEmpty {
      (key, keySource) = (written, .configFile(configPath))
    } else {
      throw .noKey(server: server, configPath: configPath)
    }
    guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
      throw .badServer(server)
    }
    return APIClient(base: url, key: key, keySource: keySource)
  }

  /// Sends a request; returns the status, the body and the ETag. Errors the server answers
  /// with are thrown as an ``APIError`` carrying its code, message and details.
  @discardableResult
  public func send(
    _ method: String, _ path: String, json: JSONValue? = nil, headers: [String: String] = [:]
  ) async throws(APIError) -> (status: Int, body: Data, etag: String?) {
    let answer = try await exchange(method, path, json: json, headers: headers)
    return (answer.status, answer.body, answer.header("ETag"))
  }

  /// Sends a request (`json`, when given, as its JSON body); returns the whole answer. Errors
  /// the server answers with are thrown as an ``APIError`` carrying its code, message and
  /// details; a refused key says where it came from.
  public func exchange(
    _ method: String, _ path: String, json: JSONValue? = nil, headers: [String: String] = [:]
  ) async throws(APIError) -> APIResponse {
    guard let url = URL(string: base.absoluteString + path) else {
      throw .unsendable(path, reason: "'\(base.absoluteString + path)' is not a URL")
    }
    var request = URLRequest(url: url)
    request.timeoutInterval = timeout
    request.httpMethod = method
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if let json {
      request.httpBody = Data(json.serializedBytes())
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let data: Data
    let response: URLResponse
    do {
      (data, response) = try await URLSession.shared.data(for: request)
    } catch {
      throw .unreachable(base.absoluteString, reason: error.localizedDescription)
    }
    guard let http = response as? HTTPURLResponse else {
      throw .unreachable(base.absoluteString, reason: "the answer is not HTTP")
    }
    guard (200..<300).contains(http.statusCode) else {
      let object = (try? JSONValue.parse(Array(data))) ?? .object([])
      if http.statusCode == 401 {
        throw .keyRefused(
          by: base.absoluteString, from: keySource,
          code: object["code"]?.string ?? "HTTP-401", reason: object["message"]?.string)
      }
      throw .answer(status: http.statusCode, object: object)
    }
    return APIResponse(status: http.statusCode, body: data, response: http)
  }

  /// Sends a request; returns the answer's body as a JSON object (empty when it is not one).
  public func object(
    _ method: String, _ path: String, json: JSONValue? = nil, headers: [String: String] = [:]
  ) async throws(APIError) -> JSONValue {
    try await exchange(method, path, json: json, headers: headers).object
  }

  /// Sends a typed request body (encoded as JSON); returns the answer.
  public func exchange(
    _ method: String, _ path: String, body: some Encodable, headers: [String: String] = [:]
  ) async throws(APIError) -> APIResponse {
    let json: JSONValue
    do {
      json = try JSONValueEncoder().encode(body)
    } catch {
      throw .unsendable(path, reason: "its body cannot be written as JSON (\(error))")
    }
    return try await exchange(method, path, json: json, headers: headers)
  }
}
