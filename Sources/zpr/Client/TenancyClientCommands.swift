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
    let response = try await client.exchange(
      "POST", "/v1/apply" + (dryRun ? "?dryRun=true" : ""),
      body: ApplyRequest(tenancy: text, path: file))
    if options.format == .json {
      writeOut(prettyJSON(response.object) + "\n")
      return
    }
    let answer = try response.decode(ApplyAnswer.self)
    var lines: [String] = []
    for (action, sign, steps) in [
      ("create", "+", answer.plan.create), ("update", "~", answer.plan.update),
      ("delete", "-", answer.plan.delete),
    ] {
      for step in steps {
        let parent = step.parent.map { " in \(shown($0))" } ?? ""
        lines.append("\(sign) \(action) \(shown(step.kind)) '\(shown(step.name))'\(parent)")
      }
    }
    if lines.isEmpty { lines.append("no changes: the server already holds this tenancy") }
    let pairs = answer.reachability?.pairs ?? []
    lines.append("")
    if let skipped = answer.reachabilitySkipped {
      lines.append("reachability: not compared (\(shown(skipped)))")
    } else {
      lines.append("reachability: \(pairs.count) pair(s) of endpoint groups change")
    }
    func access(_ entry: ApplyAnswer.Access) -> String {
      shown(entry.protocol) + (entry.ports.map { "/\(shown($0))" } ?? "")
        + (entry.policy.map { " (policy '\(shown($0))')" } ?? "")
    }
    for pair in pairs {
      lines.append(
        "  \(shown(pair.from.joined(separator: ", "))) -> \(shown(pair.to.joined(separator: ", "))):"
      )
      for gained in pair.gained { lines.append("    gains \(access(gained))") }
      for lost in pair.lost { lines.append("    loses \(access(lost))") }
    }
    lines.append("")
    lines.append(
      dryRun
        ? "dry run: nothing was changed (the server is at revision \(answer.revision))"
        : "applied: the server is at revision \(answer.revision)")
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
      json: .object([("defaultNamespace", .string(defaultNamespace))]))
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
    let items = object["items"]?.array ?? []
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      let lines = items.map { item -> String in
        let record = [item["after"], item["before"]].compactMap { $0 }.first { !$0.isNull }
        let name = (record?["name"] ?? record?["user"]).map { " '\(shown($0))'" } ?? ""
        let key = item["actorKey"].map { "  (key \(shown($0)))" } ?? ""
        return "r\(shown(item["revision"]))  \(shown(item["time"]))  \(shown(item["actor"]))  "
          + "\(shown(item["action"])) \(shown(item["kind"]))\(name)\(key)"
      }
      writeOut((lines.isEmpty ? "no changes" : lines.joined(separator: "\n")) + "\n")
    }
  }
}

/// `POST /v1/apply`'s question: a tenancy file's text, and its name for messages.
struct ApplyRequest: Encodable {
  var tenancy: String
  var path: String
}

/// `POST /v1/apply`'s answer, the parts the command shows.
struct ApplyAnswer: Decodable {
  var plan: Plan
  var reachability: Reachability?
  var reachabilitySkipped: String?
  var revision: Int64

  /// Each step, by kind and name.
  struct Plan: Decodable {
    var create: [Step]
    var update: [Step]
    var delete: [Step]
  }

  struct Step: Decodable {
    var kind: String
    var name: String
    var parent: String?
  }

  /// The pairs of endpoint groups whose access changes.
  struct Reachability: Decodable {
    var pairs: [Pair]
  }

  struct Pair: Decodable {
    var from: [String]
    var to: [String]
    var gained: [Access]
    var lost: [Access]
  }

  /// A protocol and ports, and the policy that grants them (none when the network does).
  struct Access: Decodable {
    var `protocol`: String
    var ports: String?
    var policy: String?
  }
}
