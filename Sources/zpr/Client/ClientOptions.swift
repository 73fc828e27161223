import ArgumentParser
import Foundation
import ZPRClient
import ZPRPolicy

/// Where the server is and the key to use: `--server` or `ZPR_SERVER`, and `ZPR_API_KEY`, or
/// else the config file `~/.config/zpr/config.json` (`{"server": URL, "apiKey": KEY}`).
struct ClientOptions: ParsableArguments {
  @Option(help: "The zpr server (default: $ZPR_SERVER, the config file, or http://127.0.0.1:8080).")
  var server: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func client() throws(CLIError) -> APIClient {
    try APIClient.cli(server: server)
  }
}

extension APIClient {
  /// ``APIClient/resolve(server:environment:configPath:)`` with its error as the command
  /// line's.
  static func cli(server: String?) throws(CLIError) -> APIClient {
    do {
      return try APIClient.resolve(server: server)
    } catch { throw CLIError(error) }
  }
}

extension CLIError {
  /// The client's error as the command line's: same code and message; exit code 2 when the
  /// client is not set up (no key, a server that is not a URL), 1 otherwise.
  init(_ error: APIError) {
    self.init(
      code: error.code, message: error.message,
      exitCode: [APIError.noKeyCode, APIError.badServerCode].contains(error.code)
        ? CLIError.usageExitCode : 1)
  }
}

/// JSON for people: sorted keys, indented.
func prettyJSON(_ value: JSONValue) -> String {
  value.sortingKeys.serialized()
}
