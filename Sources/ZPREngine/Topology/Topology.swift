public import ZPRModel
public import ZPRPolicy

/// One endpoint: a VNIC, with its addresses, where it is, and the attributes it carries (its
/// resource's and its own).
public struct Endpoint: Hashable, Sendable {
  /// The resource's index in the tenancy and the VNIC's index in the resource.
  public var resource: Int
  public var vnic: Int
  /// `web-1/0`: the resource's name and the VNIC's index.
  public var name: String
  /// The VCN's index in the tenancy and the subnet's in the VCN (nil when they do not resolve).
  public var vcn: Int?
  public var subnet: Int?
  public var ips: [IPAddress]
  public var attributes: [AppliedAttribute]

  /// The attributes ZPR counts in a mode: enforce-mode ones, or all of them for audit.
  public func attributes(in mode: EvaluationMode) -> [AppliedAttribute] {
    mode == .audit ? attributes : attributes.filter { $0.mode == .enforce }
  }

  /// Whether ZPR guards the endpoint in a mode (it carries an attribute that counts).
  public func isProtected(in mode: EvaluationMode) -> Bool {
    mode == .audit ? !attributes.isEmpty : attributes.contains { $0.mode == .enforce }
  }

  /// Whether some attribute is in audit mode: the analyzer then says what ZPR would decide.
  public var hasAuditAttributes: Bool { attributes.contains { $0.mode == .audit } }
}

/// A tenancy's endpoints and the lookups every evaluator needs: by address, by name, VCNs by
/// name. Built once per tenancy snapshot.
public struct Topology: Sendable {
  public private(set) var tenancy: Tenancy
  public private(set) var endpoints: [Endpoint]
  /// The index of each resource's first endpoint.
  private var firstEndpoint: [Int]
  private let byAddress: [IPAddress: Int]
  private let byName: [String: Int]
  private let vcnIndex: [String: Int]

  /// Indexes a tenancy. An address held by two VNICs (a consistency error) resolves to the first.
  public init(_ tenancy: Tenancy) {
    self.tenancy = tenancy
    var vcnIndex: [String: Int] = [:]
    for (index, vcn) in tenancy.vcns.enumerated() where vcnIndex[vcn.name] == nil {
      vcnIndex[vcn.name] = index
    }
    var endpoints: [Endpoint] = []
    var byAddress: [IPAddress: Int] = [:]
    var byName: [String: Int] = [:]
    var firstEndpoint: [Int] = []
    for (resourceIndex, resource) in tenancy.resources.enumerated() {
      firstEndpoint.append(endpoints.count)
      for (vnicIndex, vnic) in resource.vnics.enumerated() {
        let vcn = vcnIndex[vnic.vcn]
        let subnet = vcn.flatMap { tenancy.vcns[$0].subnets.firstIndex { $0.name == vnic.subnet } }
        let endpoint = Endpoint(
          resource: resourceIndex, vnic: vnicIndex, name: "\(resource.name)/\(vnicIndex)",
          vcn: vcn, subnet: subnet, ips: vnic.ips,
          attributes: Self.attributes(resource.securityAttributes, vnic.securityAttributes))
        for ip in vnic.ips where byAddress[ip] == nil { byAddress[ip] = endpoints.count }
        if byName[endpoint.name] == nil { byName[endpoint.name] = endpoints.count }
        if vnicIndex == 0, byName[resource.name] == nil { byName[resource.name] = endpoints.count }
        endpoints.append(endpoint)
      }
    }
    self.endpoints = endpoints
    self.firstEndpoint = firstEndpoint
    self.byAddress = byAddress
    self.byName = byName
    self.vcnIndex = vcnIndex
  }

  /// What a VNIC carries: its resource's attributes, and its own that the resource does not.
  private static func attributes(_ resource: [AppliedAttribute], _ own: [AppliedAttribute])
    -> [AppliedAttribute]
  {
    resource
      + own.filter { attribute in
        !resource.contains {
          SecurityAttributeName.same($0.namespace, attribute.namespace)
            && SecurityAttributeName.same($0.key, attribute.key) && $0.value == attribute.value
        }
      }
  }

  /// Changes the attributes a resource carries; returns the indexes of its endpoints, which a
  /// compiled policy then updates (``CompiledPolicy/update(_:)``).
  @discardableResult
  public mutating func setAttributes(_ attributes: [AppliedAttribute], ofResource index: Int)
    -> Range<Int>
  {
    tenancy.resources[index].securityAttributes = attributes
    let first = firstEndpoint[index]
    let vnics = tenancy.resources[index].vnics
    for (number, vnic) in vnics.enumerated() {
      endpoints[first + number].attributes = Self.attributes(attributes, vnic.securityAttributes)
    }
    return first..<(first + vnics.count)
  }

  /// Replaces a policy; a compiled policy then follows (``CompiledPolicy/replacePolicy(at:in:)``).
  public mutating func setPolicy(_ policy: Policy, at index: Int) {
    tenancy.policies[index] = policy
  }

  /// The endpoint holding an address.
  public func endpoint(at address: IPAddress) -> Int? { byAddress[address] }

  /// The endpoint of a name: `web-1` (its first VNIC) or `web-1/1` (its VNIC 1).
  public func endpoint(named name: String) -> Int? { byName[name] }

  /// The VCN of a name.
  public func vcn(named name: String) -> Int? { vcnIndex[name] }

  /// The VCN whose blocks hold an address, if any.
  public func vcn(holding address: IPAddress) -> Int? {
    tenancy.vcns.firstIndex { $0.cidrs.contains { $0.contains(address) } }
  }

  /// The subnet of a VCN holding an address, if any.
  public func subnet(of vcn: Int, holding address: IPAddress) -> Int? {
    tenancy.vcns[vcn].subnets.firstIndex { $0.cidr.contains(address) }
  }

  /// Every endpoint name and address a user may give, for did-you-mean.
  public var names: [String] { Array(byName.keys).sorted() }
}
