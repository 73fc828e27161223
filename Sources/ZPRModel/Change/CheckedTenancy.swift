import ZPRIAM
import ZPRPolicy

/// A consistent tenancy with the indices that let one change be checked incrementally: the
/// answer (accepted, or refused with its errors) is the one ``Tenancy/errors()`` gives for the
/// whole changed tenancy, but the work is that of the elements the change touches.
///
/// - A change to a resource checks that resource, the resources whose IPs it now shares, and
///   (when tests name it) the tests: a few index lookups, whatever the number of VNICs.
/// - A change to a subnet, NSG or VCN re-checks that VCN (and its peers, and the DRGs when
///   blocks or names change) plus the resources the index says sit in what changed.
/// - A catalog change re-checks the resources and VCNs carrying the attributes it is about,
///   and the statements of every policy.
/// - Sections that are small in any tenancy (compartments, DRGs, policies, tests, IAM) are
///   re-checked whole when a change of theirs, or one they refer to, comes; removing a resource
///   moves the ones after it down (an array's memmove), and network changes refresh the small
///   name tables of the network; nothing proportional to the resources is rebuilt.
///
/// Errors, their codes, messages and paths are the full check's (every rule is the same code,
/// run element by element in the full check's order, so that its did-you-mean budget is spent
/// alike); warnings are not reported.
public struct CheckedTenancy: Sendable {
  /// The tenancy.
  public private(set) var tenancy: Tenancy
  var tables: ConsistencyTables
  var index: ResourceIndex

  /// Indexes a tenancy (linear in its size); it is expected to have no errors (see
  /// ``Tenancy/errors()``), which the answers for changes assume.
  public init(_ tenancy: Tenancy) {
    self.tenancy = tenancy
    tables = ConsistencyTables(tenancy)
    index = ResourceIndex(tenancy)
  }

  /// The resources of these names, in the tenancy's order (found through the index).
  public func resources(named names: Set<String>) -> [Resource] {
    index.positions(of: names).map { tenancy.resources[$0] }
  }

  /// The tenancy with the change, or why it is refused; this one is left as it is (and its
  /// storage is copied on the first write: use ``apply(_:)`` on a value held once to avoid it).
  public func applying(_ change: TenancyChange) -> Result<CheckedTenancy, ChangeRefusal> {
    var copy = self
    do {
      try copy.apply(change)
      return .success(copy)
    } catch {
      return .failure(error)
    }
  }

  /// Makes the change, or throws why it is refused and changes nothing.
  public mutating func apply(_ change: TenancyChange) throws(ChangeRefusal) {
    let saved = Saved(tenancy, tables)
    // Looked up first: the index is not copied (its tables are large) nor read while the
    // tenancy is written.
    var positions: [String: Int] = [:]
    for name in change.resourceNames { positions[name] = index.position(of: name) }
    let edit: ResourceEdit
    do {
      edit = try tenancy.apply(change) { positions[$0] }
    } catch {
      throw .inapplicable(error)
    }
    // A new resource has its place in the order before the check, which finds the others by
    // their places in the changed tenancy.
    if case .resource(let position, nil, let new?) = edit { index.place(new.name, at: position) }
    refreshTables(for: change)
    let errors = check(scope(for: change, edit: edit, saved: saved), edit: edit)
    guard errors.isEmpty else {
      undo(edit, saved)
      throw .inconsistent(errors)
    }
    record(change, edit: edit, saved: saved)
  }

  // MARK: Undo and record

  /// Everything but the resources, as it was: small, and kept by reference.
  private struct Saved {
    var catalog: SecurityAttributeCatalog
    var compartments: [Compartment]
    var vcns: [VCN]
    var drgs: [DynamicRoutingGateway]
    var policies: [Policy]
    var tests: [PolicyTest]
    var groups: [IAMGroup]
    var iamPolicies: [IAMPolicy]
    var tables: ConsistencyTables

    init(_ tenancy: Tenancy, _ tables: ConsistencyTables) {
      catalog = tenancy.catalog
      compartments = tenancy.compartments
      vcns = tenancy.vcns
      drgs = tenancy.drgs
      policies = tenancy.policies
      tests = tenancy.tests
      groups = tenancy.groups
      iamPolicies = tenancy.iamPolicies
      self.tables = tables
    }
  }

