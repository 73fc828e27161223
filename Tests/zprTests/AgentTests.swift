import Foundation
import Testing
import ZPRLab

/// `zpr agent --server`: a real server, a real agent process, nft in a network namespace the
/// test makes (and removes, also when an expectation fails).
@Suite(
  "zpr agent",
  .enabled(
    if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"),
    "needs root and nftables (CI has both): the agent applies rulesets in a network namespace"),
  .serialized)
struct AgentTests {
  static let tenancy = try! String(
    contentsOf: IAMCLITests.root.appendingPathComponent("examples/tenancies/three-tier.yaml"),
    encoding: .utf8)

  final class Cleanup {
    var namespace: String?
    var processes: [Process] = []
    deinit {
      for process in processes where process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
      }
      if let namespace { _ = Lab.shell(["ip", "netns", "del", namespace]) }
    }
  }

  @Test func followsTheServerAndReportsWhatItEnforces() async throws {
    let cleanup = Cleanup()
    let scratch = try Scratch()
    let key = "agent-test-key-0123456789abcdef0123456789"
    let server = try ServerProcess.start(
      database: scratch.url.appendingPathComponent("zpr.sqlite").path, key: key)
    cleanup.processes.append(server.process)
    let body = try JSONSerialization.data(withJSONObject: ["tenancy": Self.tenancy])
    var (status, data) = try await server.request(
      "/v1/apply", method: "POST", key: key, body: String(decoding: body, as: UTF8.self))
    #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
    let namespace = "zprt\(getpid() % 100_000)-agent"
    #expect(Lab.shell(["ip", "netns", "add", namespace]).status == 0)
    cleanup.namespace = namespace
    // The namespace is app-1: it has app-1's address.
    #expect(
      Lab.shell(["ip", "-n", namespace, "addr", "add", "10.0.2.10/32", "dev", "lo"]).status == 0)
    let agent = Process()
    agent.executableURL = try ZPRProcess.executable()
    agent.arguments = [
      "agent", "--server", server.base, "--host", "app-1", "--namespace", namespace,
      "--interval", "0.5",
    ]
    var environment = ProcessInfo.processInfo.environment
    environment["ZPR_API_KEY"] = key
    agent.environment = environment
    agent.standardOutput = FileHandle.nullDevice
    agent.standardError = FileHandle.nullDevice
    try agent.run()
    cleanup.processes.append(agent)

    /// The agent's last report, once it reports `revision` or later.
    func report(atLeast revision: Int) async throws -> [String: Any]? {
      for _ in 0..<100 {
        (status, data) = try await server.request("/v1/agents", key: key)
        let items =
          (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["items"]
          as? [[String: Any]] ?? []
        if let item = items.first(where: { $0["host"] as? String == "app-1" }),
          item["revision"] as? Int ?? -1 >= revision
        {
          return item
        }
        try await Task.sleep(for: .milliseconds(100))
      }
      return nil
    }
    func table() -> String {
      Lab.shell(["ip", "netns", "exec", namespace, "nft", "list", "table", "inet", "zpr"]).output
    }
    let first = try #require(try await report(atLeast: 2))
    #expect(first["status"] as? String == "enforcing")
    #expect(first["statements"] as? Int == 2)
    #expect(table().contains("10.0.1.10 . 10.0.2.10 . tcp . 8080 : jump s0_0"), "\(table())")
    // A policy change on the server reaches the kernel: web-1 may now use 8081 instead.
    let changed = Self.tenancy.replacingOccurrences(of: "tcp/8080", with: "tcp/8081")
      .replacingOccurrences(of: "port: 8080", with: "port: 8081")
    let changedBody = try JSONSerialization.data(withJSONObject: ["tenancy": changed])
    (status, data) = try await server.request(
      "/v1/apply", method: "POST", key: key, body: String(decoding: changedBody, as: UTF8.self))
    #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
    let revision =
      (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["revision"] as? Int ?? 0
    let second = try #require(try await report(atLeast: revision))
    #expect(second["status"] as? String == "enforcing")
    #expect(table().contains("10.0.1.10 . 10.0.2.10 . tcp . 8081 : jump s0_0"), "\(table())")
    #expect(!table().contains(". tcp . 8080 :"))
    // The server goes away: the agent keeps the last ruleset (fail static).
    kill(server.process.processIdentifier, SIGKILL)
    server.process.waitUntilExit()
    try await Task.sleep(for: .seconds(1.5))
    #expect(agent.isRunning)
    #expect(table().contains(". tcp . 8081 : jump s0_0"))
  }

  /// Run where the host's addresses are not (a workstation, by mistake), the agent refuses
  /// before it changes anything; forced, it enforces; `zpr agent uninstall` takes the table
  /// away. All inside a namespace the test makes, so a mistake cannot touch this machine.
  @Test func refusesAHostWhoseAddressesAreNotHereAndUninstalls() throws {
    let cleanup = Cleanup()
    let namespace = "zprt\(getpid() % 100_000)-foreign"
    #expect(Lab.shell(["ip", "netns", "add", namespace]).status == 0)
    cleanup.namespace = namespace
    let file = IAMCLITests.root.appendingPathComponent("examples/tenancies/three-tier.yaml").path
    let refused = try ZPRProcess.run([
      "agent", "--tenancy", file, "--host", "app-1", "--namespace", namespace, "--once",
    ])
    #expect(refused.exitCode == 1)
    #expect(refused.standardError.contains("ZPR-CLI-031"), "\(refused.standardError)")
    #expect(refused.standardError.contains("10.0.2.10"))
    func tables() -> String {
      Lab.shell(["ip", "netns", "exec", namespace, "nft", "list", "tables"]).output
    }
    #expect(!tables().contains("zpr"), "the refused agent installed a table")
    let scratch = try Scratch()
    let statusFile = scratch.url.appendingPathComponent("app-1.json").path
    let forced = try ZPRProcess.run([
      "agent", "--tenancy", file, "--host", "app-1", "--namespace", namespace, "--once",
      "--enforce-without-addresses", "--status-file", statusFile,
    ])
    #expect(forced.exitCode == 0, "\(forced.standardError)")
    #expect(tables().contains("table inet zpr"))
    // What it enforced, in its status file.
    let status = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: statusFile))) as? [String: Any])
    #expect(status["host"] as? String == "app-1")
    #expect((status["digest"] as? String)?.hasPrefix("fnv1a64:") == true)
    #expect(status["enforcedAt"] is String)
    #expect(status["pid"] as? Int ?? 0 > 0)
    let uninstalled = try ZPRProcess.run(["agent", "uninstall", "--namespace", namespace])
    #expect(uninstalled.exitCode == 0, "\(uninstalled.standardError)")
    #expect(!tables().contains("zpr"))
  }

}

