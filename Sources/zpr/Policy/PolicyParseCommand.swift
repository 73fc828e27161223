import ArgumentParser
import ZPRPolicy

/// `zpr policy parse`: print the syntax tree as JSON, for tooling.
struct PolicyParseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "parse",
    abstract: "Print the syntax tree of a policy file as JSON.",
    discussion: "Exits 1 when the file has errors (the statements that parsed are still printed)."
  )

  @OptionGroup var options: PolicyOptionGroup

  @Argument(help: "A policy file (.zpl); '-' reads standard input.")
  var file: String

  func run() async throws {
    let parsed = PolicyChecker(options: options.policyOptions).check(try readPolicySource(file))
    writeOut(PolicyJSON.syntaxTree(parsed).serialized() + "\n")
    if parsed.hasErrors { throw ExitCode(1) }
  }
}
