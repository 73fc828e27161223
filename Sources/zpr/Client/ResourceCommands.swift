import ArgumentParser
import Foundation
import ZPRClient
import ZPRModel
import ZPRPolicy
import ZPRServer

/// A kind of resource the command line manages on a server, as `zpr <command> list|get|...`:
/// everything about it comes from its schema.
protocol ClientResource {
  static var schema: ResourceSchema { get }
}

extension ClientResource {
  /// The command's name (`vcn`).
  static var command: String { schema.command }
  /// The API's collection (`vcns`).
  static var path: String { schema.path }
  /// How help names one (`VCN`), and several.
  static var label: String { schema.label }
  static var plural: String { schema.plural }

  /// The kind's command: its subcommands, and help from the schema.
  static var commandConfiguration: CommandConfiguration {
    CommandConfiguration(
      commandName: command, abstract: "Manage \(plural) on a zpr server.",
      discussion: """
        A \(label)'s fields:
        \(FieldHelp.lines(schema))

        For example:
        \(FieldHelp.example("zpr \(command) create \(schema.example)"))
        """, subcommands: subcommands)
  }

  /// The subcommands every kind has (namespaces' delete also cascades).
  static var subcommands: [any ParsableCommand.Type] {
    [ResourceList<Self>.self, ResourceGet<Self>.self, ResourceCreate<Self>.self]
      + [ResourceUpdate<Self>.self]
      + [
        schema.kind == ResourceSchema.namespace.kind
          ? NamespaceDelete.self : ResourceDelete<Self>.self
      ]
      + (schema.hasLifecycle ? [ResourceAction<Self>.self] : [])
  }

  /// The id of a resource given by id or by name (`--parent` narrows names shared across VCNs).
  static func id(_ reference: String, client: APIClient) async throws -> String {
    if reference.contains("-"), reference.split(separator: "-").last?.count == 12 {
      return reference
    }
    let query =
      reference.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? reference
    let items = try await client.object("GET", "/v1/\(path)?name=\(query)")["items"]?.array ?? []
    guard items.count == 1, let id = items[0]["id"]?.string else {
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

/// Help for a kind's fields, from its schema: each flag with its value on a line, what it
/// means wrapped under it (help is read in an 80-column terminal).
enum FieldHelp {
  static func lines(_ schema: ResourceSchema) -> String {
    var rows = schema.flags.map { flag -> (String, String) in
      let value =
        switch flag.field.shape {
        case .string: flag.field.key.uppercased() == "CIDR" ? "CIDR" : "TEXT"
        case .integer: "N"
        case .boolean: "true|false"
        case .strings: "TEXT"
        case .attributes: "NS.KEY=VALUE"
        case .objects: "KEY=VALUE,..."
        }
      var text = flag.field.summary
      if flag.field.required && flag.inFirstOf == nil { text += " (required)" }
      if [.strings, .attributes, .objects].contains(flag.field.shape) {
        text += "; repeat for more"
      }
      return ("--\(flag.name) \(value)", text)
    }
    rows.append(("--set KEY=VALUE", "Any field, the value as JSON or text"))
    rows.append(("-f FILE", "The whole element, as JSON or YAML (- reads standard input)"))
    return rows.map { "  \($0.0)\n" + wrapped($0.1, indent: "      ") }.joined(separator: "\n")
  }

  /// A command line, broken into lines under 80 columns with shell continuations.
  static func example(_ line: String) -> String {
    var lines: [String] = []
    var current = "  "
    for word in line.split(separator: " ") {
      if current.count + word.count + 3 > 78, current.trimmingCharacters(in: .whitespaces) != "" {
        lines.append(current + " \\")
        current = "      "
      }
      current += (current.hasSuffix(" ") ? "" : " ") + word
    }
    lines.append(current)
    return lines.joined(separator: "\n")
  }

  /// Text wrapped at word boundaries under 80 columns, each line indented.
  static func wrapped(_ text: String, indent: String) -> String {
    var lines: [String] = []
    var current = indent
    for word in text.split(separator: " ") {
      if current.count + word.count + 1 > 78, current != indent {
        lines.append(current)
        current = indent
      }
      current += (current == indent ? "" : " ") + word
    }
    lines.append(current)
    return lines.joined(separator: "\n")
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
    let items = object["items"]?.array ?? []
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      var lines = items.map { item in
        [item["name"], item["lifecycleState"], item["id"]].map { shown($0) }.joined(
          separator: "  ")
      }
      if items.isEmpty { lines = ["no \(Kind.plural)"] }
      if let next = object["nextPage"] { lines.append("more: --page \(shown(next))") }
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
    switch options.format {
    case .json:
      writeOut(prettyJSON((try? JSONValue.parse(Array(data))) ?? .object([])) + "\n")
    case .text:
      let element = (try? JSONValue.parse(Array(data))) ?? .object([])
      let version = (etag ?? "").filter { $0 != "\"" }
      writeOut(ElementText.lines(element) + "version: \(shown(version))\n")
    }
  }
}

/// An element as text for people: a line per field, lists and objects indented under it, and
/// every value escaped for the terminal.
enum ElementText {
  static func lines(_ value: JSONValue, indent: String = "") -> String {
    guard let members = value.objectMembers else { return indent + scalar(value) + "\n" }
    var text = ""
    for (key, member) in members {
      switch member {
      case .object(let inner) where !inner.isEmpty:
        text += "\(indent)\(shown(key)):\n" + lines(member, indent: indent + "  ")
      case .array(let items) where items.contains(where: { $0.objectMembers != nil }):
        text += "\(indent)\(shown(key)):\n"
        for item in items {
          let inner = lines(item, indent: indent + "    ")
          text += indent + "  - " + inner.dropFirst(indent.count + 4)
        }
      default: text += "\(indent)\(shown(key)): \(scalar(member))\n"
      }
    }
    return text
  }

  private static func scalar(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): shown(text)
    case .array(let items): items.map(scalar).joined(separator: ", ")
    case .object: "{}"
    default: shown(value.serialized(pretty: false))
    }
  }
}

/// What a create or update sends: fields from flags (the kind's schema names them), a whole
/// element from a JSON or YAML file, or for ZPR policies the statements of a .zpl file.
struct ElementInput {
  /// The flags and values ArgumentParser did not know (the kind's field flags), and the name.
  var arguments: [String]
  var file: String?

