import ArgumentParser
import Foundation
import Testing
import ZPRModel

@testable import zpr

/// The resource commands as people use them, against a real `zpr serve`: fields as flags from
/// the kind's schema, partial updates, dry runs, what a change does to access, and help that
/// shows each kind its own flags.
@Suite("zpr resource commands")
struct ResourceCLITests {
  @Test func createUpdateAndDeleteWithFlags() async throws {
    let scratch = try Scratch()
    let key = "resource-cli-test-key-0123456789abcdef"
    let server = try ServerProcess.start(
      database: scratch.url.appendingPathComponent("zpr.sqlite").path, key: key)
    defer {
      server.process.terminate()
      server.process.waitUntilExit()
    }
    let environment = ["ZPR_SERVER": server.base, "ZPR_API_KEY": key, "HOME": scratch.url.path]
    func zpr(_ arguments: String...) throws -> ZPRProcess {
      try ZPRProcess.run(arguments, environment: environment)
    }
    var result = try zpr("apply", "-f", ClientTests.example)
    #expect(result.exitCode == 0, "\(result.standardError)")

    // A dry run says what the new instance would reach, and creates nothing.
    result = try zpr(
      "instance", "create", "web-2", "--subnet", "prod/web", "--ip", "10.0.1.20", "--attribute",
      "app.tier=web", "--dry-run")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("would have created instance 'web-2'"))
    #expect(result.standardOutput.contains("web-2/0 -> app-1/0: gains tcp/8080"))
    #expect(try zpr("instance", "get", "web-2").exitCode == 1)

    // The flags make the element; get prints it as text.
    result = try zpr(
      "instance", "create", "web-2", "--subnet", "prod/web", "--ip", "10.0.1.20", "--attribute",
      "app.tier=web")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput.hasPrefix("created instance 'web-2'"))
    result = try zpr("instance", "get", "web-2")
    #expect(result.standardOutput.contains("name: web-2\n"))
    #expect(result.standardOutput.contains("securityAttributes:\n  app.tier: web\n"))
    #expect(result.standardOutput.contains("  - ips: 10.0.1.20\n    subnet: prod/web\n"))
    #expect(result.standardOutput.hasSuffix("version: 1\n"))

    // An update with flags changes what it names and keeps the rest (the VNIC stays).
    result = try zpr("instance", "update", "web-2", "--attribute", "app.tier=app")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("web-2/0"))
    result = try zpr("instance", "get", "web-2", "--format", "json")
    let element =
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
      as? [String: Any]
    #expect((element?["securityAttributes"] as? [String: String]) == ["app.tier": "app"])
    #expect((element?["vnics"] as? [[String: Any]])?.first?["subnet"] as? String == "prod/web")

    // Taking away its attributes leaves it unprotected: said as a warning.
    result = try zpr("instance", "update", "web-2", "--set", "securityAttributes={}")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("warning: endpoint web-2/0 was protected by ZPR"))

    // Mistakes in flags are named with the fix, before anything is sent.
    result = try zpr("subnet", "create", "batch", "--vcn", "prod", "--cidrs", "10.0.9.0/24")
    #expect(result.exitCode == 2)
    #expect(result.standardError.contains("has no flag --cidrs: did you mean --cidr?"))
    result = try zpr("instance", "create", "--subnet", "prod/web")
    #expect(result.exitCode == 2)
    #expect(result.standardError.contains("give the instance's name"))

    // A YAML file is an element too; a subnet made from flags and one from a file agree.
    let file = scratch.url.appendingPathComponent("batch.yaml")
    try "name: batch\nvcn: prod\ncidr: 10.0.9.0/24\nrouteTable: main\n"
      .write(to: file, atomically: true, encoding: .utf8)
    result = try zpr("subnet", "create", "-f", file.path)
    #expect(result.exitCode == 0, "\(result.standardError)")
    result = try zpr(
      "subnet", "create", "batch2", "--vcn", "prod", "--cidr", "10.0.10.0/24", "--route-table",
      "main")
    #expect(result.exitCode == 0, "\(result.standardError)")

    result = try zpr("instance", "delete", "web-2", "--dry-run")
    #expect(result.standardOutput.contains("would have deleted instance"))
    result = try zpr("instance", "delete", "web-2")
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(try zpr("instance", "get", "web-2").exitCode == 1)
  }

  /// Every kind of the schema has its command, and no command stands for a kind the schema
  /// lacks (ZPR policies share `zpr policy` with the local check).
  @Test func everyKindOfTheSchemaHasItsCommand() {
    let kinds =
      resourceCommands.compactMap { ($0 as? any ClientResource.Type)?.schema.kind }
      + [ZPRPolicyResource.schema.kind]
    #expect(kinds.sorted() == ResourceSchema.all.map(\.kind).sorted())
    for command in resourceCommands {
      let schema = (command as? any ClientResource.Type)?.schema
      #expect(command.configuration.commandName == schema?.command)
    }
  }

  @Test func helpShowsEachKindItsOwnFields() throws {
    func help(_ arguments: String...) throws -> String {
      try ZPRProcess.run(arguments + ["--help"], environment: [:]).standardOutput
    }
    let instance = try help("instance", "create")
    #expect(instance.contains("--subnet TEXT"))
    #expect(instance.contains("--attribute NS.KEY=VALUE"))
    #expect(instance.contains("zpr instance create web-1 --subnet prod/front --ip 10.0.1.10"))
    #expect(!instance.contains("--zpl"))
    #expect(try help("policy", "create").contains("--zpl FILE"))
    #expect(!(try help("vcn", "delete")).contains("--cascade"))
    #expect(try help("namespace", "delete").contains("--cascade"))
    #expect(try help("subnet").contains("--route-table TEXT"))
  }
}
