import ArgumentParser
import Foundation
import ZPRClient
import ZPRIAM
import ZPRModel
import ZPRPolicy

/// `zpr iam`: the IAM policy language.
struct IAMCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "iam",
    abstract: "Check IAM policy files (who may change what) and explain their decisions.",
    subcommands: [IAMCheckCommand.self, IAMExplainCommand.self])
}

/// `zpr iam check`: every problem in IAM policy files, as `zpr policy check` reports them.
struct IAMCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract:
      "Check IAM policy files (one statement per line) and report every problem, with fixes.",
    discussion: "Exits 0 when there are no errors (warnings allowed), 1 when there are errors.")

  @Option(help: "Output format: text (compiler-style) or json.")
  var format: OutputFormat = .text

  @Argument(help: "IAM policy files; '-' reads standard input.")
  var files: [String]

  func validate() throws {
    guard !files.isEmpty else { throw ValidationError("name at least one IAM policy file") }
  }

  func run() async throws {
    let reports = try files.map { path in
      let file = IAMParser().parse(try readPolicySource(path))
      return FileReport(
        source: file.source, statements: file.statementCount, diagnostics: file.diagnostics)
    }
    try PolicyCheckCommand.report(reports, format: format)
  }
}

/// `zpr iam explain`: would these policies let a user do this, and by which statement?
struct IAMExplainCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Explain whether IAM policies grant a user a permission, and by which statement.",
    discussion: """
      Offline, against a tenancy file's iamPolicies and groups (--tenancy, where --resource \
      COLLECTION/NAME, such as vcns/prod, finds the compartment) or IAM policy files (--policy, \
      with the user's --group and place); or, with neither, against the zpr server's IAM \
      policies and the groups of the user's keys and of /v1/groups. Allowed: the policy and \
      statement that grant it. Denied: the statement that came closest and what it lacks. \
      Exits 0 either way; 1 when a file has errors.
      """)

  @Option(name: .customLong("policy"), help: "An IAM policy file (repeat for several).")
  var policies: [String] = []

  @Option(help: "A tenancy file: its iamPolicies, groups and compartments.")
  var tenancy: String?

  @Option(help: "Without --policy: the zpr server (default: $ZPR_SERVER or the config file).")
  var server: String?

  @Option(help: "The user's name.") var user: String
  @Option(name: .customLong("group"), help: "A group the user is in (repeat for several).")
  var groups: [String] = []
  @Option(help: "The permission asked for, such as VCN_UPDATE.") var permission: String
  @Option(help: "The target's compartment, such as Prod:Network (default: the tenancy root).")
  var compartment: String?
  @Option(help: "For security attributes: the namespace.") var namespace: String?
  @Option(help: "The API operation, such as UpdateVcn.") var operation: String?
  @Option(help: "The target: its name (offline), or COLLECTION/NAME on a server (vcns/prod).")
  var resource: String?
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text

  func run() async throws {
    if policies.isEmpty, tenancy == nil {
      try await explainOnServer()
      return
    }
    var loaded: [IAMPolicy] = []
    var groups = groups
    var compartment = compartment.map { $0.split(separator: ":").map(String.init) } ?? []
    var namespace = namespace
    var resourceName = resource
    if let tenancy {
      let model = try loadTenancy(tenancy)
      loaded += model.iamPolicies
      groups += IAMGroup.groups(of: user, in: model.groups).filter { !groups.contains($0) }
      if let resource, let slash = resource.firstIndex(of: "/") {
        let (collection, name) = (
          resource[..<slash], String(resource[resource.index(after: slash)...])
        )
        resourceName = name
        switch collection {
        case "vcns":
          guard let vcn = model.vcn(named: name) else {
            throw CLIError(
              code: "ZPR-CLI-018",
              message: "the tenancy has no VCN named '\(name)': see its vcns section")
          }
          compartment = model.compartmentPath(of: vcn.compartment)
        case "securityAttributeNamespaces": namespace = name
        case "compartments": compartment = model.compartmentPath(of: name)
        default:
          guard let owner = model.resources.first(where: { $0.name == name }) else {
            throw CLIError(
              code: "ZPR-CLI-018",
              message:
                "the tenancy has no resource named '\(name)': name a VCN (vcns/NAME), a "
                + "namespace (securityAttributeNamespaces/NAME), a compartment or an instance, "
                + "database, load balancer or private endpoint (instances/NAME)")
          }
          compartment = model.compartmentPath(of: owner.compartment)
        }
      }
    }
    for path in policies {
      let file = IAMParser().parse(try readPolicySource(path))
      let errors = file.diagnostics.filter { $0.severity == .error }
      guard errors.isEmpty else {
        let renderer = DiagnosticRenderer()
        for error in errors { writeError(renderer.render(error, in: file.source)) }
        throw CLIError(
          code: "ZPR-CLI-016",
          message: "the IAM policy file '\(path)' has errors (shown above): fix them first",
          exitCode: 1)
      }
      loaded.append(
        IAMPolicy(
          name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
          statements: file.statements))
    }
    let permission = permission.uppercased()
    guard PermissionCatalog.permissions.contains(permission) else {
      let guess = Suggestions.closest(to: permission, among: PermissionCatalog.permissions.sorted())
      throw CLIError(
        code: "ZPR-CLI-017",
        message: "'\(permission)' is not a permission"
          + (guess.map { ": did you mean '\($0)'?" } ?? ": see docs/iam.md"))
    }
    let request = IAMRequest(
      user: user, groups: groups, permission: permission, compartment: compartment,
      namespace: namespace, operation: operation, resourceName: resourceName)
    let decision = IAMEvaluator(policies: loaded).decide(request)
    func text(_ policy: String, _ index: Int) -> String {
      loaded.first { $0.name == policy }?.statements[index].canonical ?? ""
    }
    switch (format, decision) {
    case (.json, .allowed(let policy, let index)):
      writeOut(
        JSONValue.object([
          ("allowed", .bool(true)), ("policy", .string(policy)), ("statement", .int(index)),
          ("statementText", .string(text(policy, index))),
        ]).serialized() + "\n")
    case (.json, .denied(let closest)):
      writeOut(
        JSONValue.object([
          ("allowed", .bool(false)), ("closestPolicy", .string(closest?.policy)),
          ("closestStatement", .int(closest?.statement)),
          ("statementText", .string(closest.map { text($0.policy, $0.statement) })),
          ("lacks", .array((closest?.lacks ?? []).map { .string($0) })),
        ]).serialized() + "\n")
    case (.text, .allowed(let policy, let index)):
      writeOut(
        "ALLOWED: \(user) may \(permission), by policy '\(policy)' statement \(index):\n  "
          + text(policy, index) + "\n")
    case (.text, .denied(let closest)):
      var lines = ["DENIED: no statement grants \(user) \(permission)"]
      if let closest {
        lines.append(
          "closest: policy '\(closest.policy)' statement \(closest.statement):\n  "
            + text(closest.policy, closest.statement))
        lines += closest.lacks.map { "  - \($0)" }
      }
      writeOut(lines.joined(separator: "\n") + "\n")
    }
  }

  /// The server's answer, for its IAM policies and the groups of the user's keys.
  private func explainOnServer() async throws {
    let response = try await APIClient.resolve(server: server).exchange(
      "POST", "/v1/iam/explain",
      body: ExplainRequest(user: user, permission: permission, resource: resource))
    if format == .json {
      writeOut(prettyJSON(response.object) + "\n")
      return
    }
    let answer = try response.decode(Explanation.self)
    if answer.allowed {
      writeOut(
        "ALLOWED: \(user) may \(answer.permission), by policy '\(answer.policy ?? "")' "
          + "statement \(answer.statement.map(String.init) ?? ""):\n  "
          + "\(answer.statementText ?? "")\n")
      return
    }
    var lines = ["DENIED: no statement grants \(user) \(answer.permission)"]
    if let policy = answer.closestPolicy {
      lines.append(
        "closest: policy '\(policy)' statement "
          + "\(answer.closestStatement.map(String.init) ?? ""):\n  \(answer.statementText ?? "")")
      lines += (answer.lacks ?? []).map { "  - \($0)" }
    }
    writeOut(lines.joined(separator: "\n") + "\n")
  }

  /// `POST /v1/iam/explain`'s question.
  struct ExplainRequest: Encodable {
    var user: String
    var permission: String
    var resource: String?
  }

  /// Its answer.
  struct Explanation: Decodable {
    var allowed: Bool
    var permission: String
    var policy: String?
    var statement: Int?
    var statementText: String?
    var closestPolicy: String?
    var closestStatement: Int?
    var lacks: [String]?
  }
}