/// `zpr lab`: up, probe, exec and down through the real binary.
@Suite(
  "zpr lab",
  .enabled(
    if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"),
    "needs root and nftables (CI has both): the lab builds network namespaces"),
  .serialized)
struct LabCLITests {
  @Test func upProbeExecDown() throws {
    let prefix = "zc\(getpid() % 100_000)"
    let file = IAMCLITests.root.appendingPathComponent("examples/tenancies/three-tier.yaml").path
    defer { _ = try? ZPRProcess.run(["lab", "down", "--prefix", prefix]) }
    let up = try ZPRProcess.run(["lab", "up", "--prefix", prefix, "--no-agents", file])
    #expect(up.exitCode == 0, "\(up.standardError)")
    #expect(up.standardOutput.contains("lab '\(prefix)' is up: 3 VNICs"))
    let allowed = try ZPRProcess.run([
      "lab", "probe", "--prefix", prefix, "--from", "web-1", "--to", "app-1", "--protocol", "tcp",
      "--port", "8080", "--format", "json",
    ])
    #expect(allowed.exitCode == 0)
    let object =
      try JSONSerialization.jsonObject(with: Data(allowed.standardOutput.utf8)) as? [String: Any]
    #expect(object?["connected"] as? Bool == true)
    let denied = try ZPRProcess.run([
      "lab", "probe", "--prefix", prefix, "--from", "web-1", "--to", "db-1", "--protocol", "tcp",
      "--port", "5432", "--timeout", "0.5",
    ])
    #expect(denied.exitCode == 1)
    #expect(denied.standardOutput.hasPrefix("NOT CONNECTED: web-1/0 -> db-1/0 tcp/5432"))
    let exec = try ZPRProcess.run([
      "lab", "exec", "--prefix", prefix, "db-1", "--", "ip", "-4", "addr",
    ])
    #expect(exec.standardOutput.contains("10.0.3.10/24"))
    let down = try ZPRProcess.run(["lab", "down", "--prefix", prefix])
    #expect(down.standardOutput.contains("4 namespaces removed"))
    let listed = Lab.shell(["ip", "netns", "list"]).output
    #expect(!listed.contains(prefix + "-"))
  }

