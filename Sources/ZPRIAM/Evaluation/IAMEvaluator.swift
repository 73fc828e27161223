/// A named IAM policy: its statements.
public struct IAMPolicy: Hashable, Sendable {
  public var name: String
  public var description: String
  public var statements: [IAMStatement]

  /// A policy.
  public init(name: String, description: String = "", statements: [IAMStatement]) {
    self.name = name
    self.description = description
    self.statements = statements
  }
}

/// A group of users, as IAM statements name it (`allow group NetworkAdmins to ...`).
public struct IAMGroup: Hashable, Sendable {
  public var name: String
  public var description: String
  /// The users in it, by name.
  public var members: [String]

  /// A group.
  public init(name: String, description: String = "", members: [String]) {
    self.name = name
    self.description = description
    self.members = members
  }

  /// The groups (by name) that a user is a member of.
  public static func groups(of user: String, in groups: [IAMGroup]) -> [String] {
    groups.filter { $0.members.contains(user) }.map(\.name)
  }
}

/// What a caller asks to do: the permission, and what the condition variables are.
public struct IAMRequest: Hashable, Sendable {
  public var user: String
  public var groups: [String]
  public var permission: String
  /// The compartment of the target, from the root (`[]`: the tenancy root).
  public var compartment: [String]
  /// For a security attribute namespace (or an attribute applied from one): its name.
  public var namespace: String?
  public var operation: String?
  public var resourceName: String?
  /// The ids of the caller's groups (`group id OCID`, `request.groups.id`).
  public var groupIDs: [String]
  /// The caller's user id (`request.user.id`).
  public var userID: String?
  /// For a group: its name; for a user: the groups they are in (`target.group.name`; nil: the
  /// target is neither).
  public var targetGroups: [String]?
  /// The ids of the same groups (`target.group.id`).
  public var targetGroupIDs: [String]?
  /// For a user (or one of their keys): their name (`target.user.name`).
  public var targetUser: String?
  /// For a user: their id (`target.user.id`).
  public var targetUserID: String?

  /// A request.
  public init(
    user: String, groups: [String], permission: String, compartment: [String] = [],
    namespace: String? = nil, operation: String? = nil, resourceName: String? = nil,
    groupIDs: [String] = [], userID: String? = nil, targetGroups: [String]? = nil,
    targetGroupIDs: [String]? = nil, targetUser: String? = nil, targetUserID: String? = nil
  ) {
    self.user = user
    self.groups = groups
    self.permission = permission
    self.compartment = compartment
    self.namespace = namespace
    self.operation = operation
    self.resourceName = resourceName
    self.groupIDs = groupIDs
    self.userID = userID
    self.targetGroups = targetGroups
    self.targetGroupIDs = targetGroupIDs
    self.targetUser = targetUser
    self.targetUserID = targetUserID
  }

  /// The values a condition variable has in this request (nil: none, so it satisfies nothing).
  public func values(of variable: String) -> [String]? {
    switch variable {
    case "request.permission": [permission]
    case "request.operation": operation.map { [$0] }
    case "request.user.name": [user]
    case "request.user.id": userID.map { [$0] }
    case "request.groups.name": groups
    case "request.groups.id": groupIDs
    case "target.compartment.name": compartment.last.map { [$0] }
    case "target.resource.name": resourceName.map { [$0] }
    case "target.security-attribute-namespace.name": namespace.map { [$0] }
    case "target.group.name": targetGroups
    case "target.group.id": targetGroupIDs
    case "target.user.name": targetUser.map { [$0] }
    case "target.user.id": targetUserID.map { [$0] }
    default: nil
    }
  }
}

/// Why a statement does not allow a request: each part that does not fit.
public enum IAMMismatch: Hashable, Sendable {
  case subject
  case resource
  case verb
  case location
  case condition
}

/// The answer to a request: allowed by a statement, or denied with the statement that came
/// closest and what it lacks.
public enum IAMDecision: Hashable, Sendable {
  case allowed(policy: String, statement: Int)
  case denied(closest: (policy: String, statement: Int, lacks: [String])?)

