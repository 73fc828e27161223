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
    let server = try ServerProcess.launch(
      ["--database", scratch.url.appendingPathComponent("db/zpr.sqlite").path],
      environment: ["ZPR_BOOTSTRAP_KEY": ""])
    defer { server.stop() }
    let key = server.printed.split(separator: "\n").first { $0.hasPrefix("  zpr_") }
      .map { $0.trimmingCharacters(in: .whitespaces) }
    let base = server.base
    let text = server.printed
    let admin = try #require(key, "no key in: \(text)")

    let (health, _) = try await URLSession.shared.data(from: URL(string: base + "/healthz")!)
    #expect(String(decoding: health, as: UTF8.self).contains("\"status\":\"ok\""))

    var seed = URLRequest(url: URL(string: base + "/v1/apply")!)
    seed.httpMethod = "POST"
    seed.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
    seed.httpBody = try JSONSerialization.data(withJSONObject: ["tenancy": ServerProcess.seed])
    let (_, seeded) = try await URLSession.shared.data(for: seed)
    #expect((seeded as? HTTPURLResponse)?.statusCode == 200)

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

    // Prometheus metrics: the requests so far, and the tenancy's figures.
    var scrape = URLRequest(url: URL(string: base + "/metrics")!)
    scrape.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
    let (metrics, scraped) = try await URLSession.shared.data(for: scrape)
    #expect((scraped as? HTTPURLResponse)?.statusCode == 200)
    let exposition = String(decoding: metrics, as: UTF8.self)
    for line in [
      "zpr_revision 3.0", "zpr_policies 1.0", "zpr_policy_statements 1.0", "zpr_endpoints 0.0",
    ] {
      #expect(
        exposition.split(separator: "\n").contains { $0 == line },
        "no '\(line)' in:\n\(exposition)")
    }
    #expect(exposition.contains("zpr_compile_seconds "))
    #expect(exposition.contains("hb_requests{"), "request counts")
    #expect(exposition.contains("http_server_request_duration"), "request latencies")
  }
  /// `--tls-cert` and `--tls-key`: the API over HTTPS (a certificate made for the test), and
  /// nothing over plain HTTP on that port.
  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"),
      "needs openssl and curl (scripts/install-deps.sh installs them)"))
  func servesHTTPSWithTheGivenCertificate() throws {
    let scratch = try Scratch()
    let cert = scratch.url.appendingPathComponent("cert.pem").path
    let key = scratch.url.appendingPathComponent("key.pem").path
    let made = Self.run(
      "/usr/bin/openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
        "1", "-subj", "/CN=127.0.0.1",
      ])
    #expect(made.status == 0, "\(made.output)")
    let server = try ServerProcess.launch([
      "--tls-cert", cert, "--tls-key", key, "--database",
      scratch.url.appendingPathComponent("zpr.sqlite").path,
    ])
    defer { server.stop() }
    #expect(server.base.hasPrefix("https://"), "\(server.printed)")
    let served = server.base.split(separator: ":").last ?? ""
    let secure = Self.run("/usr/bin/curl", ["-sk", "https://127.0.0.1:\(served)/healthz"])
    #expect(secure.output.contains("\"status\":\"ok\""), "\(secure.output)")
    let plain = Self.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(served)/healthz"])
    #expect(!plain.output.contains("\"status\""))
  }

  /// A database URL's password is never printed, not even when the database is out of reach.
  @Test func theDatabasePasswordIsNotPrinted() throws {
    let result = try ZPRProcess.run(
      ["serve", "--listen", "127.0.0.1:0", "--database", "postgres://zpr:hunter2@127.0.0.1:1/zpr"],
      environment: ["ZPR_BOOTSTRAP_KEY": ""])
    #expect(result.exitCode != 0)
    #expect(!(result.standardOutput + result.standardError).contains("hunter2"))
  }

  /// A weak `ZPR_BOOTSTRAP_KEY` stops the server before it starts.
  @Test func aWeakBootstrapKeyIsRefused() throws {
    for weak in ["a", "short-key"] {
      let result = try ZPRProcess.run(
        ["serve", "--listen", "127.0.0.1:0", "--database", "/nonexistent/zpr.sqlite"],
        environment: ["ZPR_BOOTSTRAP_KEY": weak])
      #expect(result.exitCode == 2)
      #expect(result.standardError.contains("at least 32 characters"), "\(result.standardError)")
    }
  }

  /// Runs a program, its output and error together.
  static func run(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

}

/// A server process on a database, for tests that stop it the hard way.
struct ServerProcess {
  let process: Process
  let base: String

  /// The address `zpr serve` printed, with what it printed up to there.
  var printed = ""

  /// Starts `zpr serve` on a free port with a known admin key and waits until it listens.
  static func start(database: String, key: String) throws -> ServerProcess {
    try launch(["--database", database], environment: ["ZPR_BOOTSTRAP_KEY": key])
  }

