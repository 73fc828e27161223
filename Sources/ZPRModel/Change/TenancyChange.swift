public import ZPRIAM
import ZPRPolicy

/// One change to a tenancy, at the granularity the server stores records: one element of one
/// kind created or replaced (by name) or removed, or a catalog lifecycle step.
public enum TenancyChange: Hashable, Sendable {
  /// Creates a namespace, or changes the description of the live one of that name.
  case upsertNamespace(name: String, description: String)
  /// Deletes a retired namespace and its attributes.
  case removeNamespace(String)
  /// Creates an attribute, or changes the description and validator of the live one.
  case upsertAttribute(
    namespace: String, name: String, description: String, validator: AttributeValidator)
  /// Deletes a retired attribute.
  case removeAttribute(namespace: String, name: String)
  /// Retires a namespace and its active attributes.
  case retireNamespace(String)
  /// Reactivates a retired namespace (its attributes stay retired).
  case reactivateNamespace(String)
  /// Retires an attribute.
  case retireAttribute(namespace: String, name: String)
  /// Reactivates a retired attribute.
  case reactivateAttribute(namespace: String, name: String)
  /// Creates or replaces a compartment.
  case upsertCompartment(Compartment)
  /// Removes a compartment.
  case removeCompartment(String)
  /// Creates a VCN or replaces its own fields (compartment, CIDRs, attributes); its parts are
  /// changed one by one, so the payload's parts are ignored (a new VCN starts with none).
  case upsertVCN(VCN)
  /// Removes a VCN and its parts.
  case removeVCN(String)
  /// Creates or replaces a subnet of a VCN.
  case upsertSubnet(vcn: String, Subnet)
  /// Removes a subnet of a VCN.
  case removeSubnet(vcn: String, name: String)
  /// Creates or replaces a route table of a VCN.
  case upsertRouteTable(vcn: String, RouteTable)
  /// Removes a route table of a VCN.
  case removeRouteTable(vcn: String, name: String)
  /// Creates or replaces a security list of a VCN.
  case upsertSecurityList(vcn: String, SecurityList)
  /// Removes a security list of a VCN.
  case removeSecurityList(vcn: String, name: String)
  /// Creates or replaces a network security group of a VCN.
  case upsertNetworkSecurityGroup(vcn: String, NetworkSecurityGroup)
  /// Removes a network security group of a VCN.
  case removeNetworkSecurityGroup(vcn: String, name: String)
  /// Creates or replaces a local peering gateway of a VCN.
  case upsertLocalPeeringGateway(vcn: String, LocalPeeringGateway)
  /// Removes a local peering gateway of a VCN.
  case removeLocalPeeringGateway(vcn: String, name: String)
  /// Creates or replaces a DRG.
  case upsertDRG(DynamicRoutingGateway)
  /// Removes a DRG.
  case removeDRG(String)
  /// Creates or replaces a resource with its VNICs: the one named `replacing` (a rename, which
  /// keeps its place) or else the one of the payload's name.
  case upsertResource(Resource, replacing: String? = nil)
  /// Removes a resource.
  case removeResource(String)
  /// Creates or replaces a ZPR policy.
  case upsertPolicy(Policy)
  /// Removes a ZPR policy.
  case removePolicy(String)
  /// Creates or replaces (by name) a policy test; one without a name is added.
  case upsertTest(PolicyTest)
  /// Removes the policy test of that name.
  case removeTest(String)
  /// Creates or replaces an IAM group.
  case upsertGroup(IAMGroup)
  /// Removes an IAM group.
  case removeGroup(String)
  /// Creates or replaces an IAM policy.
  case upsertIAMPolicy(IAMPolicy)
  /// Removes an IAM policy.
  case removeIAMPolicy(String)
}

extension TenancyChange {
  /// The names of the resources the change looks up.
  var resourceNames: [String] {
    switch self {
    case .upsertResource(let resource, let replacing):
      [resource.name] + (replacing.map { [$0] } ?? [])
    case .removeResource(let name): [name]
    default: []
    }
  }
}

/// What applying a change did to the resources, for undoing it and for the indices.
enum ResourceEdit {
  /// A resource at a position was replaced (`old`), added (`old` nil) or removed (`new` nil).
  case resource(position: Int, old: Resource?, new: Resource?)
  /// Nothing of the resources.
  case none
}

