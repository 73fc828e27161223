import ArgumentParser
import ZPREngine
import ZPRModel
import ZPRPolicy

/// `zpr test`: run a tenancy file's policy tests.
struct TestCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Run the policy tests of a tenancy file (its tests: section) or of the server.",
    discussion: """
      The tenancy is the FILE or, without one, the zpr server's (--server; its policy tests \
      are /v1/policyTests). \
      Each test names a flow and expects allow (the flow is reachable) or deny (it is not). \
      Exits 0 when every test passes, 1 when one fails (each failure is listed with the \
      analyzer's explanation) or the file has errors.
      """
  )

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @Option(help: ArgumentHelp(TenancySourceOptions.serverHelp))
  var server: String?

  @Argument(help: "The tenancy file (YAML or JSON); without it, the tenancy of the zpr server.")
  var file: String?

  func validate() throws {
    try TenancySourceOptions.validate(file: file, fileOption: "a FILE", server: server)
  }

  func run() async throws {
    let (tenancy, name) = try await loadTenancy(file: file, server: server)
    let results = PathAnalyzer(tenancy).runTests()
    let failed = results.filter { !$0.passed }
    switch format {
    case .json:
      let json = JSONValue.object([
        ("file", .string(file)), ("tenancy", .string(name)), ("tests", .int(results.count)),
        ("failed", .int(failed.count)),
        (
          "results",
          .array(
            results.map { result in
              .object([
                ("index", .int(result.index)), ("label", .string(result.test.label)),
                ("expect", .string(result.test.expect.rawValue)),
                ("passed", .bool(result.passed)),
                ("status", .string(result.analysis?.status.rawValue)),
                ("failure", .string(result.failure)),
                ("analysis", result.analysis.map(AnalysisJSON.json) ?? .null),
              ])
            })
        ),
      ])
      writeOut(json.serialized() + "\n")
    case .text:
      if results.isEmpty {
        writeOut("\(name): no tests: add a tests: section (see docs/tenancy-file.md)\n")
      }
      for result in results {
        writeOut(
          "\(result.passed ? "ok  " : "FAIL") tests[\(result.index)] \(result.test.label) "
            + "(expect \(result.test.expect.rawValue))\n")
        guard !result.passed else { continue }
        if let failure = result.failure { writeOut("     \(failure)\n") }
        if let analysis = result.analysis {
          let indented = AnalysisText.render(analysis).split(
            separator: "\n", omittingEmptySubsequences: false
          )
          .map { $0.isEmpty ? "" : "     " + $0 }
          writeOut(indented.joined(separator: "\n"))
        }
      }
      writeOut(
        "\(name): \(counted(results.count, "test")), \(results.count - failed.count) passed, "
          + "\(failed.count) failed\n")
    }
    if !failed.isEmpty { throw ExitCode(1) }
  }
}
