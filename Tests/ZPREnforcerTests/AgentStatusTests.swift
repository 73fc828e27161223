import Foundation
import Testing
import ZPREnforcer

/// The status file an agent of a tenancy file writes (`zpr agent --status-file`) and `zpr lab`
/// reads: its digest, its JSON, its atomic replacement. No root needed.
@Suite("An agent's status file")
struct AgentStatusTests {
  @Test func theDigestIsFNV1a64OfTheText() {
    // The published FNV-1a 64 values of "" and "a".
    #expect(AgentStatus.digest(of: "") == "fnv1a64:cbf29ce484222325")
    #expect(AgentStatus.digest(of: "a") == "fnv1a64:af63dc4c8601ec8c")
    #expect(AgentStatus.digest(of: "tcp/8080") != AgentStatus.digest(of: "tcp/8081"))
    #expect(AgentStatus.digest(of: "ü").count == "fnv1a64:".count + 16)
  }

  @Test func aWrittenStatusReadsBackAndReplacesTheOldOneWithoutLeftovers() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-status-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("web-1.json").path
    #expect(AgentStatus.read(from: path) == nil)

    let first = AgentStatus(
      host: "web-1", digest: AgentStatus.digest(of: "one"),
      enforcedAt: Date(timeIntervalSince1970: 1_800_000_000), pid: 42)
    try first.write(to: path)
    #expect(AgentStatus.read(from: path) == first)
    let second = AgentStatus(
      host: "web-1", digest: AgentStatus.digest(of: "two"),
      enforcedAt: Date(timeIntervalSince1970: 1_800_000_001), pid: 42)
    try second.write(to: path)
    #expect(AgentStatus.read(from: path) == second)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["web-1.json"])

    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains(#""enforcedAt":"2027-01-15T08:00:01Z""#), "\(text)")
    #expect(text.contains(#""host":"web-1""#))
  }

  @Test func somethingElseIsNoStatus() throws {
    #expect(AgentStatus.decoded(Data("{}".utf8)) == nil)
    #expect(AgentStatus.decoded(Data("not json".utf8)) == nil)
    #expect(AgentStatus.decoded(Data(#"{"host":"a","digest":"d","pid":1}"#.utf8)) == nil)
  }

  @Test func aFolderThatIsMissingIsAnError() {
    let status = AgentStatus(host: "web-1", digest: "d", enforcedAt: Date(), pid: 1)
    #expect(throws: (any Error).self) {
      try status.write(to: "/nonexistent-zpr-folder/web-1.json")
    }
  }
}
