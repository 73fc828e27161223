import ArgumentParser
import ZPRModel
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

  @Option(
    help: """
      A tenancy file: also check its own policies, and check every statement against its \
      catalog and network (unknown or retired attributes, rejected values, attributes nothing \
      carries, protected endpoints no statement names).
      """)
  var tenancy: String?

  @Argument(help: "Policy files (.zpl); '-' reads standard input.")
  var files: [String] = []

  func validate() throws {
    guard !files.isEmpty || tenancy != nil else {
      throw ValidationError("name at least one policy file, or a --tenancy file")
    }
  }

  func run() async throws {
    var policyOptions = options.policyOptions
    let parsed = try files.map { PolicyParser().parse(try readPolicySource($0)) }
    var reports: [FileReport] = []
    var loaded: TenancyFile.Loaded?
    if let tenancy {
      let source = try readPolicySource(tenancy)
      let result = TenancyFile.load(
        source, limits: policyOptions.limits, otherStatements: parsed.flatMap(\.statements))
      if let chosen = options.defaultNamespace, chosen != result.tenancy.defaultNamespace {
        throw CLIError.conflictingDefaultNamespace(chosen, tenancy: result.tenancy.defaultNamespace)
      }
      policyOptions.defaultNamespace = result.tenancy.defaultNamespace
      reports.append(
        FileReport(
          source: source,
          statements: result.tenancy.statementCount,
          diagnostics: result.diagnostics))
      loaded = result
    }
    let checker = PolicyChecker(options: policyOptions)
    for file in parsed {
      var diagnostics = file.diagnostics + checker.check(file)
      if let loaded { diagnostics += loaded.tenancy.catalogDiagnostics(for: file.statements) }
      reports.append(
        FileReport(
          source: file.source, statements: file.statementLines.count,
          diagnostics: diagnostics.sortedBySource()))
    }
    try Self.report(reports, format: format)
  }

  /// Prints the reports (compiler-style text, or JSON) and exits 1 when one has errors.
  static func report(_ reports: [FileReport], format: OutputFormat) throws {
    switch format {
    case .json:
      writeOut(JSONValue.object([("files", .array(reports.map(\.json)))]).serialized() + "\n")
    case .text:
      let renderer = DiagnosticRenderer()
      for report in reports {
        for diagnostic in report.diagnostics {
          writeOut(renderer.render(diagnostic, in: report.source))
        }
      }
      let errors = reports.reduce(0) { $0 + $1.diagnostics.count { $0.severity == .error } }
      let warnings = reports.reduce(0) { $0 + $1.diagnostics.count { $0.severity == .warning } }
      let statements = reports.reduce(0) { $0 + $1.statements }
      writeOut(
        "checked \(counted(reports.count, "file")), \(counted(statements, "statement")): "
          + "\(counted(errors, "error")), \(counted(warnings, "warning"))\n")
    }
    if reports.contains(where: { $0.diagnostics.contains { $0.severity == .error } }) {
      throw ExitCode(1)
    }
  }
}

/// What `check` reports for one file.
struct FileReport {
  var source: SourceFile
  var statements: Int
  var diagnostics: [Diagnostic]

  /// `{"path", "statements", "diagnostics"}`.
  var json: JSONValue {
    .object([
      ("path", .string(source.path)),
      ("statements", .int(statements)),
      ("diagnostics", .array(diagnostics.map { PolicyJSON.diagnostic($0, in: source) })),
    ])
  }
}