  public static func == (lhs: IAMDecision, rhs: IAMDecision) -> Bool {
    switch (lhs, rhs) {
    case (.allowed(let a, let b), .allowed(let c, let d)): a == c && b == d
    case (.denied(let a), .denied(let b)):
      a?.policy == b?.policy && a?.statement == b?.statement && a?.lacks == b?.lacks
    default: false
    }
  }

  public func hash(into hasher: inout Hasher) {
    switch self {
    case .allowed(let policy, let statement): hasher.combine(policy + "/\(statement)")
    case .denied(let closest): hasher.combine(closest?.policy ?? "")
    }
  }

  public var isAllowed: Bool {
    if case .allowed = self { return true }
    return false
  }
}

/// Decides IAM requests against policies: allowed when some statement grants the permission
/// to one of the caller's groups, on a type that has it, where the target is, with its
/// condition holding. Nothing else is allowed.
public struct IAMEvaluator: Sendable {
  public var policies: [IAMPolicy]

  /// An evaluator over policies.
  public init(policies: [IAMPolicy]) {
    self.policies = policies
  }

  /// Allowed by the first statement that grants the request, or denied with the closest one.
  public func decide(_ request: IAMRequest) -> IAMDecision {
    var closest: (policy: String, statement: Int, lacks: [String])?
    var closestWeight = Int.max
    for policy in policies {
      for (index, statement) in policy.statements.enumerated() {
        let mismatches = Self.mismatches(statement, request)
        if mismatches.isEmpty { return .allowed(policy: policy.name, statement: index) }
        // A statement for someone else is further off than one for the user that lacks a
        // detail: it counts twice.
        let weight = mismatches.reduce(0) { $0 + ($1.0 == .subject ? 2 : 1) }
        if weight < closestWeight {
          closest = (policy.name, index, mismatches.map(\.1))
          closestWeight = weight
        }
      }
    }
    return .denied(closest: closest)
  }

  /// What keeps a statement from allowing a request, in words (empty: it allows it).
  public static func lacks(_ statement: IAMStatement, _ request: IAMRequest) -> [String] {
    mismatches(statement, request).map(\.1)
  }

  /// What keeps a statement from allowing a request: which part, and why in words.
  public static func mismatches(_ statement: IAMStatement, _ request: IAMRequest) -> [(
    IAMMismatch, String
  )] {
    var lacks: [(IAMMismatch, String)] = []
    if !isSubject(
      statement.subject, user: request.user, groups: request.groups,
      groupIDs: request.groupIDs)
    {
      let inGroups =
        "\(request.user) is in "
        + (request.groups.isEmpty ? "no group" : request.groups.joined(separator: ", "))
      let why =
        switch statement.subject {
        case .groups(let groups):
          "it is for group \(groups.joined(separator: ", ")), and " + inGroups
        case .groupIDs(let ids):
          "it is for the group with id \(ids.joined(separator: ", ")), and \(request.user)'s "
            + "groups have "
            + (request.groupIDs.isEmpty
              ? "no id" : "ids " + request.groupIDs.joined(separator: ", "))
        case .anyGroup: "it is for any group, and \(request.user) is in none"
        case .dynamicGroups, .dynamicGroupIDs: "it is for a dynamic group, which zpr has none of"
        case .services: "it is for a service of the cloud service, which does not call zpr"
        case .anyUser: "it is for any user"
        }
      lacks.append((.subject, why))
    }
    let types = PermissionCatalog.types(named: statement.resource) ?? []
    if let owner = PermissionCatalog.type(of: request.permission) {
      if !types.contains(where: { $0.name == owner.name }) {
        lacks.append(
          (
            .resource,
            "it is about \(statement.resource), and \(request.permission) is of \(owner.name)"
          ))
      } else if !owner.permissions(for: statement.verb).contains(request.permission) {
        let least = PermissionCatalog.verb(granting: request.permission)?.rawValue ?? "manage"
        lacks.append(
          (
            .verb,
            "'\(statement.verb.rawValue)' does not grant \(request.permission): that takes "
              + "'\(least)' (or 'manage \(statement.resource) where "
              + "request.permission='\(request.permission)'')"
          ))
      }
    } else {
      lacks.append((.resource, "\(request.permission) is not a permission"))
    }
    if case .compartment(let path) = statement.location {
      let inside =
        request.compartment.count >= path.count
        && zip(path, request.compartment).allSatisfy { $0.lowercased() == $1.lowercased() }
      if !inside {
        let place =
          request.compartment.isEmpty
          ? "the tenancy root" : "compartment " + request.compartment.joined(separator: ":")
        lacks.append(
          (
            .location,
            "it applies in compartment \(path.joined(separator: ":")), and the target is in "
              + place
          ))
      }
    }
    if let condition = statement.condition, !holds(condition, request) {
      lacks.append((.condition, "its condition does not hold for this request"))
    }
    return lacks
  }

