import Foundation
import Hummingbird
import ZPRStore

/// `/v1/agents`: what each enforcement agent last reported (the revision it enforces, its
/// status, and the flows its host denied). Reports are kept in the store, so that every replica
/// lists them and they outlive a restart; they are not part of the tenancy's history (no
/// revision, no audit record).
struct AgentRoutes {
  let authorizer: Authorizer
  let store: any Store

  func add(to router: Router<ZPRRequestContext>) {
    // An agent reads the whole tenancy (export); reporting back takes the same standing.
    router.put("/v1/agents/:host") { request, context in
      try await authorizer.require(
        context.caller, "ZPR_CONFIGURATION_READ", Target(), operation: "ReportAgent")
      let host = try context.parameters.require("host")
      let object = try await ResourceRoutes.jsonObject(
        request, allowed: ["revision", "status", "statements", "elements", "cut", "denied"])
      guard object["revision"] is Int else {
        throw object["revision"] == nil
          ? APIError.missingField("revision")
          : APIError.wrongType("revision", "the revision the agent enforces (a number)")
      }
      guard let status = object["status"] as? String,
        ["enforcing", "failClosed", "error"].contains(status)
      else {
        throw APIError.wrongType("status", "enforcing, failClosed or error")
      }
      guard let denied = (object["denied"] ?? [[String: Any]]()) as? [[String: Any]] else {
        throw APIError.wrongType("denied", "a list of denied flows")
      }
      var report = object
      report["host"] = host
      report["denied"] = Array(denied.prefix(1000))
      let now = Date()
      report["timeReported"] = ZPRServer.timestamp(now)
      try await store.putAgentReport(host: host, report: TenancyDocument.json(report), time: now)
      return Response(status: .noContent)
    }
    router.get("/v1/agents") { _, context in
      try await authorizer.require(
        context.caller, "ZPR_CONFIGURATION_READ", Target(), operation: "ListAgents")
      let reports = try await store.agentReports()
      return try ZPRServer.json(["items": reports.compactMap { ZPRServer.parse($0.report) }])
    }
  }
}
