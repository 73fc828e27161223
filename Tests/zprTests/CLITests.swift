import Foundation
import Testing

/// Runs the built `zpr` executable, as a user would.
struct ZPRProcess {
  var exitCode: Int32
  var standardOutput: String
  var standardError: String

  static func run(
    _ arguments: [String], input: String? = nil, environment: [String: String] = [:]
  ) throws -> ZPRProcess {
    let process = Process()
    process.executableURL = try executable()
    process.arguments = arguments
    if !environment.isEmpty {
      // An empty value removes the variable.
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        .filter { !$0.value.isEmpty }
    }
    let output = Pipe()
    let error = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ZPRProcess(
      exitCode: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
      standardError: String(decoding: errData, as: UTF8.self))
  }

  /// The `zpr` binary built beside the test bundle.
  static func executable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = directory.appendingPathComponent("zpr")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      directory.deleteLastPathComponent()
    }
    throw MissingExecutable()
  }

  struct MissingExecutable: Error {}
}

/// A scratch directory removed when the test ends.
final class Scratch {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String, _ contents: String) throws -> String {
    let path = url.appendingPathComponent(name).path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("The zpr command line")
struct CLITests {
  static let good =
    "in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'\n"
  static let bad =
    "in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/ssh'\n"

  @Test func checkExitsZeroOnACleanFile() throws {
    let scratch = try Scratch()
    let result = try ZPRProcess.run(["policy", "check", try scratch.file("good.zpl", Self.good)])
    #expect(result.exitCode == 0)
    #expect(result.standardOutput == "checked 1 file, 1 statement: 0 errors, 0 warnings\n")
  }

  @Test func checkExitsZeroWithWarningsOnly() throws {
    let scratch = try Scratch()
    let path = try scratch.file("dup.zpl", Self.good + Self.good)
    let result = try ZPRProcess.run(["policy", "check", path])
    #expect(result.exitCode == 0)
    #expect(result.standardOutput.contains("\(path):2:1: warning: this statement repeats"))
  }

  @Test func checkReportsErrorsCompilerStyleAndExitsOne() throws {
    let scratch = try Scratch()
    let path = try scratch.file("bad.zpl", Self.bad)
    let result = try ZPRProcess.run(["policy", "check", path])
    #expect(result.exitCode == 1)
    let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(
      lines[0].hasPrefix("\(path):1:96: error: ports are numeric: 'ssh' is not a port number"))
    #expect(lines[1] == Self.bad.dropLast())
    #expect(lines[2] == String(repeating: " ", count: 95) + "^~~")
    #expect(lines[3] == "  suggestion: did you mean 'tcp/22'?")
    #expect(lines[4] == "checked 1 file, 1 statement: 1 error, 0 warnings")
  }

  @Test func checkJSONHasTheContractedShape() throws {
    let scratch = try Scratch()
    let bad = try scratch.file("bad.zpl", "# header\n" + Self.bad)
    let good = try scratch.file("good.zpl", Self.good)
    let result = try ZPRProcess.run(["policy", "check", "--format", "json", bad, good])
    #expect(result.exitCode == 1)
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    let files = try #require(json["files"] as? [[String: Any]])
    #expect(files.count == 2)
    #expect(files[0]["path"] as? String == bad)
    #expect(files[0]["statements"] as? Int == 1)
    let diagnostic = try #require((files[0]["diagnostics"] as? [[String: Any]])?.first)
    #expect(diagnostic["severity"] as? String == "error")
    #expect(diagnostic["code"] as? String == "ZPL043")
    #expect((diagnostic["message"] as? String)?.hasPrefix("ports are numeric") == true)
    #expect(diagnostic["line"] as? Int == 2)
    #expect(diagnostic["column"] as? Int == 96)
    #expect(diagnostic["endLine"] as? Int == 2)
    #expect(diagnostic["endColumn"] as? Int == 99)
    #expect(diagnostic["suggestion"] as? String == "did you mean 'tcp/22'?")
    #expect((files[1]["diagnostics"] as? [Any])?.isEmpty == true)
  }