  /// The element's members: the file's, with the flags' on top, and the name when given.
  func members(_ schema: ResourceSchema, name: String?) throws -> [(String, JSONValue)] {
    var arguments = arguments
    var zpl: String?
    if schema.kind == ResourceSchema.policy.kind, let at = arguments.firstIndex(of: "--zpl") {
      guard at + 1 < arguments.count else {
        throw CLIError(code: "ZPR-CLI-014", message: "--zpl needs a file: write --zpl FILE.zpl")
      }
      zpl = arguments[at + 1]
      arguments.removeSubrange(at...(at + 1))
    }
    var members = try file.map { try Self.read($0) } ?? []
    if let zpl {
      let source = try readPolicySource(zpl)
      let statements = PolicyParser().parse(source).statementLines.map { source.text(of: $0) }
      let stem = URL(fileURLWithPath: zpl).deletingPathExtension().lastPathComponent
      set(&members, "name", .string(stem), keep: true)
      set(
        &members, "description", .string("from \(URL(fileURLWithPath: zpl).lastPathComponent)"),
        keep: true)
      set(&members, "statements", .array(statements.map { .string($0) }))
    }
    let flagged: [(String, JSONValue)]
    do {
      flagged = try schema.members(fromFlags: arguments)
    } catch {
      throw CLIError(code: error.code.rawValue, message: error.message)
    }
    for (key, value) in flagged { set(&members, key, value) }
    if let name { set(&members, "name", .string(name)) }
    return members
  }

  private func set(
    _ members: inout [(String, JSONValue)], _ key: String, _ value: JSONValue, keep: Bool = false
  ) {
    if let index = members.firstIndex(where: { $0.0 == key }) {
      if !keep { members[index].1 = value }
    } else {
      members.append((key, value))
    }
  }

