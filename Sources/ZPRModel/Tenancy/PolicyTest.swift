/// A test the tenancy's policies must pass, kept in the tenancy file like the `tests` of other
/// policy systems: a flow and whether it must get through.
public struct PolicyTest: Hashable, Sendable {
  /// What the test expects: `allow` means the flow is reachable (every layer lets it through),
  /// `deny` that it is not.
  public enum Expectation: String, Hashable, Sendable, CaseIterable {
    case allow
    case deny
  }

  /// The protocols a test flow can have.
  public enum Transport: String, Hashable, Sendable, CaseIterable {
    case tcp
    case udp
    case icmp
  }

  /// An optional name, shown in reports.
  public var name: String?
  /// The ends: a resource name, NAME/N for its VNIC N, or an IP address.
  public var from: String
  public var to: String
  public var transport: Transport
  /// The destination port (tcp and udp).
  public var port: Int?
  public var icmpType: Int?
  public var icmpCode: Int?
  public var expect: Expectation

  /// A test.
  public init(
    name: String? = nil, from: String, to: String, transport: Transport, port: Int? = nil,
    icmpType: Int? = nil, icmpCode: Int? = nil, expect: Expectation
  ) {
    self.name = name
    self.from = from
    self.to = to
    self.transport = transport
    self.port = port
    self.icmpType = icmpType
    self.icmpCode = icmpCode
    self.expect = expect
  }

  /// `web-1 -> db-1 tcp/5432` (or the test's name).
  public var label: String {
    if let name { return name }
    let what =
      switch transport {
      case .tcp, .udp: "\(transport.rawValue)/\(port.map(String.init) ?? "?")"
      case .icmp: "icmp" + (icmpType.map { " type \($0)" } ?? "")
      }
    return "\(from) -> \(to) \(what)"
  }
}
