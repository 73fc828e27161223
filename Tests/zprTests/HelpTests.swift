import ArgumentParser
import Foundation
import Testing

@testable import zpr

/// `zpr --version` and the groups of `zpr --help`.
@Suite("zpr --help and --version")
struct HelpTests {
  @Test func versionPrintsTheOneVersionConstant() throws {
    let result = try ZPRProcess.run(["--version"])
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(result.standardOutput == "\(zprVersion)\n")
    #expect(zprVersion.split(separator: ".").count == 3)
  }

  /// Every subcommand is in exactly one group, none is left ungrouped, and the resource
  /// commands are the Resources group.
  @Test func everySubcommandIsInExactlyOneGroup() {
    let configuration = ZPR.configuration
    #expect(configuration.ungroupedSubcommands.isEmpty)
    let names = configuration.groupedSubcommands.flatMap { group in
      group.subcommands.map { $0._commandName }
    }
    #expect(names.count == Set(names).count, "a command in two groups: \(names)")
    #expect(configuration.groupedSubcommands.allSatisfy { !$0.subcommands.isEmpty })
    let resources = configuration.groupedSubcommands.first { $0.name == "Resources" }
    #expect(
      resources?.subcommands.map { $0._commandName } == resourceCommands.map { $0._commandName })
  }

  /// What `zpr --help` shows: the groups in order, each command under one of them, and the
  /// first step.
  @Test func helpListsTheGroupsAndAFirstStep() throws {
    let result = try ZPRProcess.run(["--help"])
    #expect(result.exitCode == 0)
    var sections: [String: [String]] = [:]
    var order: [String] = []
    var current: String?
    for line in result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasSuffix("SUBCOMMANDS:") {
        current = String(line.dropLast(":".count))
        order.append(current!)
      } else if let section = current, line.hasPrefix("  "), !line.hasPrefix("   ") {
        sections[section, default: []].append(
          String(line.dropFirst(2).prefix { $0 != " " }))
      } else if line.isEmpty {
        current = nil
      }
    }
    #expect(
      order == [
        "FILES SUBCOMMANDS", "FLOWS SUBCOMMANDS", "SERVER SUBCOMMANDS",
        "RESOURCES SUBCOMMANDS", "HOSTS SUBCOMMANDS", "BENCHMARKS SUBCOMMANDS",
      ])
    #expect(sections["FILES SUBCOMMANDS"] == ["policy", "iam", "tenancy"])
    #expect(sections["FLOWS SUBCOMMANDS"] == ["analyze", "test", "matrix", "diff"])
    #expect(sections["SERVER SUBCOMMANDS"] == ["serve", "enable", "apply", "export", "audit"])
    #expect(sections["HOSTS SUBCOMMANDS"] == ["agent", "lab"])
    #expect(sections["BENCHMARKS SUBCOMMANDS"] == ["bench"])
    #expect(
      sections["RESOURCES SUBCOMMANDS"] == resourceCommands.map { $0._commandName })
    let listed = sections.values.flatMap { $0 }
    #expect(listed.count == Set(listed).count)
    #expect(Set(listed) == Set(ZPR.configuration.subcommands.map { $0._commandName }))
    // The help is wrapped to the terminal: compare words.
    let words = result.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(words.contains("First steps: `zpr tenancy check examples/tenancies/three-tier.yaml`"))
    #expect(words.contains("`zpr serve` runs the server"))
  }
}