  /// A file's element: a JSON or YAML object.
  static func read(_ file: String) throws -> [(String, JSONValue)] {
    let data =
      file == "-"
      ? FileHandle.standardInput.readDataToEndOfFile()
      : try Data(contentsOf: URL(fileURLWithPath: file))
    let text = String(decoding: data, as: UTF8.self)
    do {
      guard let members = try ResourceSchema.element(fromYAML: text).objectMembers else {
        throw CLIError(
          code: "ZPR-CLI-015",
          message: "'\(file)' does not hold an element: write it as one JSON or YAML object")
      }
      return members
    } catch let error as ModelError {
      throw CLIError(code: "ZPR-CLI-015", message: "'\(file)': \(error.message)")
    }
  }

  /// The members as the client sends them.
  static func json(_ members: [(String, JSONValue)]) -> JSONValue {
    .object(members)
  }
}

/// Whether to commit a change or only say what it would do.
struct ChangeOptions: ParsableArguments {
  @Flag(help: "Only check the change and show what it would do; change nothing.")
  var dryRun = false

  /// The query that asks for a dry run.
  var query: String { dryRun ? "?dryRun=true" : "" }

  /// What a change did (or would do), for people: the server's words on access and warnings.
  func report(_ object: JSONValue, _ done: String) -> String {
    var lines = [dryRun ? "would have " + done + " (dry run: nothing was changed)" : done]
    for warning in object["warnings"]?.array ?? [] {
      lines.append("warning: " + shown(warning["message"]))
    }
    let changes = object["accessChanges"]?.array ?? []
    if !changes.isEmpty { lines.append("access:") }
    for change in changes { lines.append("  " + shown(change["summary"])) }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// `zpr <kind> create [NAME] [FLAGS] [-f FILE]`.
struct ResourceCreate<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "create", abstract: "Create \(Kind.schema.withArticle).",
      discussion: """
        Give the \(Kind.label)'s fields as flags, or the whole element with -f FILE:
        \(FieldHelp.lines(Kind.schema))

        For example:
        \(FieldHelp.example("zpr \(Kind.command) create \(Kind.schema.example)"))
        """)
  }

  @OptionGroup var options: ClientOptions
  @OptionGroup var change: ChangeOptions
  @Option(name: [.short, .long], help: "The element as JSON or YAML (- reads standard input).")
  var file: String?
  @Option(help: "A key that makes a retried create create once.") var idempotencyKey: String?
  @Argument(
    parsing: .allUnrecognized,
    help: ArgumentHelp(
      "The name, then the fields' flags (listed above).", valueName: "name-and-fields"))
  var fields: [String] = []

  func run() async throws {
    var arguments = fields
    var name: String?
    if let first = arguments.first, !first.hasPrefix("-") { name = arguments.removeFirst() }
    let members = try ElementInput(arguments: arguments, file: file).members(
      Kind.schema, name: name)
    guard members.contains(where: { $0.0 == "name" }) else {
      throw CLIError(
        code: "ZPR-CLI-014",
        message: "give the \(Kind.label)'s name: zpr \(Kind.command) create NAME [FLAGS] "
          + "(`zpr \(Kind.command) create --help` lists the flags)")
    }
    let object = try await options.client().object(
      "POST", "/v1/\(Kind.path)" + change.query, json: ElementInput.json(members),
      headers: idempotencyKey.map { ["Idempotency-Key": $0] } ?? [:])
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      // A dry run's resource has no id yet.
      let id = shown(object["id"]?.string ?? "")
      writeOut(
        change.report(
          object,
          "created \(Kind.label) '\(shown(object["name"]))'" + (id.isEmpty ? "" : " (\(id))")))
    }
  }
}