  private mutating func undo(_ edit: ResourceEdit, _ saved: Saved) {
    if case .resource(let position, let old, let new) = edit {
      switch (old, new) {
      case (nil, let new?):
        tenancy.resources.remove(at: position)
        index.unplace(new.name, at: position)
      case (nil, nil): break
      case (let old?, nil): tenancy.resources.insert(old, at: position)
      case (let old?, _?): tenancy.resources[position] = old
      }
    }
    tenancy.catalog = saved.catalog
    tenancy.compartments = saved.compartments
    tenancy.vcns = saved.vcns
    tenancy.drgs = saved.drgs
    tenancy.policies = saved.policies
    tenancy.tests = saved.tests
    tenancy.groups = saved.groups
    tenancy.iamPolicies = saved.iamPolicies
    tables = saved.tables
  }

  /// Brings the resource index up to date with an accepted change.
  private mutating func record(_ change: TenancyChange, edit: ResourceEdit, saved: Saved) {
    if case .resource(let position, let old, let new) = edit {
      if let new {
        index.insert(new, at: position, replacing: old)
      } else if let old {
        index.remove(old, at: position)
      }
    }
    switch change {
    case .upsertTest(let test):
      if let name = test.name, let old = saved.tests.first(where: { $0.name == name }) {
        index.count(old, by: -1)
      }
      index.count(test, by: 1)
    case .removeTest(let name):
      if let old = saved.tests.first(where: { $0.name == name }) { index.count(old, by: -1) }
    default:
      break
    }
  }

  /// Refreshes the network's name tables where the change touched them.
  private mutating func refreshTables(for change: TenancyChange) {
    switch change {
    case .upsertSubnet(let vcn, _), .removeSubnet(let vcn, _),
      .upsertRouteTable(let vcn, _), .removeRouteTable(let vcn, _),
      .upsertSecurityList(let vcn, _), .removeSecurityList(let vcn, _),
      .upsertNetworkSecurityGroup(let vcn, _), .removeNetworkSecurityGroup(let vcn, _),
      .upsertLocalPeeringGateway(let vcn, _), .removeLocalPeeringGateway(let vcn, _):
      if let at = tables.vcnIndex[vcn] {
        tables.vcnNames[at] = ConsistencyTables.VCNNames(tenancy.vcns[at])
      }
    case .upsertVCN(let vcn) where tables.vcnIndex[vcn.name] == nil:
      tables.indexVCNs(tenancy)
    case .removeVCN:
      tables.indexVCNs(tenancy)
    case .upsertDRG, .removeDRG:
      tables.indexDRGs(tenancy)
    case .upsertCompartment, .removeCompartment:
      tables.indexCompartments(tenancy)
    default:
      break
    }
  }
}

// MARK: What a change touches

extension CheckedTenancy {
  /// The rules to run again after a change, in the full check's order.
  struct Scope {
    var compartments = false
    var vcnNames = false
    /// Positions in the changed tenancy.
    var vcns: Set<Int> = []
    var drgs = false
    /// The position of a resource whose name changed, and of a later one with the same name.
    var resourceName: Int?
    var duplicateResource: Int?
    var resources: Set<Int> = []
    var policies = false
    var tests = false
    var iam = false
    /// Positions of policies whose statements to check against the catalog.
    var statements: [Int] = []
  }

  private func scope(for change: TenancyChange, edit: ResourceEdit, saved: Saved) -> Scope {
    var scope = Scope()
    switch change {
    case .upsertResource, .removeResource:
      resourceScope(edit, &scope)
    case .upsertNamespace(let name, _), .removeNamespace(let name), .retireNamespace(let name),
      .reactivateNamespace(let name):
      var keys = Set<AttributeKey>()
      for catalog in [saved.catalog, tenancy.catalog] {
        for attribute in catalog.namespace(named: name)?.attributes ?? [] {
          keys.insert(AttributeKey(namespace: name, key: attribute.name))
        }
      }
      carriersScope(keys, &scope)
    case .upsertAttribute(let namespace, let name, _, _), .removeAttribute(let namespace, let name),
      .retireAttribute(let namespace, let name), .reactivateAttribute(let namespace, let name):
      carriersScope([AttributeKey(namespace: namespace, key: name)], &scope)
    case .upsertCompartment:
      scope.compartments = true
    case .removeCompartment(let name):
      scope.compartments = true
      scope.vcns.formUnion(vcns { $0.compartment == name })
      scope.resources.formUnion(index.positions(of: index.compartmentUsers[name] ?? []))
    case .upsertVCN(let vcn):
      scope.vcnNames = true
      scope.drgs = true
      if let at = tables.vcnIndex[vcn.name] { scope.vcns.insert(at) }
      scope.vcns.formUnion(peers(of: vcn.name, saved))
    case .removeVCN(let name):
      scope.drgs = true
      scope.vcns.formUnion(peers(of: name, saved))
      scope.resources.formUnion(index.positions(of: index.vcnUsers[name] ?? []))
    case .upsertSubnet(let vcn, let subnet):
      partScope(vcn, users: index.subnetUsers[PartKey(vcn: vcn, name: subnet.name)], &scope)
    case .removeSubnet(let vcn, let name):
      partScope(vcn, users: index.subnetUsers[PartKey(vcn: vcn, name: name)], &scope)
    case .upsertNetworkSecurityGroup(let vcn, let group):
      partScope(vcn, users: index.groupUsers[PartKey(vcn: vcn, name: group.name)], &scope)
    case .removeNetworkSecurityGroup(let vcn, let name):
      partScope(vcn, users: index.groupUsers[PartKey(vcn: vcn, name: name)], &scope)
    case .upsertRouteTable(let vcn, _), .removeRouteTable(let vcn, _),
      .upsertSecurityList(let vcn, _), .removeSecurityList(let vcn, _):
      partScope(vcn, users: nil, &scope)
    case .upsertLocalPeeringGateway(let vcn, _), .removeLocalPeeringGateway(let vcn, _):
      partScope(vcn, users: nil, &scope)
      scope.vcns.formUnion(peers(of: vcn, saved))
    case .upsertDRG(let drg):
      drgScope(drg.name, &scope)
    case .removeDRG(let name):
      drgScope(name, &scope)
    case .upsertPolicy(let policy):
      scope.policies = true
      scope.statements = tenancy.policies.indices.filter {
        tenancy.policies[$0].name == policy.name
      }
    case .removePolicy:
      scope.policies = true
    case .upsertTest, .removeTest:
      scope.tests = true
    case .upsertGroup, .removeGroup, .upsertIAMPolicy, .removeIAMPolicy:
      scope.iam = true
    }
    return scope
  }

