import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `zpr` as the client of a real `zpr serve`: apply with its plan, the resources, analysis of
/// the server's tenancy, the audit log, export, and the errors a user meets.
@Suite("zpr as a client")
struct ClientTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let example = root.appendingPathComponent("examples/tenancies/three-tier.yaml").path

  @Test func applyManageAnalyzeAuditAndExportThroughTheServer() async throws {
    let scratch = try Scratch()
    let key = "client-test-key-0123456789abcdef012345678"
    let server = try ServerProcess.start(
      database: scratch.url.appendingPathComponent("zpr.sqlite").path, key: key)
    defer {
      server.process.terminate()
      server.process.waitUntilExit()
    }
    let environment = [
      "ZPR_SERVER": server.base, "ZPR_API_KEY": key, "HOME": scratch.url.path,
    ]
    func zpr(_ arguments: String...) throws -> ZPRProcess {
      try ZPRProcess.run(arguments, environment: environment)
    }

    // The plan first, then the change.
    var result = try zpr("apply", "-f", Self.example, "--dry-run")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("+ create vcn 'prod'"))
    #expect(result.standardOutput.contains("+ create subnet 'web' in prod"))
    #expect(result.standardOutput.contains("web-1/0 -> app-1/0:\n    gains tcp/8080-8080"))
    #expect(result.standardOutput.contains("dry run: nothing was changed"))
    result = try zpr("policy", "list")
    #expect(result.standardOutput == "no ZPR policies\n")
    result = try zpr("apply", "-f", Self.example)
    #expect(result.standardOutput.hasSuffix("applied: the server is at revision 2\n"))

    // Resources by name.
    result = try zpr("policy", "get", "three-tier", "--format", "json")
    let policy = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
    #expect(((policy as? [String: Any])?["statements"] as? [String])?.count == 2)
    result = try zpr("subnet", "list")
    #expect(
      Set(result.standardOutput.split(separator: "\n").map { String($0.prefix { $0 != " " }) })
        == ["app", "db", "web"])

    // A policy that breaks the tenancy's tests is refused with the test's name.
    let open = scratch.url.appendingPathComponent("open.zpl")
    try "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:db endpoints\n"
      .write(to: open, atomically: true, encoding: .utf8)
    result = try zpr("policy", "create", "--zpl", open.path)
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("[ZPR-API-013]"))
    #expect(result.standardError.contains("the web tier never reaches the database"))
    // One that fits is created, updated only at its version, and deleted.
    let ops = scratch.url.appendingPathComponent("ops.zpl")
    try
      "in network.vcn:prod VCN allow app.tier:app endpoints to connect to app.tier:app endpoints with protocol='tcp/9000'\n"
      .write(to: ops, atomically: true, encoding: .utf8)
    result = try zpr("policy", "create", "--zpl", ops.path, "--description", "Ops port")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput.hasPrefix("created ZPR policy 'ops'"))
    result = try zpr("policy", "update", "ops", "--zpl", ops.path, "--if-match", "7")
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("[ZPR-STORE-002]"))
    result = try zpr("policy", "update", "ops", "--zpl", ops.path, "--if-match", "1")
    #expect(result.exitCode == 0, "\(result.standardError)")
    result = try zpr("policy", "delete", "ops")
    #expect(result.exitCode == 0)
    // An attribute resources carry cannot be retired; the reason names them.
    result = try zpr("attribute", "lifecycle", "retire", "tier")
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("instance 'web-1'"))

    // Analysis of the server's tenancy: the same answer as of the file.
    result = try zpr(
      "analyze", "--from", "web-1", "--to", "db-1", "--protocol", "tcp", "--port", "5432")
    let local = try ZPRProcess.run([
      "analyze", "--tenancy", Self.example, "--from", "web-1", "--to", "db-1", "--protocol", "tcp",
      "--port", "5432",
    ])
    #expect(result.exitCode == 0)
    #expect(result.standardOutput == local.standardOutput)
    #expect(result.standardOutput.contains("UNREACHABLE"))

    // IAM decisions explained by the server: the admin key's group manages all-resources.
    result = try zpr(
      "iam", "explain", "--user", "admin", "--permission", "VCN_UPDATE", "--resource", "vcns/prod")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(
      result.standardOutput
        == "ALLOWED: admin may VCN_UPDATE, by policy 'Administrators' statement 0:\n"
        + "  allow group Administrators to manage all-resources in tenancy\n")

    // The audit log names who did what.
    result = try zpr("audit", "--after", "2")
    #expect(result.standardOutput.contains("admin  create zprPolicy 'ops'"))
    #expect(result.standardOutput.contains("admin  delete zprPolicy 'ops'"))

    // What the server exports checks clean and applies back with no change.
    let exported = scratch.url.appendingPathComponent("exported.yaml").path
    result = try zpr("export", "-o", exported)
    #expect(result.exitCode == 0)
    #expect(try ZPRProcess.run(["tenancy", "check", exported]).exitCode == 0)
    result = try zpr("apply", "-f", exported, "--dry-run")
    #expect(result.standardOutput.hasPrefix("no changes"))
  }

  /// `zpr matrix`, `zpr diff` and `zpr test` read the server's tenancy as they read a file;
  /// `zpr export` says what it wrote without mixing it into the tenancy it writes.
  @Test func matrixDiffTestAndExportOnTheServersTenancy() async throws {
    let scratch = try Scratch()
    let key = "client-flows-key-0123456789abcdef0123456789"
    let server = try ServerProcess.start(
      database: scratch.url.appendingPathComponent("zpr.sqlite").path, key: key)
    defer { server.stop() }
    let environment = ["ZPR_SERVER": server.base, "ZPR_API_KEY": key, "HOME": scratch.url.path]
    func zpr(_ arguments: String...) throws -> ZPRProcess {
      try ZPRProcess.run(arguments, environment: environment)
    }
    let applied = try zpr("apply", "-f", Self.example)
    #expect(applied.exitCode == 0, "\(applied.standardError)")

    // The server exports its resources in its own order, so the groups are numbered
    // differently; the grants are the file's.
    let served = try zpr("matrix", "--format", "csv")
    let local = try ZPRProcess.run(["matrix", "--tenancy", Self.example, "--format", "csv"])
    #expect(served.exitCode == 0, "\(served.standardError)")
    #expect(
      served.standardOutput.split(separator: "\n").sorted()
        == local.standardOutput.split(separator: "\n").sorted())
    #expect(served.standardOutput.split(separator: "\n").count == 3)
    // --server names the server, whatever ZPR_SERVER says.
    let named = try ZPRProcess.run(
      ["matrix", "--server", server.base],
      environment: [
        "ZPR_SERVER": "http://127.0.0.1:1", "ZPR_API_KEY": key, "HOME": scratch.url.path,
      ])
    #expect(named.exitCode == 0, "\(named.standardError)")
    #expect(
      named.standardOutput
        == """
        ZPR reachability: 3 groups of endpoints, 2 cells
        (a pair with a protected end and no cell is denied by ZPR)

        groups:
          G1 (protected): app-1/0
          G2 (protected): web-1/0
          G3 (protected): db-1/0

        cells:
          G1 -> G3: tcp/5432 (policy 'three-tier' statement 1)
          G2 -> G1: tcp/8080 (policy 'three-tier' statement 0)

        """)

    let ops = Self.root.appendingPathComponent("examples/tenancies/three-tier-ops.zpl").path
    for change in [["--add", ops], ["--policies", ops], ["--against", Self.example]] {
      let served = try ZPRProcess.run(["diff"] + change, environment: environment)
      let local = try ZPRProcess.run(["diff", "--tenancy", Self.example] + change)
      #expect(served.exitCode == 0, "\(served.standardError)")
      #expect(served.standardOutput == local.standardOutput, "\(change)")
    }

    // The policy tests the server holds: the file's five (the server names unnamed ones).
    let tests = try zpr("test")
    #expect(tests.exitCode == 0, "\(tests.standardOutput)\(tests.standardError)")
    #expect(
      tests.standardOutput.hasSuffix(
        "\nthe tenancy of the zpr server at \(server.base): 5 tests, 5 passed, 0 failed\n"))
    #expect(tests.standardOutput.contains("ok   tests[4] the web tier never reaches the database"))
    let json = try zpr("test", "--format", "json")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect(object["file"] is NSNull)
    #expect(object["tenancy"] as? String == "the tenancy of the zpr server at \(server.base)")
    #expect(object["tests"] as? Int == 5)
    #expect(object["failed"] as? Int == 0)

    // export: the message on standard output with -o, on standard error without. The 23
    // resources: 3 namespaces and 3 attributes (the default namespace's too), the VCN, its 3
    // subnets, route table, security list and NSG, 2 instances and a database, the policy, its
    // 5 tests and the IAM policy Administrators.
    let file = scratch.url.appendingPathComponent("exported.yaml").path
    let written = try zpr("export", "-o", file)
    #expect(written.exitCode == 0, "\(written.standardError)")
    #expect(written.standardOutput == "wrote 23 resources of revision 2 to \(file)\n")
    #expect(written.standardError == "")
    let piped = try zpr("export")
    #expect(piped.standardOutput == (try String(contentsOfFile: file, encoding: .utf8)))
    #expect(piped.standardError == "wrote 23 resources of revision 2 to standard output\n")
  }

  /// A key the server refuses is told apart from a missing one, and the message names where
  /// the key came from.
  @Test func aRefusedKeyNamesWhereItCameFrom() async throws {
    let scratch = try Scratch()
    let key = "client-refused-key-0123456789abcdef012345"
    let server = try ServerProcess.start(
      database: scratch.url.appendingPathComponent("zpr.sqlite").path, key: key)
    defer { server.stop() }
    func refusal(from source: String) -> String {
      "zpr: error: the zpr server at \(server.base) refused the API key from \(source): the "
        + "server does not know it (it was revoked, belongs to another server, or was copied "
        + "wrong); check that \(source) holds the whole key as it was given to you, or ask an "
        + "administrator of this server for a new one (they create it with POST /v1/apiKeys, "
        + "see docs/api.md; on a new server the admin key is the one `zpr serve` printed on "
        + "first start) [ZPR-API-032]\n"
    }

    var result = try ZPRProcess.run(
      ["vcn", "list"],
      environment: [
        "ZPR_SERVER": server.base, "ZPR_API_KEY": "zpr_not-a-key-of-this-server",
        "HOME": scratch.url.path,
      ])
    #expect(result.exitCode == 1)
    #expect(result.standardError == refusal(from: "ZPR_API_KEY"))

    // From the config file: the message names the file.
    let config = scratch.url.appendingPathComponent(".config/zpr")
    try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
    try #"{"server": "\#(server.base)", "apiKey": "zpr_copied-wrong"}"#.write(
      to: config.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    result = try ZPRProcess.run(
      ["matrix"], environment: ["ZPR_SERVER": "", "ZPR_API_KEY": "", "HOME": scratch.url.path])
    #expect(result.exitCode == 1)
    #expect(
      result.standardError
        == refusal(from: "the config file \(config.appendingPathComponent("config.json").path)"))

    // The right key from the config file works.
    try #"{"server": "\#(server.base)", "apiKey": "\#(key)"}"#.write(
      to: config.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    result = try ZPRProcess.run(
      ["vcn", "list"], environment: ["ZPR_SERVER": "", "ZPR_API_KEY": "", "HOME": scratch.url.path])
    #expect(result.exitCode == 0, "\(result.standardError)")

    // The server gives a missing key and an unknown one their own codes.
    let (missing, missingAnswer) = try await URLSession.shared.data(
      from: URL(string: server.base + "/v1/vcns")!)
    #expect((missingAnswer as? HTTPURLResponse)?.statusCode == 401)
    #expect(Self.code(of: missing) == "ZPR-API-001")
    let (unknownStatus, unknown) = try await server.request("/v1/vcns", key: "zpr_unknown")
    #expect(unknownStatus == 401)
    #expect(Self.code(of: unknown) == "ZPR-API-032")
  }

  /// The code of an error the server answered.
  static func code(of body: Data) -> String? {
    ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["code"] as? String
  }

  @Test func withoutAKeyOrAServerTheErrorSaysWhatToDo() throws {
    let scratch = try Scratch()
    var result = try ZPRProcess.run(
      ["policy", "list"], environment: ["ZPR_API_KEY": "", "HOME": scratch.url.path])
    #expect(result.exitCode == 2)
    #expect(result.standardError.contains("[ZPR-CLI-010]"))
    #expect(result.standardError.contains("set ZPR_API_KEY"))
    result = try ZPRProcess.run(
      ["vcn", "list", "--server", "http://127.0.0.1:1"],
      environment: ["HOME": scratch.url.path, "ZPR_API_KEY": "k"])
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("[ZPR-CLI-012]"))
    #expect(result.standardError.contains("start it with `zpr serve`"))
  }
}
