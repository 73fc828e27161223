import ArgumentParser
import Foundation

/// The `zpr` command: thin commands over the zpr libraries.
@main
struct ZPR: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zpr",
    abstract: "Zero Trust Packet Routing for Linux networks.",
    discussion: """
      Exit codes: 0 success, 1 the input has errors (or is not canonical, with fmt --check),
      2 a usage error (a bad option, a missing file).
      """,
    subcommands: [PolicyCommand.self, BenchCommand.self]
  )

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
      FileHandle.standardError.write(Data("zpr: error: \(error.message)\n".utf8))
      Foundation.exit(error.exitCode)
    } catch {
      if exitCode(for: error) == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(CLIError.usageExitCode)
      }
      exit(withError: error)
    }
  }
}

/// An error the command reports itself, with the exit code it implies.
struct CLIError: Error {
  static let usageExitCode: Int32 = 2

  var message: String
  var exitCode: Int32 = CLIError.usageExitCode
}
