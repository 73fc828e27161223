// The syntax tree of ZPL. Every node carries the range it was parsed from; ranges are not part of
// equality, so a statement and its canonical formatting compare equal.

/// A security attribute reference: `namespace.key:value`, `key:value`, or a bare `key`.
public struct AttributeRef: Hashable, Sendable {
  /// The namespace, or `nil` for the default namespace.
  public var namespace: String?
  /// The attribute key.
  public var key: String
  /// The value, or `nil` for "carries this attribute, whatever its value".
  public var value: String?
  /// Where the reference was written.
  @NotCompared public var range: SourceRange

  /// A reference from its parts.
  public init(namespace: String?, key: String, value: String?, range: SourceRange) {
    self.namespace = namespace
    self.key = key
    self.value = value
    self.range = range
  }

}

/// One side of a statement: what may connect, or be connected to.
public struct Endpoint: Hashable, Sendable {
  /// The kinds of endpoint ZPL knows.
  public enum Kind: Hashable, Sendable {
    /// Endpoints that carry a security attribute (`app:web endpoints`).
    case attribute(AttributeRef)
    /// An address or address block (`'10.0.0.0/16'`).
    case address(IPPrefix)
    /// Every endpoint in scope (`all-endpoints`).
    case allEndpoints
    /// The provider's service network (`'osn-services-ip-addresses'`).
    case serviceNetwork
  }

  /// What the endpoint is.
  public var kind: Kind
  /// Where it was written.
  @NotCompared public var range: SourceRange

  /// An endpoint of a kind.
  public init(_ kind: Kind, range: SourceRange) {
    self.kind = kind
    self.range = range
  }

  /// The attribute, when this is an attribute endpoint.
  public var attribute: AttributeRef? {
    if case .attribute(let attribute) = kind { return attribute }
    return nil
  }

  /// Whether this is an address or the service network: things outside the trust boundary.
  public var isExternal: Bool {
    switch kind {
    case .address, .serviceNetwork: true
    case .attribute, .allEndpoints: false
    }
  }
}

/// The transport protocols a statement can name.
public enum TransportProtocol: String, Hashable, Sendable, CaseIterable, Codable {
  case tcp
  case udp
  case icmp
  case icmp6

  /// Whether the protocol has ports.
  public var hasPorts: Bool { self == .tcp || self == .udp }

  /// Whether the protocol is a flavour of ICMP.
  public var isICMP: Bool { self == .icmp || self == .icmp6 }
}

/// An inclusive range of destination ports; a single port has `lower == upper`.
public struct PortRange: Hashable, Sendable, CustomStringConvertible {
  /// The first port.
  public var lower: Int
  /// The last port.
  public var upper: Int
  /// Where it was written.
  @NotCompared public var range: SourceRange

  /// A range of ports.
  public init(_ lower: Int, _ upper: Int, range: SourceRange) {
    self.lower = lower
    self.upper = upper
    self.range = range
  }

  public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }
}

/// `protocol='tcp/22,1521-1522'`: a protocol and, for TCP and UDP, destination ports.
public struct ProtocolFilter: Hashable, Sendable {
  /// The protocol.
  public var transport: TransportProtocol
  /// The ports, sorted; empty means every port.
  public var ports: [PortRange]
  /// Where the whole filter was written.
  @NotCompared public var range: SourceRange

  /// A protocol filter.
  public init(transport: TransportProtocol, ports: [PortRange], range: SourceRange) {
    self.transport = transport
    self.ports = ports
    self.range = range
  }

}

/// A number-valued filter such as `protocol.icmp.type='8'`.
public struct NumberFilter: Hashable, Sendable {
  /// The value.
  public var value: Int
  /// Where the filter was written.
  @NotCompared public var range: SourceRange

  /// A number filter.
  public init(_ value: Int, range: SourceRange) {
    self.value = value
    self.range = range
  }
}

/// Whether replies are implied.
public enum ConnectionState: String, Hashable, Sendable, Codable {
  /// Replies of an allowed flow pass (the default).
  case stateful
  /// Each direction needs its own statement.
  case stateless
}

/// `connection-state='stateless'`.
public struct ConnectionStateFilter: Hashable, Sendable {
  /// The state.
  public var state: ConnectionState
  /// Where the filter was written.
  @NotCompared public var range: SourceRange

