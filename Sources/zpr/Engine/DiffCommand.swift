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
      With --policies, the named .zpl files replace the tenancy's policies (each file becomes \
      one policy named after the file). With --against, the whole other tenancy is the new \
      version; endpoints are matched by name. Pairs that ZPR does not govern (no end \
      protected) count as allowing everything. Exits 0 whatever the diff; 1 when an input has \
      errors.
      """
  )

  @Option(help: "The tenancy file (YAML or JSON): the current version.")
  var tenancy: String

  @Option(
    parsing: .upToNextOption, help: "Policy files (.zpl) that replace the tenancy's policies.")
  var policies: [String] = []

  @Option(help: "Another tenancy file: the new version.")
  var against: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func validate() throws {
    guard policies.isEmpty != (against == nil) else {
      throw ValidationError("give either --policies FILE... or --against OTHER-TENANCY")
    }
  }

  func run() async throws {
    let old = try loadTenancy(tenancy)
    var new: Tenancy
    if let against {
      new = try loadTenancy(against)
    } else {
      new = old
      new.policies = try policies.map { try policy(from: $0, in: old) }
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
      throw CLIError(
        code: "ZPR-CLI-008",
        message:
          "the policy file '\(path)' has \(counted(problems.count, "error")) (shown above): "
          + "fix them (`zpr policy check --tenancy \(self.tenancy) \(path)`) before comparing",
        exitCode: 1)
    }
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    return Policy(name: name, description: "from \(path)", statements: file.statements)
  }
}