  /// Whether a statement's subject is about a caller: a member of one of its groups (by name,
  /// without regard to case, or by id), anyone for `any-user`, anyone in a group for
  /// `any-group`; never for dynamic groups or services, which zpr has none of.
  public static func isSubject(
    _ subject: IAMSubject, user: String, groups: [String], groupIDs: [String] = []
  ) -> Bool {
    func among(_ names: [String], _ mine: [String]) -> Bool {
      names.contains { name in mine.contains { $0.lowercased() == name.lowercased() } }
    }
    switch subject {
    case .anyUser: return true
    case .anyGroup: return !groups.isEmpty || !groupIDs.isEmpty
    case .groups(let names): return among(names, groups)
    case .groupIDs(let ids): return among(ids, groupIDs)
    case .dynamicGroups, .dynamicGroupIDs, .services: return false
    }
  }

  /// Whether a condition holds; a variable the request has no value for satisfies nothing.
  /// For a list (the caller's groups, say) `=` holds when one of them is the value and `!=`
  /// when none is: an empty list satisfies `!=` and not `=`.
  public static func holds(_ condition: IAMCondition, _ request: IAMRequest) -> Bool {
    truth(condition) { request.values(of: $0).map(Known.values) ?? .absent } == .yes
  }

  /// What is known of a variable: its values, that it has none (it satisfies nothing), or
  /// nothing at all.
  enum Known {
    case values([String])
    case absent
    case unknown
  }

  /// A condition's truth when some variables are not known (three-valued: a clause about an
  /// unknown variable is unknown; `all` is false when one clause is, `any` true when one is).
  enum Truth {
    case yes
    case no
    case unknown
  }

  static func truth(_ condition: IAMCondition, _ known: (String) -> Known) -> Truth {
    func same(_ a: String, _ b: String, _ variable: String) -> Bool {
      // Names and ids compare without regard to case, as the catalog's names do; permissions
      // and operations are exact.
      variable == "request.permission" || variable == "request.operation"
        ? a == b : a.lowercased() == b.lowercased()
    }
    switch condition {
    case .equals(let variable, let value, _), .notEquals(let variable, let value, _):
      switch known(variable) {
      case .unknown: return .unknown
      case .absent: return .no
      case .values(let values):
        let found = values.contains { same($0, value, variable) }
        if case .equals = condition { return found ? .yes : .no }
        return found ? .no : .yes
      }
    case .all(let clauses):
      var result = Truth.yes
      for clause in clauses {
        switch truth(clause, known) {
        case .no: return .no
        case .unknown: result = .unknown
        case .yes: break
        }
      }
      return result
    case .any(let clauses):
      var result = Truth.no
      for clause in clauses {
        switch truth(clause, known) {
        case .yes: return .yes
        case .unknown: result = .unknown
        case .no: break
        }
      }
      return result
    }
  }
}
