public import ZPRPolicy

/// The L4 protocols a flow can have.
public enum FlowProtocol: String, Hashable, Sendable, CaseIterable, Codable {
  case tcp
  case udp
  case icmp

  /// Whether flows of this protocol have ports.
  public var hasPorts: Bool { self != .icmp }
}

/// One flow: the 5-tuple (with ICMP type and code in place of ports). Identical tuples are one
/// flow.
public struct Flow: Hashable, Sendable, CustomStringConvertible {
  /// The source port used when none is given: the start of the ephemeral range.
  public static let defaultSourcePort = 49152
  /// The ICMP message used when none is given: echo request (ping), code 0.
  public static let defaultICMPType = 8

  public var transport: FlowProtocol
  public var source: IPAddress
  public var destination: IPAddress
  /// TCP/UDP ports (0 for ICMP).
  public var sourcePort: Int
  public var destinationPort: Int
  /// ICMP type and code (0 for TCP/UDP).
  public var icmpType: Int
  public var icmpCode: Int

  /// A TCP or UDP flow.
  public init(
    _ transport: FlowProtocol, from source: IPAddress, sourcePort: Int = Flow.defaultSourcePort,
    to destination: IPAddress, port destinationPort: Int
  ) {
    self.transport = transport
    self.source = source
    self.destination = destination
    self.sourcePort = transport.hasPorts ? sourcePort : 0
    self.destinationPort = transport.hasPorts ? destinationPort : 0
    self.icmpType = 0
    self.icmpCode = 0
  }

  /// An ICMP flow.
  public init(
    icmpFrom source: IPAddress, to destination: IPAddress, type: Int = Flow.defaultICMPType,
    code: Int = 0
  ) {
    self.transport = .icmp
    self.source = source
    self.destination = destination
    self.sourcePort = 0
    self.destinationPort = 0
    self.icmpType = type
    self.icmpCode = code
  }

  /// The flow of the replies: ends and ports swapped; an ICMP query is answered by its reply
  /// type (``icmpReplies``: an echo request, 8, by an echo reply, 0; over ICMPv6 128 by 129),
  /// other ICMP messages by the same type.
  public var reply: Flow {
    var reply = self
    reply.source = destination
    reply.destination = source
    reply.sourcePort = destinationPort
    reply.destinationPort = sourcePort
    if transport == .icmp, let answer = Self.icmpReplies(source.family)[icmpType] {
      reply.icmpType = answer
    }
    return reply
  }

  /// The ICMP queries and their replies, as conntrack pairs them: echo (8, 0), timestamp
  /// (13, 14), information (15, 16) and address mask (17, 18); over ICMPv6 echo (128, 129) and
  /// node information (139, 140).
  public static func icmpReplies(_ family: IPAddress.Family) -> [Int: Int] {
    family == .v6 ? [128: 129, 139: 140] : [8: 0, 13: 14, 15: 16, 17: 18]
  }

  /// `tcp 10.0.1.10:49152 -> 10.0.3.10:5432`, `icmp 10.0.1.10 -> 10.0.3.10 type 8 code 0`.
  public var description: String {
    transport.hasPorts
      ? "\(transport.rawValue) \(source):\(sourcePort) -> \(destination):\(destinationPort)"
      : "icmp \(source) -> \(destination) type \(icmpType) code \(icmpCode)"
  }
}

/// Whether ZPR decides with enforce-mode attributes only (what the network does) or with
/// audit-mode attributes counted as well (what it would do if they were enforced).
public enum EvaluationMode: String, Hashable, Sendable, CaseIterable {
  case enforce
  case audit
}

/// A statement of the tenancy, by its policy's index and its own index in that policy.
public struct StatementID: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var policy: Int
  public var statement: Int

  /// A statement's place.
  public init(policy: Int, statement: Int) {
    self.policy = policy
    self.statement = statement
  }

  public static func < (lhs: StatementID, rhs: StatementID) -> Bool {
    (lhs.policy, lhs.statement) < (rhs.policy, rhs.statement)
  }

  public var description: String { "policies[\(policy)].statements[\(statement)]" }
}
