import Foundation
import Testing
import ZPRPolicy

@testable import ZPRClient

/// The REST client as a library: where the server and the key come from, and the errors it
/// throws with their stable codes.
@Suite("API client")
struct APIClientTests {
  @Test func theServerAndKeyComeFromTheEnvironmentBeforeTheConfigFile() throws {
    let scratch = try Scratch()
    let config = scratch.url.appendingPathComponent("config.json").path
    try #"{"server": "https://zpr.example:8443", "apiKey": "from-file"}"#.write(
      toFile: config, atomically: true, encoding: .utf8)

    let fromEnvironment = try APIClient.resolve(
      server: nil, environment: ["ZPR_SERVER": "http://10.0.0.1:8080", "ZPR_API_KEY": "from-env"],
      configPath: config)
    #expect(fromEnvironment.base.absoluteString == "http://10.0.0.1:8080")
    #expect(fromEnvironment.key == "from-env")
    #expect(fromEnvironment.keySource == .environment)

    let fromFile = try APIClient.resolve(server: nil, environment: [:], configPath: config)
    #expect(fromFile.base.absoluteString == "https://zpr.example:8443")
    #expect(fromFile.key == "from-file")
    #expect(fromFile.keySource == .configFile(config))
    #expect(fromFile.keySource.description == "the config file \(config)")

    // --server wins over both.
    let named = try APIClient.resolve(
      server: "http://127.0.0.1:9", environment: ["ZPR_SERVER": "http://10.0.0.1:8080"],
      configPath: config)
    #expect(named.base.absoluteString == "http://127.0.0.1:9")
  }

  @Test func withoutAKeyOrAURLTheErrorSaysWhatToDo() {
    let missing = "/nonexistent/zpr/config.json"
    let noKey = #expect(throws: APIError.self) {
      try APIClient.resolve(server: nil, environment: ["ZPR_API_KEY": ""], configPath: missing)
    }
    #expect(noKey?.code == "ZPR-CLI-010")
    #expect(noKey?.status == nil)
    #expect(
      noKey?.message
        == "no API key: set ZPR_API_KEY to the key `zpr serve` printed, or write it to "
        + "\(missing) as {\"server\": \"http://127.0.0.1:8080\", \"apiKey\": \"KEY\"}")
    #expect(throws: APIError.badServer("ftp://x")) {
      try APIClient.resolve(
        server: "ftp://x", environment: ["ZPR_API_KEY": "k"], configPath: missing)
    }
    #expect(APIError.badServer("ftp://x").code == "ZPR-CLI-011")
  }

  @Test func aServerThatDoesNotAnswerIsUnreachable() async throws {
    let client = APIClient(base: URL(string: "http://127.0.0.1:1")!, key: "k")
    let error = await #expect(throws: APIError.self) {
      try await client.send("GET", "/v1/vcns")
    }
    #expect(error?.code == "ZPR-CLI-012")
    #expect(error?.status == nil)
    let message = error?.message ?? ""
    #expect(message.hasPrefix("cannot reach the zpr server at http://127.0.0.1:1 ("))
    #expect(message.hasSuffix("start it with `zpr serve`, or point --server or ZPR_SERVER at it"))
  }

  @Test func theServersErrorKeepsItsCodeAndDetails() {
    let error = APIError.answer(
      status: 422,
      object: try! JSONValue.parse(
        #"{"code": "ZPR-API-013", "message": "the change breaks a policy test", "details": ["#
          + #"{"kind": "instance", "name": "web-1", "message": "no VNIC", "suggestion": "add one"},"#
          + #"{"line": 4, "message": "'db' is unknown"}]}"#))
    #expect(error.code == "ZPR-API-013")
    #expect(error.status == 422)
    #expect(
      error.message
        == "the change breaks a policy test\n  - instance 'web-1': no VNIC (add one)\n"
        + "  - line 4: 'db' is unknown")
    #expect(
      error.details == [
        APIError.Detail(message: "no VNIC", kind: "instance", name: "web-1", suggestion: "add one"),
        APIError.Detail(message: "'db' is unknown", line: 4),
      ])
    // An answer that is not the API's: the status is the code.
    #expect(APIError.answer(status: 502, object: .object([])).code == "HTTP-502")
    #expect(APIError.answer(status: 502, object: .object([])).message == "the server answered 502")
  }

  @Test func aRefusedKeyNamesWhereItCameFrom() {
    let error = APIError.keyRefused(
      by: "http://zpr:8080", from: .configFile("/home/a/.config/zpr/config.json"),
      code: "ZPR-API-032", reason: nil)
    #expect(error.status == 401)
    #expect(
      error.message.hasPrefix(
        "the zpr server at http://zpr:8080 refused the API key from the config file "
          + "/home/a/.config/zpr/config.json: the server does not know it"))
  }
}
