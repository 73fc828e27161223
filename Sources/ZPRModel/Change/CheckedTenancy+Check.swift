import ZPRPolicy

extension CheckedTenancy {
  /// Runs the rules a change touched on the changed tenancy, section by section and element by
  /// element in the order of the full check, and keeps the errors.
  func check(_ scope: Scope, edit: ResourceEdit) -> TenancyErrors {
    var check = ConsistencyCheck(tenancy: tenancy, tables: tables)
    if scope.compartments { check.compartments() }
    if scope.vcnNames { check.vcnNameRules() }
    for position in scope.vcns.sorted() { check.vcn(at: position) }
    if scope.drgs { check.drgs() }
    if let position = scope.resourceName {
      check.checkName(tenancy.resources[position].name, at: "resources[\(position)].name")
    }
    if let position = scope.duplicateResource {
      check.duplicate(
        tenancy.resources[position].name, what: "resource", at: "resources[\(position)].name")
    }
    // Only the resources that share IPs (and those re-checked) claim them here: a consistent
    // tenancy's other resources own theirs alone.
    var owners: ConsistencyCheck.IPOwners = [:]
    for position in scope.resources.sorted() { check.resource(at: position, owners: &owners) }
    if scope.policies { check.policies() }
    if scope.tests {
      check.tests(
        vnicCount: { vnicCount(of: $0, edit: edit) },
        distinctNames: tenancy.resources.count - (scope.duplicateResource == nil ? 0 : 1))
    }
    if scope.iam { check.iam() }
    return TenancyErrors(
      issues: check.issues.filter { $0.severity == .error },
      statements: tenancy.statementErrors(inPolicies: scope.statements))
  }

  /// The number of VNICs of the (last) resource of a name in the changed tenancy, found with
  /// the index of the tenancy before the change.
  private func vnicCount(of name: String, edit: ResourceEdit) -> Int? {
    guard case .resource(let position, let old, let new) = edit else {
      return index.position(of: name).map { tenancy.resources[$0].vnics.count }
    }
    if let new, name == new.name {
      // A rename onto another's name: the later of the two counts, as in the full check.
      if let other = index.position(of: name), other > position {
        return tenancy.resources[other].vnics.count
      }
      return new.vnics.count
    }
    if name == old?.name { return nil }
    guard let other = index.position(of: name) else { return nil }
    // After a removal, the resources behind it moved down one.
    return tenancy.resources[new == nil && other > position ? other - 1 : other].vnics.count
  }
}
