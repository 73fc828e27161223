import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

@Suite("zpr serve")
struct ServeTests {
  /// Starts the real binary on a free port with a fresh database, creates a policy with the
  /// printed admin key, and stops it.
  @Test func servesTheAPIWithTheKeyItPrints() async throws {
    let scratch = try Scratch()
    let process = Process()
    process.executableURL = try ZPRProcess.executable()
    process.arguments = [
      "serve", "--listen", "127.0.0.1:0", "--database",
      scratch.url.appendingPathComponent("db/zpr.sqlite").path,
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
      process.terminate()
      process.waitUntilExit()
    }
    var text = ""
    var port: Int?
    var key: String?
    while port == nil {
      let data = output.fileHandleForReading.availableData
      guard !data.isEmpty else { break }
      text += String(decoding: data, as: UTF8.self)
      for line in text.split(separator: "\n") {
        if line.hasPrefix("  zpr_") { key = line.trimmingCharacters(in: .whitespaces) }
        if let range = line.range(of: "serving on http://127.0.0.1:") {
          port = Int(line[range.upperBound...].prefix { $0.isNumber })
        }
      }
    }
    let base = try #require(port.map { "http://127.0.0.1:\($0)" }, "no port in: \(text)")
    let admin = try #require(key, "no key in: \(text)")

    let (health, _) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
    #expect(String(decoding: health, as: UTF8.self).contains("\"status\":\"ok\""))

    var request = URLRequest(url: URL(string: base + "/v1/zprPolicies")!)
    request.httpMethod = "POST"
    request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
    request.httpBody = Data(
      #"{"name":"p","description":"d","statements":["in a:b VCN allow c:d endpoints to connect to e:f endpoints"]}"#
        .utf8)
    let (_, response) = try await URLSession.shared.data(for: request)
    #expect((response as? HTTPURLResponse)?.statusCode == 201)

    var unauthorized = URLRequest(url: URL(string: base + "/v1/zprPolicies")!)
    unauthorized.setValue("Bearer nope", forHTTPHeaderField: "Authorization")
    let (_, refused) = try await URLSession.shared.data(for: unauthorized)
    #expect((refused as? HTTPURLResponse)?.statusCode == 401)
  }
}
