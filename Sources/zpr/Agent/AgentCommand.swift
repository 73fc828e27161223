import ArgumentParser
import Foundation
import ZPRClient
import ZPREnforcer
import ZPREngine
import ZPRModel
import ZPRPolicy

/// `zpr agent`: enforces the compiled policy on this host with nftables (`run`, the default),
/// or takes zpr's table away again (`uninstall`).
struct AgentCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "agent",
    abstract: "Enforce a tenancy's ZPR policies on this host with nftables.",
    discussion: """
      'zpr agent run' (the default: 'zpr agent --server URL --host NAME' runs it) installs \
      zpr's table and keeps it in step; 'zpr agent uninstall' removes the table, and with it \
      everything zpr enforced on this host.
      """,
    subcommands: [AgentRunCommand.self, AgentUninstallCommand.self],
    defaultSubcommand: AgentRunCommand.self)

  /// An enforcer's (or the lab's) error as the command line's: its code, and its message
  /// with what caused it.
  static func cli(_ error: any ZPRError) -> CLIError {
    CLIError(error, exitCode: CLIError.usageExitCode)
  }
}

/// `zpr agent uninstall`: removes zpr's table (`inet zpr`), so this host is as it was before
/// the agent ran. Stop the agent first, or it puts the table back.
struct AgentUninstallCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "uninstall",
    abstract: "Remove zpr's nftables table from this host (stop the agent first).")

  @Option(help: "Remove it in this network namespace (ip netns) instead of the current one.")
  var namespace: String?

  func run() async throws {
    guard getuid() == 0 else {
      throw CLIError(
        code: "ZPR-CLI-019",
        message:
          "removing zpr's table changes the kernel's firewall and needs root: run it with sudo")
    }
    do {
      try await NFTBackend(namespace: namespace).deleteTable()
    } catch { throw AgentCommand.cli(error) }
    writeOut("zpr agent: removed the table inet zpr; nothing of zpr is enforced here now\n")
  }
}

