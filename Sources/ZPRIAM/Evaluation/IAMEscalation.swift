import ZPRPolicy

/// The escalation check: no caller may create or change a group, a membership, a key or an IAM
/// policy so that anyone gains a permission the caller does not hold itself (as Kubernetes RBAC
/// prevents escalation). The check is conservative: what it cannot prove the caller holds, it
/// reports. The evaluator is over the policies as they are before the change (what the caller
/// holds now); the statements to check are those someone would gain: each statement of a new or
/// changed policy, `gained(...)` for a change of someone's groups, `statements(for:...)` of the
/// user a new key is for.
extension IAMEvaluator {
  /// Each permission the statement can grant that the caller does not hold everywhere the
  /// statement grants it, in words (empty: the caller holds all of it).
  ///
  /// The permissions a statement can grant are those of its verb on its types, less those its
  /// condition rules out on `request.permission` alone. The caller holds one where the statement
  /// grants it when a statement about the caller grants it on a type that has it, in a place that
  /// holds the statement's place (the tenancy holds every compartment, a compartment those inside
  /// it), with no condition, or one that holds for every request of that permission by this
  /// caller, or the same condition as the statement's (when it does not test the caller).
  public func uncovered(
    _ statement: IAMStatement, user: String, groups: [String], groupIDs: [String] = []
  ) -> [String] {
    let mine = policies.flatMap(\.statements).filter {
      Self.isSubject($0.subject, user: user, groups: groups, groupIDs: groupIDs)
    }
    let condition = statement.condition.map { " where " + IAMStatement.text(of: $0) } ?? ""
    return Self.grantable(statement).filter { permission in
      !mine.contains {
        Self.covers(
          $0, permission, of: statement, user: user, groups: groups, groupIDs: groupIDs)
      }
    }.map { "\($0) in \(statement.location)" + condition }
  }

  /// Every statement about a user in these groups (whatever its condition).
  public func statements(for user: String, groups: [String], groupIDs: [String] = [])
    -> [IAMStatement]
  {
    policies.flatMap(\.statements).filter {
      Self.isSubject($0.subject, user: user, groups: groups, groupIDs: groupIDs)
    }
  }

  /// The statements a change of a user's groups gives them: about them after and not before,
  /// or testing their groups in a condition (`request.groups.name != 'Interns'`).
  public func gained(
    user: String, groupsBefore: [String], groupIDsBefore: [String] = [], groupsAfter: [String],
    groupIDsAfter: [String] = []
  ) -> [IAMStatement] {
    func same(_ a: [String], _ b: [String]) -> Bool {
      Set(a.map { $0.lowercased() }) == Set(b.map { $0.lowercased() })
    }
    if same(groupsBefore, groupsAfter), same(groupIDsBefore, groupIDsAfter) { return [] }
    return statements(for: user, groups: groupsAfter, groupIDs: groupIDsAfter).filter {
      !Self.isSubject($0.subject, user: user, groups: groupsBefore, groupIDs: groupIDsBefore)
        || $0.condition.map(Self.testsGroups) == true
    }
  }

  /// Whether the caller is an administrator: holds `manage all-resources in tenancy` unconditionally.
  public func holdsEverything(user: String, groups: [String], groupIDs: [String] = []) -> Bool {
    let everything = IAMStatement(
      subject: .anyUser, verb: .manage, resource: "all-resources", location: .tenancy,
      condition: nil, range: SourceRange(0, 0))
    return uncovered(everything, user: user, groups: groups, groupIDs: groupIDs).isEmpty
  }

  /// The permissions a statement can grant: those of its verb on its types, less those its
  /// condition rules out whatever the request is but its permission.
  public static func grantable(_ statement: IAMStatement) -> [String] {
    let permissions = (PermissionCatalog.types(named: statement.resource) ?? []).flatMap {
      $0.permissions(for: statement.verb)
    }
    guard let condition = statement.condition else { return permissions }
    return permissions.filter { permission in
      truth(condition) { $0 == "request.permission" ? .values([permission]) : .unknown } != .no
    }
  }

  /// Whether one of the caller's statements grants the caller a permission wherever and
  /// whenever another statement grants it.
  static func covers(
    _ held: IAMStatement, _ permission: String, of statement: IAMStatement, user: String,
    groups: [String], groupIDs: [String]
  ) -> Bool {
    guard let owner = PermissionCatalog.type(of: permission),
      (PermissionCatalog.types(named: held.resource) ?? []).contains(where: {
        $0.name == owner.name
      }),
      owner.permissions(for: held.verb).contains(permission),
      contains(held.location, statement.location)
    else { return false }
    guard let condition = held.condition else { return true }
    // The same condition holds for the caller whenever it holds for anyone, unless it tests
    // who is asking.
    if let theirs = statement.condition,
      IAMStatement.text(of: condition) == IAMStatement.text(of: theirs),
      !testsCaller(condition)
    {
      return true
    }
    // Otherwise it must hold for every request of that permission by this caller.
    let known: (String) -> Known = { variable in
      switch variable {
      case "request.permission": .values([permission])
      case "request.user.name": .values([user])
      case "request.groups.name": .values(groups)
      case "request.groups.id": .values(groupIDs)
      default: .unknown
      }
    }
    return truth(condition, known) == .yes
  }

  /// Whether a condition tests who is asking (its value differs from one caller to another).
  static func testsCaller(_ condition: IAMCondition) -> Bool {
    switch condition {
    case .equals(let variable, _, _), .notEquals(let variable, _, _):
      PermissionCatalog.callerVariables.contains(variable)
    case .all(let clauses), .any(let clauses): clauses.contains(where: testsCaller)
    }
  }

  /// Whether a condition tests the caller's groups.
  static func testsGroups(_ condition: IAMCondition) -> Bool {
    switch condition {
    case .equals(let variable, _, _), .notEquals(let variable, _, _):
      variable.hasPrefix("request.groups.")
    case .all(let clauses), .any(let clauses): clauses.contains(where: testsGroups)
    }
  }

  /// Whether every target in `inner` is in `outer`.
  static func contains(_ outer: IAMLocation, _ inner: IAMLocation) -> Bool {
    switch (outer, inner) {
    case (.tenancy, _): true
    case (.compartment, .tenancy): false
    case (.compartment(let outer), .compartment(let inner)):
      inner.count >= outer.count
        && zip(outer, inner).allSatisfy { $0.lowercased() == $1.lowercased() }
    }
  }
}
