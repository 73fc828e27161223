import ArgumentParser
import Foundation
import ZPREnforcer
import ZPREngine
import ZPRModel
import ZPRPolicy

/// `zpr agent`: enforces the compiled policy on this host with nftables.
struct AgentCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "agent",
    abstract: "Enforce a tenancy's ZPR policies on this host with nftables.",
    discussion: """
      Renders the ruleset of one VNIC (--host web-1, or web-1/1 for another VNIC) into the \
      table 'inet zpr', checks it with nft -c and applies it as one transaction. Before the \
      first ruleset a protected host drops everything (fail closed); when a new ruleset \
      cannot be applied the previous one stays (fail static). It then watches the tenancy \
      file, applies each change, and puts the table back when someone else changes it. \
      --print shows the ruleset without applying it (no root needed). Needs root otherwise.
      """)

  @Option(help: "The tenancy file to enforce.") var tenancy: String
  @Option(help: "The VNIC this host is: a resource's name (its first VNIC) or RESOURCE/N.")
  var host: String
  @Option(help: "Apply in this network namespace (ip netns) instead of the current one.")
  var namespace: String?
  @Flag(help: "Print the ruleset and exit, applying nothing.") var print = false
  @Flag(help: "Apply once and exit.") var once = false
  @Option(help: "Seconds between checks of the file and of the kernel's table.")
  var interval: Double = 2

  func run() async throws {
    if print {
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
    // Fail closed until the first ruleset is read.
    do {
      _ = try await reconciler.failClosed(host: host)
    } catch { throw Self.cli(error) }
    var modified: Date?
    while true {
      let stamp = Self.modification(of: tenancy)
      do {
        let ruleset = try Self.ruleset(tenancy, host: host)
        let outcome: Reconciler.Outcome
        do {
          outcome = try await reconciler.enforce(ruleset)
        } catch { throw Self.cli(error) }
        if outcome != .unchanged || stamp != modified {
          writeError(
            "zpr agent: \(outcome.rawValue) the ruleset of \(ruleset.host) "
              + "(\(ruleset.statements.count) statements, \(ruleset.elementCount) elements)\n")
        }
        modified = stamp
      } catch let error as CLIError where !once {
        // Fail static: the last ruleset stays while the file has errors.
        writeError("zpr agent: \(error.message); keeping the ruleset in force\n")
      }
      if once { return }
      try await Task.sleep(for: .seconds(interval))
    }
  }

  static func ruleset(_ path: String, host: String) throws -> HostRuleset {
    let tenancy = try loadTenancy(path)
    let topology = Topology(tenancy)
    do {
      return try HostRuleset(host: host, topology: topology, compiled: CompiledPolicy(topology))
    } catch { throw cli(error) }
  }

  /// An enforcer's error as the command line's.
  static func cli(_ error: EnforcerError) -> CLIError {
    CLIError(code: error.code, message: error.message)
  }

  private static func modification(of path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
  }
}
