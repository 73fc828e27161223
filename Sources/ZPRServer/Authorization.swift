import Foundation
import Hummingbird
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// Who made a request: the API key's user and groups, and the key's id.
public struct Caller: Hashable, Sendable {
  public var user: String
  public var groups: [String]
  /// The id of the API key the request came with (nil: the server itself).
  public var keyID: String?

  /// A caller.
  public init(user: String, groups: [String], keyID: String? = nil) {
    self.user = user
    self.groups = groups
    self.keyID = keyID
  }

  /// Who the audit trail names for this caller's changes: `key/ID/USER` (the key and its
  /// user), so that a change is traced to the key that made it.
  public var actor: String { keyID.map { "key/\($0)/\(user)" } ?? user }

  /// The user and key of an audit record's actor (`key/ID/USER`, or a plain name).
  public static func parse(actor: String) -> (user: String, keyID: String?) {
    guard actor.hasPrefix("key/") else { return (actor, nil) }
    let parts = actor.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3 else { return (actor, nil) }
    return (String(parts[2]), String(parts[1]))
  }
}

/// Where a request's target is, for IAM: its compartment (from the root), the namespace of a
/// security attribute, its name, and for groups and users the group and user it is about.
struct Target: Hashable, Sendable {
  var compartment: [String] = []
  var namespace: String?
  var name: String?
  /// `target.group.name`: the group itself, or the groups a user is (or is put) in.
  var groups: [String]?
  /// `target.user.name`.
  var user: String?
}

/// What deciding a call needs of the tenancy, read per revision without loading all of it:
/// the IAM policies, groups and API keys, where compartments and VCNs are, and the default
/// namespace.
struct Access: Sendable {
  var evaluator: IAMEvaluator
  /// The groups (`/v1/groups`) of each member.
  var memberships: [String: [String]]
  /// The groups each user's API keys name, together.
  var keyGroups: [String: [String]]
  /// Each compartment's parent (nil: the root).
  var parents: [String: String?]
  /// Each VCN's compartment.
  var vcnCompartments: [String: String?]
  var defaultNamespace: String

  /// From the records of the kinds it needs.
  init(records: [ResourceRecord]) {
    evaluator = IAMEvaluator(policies: IAMPolicyStatements.policies(records))
    memberships = [:]
    keyGroups = [:]
    parents = [:]
    vcnCompartments = [:]
    defaultNamespace = "oracle-zpr"
    for record in records {
      let body = { record.element }
      switch record.kind {
      case ResourceSchema.group.kind:
        for member in body()["members"]?.array?.compactMap(\.string) ?? [] {
          memberships[member, default: []].append(record.name)
        }
      case APIKeys.kind:
        let key = APIKeys.owner(of: record)
        keyGroups[key.user, default: []] += key.groups
      case ResourceSchema.compartment.kind: parents[record.name] = body()["parent"]?.string
      case ResourceSchema.vcn.kind: vcnCompartments[record.name] = body()["compartment"]?.string
      case ResourceSchema.configurationKind:
        defaultNamespace = body()["defaultNamespace"]?.string ?? defaultNamespace
      default: break
      }
    }
  }

  /// From a tenancy (one a change would make), with the API keys of today (a tenancy file
  /// holds no keys).
  init(tenancy: Tenancy, keyGroups: [String: [String]]) {
    evaluator = IAMEvaluator(policies: tenancy.iamPolicies)
    memberships = [:]
    for group in tenancy.groups {
      for member in group.members { memberships[member, default: []].append(group.name) }
    }
    self.keyGroups = keyGroups
    parents = Dictionary(
      tenancy.compartments.map { ($0.name, $0.parent) }, uniquingKeysWith: { first, _ in first })
    vcnCompartments = Dictionary(
      tenancy.vcns.map { ($0.name, $0.compartment) }, uniquingKeysWith: { first, _ in first })
    defaultNamespace = tenancy.defaultNamespace
  }

  /// The kinds ``init(records:)`` reads.
  static let kinds = [
    ResourceSchema.iamPolicy.kind, ResourceSchema.group.kind, APIKeys.kind,
    ResourceSchema.compartment.kind, ResourceSchema.vcn.kind, ResourceSchema.configurationKind,
  ]

  /// A user's groups: those of their API keys (each user is one principal, whichever key they
  /// use) and those that list them as a member.
  func groups(of caller: Caller) -> [String] {
    groups(ofUser: caller.user, besides: caller.groups)
  }

  /// A user's groups, with some more.
  func groups(ofUser user: String, besides more: [String] = []) -> [String] {
    Array(Set(more + (keyGroups[user] ?? []) + (memberships[user] ?? []))).sorted()
  }

  /// Every user a key or a group names.
  var users: Set<String> { Set(keyGroups.keys).union(memberships.keys) }

  /// The compartment path (from the root) of a compartment name, through its parents.
  func path(of compartment: String?) -> [String] {
    guard let compartment else { return [] }
    var path = [compartment]
    var current = compartment
    while let parent = parents[current] ?? nil, !path.contains(parent) {
      path.insert(parent, at: 0)
      current = parent
    }
    return path
  }

  /// Where a stored record is, for IAM.
  func target(of record: ResourceRecord) -> Target {
    guard let kind = ResourceSchema.named(record.kind) else {
      if record.kind == APIKeys.kind {
        let user = APIKeys.owner(of: record).user
        return Target(name: user, groups: groups(ofUser: user), user: user)
      }
      return Target(name: record.name)
    }
    let body =
      (kind.field("compartment") != nil) || (kind.field("parent") != nil)
      ? record.element : .object([])
    return target(kind: kind, name: record.name, parent: record.parent, body: body)
  }

