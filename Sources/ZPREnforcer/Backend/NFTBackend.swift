import Dispatch
import Foundation
public import ZPREngine
public import ZPRPolicy

/// The kernel's firewall through the `nft` command, in this network namespace or in a named
/// one (`ip netns exec NAME nft ...`). Needs root (CAP_NET_ADMIN).
public struct NFTBackend: FirewallBackend {
  /// The network namespace, or nil for the caller's own.
  public var namespace: String?

  /// A backend for a namespace (nil: this one).
  public init(namespace: String? = nil) {
    self.namespace = namespace
  }

  public func check(_ transaction: NFTTransaction) async throws(EnforcerError) {
    let result = try await run(["-c", "-f", "-"], input: transaction.text)
    guard result.status == 0 else {
      throw EnforcerError(
        .rulesetRefused,
        "nft refused the ruleset (checked with nft -c, nothing was changed): "
          + result.error.trimmingCharacters(in: .whitespacesAndNewlines))
    }
  }

  public func apply(_ transaction: NFTTransaction) async throws(EnforcerError) {
    let result = try await run(["-f", "-"], input: transaction.text)
    guard result.status == 0 else {
      throw EnforcerError(
        .applyFailed,
        "nft could not apply the ruleset (the transaction was rolled back, the previous "
          + "ruleset stays): " + result.error.trimmingCharacters(in: .whitespacesAndNewlines))
    }
  }

  public func listTable() async throws(EnforcerError) -> String? {
    let result = try await run(
      ["-s", "list", "table"] + NFTRenderer.table.split(separator: " ").map(String.init))
    guard result.status == 0 else {
      if result.error.contains("No such file or directory") { return nil }
      throw EnforcerError(
        .tableUnavailable, "nft could not list zpr's table: \(result.error)")
    }
    return result.output
  }

  /// The generation over netlink; nil when the kernel does not tell it (the reconciler then
  /// reads the table back).
  public func generation() async throws(EnforcerError) -> UInt32? {
    do {
      return try await NetfilterGeneration.read(namespace: namespace)
    } catch  where error.code == .generationUnavailable {
      return nil
    }
  }

  public func observations() async throws(EnforcerError) -> FirewallObservations {
    var observations = FirewallObservations()
    let counters = try await run(["-j", "list", "counters", "table", "inet", "zpr"])
    if counters.status == 0, let object = Self.json(counters.output) {
      for item in object["nftables"]?.array ?? [] {
        guard let counter = item["counter"], let name = counter["name"]?.string else { continue }
        observations.packets[name] = counter["packets"]?.int ?? 0
      }
    }
    for (direction, audit) in [("in", false), ("out", false), ("in", true), ("out", true)] {
      for family in ["4", "6"] {
        let set = (audit ? "audit_" : "") + "denied_\(direction)\(family)"
        let listed = try await run(["-j", "list", "set", "inet", "zpr", set])
        guard listed.status == 0, let object = Self.json(listed.output) else { continue }
        for values in Self.concatenations(in: object) where values.count == 4 {
          let transport = values[2].string ?? (values[2].int == 17 ? "udp" : "tcp")
          func text(_ value: JSONValue) -> String {
            value.string ?? value.serialized(pretty: false)
          }
          observations.denied.append(
            DeniedFlow(
              direction: direction, peer: text(values[0]), host: text(values[1]),
              transport: transport, port: values[3].int ?? 0, audit: audit))
        }
      }
    }
    return observations
  }

  public func deleteTable() async throws(EnforcerError) {
    let result = try await run(["delete", "table", "inet", "zpr"])
    guard result.status == 0 || result.error.contains("No such file or directory") else {
      throw EnforcerError(.tableUnavailable, "nft could not delete zpr's table: \(result.error)")
    }
  }

  /// The addresses of this machine (or of the namespace), from `ip -j addr`.
  public func localAddresses() async throws(EnforcerError) -> Set<IPAddress> {
    let result = try await run(["-j", "addr"], tool: "ip")
    guard result.status == 0, let interfaces = Self.json(result.output)?.array else {
      throw EnforcerError(
        .addressesUnavailable, "ip could not list this machine's addresses: \(result.error)")
    }
    var addresses: Set<IPAddress> = []
    for interface in interfaces {
      for info in interface["addr_info"]?.array ?? [] {
        if let local = info["local"]?.string, let address = IPAddress(local) {
          addresses.insert(address)
        }
      }
    }
    return addresses
  }

  public func trackedConnections() async throws(EnforcerError) -> [Flow] {
    var flows: [Flow] = []
    // conntrack lists one family at a time (IPv4 unless told).
    for family in ["ipv4", "ipv6"] {
      let result = try await run(
        [
          "-L", "-f", family, "--mark",
          "\(NFTRenderer.statefulMarkValue)/\(NFTRenderer.statefulMarkValue)",
        ], tool: "conntrack")
      guard result.status == 0 else {
        throw EnforcerError(
          .connectionsUnavailable, "conntrack could not list connections: \(result.error)")
      }
      flows += result.output.split(separator: "\n").compactMap { Self.connection(String($0)) }
    }
    return flows
  }