  /// A resource's own rules and name, those of the resources whose IPs it now shares, and the
  /// tests when they name it.
  private func resourceScope(_ edit: ResourceEdit, _ scope: inout Scope) {
    guard case .resource(let position, let old, let new) = edit else { return }
    var touched = Set([old?.name, new?.name].compactMap { $0 })
    if let new {
      scope.resources.insert(position)
      if old?.name != new.name {
        scope.resourceName = position
        if let other = index.position(of: new.name), other != position {
          scope.duplicateResource = max(other, position)
        }
      }
      for vnic in new.vnics {
        for ip in vnic.ips {
          guard let owner = index.ipOwners[vnic.vcn]?[ip], owner != old?.name,
            let other = index.position(of: owner)
          else { continue }
          scope.resources.insert(other)
        }
      }
    }
    touched = touched.filter { index.testEnds[$0] != nil }
    scope.tests = !touched.isEmpty
  }

  /// The resources and VCNs carrying these attributes, and every policy's statements.
  private func carriersScope(_ keys: Set<AttributeKey>, _ scope: inout Scope) {
    for key in keys {
      scope.resources.formUnion(index.positions(of: index.carriers[key] ?? []))
    }
    scope.vcns.formUnion(
      vcns { $0.securityAttributes.contains { keys.contains(AttributeKey($0)) } })
    scope.statements = Array(tenancy.policies.indices)
  }

  /// A VCN whose part changed, and the resources using that part.
  private func partScope(_ vcn: String, users: Set<String>?, _ scope: inout Scope) {
    if let at = tables.vcnIndex[vcn] { scope.vcns.insert(at) }
    scope.resources.formUnion(index.positions(of: users ?? []))
  }

  /// The DRGs, and the VCNs that route to this one.
  private func drgScope(_ name: String, _ scope: inout Scope) {
    scope.drgs = true
    scope.vcns.formUnion(
      vcns { vcn in
        vcn.routeTables.contains { $0.rules.contains { $0.target == .drg(name) } }
      })
  }

  /// The positions of the VCNs that pass a test (the network is small: a scan).
  private func vcns(where test: (VCN) -> Bool) -> [Int] {
    tenancy.vcns.indices.filter { test(tenancy.vcns[$0]) }
  }

  /// The VCNs whose gateways peer with this one, and those its gateways peer with (before and
  /// after the change), by their positions now.
  private func peers(of name: String, _ saved: Saved) -> [Int] {
    var names = Set<String>()
    for vcn in tenancy.vcns where vcn.localPeeringGateways.contains(where: { $0.peer?.vcn == name })
    {
      names.insert(vcn.name)
    }
    for vcns in [saved.vcns, tenancy.vcns] {
      for vcn in vcns where vcn.name == name {
        for gateway in vcn.localPeeringGateways {
          if let peer = gateway.peer { names.insert(peer.vcn) }
        }
      }
    }
    return names.compactMap { tables.vcnIndex[$0] }
  }
}
