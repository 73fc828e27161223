import Foundation
import Testing

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
