import ArgumentParser
import Foundation
import ZPRPolicy

/// `zpr policy fmt`: rewrite files in canonical form.
struct PolicyFormatCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmt",
    abstract: "Rewrite policy files in canonical form.",
    discussion: """
      Files with errors are left unchanged (their errors are printed) and the command exits 1.
      With --check nothing is written: the files that are not canonical are listed and the
      command exits 1. '-' formats standard input to standard output.
      """
  )

  @Flag(help: "Change nothing; exit 1 when a file is not in canonical form.")
  var check = false

  @Argument(help: "Policy files (.zpl); '-' reads standard input and writes standard output.")
  var files: [String]

  func validate() throws {
    guard !files.isEmpty else { throw ValidationError("name at least one policy file") }
  }

  func run() async throws {
    let parser = PolicyParser()
    var failed = false
    for path in files {
      let file = parser.parse(try readPolicySource(path))
      if file.hasErrors {
        writeError(DiagnosticRenderer().render(file))
        writeError("\(file.source.path): not formatted: fix the errors above first\n")
        failed = true
        continue
      }
      let formatted = PolicyFormatter.format(file)
      if path == "-" {
        if check { failed = failed || formatted != file.source.text } else { writeOut(formatted) }
        continue
      }
      guard formatted != file.source.text else { continue }
      if check {
        writeOut("\(path): not in canonical form (run 'zpr policy fmt \(path)')\n")
        failed = true
        continue
      }
      do {
        try Data(formatted.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
      } catch {
        throw CLIError.cannotWrite(path, error.localizedDescription)
      }
      writeOut("formatted \(path)\n")
    }
    if failed { throw ExitCode(1) }
  }
}
