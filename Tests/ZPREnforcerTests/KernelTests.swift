import Foundation
import Testing
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// Network namespaces this test makes (each name carries the test's prefix), joined by a bridge,
/// removed at the end even when an expectation fails.
final class Namespaces {
  let prefix = "zprt\(getpid() % 100_000)"
  private(set) var made: [String] = []
  private var listeners: [Process] = []

  /// Runs a command; its exit status and output.
  @discardableResult
  static func run(_ arguments: [String]) -> (status: Int32, output: String) {
    Lab.shell(arguments)
  }

  func name(_ host: String) -> String { "\(prefix)-\(host)" }

  /// A bridge namespace, then one namespace per host with its address on the bridge.
  func build(_ hosts: [(name: String, address: String)]) throws {
    let bridge = name("br")
    try make(bridge)
    try check(["ip", "-n", bridge, "link", "add", "br0", "type", "bridge"])
    try check(["ip", "-n", bridge, "link", "set", "br0", "up"])
    for (index, host) in hosts.enumerated() {
      let namespace = name(host.name)
      try make(namespace)
      let outer = "\(prefix)v\(index)"
      try check([
        "ip", "link", "add", outer, "netns", bridge, "type", "veth", "peer", "name", "eth0",
        "netns", namespace,
      ])
      try check(["ip", "-n", bridge, "link", "set", outer, "master", "br0", "up"])
      let v6 = host.address.contains(":")
      try check(
        ["ip", "-n", namespace, "addr", "add", "\(host.address)/\(v6 ? 32 : 8)", "dev", "eth0"]
          + (v6 ? ["nodad"] : []))
      try check(["ip", "-n", namespace, "link", "set", "eth0", "up"])
      try check(["ip", "-n", namespace, "link", "set", "lo", "up"])
    }
  }

  private func make(_ namespace: String) throws {
    try check(["ip", "netns", "add", namespace])
    made.append(namespace)
  }

  private func check(_ arguments: [String]) throws {
    let (status, output) = Self.run(arguments)
    guard status == 0 else {
      throw EnforcerError(
        .applyFailed, "test setup: \(arguments.joined(separator: " ")) failed: \(output)")
    }
  }

  /// A TCP server in a host's namespace, accepting on these ports until the test ends.
  func listen(in host: String, address: String, ports: [Int]) throws {
    let script = """
      import socket, threading, time
      def echo(c):
          try:
              while True:
                  data = c.recv(64)
                  if not data: break
                  c.sendall(data)
          except OSError: pass
          c.close()
      def serve(port):
          s = socket.socket(\(Self.family(address))); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          s.bind(("\(address)", port)); s.listen(16)
          while True:
              c, _ = s.accept(); threading.Thread(target=echo, args=(c,), daemon=True).start()
      for p in \(ports): threading.Thread(target=serve, args=(p,), daemon=True).start()
      time.sleep(600)
      """
    try start(script, in: host)
    // Until it accepts: a probe from inside its own namespace passes through lo.
    for _ in 0..<50 {
      if connects(from: host, to: address, port: ports[0]) { return }
      usleep(100_000)
    }
  }

  /// Starts a python3 script in a host's namespace, killed when the test ends.
  private func start(_ script: String, in host: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ip", "netns", "exec", name(host), "python3", "-c", script]
    // Not the test's own output: a pipe it holds open would keep the test runner waiting.
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    listeners.append(process)
  }

  /// Whether a TCP connection from a host reaches the address and port within a second.
  func connects(from host: String, to address: String, port: Int) -> Bool {
    Self.run([
      "ip", "netns", "exec", name(host), "python3", "-c",
      "import socket,sys; s=socket.socket(\(Self.family(address))); s.settimeout(1); "
        + "sys.exit(0 if s.connect_ex(('\(address)', \(port))) == 0 else 1)",
    ]).status == 0
  }