  @Test(arguments: [
    ["policy", "check"], ["policy", "check", "--format", "yaml", "x.zpl"],
    ["policy", "check", "/nonexistent/policy.zpl"], ["policy", "fmt"], ["policy", "bogus"],
    ["policy", "check", "--max-statements", "0", "x.zpl"],
  ])
  func usageErrorsExitTwo(arguments: [String]) throws {
    let result = try ZPRProcess.run(arguments)
    #expect(result.exitCode == 2)
    #expect(!result.standardError.isEmpty)
  }

  @Test func aMissingFileNamesItsCodeAndTheFix() throws {
    let result = try ZPRProcess.run(["policy", "check", "/nonexistent/policy.zpl"])
    #expect(result.exitCode == 2)
    #expect(
      result.standardError
        == "zpr: error: cannot read '/nonexistent/policy.zpl': no such file; check the path [ZPR-CLI-001]\n"
    )
  }

  @Test func fmtRewritesAndCheckDetects() throws {
    let scratch = try Scratch()
    let path = try scratch.file(
      "p.zpl",
      "# keep me\nIN networks:prod vcn ALLOW app:web TO connect TO app:db WITH protocol = 'TCP/5432'\n"
    )
    let check = try ZPRProcess.run(["policy", "fmt", "--check", path])
    #expect(check.exitCode == 1)
    #expect(check.standardOutput.contains("not in canonical form"))
    #expect(
      try String(contentsOfFile: path, encoding: .utf8).hasPrefix("# keep me\nIN"),
      "--check writes nothing")

