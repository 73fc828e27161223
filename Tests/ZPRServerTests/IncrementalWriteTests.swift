import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRServer
import ZPRStore
import ZPRTesting

/// The oracle of the incremental write path: random sequences of single writes, valid and
/// invalid, sent to a server that checks each against its live tenancy and to one that checks
/// each against the whole tenancy it would leave. Every answer (status, code, each problem's
/// code, message and resource) and the state after every step are the same.
@Suite("Incremental writes against the whole-tenancy check")
struct IncrementalWriteTests {
  typealias API = PolicyAPITests

  /// A generated tenancy with policy tests that pass (their expectations are what the analyzer
  /// says of each flow), as a tenancy file.
  static func seed(_ seed: UInt64) -> String {
    var generator = TenancyGenerator(seed: seed)
    var tenancy = generator.tenancy(
      .init(
        namespaces: 3, attributesPerNamespace: 2, vcns: 2, subnetsPerVCN: 3, resources: 24,
        policies: 4))
    let analyzer = PathAnalyzer(tenancy)
    var random = SplitMix64(seed: seed)
    for number in 0..<6 {
      let from = tenancy.resources[Int(random.next() % UInt64(tenancy.resources.count))].name
      let to = tenancy.resources[Int(random.next() % UInt64(tenancy.resources.count))].name
      let port = [22, 443, 8080][Int(random.next() % 3)]
      guard from != to,
        let status = try? analyzer.analyze(
          PathQuery(from: from, to: to, transport: .tcp, port: port)
        ).status,
        status != .indeterminate
      else { continue }
      tenancy.tests.append(
        PolicyTest(
          name: "t\(number)", from: from, to: to, transport: .tcp, port: port,
          expect: status == .reachable ? .allow : .deny))
    }
    return TenancyFile.yaml(for: tenancy)
  }

  /// One request, as both servers get it.
  struct Step: CustomStringConvertible {
    var method: HTTPRequest.Method
    /// The path, with `{kind:name}` standing for the id of that resource on each server.
    var path: String
    var body: [String: Any]?
    var description: String { "\(method) \(path) \(body.map { "\($0)" } ?? "")" }
  }