  /// `lab up` returns once every agent enforces the tenancy: a flow the analyzer calls
  /// reachable connects on the first try right after it; `lab status` shows every agent
  /// current, and not so once one is gone; `lab down` leaves no namespace and no file.
  @Test func upWaitsForTheAgentsAndStatusShowsThem() throws {
    let prefix = "zw\(getpid() % 100_000)"
    let file = IAMCLITests.root.appendingPathComponent("examples/tenancies/three-tier.yaml").path
    defer { _ = try? ZPRProcess.run(["lab", "down", "--prefix", prefix]) }
    let analyzed = try ZPRProcess.run([
      "analyze", "--tenancy", file, "--from", "web-1", "--to", "app-1", "--protocol", "tcp",
      "--port", "8080", "--bidirectional",
    ])
    #expect(analyzed.standardOutput.hasPrefix("REACHABLE: web-1"), "\(analyzed.standardOutput)")
    let up = try ZPRProcess.run(["lab", "up", "--prefix", prefix, file])
    try #require(up.exitCode == 0, "\(up.standardError)")
    #expect(up.standardOutput.contains("lab '\(prefix)' is up: 3 VNICs, an agent in each"))
    // At once, and once only: the agents enforce the tenancy already.
    let probe = try ZPRProcess.run([
      "lab", "probe", "--prefix", prefix, "--from", "web-1", "--to", "app-1", "--protocol", "tcp",
      "--port", "8080",
    ])
    #expect(probe.exitCode == 0, "\(probe.standardOutput)\(probe.standardError)")
    #expect(probe.standardOutput.hasPrefix("CONNECTED: web-1/0 -> app-1/0 tcp/8080"))

    let status = try ZPRProcess.run(["lab", "status", "--prefix", prefix])
    #expect(status.exitCode == 0, "\(status.standardOutput)\(status.standardError)")
    #expect(status.standardOutput.contains("3 of 3 agents enforce its tenancy"))
    for host in ["web-1", "app-1", "db-1"] {
      let line = status.standardOutput.split(separator: "\n").first { $0.contains(" \(host)/0 ") }
      #expect(line?.contains("\(prefix)-\(host).0") == true, "\(status.standardOutput)")
      #expect(line?.contains(" yes ") == true, "\(status.standardOutput)")
    }
    let json = try ZPRProcess.run(["lab", "status", "--prefix", prefix, "--format", "json"])
    #expect(json.exitCode == 0)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect(object["current"] as? Bool == true)
    let hosts = try #require(object["hosts"] as? [[String: Any]])
    #expect(hosts.count == 3)
    #expect(hosts.allSatisfy { $0["running"] as? Bool == true && $0["current"] as? Bool == true })
    #expect(hosts.allSatisfy { $0["digest"] as? String == object["digest"] as? String })

    // An agent that is gone: status says so and exits 1.
    let app = try #require(hosts.first { $0["host"] as? String == "app-1/0" })
    let pid = try #require(app["pid"] as? Int)
    kill(pid_t(pid), SIGKILL)
    var gone = try ZPRProcess.run(["lab", "status", "--prefix", prefix])
    // A killed process may show in the namespace for a moment.
    for _ in 0..<50 where gone.exitCode == 0 {
      usleep(100_000)
      gone = try ZPRProcess.run(["lab", "status", "--prefix", prefix])
    }
    #expect(gone.exitCode == 1)
    #expect(gone.standardOutput.contains("2 of 3 agents enforce its tenancy"))
    #expect(
      gone.standardError.contains("app-1/0 (not running; log /run/zpr-lab/\(prefix)/agents/"),
      "\(gone.standardError)")

    let down = try ZPRProcess.run(["lab", "down", "--prefix", prefix])
    #expect(down.exitCode == 0)
    #expect(!Lab.shell(["ip", "netns", "list"]).output.contains(prefix + "-"))
    #expect(!FileManager.default.fileExists(atPath: "/run/zpr-lab/\(prefix)"))
    #expect(!FileManager.default.fileExists(atPath: "/run/zpr-lab/\(prefix).yaml"))
  }

  /// `lab fuzz` compares the kernel with the analyzer over random tenancies, one lab after
  /// another, says how it went, and takes every lab down; a prefix in use is refused.
  @Test func fuzzComparesFlowsAndLeavesNothing() throws {
    let prefix = "zz\(getpid() % 100_000)"
    defer { _ = try? ZPRProcess.run(["lab", "down", "--prefix", prefix]) }
    let fuzz = try ZPRProcess.run([
      "lab", "fuzz", "--prefix", prefix, "--flows", "3000", "--seed", "11", "--resources", "8",
    ])
    #expect(fuzz.exitCode == 0, "\(fuzz.standardOutput)\(fuzz.standardError)")
    let summary = fuzz.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
    #expect(summary.hasPrefix("3000 flows compared in "), "\(fuzz.standardOutput)")
    #expect(summary.contains(", 0 disagreements; "), "\(summary)")
    #expect(!Lab.shell(["ip", "netns", "list"]).output.contains(prefix + "-"))
    // A prefix whose lab is up is refused, and that lab is left as it was.
    let file = IAMCLITests.root.appendingPathComponent("examples/tenancies/three-tier.yaml").path
    let up = try ZPRProcess.run(["lab", "up", "--prefix", prefix, "--no-agents", file])
    try #require(up.exitCode == 0, "\(up.standardError)")
    let refused = try ZPRProcess.run(["lab", "fuzz", "--prefix", prefix, "--flows", "10"])
    #expect(refused.exitCode != 0)
    #expect(refused.standardError.contains("[ZPR-CLI-023]"), "\(refused.standardError)")
    #expect(Lab.shell(["ip", "netns", "list"]).output.contains(prefix + "-"))
  }
}

/// `zpr agent`'s options, without root.
@Suite("zpr agent options")
struct AgentOptionTests {
  @Test func aStatusFileGoesWithATenancyFile() throws {
    let result = try ZPRProcess.run([
      "agent", "--server", "http://127.0.0.1:1", "--host", "web-1", "--status-file", "/tmp/x",
    ])
    #expect(result.exitCode == 2)
    #expect(
      result.standardError.contains("--status-file goes with --tenancy FILE"),
      "\(result.standardError)")
  }
}
