import ZPRModel
import ZPRPolicy

/// Reads a tenancy file for a command that decides flows: a file with errors is refused, since
/// an answer about a tenancy zpr could not fully read would mislead.
func loadTenancy(_ path: String) throws(CLIError) -> Tenancy {
  let source = try readPolicySource(path)
  let loaded = TenancyFile.load(source)
  guard !loaded.hasErrors else {
    let renderer = DiagnosticRenderer()
    for diagnostic in loaded.diagnostics where diagnostic.severity == .error {
      writeError(renderer.render(diagnostic, in: source))
    }
    let errors = loaded.diagnostics.count { $0.severity == .error }
    throw CLIError.tenancyHasErrors(path, errors: errors)
  }
  return loaded.tenancy
}

extension CLIError {
  static func tenancyHasErrors(_ path: String, errors: Int) -> CLIError {
    CLIError(
      code: "ZPR-CLI-007",
      message:
        "the tenancy file '\(path)' has \(counted(errors, "error")) (shown above): fix them "
        + "(`zpr tenancy check \(path)` lists them) before asking about flows",
      exitCode: 1)
  }

  static func invalidQuery(_ message: String, code: String) -> CLIError {
    CLIError(code: code, message: message)
  }
}
