import ArgumentParser
import Foundation
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// `zpr lab`: a tenancy built from network namespaces on this machine.
struct LabCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lab",
    abstract: "Build a tenancy out of network namespaces here, and try flows in it for real.",
    discussion: """
      A namespace per VNIC, a router namespace per VCN with a bridge per subnet, the security \
      lists and NSGs as nftables, and a zpr agent in each VNIC's namespace; `zpr lab up` \
      returns once every agent enforces the tenancy, and `zpr lab status` shows what each one \
      enforces. Every name starts with the lab's prefix (--prefix, default zl), so `zpr lab \
      down` removes everything, also after a crash. Needs root.
      """,
    subcommands: [
      LabUp.self, LabStatus.self, LabExec.self, LabProbe.self, LabFuzz.self, LabDown.self,
    ])

  /// Where a lab keeps its tenancy file, for `exec` and `probe`.
  static func saved(_ prefix: String) -> URL {
    URL(fileURLWithPath: "/run/zpr-lab/\(prefix).yaml")
  }

  /// Where a lab's agents write their status files and their logs.
  static func agents(_ prefix: String) -> URL {
    URL(fileURLWithPath: "/run/zpr-lab/\(prefix)/agents", isDirectory: true)
  }

  /// The status file of a host's agent (`web-1/1` as `web-1.1.json`).
  static func statusFile(_ prefix: String, host: String) -> URL {
    agents(prefix).appendingPathComponent(
      host.replacingOccurrences(of: "/", with: ".") + ".json")
  }

  /// The log (standard output and error) of a host's agent.
  static func logFile(_ prefix: String, host: String) -> URL {
    agents(prefix).appendingPathComponent(host.replacingOccurrences(of: "/", with: ".") + ".log")
  }

  /// Removes a lab's files: its tenancy, its agents' status files and logs.
  static func removeFiles(_ prefix: String) {
    try? FileManager.default.removeItem(at: saved(prefix))
    try? FileManager.default.removeItem(at: agents(prefix).deletingLastPathComponent())
  }

  /// The digest of the tenancy a lab's agents should enforce: that of its saved file's text,
  /// read as the agents read it.
  static func digest(_ prefix: String) throws -> String {
    AgentStatus.digest(of: try readPolicySource(saved(prefix).path).text)
  }

  /// The process id of the zpr agent running in a namespace, or nil.
  static func agentProcess(in namespace: String) -> pid_t? {
    let listed = Lab.shell(["ip", "netns", "pids", namespace])
    guard listed.status == 0 else { return nil }
    for line in listed.output.split(separator: "\n") {
      guard let pid = pid_t(line.trimmingCharacters(in: .whitespaces)),
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
      else { continue }
      let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      if arguments.contains("agent") && arguments.contains("--status-file") { return pid }
    }
    return nil
  }

  /// Until the sources are cancelled, SIGINT, SIGTERM and SIGHUP take the lab `prefix` down
  /// and end the process with the signal's status (130, 143, 129).
  static func takeDownOnSignal(_ prefix: String) -> [any DispatchSourceSignal] {
    [(SIGINT, Int32(130)), (SIGTERM, 143), (SIGHUP, 129)].map { signalNumber, status in
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      source.setEventHandler {
        _ = Lab.down(prefix: prefix)
        Foundation.exit(status)
      }
      source.setCancelHandler { signal(signalNumber, SIG_DFL) }
      source.resume()
      return source
    }
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
    commandName: "up", abstract: "Build the tenancy's lab and start an agent per VNIC.",
    discussion: """
      Returns once every agent has enforced the tenancy (each writes what it enforced to a \
      status file under /run/zpr-lab/PREFIX/agents/, beside its log), so flows can be probed \
      at once; fails naming the agents that did not within --wait seconds.
      """)

  @OptionGroup var options: LabOptions
  @Flag(help: "Apply zpr's rulesets once instead of starting agents.") var noAgents = false
  @Option(help: "Seconds to wait for every agent to enforce the tenancy (0: do not wait).")
  var wait: Double = 30
  @Argument(help: "The tenancy file.") var file: String

  func validate() throws {
    guard wait >= 0, wait.isFinite else { throw ValidationError("--wait: 0 or more seconds") }
  }

  func run() async throws {
    try LabCommand.requireRoot("up")
    let source = try readPolicySource(file)
    let tenancy = try loadTenancy(source, path: file)
    let saved = LabCommand.saved(options.prefix)
    guard !FileManager.default.fileExists(atPath: saved.path) else {
      throw CLIError(
        code: "ZPR-CLI-023",
        message: "a lab '\(options.prefix)' is up already: `zpr lab down --prefix "
          + "\(options.prefix)` first, or use another --prefix")
    }
    // Status files and logs of a lab that was not taken down would mislead.
    LabCommand.removeFiles(options.prefix)
    try FileManager.default.createDirectory(
      at: saved.deletingLastPathComponent(), withIntermediateDirectories: true)
    try source.text.write(to: saved, atomically: true, encoding: .utf8)
    let lab = Lab(tenancy, prefix: options.prefix)
    var agents: [(host: String, process: Process)] = []
    do {
      try await lab.up()
      if noAgents {
        _ = try await lab.enforce(tenancy)
      } else {
        agents = try startAgents(lab)
      }
    } catch {
      _ = Lab.down(prefix: options.prefix)
      LabCommand.removeFiles(options.prefix)
      if let error = error as? any ZPRError { throw AgentCommand.cli(error) }
      throw error
    }
    if wait > 0 { try await waitForAgents(agents) }
    writeOut(
      "lab '\(options.prefix)' is up: \(lab.hosts.count) VNICs"
        + (noAgents
          ? ""
          : wait > 0
            ? ", an agent in each, enforcing the tenancy"
            : ", an agent in each (not waited for: `zpr lab status` shows when they enforce it)")
        + "\n")
    for index in lab.hosts {
      let endpoint = lab.topology.endpoints[index]
      writeOut(
        "  \(endpoint.name)  \(endpoint.ips.map(\.description).joined(separator: ", "))  "
          + "(namespace \(lab.namespace(of: endpoint)))\n")
    }
  }

  /// Starts an agent in each VNIC's namespace (so `down` ends it with the namespace), writing
  /// its status file and its log under the lab's folder.
  private func startAgents(_ lab: Lab) throws -> [(host: String, process: Process)] {
    let directory = LabCommand.agents(options.prefix)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    // This very executable: argv[0] is a bare name when the shell found zpr on the PATH.
    let executable =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      .map { URL(fileURLWithPath: $0) }
      ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var agents: [(host: String, process: Process)] = []
    for index in lab.hosts {
      let endpoint = lab.topology.endpoints[index]
      let log = LabCommand.logFile(options.prefix, host: endpoint.name)
      guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
        throw CLIError.cannotWrite(log.path, "it cannot be created")
      }
      let output = try FileHandle(forWritingTo: log)
      defer { try? output.close() }
      let agent = Process()
      agent.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      agent.arguments = [
        "ip", "netns", "exec", lab.namespace(of: endpoint), executable.path, "agent",
        "--tenancy", LabCommand.saved(options.prefix).path, "--host", endpoint.name,
        "--status-file", LabCommand.statusFile(options.prefix, host: endpoint.name).path,
      ]
      agent.standardInput = FileHandle.nullDevice
      agent.standardOutput = output
      agent.standardError = output
      try agent.run()
      agents.append((endpoint.name, agent))
    }
    return agents
  }

  /// Waits until every agent's status file names the digest of the lab's tenancy; fails
  /// naming those that did not within `wait` seconds (or that exited).
  private func waitForAgents(_ agents: [(host: String, process: Process)]) async throws {
    let digest = try LabCommand.digest(options.prefix)
    let deadline = ContinuousClock.now.advanced(by: .seconds(wait))
    var pending = agents
    while true {
      pending.removeAll {
        AgentStatus.read(from: LabCommand.statusFile(options.prefix, host: $0.host).path)?
          .digest == digest
      }
      if pending.isEmpty { return }
      // Nothing more will come when every agent left has exited.
      if ContinuousClock.now >= deadline || !pending.contains(where: { $0.process.isRunning }) {
        throw CLIError.agentsNotEnforcing(
          pending.map { agent in
            (
              agent.host,
              agent.process.isRunning
                ? nil : "exited with status \(agent.process.terminationStatus)"
            )
          }, prefix: options.prefix, file: file, wait: wait)
      }
      try await Task.sleep(for: .milliseconds(50))
    }
  }
}

