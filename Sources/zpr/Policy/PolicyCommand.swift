import ArgumentParser
import Foundation
import ZPRPolicy

/// `zpr policy`: check, format and parse ZPL files.
struct PolicyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy",
    abstract: "Check, format and parse ZPR policy files (.zpl); manage policies on a server.",
    subcommands: [PolicyCheckCommand.self, PolicyFormatCommand.self, PolicyParseCommand.self]
      + ZPRPolicyResource.subcommands
  )
}

/// Options every policy command shares.
struct PolicyOptionGroup: ParsableArguments {
  @Option(
    help:
      "The namespace that attributes without one refer to (default: oracle-zpr, or the tenancy's).")
  var defaultNamespace: String?

  @Option(help: "The most statements one policy may hold.")
  var maxStatements = ZPRLimits.standard.statementsPerPolicy

  var policyOptions: PolicyOptions {
    PolicyOptions(
      limits: ZPRLimits(statementsPerPolicy: maxStatements),
      defaultNamespace: defaultNamespace ?? "oracle-zpr")
  }

  func validate() throws {
    guard maxStatements >= 1 else {
      throw ValidationError("--max-statements must be at least 1")
    }
  }
}

/// The output formats of `check` and `parse`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text
  case json
}

/// Reads a policy file (or standard input for `-`) as UTF-8; a file that cannot be read is a
/// usage error.
func readPolicySource(_ path: String) throws(CLIError) -> SourceFile {
  let data: Data
  if path == "-" {
    data = FileHandle.standardInput.readDataToEndOfFile()
  } else {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .fileNotFound(path)
    }
    guard !isDirectory.boolValue else {
      throw .isDirectory(path)
    }
    guard let contents = FileManager.default.contents(atPath: path) else {
      throw .unreadable(path)
    }
    data = contents
  }
  guard let text = String(data: data, encoding: .utf8) else {
    throw .notUTF8(path)
  }
  return SourceFile(path: path == "-" ? "<stdin>" : path, text: text)
}

/// Writes to standard output without buffering surprises between stdout and stderr.
func writeOut(_ text: String) {
  FileHandle.standardOutput.write(Data(text.utf8))
}

/// Writes to standard error.
func writeError(_ text: String) {
  FileHandle.standardError.write(Data(text.utf8))
}

/// "1 error", "2 warnings".
func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
  "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
}
