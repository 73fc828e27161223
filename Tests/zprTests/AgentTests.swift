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
    let forced = try ZPRProcess.run([
      "agent", "--tenancy", file, "--host", "app-1", "--namespace", namespace, "--once",
      "--enforce-without-addresses",
    ])
    #expect(forced.exitCode == 0, "\(forced.standardError)")
    #expect(tables().contains("table inet zpr"))
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

}
