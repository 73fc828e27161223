public import ZPRPolicy

/// The protocols a security list or NSG rule can name.
public enum RuleProtocol: String, Hashable, Sendable, Codable, CaseIterable {
  case all
  case tcp
  case udp
  case icmp
}

/// The other end of a security rule: a CIDR, or (NSG rules only) another NSG of the same VCN.
public enum RulePeer: Hashable, Sendable {
  case cidr(IPPrefix)
  case networkSecurityGroup(String)
}

/// One ingress or egress rule of a security list or NSG. A packet passes a list or group when
/// any of its rules allows it.
public struct SecurityRule: Hashable, Sendable {
  /// Stateful rules (the default) let replies through; stateless ones need a rule each way.
  public var stateless: Bool
  /// The protocol.
  public var transport: RuleProtocol
  /// The source (ingress) or destination (egress).
  public var peer: RulePeer
  /// TCP/UDP destination ports; `nil` means every port.
  public var destinationPorts: ClosedRange<Int>?
  /// TCP/UDP source ports; `nil` means every port.
  public var sourcePorts: ClosedRange<Int>?
  /// ICMP type and code; `nil` means any.
  public var icmpType: Int?
  public var icmpCode: Int?

  /// A rule from its parts.
  public init(
    stateless: Bool = false, transport: RuleProtocol, peer: RulePeer,
    destinationPorts: ClosedRange<Int>? = nil, sourcePorts: ClosedRange<Int>? = nil,
    icmpType: Int? = nil, icmpCode: Int? = nil
  ) {
    self.stateless = stateless
    self.transport = transport
    self.peer = peer
    self.destinationPorts = destinationPorts
    self.sourcePorts = sourcePorts
    self.icmpType = icmpType
    self.icmpCode = icmpCode
  }
}

/// A security list: rules applied to every VNIC of the subnets that use it.
public struct SecurityList: Hashable, Sendable {
  public var name: String
  public var ingress: [SecurityRule]
  public var egress: [SecurityRule]

  /// A security list.
  public init(name: String, ingress: [SecurityRule] = [], egress: [SecurityRule] = []) {
    self.name = name
    self.ingress = ingress
    self.egress = egress
  }
}

/// A network security group: rules applied to the VNICs that join it.
public struct NetworkSecurityGroup: Hashable, Sendable {
  public var name: String
  public var ingress: [SecurityRule]
  public var egress: [SecurityRule]

  /// A network security group.
  public init(name: String, ingress: [SecurityRule] = [], egress: [SecurityRule] = []) {
    self.name = name
    self.ingress = ingress
    self.egress = egress
  }
}