/// `zpr agent run`: enforces the compiled policy on this host with nftables.
struct AgentRunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Enforce a tenancy's ZPR policies on this host with nftables (the default).",
    discussion: """
      Renders the ruleset of one VNIC (--host web-1, or web-1/1 for another VNIC) into the \
      table 'inet zpr', checks it with nft -c and applies it as one transaction. Before the \
      first ruleset a protected host drops everything (fail closed); when a new ruleset \
      cannot be applied the previous one stays (fail static). It then watches the tenancy \
      file, applies each change, and puts the table back when someone else changes it. \
      --print shows the ruleset without applying it (no root needed). Needs root otherwise. \
      It refuses to run on a machine that does not have the host's addresses (it would drop \
      this machine's own traffic); 'zpr agent uninstall' removes its table.
      """)

  @Option(help: "The tenancy file to enforce (standalone).") var tenancy: String?
  @Option(
    help:
      "The zpr server to follow (its revision feed); the key from $ZPR_API_KEY or the config file."
  )
  var server: String?
  @Option(help: "The VNIC this host is: a resource's name (its first VNIC) or RESOURCE/N.")
  var host: String
  @Option(help: "Apply in this network namespace (ip netns) instead of the current one.")
  var namespace: String?
  @Flag(help: "Print the ruleset and exit, applying nothing.") var print = false
  @Flag(help: "Apply once and exit.") var once = false
  @Flag(
    help: """
      Enforce even though this machine (or --namespace) lacks the host's addresses. Without \
      it the agent refuses, since a protected host's table drops the machine's own traffic.
      """)
  var enforceWithoutAddresses = false
  @Option(help: "Seconds between checks of the file and of the kernel's table.")
  var interval: Double = 2
  @Option(
    help: """
      With --tenancy: after each ruleset it enforces, write what it enforced (the host, the \
      digest of the file's text, the time, the process id) to this JSON file ('zpr lab up' \
      waits for it).
      """)
  var statusFile: String?

  func validate() throws {
    guard (tenancy == nil) != (server == nil) else {
      throw ValidationError("name either --tenancy FILE (standalone) or --server URL")
    }
    guard statusFile == nil || tenancy != nil else {
      throw ValidationError(
        "--status-file goes with --tenancy FILE: an agent that follows a server reports to it")
    }
  }

  func run() async throws {
    if print {
      let tenancy: Tenancy
      if let path = self.tenancy {
        tenancy = try loadTenancy(path)
      } else {
        tenancy = try await Self.fetch(server: server, host: host).tenancy
      }
      writeOut(NFTRenderer.render(try Self.ruleset(tenancy, host: host)))
      return
    }
    guard getuid() == 0 else {
      throw CLIError(
        code: "ZPR-CLI-019",
        message:
          "zpr agent changes the kernel's firewall and needs root: run it with sudo (or use "
          + "--print to see the ruleset)")
    }
    let reconciler = Reconciler(backend: NFTBackend(namespace: namespace))
    // The host's addresses must be this machine's: a table for another host would drop this
    // machine's own traffic.
    if !enforceWithoutAddresses {
      let tenancy: Tenancy
      if let path = self.tenancy {
        tenancy = try loadTenancy(path)
      } else {
        tenancy = try await Self.fetch(server: server, host: host).tenancy
      }
      let wanted = try Self.ruleset(tenancy, host: host).addresses
      let present: Set<IPAddress>
      do {
        present = try await NFTBackend(namespace: namespace).localAddresses()
      } catch { throw AgentCommand.cli(error) }
      let missing = wanted.filter { !present.contains($0) }
      guard missing.isEmpty else {
        throw CLIError(
          code: "ZPR-CLI-031",
          message: "this machine\(namespace.map { " (namespace \($0))" } ?? "") does not have "
            + "\(host)'s address\(missing.count == 1 ? "" : "es") "
            + missing.map(\.description).joined(separator: ", ")
            + ": run the agent on the host it enforces for, or, to enforce anyway, add "
            + "--enforce-without-addresses (this machine's own traffic would be dropped; "
            + "'zpr agent uninstall' takes the table away)", exitCode: 1)
      }
    }
    // Fail closed until the first ruleset is read.
    do {
      _ = try await reconciler.failClosed(host: host)
    } catch { throw Self.cli(error) }
    if let server {
      try await follow(server: server, reconciler)
      return
    }
    guard let tenancy else { return }
    var modified: Date?
    // The digest last written to the status file.
    var reported: String?
    while true {
      let stamp = Self.modification(of: tenancy)
      do {
        let source = try readPolicySource(tenancy)
        let ruleset = try Self.ruleset(try loadTenancy(source, path: tenancy), host: host)
        let outcome: Reconciler.Outcome
        do {
          outcome = try await reconciler.enforce(ruleset)
        } catch { throw Self.cli(error) }
        if outcome != .unchanged || stamp != modified {
          writeError(
            "zpr agent: \(outcome.rawValue) the ruleset of \(ruleset.host) "
              + "(\(ruleset.statementCount) statements, \(ruleset.elementCount) elements)\n")
        }
        modified = stamp
        let digest = AgentStatus.digest(of: source.text)
        if let statusFile, outcome != .unchanged || digest != reported {
          reported = Self.writeStatus(to: statusFile, host: host, digest: digest) ?? reported
        }
      } catch let error as CLIError where !once {
        // Fail static: the last ruleset stays while the file has errors.
        writeError("zpr agent: \(error.message); keeping the ruleset in force\n")
      }
      if once { return }
      try await Task.sleep(for: .seconds(interval))
    }
  }

  static func ruleset(_ tenancy: Tenancy, host: String, revision: Int64? = nil) throws
    -> HostRuleset
  {
    do {
      return try EnforcedTenancy(tenancy).ruleset(for: host, revision: revision)
    } catch { throw cli(error) }
  }

  /// The server's tenancy (its export) and the revision it is at.
  static func fetch(server: String?, host: String) async throws
    -> (tenancy: Tenancy, revision: Int64)
  {
    try await ServerControlPlane(client: try APIClient.cli(server: server), host: host).tenancy()
  }

  /// Follows the server: each new revision (the watch, a long poll) is fetched and enforced,
  /// and the agent reports what it enforces. While the server cannot be reached, the last
  /// ruleset stays in force (fail static).
  private func follow(server: String, _ reconciler: Reconciler) async throws {
    let controlPlane = ServerControlPlane(
      client: try APIClient.cli(server: server), host: host,
      watchTimeout: Int(max(interval, 1) * 5))
    let loop = AgentLoop(
      host: host, reconciler: reconciler, controlPlane: controlPlane,
      interval: .seconds(interval), log: Self.log)
    await loop.run()
  }

  /// The loop's events on standard error.
  private static func log(_ event: AgentEvent) {
    switch event {
    case .enforced(let revision, let outcome, let ruleset, let cut):
      writeError(
        "zpr agent: revision \(revision): \(outcome.rawValue) the ruleset of \(ruleset.host) "
          + "(\(ruleset.statementCount) statements, \(ruleset.elementCount) elements, "
          + "\(cut) connections cut)\n")
    case .repaired:
      writeError("zpr agent: repaired the table (it had drifted)\n")
    case .failed(let error):
      let message =
        switch error {
        case let error as CLIError: error.message
        case let error as APIError: error.message
        case let error as EnforcerError: error.message
        default: "\(error)"
        }
      writeError("zpr agent: \(message); keeping the ruleset in force\n")
    }
  }

  static func cli(_ error: EnforcerError) -> CLIError { AgentCommand.cli(error) }

  /// Writes what the agent enforced to its status file; the digest written, or nil (and a
  /// line on standard error) when the file cannot be written.
  private static func writeStatus(to path: String, host: String, digest: String) -> String? {
    let status = AgentStatus(host: host, digest: digest, enforcedAt: Date(), pid: getpid())
    do {
      try status.write(to: path)
      return digest
    } catch {
      writeError(
        "zpr agent: cannot write the status file '\(path)' (\(error)): check that its folder "
          + "exists and is writable; the ruleset is enforced all the same\n")
      return nil
    }
  }

  private static func modification(of path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
  }
}
