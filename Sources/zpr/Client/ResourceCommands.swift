import ArgumentParser
import Foundation
import ZPRPolicy
import ZPRServer

/// A kind of resource the command line manages on a server, as `zpr <command> list|get|...`.
protocol ClientResource {
  /// The command's name (`vcn`).
  static var command: String { get }
  /// The API's collection (`vcns`).
  static var path: String { get }
  /// How help names one (`VCN`).
  static var label: String { get }
  /// Namespaces and attributes: retire and reactivate.
  static var hasLifecycle: Bool { get }
  /// How help names several.
  static var plural: String { get }
}

extension ClientResource {
  static var hasLifecycle: Bool { false }
  static var plural: String { label + "s" }

  /// The subcommands every kind has.
  static var subcommands: [any ParsableCommand.Type] {
    [
      ResourceList<Self>.self, ResourceGet<Self>.self, ResourceCreate<Self>.self,
      ResourceUpdate<Self>.self, ResourceDelete<Self>.self,
    ]
      + (hasLifecycle ? [ResourceAction<Self>.self] : [])
  }

  /// The id of a resource given by id or by name (`--parent` narrows names shared across VCNs).
  static func id(_ reference: String, client: APIClient) async throws -> String {
    if reference.contains("-"), reference.split(separator: "-").last?.count == 12 {
      return reference
    }
    let query =
      reference.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? reference
    let items =
      try await client.object("GET", "/v1/\(path)?name=\(query)")["items"] as? [[String: Any]]
      ?? []
    guard items.count == 1, let id = items[0]["id"] as? String else {
      throw CLIError(
        code: "ZPR-CLI-013",
        message: items.isEmpty
          ? "there is no \(label) named '\(reference)': `zpr \(command) list` shows them"
          : "\(items.count) \(plural) are named '\(reference)' (in different parents): give the id",
        exitCode: 1)
    }
    return id
  }
}

/// `zpr <kind> list`.
struct ResourceList<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "list", abstract: "List \(Kind.plural) on the server.")
  }

  @OptionGroup var options: ClientOptions
  @Option(help: "Only the one with this name.") var name: String?
  @Option(help: "Only those in this state (ACTIVE, INACTIVE).") var lifecycleState: String?
  @Option(help: "Only those carrying this security attribute (ns.key or ns.key:value).")
  var attribute: String?
  @Option(help: "At most this many (1 to 1000).") var limit = 100
  @Option(help: "The page after this id (a list's nextPage).") var page: String?

  func run() async throws {
    var query = ["limit=\(limit)"]
    for (key, value) in [
      ("name", name), ("lifecycleState", lifecycleState), ("attribute", attribute), ("page", page),
    ] {
      if let value {
        query.append(
          "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)")
      }
    }
    let object = try await options.client().object(
      "GET", "/v1/\(Kind.path)?" + query.joined(separator: "&"))
    let items = object["items"] as? [[String: Any]] ?? []
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      var lines = items.map { item in
        [item["name"], item["lifecycleState"], item["id"]].map(shown).joined(separator: "  ")
      }
      if items.isEmpty { lines = ["no \(Kind.plural)"] }
      if let next = object["nextPage"] { lines.append("more: --page \(next)") }
      writeOut(lines.joined(separator: "\n") + "\n")
    }
  }
}

/// `zpr <kind> get ID|NAME`.
struct ResourceGet<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "get", abstract: "Show one \(Kind.label).")
  }

  @OptionGroup var options: ClientOptions
  @Argument(help: "Its id or name.") var reference: String

  func run() async throws {
    let client = try options.client()
    let id = try await Kind.id(reference, client: client)
    let (_, data, etag) = try await client.send("GET", "/v1/\(Kind.path)/\(id)")
    let object = (try? JSONSerialization.jsonObject(with: data)) ?? [:]
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text: writeOut(prettyJSON(object) + "\nETag: \(etag ?? "")\n")
    }
  }
}

/// The body of a create or update: a JSON file, or for a policy a .zpl file.
struct ResourceBody: ParsableArguments {
  @Option(name: [.short, .long], help: "The element as JSON (- reads standard input).")
  var file: String?
  @Option(help: "ZPR policies: the statements, from a .zpl file.") var zpl: String?
  @Option(help: "ZPR policies: the policy's name (with --zpl).") var name: String?
  @Option(help: "ZPR policies: the description (with --zpl).") var description: String?

