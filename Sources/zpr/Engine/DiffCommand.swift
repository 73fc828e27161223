import ArgumentParser
import Foundation
import ZPREngine
import ZPRModel
import ZPRPolicy

/// `zpr diff`: what a change to the policies, or to the whole tenancy, does to who may reach
/// whom.
struct DiffCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract:
      "Show which endpoint pairs gain or lose access if the policies (or the tenancy) change.",
    discussion: """
      The current version is a tenancy file (--tenancy) or, without one, the zpr server's \
      tenancy (--server). The new version: with --policies, the named .zpl files replace all \
      of the tenancy's policies; with --add, they are added beside the tenancy's policies \
      (with --policies, beside those). Each file becomes one policy named after the file, \
      which --add refuses when the tenancy already has a policy of that name. With --against, \
      the whole other tenancy file is the new version; endpoints are matched by name. Pairs \
      that ZPR does not govern (no end protected) count as allowing everything. Exits 0 \
      whatever the diff; 1 when an input has errors.

      Examples:
        zpr diff --tenancy tenancy.yaml --add ops.zpl
        zpr diff --tenancy tenancy.yaml --policies new.zpl
        zpr diff --against next.yaml
      """
  )

  @OptionGroup var source: TenancySourceOptions

  @Option(
    parsing: .upToNextOption, help: "Policy files (.zpl) that replace the tenancy's policies.")
  var policies: [String] = []

  @Option(
    parsing: .upToNextOption,
    help: "Policy files (.zpl) added beside the tenancy's policies (each one policy).")
  var add: [String] = []

  @Option(help: "Another tenancy file: the new version.")
  var against: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func validate() throws {
    guard (policies.isEmpty && add.isEmpty) != (against == nil) else {
      throw ValidationError(
        "give --policies FILE... (replace the policies), --add FILE... (add policies), or "
          + "--against OTHER-TENANCY")
    }
  }

  func run() async throws {
    let (old, name) = try await source.load()
    var new: Tenancy
    if let against {
      new = try loadTenancy(against)
    } else {
      new = old
      if !policies.isEmpty {
        new.policies = try policies.map { try policy(from: $0, in: old) }
      }
      for path in add {
        let added = try policy(from: path, in: old)
        guard !new.policies.contains(where: { $0.name == added.name }) else {
          throw CLIError.policyNameTaken(added.name, file: path, in: name)
        }
        new.policies.append(added)
      }
    }
    let diff = PolicyDiff(old: old, new: new)
    switch format {
    case .json:
      let json = diff.json(old: old, new: new)
      writeOut(json.serialized() + "\n")
    case .text:
      func names(_ list: [String]) -> String {
        list.count <= 3
          ? list.joined(separator: ", ")
          : list.prefix(3).joined(separator: ", ") + " (+\(list.count - 3) more)"
      }
      func by(_ access: PolicyDiff.Access, _ tenancy: Tenancy) -> String {
        guard let id = access.statement else { return "\(access) (ZPR did not govern the pair)" }
        return "\(access) (policy '\(tenancy.policies[id.policy].name)' statement \(id.statement))"
      }
      var lines = ["what-if: \(counted(diff.changes.count, "pair")) of endpoint groups change"]
      for change in diff.changes {
        lines.append("  \(names(change.from)) -> \(names(change.to)):")
        for access in change.gained { lines.append("    gains \(by(access, new))") }
        for access in change.lost { lines.append("    loses \(by(access, old))") }
      }
      writeOut(lines.joined(separator: "\n") + "\n")
    }
  }

  /// A policy file as one policy named after the file; a file with errors is refused.
  private func policy(from path: String, in tenancy: Tenancy) throws -> Policy {
    let source = try readPolicySource(path)
    let file = PolicyParser().parse(source)
    let problems = (file.diagnostics + tenancy.catalogDiagnostics(for: file.statements))
      .filter { $0.severity == .error }
    guard problems.isEmpty else {
      let renderer = DiagnosticRenderer()
      for problem in problems.sortedBySource() { writeError(renderer.render(problem, in: source)) }
      // With the server's tenancy, the check runs on its export.
      let check: String =
        self.source.tenancy.map { "`zpr policy check --tenancy \($0) \(path)`" }
        ?? "`zpr export -o tenancy.yaml`, then `zpr policy check --tenancy tenancy.yaml \(path)`"
      let count: String = counted(problems.count, "error")
      throw CLIError(
        code: "ZPR-CLI-008",
        message:
          "the policy file '\(path)' has \(count) (shown above): fix them (\(check)) before "
          + "comparing",
        exitCode: 1)
    }
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    return Policy(name: name, description: "from \(path)", statements: file.statements)
  }
}

extension CLIError {
  /// `--add` of a policy file named like a policy the tenancy (or an earlier file) has.
  static func policyNameTaken(_ policy: String, file: String, in tenancy: String) -> CLIError {
    CLIError(
      code: "ZPR-CLI-009",
      message:
        "--add \(file): \(tenancy) already has a policy named '\(policy)' (a file's policy is "
        + "named after the file): rename the file, or give it with --policies to replace the "
        + "policies")
  }
}
