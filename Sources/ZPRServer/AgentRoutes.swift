import Foundation
import Hummingbird
import ZPRModel
import ZPRStore

/// `/v1/agents`: what each enforcement agent last reported (the revision it enforces, its
/// status, and the flows its host denied). Reports are kept in the store, so that every replica
/// lists them and they outlive a restart; they are not part of the tenancy's history (no
/// revision, no audit record).
///
/// Agents authenticate as agents: reporting takes `ZPR_AGENT_UPDATE` on the host
/// (`use zpr-agents`, which a statement can narrow to one host with
/// `where target.resource.name='web-1'`). A report is checked field by field and bounded, and
/// only a host of the tenancy can report (so there are never more reports than VNICs, and those
/// of hosts taken out of service are removed with `DELETE /v1/agents/HOST`).
struct AgentRoutes {
  let store: any Store
  let snapshots: Snapshots

  private var authorizer: Authorizer { Authorizer(snapshots: snapshots) }

  /// The flows a report may list.
  static let deniedLimit = 1000

  func add(to router: Router<ZPRRequestContext>) {
    router.put("/v1/agents/:host") { request, context in
      let host = try context.parameters.require("host")
      try await authorizer.require(
        context.caller, "ZPR_AGENT_UPDATE", Target(name: host), operation: "ReportAgent")
      let object = try await RequestBody.object(
        request, allowed: ["revision", "status", "statements", "elements", "cut", "denied"],
        limit: 512 << 10)
      let snapshot = try await snapshots.snapshot()
      try Self.checkHost(host, in: snapshot.records)
      let report = try Self.report(object, host: host, revision: snapshot.revision)
      try await store.putAgentReport(host: host, report: TenancyDocument.json(report), time: Date())
      return Response(status: .noContent)
    }
    router.get("/v1/agents") { request, context in
      try await authorizer.require(
        context.caller, "ZPR_AGENT_INSPECT", Target(), operation: "ListAgents")
      let query = Query(request)
      let limit = try query.integer("limit", in: 1...1000) ?? 100
      let reports = try await store.agentReports(after: query.string("page"), limit: limit)
      var page: [String: Any] = ["items": reports.compactMap { ZPRServer.parse($0.report) }]
      if reports.count == limit, let last = reports.last { page["nextPage"] = last.host }
      return try ZPRServer.json(page)
    }
    router.delete("/v1/agents/:host") { _, context in
      let host = try context.parameters.require("host")
      try await authorizer.require(
        context.caller, "ZPR_AGENT_DELETE", Target(name: host), operation: "DeleteAgent")
      guard try await store.deleteAgentReport(host: host) else {
        throw APIError(
          .notFound, "ZPR-API-006",
          "no agent has reported for host '\(host.prefix(100))': list them (GET /v1/agents)")
      }
      return Response(status: .noContent)
    }
  }

  /// A host is a VNIC of the tenancy: a resource's name (its first VNIC) or `NAME/N`.
  static func checkHost(_ host: String, in records: [ResourceRecord]) throws {
    let parts = host.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    let name = String(parts[0])
    let owners = Set(ResourceSchema.owners.map(\.kind))
    let owner = records.first { owners.contains($0.kind) && $0.name == name }
    let count = owner.map {
      ((ZPRServer.parse($0.body) as? [String: Any])?["vnics"] as? [Any])?.count ?? 0
    }
    let index = parts.count == 2 ? Int(parts[1]) : 0
    guard let count, let index, index >= 0, index < count else {
      throw APIError(
        .notFound, "ZPR-API-040",
        "'\(host.prefix(100))' is not a VNIC of the tenancy: an agent reports as the host it "
          + "enforces for, a resource's name (its first VNIC) or NAME/N")
    }
  }

  /// A report, checked: every field of the right type and within its bounds.
  static func report(_ object: [String: Any], host: String, revision current: Int64) throws
    -> [String: Any]
  {
    guard let revision = RequestBody.integer(object["revision"]) else {
      throw object["revision"] == nil
        ? APIError.missingField("revision")
        : APIError.wrongType("revision", "the revision the agent enforces (a whole number)")
    }
    guard (0...current).contains(Int64(revision)) else {
      throw APIError(
        .badRequest, "ZPR-API-041",
        "revision \(revision) is not one of this server's (it is at \(current)): report the "
          + "revision the agent fetched")
    }
    guard let status = object["status"] as? String,
      ["enforcing", "failClosed", "error"].contains(status)
    else {
      throw APIError.wrongType("status", "enforcing, failClosed or error")
    }
    var report: [String: Any] = [
      "host": host, "revision": revision, "status": status,
      "timeReported": ZPRServer.timestamp(Date()),
    ]
    for field in ["statements", "elements", "cut"] {
      guard let value = object[field] else { continue }
      guard let number = RequestBody.integer(value), (0...100_000_000).contains(number) else {
        throw APIError.wrongType(field, "a whole number from 0 to 100000000")
      }
      report[field] = number
    }
    let denied = object["denied"] ?? [Any]()
    guard let flows = denied as? [Any], flows.count <= deniedLimit else {
      throw APIError.wrongType("denied", "a list of at most \(deniedLimit) denied flows")
    }
    report["denied"] = try flows.enumerated().map { index, flow in
      try Self.flow(flow, at: index)
    }
    return report
  }

  /// One denied flow of a report: `direction`, `peer`, `host`, `protocol`, `port`, `reason`.
  static func flow(_ value: Any, at index: Int) throws -> [String: Any] {
    let field = "denied[\(index)]"
    guard let object = value as? [String: Any] else {
      throw APIError.wrongType(field, "an object")
    }
    var flow: [String: Any] = [:]
    for (key, value) in object {
      switch key {
      case "direction", "peer", "host", "protocol", "reason":
        guard let text = value as? String, text.count <= 200,
          text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
          throw APIError.wrongType("\(field).\(key)", "a line of at most 200 characters")
        }
        flow[key] = text
      case "port":
        guard let port = RequestBody.integer(value), (0...65535).contains(port) else {
          throw APIError.wrongType("\(field).port", "a port from 0 to 65535")
        }
        flow[key] = port
      default:
        throw APIError.unknownField(
          "\(field).\(key)", allowed: ["direction", "peer", "host", "protocol", "port", "reason"])
      }
    }
    return flow
  }
}
