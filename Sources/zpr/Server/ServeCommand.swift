import ArgumentParser
import Foundation
import Logging
import ZPRServer
import ZPRStore

/// `zpr serve`: the control plane.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Run the zpr control plane: the REST API over the tenancy's store.",
    discussion: """
      The database is an embedded SQLite file, zpr-data/zpr.sqlite under the current folder \
      unless --database names another file or a postgres:// URL (several servers may share one \
      PostgreSQL database). On first start the server creates the admin API key and prints it \
      once (ZPR_BOOTSTRAP_KEY sets it instead); every call but /healthz needs it as \
      'Authorization: Bearer KEY', /metrics (Prometheus) included.
      """
  )

  @Option(help: "The address to listen on, HOST:PORT (port 0: any free port).")
  var listen = "127.0.0.1:8080"

  @Option(help: "The database: a SQLite file path, or postgres://USER@HOST[:PORT]/DATABASE.")
  var database = "zpr-data/zpr.sqlite"

  enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
  }

  @Option(help: "Logs on standard error: text, or json (one object per line).")
  var logFormat: LogFormat = .text

  @Option(help: "The least level logged: trace, debug, info, notice, warning, error, critical.")
  var logLevel = "info"

  func validate() throws {
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError(
        "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), "
          + "not '\(logLevel)'")
    }
    guard Self.address(listen) != nil else {
      throw ValidationError("--listen must be HOST:PORT, such as 127.0.0.1:8080, not '\(listen)'")
    }
  }

  static func address(_ text: String) -> (String, Int)? {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (0...65535).contains(port), colon > text.startIndex
    else { return nil }
    return (String(text[..<colon]), port)
  }

  func run() async throws {
    let level = Logger.Level(rawValue: logLevel)!
    let format = logFormat
    LoggingSystem.bootstrap { label in
      var handler: any LogHandler =
        format == .json
        ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let metrics = ServerMetrics()
    metrics.bootstrap()
    let store: any Store
    do {
      if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
        store = try await PostgresStore(url: database)
      } else {
        let folder = URL(fileURLWithPath: database).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try SQLiteStore(path: database)
      }
    } catch let error as StoreError {
      throw CLIError(code: error.code.rawValue, message: error.message, exitCode: 1)
    }
    let bootstrap = ProcessInfo.processInfo.environment["ZPR_BOOTSTRAP_KEY"]
    if let key = try await APIKeys.bootstrap(store, bootstrap: bootstrap) {
      writeOut(
        bootstrap == nil
          ? "zpr: created the admin API key; it is shown this once, keep it:\n  \(key)\n"
          : "zpr: created the admin API key from ZPR_BOOTSTRAP_KEY\n")
    }
    let (host, port) = Self.address(listen)!
    let revision = try await store.revision()
    let database = database
    try await ZPRServer.run(store: store, host: host, port: port, metrics: metrics) { bound in
      writeOut(
        "zpr: serving on http://\(host):\(bound) (database \(database), revision \(revision))\n")
    }
  }
}
