public import ZPRPolicy

/// A virtual network interface: an endpoint, with its private IPs, in one subnet.
public struct VNIC: Hashable, Sendable {
  /// The VCN and subnet it is in.
  public var vcn: String
  public var subnet: String
  /// Its private IPs; the first is the primary.
  public var ips: [IPAddress]
  /// The NSGs it joins (in its VCN).
  public var networkSecurityGroups: [String]
  /// Attributes of this VNIC alone (at most `attributesPerVNIC`).
  public var securityAttributes: [AppliedAttribute]

  /// A VNIC.
  public init(
    vcn: String, subnet: String, ips: [IPAddress], networkSecurityGroups: [String] = [],
    securityAttributes: [AppliedAttribute] = []
  ) {
    self.vcn = vcn
    self.subnet = subnet
    self.ips = ips
    self.networkSecurityGroups = networkSecurityGroups
    self.securityAttributes = securityAttributes
  }
}

/// An instance, database, load balancer or private endpoint: something that owns VNICs. Its
/// attributes apply to all its VNICs.
public struct Resource: Hashable, Sendable {
  public var name: String
  public var kind: ResourceKind
  /// The compartment's name (`nil`: the tenancy root).
  public var compartment: String?
  /// At most `attributesPerResource` (3 by default).
  public var securityAttributes: [AppliedAttribute]
  public var vnics: [VNIC]

  /// A resource.
  public init(
    name: String, kind: ResourceKind = .instance, compartment: String? = nil,
    securityAttributes: [AppliedAttribute] = [], vnics: [VNIC]
  ) {
    precondition(kind != .vcn && kind != .vnic, "a resource is not a VCN or a VNIC")
    self.name = name
    self.kind = kind
    self.compartment = compartment
    self.securityAttributes = securityAttributes
    self.vnics = vnics
  }
}

/// A compartment: the tenancy root's children and theirs, for organising and for IAM.
public struct Compartment: Hashable, Sendable {
  public var name: String
  /// The parent's name (`nil`: the tenancy root).
  public var parent: String?

  /// A compartment.
  public init(name: String, parent: String? = nil) {
    self.name = name
    self.parent = parent
  }
}
