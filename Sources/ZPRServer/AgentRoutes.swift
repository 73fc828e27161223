import Foundation
import Hummingbird
import ZPRModel
import ZPRPolicy
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
      try await store.putAgentReport(host: host, report: TenancyDocument.body(report), time: Date())
      return Response(status: .noContent)
    }
    router.get("/v1/agents") { request, context in
      try await authorizer.require(
        context.caller, "ZPR_AGENT_INSPECT", Target(), operation: "ListAgents")
      let query = Query(request)
      let limit = try query.integer("limit", in: 1...1000) ?? 100
      let reports = try await store.agentReports(after: query.string("page"), limit: limit)
      return try ZPRServer.json(
        Page(
          items: reports.compactMap { try? JSONValue.parse($0.report) },
          nextPage: reports.count == limit ? reports.last?.host : nil))
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
    let count = owner.map { $0.element["vnics"]?.array?.count ?? 0 }
    let index = parts.count == 2 ? Int(parts[1]) : 0
    guard let count, let index, index >= 0, index < count else {
      throw APIError(
        .notFound, "ZPR-API-040",
        "'\(host.prefix(100))' is not a VNIC of the tenancy: an agent reports as the host it "
          + "enforces for, a resource's name (its first VNIC) or NAME/N")
    }
  }

  /// A report, checked: every field of the right type and within its bounds.
  static func report(_ object: JSONValue, host: String, revision current: Int64) throws
    -> AgentReport
  {
    guard let revision = object["revision"]?.int else {
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
    guard let status = object["status"]?.string,
      ["enforcing", "failClosed", "error"].contains(status)
    else {
      throw APIError.wrongType("status", "enforcing, failClosed or error")
    }
    func count(_ field: String) throws -> Int? {
      guard let value = object[field] else { return nil }
      guard let number = value.int, (0...100_000_000).contains(number) else {
        throw APIError.wrongType(field, "a whole number from 0 to 100000000")
      }
      return number
    }
    guard let flows = (object["denied"] ?? .array([])).array, flows.count <= deniedLimit else {
      throw APIError.wrongType("denied", "a list of at most \(deniedLimit) denied flows")
    }
    return AgentReport(
      cut: try count("cut"),
      denied: try flows.enumerated().map { index, flow in try Self.flow(flow, at: index) },
      elements: try count("elements"), host: host, revision: revision,
      statements: try count("statements"), status: status,
      timeReported: ZPRServer.timestamp(Date()))
  }

  /// One denied flow of a report: `direction`, `peer`, `host`, `protocol`, `port`, `reason`.
  static func flow(_ value: JSONValue, at index: Int) throws -> JSONValue {
    let field = "denied[\(index)]"
    guard let object = value.objectMembers else {
      throw APIError.wrongType(field, "an object")
    }
    var flow = JSONValue.object([])
    for (key, value) in object {
      switch key {
      case "direction", "peer", "host", "protocol", "reason":
        guard let text = value.string, text.count <= 200,
          text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
          throw APIError.wrongType("\(field).\(key)", "a line of at most 200 characters")
        }
        flow.set(key, .string(text))
      case "port":
        guard let port = value.int, (0...65535).contains(port) else {
          throw APIError.wrongType("\(field).port", "a port from 0 to 65535")
        }
        flow.set(key, .int(port))
      default:
        throw APIError.unknownField(
          "\(field).\(key)", allowed: ["direction", "peer", "host", "protocol", "port", "reason"])
      }
    }
    return flow
  }
}

/// An agent's report as the server keeps and lists it (its members in key order).
struct AgentReport: Codable {
  var cut: Int?
  /// The flows the agent denied lately (`direction`, `peer`, `host`, `protocol`, `port`,
  /// `reason`), each checked.
  var denied: [JSONValue]
  var elements: Int?
  var host: String
  var revision: Int
  var statements: Int?
  var status: String
  var timeReported: String
}