  /// A connection-state filter.
  public init(_ state: ConnectionState, range: SourceRange) {
    self.state = state
    self.range = range
  }
}

/// The `with` clause: each filter at most once. No filter means every protocol and port.
public struct Filters: Hashable, Sendable {
  /// `protocol='...'`.
  public var transport: ProtocolFilter?
  /// `protocol.icmp.type='...'`.
  public var icmpType: NumberFilter?
  /// `protocol.icmp.code='...'`.
  public var icmpCode: NumberFilter?
  /// `connection-state='...'`.
  public var connectionState: ConnectionStateFilter?
  /// Where the `with` clauses were written, from the first `with` to the last filter.
  @NotCompared public var range: SourceRange?

  /// Filters from their parts.
  public init(
    transport: ProtocolFilter? = nil, icmpType: NumberFilter? = nil,
    icmpCode: NumberFilter? = nil, connectionState: ConnectionStateFilter? = nil,
    range: SourceRange? = nil
  ) {
    self.transport = transport
    self.icmpType = icmpType
    self.icmpCode = icmpCode
    self.connectionState = connectionState
    self.range = range
  }

  /// Whether no filter is set.
  public var isEmpty: Bool {
    transport == nil && icmpType == nil && icmpCode == nil && connectionState == nil
  }

  /// The effective connection state (stateful unless said otherwise).
  public var state: ConnectionState { connectionState?.state ?? .stateful }
}

/// One ZPL sentence.
public struct Statement: Hashable, Sendable {
  /// Which VCNs the statement speaks about.
  public enum Scope: Hashable, Sendable {
    /// `in <vcn-attr> VCN allow ...`: within VCNs carrying the attribute.
    case vcn(AttributeRef)
    /// `allow ... in <src-vcn> VCN to connect to ... in <dst-vcn> VCN`: across VCNs.
    case crossVCN(source: AttributeRef, destination: AttributeRef)
  }

  /// Which VCNs the statement speaks about.
  public var scope: Scope
  /// Who may connect.
  public var source: Endpoint
  /// What may be connected to.
  public var destination: Endpoint
  /// The `with` clause.
  public var filters: Filters
  /// Where the statement was written (the whole sentence).
  @NotCompared public var range: SourceRange

  /// A statement from its parts.
  public init(
    scope: Scope, source: Endpoint, destination: Endpoint, filters: Filters = Filters(),
    range: SourceRange
  ) {
    self.scope = scope
    self.source = source
    self.destination = destination
    self.filters = filters
    self.range = range
  }
}

/// A `#` comment.
public struct Comment: Hashable, Sendable {
  /// The text after `#`, as written.
  public var text: String
  /// Where it was written.
  @NotCompared public var range: SourceRange

  /// A comment.
  public init(text: String, range: SourceRange) {
    self.text = text
    self.range = range
  }
}

/// One line of a policy file.
public enum PolicyLine: Hashable, Sendable {
  /// A statement (its index in ``PolicyFile/statements``), maybe followed by a comment.
  case statement(index: Int, trailingComment: Comment?)
  /// A line holding only a comment.
  case comment(Comment)
  /// An empty line.
  case blank
  /// A line that did not parse (its diagnostics say why); kept so that formatting is refused.
  case invalid(SourceRange)
}

/// A parsed `.zpl` file: its lines and what was found wrong with them.
public struct PolicyFile: Sendable {
  /// The text that was parsed.
  public let source: SourceFile
  /// Every line, in order.
  public var lines: [PolicyLine]
  /// The statements that parsed without errors, in order.
  public var statements: [Statement]
  /// Problems found, in source order (capped: see ``ZPRLimits/diagnosticsPerFile``).
  public var diagnostics: [Diagnostic]
  /// Diagnostics the parser left out of the file's cap; the last diagnostic counts them.
  var omittedDiagnostics = DiagnosticTally()

  init(source: SourceFile, lines: [PolicyLine], statements: [Statement], diagnostics: [Diagnostic])
  {
    self.source = source
    self.lines = lines
    self.statements = statements
    self.diagnostics = diagnostics
  }

  /// The range of every statement line, whether or not it parsed, in order.
  public var statementLines: [SourceRange] {
    lines.compactMap {
      switch $0 {
      case .statement(let index, _): statements[index].range
      case .invalid(let range): range
      case .comment, .blank: nil
      }
    }
  }

  /// Whether any diagnostic is an error.
  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