extension Tenancy {
  /// Applies a change as it is, consistent or not; throws (changing nothing) only when it
  /// cannot be made at all: no element to remove or to put a part in, or a catalog operation
  /// the catalog refuses.
  public mutating func apply(_ change: TenancyChange) throws(ModelError) {
    // Found before the change, which may not read the tenancy while it writes it.
    var positions: [String: Int] = [:]
    for name in change.resourceNames {
      positions[name] = resources.firstIndex { $0.name == name }
    }
    _ = try apply(change) { positions[$0] }
  }

  /// ``apply(_:)``, finding resources with `position` (an index, in the incremental checker).
  mutating func apply(
    _ change: TenancyChange, position: (String) -> Int?
  ) throws(ModelError) -> ResourceEdit {
    switch change {
    case .upsertResource(let resource, let replacing):
      if let replacing, position(replacing) == nil { throw Self.notFound("resource", replacing) }
      guard let at = position(replacing ?? resource.name) else {
        // A new resource goes last among those of its kind: a file lists resources by kind
        // (instances, databases, load balancers, private endpoints), each in the order added.
        let at = insertionPoint(for: resource.kind)
        resources.insert(resource, at: at)
        return .resource(position: at, old: nil, new: resource)
      }
      let old = resources[at]
      resources[at] = resource
      return .resource(position: at, old: old, new: resource)
    case .removeResource(let name):
      guard let at = position(name) else { throw Self.notFound("resource", name) }
      return .resource(position: at, old: resources.remove(at: at), new: nil)
    default:
      try applyOther(change)
      return .none
    }
  }

  /// Where a new resource of a kind goes: after every resource of its kind and the kinds
  /// before it (resources are grouped by kind, so a binary search finds it).
  func insertionPoint(for kind: ResourceKind) -> Int {
    let rank = ResourceKind.allCases.firstIndex(of: kind)!
    var (low, high) = (0, resources.count)
    while low < high {
      let middle = (low + high) / 2
      if ResourceKind.allCases.firstIndex(of: resources[middle].kind)! <= rank {
        low = middle + 1
      } else {
        high = middle
      }
    }
    return low
  }