  /// Where an element is, for IAM: its compartment, its namespace, or for a group the group.
  func target(kind: ResourceSchema, name: String, parent: String?, body: JSONValue) -> Target {
    switch kind.kind {
    case ResourceSchema.namespace.kind: return Target(namespace: name, name: name)
    case ResourceSchema.attribute.kind: return Target(namespace: parent, name: name)
    case ResourceSchema.group.kind: return Target(name: name, groups: [name])
    case ResourceSchema.compartment.kind:
      return Target(compartment: path(of: body["parent"]?.string), name: name)
    default:
      if kind.parent?.kind == ResourceSchema.vcn.kind {
        let compartment = vcnCompartments[parent ?? ""] ?? nil
        return Target(compartment: path(of: compartment), name: name)
      }
      return Target(compartment: path(of: body["compartment"]?.string), name: name)
    }
  }
}

/// Decides every call by the stored IAM policies (`/v1/iamPolicies`), kept compiled per
/// revision. A denial names the permission that is missing and a statement that would grant
/// it, and nothing about what the caller cannot see.
struct Authorizer: Sendable {
  let snapshots: Snapshots

  /// Whether the caller has the permission on the target.
  func allows(_ caller: Caller, _ permission: String, _ target: Target, operation: String)
    async throws -> Bool
  {
    let access = try await snapshots.access()
    return Self.allows(caller, permission, target, operation: operation, in: access)
  }

  /// Whether the caller has the permission on the target, by the policies of `access`.
  static func allows(
    _ caller: Caller, _ permission: String, _ target: Target, operation: String? = nil,
    in access: Access
  ) -> Bool {
    access.evaluator.decide(request(caller, permission, target, operation: operation, in: access))
      .isAllowed
  }

  /// The IAM request of a call: who, which permission, and the condition variables' values.
  static func request(
    _ caller: Caller, _ permission: String, _ target: Target, operation: String? = nil,
    in access: Access
  ) -> IAMRequest {
    var request = IAMRequest(
      user: caller.user, groups: access.groups(of: caller), permission: permission,
      compartment: target.compartment, namespace: target.namespace, operation: operation,
      resourceName: target.name)
    request.targetGroups = target.groups
    request.targetUser = target.user
    return request
  }

  /// Whether the caller may inspect a stored record (one they may not is invisible to them).
  static func inspects(_ caller: Caller, _ record: ResourceRecord, in access: Access) -> Bool {
    let permission =
      ResourceSchema.named(record.kind)?.permission("INSPECT")
      ?? (record.kind == APIKeys.kind ? "USER_INSPECT" : "ZPR_CONFIGURATION_INSPECT")
    return allows(caller, permission, access.target(of: record), in: access)
  }

  /// Throws 403 unless the caller has the permission on the target.
  func require(_ caller: Caller, _ permission: String, _ target: Target, operation: String)
    async throws
  {
    guard try await !allows(caller, permission, target, operation: operation) else { return }
    let groups = try await snapshots.access().groups(of: caller)
    throw Self.forbidden(Caller(user: caller.user, groups: groups), permission, target)
  }

  static func forbidden(_ caller: Caller, _ permission: String, _ target: Target) -> APIError {
    let verb = PermissionCatalog.verb(granting: permission)?.rawValue ?? "manage"
    let type = PermissionCatalog.type(of: permission)?.name ?? "all-resources"
    let place =
      target.compartment.isEmpty
      ? "tenancy" : "compartment " + target.compartment.joined(separator: ":")
    let group = caller.groups.first.map { $0.contains(" ") ? "'\($0)'" : $0 } ?? "GROUP"
    var statement = "Allow group \(group) to \(verb) \(type) in \(place)"
    if let namespace = target.namespace, type == "security-attribute-namespace" {
      statement += " where target.security-attribute-namespace.name='\(namespace)'"
    } else if verb == "manage", permission.hasSuffix("_UPDATE") {
      // The one permission, not all of manage (as the seed advises for VCN_UPDATE).
      statement += " where request.permission='\(permission)'"
    }
    return APIError(
      .forbidden, "ZPR-API-021",
      "\(caller.user) may not do this: it takes \(permission)"
        + (target.namespace.map { " on namespace '\($0)'" } ?? "")
        + (target.compartment.isEmpty ? "" : " in \(place)")
        + ", which no IAM policy grants to \(caller.groups.isEmpty ? "them" : "group " + caller.groups.joined(separator: ", ")); "
        + "an administrator can add a statement such as: \(statement)")
  }
}

/// IAM policies as a resource: `/v1/iamPolicies` (`description`, `statements`); their bodies
/// are checked by ``PolicyStatements/iam``.
enum IAMPolicyStatements {
  /// The statements of stored IAM policy records, parsed.
  static func policies(_ records: [ResourceRecord]) -> [IAMPolicy] {
    records.filter { $0.kind == ResourceSchema.iamPolicy.kind }.sorted { $0.name < $1.name }.map {
      record in
      let body = record.element
      let texts = body["statements"]?.array?.compactMap(\.string) ?? []
      return IAMPolicy(
        name: record.name, description: body["description"]?.string ?? "",
        statements: texts.compactMap { IAMParser().parseStatement($0).statement })
    }
  }
}