extension CLIError {
  /// `zpr lab up`: agents that did not enforce the lab's tenancy in time (with why, when they
  /// exited).
  static func agentsNotEnforcing(
    _ agents: [(host: String, reason: String?)], prefix: String, file: String, wait: Double
  ) -> CLIError {
    let named = agents.map { agent in
      agent.host + (agent.reason.map { " (\($0))" } ?? "") + ": "
        + LabCommand.logFile(prefix, host: agent.host).path
    }
    return CLIError(
      code: "ZPR-CLI-034",
      message: "\(agents.count == 1 ? "the agent" : "\(agents.count) agents") of lab '\(prefix)' "
        + "did not enforce its tenancy within \(wait.formatted()) s: "
        + named.joined(separator: ", ")
        + "; read \(agents.count == 1 ? "its log" : "their logs") for why, then `zpr lab down "
        + "--prefix \(prefix)` and `zpr lab up --prefix \(prefix) \(file)` again (--wait gives "
        + "slow agents longer; `zpr lab status --prefix \(prefix)` shows where each one is)",
      exitCode: 1)
  }
}

/// `zpr lab status`.
struct LabStatus: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show whether each agent of the lab runs and enforces the lab's tenancy.",
    discussion: """
      A line per VNIC: its namespace, its agent's process, the digest of the tenancy text the \
      agent last enforced, whether that is the lab's, and when. Exits 1 when an agent is not \
      running or has not enforced the lab's tenancy.
      """)

  @OptionGroup var options: LabOptions
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text

  /// One agent's state.
  struct Row {
    var host: String
    var namespace: String
    var pid: pid_t?
    var status: AgentStatus?
    var current: Bool

    /// Why it is not current, or nil.
    var problem: String? {
      if current { return nil }
      if pid == nil { return "not running" }
      return status == nil ? "has not enforced yet" : "behind"
    }

    var json: JSONValue {
      .object([
        ("host", .string(host)), ("namespace", .string(namespace)),
        ("running", .bool(pid != nil)), ("pid", .int(pid.map { Int($0) })),
        ("digest", .string(status?.digest)), ("current", .bool(current)),
        ("enforcedAt", .string(status.map { LabStatus.time($0.enforcedAt) })),
      ])
    }

    var cells: [String] {
      [
        host, namespace, pid.map { "pid \($0)" } ?? "not running", status?.digest ?? "-",
        current ? "yes" : "no", status.map { LabStatus.time($0.enforcedAt) } ?? "-",
      ]
    }
  }

  /// A time in ISO 8601 (UTC).
  static func time(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

  func run() async throws {
    try LabCommand.requireRoot("status")
    let prefix = options.prefix
    let lab = try LabCommand.lab(prefix)
    let digest = try LabCommand.digest(prefix)
    let hasAgents = FileManager.default.fileExists(atPath: LabCommand.agents(prefix).path)
    var rows: [Row] = []
    if hasAgents {
      for index in lab.hosts {
        let endpoint = lab.topology.endpoints[index]
        let namespace = lab.namespace(of: endpoint)
        let status = AgentStatus.read(
          from: LabCommand.statusFile(prefix, host: endpoint.name).path)
        let pid = LabCommand.agentProcess(in: namespace)
        rows.append(
          Row(
            host: endpoint.name, namespace: namespace, pid: pid, status: status,
            current: pid != nil && status?.digest == digest))
      }
    }
    let behind = rows.filter { !$0.current }
    switch format {
    case .json:
      let document = JSONValue.object([
        ("prefix", .string(prefix)), ("digest", .string(digest)),
        ("runsAgents", .bool(hasAgents)), ("current", .bool(behind.isEmpty)),
        ("hosts", .array(rows.map(\.json))),
      ])
      writeOut(document.serialized() + "\n")
    case .text where !hasAgents:
      writeOut("lab '\(prefix)' runs no agents (it was built with --no-agents)\n")
    case .text:
      writeOut(
        "lab '\(prefix)': \(rows.count - behind.count) of \(rows.count) agents enforce its "
          + "tenancy (\(digest))\n")
      let table: [[String]] =
        [["HOST", "NAMESPACE", "AGENT", "ENFORCED", "CURRENT", "AT"]] + rows.map(\.cells)
      var widths: [Int] = Array(repeating: 0, count: table[0].count)
      for line in table {
        for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
      }
      for line in table {
        var text = ""
        for (column, cell) in line.enumerated() {
          text += "  " + cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }
        while text.hasSuffix(" ") { text.removeLast() }
        writeOut(text + "\n")
      }
    }
    guard behind.isEmpty else {
      if format == .text {
        let named = behind.map { row in
          "\(row.host) (\(row.problem ?? ""); log "
            + "\(LabCommand.logFile(prefix, host: row.host).path))"
        }
        writeError(
          "agents not enforcing the lab's tenancy: \(named.joined(separator: ", ")): an agent "
            + "that is still starting catches up within seconds; otherwise read its log, then "
            + "`zpr lab down --prefix \(prefix)` and `zpr lab up` again\n")
      }
      throw ExitCode(1)
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

/// `zpr lab probe --from X --to Y --protocol P [--port N] [--source-port N]
/// [--icmp-type T --icmp-code C]`.
struct LabProbe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe",
    abstract: "Try a real connection between two VNICs of the lab.",
    discussion: """
      TCP connects, UDP is echoed, ICMP is a ping; with --icmp-type (and --icmp-code), ICMP is \
      one message of that type and code, sent raw, and it connects when it arrives: a raw socket \
      at the destination sees it after the destination's firewalls. Exits 0 when it connected, \
      1 when it did not.
      """)

  @OptionGroup var options: LabOptions
  @Option var from: String
  @Option var to: String
  @Option(name: .customLong("protocol"), help: "tcp, udp or icmp.") var transport: String
  @Option(help: "The destination port (tcp, udp).") var port: Int?
  @Option(help: "The source port to bind (tcp, udp; default: the kernel picks one).")
  var sourcePort: Int?
  @Option(help: "The type of a one-way ICMP message (default: a ping).") var icmpType: Int?
  @Option(help: "The code of a one-way ICMP message (default 0).") var icmpCode: Int?
  @Option(help: "Seconds to wait for an answer.") var timeout: Double = 1
  @Option(help: "Output format: text or json.") var format: OutputFormat = .text

  func run() async throws {
    try LabCommand.requireRoot("probe")
    guard let flowProtocol = FlowProtocol(rawValue: transport.lowercased()) else {
      throw ValidationError("--protocol must be tcp, udp or icmp")
    }
    if flowProtocol == .icmp {
      guard port == nil, sourcePort == nil else {
        throw ValidationError("ICMP has no ports: leave out --port and --source-port")
      }
    } else if icmpType != nil || icmpCode != nil {
      throw ValidationError("--icmp-type and --icmp-code apply to --protocol icmp")
    }
    if icmpCode != nil, icmpType == nil {
      throw ValidationError("--icmp-code needs --icmp-type")
    }
    let lab = try LabCommand.lab(options.prefix)
    let traffic = LabTraffic(
      transport: flowProtocol, port: port, sourcePort: sourcePort, icmpType: icmpType,
      icmpCode: icmpCode)
    let result: ProbeResult
    do {
      result = try await lab.probe(from: from, to: to, traffic: traffic, timeout: timeout)
    } catch { throw AgentCommand.cli(error) }
    if format == .json {
      writeOut(
        JSONValue.object([
          ("connected", .bool(result.connected)), ("from", .string(result.from)),
          ("to", .string(result.to)), ("protocol", .string(result.transport.rawValue)),
          ("port", .int(result.port)), ("sourcePort", .int(result.sourcePort)),
          ("icmpType", .int(result.icmpType)), ("icmpCode", .int(result.icmpCode)),
          ("detail", .string(result.detail)),
        ]).serialized() + "\n")
    } else {
      writeOut(
        "\(result.connected ? "CONNECTED" : "NOT CONNECTED"): \(result.from) -> \(result.to) "
          + "\(traffic.label): \(result.detail)\n")
    }
    if !result.connected { throw ExitCode(1) }
  }
}

/// `zpr lab fuzz --flows N --seed S`.
struct LabFuzz: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fuzz",
    abstract: "Compare the analyzer with the kernel over random tenancies and real flows.",
    discussion: """
      Builds random tenancies from the seed one after another, taking turns: a single VCN \
      whose security lists are open and whose statements let some flows through (TCP and UDP \
      ports, ICMP types and codes, stateless statements, unprotected ends, audit mode); a \
      single VCN whose security lists and NSGs both restrict (stateless rules, source ports, \
      ICMP types, some IPv6 subnets); a single VCN as generated; three VCNs joined by peering \
      and a DRG over IPv4 and IPv6. Brings each up as a lab enforced directly (no agents), \
      tries every flow of its sample between every pair of VNICs with the native prober \
      (pings and connections both ways, one-way ICMP messages, chosen source ports), and \
      compares each with `zpr analyze`, until --flows flows are compared. Prints the flows \
      per second, what the flows covered, and each disagreement with its reproducer (the \
      seed, the flow, both answers and the tenancy file). Takes every lab down, also on an \
      error. Exits 1 on any disagreement. Needs root.
      """)

  @Option(help: "The prefix of every name the labs make.") var prefix = "zf"
  @Option(help: "How many flows to compare.") var flows = 10_000
  @Option(help: "The seed of the random tenancies.") var seed: UInt64 = 1
  @Option(help: "Seconds a denied flow is waited for.") var timeout: Double = 0.25
  @Option(help: "Resources per random tenancy.") var resources = 12

  func validate() throws {
    try LabOptions.parse(["--prefix", prefix]).validate()
    guard flows >= 1 else { throw ValidationError("--flows: 1 or more") }
    guard timeout > 0, timeout <= 10 else { throw ValidationError("--timeout: 0 to 10 seconds") }
    guard (2...64).contains(resources) else { throw ValidationError("--resources: 2 to 64") }
  }

  func run() async throws {
    try LabCommand.requireRoot("fuzz")
    let existing = Lab.shell(["ip", "netns", "list"]).output.split(separator: "\n")
    guard !existing.contains(where: { $0.hasPrefix(prefix + "-") }),
      !FileManager.default.fileExists(atPath: LabCommand.saved(prefix).path)
    else {
      throw CLIError(
        code: "ZPR-CLI-023",
        message: "a lab '\(prefix)' is up already: `zpr lab down --prefix \(prefix)` first, or "
          + "use another --prefix")
    }
    // Interrupted (Ctrl-C, kill), the lab of the round goes down before the command ends.
    let cleanup = LabCommand.takeDownOnSignal(prefix)
    defer { for source in cleanup { source.cancel() } }
    var random = SplitMix64(seed: seed)
    var compared = 0
    var connected = 0
    var probeSeconds = 0.0
    var coverage = LabCoverage()
    var disagreements: [String] = []
    var round = 0
    while compared < flows {
      let tenancySeed = random.next()
      let kind = LabRound(round: round)
      let tenancy = kind.tenancy(seed: tenancySeed, resources: resources)
      defer { _ = Lab.down(prefix: prefix) }
      let lab = Lab(tenancy, prefix: prefix)
      let result: LabComparison
      do {
        try await lab.up()
        _ = try await lab.enforce(tenancy)
        let all = LabDifferential.flows(lab, sample: LabDifferential.sample(tenancy))
        result = try await LabDifferential.compare(
          lab, tenancy, flows: Array(all.prefix(flows - compared)),
          prober: LabProber(lab, timeout: timeout))
      } catch {
        throw AgentCommand.cli(error)
      }
      compared += result.compared
      connected += result.connected.count
      probeSeconds += result.probeSeconds
      coverage = coverage + result.coverage
      writeOut(
        "tenancy \(round + 1) (\(kind.rawValue), seed \(tenancySeed)): \(lab.hosts.count) VNICs, "
          + "\(result.compared) flows, \(result.connected.count) connected, "
          + "\(result.disagreements.count) disagreements"
          + ", \(Int(result.flowsPerSecond)) flows/s\n")
      for disagreement in result.disagreements {
        let text = disagreement.reproducer(seed: tenancySeed, tenancy: tenancy)
        disagreements.append(text)
        writeOut(text + "\n")
      }
      round += 1
      // A tenancy whose VNICs cannot reach each other gives no flows: try the next.
      guard round < 10_000 else { break }
    }
    let rate = probeSeconds > 0 ? Int(Double(compared) / probeSeconds) : 0
    writeOut("coverage (flows that got through): \(coverage.summary)\n")
    writeOut(
      "\(compared) flows compared in \(round) tenancies (seed \(seed)): \(connected) connected, "
        + "\(disagreements.count) disagreements; \(rate) flows/s probed\n")
    if !disagreements.isEmpty { throw ExitCode(1) }
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
    LabCommand.removeFiles(options.prefix)
    writeOut("lab '\(options.prefix)' is down: \(removed.count) namespaces removed\n")
  }
}
