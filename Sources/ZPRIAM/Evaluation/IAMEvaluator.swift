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

  /// A request.
  public init(
    user: String, groups: [String], permission: String, compartment: [String] = [],
    namespace: String? = nil, operation: String? = nil, resourceName: String? = nil
  ) {
    self.user = user
    self.groups = groups
    self.permission = permission
    self.compartment = compartment
    self.namespace = namespace
    self.operation = operation
    self.resourceName = resourceName
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
    switch statement.subject {
    case .anyUser: break
    case .groups(let groups):
      let member = groups.contains { group in
        request.groups.contains { $0.lowercased() == group.lowercased() }
      }
      if !member {
        lacks.append(
          (
            .subject,
            "it is for group \(groups.joined(separator: ", ")), and \(request.user) is in "
              + (request.groups.isEmpty ? "no group" : request.groups.joined(separator: ", "))
          ))
      }
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

  /// Whether a condition holds; a variable the request has no value for satisfies nothing.
  public static func holds(_ condition: IAMCondition, _ request: IAMRequest) -> Bool {
    func values(_ variable: String) -> [String]? {
      switch variable {
      case "request.permission": [request.permission]
      case "request.operation": request.operation.map { [$0] }
      case "request.user.name": [request.user]
      case "request.groups.name": request.groups
      case "target.compartment.name": request.compartment.last.map { [$0] }
      case "target.resource.name": request.resourceName.map { [$0] }
      case "target.security-attribute-namespace.name": request.namespace.map { [$0] }
      default: nil
      }
    }
    func same(_ a: String, _ b: String, _ variable: String) -> Bool {
      // Names compare without regard to case, as the catalog's names do; permissions and
      // operations are exact.
      variable.hasPrefix("request.permission") || variable == "request.operation"
        ? a == b : a.lowercased() == b.lowercased()
    }
    switch condition {
    case .equals(let variable, let value, _):
      return values(variable)?.contains { same($0, value, variable) } ?? false
    case .notEquals(let variable, let value, _):
      guard let values = values(variable) else { return false }
      return !values.contains { same($0, value, variable) }
    case .all(let clauses): return clauses.allSatisfy { holds($0, request) }
    case .any(let clauses): return clauses.contains { holds($0, request) }
    }
  }
}