  /// Two live servers share one database (two replicas: each write goes to one of them in
  /// turn, so each finds the other's commits and checks against them); a third server on a
  /// database of its own checks every write against the whole tenancy.
  @Test(arguments: RevisionWatchAPITests.kinds, [UInt64(3), 17, 29, 41, 53])
  func singleWritesAnswerAsTheWholeCheck(kind: String, seed: UInt64) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-oracle-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = try SQLiteStore(path: folder.appendingPathComponent("whole.sqlite").path)
    _ = try await APIKeys.bootstrap(whole, bootstrap: API.key)
    let wholeApp = Application(router: ZPRServer.router(store: whole, incrementalWrites: false))
    let tenancy = Self.seed(seed)
    try await RevisionWatchAPITests.withReplicas(kind) { first, second in
      _ = try await APIKeys.bootstrap(first, bootstrap: API.key)
      let firstApp = Application(router: ZPRServer.router(store: first))
      let secondApp = Application(router: ZPRServer.router(store: second))
      try await firstApp.test(.router) { firstClient in
        try await secondApp.test(.router) { secondClient in
          try await wholeApp.test(.router) { wholeClient in
            for client in [firstClient, wholeClient] as [any TestClientProtocol] {
              let applied = try await client.execute(
                uri: "/v1/apply", method: .post, headers: API.headers(),
                body: API.body(["tenancy": tenancy]))
              #expect(applied.status == .ok, "\(String(buffer: applied.body))")
            }
            var random = SplitMix64(seed: seed &* 7919)
            var accepted = 0
            var refused = 0
            for number in 0..<70 {
              let step = try await Self.step(number, &random, firstClient)
              let (liveStatus, liveBody) =
                number % 2 == 0
                ? try await Self.send(step, firstClient) : try await Self.send(step, secondClient)
              let (wholeStatus, wholeBody) = try await Self.send(step, wholeClient)
              #expect(liveStatus == wholeStatus, "\(step): \(liveBody) vs \(wholeBody)")
              #expect(
                Self.answer(liveBody) == Self.answer(wholeBody),
                "\(step):\n  live:  \(liveBody)\n  whole: \(wholeBody)")
              if liveStatus.code < 300 { accepted += 1 } else { refused += 1 }
              #expect(try await Self.state(first) == Self.state(whole), "after \(step)")
            }
            // Both kinds of answer were held to each other.
            #expect(accepted >= 10, "accepted \(accepted)")
            #expect(refused >= 10, "refused \(refused)")
          }
        }
      }
    }
  }

  @Test("single writes neither read nor check the whole tenancy")
  func singleWritesStayIncremental() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zpr-live-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = CountingStore(
      try SQLiteStore(path: folder.appendingPathComponent("zpr.sqlite").path))
    _ = try await APIKeys.bootstrap(store, bootstrap: API.key)
    let app = Application(router: ZPRServer.router(store: store))
    try await app.test(.router) { client in
      let applied = try await client.execute(
        uri: "/v1/apply", method: .post, headers: API.headers(),
        body: API.body(["tenancy": Self.seed(5)]))
      #expect(applied.status == .ok)
      // The first write reads the tenancy once, to build the live state.
      var (status, body) = try await Self.send(
        Step(method: .post, path: "/v1/compartments", body: ["name": "first"]), client)
      #expect(status == .created, "\(body)")
      let reads = store.allRecordsCalls
      let subnets = try await Self.items("subnets", client)
      let subnet = try #require(
        subnets.first { ($0["cidr"] as? String)?.hasSuffix(".0/24") == true })
      let prefix = (subnet["cidr"] as! String).dropLast(".0/24".count)
      for number in 0..<20 {
        (status, body) = try await Self.send(
          Step(
            method: .post, path: "/v1/instances",
            body: [
              "name": "more-\(number)",
              "vnics": [
                [
                  "subnet": "\(subnet["vcn"]!)/\(subnet["name"]!)",
                  "ip": "\(prefix).\(200 + number)",
                ]
              ],
            ]), client)
        #expect(status == .created, "\(body)")
      }
      (status, body) = try await Self.send(
        Step(method: .delete, path: "/v1/instances/{instances:more-3}"), client)
      #expect(status == .ok, "\(body)")
      #expect(store.allRecordsCalls == reads, "a single write read every record")
    }
  }

  /// What must agree between the two answers: the code and each problem (not ids or times).
  static func answer(_ body: [String: Any]) -> [String] {
    var answer = ["code=\(body["code"] ?? "")", "message=\(body["message"] ?? "")"]
    for detail in body["details"] as? [[String: Any]] ?? [] {
      answer.append(
        ["code", "message", "suggestion", "kind", "name", "statement", "test", "failure"]
          .map { "\($0)=\(detail[$0] ?? "")" }.joined(separator: " "))
    }
    if body["code"] == nil {
      answer.append("name=\(body["name"] ?? "")")
      answer.append("lifecycleState=\(body["lifecycleState"] ?? "")")
    }
    return answer.sorted()
  }

  /// The records without their ids and times.
  static func state(_ store: any Store) async throws -> [String] {
    try await store.allRecords().filter { $0.kind != APIKeys.kind }.map {
      "\($0.kind)|\($0.parent ?? "")|\($0.name)|\($0.lifecycleState)|\($0.body)|v\($0.version)"
    }.sorted()
  }

  static func send(_ step: Step, _ client: some TestClientProtocol) async throws -> (
    HTTPResponse.Status, [String: Any]
  ) {
    var path = step.path
    // `{kind:name}`: this server's id of that resource.
    while let open = path.range(of: "{"), let close = path.range(of: "}") {
      // `{kind:name}`, or `{kind:name@vcn}` for a part of a VCN.
      let reference = path[open.upperBound..<close.lowerBound].split(separator: ":")
      let (kind, named) = (String(reference[0]), reference[1].split(separator: "@"))
      let query = "name=\(named[0])" + (named.count > 1 ? "&vcn=\(named[1])" : "")
      let (_, listed) = try await send(
        Step(method: .get, path: "/v1/\(kind)?\(query)&limit=1"), client)
      let id = (listed["items"] as? [[String: Any]])?.first?["id"] as? String ?? "missing"
      path.replaceSubrange(open.lowerBound..<close.upperBound, with: id)
    }
    let response = try await client.execute(
      uri: path, method: step.method, headers: API.headers(), body: step.body.map(API.body))
    return (response.status, API.json(response))
  }

  /// The items of a collection on the live server.
  static func items(_ path: String, _ client: some TestClientProtocol) async throws
    -> [[String: Any]]
  {
    let (_, body) = try await send(Step(method: .get, path: "/v1/\(path)?limit=1000"), client)
    return body["items"] as? [[String: Any]] ?? []
  }

  /// A random write, valid or not, built from what the live server holds now.
  static func step(_ number: Int, _ random: inout SplitMix64, _ client: some TestClientProtocol)
    async throws -> Step
  {
    func pick<T>(_ items: [T]) -> T? {
      items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }
    func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
    let instances = try await items("instances", client)
    let subnets = try await items("subnets", client)
    let policies = try await items("zprPolicies", client)
    let tests = try await items("policyTests", client)
    func element(_ item: [String: Any]) -> [String: Any] {
      var element = item
      for key in ["id", "lifecycleState", "timeCreated", "timeUpdated"] { element[key] = nil }
      return element
    }
    switch random.next() % 10 {
    case 0, 1:
      // A new instance like another, at a nearby address (sometimes taken, or outside).
      guard var body = pick(instances).map(element) else { break }
      body["name"] = chance(15) ? (pick(instances)?["name"] ?? "x") : "new-\(number)"
      if var vnics = body["vnics"] as? [[String: Any]], !vnics.isEmpty {
        let ip = (vnics[0]["ip"] as? String) ?? (vnics[0]["ips"] as? [String])?.first ?? ""
        if !ip.contains(":"), let dot = ip.lastIndex(of: ".") {
          let last = chance(20) ? ip[ip.index(after: dot)...] : "\(2 + random.next() % 250)"
          vnics[0]["ip"] = String(ip[..<dot]) + "." + last
          vnics[0]["ips"] = nil
        }
        body["vnics"] = vnics
      }
      // Of one kind or another: a file lists resources by kind, and so does the check.
      let kind = ["instances", "databases", "loadBalancers", "privateEndpoints"][
        Int(random.next() % 4)]
      return Step(method: .post, path: "/v1/\(kind)", body: body)
    case 2:
      // Other attributes for an instance: another's, none, or one the catalog lacks.
      guard let instance = pick(instances) else { break }
      let attributes: Any =
        chance(25)
        ? ["ns0.nothing": "v"] : chance(30) ? [:] : (pick(instances)?["securityAttributes"] ?? [:])
      return Step(
        method: .patch, path: "/v1/instances/{instances:\(instance["name"]!)}",
        body: ["securityAttributes": attributes])
    case 3:
      guard let instance = pick(instances) else { break }
      return Step(method: .delete, path: "/v1/instances/{instances:\(instance["name"]!)}")
    case 4:
      // A subnet: removed (most are in use), or a new one that may overlap or fall outside.
      if chance(50), let subnet = pick(subnets) {
        return Step(
          method: .delete, path: "/v1/subnets/{subnets:\(subnet["name"]!)@\(subnet["vcn"]!)}")
      }
      guard let subnet = pick(subnets), let vcn = subnet["vcn"] as? String else { break }
      let cidr =
        chance(30)
        ? (subnet["cidr"] as? String ?? "")
        : "10.\(random.next() % 4).\(100 + random.next() % 50).0/24"
      return Step(
        method: .post, path: "/v1/subnets",
        body: ["name": "s-\(number)", "vcn": vcn, "cidr": cidr])
    case 5:
      // A policy's statements: another policy's, or one naming an attribute nobody has.
      guard let policy = pick(policies), let other = pick(policies) else { break }
      var statements = other["statements"] as? [String] ?? []
      if chance(30), !statements.isEmpty {
        statements[0] = statements[0].replacingOccurrences(of: "attr", with: "atr")
      }
      return Step(
        method: .patch, path: "/v1/zprPolicies/{zprPolicies:\(policy["name"]!)}",
        body: ["statements": statements])
    case 6:
      // A policy test with a random expectation: the tests decide.
      guard let from = pick(instances)?["name"], let to = pick(instances)?["name"] else { break }
      return Step(
        method: .post, path: "/v1/policyTests",
        body: [
          "name": "nt-\(number)", "from": from, "to": to, "protocol": "tcp",
          "port": [22, 443, 8080][Int(random.next() % 3)],
          "expect": chance(50) ? "allow" : "deny",
        ])
    case 7:
      guard let test = pick(tests) else { break }
      return Step(method: .delete, path: "/v1/policyTests/{policyTests:\(test["name"]!)}")
    case 8:
      // A renamed instance (its tests then name nothing), or one with a malformed VNIC.
      guard let instance = pick(instances) else { break }
      if chance(50) {
        return Step(
          method: .patch, path: "/v1/instances/{instances:\(instance["name"]!)}",
          body: ["name": "renamed-\(number)"])
      }
      return Step(
        method: .patch, path: "/v1/instances/{instances:\(instance["name"]!)}",
        body: ["vnics": [["subnet": "no-slash", "ip": "10.0.0.1"]]])
    default:
      // A network security group: a new one, or removing one (in use or not).
      if let subnet = pick(subnets), let vcn = subnet["vcn"] as? String, chance(60) {
        return Step(
          method: .post, path: "/v1/networkSecurityGroups",
          body: [
            "name": "g-\(number)", "vcn": vcn,
            "ingress": [["protocol": "tcp", "source": "10.0.0.0/8", "ports": "443"]],
          ])
      }
      let groups = try await items("networkSecurityGroups", client)
      guard let group = pick(groups) else { break }
      return Step(
        method: .delete,
        path: "/v1/networkSecurityGroups/{networkSecurityGroups:\(group["name"]!)@\(group["vcn"]!)}"
      )
    }
    return Step(method: .get, path: "/v1/revision")
  }
}
