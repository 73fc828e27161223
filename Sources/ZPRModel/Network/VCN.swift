public import ZPRPolicy

/// A subnet of a VCN.
public struct Subnet: Hashable, Sendable {
  public var name: String
  public var cidr: IPPrefix
  /// The route table's name, or `nil` for none.
  public var routeTable: String?
  /// The names of the security lists.
  public var securityLists: [String]

  /// A subnet.
  public init(name: String, cidr: IPPrefix, routeTable: String? = nil, securityLists: [String] = [])
  {
    self.name = name
    self.cidr = cidr
    self.routeTable = routeTable
    self.securityLists = securityLists
  }
}

/// A virtual cloud network and what lives in it.
public struct VCN: Hashable, Sendable {
  public var name: String
  /// The compartment's name (`nil`: the tenancy root).
  public var compartment: String?
  public var cidrs: [IPPrefix]
  /// At most `attributesPerVCN` (1 by default).
  public var securityAttributes: [AppliedAttribute]
  public var routeTables: [RouteTable]
  public var localPeeringGateways: [LocalPeeringGateway]
  public var securityLists: [SecurityList]
  public var networkSecurityGroups: [NetworkSecurityGroup]
  public var subnets: [Subnet]

  /// A VCN.
  public init(
    name: String, compartment: String? = nil, cidrs: [IPPrefix],
    securityAttributes: [AppliedAttribute] = [], routeTables: [RouteTable] = [],
    localPeeringGateways: [LocalPeeringGateway] = [], securityLists: [SecurityList] = [],
    networkSecurityGroups: [NetworkSecurityGroup] = [], subnets: [Subnet] = []
  ) {
    self.name = name
    self.compartment = compartment
    self.cidrs = cidrs
    self.securityAttributes = securityAttributes
    self.routeTables = routeTables
    self.localPeeringGateways = localPeeringGateways
    self.securityLists = securityLists
    self.networkSecurityGroups = networkSecurityGroups
    self.subnets = subnets
  }
}