  /// Opens a connection from a host and keeps it: `proceed()` then sends on it, and says
  /// whether the echo still comes back (the connection survived) or not (it was cut).
  func holdConnection(from host: String, to address: String, port: Int) throws -> (
    connected: Bool, proceed: () -> Bool
  ) {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent(
      "\(prefix)-\(UUID().uuidString)")
    let script = """
      import socket, os, time
      def say(what): open("\(state.path).tmp", "w").write(what); os.rename("\(state.path).tmp", "\(state.path)")
      s = socket.create_connection(("\(address)", \(port)), timeout=2)
      s.sendall(b"a"); s.recv(1); say("connected")
      while not os.path.exists("\(state.path).go"): time.sleep(0.05)
      try:
          s.sendall(b"b"); s.settimeout(2); say("alive" if s.recv(1) == b"b" else "cut")
      except OSError: say("cut")
      """
    try start(script, in: host)
    func read() -> String? { try? String(contentsOf: state, encoding: .utf8) }
    for _ in 0..<200 where read() == nil { usleep(50_000) }
    let connected = read() == "connected"
    return (
      connected,
      {
        _ = FileManager.default.createFile(atPath: state.path + ".go", contents: nil)
        for _ in 0..<100 where read() == "connected" { usleep(50_000) }
        defer {
          try? FileManager.default.removeItem(at: state)
          try? FileManager.default.removeItem(atPath: state.path + ".go")
        }
        return read() == "alive"
      }
    )
  }

  /// Python's name of an address's family.
  static func family(_ address: String) -> String {
    address.contains(":") ? "socket.AF_INET6" : "socket.AF_INET"
  }

  /// Whether a host's ping of an address is answered within a second.
  func pings(from host: String, to address: String) -> Bool {
    Self.run(["ip", "netns", "exec", name(host), "ping", "-c", "1", "-W", "1", address]).status
      == 0
  }

  deinit {
    for listener in listeners {
      kill(listener.processIdentifier, SIGKILL)
      listener.waitUntilExit()
    }
    for namespace in made.reversed() { Self.run(["ip", "netns", "del", namespace]) }
  }

  /// Root, nft, ip and python3: what these tests need (CI runs as root with all of them).
  static var available: Bool {
    getuid() == 0 && run(["nft", "--version"]).status == 0 && run(["ip", "-V"]).status == 0
      && run(["python3", "--version"]).status == 0 && run(["ping", "-V"]).status == 0
  }
}

@Suite(
  "Rulesets in the kernel",
  .enabled(
    if: Namespaces.available,
    "needs root, nftables, iproute2 and python3 (CI has them): it builds network namespaces"),
  .serialized)
struct KernelTests {
  static let hosts = [("web-1", "10.0.1.10"), ("app-1", "10.0.2.10"), ("db-1", "10.0.3.10")]

  static func rulesets(_ tenancy: Tenancy) throws -> [String: HostRuleset] {
    let enforced = EnforcedTenancy(tenancy)
    var rulesets: [String: HostRuleset] = [:]
    for (host, _) in hosts { rulesets[host] = try enforced.ruleset(for: host) }
    return rulesets
  }