    let format = try ZPRProcess.run(["policy", "fmt", path])
    #expect(format.exitCode == 0)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "# keep me\n" + Self.good)
    #expect(try ZPRProcess.run(["policy", "fmt", "--check", path]).exitCode == 0)
  }

  @Test func fmtRefusesAFileWithErrorsAndLeavesItAlone() throws {
    let scratch = try Scratch()
    let path = try scratch.file("bad.zpl", Self.bad)
    let result = try ZPRProcess.run(["policy", "fmt", path])
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("ZPL043"))
    #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.bad)
  }

  @Test func fmtFiltersStandardInput() throws {
    let result = try ZPRProcess.run(
      ["policy", "fmt", "-"], input: "in n:p vcn allow a:w to connect to a:d")
    #expect(result.exitCode == 0)
    #expect(result.standardOutput == "in n:p VCN allow a:w endpoints to connect to a:d endpoints\n")
  }

  @Test func parsePrintsTheSyntaxTree() throws {
    let scratch = try Scratch()
    let result = try ZPRProcess.run(["policy", "parse", try scratch.file("p.zpl", Self.good)])
    #expect(result.exitCode == 0)
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    let statement = try #require((json["statements"] as? [[String: Any]])?.first)
    #expect(statement["form"] as? String == "vcn")
    #expect(statement["text"] as? String == Self.good.dropLast().description)
    let destination = try #require(statement["destination"] as? [String: Any])
    #expect(destination["kind"] as? String == "attribute")
    #expect((destination["attribute"] as? [String: Any])?["value"] as? String == "db")
    let filters = try #require(statement["filters"] as? [String: Any])
    #expect(filters["protocol"] as? String == "tcp")
    #expect((filters["ports"] as? [[String: Int]]) == [["from": 5432, "to": 5432]])
  }

  @Test func tenancyCheckPassesTheExamples() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    for name in ["three-tier.yaml", "two-vcns.yaml"] {
      let result = try ZPRProcess.run(
        ["tenancy", "check", root.appendingPathComponent("examples/tenancies/\(name)").path])
      #expect(result.exitCode == 0, "\(name): \(result.standardOutput)")
      #expect(result.standardOutput.hasSuffix("0 errors, 0 warnings\n"))
    }
  }

  @Test func tenancyCheckReportsPlaceAndPath() throws {
    let scratch = try Scratch()
    let path = try scratch.file(
      "t.yaml",
      "vcns:\n  - name: prod\n    cidrs: [10.0.0.0/16]\n    subnets: [{name: web, cidr: 10.1.0.0/24}]\n"
    )
    let text = try ZPRProcess.run(["tenancy", "check", path])
    #expect(text.exitCode == 1)
    #expect(
      text.standardOutput.hasPrefix(
        "\(path):4:33: error: subnet 'web' (10.1.0.0/24) lies outside VCN 'prod'"))
    #expect(text.standardOutput.contains("  at: vcns[0].subnets[0].cidr\n"))
    let json = try ZPRProcess.run(["tenancy", "check", "--format", "json", path])
    #expect(json.exitCode == 1)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    let diagnostic = try #require(
      ((object["files"] as? [[String: Any]])?.first?["diagnostics"] as? [[String: Any]])?.first)
    #expect(diagnostic["code"] as? String == "ZPT003")
    #expect(diagnostic["path"] as? String == "vcns[0].subnets[0].cidr")
    #expect(diagnostic["line"] as? Int == 4 && diagnostic["column"] as? Int == 33)
  }

  @Test func policyCheckAgainstATenancy() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let tenancy = root.appendingPathComponent("examples/tenancies/three-tier.yaml").path
    let scratch = try Scratch()
    let policy = try scratch.file(
      "extra.zpl",
      "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:cache endpoints\n"
    )
    let result = try ZPRProcess.run(["policy", "check", "--tenancy", tenancy, policy])
    #expect(result.exitCode == 1)
    #expect(
      result.standardOutput.contains("\(policy):1:68: error: 'cache' is not a value of app.tier"))
    #expect(result.standardOutput.hasSuffix("checked 2 files, 3 statements: 1 error, 0 warnings\n"))
    let alone = try ZPRProcess.run(["policy", "check", "--tenancy", tenancy])
    #expect(alone.exitCode == 0)
  }

  @Test func aDefaultNamespaceThatContradictsTheTenancyIsAUsageError() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let tenancy = root.appendingPathComponent("examples/tenancies/three-tier.yaml").path
    let result = try ZPRProcess.run([
      "policy", "check", "--default-namespace", "app", "--tenancy", tenancy,
    ])
    #expect(result.exitCode == 2)
    #expect(result.standardError.contains("[ZPR-CLI-006]"))
  }

  @Test func benchRunsSmall() throws {
    let result = try ZPRProcess.run([
      "bench", "policy", "--statements", "200", "--iterations", "1", "--format", "json",
    ])
    #expect(result.exitCode == 0)
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(json["statements"] as? Int == 200)
    #expect(json["parsedStatements"] as? Int == 200)
  }
}

