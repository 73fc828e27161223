import ArgumentParser
import Foundation
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy

/// `zpr bench enforcer`: new TCP connections per second through a host enforcing 10 to 10,000
/// statements, with the ruleset's maps and with a naive rendering (one rule per endpoint pair);
/// the time to check and apply each ruleset, and the time to apply a change as element updates.
struct EnforcerBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enforcer",
    abstract:
      "Measure new TCP connections per second through a host enforcing many statements (root).",
    discussion: """
      Builds two network namespaces joined by a veth pair: a server whose ruleset has one \
      statement per client role (statement i lets role c<i> connect to tcp/5000), and the \
      client of the last statement (the worst case for a rule list). For each size it applies \
      the ruleset zpr renders (verdict maps: the same few rules whatever the size) and a naive \
      one (one rule per endpoint pair, in statement order), and counts connections opened and \
      closed in a loop (python3) for --seconds, over --rounds interleaved rounds. Reports the \
      rates as ratios to zpr's ruleset at the smallest size, measured in the same run; the \
      time to check and apply each whole ruleset; and the time the agent's reconciler takes \
      to apply a change that keeps the statements (a second client of one role comes and \
      goes) as element updates, after checking that the kernel still holds the table it \
      applied (the ruleset's generation, read over netlink); and the time of that check \
      between changes, when nothing changed.
      """)

  @Option(help: "Statement counts, comma-separated.")
  var statements = "10,1000,10000"
  @Option(help: "Seconds of connections per measurement.")
  var seconds: Double = 3
  @Option(help: "Interleaved rounds; the best of them is reported.")
  var rounds = 2

  func run() async throws {
    let sizes = statements.split(separator: ",").compactMap { Int($0) }
    guard !sizes.isEmpty, sizes.allSatisfy({ (1...16_000).contains($0) }) else {
      throw ValidationError("--statements: counts from 1 to 16000, comma-separated")
    }
    guard getuid() == 0 else {
      throw CLIError(
        code: "ZPR-CLI-019", message: "zpr bench enforcer builds network namespaces: run it as root"
      )
    }
    let prefix = "zprb\(getpid() % 100_000)"
    let (server, client) = ("\(prefix)-srv", "\(prefix)-cli")
    var listener: Process?
    defer {
      if let listener {
        kill(listener.processIdentifier, SIGKILL)
        listener.waitUntilExit()
      }
      for namespace in [server, client] { _ = Lab.shell(["ip", "netns", "del", namespace]) }
    }
    for command in [
      ["ip", "netns", "add", server], ["ip", "netns", "add", client],
      [
        "ip", "link", "add", "eth0", "netns", server, "type", "veth", "peer", "name", "eth0",
        "netns", client,
      ],
      ["ip", "-n", server, "addr", "add", "10.0.0.10/16", "dev", "eth0"],
      ["ip", "-n", server, "link", "set", "eth0", "up"],
      ["ip", "-n", server, "link", "set", "lo", "up"],
      ["ip", "-n", client, "link", "set", "eth0", "up"],
      ["ip", "-n", client, "link", "set", "lo", "up"],
    ] {
      let (status, output) = Lab.shell(command)
      guard status == 0 else {
        throw CLIError(
          code: "ZPR-CLI-020", message: "\(command.joined(separator: " ")) failed: \(output)")
      }
    }
    listener = try Self.listen(in: server)
    let backend = NFTBackend(namespace: server)
    // Per size: zpr's ruleset and the naive one, and the client of the last statement.
    var cases: [(size: Int, naive: Bool, transaction: NFTTransaction, rules: Int)] = []
    for size in sizes {
      let ruleset: HostRuleset
      do {
        ruleset = try EnforcedTenancy(Self.tenancy(statements: size)).ruleset(for: "server")
      } catch { throw AgentCommand.cli(error) }
      let table = NFTRenderer.table(for: ruleset)
      cases.append((size, false, .replacing(table), ruleset.elementCount))
      cases.append((size, true, .replacing(Self.naive(table, ruleset)), ruleset.ingress.count))
    }
    var best: [Int: Double] = [:]
    var applyTimes: [Int: Duration] = [:]
    for _ in 0..<rounds {
      for (index, item) in cases.enumerated() {
        let address = Self.clientAddress(item.size - 1)
        _ = Lab.shell(["ip", "-n", client, "addr", "flush", "dev", "eth0"])
        _ = Lab.shell(["ip", "-n", client, "addr", "add", "\(address)/16", "dev", "eth0"])
        let clock = ContinuousClock()
        let start = clock.now
        do {
          try await backend.check(item.transaction)
          try await backend.apply(item.transaction)
        } catch { throw AgentCommand.cli(error) }
        let applied = clock.now - start
        if !item.naive { applyTimes[item.size] = min(applyTimes[item.size] ?? applied, applied) }
        let rate = try Self.connections(from: client, seconds: seconds)
        best[index] = max(best[index] ?? 0, rate)
      }
    }
    // A change the statements survive: a second client of the first role comes and goes. The
    // agent's reconciler applies it as element updates (once the generation shows that the
    // table is the one it applied); a reconciler that knows no table replaces it whole. Both
    // are timed end to end, and so is the agent's check between changes.
    var updateTimes: [Int: (whole: Duration, elements: Duration, check: Duration)] = [:]
    for size in sizes {
      var grown = Self.tenancy(statements: size)
      var extra = grown.resources[1]
      extra.name = "extra"
      extra.vnics[0].ips = [IPAddress(Self.clientAddress(size))!]
      grown.resources.append(extra)
      var rulesets: [HostRuleset] = []
      for tenancy in [Self.tenancy(statements: size), grown] {
        do {
          rulesets.append(try EnforcedTenancy(tenancy).ruleset(for: "server"))
        } catch { throw AgentCommand.cli(error) }
      }
      let agent = Reconciler(backend: backend)
      let clock = ContinuousClock()
      var whole: Duration?
      var elements: Duration?
      var check: Duration?
      do {
        try await agent.enforce(rulesets[0])
        for round in 0..<(2 * max(rounds, 1)) {
          let ruleset = rulesets[(round + 1) % 2]
          var start = clock.now
          try await Reconciler(backend: backend).enforce(ruleset)
          whole = min(whole ?? .seconds(1000), clock.now - start)
          // Back to the table the agent applied last, then the change as element updates.
          try await backend.apply(.replacing(NFTRenderer.table(for: rulesets[round % 2])))
          _ = try await agent.enforce(rulesets[round % 2])
          start = clock.now
          try await agent.enforce(ruleset)
          elements = min(elements ?? .seconds(1000), clock.now - start)
          guard await agent.lastChange == .elements else {
            throw CLIError(
              code: "ZPR-CLI-020", message: "the change was not applied as element updates")
          }
          // The checks between changes: the first reads the listing it compares with should
          // someone else commit; the next ones read only the generation.
          for _ in 0..<2 {
            start = clock.now
            guard try await agent.enforce(ruleset) == .unchanged else {
              throw CLIError(code: "ZPR-CLI-020", message: "the agent's check found drift")
            }
          }
          check = min(check ?? .seconds(1000), clock.now - start)
        }
      } catch let error as EnforcerError { throw AgentCommand.cli(error) }
      updateTimes[size] = (whole!, elements!, check!)
    }
    let baseline = best[0] ?? 1
    writeOut("new TCP connections per second through the enforced host (best of \(rounds)):\n")
    for (index, item) in cases.enumerated() {
      let rate = best[index] ?? 0
      let what =
        item.naive ? "naive, \(item.rules) rules" : "zpr maps, \(item.rules) elements"
      writeOut(
        "  \(item.size) statements, \(what): \(Int(rate)) conn/s, "
          + String(format: "%.2f", rate / baseline) + "x"
          + (item.naive
            ? ""
            : ", check+apply "
              + String(format: "%.0f ms", 1000 * Self.seconds(applyTimes[item.size]!))
              + "; a change: replaced "
              + String(format: "%.0f ms", 1000 * Self.seconds(updateTimes[item.size]!.whole))
              + ", element updates "
              + String(format: "%.0f ms", 1000 * Self.seconds(updateTimes[item.size]!.elements))
              + "; the check between changes "
              + String(format: "%.1f ms", 1000 * Self.seconds(updateTimes[item.size]!.check)))
          + "\n")
    }
  }

  static func seconds(_ duration: Duration) -> Double { zpr.seconds(duration) }

  /// The address of client `index`: 10.0.64.1 onwards.
  static func clientAddress(_ index: Int) -> String {
    IPAddress(v4: UInt32(10 << 24 | 64 << 8) + UInt32(index) + 1).description
  }

  /// One server, one client per statement; statement i lets client i connect to tcp/5000.
  static func tenancy(statements: Int) -> Tenancy {
    var tenancy = Tenancy()
    try! tenancy.catalog.enableZPR()
    try! tenancy.catalog.createNamespace("bench", description: "Bench roles")
    try! tenancy.catalog.createAttribute("role", in: "bench", description: "Role")
    try! tenancy.catalog.createNamespace("network", description: "Networks")
    try! tenancy.catalog.createAttribute("vcn", in: "network", description: "VCN")
    var vcn = VCN(
      name: "bench", cidrs: [IPPrefix(address: IPAddress("10.0.0.0")!, length: 16)],
      securityAttributes: [AppliedAttribute(namespace: "network", key: "vcn", value: "bench")])
    vcn.subnets = [
      Subnet(name: "servers", cidr: IPPrefix(address: IPAddress("10.0.0.0")!, length: 24)),
      Subnet(name: "clients", cidr: IPPrefix(address: IPAddress("10.0.64.0")!, length: 18)),
    ]
    tenancy.vcns = [vcn]
    func resource(_ name: String, _ role: String, _ subnet: String, _ ip: String) -> Resource {
      Resource(
        name: name, kind: .instance,
        securityAttributes: [AppliedAttribute(namespace: "bench", key: "role", value: role)],
        vnics: [VNIC(vcn: "bench", subnet: subnet, ips: [IPAddress(ip)!])])
    }
    tenancy.resources =
      [resource("server", "server", "servers", "10.0.0.10")]
      + (0..<statements).map { resource("c\($0)", "c\($0)", "clients", clientAddress($0)) }
    let texts = (0..<statements).map {
      "in network.vcn:bench VCN allow bench.role:c\($0) endpoints to connect to "
        + "bench.role:server endpoints with protocol='tcp/5000'"
    }
    tenancy.policies = stride(from: 0, to: texts.count, by: 25).map { start in
      Policy(
        name: "bench-\(start / 25)", description: "bench",
        statements: texts[start..<min(start + 25, texts.count)].map {
          PolicyParser().parseStatement($0).statement!
        })
    }
    return tenancy
  }

  /// The same table with the ingress map's lookup replaced by one rule per element, in
  /// statement order: what a renderer without sets would give the kernel.
  static func naive(_ table: NFTTable, _ ruleset: HostRuleset) -> NFTTable {
    let order = Dictionary(
      uniqueKeysWithValues: ruleset.statements.enumerated().map { ($1.name, $0) })
    let rules = ruleset.ingress.sorted { order[$0.statement]! < order[$1.statement]! }.map {
      element in
      "ip saddr \(element.peers.lowerBound)-\(element.peers.upperBound) "
        + "ip daddr \(element.local) meta l4proto \(element.transport) "
        + "th dport \(element.ports.lowerBound)-\(element.ports.upperBound) jump \(element.statement)"
    }
    var naive = table
    naive.updateChain(named: "input") { chain in
      chain.rules = chain.rules.flatMap { $0.hasSuffix("vmap @ingress4") ? rules : [$0] }
    }
    return naive
  }

  /// A TCP server on 10.0.0.10:5000 that accepts and closes.
  static func listen(in namespace: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "ip", "netns", "exec", namespace, "python3", "-c",
      """
      import socket
      s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
      s.bind(("10.0.0.10", 5000)); s.listen(1024)
      while True:
          c, _ = s.accept(); c.close()
      """,
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    usleep(500_000)
    return process
  }

  /// Connections opened and closed per second from the client's namespace.
  static func connections(from namespace: String, seconds: Double) throws -> Double {
    let (status, output) = Lab.shell([
      "ip", "netns", "exec", namespace, "python3", "-c",
      """
      import socket, struct, time
      n = 0; end = time.time() + \(seconds)
      while time.time() < end:
          s = socket.socket()
          s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
          s.settimeout(2)
          s.connect(("10.0.0.10", 5000)); s.close(); n += 1
      print(n / \(seconds))
      """,
    ])
    guard status == 0, let rate = Double(output.trimmingCharacters(in: .whitespacesAndNewlines))
    else {
      throw CLIError(
        code: "ZPR-CLI-020", message: "the client could not connect through the ruleset: \(output)")
    }
    return rate
  }

}
