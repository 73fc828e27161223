import ArgumentParser
import Foundation
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy

/// `zpr lab`: a tenancy built from network namespaces on this machine.
struct LabCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lab",
    abstract: "Build a tenancy out of network namespaces here, and try flows in it for real.",
    discussion: """
      A namespace per VNIC, a router namespace per VCN with a bridge per subnet, the security \
      lists and NSGs as nftables, and a zpr agent in each VNIC's namespace. Every name starts \
      with the lab's prefix (--prefix, default zl), so `zpr lab down` removes everything, also \
      after a crash. Needs root.
      """,
    subcommands: [LabUp.self, LabExec.self, LabProbe.self, LabDown.self])

  /// Where a lab keeps its tenancy file, for `exec` and `probe`.
  static func saved(_ prefix: String) -> URL {
    URL(fileURLWithPath: "/run/zpr-lab/\(prefix).yaml")
  }

  static func requireRoot(_ what: String) throws {
    guard getuid() == 0 else {
      throw CLIError(
        code: "ZPR-CLI-019",
        message: "zpr lab \(what) works with network namespaces and needs root: run it with sudo")
    }
  }

  /// The lab that `up` built under this prefix.
  static func lab(_ prefix: String) throws -> Lab {
    let file = saved(prefix)
    guard FileManager.default.fileExists(atPath: file.path) else {
      throw CLIError(
        code: "ZPR-CLI-022",
        message: "there is no lab '\(prefix)' here: build it with `zpr lab up FILE`")
    }
    return Lab(try loadTenancy(file.path), prefix: prefix)
  }
}

struct LabOptions: ParsableArguments {
  @Option(help: "The prefix of every name the lab makes.") var prefix = "zl"

  func validate() throws {
    guard !prefix.isEmpty, prefix.count <= 8,
      prefix.allSatisfy({ $0.isLetter || $0.isNumber })
    else { throw ValidationError("--prefix: 1 to 8 letters or digits") }
  }
}

/// `zpr lab up FILE`.
struct LabUp: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "up", abstract: "Build the tenancy's lab and start an agent per VNIC.")

  @OptionGroup var options: LabOptions
  @Flag(help: "Apply zpr's rulesets once instead of starting agents.") var noAgents = false
  @Argument(help: "The tenancy file.") var file: String

  func run() async throws {
    try LabCommand.requireRoot("up")
    let tenancy = try loadTenancy(file)
    let saved = LabCommand.saved(options.prefix)
    guard !FileManager.default.fileExists(atPath: saved.path) else {
      throw CLIError(
        code: "ZPR-CLI-023",
        message: "a lab '\(options.prefix)' is up already: `zpr lab down --prefix "
          + "\(options.prefix)` first, or use another --prefix")
    }
    try FileManager.default.createDirectory(
      at: saved.deletingLastPathComponent(), withIntermediateDirectories: true)
    try readPolicySource(file).text.write(to: saved, atomically: true, encoding: .utf8)
    let lab = Lab(tenancy, prefix: options.prefix)
    do {
      try await lab.up()
      if noAgents { _ = try await lab.enforce(tenancy) }
    } catch {
      _ = Lab.down(prefix: options.prefix)
      try? FileManager.default.removeItem(at: saved)
      throw AgentCommand.cli(error)
    }
    if !noAgents {
      // Each agent runs inside its VNIC's namespace, so `down` ends it with the namespace.
      let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      for index in lab.hosts {
        let endpoint = lab.topology.endpoints[index]
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        agent.arguments = [
          "ip", "netns", "exec", lab.namespace(of: endpoint), executable.path, "agent",
          "--tenancy", saved.path, "--host", endpoint.name,
        ]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
      }
    }
    writeOut(
      "lab '\(options.prefix)' is up: \(lab.hosts.count) VNICs"
        + (noAgents ? "" : ", an agent in each") + "\n")
    for index in lab.hosts {
      let endpoint = lab.topology.endpoints[index]
      writeOut(
        "  \(endpoint.name)  \(endpoint.ips.map(\.description).joined(separator: ", "))  "
          + "(namespace \(lab.namespace(of: endpoint)))\n")
    }
  }
}

/// `zpr lab exec NAME -- CMD...`.
struct LabExec: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec", abstract: "Run a command inside a VNIC of the lab.")

  @OptionGroup var options: LabOptions
  @Argument(help: "The VNIC (a resource's name, or RESOURCE/N).") var name: String
  @Argument(parsing: .postTerminator, help: "The command, after --.") var command: [String]

  func run() async throws {
    try LabCommand.requireRoot("exec")
    let lab = try LabCommand.lab(options.prefix)
    guard let namespace = lab.namespace(named: name) else {
      throw CLIError(code: "ZPR-LAB-004", message: "the lab has no VNIC named '\(name)'")
    }
    guard !command.isEmpty else { throw ValidationError("name the command after --") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ip", "netns", "exec", namespace] + command
    try process.run()
    process.waitUntilExit()
    throw ExitCode(process.terminationStatus)
  }
}

/// `zpr lab probe --from X --to Y --protocol P [--port N]`.
struct LabProbe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe",
    abstract: "Try a real connection between two VNICs of the lab.",
    discussion: "Exits 0 when it connected, 1 when it did not.")

  @OptionGroup var options: LabOptions
  @Option var from: String
  @Option var to: String
  @Option(name: .customLong("protocol"), help: "tcp, udp or icmp.") var transport: String
  @Option(help: "The destination port (tcp, udp).") var port: Int?
  @Option(help: "Seconds to wait for an answer.") var timeout: Double = 1
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text

  func run() async throws {
    try LabCommand.requireRoot("probe")
    guard let flowProtocol = FlowProtocol(rawValue: transport.lowercased()) else {
      throw ValidationError("--protocol must be tcp, udp or icmp")
    }
    let lab = try LabCommand.lab(options.prefix)
    let result: ProbeResult
    do {
      result = try lab.probe(
        from: from, to: to, transport: flowProtocol, port: port, timeout: timeout)
    } catch { throw AgentCommand.cli(error) }
    if format == .json {
      writeOut(
        JSONValue.object([
          ("connected", .bool(result.connected)), ("from", .string(result.from)),
          ("to", .string(result.to)), ("protocol", .string(result.transport.rawValue)),
          ("port", .int(result.port)), ("detail", .string(result.detail)),
        ]).serialized() + "\n")
    } else {
      writeOut(
        "\(result.connected ? "CONNECTED" : "NOT CONNECTED"): \(result.from) -> \(result.to) "
          + "\(result.transport.rawValue)\(result.port.map { "/\($0)" } ?? ""): \(result.detail)\n")
    }
    if !result.connected { throw ExitCode(1) }
  }
}

/// `zpr lab down`.
struct LabDown: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "down", abstract: "Remove everything the lab made (also after a crash).")

  @OptionGroup var options: LabOptions

  func run() async throws {
    try LabCommand.requireRoot("down")
    let removed = Lab.down(prefix: options.prefix)
    try? FileManager.default.removeItem(at: LabCommand.saved(options.prefix))
    writeOut("lab '\(options.prefix)' is down: \(removed.count) namespaces removed\n")
  }
}