  func body() throws -> Any {
    if let zpl {
      let source = try readPolicySource(zpl)
      let file = PolicyParser().parse(source)
      let statements = file.statementLines.map { source.text(of: $0) }
      return [
        "name": name ?? URL(fileURLWithPath: zpl).deletingPathExtension().lastPathComponent,
        "description": description ?? "from \(URL(fileURLWithPath: zpl).lastPathComponent)",
        "statements": statements,
      ]
    }
    guard let file else {
      throw CLIError(
        code: "ZPR-CLI-014", message: "give the element with -f FILE.json (or --zpl for a policy)")
    }
    let data =
      file == "-"
      ? FileHandle.standardInput.readDataToEndOfFile()
      : try Data(contentsOf: URL(fileURLWithPath: file))
    guard let object = try? JSONSerialization.jsonObject(with: data) else {
      throw CLIError(
        code: "ZPR-CLI-015", message: "'\(file)' is not JSON: write the element as a JSON object")
    }
    return object
  }
}

/// `zpr <kind> create`.
struct ResourceCreate<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "create", abstract: "Create a \(Kind.label).")
  }

  @OptionGroup var options: ClientOptions
  @OptionGroup var body: ResourceBody
  @Option(help: "A key that makes a retried create create once.") var idempotencyKey: String?

  func run() async throws {
    let object = try await options.client().object(
      "POST", "/v1/\(Kind.path)", json: try body.body(),
      headers: idempotencyKey.map { ["Idempotency-Key": $0] } ?? [:])
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      writeOut("created \(Kind.label) '\(shown(object["name"]))' (\(shown(object["id"])))\n")
    }
  }
}

/// `zpr <kind> update ID|NAME`.
struct ResourceUpdate<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "update", abstract: "Replace a \(Kind.label) with a new version of it.")
  }

  @OptionGroup var options: ClientOptions
  @Argument(help: "Its id or name.") var reference: String
  @OptionGroup var body: ResourceBody
  @Option(help: "Only if it is still at this version (the ETag of a get).") var ifMatch: String?

  func run() async throws {
    let client = try options.client()
    let id = try await Kind.id(reference, client: client)
    let object = try await client.object(
      "PUT", "/v1/\(Kind.path)/\(id)", json: try body.body(),
      headers: try ifMatchHeader(ifMatch))
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text: writeOut("updated \(Kind.label) '\(shown(object["name"]))' (\(shown(id)))\n")
    }
  }
}

/// `zpr <kind> delete ID|NAME`.
struct ResourceDelete<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "delete", abstract: "Delete a \(Kind.label).")
  }

  @OptionGroup var options: ClientOptions
  @Argument(help: "Its id or name.") var reference: String
  @Option(help: "Only if it is still at this version (the ETag of a get).") var ifMatch: String?
  @Flag(help: "Namespaces: delete its attributes too.") var cascade = false

  func run() async throws {
    let client = try options.client()
    let id = try await Kind.id(reference, client: client)
    try await client.send(
      "DELETE", "/v1/\(Kind.path)/\(id)" + (cascade ? "?cascade=true" : ""),
      headers: try ifMatchHeader(ifMatch))
    if options.format == .text { writeOut("deleted \(Kind.label) \(id)\n") }
  }
}

/// `zpr namespace|attribute retire|reactivate ID|NAME`.
struct ResourceAction<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "lifecycle", abstract: "Retire or reactivate a \(Kind.label).")
  }

  enum Action: String, ExpressibleByArgument, CaseIterable {
    case retire
    case reactivate
  }

  @OptionGroup var options: ClientOptions
  @Argument(help: "retire or reactivate.") var action: Action
  @Argument(help: "Its id or name.") var reference: String

  func run() async throws {
    let client = try options.client()
    let id = try await Kind.id(reference, client: client)
    let object = try await client.object(
      "POST", "/v1/\(Kind.path)/\(id)/actions/\(action.rawValue)")
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      writeOut("\(Kind.label) '\(shown(object["name"]))' is \(shown(object["lifecycleState"]))\n")
    }
  }
}

/// The If-Match header of `--if-match V`: the version a get printed (`3` or `"3"`).
func ifMatchHeader(_ value: String?) throws -> [String: String] {
  guard let value else { return [:] }
  let digits =
    value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 3
    ? String(value.dropFirst().dropLast()) : value
  guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
    throw CLIError(
      code: "ZPR-CLI-032",
      message: "--if-match takes the version a get printed (its ETag, such as 3), not '\(value)'")
  }
  return ["If-Match": "\"\(digits)\""]
}

/// A value from the server as the terminal may show it: control and format characters (new
/// lines, escapes, bidi overrides) escaped, so a name cannot forge a line or move the cursor.
func shown(_ value: Any?) -> String {
  TerminalText.escaped(value.map { "\($0)" } ?? "")
}
