import ArgumentParser
import Foundation
import ZPRClient
import ZPRPolicy

/// The `zpr` command: thin commands over the zpr libraries.
@main
struct ZPR: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zpr",
    abstract: "Zero Trust Packet Routing for Linux networks.",
    discussion: """
      First steps: `zpr tenancy check examples/tenancies/three-tier.yaml` checks a tenancy \
      file; `zpr analyze --tenancy examples/tenancies/three-tier.yaml --from web-1 --to db-1 \
      --protocol tcp --port 5432` explains a flow; `zpr serve` runs the server, which the \
      Server and Resources commands talk to (the key from $ZPR_API_KEY).

      Exit codes: 0 success, 1 the input has errors (or is not canonical, with fmt --check), \
      2 a usage error (a bad option, a missing file).
      """,
    version: zprVersion,
    groupedSubcommands: commandGroups
  )

  /// The subcommands as `zpr --help` lists them: each in exactly one group.
  static let commandGroups: [CommandGroup] = [
    CommandGroup(
      name: "Files", subcommands: [PolicyCommand.self, IAMCommand.self, TenancyCommand.self]),
    CommandGroup(
      name: "Flows",
      subcommands: [
        AnalyzeCommand.self, TestCommand.self, MatrixCommand.self, DiffCommand.self,
      ]),
    CommandGroup(
      name: "Server",
      subcommands: [
        ServeCommand.self, EnableCommand.self, ApplyCommand.self, ExportCommand.self,
        AuditCommand.self,
      ]),
    CommandGroup(name: "Resources", subcommands: resourceCommands),
    CommandGroup(name: "Hosts", subcommands: [AgentCommand.self, LabCommand.self]),
    CommandGroup(name: "Benchmarks", subcommands: [BenchCommand.self]),
  ]

  /// Runs the command, mapping usage errors to exit code 2 as the contract promises.
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let error as CLIError {
      fail(error)
    } catch let error as APIError {
      fail(CLIError(error))
    } catch let error as any ZPRError {
      // Another module's error that no command turned into its own: the same shape, exit 1.
      FileHandle.standardError.write(Data("zpr: error: \(error)\n".utf8))
      Foundation.exit(1)
    } catch {
      if exitCode(for: error) == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(CLIError.usageExitCode)
      }
      exit(withError: error)
    }
  }

  /// Reports the error on standard error and exits with its exit code.
  private static func fail(_ error: CLIError) -> Never {
    FileHandle.standardError.write(Data("zpr: error: \(error)\n".utf8))
    Foundation.exit(error.exitCode)
  }
}

/// An error the command reports itself: a stable code, a message that says what to do, the
/// exit code it implies, and the error underneath when there is one.
struct CLIError: ZPRError, Hashable {
  static let usageExitCode: Int32 = 2

  /// A stable code such as `ZPR-CLI-001`.
  var code: String
  var message: String
  var exitCode: Int32 = CLIError.usageExitCode
  var cause: (any Error)? { underlying.error }
  private var underlying = ErrorCause(nil)

  var codeText: String { code }

  /// Another module's error as the command's: its code, message and cause.
  init(_ error: any ZPRError, exitCode: Int32 = 1) {
    self.init(code: error.codeText, message: error.message, exitCode: exitCode, cause: error.cause)
  }

  init(
    code: String, message: String, exitCode: Int32 = CLIError.usageExitCode,
    cause: (any Error)? = nil
  ) {
    self.code = code
    self.message = message
    self.exitCode = exitCode
    underlying = ErrorCause(cause)
  }

  static func fileNotFound(_ path: String) -> CLIError {
    CLIError(code: "ZPR-CLI-001", message: "cannot read '\(path)': no such file; check the path")
  }

  static func isDirectory(_ path: String) -> CLIError {
    CLIError(
      code: "ZPR-CLI-002",
      message: "cannot read '\(path)': it is a directory; name the .zpl files in it")
  }

  static func unreadable(_ path: String) -> CLIError {
    CLIError(
      code: "ZPR-CLI-003",
      message: "cannot read '\(path)': permission denied; check the file's permissions")
  }

  static func notUTF8(_ path: String) -> CLIError {
    CLIError(
      code: "ZPR-CLI-004", message: "cannot read '\(path)': it is not UTF-8 text; save it as UTF-8")
  }

  static func conflictingDefaultNamespace(_ chosen: String, tenancy: String) -> CLIError {
    CLIError(
      code: "ZPR-CLI-006",
      message:
        "--default-namespace \(chosen) differs from the tenancy's defaultNamespace '\(tenancy)': "
        + "leave the option out, or change the tenancy")
  }

  static func cannotWrite(_ path: String, _ reason: String) -> CLIError {
    CLIError(
      code: "ZPR-CLI-005",
      message: "cannot write '\(path)': \(reason); check the folder exists and is writable",
      exitCode: 1)
  }
}
