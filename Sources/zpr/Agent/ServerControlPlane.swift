import Foundation
import ZPRClient
import ZPREnforcer
import ZPRModel
import ZPRPolicy

/// The zpr server as an agent's control plane, through the REST client: the tenancy is its
/// export, reports go to `PUT /v1/agents/HOST`, and new revisions come from the watch (a long
/// poll).
struct ServerControlPlane: AgentControlPlane {
  let client: APIClient
  /// The VNIC the agent enforces for, as it reports it.
  let host: String
  /// How long the watch waits for a new revision before it answers with the current one.
  var watchTimeout = 10

  /// The server's tenancy (its export) and the revision it is at.
  func tenancy() async throws -> (tenancy: Tenancy, revision: Int64) {
    // One request: the export says which revision it is of.
    let response = try await client.exchange("GET", "/v1/export")
    let revision = response.header("ZPR-Revision").flatMap { Int($0) } ?? 0
    let source = SourceFile(
      path: "the server's export", text: String(decoding: response.body, as: UTF8.self))
    let loaded = TenancyFile.load(source)
    guard !loaded.hasErrors else {
      throw CLIError(
        code: "ZPR-CLI-021",
        message: "the server's tenancy does not load here (is this zpr older than the server?): "
          + (loaded.diagnostics.first { $0.severity == .error }?.message ?? ""))
    }
    return (loaded.tenancy, Int64(revision))
  }

  func report(_ report: AgentReport) async throws {
    _ = try await client.exchange(
      "PUT", "/v1/agents/\(host)",
      body: ReportBody(
        revision: Int(report.revision), status: report.status.rawValue,
        statements: report.statements, elements: report.elements, cut: report.cut,
        denied: report.denied.map {
          ReportBody.Denied(
            direction: $0.direction, peer: $0.peer, host: $0.host, protocol: $0.transport,
            port: $0.port,
            reason: $0.audit
              ? "audit: no statement would match (accepted)" : "no statement matched")
        }))
  }

  /// `PUT /v1/agents/HOST`: what the agent enforces, and the flows it denied lately.
  struct ReportBody: Encodable {
    var revision: Int
    var status: String
    var statements: Int
    var elements: Int
    var cut: Int
    var denied: [Denied]

    struct Denied: Encodable {
      var direction: String
      var peer: String
      var host: String
      var `protocol`: String
      var port: Int?
      var reason: String
    }
  }

  /// `GET /v1/revision/watch`: the revision the tenancy is at.
  struct Watched: Decodable {
    var revision: Int64
  }

  func waitForRevision(after revision: Int64) async throws -> Int64 {
    return try await client.exchange(
      "GET", "/v1/revision/watch?after=\(revision)&timeout=\(watchTimeout)"
    ).decode(Watched.self).revision
  }
}