  /// Starts `zpr serve --listen 127.0.0.1:0` with more arguments and waits until it says where
  /// it serves (http or https).
  static func launch(_ arguments: [String], environment: [String: String] = [:]) throws
    -> ServerProcess
  {
    let process = Process()
    process.executableURL = try ZPRProcess.executable()
    process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
    // An empty value removes the variable.
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
      .filter { !$0.value.isEmpty }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    var text = ""
    while true {
      let data = output.fileHandleForReading.availableData
      guard !data.isEmpty else { break }
      text += String(decoding: data, as: UTF8.self)
      if let range = text.range(of: "serving on "),
        let colon = text[range.upperBound...].range(of: "127.0.0.1:")
      {
        let port = text[colon.upperBound...].prefix { $0.isNumber }
        let scheme = text[range.upperBound..<colon.lowerBound]
        guard !port.isEmpty, text[colon.upperBound...].count > port.count else { continue }
        return ServerProcess(
          process: process, base: "\(scheme)127.0.0.1:\(port)", printed: text)
      }
    }
    process.terminate()
    throw ZPRProcess.MissingExecutable()
  }

  /// Stops the server.
  func stop() {
    process.terminate()
    process.waitUntilExit()
  }

  /// A tenancy for the policies of these tests (`in a:b VCN allow c:d ... e:f ...`): ZPR
  /// enabled, with the attributes a, c and e in the default namespace.
  static let seed = """
    namespaces:
      - name: oracle-zpr
        description: The default namespace
        attributes:
          - {name: a, description: A}
          - {name: c, description: C}
          - {name: e, description: E}
    vcns: []
    """

  /// Applies ``seed`` (one revision).
  func seed(key: String) async throws {
    let body = try JSONSerialization.data(withJSONObject: ["tenancy": Self.seed])
    let (status, data) = try await request(
      "/v1/apply", method: "POST", key: key, body: String(decoding: body, as: UTF8.self))
    guard status == 200 else {
      throw SeedFailed(answer: String(decoding: data, as: UTF8.self))
    }
  }

  struct SeedFailed: Error {
    var answer: String
  }

  func request(_ path: String, method: String = "GET", key: String, body: String? = nil)
    async throws -> (Int, Data)
  {
    var request = URLRequest(url: URL(string: base + path)!)
    request.httpMethod = method
    request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    request.httpBody = body.map { Data($0.utf8) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
  }
}

/// How many writes the server acknowledged so far.
actor Acknowledged {
  private(set) var count = 0

  func add() { count += 1 }
}

/// A database for a server process: a SQLite file, or a PostgreSQL database of its own (when
/// `ZPR_TEST_POSTGRES_URL` names a server), dropped at the end.
final class ServerDatabase: @unchecked Sendable {
  static let postgres = ProcessInfo.processInfo.environment["ZPR_TEST_POSTGRES_URL"]
  static var kinds: [String] { postgres == nil ? ["sqlite"] : ["sqlite", "postgres"] }

  let location: String
  private let scratch: Scratch
  private let postgresName: String?

  init(_ kind: String) throws {
    scratch = try Scratch()
    if kind == "postgres", let admin = Self.postgres {
      let name = "zpr_serve_" + UUID().uuidString.lowercased().replacing("-", with: "")
      try Self.psql(admin, "CREATE DATABASE \(name)")
      postgresName = name
      location = "\(admin[..<admin.lastIndex(of: "/")!])/\(name)"
    } else {
      postgresName = nil
      location = scratch.url.appendingPathComponent("zpr.sqlite").path
    }
  }

  static func psql(_ admin: String, _ command: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    process.arguments = [admin, "-q", "-c", command]
    try process.run()
    process.waitUntilExit()
  }

