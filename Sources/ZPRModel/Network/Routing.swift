public import ZPRPolicy

/// Where a route rule sends traffic.
public enum RouteTarget: Hashable, Sendable {
  /// Within the VCN (implicit for the VCN's own CIDRs).
  case local
  /// A local peering gateway of the same VCN, by name.
  case localPeeringGateway(String)
  /// A dynamic routing gateway, by name, that the VCN is attached to.
  case drg(String)
  case internetGateway
  case natGateway
  case serviceGateway
}

/// A route rule: traffic to `destination` goes to `target`.
public struct RouteRule: Hashable, Sendable {
  public var destination: IPPrefix
  public var target: RouteTarget

  /// A route rule.
  public init(destination: IPPrefix, target: RouteTarget) {
    self.destination = destination
    self.target = target
  }
}

/// A route table of a VCN, used by its subnets.
public struct RouteTable: Hashable, Sendable {
  public var name: String
  public var rules: [RouteRule]

  /// A route table.
  public init(name: String, rules: [RouteRule] = []) {
    self.name = name
    self.rules = rules
  }
}

/// A local peering gateway of a VCN, joined to one in another VCN; both must name each other.
public struct LocalPeeringGateway: Hashable, Sendable {
  public var name: String
  /// The peer: `(vcn, gateway)`, or `nil` while unpeered.
  public var peer: (vcn: String, gateway: String)?

  /// A local peering gateway.
  public init(name: String, peer: (vcn: String, gateway: String)? = nil) {
    self.name = name
    self.peer = peer
  }

  public static func == (lhs: LocalPeeringGateway, rhs: LocalPeeringGateway) -> Bool {
    lhs.name == rhs.name && lhs.peer?.vcn == rhs.peer?.vcn && lhs.peer?.gateway == rhs.peer?.gateway
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(name)
    hasher.combine(peer?.vcn)
    hasher.combine(peer?.gateway)
  }
}

/// A dynamic routing gateway and the VCNs attached to it.
public struct DynamicRoutingGateway: Hashable, Sendable {
  public var name: String
  /// The names of the attached VCNs.
  public var attachments: [String]

  /// A DRG.
  public init(name: String, attachments: [String] = []) {
    self.name = name
    self.attachments = attachments
  }
}
