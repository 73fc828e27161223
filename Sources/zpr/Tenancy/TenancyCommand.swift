import ArgumentParser
import ZPRModel
import ZPRPolicy

/// `zpr tenancy`: work with tenancy files.
struct TenancyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tenancy",
    abstract: "Check tenancy files (YAML or JSON).",
    subcommands: [TenancyCheckCommand.self]
  )
}

/// `zpr tenancy check`: every problem in a tenancy file, with its place and the element's path.
struct TenancyCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Check a tenancy file: its shape, its policies and its consistency.",
    discussion: "Exits 0 when the file is consistent (warnings allowed), 1 when it is not."
  )

  @Option(help: "Output format: text (compiler-style) or json.")
  var format: OutputFormat = .text

  @Argument(help: "A tenancy file (.yaml, .yml or .json); '-' reads standard input.")
  var file: String

  func run() async throws {
    let source = try readPolicySource(file)
    let loaded = TenancyFile.load(source)
    switch format {
    case .json:
      let report = FileReport(
        source: source, statements: loaded.tenancy.statementCount,
        diagnostics: loaded.diagnostics)
      writeOut(JSONValue.object([("files", .array([report.json]))]).serialized() + "\n")
    case .text:
      let renderer = DiagnosticRenderer()
      for diagnostic in loaded.diagnostics { writeOut(renderer.render(diagnostic, in: source)) }
      let errors = loaded.diagnostics.count { $0.severity == .error }
      let warnings = loaded.diagnostics.count { $0.severity == .warning }
      let tenancy = loaded.tenancy
      writeOut(
        "checked \(source.path): \(counted(tenancy.vcns.count, "VCN")), "
          + "\(counted(tenancy.resources.count, "resource")), "
          + "\(counted(tenancy.policies.count, "policy", plural: "policies")): "
          + "\(counted(errors, "error")), \(counted(warnings, "warning"))\n")
    }
    if loaded.hasErrors { throw ExitCode(1) }
  }
}