@Suite("zpr iam")
struct IAMCLITests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static func example(_ name: String) -> String {
    root.appendingPathComponent("examples/iam/\(name)").path
  }

  @Test func checkCatchesTheSeedsSlipsWithTheFix() throws {
    let clean = try ZPRProcess.run(["iam", "check", Self.example("network-team.iam")])
    #expect(clean.exitCode == 0, "\(clean.standardOutput)")
    #expect(clean.standardOutput.hasSuffix("checked 1 file, 4 statements: 0 errors, 0 warnings\n"))
    let slips = try ZPRProcess.run(["iam", "check", Self.example("seed-slips.iam")])
    #expect(slips.exitCode == 1)
    #expect(slips.standardOutput.contains("[IAM011]"))
    #expect(slips.standardOutput.contains("suggestion: write 'group UserGroupA'"))
    #expect(slips.standardOutput.contains("[IAM031]"))
    #expect(slips.standardOutput.contains("suggestion: did you mean 'VCN_UPDATE'?"))
    // The JSON of `zpr policy check`.
    let json = try ZPRProcess.run([
      "iam", "check", "--format", "json", Self.example("seed-slips.iam"),
    ])
    let object =
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
    let file = (object?["files"] as? [[String: Any]])?.first
    #expect(file?["statements"] as? Int == 2)
    let codes = (file?["diagnostics"] as? [[String: Any]])?.compactMap { $0["code"] as? String }
    #expect(codes == ["IAM011", "IAM022", "IAM031"])
    #expect(try ZPRProcess.run(["iam", "check", "/nonexistent.iam"]).exitCode == 2)
  }

  @Test func explainNamesTheStatementOrWhatTheClosestLacks() throws {
    let policy = Self.example("network-team.iam")
    let allowed = try ZPRProcess.run([
      "iam", "explain", "--policy", policy, "--user", "nina", "--group", "NetworkUsers",
      "--permission", "VCN_UPDATE", "--compartment", "CompartmentA",
    ])
    #expect(allowed.exitCode == 0)
    #expect(
      allowed.standardOutput
        == "ALLOWED: nina may VCN_UPDATE, by policy 'network-team' statement 1:\n"
        + "  allow group NetworkUsers to manage vcns in compartment CompartmentA where "
        + "request.permission='VCN_UPDATE'\n")
    let denied = try ZPRProcess.run([
      "iam", "explain", "--policy", policy, "--user", "nina", "--group", "NetworkUsers",
      "--permission", "VCN_DELETE", "--compartment", "CompartmentA",
    ])
    #expect(denied.standardOutput.hasPrefix("DENIED: no statement grants nina VCN_DELETE"))
    #expect(denied.standardOutput.contains("'use' does not grant VCN_DELETE: that takes 'manage'"))
    let typo = try ZPRProcess.run([
      "iam", "explain", "--policy", policy, "--user", "nina", "--permission", "VCN_UDPATE",
    ])
    #expect(typo.exitCode == 2)
    #expect(typo.standardError.contains("did you mean 'VCN_UPDATE'?"))
  }

  @Test func explainReadsATenancyFilesGroupsPoliciesAndCompartments() throws {
    let tenancy = Self.root.appendingPathComponent("examples/tenancies/iam.yaml").path
    func explain(_ user: String, _ permission: String, _ resource: String) throws -> ZPRProcess {
      try ZPRProcess.run([
        "iam", "explain", "--tenancy", tenancy, "--user", user, "--permission", permission,
        "--resource", resource,
      ])
    }
    // nina is in NetworkUsers by the file's groups; vcns/prod is in Prod:Network.
    let allowed = try explain("nina", "VCN_UPDATE", "vcns/prod")
    #expect(allowed.exitCode == 0, "\(allowed.standardError)")
    #expect(
      allowed.standardOutput.hasPrefix(
        "ALLOWED: nina may VCN_UPDATE, by policy 'network-team' statement 1:"))
    // arlo's team has instances in Prod:Apps, not VCNs.
    let denied = try explain("arlo", "VCN_UPDATE", "vcns/prod")
    #expect(denied.standardOutput.hasPrefix("DENIED: no statement grants arlo VCN_UPDATE"))
    let instance = try explain("arlo", "INSTANCE_UPDATE", "instances/web-1")
    #expect(
      instance.standardOutput.hasPrefix("ALLOWED: arlo may INSTANCE_UPDATE, by policy 'app-team'"))
    let namespace = try explain(
      "arlo", "SECURITY_ATTRIBUTE_NAMESPACE_USE", "securityAttributeNamespaces/network")
    #expect(namespace.standardOutput.hasPrefix("DENIED"), "\(namespace.standardOutput)")
    let unknown = try explain("nina", "VCN_UPDATE", "vcns/staging")
    #expect(unknown.exitCode == 2)
    #expect(unknown.standardError.contains("no VCN named 'staging'"))
  }
}