/// `zpr <kind> update ID|NAME [FLAGS] [-f FILE]`.
struct ResourceUpdate<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "update",
      abstract: "Change some fields of \(Kind.schema.withArticle), or replace it.",
      discussion: """
        Flags change the fields they name and leave the others as they are; -f FILE replaces \
        the whole element:
        \(FieldHelp.lines(Kind.schema))

        A list given by flags replaces the list (give every item).
        """)
  }

  @OptionGroup var options: ClientOptions
  @OptionGroup var change: ChangeOptions
  @Argument(help: "Its id or name.") var reference: String
  @Option(
    name: [.short, .long], help: "The whole new element, as JSON or YAML (- reads standard input).")
  var file: String?
  @Option(help: "Only if it is still at this version (the version a get printed).")
  var ifMatch: String?
  @Argument(
    parsing: .allUnrecognized,
    help: ArgumentHelp("The fields' flags (listed above).", valueName: "fields"))
  var fields: [String] = []

  func run() async throws {
    let client = try options.client()
    let id = try await Kind.id(reference, client: client)
    let members = try ElementInput(arguments: fields, file: file).members(Kind.schema, name: nil)
    guard !members.isEmpty else {
      throw CLIError(
        code: "ZPR-CLI-014",
        message: "say what to change: give fields as flags, or the whole element with -f FILE "
          + "(`zpr \(Kind.command) update --help` lists the flags)")
    }
    // A file is the whole element (PUT); flags are a merge patch of the fields they name.
    let object = try await client.object(
      file == nil ? "PATCH" : "PUT", "/v1/\(Kind.path)/\(id)" + change.query,
      json: ElementInput.json(members), headers: try ifMatchHeader(ifMatch))
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text:
      writeOut(
        change.report(object, "updated \(Kind.label) '\(shown(object["name"]))' (\(shown(id)))"))
    }
  }
}

/// `zpr <kind> delete ID|NAME`.
struct ResourceDelete<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "delete", abstract: "Delete \(Kind.schema.withArticle).")
  }

  @OptionGroup var options: ClientOptions
  @OptionGroup var change: ChangeOptions
  @Argument(help: "Its id or name.") var reference: String
  @Option(help: "Only if it is still at this version (the version a get printed).")
  var ifMatch: String?

  func run() async throws {
    try await Self.delete(Kind.self, reference, options, change, ifMatch: ifMatch, cascade: false)
  }

  /// Deletes a resource (with its attributes, for a namespace and `cascade`).
  static func delete(
    _ kind: any ClientResource.Type, _ reference: String, _ options: ClientOptions,
    _ change: ChangeOptions, ifMatch: String?, cascade: Bool
  ) async throws {
    let client = try options.client()
    let id = try await kind.id(reference, client: client)
    var query = change.query
    if cascade { query += query.isEmpty ? "?cascade=true" : "&cascade=true" }
    let (_, data, _) = try await client.send(
      "DELETE", "/v1/\(kind.path)/\(id)" + query, headers: try ifMatchHeader(ifMatch))
    let object = (try? JSONValue.parse(Array(data))) ?? .object([])
    switch options.format {
    case .json: writeOut(prettyJSON(object) + "\n")
    case .text: writeOut(change.report(object, "deleted \(kind.label) \(shown(id))"))
    }
  }
}

/// `zpr namespace delete ID|NAME [--cascade]`.
struct NamespaceDelete: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete", abstract: "Delete a security attribute namespace (once retired).")

  @OptionGroup var options: ClientOptions
  @OptionGroup var change: ChangeOptions
  @Argument(help: "Its id or name.") var reference: String
  @Option(help: "Only if it is still at this version (the version a get printed).")
  var ifMatch: String?
  @Flag(help: "Delete its attributes too.") var cascade = false

  func run() async throws {
    try await ResourceDelete<NamespaceCommand>.delete(
      NamespaceCommand.self, reference, options, change, ifMatch: ifMatch, cascade: cascade)
  }
}

/// `zpr namespace|attribute retire|reactivate ID|NAME`.
struct ResourceAction<Kind: ClientResource>: AsyncParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "lifecycle", abstract: "Retire or reactivate \(Kind.schema.withArticle).")
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
func shown(_ value: JSONValue?) -> String {
  TerminalText.escaped(value.map { $0.string ?? $0.serialized(pretty: false) } ?? "")
}

/// A text from the server, for a terminal.
func shown(_ text: String) -> String {
  TerminalText.escaped(text)
}