  private mutating func applyOther(_ change: TenancyChange) throws(ModelError) {
    switch change {
    case .upsertNamespace(let name, let description):
      if catalog.namespace(named: name) != nil {
        try catalog.updateNamespace(name, description: description)
      } else {
        try catalog.createNamespace(name, description: description)
      }
    case .removeNamespace(let name): try catalog.deleteNamespace(name, cascade: true)
    case .upsertAttribute(let namespace, let name, let description, let validator):
      if catalog.attribute(name, in: namespace) != nil {
        try catalog.updateAttribute(
          name, in: namespace, description: description, validator: validator)
      } else {
        try catalog.createAttribute(
          name, in: namespace, description: description, validator: validator)
      }
    case .removeAttribute(let namespace, let name):
      try catalog.deleteAttribute(name, in: namespace)
    case .retireNamespace(let name): try catalog.retireNamespace(name)
    case .reactivateNamespace(let name): try catalog.reactivateNamespace(name)
    case .retireAttribute(let namespace, let name):
      try catalog.retireAttribute(name, in: namespace)
    case .reactivateAttribute(let namespace, let name):
      try catalog.reactivateAttribute(name, in: namespace)
    case .upsertCompartment(let compartment): Self.upsert(compartment, into: &compartments)
    case .removeCompartment(let name): try Self.remove(name, "compartment", from: &compartments)
    case .upsertVCN(let vcn):
      if let at = vcns.firstIndex(where: { $0.name == vcn.name }) {
        vcns[at].compartment = vcn.compartment
        vcns[at].cidrs = vcn.cidrs
        vcns[at].securityAttributes = vcn.securityAttributes
      } else {
        vcns.append(
          VCN(
            name: vcn.name, compartment: vcn.compartment, cidrs: vcn.cidrs,
            securityAttributes: vcn.securityAttributes))
      }
    case .removeVCN(let name): try Self.remove(name, "VCN", from: &vcns)
    case .upsertSubnet(let vcn, let subnet):
      try editVCN(vcn) { Self.upsert(subnet, into: &$0.subnets) }
    case .removeSubnet(let vcn, let name):
      try editVCN(vcn) { (vcn) throws(ModelError) in
        try Self.remove(name, "subnet", from: &vcn.subnets)
      }
    case .upsertRouteTable(let vcn, let table):
      try editVCN(vcn) { Self.upsert(table, into: &$0.routeTables) }
    case .removeRouteTable(let vcn, let name):
      try editVCN(vcn) { (vcn) throws(ModelError) in
        try Self.remove(name, "route table", from: &vcn.routeTables)
      }
    case .upsertSecurityList(let vcn, let list):
      try editVCN(vcn) { Self.upsert(list, into: &$0.securityLists) }
    case .removeSecurityList(let vcn, let name):
      try editVCN(vcn) { (vcn) throws(ModelError) in
        try Self.remove(name, "security list", from: &vcn.securityLists)
      }
    case .upsertNetworkSecurityGroup(let vcn, let group):
      try editVCN(vcn) { Self.upsert(group, into: &$0.networkSecurityGroups) }
    case .removeNetworkSecurityGroup(let vcn, let name):
      try editVCN(vcn) { (vcn) throws(ModelError) in
        try Self.remove(name, "network security group", from: &vcn.networkSecurityGroups)
      }
    case .upsertLocalPeeringGateway(let vcn, let gateway):
      try editVCN(vcn) { Self.upsert(gateway, into: &$0.localPeeringGateways) }
    case .removeLocalPeeringGateway(let vcn, let name):
      try editVCN(vcn) { (vcn) throws(ModelError) in
        try Self.remove(name, "local peering gateway", from: &vcn.localPeeringGateways)
      }
    case .upsertDRG(let drg): Self.upsert(drg, into: &drgs)
    case .removeDRG(let name): try Self.remove(name, "DRG", from: &drgs)
    case .upsertPolicy(let policy): Self.upsert(policy, into: &policies)
    case .removePolicy(let name): try Self.remove(name, "policy", from: &policies)
    case .upsertTest(let test):
      if let name = test.name, let at = tests.firstIndex(where: { $0.name == name }) {
        tests[at] = test
      } else {
        tests.append(test)
      }
    case .removeTest(let name):
      guard let at = tests.firstIndex(where: { $0.name == name }) else {
        throw Self.notFound("policy test", name)
      }
      tests.remove(at: at)
    case .upsertGroup(let group): Self.upsert(group, into: &groups)
    case .removeGroup(let name): try Self.remove(name, "group", from: &groups)
    case .upsertIAMPolicy(let policy): Self.upsert(policy, into: &iamPolicies)
    case .removeIAMPolicy(let name): try Self.remove(name, "IAM policy", from: &iamPolicies)
    case .upsertResource, .removeResource:
      preconditionFailure("resources are applied by apply(_:position:)")
    }
  }

  private mutating func editVCN(
    _ name: String, _ body: (inout VCN) throws(ModelError) -> Void
  ) throws(ModelError) {
    guard let at = vcns.firstIndex(where: { $0.name == name }) else {
      throw Self.notFound("VCN", name)
    }
    try body(&vcns[at])
  }

  private static func upsert<Element: Named>(_ element: Element, into elements: inout [Element]) {
    if let at = elements.firstIndex(where: { $0.name == element.name }) {
      elements[at] = element
    } else {
      elements.append(element)
    }
  }

  private static func remove<Element: Named>(
    _ name: String, _ what: String, from elements: inout [Element]
  ) throws(ModelError) {
    guard let at = elements.firstIndex(where: { $0.name == name }) else {
      throw notFound(what, name)
    }
    elements.remove(at: at)
  }

  static func notFound(_ what: String, _ name: String) -> ModelError {
    ModelError(.notFound, "there is no \(what) named '\(name)' to change: name one that exists")
  }
}

/// The elements a change names.
protocol Named { var name: String { get } }

extension Compartment: Named {}
extension VCN: Named {}
extension Subnet: Named {}
extension RouteTable: Named {}
extension SecurityList: Named {}
extension NetworkSecurityGroup: Named {}
extension LocalPeeringGateway: Named {}
extension DynamicRoutingGateway: Named {}
extension Policy: Named {}
extension IAMGroup: Named {}
extension IAMPolicy: Named {}
