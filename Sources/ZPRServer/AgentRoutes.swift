import Foundation
import Hummingbird
import Synchronization

/// `/v1/agents`: what each enforcement agent last reported (the revision it enforces, its
/// status, and the flows its host denied). Reports are kept in this server's memory, not in
/// the store: they change every few seconds and are not part of the tenancy's history.
struct AgentRoutes {
  let authorizer: Authorizer
  let reports = AgentReports()

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
      report["timeReported"] = ZPRServer.timestamp(Date())
      reports.set(host, report)
      return Response(status: .noContent)
    }
    router.get("/v1/agents") { _, context in
      try await authorizer.require(
        context.caller, "ZPR_CONFIGURATION_READ", Target(), operation: "ListAgents")
      return try ZPRServer.json(["items": reports.all()])
    }
  }
}

/// The last report of each agent, by host, kept as its JSON text.
final class AgentReports: Sendable {
  private let reports = Mutex<[String: String]>([:])

  func set(_ host: String, _ report: [String: Any]) {
    let text = TenancyDocument.json(report)
    reports.withLock { $0[host] = text }
  }

  func all() -> [Any] {
    let texts = reports.withLock { reports in reports.keys.sorted().map { reports[$0]! } }
    return texts.compactMap { ZPRServer.parse($0) }
  }
}
