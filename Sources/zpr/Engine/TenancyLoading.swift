import ArgumentParser
import Foundation
import ZPRClient
import ZPRModel
import ZPRPolicy

/// Reads a tenancy file for a command that decides flows: a file with errors is refused, since
/// an answer about a tenancy zpr could not fully read would mislead.
func loadTenancy(_ path: String) throws(CLIError) -> Tenancy {
  try loadTenancy(readPolicySource(path), path: path)
}

/// The tenancy of a file's text already read; a text with errors is refused likewise.
func loadTenancy(_ source: SourceFile, path: String) throws(CLIError) -> Tenancy {
  try checked(TenancyFile.load(source), in: source) { .tenancyHasErrors(path, errors: $0) }
}

/// The tenancy a command that decides flows reads: the file's when there is one, or else the
/// zpr server's (`server`, or `ZPR_SERVER` or the config file, with the API key the other client
/// commands use), exported by the server and analyzed here. `name` is what messages call it.
func loadTenancy(file: String?, server: String?) async throws -> (tenancy: Tenancy, name: String) {
  if let file { return (try loadTenancy(file), file) }
  let client = try APIClient.resolve(server: server)
  let (_, data, _) = try await client.send("GET", "/v1/export")
  let name = "the tenancy of the zpr server at \(client.base.absoluteString)"
  let source = SourceFile(path: name, text: String(decoding: data, as: UTF8.self))
  let tenancy = try checked(
    TenancyFile.load(source), in: source, else: CLIError.serverTenancyHasErrors)
  return (tenancy, name)
}

/// The loaded tenancy, or its errors on standard error and the error `refusal` makes of their
/// count.
private func checked(
  _ loaded: TenancyFile.Loaded, in source: SourceFile, else refusal: (Int) -> CLIError
) throws(CLIError) -> Tenancy {
  guard !loaded.hasErrors else {
    let renderer = DiagnosticRenderer()
    for diagnostic in loaded.diagnostics where diagnostic.severity == .error {
      writeError(renderer.render(diagnostic, in: source))
    }
    throw refusal(loaded.diagnostics.count { $0.severity == .error })
  }
  return loaded.tenancy
}

/// `--tenancy FILE` or `--server URL`: where `analyze`, `matrix` and `diff` read the tenancy.
struct TenancySourceOptions: ParsableArguments {
  @Option(help: "The tenancy file (YAML or JSON); without it, the tenancy of the zpr server.")
  var tenancy: String?

  @Option(help: ArgumentHelp(TenancySourceOptions.serverHelp))
  var server: String?

  /// The help of `--server` wherever a command takes a tenancy file or the server's.
  static let serverHelp =
    "The zpr server whose tenancy to read when no file is given (default: $ZPR_SERVER, the "
    + "config file, or http://127.0.0.1:8080; the API key from $ZPR_API_KEY or the config file)."

  func validate() throws {
    try Self.validate(file: tenancy, fileOption: "--tenancy FILE", server: server)
  }

  /// Refuses a file and a server together: the command reads one tenancy.
  static func validate(file: String?, fileOption: String, server: String?) throws {
    guard file == nil || server == nil else {
      throw ValidationError(
        "give \(fileOption) or --server URL, not both: the command reads one tenancy")
    }
  }

  /// The tenancy: the file's, or the server's.
  func load() async throws -> (tenancy: Tenancy, name: String) {
    try await loadTenancy(file: tenancy, server: server)
  }
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

  static func serverTenancyHasErrors(errors: Int) -> CLIError {
    CLIError(
      code: "ZPR-CLI-007",
      message:
        "the server's tenancy has \(counted(errors, "error")) (shown above): export it "
        + "(`zpr export -o tenancy.yaml`), fix it and apply it (`zpr apply -f tenancy.yaml`) "
        + "before asking about flows",
      exitCode: 1)
  }

  static func invalidQuery(_ message: String, code: String) -> CLIError {
    CLIError(code: code, message: message)
  }
}