  /// The three-tier example enforced by nft in three namespaces: what its statements allow
  /// connects, nothing else does, the kernel counts each statement, and records denied flows.
  @Test func theKernelAllowsWhatTheStatementsAllowAndNothingElse() async throws {
    let lab = Namespaces()
    try lab.build(Self.hosts.map { (name: $0.0, address: $0.1) })
    var reconcilers: [String: Reconciler] = [:]
    let rulesets = try Self.rulesets(TenancyFixtures.threeTier())
    for (host, _) in Self.hosts {
      let reconciler = Reconciler(backend: NFTBackend(namespace: lab.name(host)))
      #expect(try await reconciler.enforce(rulesets[host]!) == .applied)
      #expect(try await reconciler.enforce(rulesets[host]!) == .unchanged)
      reconcilers[host] = reconciler
    }
    try lab.listen(in: "app-1", address: "10.0.2.10", ports: [8080, 8081])
    try lab.listen(in: "db-1", address: "10.0.3.10", ports: [5432])
    // What the statements allow.
    #expect(lab.connects(from: "web-1", to: "10.0.2.10", port: 8080))
    #expect(lab.connects(from: "app-1", to: "10.0.3.10", port: 5432))
    // Nothing else: another port, the web tier to the database, the wrong way round, ICMP.
    #expect(!lab.connects(from: "web-1", to: "10.0.2.10", port: 8081))
    #expect(!lab.connects(from: "web-1", to: "10.0.3.10", port: 5432))
    #expect(!lab.connects(from: "db-1", to: "10.0.2.10", port: 8080))
    #expect(!lab.pings(from: "web-1", to: "10.0.2.10"))
    // The kernel counted the statement and recorded the denied flow with its ends.
    let app = try await NFTBackend(namespace: lab.name("app-1")).observations()
    #expect((app.packets["s0_0"] ?? 0) > 0, "\(app.packets)")
    let web = try await NFTBackend(namespace: lab.name("web-1")).observations()
    #expect(
      web.denied.contains(
        DeniedFlow(
          direction: "out", peer: "10.0.2.10", host: "10.0.1.10", transport: "tcp", port: 8081)),
      "\(web.denied)")
    // Someone flushes app-1's map: the reconciler sees the drift and puts it back.
    Namespaces.run([
      "ip", "netns", "exec", lab.name("app-1"), "nft", "flush", "map", "inet", "zpr", "ingress4",
    ])
    #expect(!lab.connects(from: "web-1", to: "10.0.2.10", port: 8080))
    #expect(try await reconcilers["app-1"]!.enforce(rulesets["app-1"]!) == .repaired)
    #expect(lab.connects(from: "web-1", to: "10.0.2.10", port: 8080))
    // A change that keeps web-1's statement keeps its established connection.
    let kept = try lab.holdConnection(from: "web-1", to: "10.0.2.10", port: 8080)
    #expect(kept.connected)
    var renamed = TenancyFixtures.threeTier()
    renamed.policies[0].name = "three-tier-renamed"
    for (host, ruleset) in try Self.rulesets(renamed) {
      #expect(try await reconcilers[host]!.enforce(ruleset) == .applied)
      #expect(await reconcilers[host]!.cut == 0)
    }
    #expect(kept.proceed())
    // A policy change is one new ruleset each: without the web statement, web-1 is cut off,
    // its established connection too.
    let revoked = try lab.holdConnection(from: "web-1", to: "10.0.2.10", port: 8080)
    #expect(revoked.connected)
    var changed = TenancyFixtures.threeTier()
    changed.policies[0].statements.removeFirst()
    for (host, ruleset) in try Self.rulesets(changed) {
      _ = try await reconcilers[host]!.enforce(ruleset)
    }
    #expect(await reconcilers["web-1"]!.cut + reconcilers["app-1"]!.cut >= 1)
    #expect(!revoked.proceed())
    #expect(!lab.connects(from: "web-1", to: "10.0.2.10", port: 8080))
    #expect(lab.connects(from: "app-1", to: "10.0.3.10", port: 5432))
  }

  /// The three-tier example moved to IPv6: the same statements decide, the kernel records
  /// denied IPv6 flows, and a revocation cuts an established IPv6 connection.
  @Test func ipv6IsEnforcedAsIPv4Is() async throws {
    var tenancy = TenancyFixtures.threeTier()
    func v6(_ text: String) -> String {
      text.replacingOccurrences(of: "10.0.0.0/16", with: "fd00::/48")
        .replacingOccurrences(of: "0.0.0.0/0", with: "::/0")
        .replacingOccurrences(
          of: #"10\.0\.(\d)\.0/24"#, with: "fd00:0:0:$1::/64", options: .regularExpression
        )
        .replacingOccurrences(
          of: #"10\.0\.(\d)\.10"#, with: "fd00:0:0:$1::10", options: .regularExpression)
    }
    func prefix(_ block: IPPrefix) -> IPPrefix { TenancyFixtures.prefix(v6(block.description)) }
    for vcn in tenancy.vcns.indices {
      tenancy.vcns[vcn].cidrs = tenancy.vcns[vcn].cidrs.map(prefix)
      for subnet in tenancy.vcns[vcn].subnets.indices {
        tenancy.vcns[vcn].subnets[subnet].cidr = prefix(tenancy.vcns[vcn].subnets[subnet].cidr)
      }
    }
    for resource in tenancy.resources.indices {
      for vnic in tenancy.resources[resource].vnics.indices {
        tenancy.resources[resource].vnics[vnic].ips = tenancy.resources[resource].vnics[vnic].ips
          .map { IPAddress(v6($0.description))! }
      }
    }
    let web = "fd00:0:0:1::10"
    let app = "fd00:0:0:2::10"
    let lab = Namespaces()
    try lab.build([("web-1", web), ("app-1", app)])
    let enforced = EnforcedTenancy(tenancy)
    var reconcilers: [String: Reconciler] = [:]
    for host in ["web-1", "app-1"] {
      let ruleset = try enforced.ruleset(for: host)
      #expect(ruleset.ingress.allSatisfy { $0.local.family == .v6 })
      let reconciler = Reconciler(backend: NFTBackend(namespace: lab.name(host)))
      #expect(try await reconciler.enforce(ruleset) == .applied)
      reconcilers[host] = reconciler
    }
    try lab.listen(in: "app-1", address: app, ports: [8080, 8081])
    #expect(lab.connects(from: "web-1", to: app, port: 8080))
    #expect(!lab.connects(from: "web-1", to: app, port: 8081))
    #expect(!lab.connects(from: "app-1", to: web, port: 8080))
    #expect(!lab.pings(from: "web-1", to: app))
    let observed = try await NFTBackend(namespace: lab.name("web-1")).observations()
    #expect(
      observed.denied.contains(
        DeniedFlow(direction: "out", peer: app, host: web, transport: "tcp", port: 8081)),
      "\(observed.denied)")
    // Revoking the web statement cuts the established IPv6 connection.
    let held = try lab.holdConnection(from: "web-1", to: app, port: 8080)
    #expect(held.connected)
    var changed = tenancy
    changed.policies[0].statements.removeFirst()
    let revoked = EnforcedTenancy(changed)
    for host in ["web-1", "app-1"] {
      _ = try await reconcilers[host]!.enforce(revoked.ruleset(for: host))
    }
    #expect(await reconcilers["web-1"]!.cut + reconcilers["app-1"]!.cut >= 1)
    #expect(!held.proceed())
    #expect(!lab.connects(from: "web-1", to: app, port: 8080))
  }

  /// A listing with each set's or map's elements in one order (the kernel lists interval
  /// maps' elements in the order they were added).
  static func sortingElements(_ listing: String) -> String {
    var result = ""
    var rest = listing[...]
    while let start = rest.range(of: "elements = {") {
      result += rest[..<start.upperBound]
      let end = rest[start.upperBound...].firstIndex(of: "}")!
      let elements = rest[start.upperBound..<end].split(separator: ",")
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.sorted()
      result += " " + elements.joined(separator: ", ") + " "
      rest = rest[end...]
    }
    return result + rest
  }

  /// Element updates leave the kernel's table as replacing it would: over a run of changes to
  /// who carries which attributes, the table one reconciler updates lists exactly as the same
  /// ruleset applied whole in another namespace.
  @Test func elementUpdatesLeaveTheTableAsAReplacementWould() async throws {
    let lab = Namespaces()
    try lab.build([("a", "10.9.0.1"), ("b", "10.9.0.2")])
    let updating = Reconciler(backend: NFTBackend(namespace: lab.name("a")))
    let replaced = NFTBackend(namespace: lab.name("b"))
    // The three-tier example with ten more web servers, some of which lose (and get back)
    // their attributes: app-1 lets in a changing set of peers.
    var tenancy = TenancyFixtures.threeTier()
    let web = tenancy.resources.first { $0.name == "web-1" }!
    for index in 2...11 {
      var copy = web
      copy.name = "web-\(index)"
      copy.vnics[0].ips = [TenancyFixtures.address("10.0.1.\(9 + index)")]
      tenancy.resources.append(copy)
    }
    let original = tenancy
    var random = SplitMix64(seed: 5)
    var updates = 0
    for round in 0..<12 {
      let ruleset = try EnforcedTenancy(tenancy).ruleset(for: "app-1")
      #expect(try await updating.enforce(ruleset) == .applied)
      if await updating.lastChange == .elements { updates += 1 }
      try await replaced.apply(.replacing(NFTRenderer.table(for: ruleset)))
      let updated = try await NFTBackend(namespace: lab.name("a")).listTable()
      let whole = try await replaced.listTable()
      #expect(updated.map(Self.sortingElements) == whole.map(Self.sortingElements))
      if round == 5 {
        // A statement less: the table is replaced; then back.
        tenancy.policies[0].statements.removeLast()
        continue
      }
      tenancy.policies = original.policies
      // Two web servers (never the same one twice, which would undo itself).
      let webs = tenancy.resources.indices.filter { tenancy.resources[$0].name.hasPrefix("web-") }
      for index in webs.shuffled(using: &random).prefix(2) {
        tenancy.resources[index].securityAttributes =
          tenancy.resources[index].securityAttributes.isEmpty
          ? web.securityAttributes : []
      }
    }
    #expect(updates >= 3, "only \(updates) of 12 changes were element updates")
  }

  /// Audit mode: ops-1 carries app.tier:app in audit mode only, so enforce mode leaves it
  /// open; a flow that audit mode would deny connects, and is recorded as audit-denied.
  @Test func auditModeAcceptsAndRecordsWhatItWouldDeny() async throws {
    var tenancy = TenancyFixtures.threeTier()
    tenancy.resources += [
      Resource(
        name: "jump-1",
        vnics: [VNIC(vcn: "prod", subnet: "web", ips: [TenancyFixtures.address("10.0.1.20")])]),
      Resource(
        name: "ops-1",
        securityAttributes: [
          AppliedAttribute(namespace: "app", key: "tier", value: "app", mode: .audit)
        ],
        vnics: [VNIC(vcn: "prod", subnet: "app", ips: [TenancyFixtures.address("10.0.2.20")])]),
    ]
    let lab = Namespaces()
    try lab.build([(name: "jump-1", address: "10.0.1.20"), (name: "ops-1", address: "10.0.2.20")])
    let enforced = EnforcedTenancy(tenancy)
    for host in ["jump-1", "ops-1"] {
      let ruleset = try enforced.ruleset(for: host)
      #expect(
        try await Reconciler(backend: NFTBackend(namespace: lab.name(host))).enforce(ruleset)
          == .applied)
    }
    #expect(try enforced.ruleset(for: "ops-1").audit != nil)
    #expect(try !enforced.ruleset(for: "ops-1").protected)
    try lab.listen(in: "ops-1", address: "10.0.2.20", ports: [22])
    #expect(lab.connects(from: "jump-1", to: "10.0.2.20", port: 22))
    let ops = try await NFTBackend(namespace: lab.name("ops-1")).observations()
    #expect(
      ops.denied.contains(
        DeniedFlow(
          direction: "in", peer: "10.0.1.20", host: "10.0.2.20", transport: "tcp", port: 22,
          audit: true)), "\(ops.denied)")
    #expect((ops.packets["audit_denied"] ?? 0) > 0)
    #expect(ops.packets["denied"] == 0)
  }

  /// The ruleset's generation, read over netlink in the namespace: each commit raises it by
  /// one; a check, a refused transaction and a listing do not, nor does another namespace's
  /// commit. The reconciler's check between changes rests on it: a table of another tool
  /// leaves zpr's in force, a change to zpr's own is put back.
  @Test func theGenerationMovesWithEachCommitAndNothingElse() async throws {
    let lab = Namespaces()
    try lab.build([(name: "web-1", address: "10.0.1.10"), (name: "app-1", address: "10.0.2.10")])
    let backend = NFTBackend(namespace: lab.name("web-1"))
    let start = try #require(try await backend.generation())
    let table = NFTRenderer.table(for: .failClosed(host: "web-1"))
    try await backend.check(.replacing(table))
    #expect(try await backend.generation() == start)
    try await backend.apply(.replacing(table))
    #expect(try await backend.generation() == start &+ 1)
    _ = try await backend.listTable()
    let broken = NFTTable(
      family: "inet", name: "zpr", objects: [.chain(NFTChain("broken", rules: ["jump nowhere"]))])
    await #expect(throws: EnforcerError.self) { try await backend.apply(.replacing(broken)) }
    try await NFTBackend(namespace: lab.name("app-1")).apply(.replacing(table))
    #expect(try await backend.generation() == start &+ 1)
    // A namespace that does not exist is named.
    await #expect(throws: EnforcerError.self) {
      _ = try await NetfilterGeneration.read(namespace: "zpr-no-such-namespace")
    }
    let reconciler = Reconciler(backend: backend)
    let ruleset = try Self.rulesets(TenancyFixtures.threeTier())["web-1"]!
    #expect(try await reconciler.enforce(ruleset) == .applied)
    #expect(try await reconciler.enforce(ruleset) == .unchanged)
    let listing = try #require(try await backend.listTable())
    Namespaces.run(["ip", "netns", "exec", lab.name("web-1"), "nft", "add", "table", "ip", "other"])
    #expect(try await reconciler.enforce(ruleset) == .unchanged)
    Namespaces.run([
      "ip", "netns", "exec", lab.name("web-1"), "nft", "add", "rule", "inet", "zpr", "output",
      "accept",
    ])
    #expect(try await reconciler.enforce(ruleset) == .repaired)
    #expect(try await reconciler.enforce(ruleset) == .unchanged)
    #expect(try await backend.listTable() == listing)
  }

  /// A ruleset nft refuses changes nothing: the previous one stays in force.
  @Test func aRefusedRulesetLeavesThePreviousOneInForce() async throws {
    let lab = Namespaces()
    try lab.build([(name: "web-1", address: "10.0.1.10")])
    let backend = NFTBackend(namespace: lab.name("web-1"))
    let reconciler = Reconciler(backend: backend)
    _ = try await reconciler.failClosed(host: "web-1")
    let before = try await backend.listTable()
    #expect(before?.contains("policy drop") == true)
    let broken = NFTTable(
      family: "inet", name: "zpr", objects: [.chain(NFTChain("broken", rules: ["jump nowhere"]))])
    await #expect(throws: EnforcerError.self) { try await backend.apply(.replacing(broken)) }
    #expect(try await backend.listTable() == before)
  }
}
