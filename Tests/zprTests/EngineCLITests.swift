import Foundation
import Testing

@Suite("zpr analyze, test and bench engine")
struct EngineCLITests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let threeTier = root.appendingPathComponent("examples/tenancies/three-tier.yaml").path

  @Test func analyzeJSONHasTheStatusAndEveryLayersCode() throws {
    let result = try ZPRProcess.run([
      "analyze", "--tenancy", Self.threeTier, "--from", "app-1", "--to", "db-1", "--protocol",
      "tcp", "--port", "5432", "--bidirectional", "--format", "json",
    ])
    #expect(result.exitCode == 0, "\(result.standardError)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(json["status"] as? String == "REACHABLE")
    #expect(json["returnStatus"] as? String == "REACHABLE")
    let hops = try #require(json["forward"] as? [[String: Any]])
    let actions = hops.flatMap { ($0["layers"] as? [[String: Any]]) ?? [] }.compactMap {
      $0["action"] as? String
    }
    #expect(actions == ["ALLOWED", "ZPR_ALLOWED", "ALLOWED", "ALLOWED", "ZPR_ALLOWED"])
    let zpr = hops.flatMap { ($0["layers"] as? [[String: Any]]) ?? [] }.first {
      $0["layer"] as? String == "ZPR"
    }
    #expect(zpr?["policy"] as? String == "three-tier")
    #expect(zpr?["statement"] as? Int == 1)
  }

  @Test func analyzeTextExplainsADenial() throws {
    let result = try ZPRProcess.run([
      "analyze", "--tenancy", Self.threeTier, "--from", "web-1", "--to", "db-1", "--protocol",
      "tcp", "--port", "5432",
    ])
    #expect(result.exitCode == 0)
    #expect(result.standardOutput.hasPrefix("UNREACHABLE: web-1"))
    #expect(result.standardOutput.contains("ZPR egress: ZPR_DENIED"))
    #expect(result.standardOutput.contains("a statement that would allow it:"))
  }

  @Test func analyzeRejectsAnUnknownEndWithAGuess() throws {
    let result = try ZPRProcess.run([
      "analyze", "--tenancy", Self.threeTier, "--from", "web1", "--to", "db-1", "--protocol",
      "tcp", "--port", "5432",
    ])
    #expect(result.exitCode == 2)
    #expect(result.standardError.contains("did you mean 'web-1'?"))
    #expect(result.standardError.contains("[ZPR-ANALYZE-001]"))
  }

  @Test func testPassesTheExampleAndFailsABrokenExpectation() throws {
    let passing = try ZPRProcess.run(["test", Self.threeTier])
    #expect(passing.exitCode == 0, "\(passing.standardOutput)")
    #expect(passing.standardOutput.hasSuffix("5 tests, 5 passed, 0 failed\n"))

    let scratch = try Scratch()
    let text = try String(contentsOfFile: Self.threeTier, encoding: .utf8)
      .replacingOccurrences(
        of: "{from: web-1, to: app-1, protocol: tcp, port: 8080, expect: allow}",
        with: "{from: web-1, to: app-1, protocol: tcp, port: 8081, expect: allow}")
    let broken = try scratch.file("broken.yaml", text)
    let failing = try ZPRProcess.run(["test", broken])
    #expect(failing.exitCode == 1)
    #expect(failing.standardOutput.contains("FAIL tests[0] web-1 -> app-1 tcp/8081"))
    #expect(failing.standardOutput.contains("expected allow, but the flow is UNREACHABLE"))
    #expect(failing.standardOutput.contains("statements that nearly allow it:"))
  }

  @Test func aTenancyWithErrorsIsRefused() throws {
    let scratch = try Scratch()
    let file = try scratch.file(
      "bad.yaml", "instances:\n  - {name: x, vnics: [{subnet: nowhere/none, ip: 10.0.0.1}]}\n")
    let result = try ZPRProcess.run([
      "analyze", "--tenancy", file, "--from", "x", "--to", "x", "--protocol", "icmp",
    ])
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("[ZPR-CLI-007]"))
  }

  @Test func matrixListsTheTiersAndTheirGrants() throws {
    let text = try ZPRProcess.run(["matrix", "--tenancy", Self.threeTier])
    #expect(text.exitCode == 0)
    #expect(text.standardOutput.contains("G1 -> G2: tcp/8080 (policy 'three-tier' statement 0)"))
    let csv = try ZPRProcess.run(["matrix", "--tenancy", Self.threeTier, "--format", "csv"])
    #expect(
      csv.standardOutput
        == "from,to,protocol,ports,icmpType,icmpCode,policy,statement,stateful\n"
        + "web-1/0,app-1/0,tcp,8080-8080,,,three-tier,0,true\n"
        + "app-1/0,db-1/0,tcp,5432-5432,,,three-tier,1,true\n")
    let json = try ZPRProcess.run(["matrix", "--tenancy", Self.threeTier, "--format", "json"])
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect((object["groups"] as? [Any])?.count == 3)
    #expect((object["cells"] as? [Any])?.count == 2)
  }

  @Test func diffShowsWhatANewPolicyFileChanges() throws {
    let scratch = try Scratch()
    let policy = try scratch.file(
      "new.zpl",
      """
      in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'
      in network.vcn:prod VCN allow app.tier:app endpoints to connect to app.tier:db endpoints with protocol='tcp/5433'

      """)
    let result = try ZPRProcess.run(["diff", "--tenancy", Self.threeTier, "--policies", policy])
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(
      result.standardOutput
        == """
        what-if: 1 pair of endpoint groups change
          app-1/0 -> db-1/0:
            gains tcp/5433 (policy 'new' statement 1)
            loses tcp/5432 (policy 'three-tier' statement 1)

        """)
    let broken = try scratch.file(
      "broken.zpl",
      "in network.vcn:prod VCN allow app.tier:wbe endpoints to connect to app.tier:db endpoints\n")
    let refused = try ZPRProcess.run(["diff", "--tenancy", Self.threeTier, "--policies", broken])
    #expect(refused.exitCode == 1)
    #expect(refused.standardError.contains("[ZPR-CLI-008]"))
    let neither = try ZPRProcess.run(["diff", "--tenancy", Self.threeTier])
    #expect(neither.exitCode == 2)
  }

  static let hub = root.appendingPathComponent("examples/tenancies/hub.yaml").path
  static let ops = root.appendingPathComponent("examples/tenancies/three-tier-ops.zpl").path

  /// hub.yaml: a statement lets dev-web-1 reach tools-1 on tcp/443, but the shared VCN has no
  /// route back to dev. The forward path is REACHABLE; with the replies, the headline is not.
  @Test func bidirectionalHeadlineIsUnreachableWhenTheRepliesCannotComeBack() throws {
    let query = [
      "analyze", "--tenancy", Self.hub, "--from", "dev-web-1", "--to", "tools-1", "--protocol",
      "tcp", "--port", "443",
    ]
    let forward = try ZPRProcess.run(query)
    #expect(forward.exitCode == 0, "\(forward.standardError)")
    #expect(forward.standardOutput.hasPrefix("REACHABLE: dev-web-1 "))

    let both = try ZPRProcess.run(query + ["--bidirectional"])
    #expect(both.exitCode == 0, "\(both.standardError)")
    let headline = String(both.standardOutput.prefix { $0 != "\n" })
    #expect(headline.hasPrefix("UNREACHABLE: dev-web-1 "), "\(headline)")
    #expect(
      headline.hasSuffix(
        "; the flow gets there (forward path REACHABLE) but its replies do not get back "
          + "(return path UNREACHABLE)"))
    #expect(both.standardOutput.contains("\nreturn path (UNREACHABLE):\n"))

    // The JSON keeps each path's own status.
    let json = try ZPRProcess.run(query + ["--bidirectional", "--format", "json"])
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect(object["status"] as? String == "REACHABLE")
    #expect(object["returnStatus"] as? String == "UNREACHABLE")

    // A round trip that works keeps its headline.
    let working = try ZPRProcess.run([
      "analyze", "--tenancy", Self.threeTier, "--from", "app-1", "--to", "db-1", "--protocol",
      "tcp", "--port", "5432", "--bidirectional",
    ])
    #expect(working.standardOutput.hasPrefix("REACHABLE: app-1 "))
    #expect(!working.standardOutput.contains("replies do not get back"))
  }

  @Test func diffAddsPoliciesBesideTheTenancysOwn() throws {
    let result = try ZPRProcess.run(["diff", "--tenancy", Self.threeTier, "--add", Self.ops])
    #expect(result.exitCode == 0, "\(result.standardError)")
    #expect(
      result.standardOutput
        == """
        what-if: 1 pair of endpoint groups change
          app-1/0 -> web-1/0:
            gains tcp/9100 (policy 'three-tier-ops' statement 0)

        """)
    // Replacing the policies by the same file loses the tenancy's own grants instead.
    let replaced = try ZPRProcess.run([
      "diff", "--tenancy", Self.threeTier, "--policies", Self.ops,
    ])
    #expect(replaced.standardOutput.contains("loses tcp/8080 (policy 'three-tier' statement 0)"))
    #expect(
      replaced.standardOutput.contains("gains tcp/9100 (policy 'three-tier-ops' statement 0)"))

    // A file named like a policy the tenancy has cannot be added beside it.
    let scratch = try Scratch()
    let same = try scratch.file(
      "three-tier.zpl", try String(contentsOfFile: Self.ops, encoding: .utf8))
    let refused = try ZPRProcess.run(["diff", "--tenancy", Self.threeTier, "--add", same])
    #expect(refused.exitCode == 2)
    #expect(
      refused.standardError
        == "zpr: error: --add \(same): \(Self.threeTier) already has a policy named 'three-tier' "
        + "(a file's policy is named after the file): rename the file, or give it with "
        + "--policies to replace the policies [ZPR-CLI-009]\n")
    // With --policies, --add adds beside the replacements.
    let replacement = try scratch.file(
      "new.zpl",
      """
      in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'
      in network.vcn:prod VCN allow app.tier:app endpoints to connect to app.tier:db endpoints with protocol='tcp/5433'

      """)
    let both = try ZPRProcess.run([
      "diff", "--tenancy", Self.threeTier, "--policies", replacement, "--add", Self.ops,
    ])
    #expect(both.exitCode == 0, "\(both.standardError)")
    #expect(
      both.standardOutput
        == """
        what-if: 2 pairs of endpoint groups change
          app-1/0 -> db-1/0:
            gains tcp/5433 (policy 'new' statement 1)
            loses tcp/5432 (policy 'three-tier' statement 1)
          app-1/0 -> web-1/0:
            gains tcp/9100 (policy 'three-tier-ops' statement 0)

        """)
    let against = try ZPRProcess.run([
      "diff", "--tenancy", Self.threeTier, "--add", Self.ops, "--against", Self.threeTier,
    ])
    #expect(against.exitCode == 2)
  }

  @Test func aTenancyFileAndAServerTogetherAreRefused() throws {
    for arguments in [
      ["matrix", "--tenancy", Self.threeTier, "--server", "http://127.0.0.1:1"],
      ["test", Self.threeTier, "--server", "http://127.0.0.1:1"],
      ["diff", "--tenancy", Self.threeTier, "--add", Self.ops, "--server", "http://127.0.0.1:1"],
    ] {
      let result = try ZPRProcess.run(arguments)
      #expect(result.exitCode == 2, "\(arguments)")
      #expect(result.standardError.contains("or --server URL, not both"), "\(result.standardError)")
    }
  }

  @Test func benchEngineRunsSmall() throws {
    let result = try ZPRProcess.run([
      "bench", "engine", "--endpoints", "300", "--statements", "40", "--flows", "2000",
      "--reference-flows", "200", "--analyses", "100", "--matrix-endpoints", "300", "--format",
      "json",
    ])
    #expect(result.exitCode == 0, "\(result.standardError)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(json["endpoints"] as? Double == 300)
    #expect(json["statements"] as? Double == 40)
    #expect(json["referenceAgreement"] as? Double == 1)
    for key in ["compiled", "reference", "hashBaseline"] {
      let rate = (json[key] as? [String: Any])?["decisionsPerSecond"] as? Double
      #expect((rate ?? 0) > 0, "\(key)")
    }
  }
}
