import ArgumentParser
import Foundation
import ZPRClient
import ZPRPolicy

/// `zpr apply -f TENANCY.yaml [--dry-run]`: make the server's tenancy the file's, in one change.
struct ApplyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Make the server's tenancy what a tenancy file says, as one change.",
    discussion: """
      Shows the plan (what is created, updated and deleted, and the access between endpoints \
      that it gains or loses), then applies it as one commit, or nothing with --dry-run. The \
      server checks the result as `zpr tenancy check` does and runs its policy tests; a file \
      with errors, or a change that breaks a test, is refused and nothing changes.
      """)

  @OptionGroup var options: ClientOptions
  @Option(name: [.short, .long], help: "The tenancy file (YAML or JSON).") var file: String
  @Flag(help: "Show the plan; change nothing.") var dryRun = false

  func run() async throws {
    let text = try readPolicySource(file).text
    var client = try options.client()
    client.timeout = 3600
    let object = try await client.object(
      "POST", "/v1/apply" + (dryRun ? "?dryRun=true" : ""),
      json: ["tenancy": text, "path": file])
    if options.format == .json {
      writeOut(prettyJSON(object) + "\n")
      return
    }
    let plan = object["plan"] as? [String: [[String: Any]]] ?? [:]
    var lines: [String] = []
    for (action, sign) in [("create", "+"), ("update", "~"), ("delete", "-")] {
      for entry in plan[action] ?? [] {
        let parent = entry["parent"].map { " in \($0)" } ?? ""
        lines.append("\(sign) \(action) \(entry["kind"] ?? "") '\(entry["name"] ?? "")'\(parent)")
      }
    }
    if lines.isEmpty { lines.append("no changes: the server already holds this tenancy") }
    let reachability = object["reachability"] as? [String: Any] ?? [:]
    let pairs = reachability["pairs"] as? [[String: Any]] ?? []
    lines.append("")
    if let skipped = object["reachabilitySkipped"] as? String {
      lines.append("reachability: not compared (\(skipped))")
    } else {
      lines.append("reachability: \(pairs.count) pair(s) of endpoint groups change")
    }
    func access(_ entry: [String: Any]) -> String {
      let ports = entry["ports"] as? String
      let what = "\(entry["protocol"] ?? "")" + (ports.map { "/\($0)" } ?? "")
      return what + (entry["policy"] is NSNull ? "" : " (policy '\(entry["policy"] ?? "")')")
    }
    for pair in pairs {
      let from = (pair["from"] as? [String] ?? []).joined(separator: ", ")
      let to = (pair["to"] as? [String] ?? []).joined(separator: ", ")
      lines.append("  \(from) -> \(to):")
      for gained in pair["gained"] as? [[String: Any]] ?? [] {
        lines.append("    gains \(access(gained))")
      }
      for lost in pair["lost"] as? [[String: Any]] ?? [] {
        lines.append("    loses \(access(lost))")
      }
    }
    lines.append("")
    lines.append(
      dryRun
        ? "dry run: nothing was changed (the server is at revision \(object["revision"] ?? 0))"
        : "applied: the server is at revision \(object["revision"] ?? 0)")
    writeOut(lines.joined(separator: "\n") + "\n")
  }
}

/// `zpr export`: the server's tenancy as a tenancy file that `zpr apply` accepts.
struct ExportCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export", abstract: "Write the server's tenancy as a tenancy file (YAML).",
    discussion: """
      Says what it wrote (how many resources, of which revision): on standard output when it \
      writes to a file (-o), on standard error when the tenancy goes to standard output.
      """)

  @OptionGroup var options: ClientOptions
  @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
  var output: String?

  func run() async throws {
    var client = try options.client()
    client.timeout = 600
    let response = try await client.exchange("GET", "/v1/export")
    if let output {
      do {
        try response.body.write(to: URL(fileURLWithPath: output))
      } catch {
        throw CLIError.cannotWrite(output, error.localizedDescription)
      }
      writeOut(Self.summary(response, to: output) + "\n")
    } else {
      writeOut(String(decoding: response.body, as: UTF8.self))
      writeError(Self.summary(response, to: "standard output") + "\n")
    }
  }

  /// "wrote 42 resources of revision 7 to FILE", from the export's headers.
  static func summary(_ response: APIResponse, to place: String) -> String {
    let resources = response.header("ZPR-Resource-Count").flatMap { Int($0) }
    let revision = response.header("ZPR-Revision")
    return "wrote "
      + (resources.map { counted($0, "resource") } ?? "the tenancy")
      + (revision.map { " of revision \($0)" } ?? "") + " to \(place)"
  }
}

/// `zpr enable`: "Enable ZPR" on the server.
struct EnableCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enable",
    abstract: "Enable ZPR on the server: creates the default namespace and its example attribute.")

  @OptionGroup var options: ClientOptions
  @Option(help: "The default namespace's name.") var defaultNamespace = "oracle-zpr"

  func run() async throws {
    let object = try await options.client().object(
      "POST", "/v1/zprConfiguration/actions/enable",
      json: ["defaultNamespace": defaultNamespace])
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text: writeOut("ZPR is enabled; the default namespace is '\(defaultNamespace)'\n")
    }
  }
}

/// `zpr audit`: the server's audit log.
struct AuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit", abstract: "Show the server's audit log: who changed what, and when.")

  @OptionGroup var options: ClientOptions
  @Option(help: "Only changes after this revision.") var after = 0
  @Option(help: "At most this many records (up to 1000).") var limit = 100

  func run() async throws {
    let object = try await options.client().object(
      "GET", "/v1/audit?after=\(after)&limit=\(limit)")
    let items = object["items"] as? [[String: Any]] ?? []
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      let lines = items.map { item -> String in
        let record = (item["after"] as? [String: Any]) ?? (item["before"] as? [String: Any])
        let name = (record?["name"] ?? record?["user"]).map { " '\(shown($0))'" } ?? ""
        let key = item["actorKey"].map { "  (key \(shown($0)))" } ?? ""
        return "r\(shown(item["revision"]))  \(shown(item["time"]))  \(shown(item["actor"]))  "
          + "\(shown(item["action"])) \(shown(item["kind"]))\(name)\(key)"
      }
      writeOut((lines.isEmpty ? "no changes" : lines.joined(separator: "\n")) + "\n")
    }
  }
}
