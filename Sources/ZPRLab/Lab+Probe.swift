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
  /// What happened, in a few words (`connected`, `no answer within 1 s`, `arrived`).
  public var detail: String
  /// The source port the flow's socket had (chosen, or the kernel's pick); nil for ICMP.
  public var sourcePort: Int? = nil
  /// The type and code of a one-way ICMP message; nil for the rest.
  public var icmpType: Int? = nil
  public var icmpCode: Int? = nil
}

extension Lab {
  /// Tries a real connection from one VNIC to another with the native prober
  /// (``LabProber``): a listener at the destination (TCP accepts, UDP echoes; ICMP is an echo
  /// request), the source connects, the listener is closed. `connected` is whether the
  /// connection (or the echo) came back within `timeout` seconds. The VNICs are named as the
  /// analyzer names them (`web-1/0`) in the result.
  public func probe(
    from source: String, to destination: String, transport: FlowProtocol, port: Int? = nil,
    timeout: Double = 1
  ) async throws(LabError) -> ProbeResult {
    try await probe(
      from: source, to: destination,
      traffic: LabTraffic(transport: transport, port: transport == .icmp ? nil : port),
      timeout: timeout)
  }

  /// Tries some traffic from one VNIC to another with the native prober: TCP or UDP to a port
  /// (from a chosen source port, or the kernel's pick), a ping, or a one-way ICMP message of a
  /// type and code (`connected` is then whether it arrived: a raw socket at the destination
  /// sees it after the destination's firewalls).
  public func probe(
    from source: String, to destination: String, traffic: LabTraffic, timeout: Double = 1
  ) async throws(LabError) -> ProbeResult {
    guard let from = topology.endpoint(named: source), hosts.contains(from) else {
      throw LabError(.unknownVNIC, "the lab has no VNIC named '\(source)'")
    }
    guard let to = topology.endpoint(named: destination), hosts.contains(to) else {
      throw LabError(.unknownVNIC, "the lab has no VNIC named '\(destination)'")
    }
    let flow = LabFlow(
      from: topology.endpoints[from].name, to: topology.endpoints[to].name, traffic: traffic)
    return try await LabProber(self, timeout: timeout, batch: 1).probe([flow])[0]
  }
}
