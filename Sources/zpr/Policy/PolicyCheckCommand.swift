import ArgumentParser
import ZPRPolicy

/// `zpr policy check`: report every problem in the given files.
struct PolicyCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Check policy files and report every problem, with fixes.",
    discussion: "Exits 0 when there are no errors (warnings allowed), 1 when there are errors."
  )

  @Option(help: "Output format: text (compiler-style) or json.")
  var format: OutputFormat = .text

  @OptionGroup var options: PolicyOptionGroup

  @Argument(help: "Policy files (.zpl); '-' reads standard input.")
  var files: [String]

  func validate() throws {
    guard !files.isEmpty else { throw ValidationError("name at least one policy file") }
  }

  func run() async throws {
    let checker = PolicyChecker(options: options.policyOptions)
    var results: [PolicyFile] = []
    for path in files {
      results.append(checker.check(try readPolicySource(path)))
    }
    switch format {
    case .json:
      writeOut(
        JSONValue.object([("files", .array(results.map(PolicyJSON.fileReport)))]).serialized()
          + "\n")
    case .text:
      let renderer = DiagnosticRenderer()
      var errors = 0
      var warnings = 0
      var statements = 0
      for file in results {
        writeOut(renderer.render(file))
        errors += file.diagnostics.count { $0.severity == .error }
        warnings += file.diagnostics.count { $0.severity == .warning }
        statements += PolicyJSON.statementCount(file)
      }
      writeOut(
        "checked \(counted(results.count, "file")), \(counted(statements, "statement")): "
          + "\(counted(errors, "error")), \(counted(warnings, "warning"))\n")
    }
    if results.contains(where: \.hasErrors) { throw ExitCode(1) }
  }
}
