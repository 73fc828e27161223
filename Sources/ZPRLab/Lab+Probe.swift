import Foundation
import ZPREnforcer
public import ZPREngine
import ZPRPolicy

/// The outcome of a real connection attempt in the lab.
public struct ProbeResult: Hashable, Sendable {
  public var from: String
  public var to: String
  public var transport: FlowProtocol
  public var port: Int?
  public var connected: Bool
  /// What happened, in a few words (`connected`, `no answer within 1 s`).
  public var detail: String
}

extension Lab {
  /// Tries a real connection from one VNIC to another: a listener is started at the
  /// destination (TCP accepts, UDP echoes; ICMP is an echo request), the source connects, and
  /// the listener is stopped. `connected` is whether the connection (or the echo) came back
  /// within `timeout` seconds.
  public func probe(
    from source: String, to destination: String, transport: FlowProtocol, port: Int? = nil,
    timeout: Double = 1
  ) throws(LabError) -> ProbeResult {
    guard let from = topology.endpoint(named: source), hosts.contains(from) else {
      throw LabError(.unknownVNIC, "the lab has no VNIC named '\(source)'")
    }
    guard let to = topology.endpoint(named: destination), hosts.contains(to) else {
      throw LabError(.unknownVNIC, "the lab has no VNIC named '\(destination)'")
    }
    // The destination's first address of a family the source has.
    let families = Set(topology.endpoints[from].ips.map(\.family))
    guard let address = topology.endpoints[to].ips.first(where: { families.contains($0.family) })
    else {
      throw LabError(
        .noCommonFamily,
        "\(source) and \(destination) have no address family in common (IPv4 and IPv6): "
          + "probe between VNICs that share one")
    }
    let target = address.description
    let family = address.family == .v4 ? "socket.AF_INET" : "socket.AF_INET6"
    let client = namespace(of: topology.endpoints[from])
    let server = namespace(of: topology.endpoints[to])
    var result = ProbeResult(
      from: topology.endpoints[from].name, to: topology.endpoints[to].name,
      transport: transport, port: port, connected: false, detail: "")
    if transport == .icmp {
      let (status, _) = Self.shell([
        "ip", "netns", "exec", client, "ping", "-c", "1", "-W", "\(Int(max(timeout, 1)))", target,
      ])
      result.connected = status == 0
      result.detail = status == 0 ? "echo reply" : "no echo reply within \(timeout) s"
      return result
    }
    guard let port, (1...65535).contains(port) else {
      throw LabError(.missingPort, "a \(transport.rawValue) probe needs --port (1 to 65535)")
    }
    let listener = try listen(
      in: server, address: target, family: family, port: port, transport: transport)
    defer {
      kill(listener.processIdentifier, SIGKILL)
      listener.waitUntilExit()
    }
    let script =
      transport == .tcp
      ? """
      import socket, sys
      s = socket.socket(\(family)); s.settimeout(\(timeout))
      try:
          s.connect(("\(target)", \(port))); print("connected")
      except socket.timeout: print("no answer within \(timeout) s")
      except OSError as e: print(e.strerror or str(e))
      """
      : """
      import socket
      s = socket.socket(\(family), socket.SOCK_DGRAM); s.settimeout(\(timeout))
      try:
          s.sendto(b"zpr", ("\(target)", \(port))); s.recvfrom(16); print("connected")
      except socket.timeout: print("no answer within \(timeout) s")
      except OSError as e: print(e.strerror or str(e))
      """
    let (_, output) = Self.shell(["ip", "netns", "exec", client, "python3", "-c", script])
    result.detail = output.trimmingCharacters(in: .whitespacesAndNewlines)
    result.connected = result.detail == "connected"
    return result
  }

  /// A listener on one port, ready when this returns.
  private func listen(
    in namespace: String, address: String, family: String, port: Int, transport: FlowProtocol
  ) throws(LabError) -> Process {
    let ready = FileManager.default.temporaryDirectory.appendingPathComponent(
      "\(prefix)-listen-\(UUID().uuidString)")
    let script =
      transport == .tcp
      ? """
      import socket
      s = socket.socket(\(family)); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
      s.bind(("\(address)", \(port))); s.listen(16); open("\(ready.path)", "w").close()
      while True:
          c, _ = s.accept(); c.close()
      """
      : """
      import socket
      s = socket.socket(\(family), socket.SOCK_DGRAM)
      s.bind(("\(address)", \(port))); open("\(ready.path)", "w").close()
      while True:
          data, peer = s.recvfrom(64); s.sendto(data, peer)
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ip", "netns", "exec", namespace, "python3", "-c", script]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw LabError(
        .listener, "cannot start a listener (is python3 installed?)", cause: error)
    }
    // Until it listens (python starts slowly on a busy machine), at most 10 s.
    for _ in 0..<500 where !FileManager.default.fileExists(atPath: ready.path) {
      usleep(20_000)
    }
    try? FileManager.default.removeItem(at: ready)
    return process
  }
}
