import Foundation
import Hummingbird
import ZPRIAM
import ZPRModel
import ZPRPolicy
import ZPRStore

/// Who made a request: the API key's user and groups.
public struct Caller: Hashable, Sendable {
  public var user: String
  public var groups: [String]
}

/// Where a request's target is, for IAM: its compartment (from the root), the namespace of a
/// security attribute, its name.
struct Target: Hashable, Sendable {
  var compartment: [String] = []
  var namespace: String?
  var name: String?
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
    let evaluator = try await snapshots.iam()
    return evaluator.decide(
      IAMRequest(
        user: caller.user, groups: caller.groups, permission: permission,
        compartment: target.compartment, namespace: target.namespace, operation: operation,
        resourceName: target.name)
    ).isAllowed
  }

  /// Throws 403 unless the caller has the permission on the target.
  func require(_ caller: Caller, _ permission: String, _ target: Target, operation: String)
    async throws
  {
    guard try await !allows(caller, permission, target, operation: operation) else { return }
    throw Self.forbidden(caller, permission, target)
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

  /// The compartment path (from the root) of a compartment name, through its parents.
  static func path(of compartment: String?, in tenancy: Tenancy) -> [String] {
    guard let compartment else { return [] }
    var path = [compartment]
    var seen: Set<String> = [compartment]
    var current = compartment
    while let parent = tenancy.compartments.first(where: { $0.name == current })?.parent,
      !seen.contains(parent)
    {
      path.insert(parent, at: 0)
      seen.insert(parent)
      current = parent
    }
    return path
  }
}

/// IAM policies as a resource: `/v1/iamPolicies` (`description`, `statements`), each statement
/// checked as `zpr iam check` checks it.
enum IAMPolicyStatements {
  static func check(_ object: [String: Any]) throws {
    guard object["description"] is String else {
      throw APIError.wrongType("description", "a string")
    }
    guard let statements = object["statements"] as? [Any], statements.allSatisfy({ $0 is String })
    else { throw APIError.wrongType("statements", "a list of IAM statements (strings)") }
    var details: [[String: String]] = []
    for (index, text) in statements.map({ $0 as! String }).enumerated() {
      let (statement, diagnostics) = IAMParser().parseStatement(text)
      for diagnostic in diagnostics where diagnostic.severity == .error {
        var detail = [
          "statement": String(index), "code": diagnostic.code.rawValue,
          "message": diagnostic.message, "column": String(diagnostic.range.lowerBound + 1),
        ]
        if let suggestion = diagnostic.suggestion { detail["suggestion"] = suggestion }
        details.append(detail)
      }
      if statement == nil, diagnostics.isEmpty {
        details.append(["statement": String(index), "message": "the statement is empty"])
      }
    }
    guard details.isEmpty else {
      throw APIError(
        .badRequest, "ZPR-API-020",
        "\(details.count == 1 ? "an IAM statement has an error" : "IAM statements have \(details.count) errors"): "
          + "see details, fix them and send the policy again", details: details)
    }
  }

  /// The statements of stored IAM policy records, parsed.
  static func policies(_ records: [ResourceRecord]) -> [IAMPolicy] {
    records.filter { $0.kind == ResourceKind.iamPolicy.kind }.sorted { $0.name < $1.name }.map {
      record in
      let body = ZPRServer.parse(record.body) as? [String: Any] ?? [:]
      let texts = body["statements"] as? [String] ?? []
      return IAMPolicy(
        name: record.name,
        statements: texts.compactMap { IAMParser().parseStatement($0).statement })
    }
  }
}
