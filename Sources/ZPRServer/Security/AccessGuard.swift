import HTTPTypes
import ZPRIAM

/// The checks every change to who may do what passes (IAM policies, groups, their members, API
/// keys, through their routes or `apply`), comparing the access of today with the access the
/// change leaves:
/// - no escalation: nobody gains, by a new statement, a new membership or a new key, a
///   permission the caller does not hold themselves, and only an administrator puts anyone in
///   `Administrators`;
/// - no lockout: the caller keeps the right to change IAM policies if they have it, and some
///   key keeps the right to manage users if one has it.
enum AccessGuard {
  /// The group whose members hold everything.
  static let administrators = "Administrators"

  static func check(_ caller: Caller, now: Access, then: Access) throws {
    try refuseEscalation(caller, now: now, then: then)
    try refuseLockout(caller, now: now, then: then)
  }

  /// Refuses a change after which someone would hold a permission the caller does not.
  static func refuseEscalation(_ caller: Caller, now: Access, then: Access) throws {
    let groups = now.groups(of: caller)
    let evaluator = now.evaluator
    let admin = evaluator.holdsEverything(user: caller.user, groups: groups)
    if admin { return }
    func refuse(_ what: String, _ missing: [String]) -> APIError {
      APIError(
        .forbidden, "ZPR-API-025",
        "\(caller.user) may not \(what): it would grant \(missing.prefix(3).joined(separator: "; "))"
          + (missing.count > 3 ? " (and \(missing.count - 3) more)" : "")
          + ", which \(caller.user) does not hold; nobody can give more than they have (ask an "
          + "administrator to make this change)")
    }
    // Every statement the change writes must be one the caller holds.
    let before = Set(
      now.evaluator.policies.flatMap { policy in policy.statements.map(\.canonical) })
    for policy in then.evaluator.policies {
      for statement in policy.statements where !before.contains(statement.canonical) {
        let missing = evaluator.uncovered(statement, user: caller.user, groups: groups)
        if !missing.isEmpty {
          throw refuse("write '\(statement.canonical)' (IAM policy \(policy.name))", missing)
        }
      }
    }
    // Every user whose groups the change changes (a membership, a key, a renamed group) gains
    // the statements that become about them, or that test their groups; a user the change
    // brings in gains every statement about them (`... where request.user.name = 'bob'`). The
    // caller must hold them all.
    let known = now.users
    for user in then.users.sorted() {
      let old = now.groups(ofUser: user)
      let new = then.groups(ofUser: user)
      let added = Set(new.map { $0.lowercased() }).subtracting(old.map { $0.lowercased() })
      if added.contains(administrators.lowercased()) {
        throw APIError(
          .forbidden, "ZPR-API-026",
          "only an administrator may put a user in \(administrators) (here: \(user)); ask one "
            + "to make this change")
      }
      let gained =
        known.contains(user)
        ? then.evaluator.gained(user: user, groupsBefore: old, groupsAfter: new)
        : then.evaluator.statements(for: user, groups: new).filter { statement in
          // What every key holder has already, a new user gets too: not a gain to check,
          // unless it names the user.
          guard statement.subject == .anyUser else { return true }
          guard let condition = statement.condition.map(IAMStatement.text(of:))?.lowercased(),
            condition.contains("request.user")
          else { return false }
          return condition.contains("'\(user.lowercased())'") || condition.contains("!=")
        }
      for statement in gained {
        let missing = evaluator.uncovered(statement, user: caller.user, groups: groups)
        if !missing.isEmpty {
          throw refuse(
            "give \(user) the groups \(new.joined(separator: ", ")) (a statement about them: "
              + "'\(statement.canonical)')", missing)
        }
      }
    }
  }

  /// Refuses a change after which the caller could no longer change IAM policies, when they
  /// can now, or after which no key's user could manage users, when one can now: nobody locks
  /// themselves (often: everyone) out by accident.
  static func refuseLockout(_ caller: Caller, now: Access, then: Access) throws {
    func can(_ access: Access) -> Bool {
      Authorizer.allows(caller, "POLICY_UPDATE", Target(), in: access)
    }
    if can(now), !can(then) {
      throw APIError(
        .conflict, "ZPR-API-023",
        "after this change \(caller.user) could no longer change IAM policies (POLICY_UPDATE): "
          + "keep a statement that grants it to one of their groups (`zpr export` writes the "
          + "current iamPolicies and groups; leave both sections out to keep them as they are)")
    }
    func managers(_ access: Access) -> Bool {
      access.keyGroups.keys.contains { user in
        Authorizer.allows(
          Caller(user: user, groups: []), "USER_CREATE", Target(), in: access)
      }
    }
    if managers(now), !managers(then) {
      throw APIError(
        .conflict, "ZPR-API-024",
        "after this change no API key could manage users (USER_CREATE), so nobody could make "
          + "keys again: keep at least one key of a user who may manage users (make a new one "
          + "first, then revoke the old one)")
    }
  }
}

extension AccessGuard {
  /// Refuses to act on a user (make or revoke a key of theirs) who holds a permission the
  /// caller does not.
  static func refuseActingAbove(
    _ caller: Caller, on user: String, in access: Access, doing action: String
  ) throws {
    let groups = access.groups(of: caller)
    if access.evaluator.holdsEverything(user: caller.user, groups: groups) { return }
    let theirs = access.groups(ofUser: user)
    for statement in access.evaluator.statements(for: user, groups: theirs) {
      let missing = access.evaluator.uncovered(statement, user: caller.user, groups: groups)
      guard missing.isEmpty else {
        throw APIError(
          .forbidden, "ZPR-API-027",
          "\(caller.user) may not \(action) \(user), who holds more (\(missing[0])): "
            + "ask an administrator, or \(user)")
      }
    }
  }
}
