import Foundation
import Synchronization
public import ZPREngine

/// A firewall in memory, for unit tests: it keeps what was applied, can be made to fail or to
/// drift, and counts what it was asked to do.
public final class FakeFirewallBackend: FirewallBackend {
  private struct State {
    var table: String?
    var applied: [String] = []
    var checks = 0
    var failure: EnforcerError?
    var connections: [Flow] = []
  }

  private let state = Mutex(State())

  /// An empty firewall.
  public init() {}

  /// Every ruleset applied, in order.
  public var applied: [String] { state.withLock { $0.applied } }
  /// How many rulesets were checked.
  public var checks: Int { state.withLock { $0.checks } }

  /// Makes the next checks and applies fail with this error (nil: succeed again).
  public func fail(with error: EnforcerError?) { state.withLock { $0.failure = error } }

  /// Changes the table behind the agent's back, as another tool would.
  public func tamper(_ change: @Sendable (String) -> String) {
    state.withLock { $0.table = $0.table.map(change) }
  }

  public func check(_ ruleset: String) async throws(EnforcerError) {
    let failure = state.withLock {
      $0.checks += 1
      return $0.failure
    }
    if let failure { throw failure }
  }

  public func apply(_ ruleset: String) async throws(EnforcerError) {
    let failure: EnforcerError? = state.withLock {
      if let failure = $0.failure { return failure }
      $0.applied.append(ruleset)
      if ruleset.hasPrefix("add element") || ruleset.hasPrefix("delete element") {
        guard let table = $0.table else {
          return EnforcerError(.applyFailed, "No such file or directory: no table to update")
        }
        $0.table = Self.updating(table, with: ruleset)
      } else {
        // What the kernel would list: the definition, without comments or the replace preamble.
        $0.table = Self.listing(of: ruleset)
      }
      return nil
    }
    if let failure { throw failure }
  }

  public func listTable() async throws(EnforcerError) -> String? {
    state.withLock { $0.table }
  }

  public func observations() async throws(EnforcerError) -> FirewallObservations {
    FirewallObservations()
  }

  public func deleteTable() async throws(EnforcerError) {
    state.withLock { $0.table = nil }
  }

  /// The connections it tracks, as a test sets them up.
  public var connections: [Flow] {
    get { state.withLock { $0.connections } }
    set { state.withLock { $0.connections = newValue } }
  }

  public func trackedConnections() async throws(EnforcerError) -> [Flow] { connections }

  public func cut(_ connection: Flow) async throws(EnforcerError) {
    state.withLock { $0.connections.removeAll { $0 == connection } }
  }

  /// A listing with element updates (`add element inet zpr MAP { E, ... }`, `delete element`)
  /// applied to its maps, as the kernel would.
  static func updating(_ listing: String, with commands: String) -> String {
    var maps: [String: [String]] = [:]
    var order: [String] = []
    var lines: [String] = []
    var current: String?
    var inElements = false
    // Each map's elements, gathered; the listing keeps a placeholder where they go.
    for line in listing.split(separator: "\n").map(String.init) {
      let trimmed = line.trimmingPrefix(while: \.isWhitespace)
      if trimmed.hasPrefix("map "), trimmed.hasSuffix("{") {
        current = String(trimmed.dropFirst(4).dropLast(2))
        maps[current!] = []
        order.append(current!)
      }
      if current != nil, trimmed == "elements = {" {
        inElements = true
        continue
      }
      if inElements {
        if trimmed == "}" {
          inElements = false
        } else {
          maps[current!]!.append(String(trimmed.hasSuffix(",") ? trimmed.dropLast() : trimmed))
        }
        continue
      }
      if current != nil, trimmed == "}" {
        lines.append("@elements \(current!)")
        current = nil
      }
      lines.append(line)
    }
    for command in commands.split(separator: "\n") {
      let words = command.split(separator: " ", maxSplits: 5)
      guard words.count == 6, let open = command.firstIndex(of: "{") else { continue }
      let name = String(words[4])
      let items = command[command.index(after: open)..<command.lastIndex(of: "}")!]
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      if words[0] == "delete" {
        maps[name]?.removeAll { element in
          items.contains { element == $0 || element.hasPrefix($0 + " : ") }
        }
      } else {
        maps[name, default: []] += items
      }
    }
    return lines.flatMap { line -> [String] in
      guard line.hasPrefix("@elements "), let elements = maps[String(line.dropFirst(10))],
        !elements.isEmpty
      else { return line.hasPrefix("@elements ") ? [] : [line] }
      return ["    elements = {"]
        + elements.enumerated().map { "      \($1)" + ($0 == elements.count - 1 ? "" : ",") }
        + ["    }"]
    }.joined(separator: "\n")
  }

  /// What the kernel would list of a ruleset applied whole: its text without comments or the
  /// replace preamble.
  public static func listing(of ruleset: String) -> String {
    ruleset.split(separator: "\n").filter {
      !$0.trimmingPrefix(while: \.isWhitespace).hasPrefix("#")
        && !$0.hasPrefix("delete table") && $0 != "table \(NFTRenderer.table)"
    }.joined(separator: "\n")
  }
}