  deinit {
    if let postgresName, let admin = Self.postgres {
      try? Self.psql(admin, "DROP DATABASE IF EXISTS \(postgresName) WITH (FORCE)")
    }
  }
}

@Suite("zpr serve after a crash")
struct CrashTests {
  /// Kills the server with SIGKILL in the middle of a stream of writes: after a restart every
  /// write it acknowledged is there, whole, and the revision and audit log agree with the data.
  /// On SQLite always; on PostgreSQL when `.ci/run` (or ZPR_TEST_POSTGRES_URL) provides one.
  @Test(arguments: ServerDatabase.kinds)
  func acknowledgedWritesSurviveSIGKILL(database kind: String) async throws {
    let scratch = try ServerDatabase(kind)
    let database = scratch.location
    let key = "crash-test-key-0123456789abcdef0123456789"
    let server = try ServerProcess.start(database: database, key: key)
    try await server.seed(key: key)
    let statement = "in a:b VCN allow c:d endpoints to connect to e:f endpoints"
    let progress = Acknowledged()
    let writer = Task {
      var acknowledged: [String] = []
      for index in 0..<10_000 {
        let name = "policy-\(index)"
        let body = #"{"name":"\#(name)","description":"d","statements":["\#(statement)"]}"#
        guard
          let (status, answer) = try? await server.request(
            "/v1/zprPolicies", method: "POST", key: key, body: body)
        else { break }
        if status == 201 {
          acknowledged.append(name)
          await progress.add()
        } else {
          if acknowledged.count < 20 {
            Issue.record(
              "write \(index) answered \(status): \(String(decoding: answer, as: UTF8.self))")
          }
          break
        }
      }
      return acknowledged
    }
    // Kill it in the middle of the stream: after some writes were acknowledged, however slow
    // the machine.
    let deadline = ContinuousClock.now + .seconds(60)
    while await progress.count < 20, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    kill(server.process.processIdentifier, SIGKILL)
    server.process.waitUntilExit()
    let acknowledged = await writer.value
    #expect(acknowledged.count >= 20, "the server acknowledged only \(acknowledged.count) writes")

    let restarted = try ServerProcess.start(database: database, key: key)
    defer {
      restarted.process.terminate()
      restarted.process.waitUntilExit()
    }
    var names: [String] = []
    var page = ""
    repeat {
      let (_, data) = try await restarted.request(
        "/v1/zprPolicies?limit=1000" + (page.isEmpty ? "" : "&page=\(page)"), key: key)
      let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
      for item in object["items"] as? [[String: Any]] ?? [] {
        // Whole: every stored policy has its description and its statement.
        #expect(item["statements"] as? [String] == [statement])
        #expect(item["description"] as? String == "d")
        names.append(item["name"] as? String ?? "")
      }
      page = object["nextPage"] as? String ?? ""
    } while !page.isEmpty
    #expect(Set(acknowledged).isSubset(of: Set(names)))
    // At most the one write in flight when the server died is there without an acknowledgement.
    #expect(names.count - acknowledged.count <= 1)
    let (_, revisionData) = try await restarted.request("/v1/revision", key: key)
    let revision =
      (try JSONSerialization.jsonObject(with: revisionData) as? [String: Any])?[
        "revision"] as? Int
    // The bootstrap key is revision 1, the seed 2; each stored policy one more.
    #expect(revision == names.count + 2)
  }
}

@Suite("Two servers on one PostgreSQL database")
struct ReplicaTests {
  static let postgres = ProcessInfo.processInfo.environment["ZPR_TEST_POSTGRES_URL"]

  /// Two `zpr serve` processes on one database: updates through both, each retried on a stale
  /// ETag, lose nothing, and the revisions of the audit log run 1, 2, 3... without a gap.
  @Test(
    .enabled(
      if: postgres != nil,
      "ZPR_TEST_POSTGRES_URL is not set: run scripts/test-postgres.sh as root (as .ci/run does)"))
  func concurrentWritesThroughTwoServersLoseNothing() async throws {
    let database = try ServerDatabase("postgres")
    let url = database.location
    let key = "replica-key-0123456789abcdef0123456789abc"
    let first = try ServerProcess.start(database: url, key: key)
    let second = try ServerProcess.start(database: url, key: key)
    defer {
      for server in [first, second] {
        server.process.terminate()
        server.process.waitUntilExit()
      }
    }
    try await first.seed(key: key)
    let (status, created) = try await first.request(
      "/v1/zprPolicies", method: "POST", key: key,
      body: #"{"name":"counter","description":"0","statements":[]}"#)
    #expect(status == 201)
    let id = try #require(
      (try JSONSerialization.jsonObject(with: created) as? [String: Any])?["id"] as? String)

    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<20 {
        let server = index % 2 == 0 ? first : second
        group.addTask {
          while true {
            var read = URLRequest(url: URL(string: server.base + "/v1/zprPolicies/\(id)")!)
            read.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: read)
            let etag = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "ETag") ?? ""
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            let count = Int(object["description"] as? String ?? "") ?? 0
            var write = URLRequest(url: URL(string: server.base + "/v1/zprPolicies/\(id)")!)
            write.httpMethod = "PUT"
            write.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            write.setValue(etag, forHTTPHeaderField: "If-Match")
            write.httpBody = Data(
              #"{"name":"counter","description":"\#(count + 1)","statements":[]}"#.utf8)
            let (_, written) = try await URLSession.shared.data(for: write)
            if (written as? HTTPURLResponse)?.statusCode == 200 { return }
          }
        }
      }
      try await group.waitForAll()
    }
    let (_, final) = try await second.request("/v1/zprPolicies/\(id)", key: key)
    #expect(
      (try JSONSerialization.jsonObject(with: final) as? [String: Any])?["description"] as? String
        == "20")
    let (_, audit) = try await first.request("/v1/audit?limit=1000", key: key)
    let revisions =
      ((try JSONSerialization.jsonObject(with: audit) as? [String: Any])?["items"]
      as? [[String: Any]]
      ?? []).compactMap { $0["revision"] as? Int }
    // The key (1), the seed (2, several records), the policy (3) and twenty updates: in order,
    // without a gap.
    #expect(revisions == revisions.sorted())
    #expect(Array(Set(revisions)).sorted() == Array(1...23))
  }

}