  public func cut(_ connection: Flow) async throws(EnforcerError) {
    let transport =
      connection.transport == .icmp && connection.source.family == .v6
      ? "icmpv6" : connection.transport.rawValue
    var arguments = [
      "-D", "-f", connection.source.family == .v4 ? "ipv4" : "ipv6", "-p", transport, "-s",
      connection.source.description, "-d",
      connection.destination.description,
    ]
    if connection.transport.hasPorts {
      arguments += [
        "--sport", String(connection.sourcePort), "--dport", String(connection.destinationPort),
      ]
    }
    let result = try await run(arguments, tool: "conntrack")
    // Gone already (it ended by itself) is as good as cut.
    guard result.status == 0 || result.error.contains("0 flow entries") else {
      throw EnforcerError(
        .connectionsUnavailable, "conntrack could not cut \(connection): \(result.error)")
    }
  }

  /// A `conntrack -L` line's original direction: `tcp 6 431999 ESTABLISHED src=A dst=B
  /// sport=P dport=Q ...` (ICMP: `type=8 code=0 id=N`).
  static func connection(_ line: String) -> Flow? {
    let words = line.split(separator: " ")
    guard let name = words.first,
      let transport = name == "icmpv6" ? .icmp : FlowProtocol(rawValue: String(name))
    else {
      return nil
    }
    var fields: [String: String] = [:]
    for word in words {
      guard let equals = word.firstIndex(of: "=") else { continue }
      let key = String(word[..<equals])
      // The first of each key is the original direction's.
      if fields[key] == nil { fields[key] = String(word[word.index(after: equals)...]) }
    }
    guard let source = fields["src"].flatMap({ IPAddress($0) }),
      let destination = fields["dst"].flatMap({ IPAddress($0) })
    else { return nil }
    if transport == .icmp {
      return Flow(
        icmpFrom: source, to: destination, type: fields["type"].flatMap { Int($0) } ?? 0,
        code: fields["code"].flatMap { Int($0) } ?? 0)
    }
    return Flow(
      transport, from: source, sourcePort: fields["sport"].flatMap { Int($0) } ?? 0,
      to: destination, port: fields["dport"].flatMap { Int($0) } ?? 0)
  }

  /// Every `"concat": [...]` in a JSON listing: the set's elements.
  private static func concatenations(in value: JSONValue) -> [[JSONValue]] {
    if let members = value.objectMembers {
      if let values = value["concat"]?.array { return [values] }
      return members.flatMap { concatenations(in: $0.1) }
    }
    if let array = value.array { return array.flatMap { concatenations(in: $0) } }
    return []
  }

  /// A tool's JSON output (`nft -j`, `ip -j`), read strictly but with room for a large table;
  /// nil when it is not JSON.
  private static func json(_ text: String) -> JSONValue? {
    try? JSONValue.parse(
      text, limits: JSONLimits(maxDepth: 64, maxStringLength: 1 << 20, maxValues: 50_000_000))
  }

  struct Result {
    var status: Int32
    var output: String
    var error: String
  }

  /// Runs nft (in the namespace), off the cooperative threads: it blocks.
  private func run(_ arguments: [String], input: String? = nil, tool: String = "nft")
    async throws(EnforcerError) -> Result
  {
    let command =
      namespace.map { ["/usr/sbin/ip", "netns", "exec", $0, tool] } ?? ["/usr/sbin/\(tool)"]
    let outcome: Swift.Result<Result, EnforcerError> = await withCheckedContinuation {
      continuation in
      DispatchQueue.global().async {
        continuation.resume(returning: Self.runNow(command + arguments, input: input))
      }
    }
    return try outcome.get()
  }

  private static func runNow(_ command: [String], input: String?)
    -> Swift.Result<
      Result, EnforcerError
    >
  {
    let executable = command[0]
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      return .failure(
        EnforcerError(
          .toolMissing,
          "\(executable) is not installed: install Debian's nftables, conntrack and iproute2 "
            + "packages (scripts/install-deps.sh does)"))
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = Array(command.dropFirst())
    let output = Pipe()
    let error = Pipe()
    let standardInput = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = standardInput
    do {
      try process.run()
    } catch {
      return .failure(EnforcerError(.toolMissing, "cannot run \(executable)", cause: error))
    }
    // Read both pipes while writing, so that a large ruleset or listing cannot deadlock.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      outData = output.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      errData = error.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
    try? standardInput.fileHandleForWriting.close()
    group.wait()
    process.waitUntilExit()
    return .success(
      Result(
        status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
        error: String(decoding: errData, as: UTF8.self)))
  }
}
