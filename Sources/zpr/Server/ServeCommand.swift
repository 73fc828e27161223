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

  @Option(help: "Serve HTTPS with this certificate chain (PEM); needs --tls-key.")
  var tlsCert: String?

  @Option(help: "The private key (PEM) of --tls-cert.")
  var tlsKey: String?

  @Option(help: "The largest request body of one resource or query, in bytes.")
  var maxBodyBytes = ServerLimits.standard.bodyBytes

  @Option(help: "The largest body of apply and whatIf (a whole tenancy file), in bytes.")
  var maxTenancyBytes = ServerLimits.standard.tenancyBytes

  @Option(help: "Connections served at once; more are closed as they arrive.")
  var maxConnections = ServerLimits.standard.connections

  @Option(
    help: "Seconds a client may take to send a request's head (and an idle connection stays).")
  var headerTimeout = ServerLimits.standard.headerSeconds

  @Option(help: "Seconds a client may take to send a request's body.")
  var bodyTimeout = ServerLimits.standard.bodySeconds

  var limits: ServerLimits {
    ServerLimits(
      bodyBytes: maxBodyBytes, tenancyBytes: maxTenancyBytes, connections: maxConnections,
      headerSeconds: headerTimeout, bodySeconds: bodyTimeout)
  }

  func validate() throws {
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError(
        "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), "
          + "not '\(logLevel)'")
    }
    guard Self.address(listen) != nil else {
      throw ValidationError("--listen must be HOST:PORT, such as 127.0.0.1:8080, not '\(listen)'")
    }
    guard (tlsCert == nil) == (tlsKey == nil) else {
      throw ValidationError("--tls-cert and --tls-key go together: give both, or neither")
    }
    for (name, value) in [
      ("--max-body-bytes", maxBodyBytes), ("--max-tenancy-bytes", maxTenancyBytes),
      ("--max-connections", maxConnections), ("--header-timeout", headerTimeout),
      ("--body-timeout", bodyTimeout),
    ] where value < 1 {
      throw ValidationError("\(name) must be 1 or more, not \(value)")
    }
    if let key = ProcessInfo.processInfo.environment["ZPR_BOOTSTRAP_KEY"],
      let weakness = APIKeys.weakness(of: key)
    {
      throw ValidationError(
        "ZPR_BOOTSTRAP_KEY \(weakness): set it to a random secret of at least "
          + "\(APIKeys.minimumLength) characters (openssl rand -hex 32), or unset it and the "
          + "server makes one")
    }
  }

  /// A database URL as it may be printed: without its password.
  static func redacted(_ database: String) -> String {
    guard let scheme = database.range(of: "://"), let at = database.range(of: "@"),
      scheme.upperBound < at.lowerBound
    else { return database }
    let credentials = database[scheme.upperBound..<at.lowerBound]
    guard let colon = credentials.firstIndex(of: ":") else { return database }
    return String(database[..<colon]) + ":***" + String(database[at.lowerBound...])
  }

  /// Whether a listening host is this machine only.
  static func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
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
        ? JSONLogHandler(label: label)
        : EscapingLogHandler(StreamLogHandler.standardError(label: label))
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
      throw CLIError(error)
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
    let database = Self.redacted(database)
    var tls: TLSFiles?
    if let tlsCert, let tlsKey {
      do {
        tls = try TLSFiles(certificate: tlsCert, key: tlsKey)
      } catch let error as APIError {
        throw CLIError(code: error.code, message: error.message)
      }
    } else if !Self.isLoopback(host) {
      writeError(
        "zpr: warning: serving plain HTTP on \(host), which is not this machine only: API keys "
          + "cross the network in clear; use --tls-cert and --tls-key\n")
    }
    let scheme = tls == nil ? "http" : "https"
    try await ZPRServer.run(
      store: store, host: host, port: port, metrics: metrics, limits: limits, tls: tls
    ) { bound in
      writeOut(
        "zpr: serving on \(scheme)://\(host):\(bound) (database \(database), revision \(revision))\n"
      )
    }
  }
}
