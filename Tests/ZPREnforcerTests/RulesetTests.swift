import Foundation
import Testing
import ZPREnforcer
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Rulesets")
struct RulesetTests {
  static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden")

  static func ruleset(_ tenancy: Tenancy, _ host: String) throws -> HostRuleset {
    try EnforcedTenancy(tenancy).ruleset(for: host)
  }

  /// The rendered text of the three-tier example's hosts, exactly (regenerate with
  /// `swift run zpr agent --print --tenancy examples/tenancies/three-tier.yaml --host NAME`).
  @Test(arguments: ["app-1", "web-1", "db-1"])
  func theThreeTierRulesetsReadAsWritten(host: String) throws {
    let path = Self.golden.deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("examples/tenancies/three-tier.yaml").path
    let tenancy = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8))
    ).tenancy
    let text = NFTRenderer.render(try Self.ruleset(tenancy, host))
    let expected = try String(
      contentsOf: Self.golden.appendingPathComponent("three-tier-\(host).nft"), encoding: .utf8)
    #expect(text == expected)
  }

  @Test func anUnknownHostIsNamedWithTheNearestOne() {
    let error = #expect(throws: EnforcerError.self) {
      try Self.ruleset(TenancyFixtures.threeTier(), "web1")
    }
    #expect(error?.code == .unknownHost)
    #expect(
      error?.message.contains("did you mean 'web-1'?") == true, "\(String(describing: error))")
  }

  /// For random tenancies and flows, the kernel's verdict read off the rulesets (the source
  /// host's output, then the destination host's input) is the reference semantics' decision,
  /// and the statement counted is the one the reference names.
  @Test func rulesetsDecideAsTheReferenceSemantics() throws {
    var random = SplitMix64(seed: 7)
    var compared = 0
    var allowed = 0
    var denied = 0
    var audited = 0
    var auditDenied = 0
    var ipv6Hosts = 0
    var allowedV6 = 0
    for round in 0..<150 {
      var generator = TenancyGenerator(seed: random.next())
      var size = TenancyGenerator.Size(
        namespaces: Int.random(in: 1...2, using: &random), attributesPerNamespace: 2,
        vcns: Int.random(in: 1...3, using: &random), subnetsPerVCN: 2,
        resources: Int.random(in: 2...10, using: &random),
        policies: Int.random(in: 1...4, using: &random))
      // A third of the tenancies have IPv6 subnets beside IPv4 ones, a third only IPv6 ones.
      size.ipv6Share = [0, 0.5, 1][round % 3]
      let tenancy = generator.tenancy(size)
      let topology = Topology(tenancy)
      let enforced = EnforcedTenancy(tenancy)
      let compiled = enforced.enforce
      let reference = ZPRSemantics(topology)
      var rulesets: [IPAddress: HostRuleset] = [:]
      for endpoint in topology.endpoints {
        let ruleset = try enforced.ruleset(for: endpoint.name)
        for ip in endpoint.ips where rulesets[ip] == nil { rulesets[ip] = ruleset }
      }
      ipv6Hosts += rulesets.keys.filter { $0.family == .v6 }.count
      let addresses =
        rulesets.keys.sorted()
        + ["8.8.8.8", "10.0.0.1", "192.168.4.4", "2001:db8::1", "fd00:0:1::9"].map {
          IPAddress($0)!
        }
      var ports = [0, 1, 22, 80, 443, 5432, 65535]
      for statement in tenancy.policies.flatMap(\.statements) {
        for range in statement.filters.transport?.ports ?? [] {
          ports += [range.lower, range.upper, range.lower - 1, range.upper + 1].filter {
            (0...65535).contains($0)
          }
        }
      }
      // Every ordered pair of addresses, each with a few flows.
      var flows: [Flow] = []
      for source in addresses {
        // A flow joins two addresses of one family.
        for destination in addresses
        where source != destination && source.family == destination.family {
          for _ in 0..<3 {
            switch Int.random(in: 0..<4, using: &random) {
            case 0, 1:
              flows.append(
                Flow(
                  .tcp, from: source, to: destination, port: ports.randomElement(using: &random)!))
            case 2:
              flows.append(
                Flow(
                  .udp, from: source, to: destination, port: ports.randomElement(using: &random)!))
            default:
              flows.append(
                Flow(
                  icmpFrom: source, to: destination,
                  type: [0, 3, 8].randomElement(using: &random)!,
                  code: Int.random(in: 0...1, using: &random)))
            }
          }
        }
      }
      // And what the statements grant, at the edges of each grant, between endpoints they join.
      for pair in compiled.signaturePairs {
        let sources = addresses.filter { compiled.signatures(at: $0).source == pair.source }
        let destinations = addresses.filter {
          compiled.signatures(at: $0).destination == pair.destination
        }
        for _ in 0..<3 {
          guard let source = sources.randomElement(using: &random),
            let destination = destinations.filter({ $0.family == source.family }).randomElement(
              using: &random), source != destination
          else { continue }
          for grant in compiled.grants(from: pair.source, to: pair.destination) {
            if let ports = grant.ports, let transport = FlowProtocol(rawValue: grant.transport) {
              for port in [ports.lowerBound, ports.upperBound, ports.upperBound + 1]
              where port <= 65535 {
                flows.append(Flow(transport, from: source, to: destination, port: port))
              }
            } else {
              flows.append(
                Flow(
                  icmpFrom: source, to: destination, type: grant.icmpType ?? 8,
                  code: grant.icmpCode ?? 0))
            }
          }
        }
      }
      for flow in flows {
        let expected = reference.decide(flow, mode: .enforce)
        let out = rulesets[flow.source].map { $0.statement(for: flow, inbound: false) } ?? "outside"
        let into =
          rulesets[flow.destination].map { $0.statement(for: flow, inbound: true) } ?? "outside"
        let passes = out != nil && into != nil
        #expect(passes == expected.allowed, "\(flow): \(out ?? "drop") / \(into ?? "drop")")
        if let statement = expected.statement, expected.allowed {
          let name = "s\(statement.policy)_\(statement.statement)"
          for verdict in [out, into] where verdict != "unprotected" && verdict != "outside" {
            #expect(verdict == name, "\(flow)")
          }
        }
        // Audit mode: what the rulesets would record is what audit mode denies.
        if enforced.audit != nil {
          let auditPasses =
            (rulesets[flow.source]?.auditAllows(flow, inbound: false) ?? true)
            && (rulesets[flow.destination]?.auditAllows(flow, inbound: true) ?? true)
          #expect(auditPasses == reference.decide(flow, mode: .audit).allowed, "audit \(flow)")
          audited += 1
          if !auditPasses { auditDenied += 1 }
        }
        compared += 1
        if expected.statement != nil { allowed += 1 }
        if expected.statement != nil, flow.source.family == .v6 { allowedV6 += 1 }
        if !expected.allowed { denied += 1 }
      }
    }
    // The sample reaches both outcomes, so the agreement above means something.
    #expect(allowed > 200, "only \(allowed) flows a statement allowed, among \(compared)")
    #expect(denied > 1000, "only \(denied) denied flows among \(compared)")
    #expect(auditDenied > 500, "only \(auditDenied) audit-denied flows among \(audited)")
    #expect(ipv6Hosts > 50, "only \(ipv6Hosts) IPv6 hosts")
    print("rulesets: \(compared) flows, \(ipv6Hosts) IPv6 hosts, \(allowedV6) IPv6 flows allowed")
    #expect(allowedV6 > 50, "only \(allowedV6) IPv6 flows a statement allowed")
  }

  /// A change that only moves who a statement reaches is applied as element updates in one
  /// transaction; one that changes the statements replaces the table.
  @Test func elementChangesAreAppliedAsElementUpdates() async throws {
    let backend = FakeFirewallBackend()
    let reconciler = Reconciler(backend: backend)
    var tenancy = TenancyFixtures.threeTier()
    #expect(try await reconciler.enforce(Self.ruleset(tenancy, "app-1")) == .applied)
    #expect(await reconciler.lastChange == .table)
    // A second web server: app-1 lets it in on 8080, by the same statement.
    var web2 = tenancy.resources.first { $0.name == "web-1" }!
    web2.name = "web-2"
    web2.vnics[0].ips = [TenancyFixtures.address("10.0.1.11")]
    tenancy.resources.append(web2)
    let grown = try Self.ruleset(tenancy, "app-1")
    #expect(try await reconciler.enforce(grown) == .applied)
    #expect(await reconciler.lastChange == .elements)
    let update = try #require(backend.applied.last)
    #expect(update.updatesElementsOnly)
    #expect(
      update.text.split(separator: "\n").allSatisfy {
        $0.hasPrefix("add element inet zpr ingress4 {")
          || $0.hasPrefix("delete element inet zpr ingress4 {")
      }, "\(update.text)")
    #expect(
      update.operations.contains {
        guard case .addElements(_, "ingress4", let elements) = $0 else { return false }
        return elements.contains { $0.key.contains("10.0.1.11") }
      })
    // The table it left is the new ruleset's (elements in any order).
    #expect(
      try #require(backend.table).sortingElements
        == NFTRenderer.table(for: grown).withoutComments.sortingElements)
    #expect(try await reconciler.enforce(grown) == .unchanged)
    // Dropping a statement changes the chains: the table is replaced.
    tenancy.policies[0].statements.removeLast()
    #expect(try await reconciler.enforce(Self.ruleset(tenancy, "app-1")) == .applied)
    #expect(await reconciler.lastChange == .table)
  }

  @Test func theReconcilerAppliesOnceRepairsDriftAndKeepsTheLastRulesetOnFailure() async throws {
    let backend = FakeFirewallBackend()
    let reconciler = Reconciler(backend: backend)
    #expect(try await reconciler.failClosed(host: "web-1") == .applied)
    #expect(backend.table?.chain(named: "input")?.hook?.policy == "drop")
    let tenancy = TenancyFixtures.threeTier()
    let web = try Self.ruleset(tenancy, "web-1")
    #expect(try await reconciler.enforce(web) == .applied)
    #expect(try await reconciler.enforce(web) == .unchanged)
    #expect(backend.applied.count == 2)
    #expect(backend.checks == 2)
    // Someone deletes an element behind the agent's back: it is put back.
    backend.tamper { table in
      table.updateMap(named: "egress4") {
        $0.elements = $0.elements.map { NFTElement(key: $0.key, value: "accept") }
      }
    }
    #expect(try await reconciler.enforce(web) == .repaired)
    #expect(backend.applied.count == 3)
    // Someone removes the table.
    try await backend.deleteTable()
    #expect(try await reconciler.enforce(web) == .repaired)
    // A ruleset nft refuses leaves the last one in force.
    var changed = tenancy
    changed.policies[0].statements.removeFirst()
    let smaller = try Self.ruleset(changed, "web-1")
    backend.fail(with: EnforcerError(.rulesetRefused, "refused"))
    await #expect(throws: EnforcerError.self) { try await reconciler.enforce(smaller) }
    #expect(await reconciler.current == web)
    backend.fail(with: nil)
    // The established connection the change revokes is cut; one it keeps is not.
    let web1 = TenancyFixtures.address("10.0.1.10")
    let revoked = Flow(
      .tcp, from: web1, sourcePort: 40000, to: TenancyFixtures.address("10.0.2.10"), port: 8080)
    let unrelated = Flow(
      .tcp, from: TenancyFixtures.address("10.0.9.9"), sourcePort: 40000,
      to: TenancyFixtures.address("10.0.3.10"), port: 5432)
    backend.connections = [revoked, unrelated]
    #expect(try await reconciler.enforce(smaller) == .applied)
    #expect(await reconciler.current == smaller)
    #expect(await reconciler.cut == 1)
    #expect(backend.connections == [unrelated])
  }
}

/// The typed nftables model: tables and transactions as the backends take them.
@Suite("The typed nftables model")
struct NFTModelTests {
  static func ruleset(_ tenancy: Tenancy, _ host: String) throws -> HostRuleset {
    try EnforcedTenancy(tenancy).ruleset(for: host)
  }

  /// The three-tier example with one more web server (not next to web-1's address, which
  /// would merge into one range): app-1's ruleset grows by elements only.
  static func grown() -> Tenancy {
    var tenancy = TenancyFixtures.threeTier()
    var web2 = tenancy.resources.first { $0.name == "web-1" }!
    web2.name = "web-2"
    web2.vnics[0].ips = [TenancyFixtures.address("10.0.1.20")]
    tenancy.resources.append(web2)
    return tenancy
  }

  @Test func aTableListsAsItsTransactionDefinesIt() throws {
    let table = NFTRenderer.table(for: try Self.ruleset(TenancyFixtures.threeTier(), "app-1"))
    let text = NFTTransaction.replacing(table).text
    // The transaction: the comment, create-if-missing, delete, the definition.
    #expect(text.hasPrefix("# zpr: the ruleset of app-1"))
    #expect(text.contains("table inet zpr\ndelete table inet zpr\ntable inet zpr {\n"))
    // Its listing is the definition without comments, which the kernel does not keep.
    #expect(table.listing.hasPrefix("table inet zpr {\n  counter s0_0 {"))
    #expect(!table.listing.contains("#"))
    #expect(NFTTransaction.replacing(table.withoutComments).text.hasSuffix(table.listing + "\n"))
    #expect(text.contains("  # s0_0: "))
    #expect(
      table.map(named: "ingress4")?.elements.map(\.description) == [
        "10.0.1.10 . 10.0.2.10 . tcp . 8080 : jump s0_0"
      ])
    #expect(
      table.chain(named: "input")?.hook?.description
        == "type filter hook input priority filter; policy drop;")
  }

  /// Two tables that differ in map elements alone differ by element updates (deletions first);
  /// a chain, a rule or a counter more and they do not.
  @Test func onlyElementChangesBecomeElementUpdates() throws {
    let before = NFTRenderer.table(for: try Self.ruleset(TenancyFixtures.threeTier(), "app-1"))
    let after = NFTRenderer.table(for: try Self.ruleset(Self.grown(), "app-1"))
    let update = try #require(before.elementUpdate(to: after))
    #expect(update.updatesElementsOnly)
    #expect(
      update.operations == [
        .addElements(
          table: "inet zpr", map: "ingress4",
          [NFTElement(key: "10.0.1.20 . 10.0.2.10 . tcp . 8080", value: "jump s0_0")])
      ], "\(update.text)")
    let back = try #require(after.elementUpdate(to: before))
    #expect(
      back.operations.allSatisfy {
        if case .deleteElements(_, _, let keys) = $0 {
          keys == ["10.0.1.20 . 10.0.2.10 . tcp . 8080"]
        } else {
          false
        }
      })
    #expect(before.elementUpdate(to: before) == NFTTransaction())
    var changed = after
    changed.updateChain(named: "input") { $0.rules.append("accept") }
    #expect(before.elementUpdate(to: changed) == nil)
    var counted = after
    counted.objects.insert(.counter(NFTCounter("extra")), at: 0)
    #expect(before.elementUpdate(to: counted) == nil)
    // A comment is not the kernel's: it does not stand in the way.
    var commented = after
    commented.comment = "another comment"
    #expect(before.elementUpdate(to: commented) == update)
  }

  /// The fake keeps objects as the kernel would: a transaction whole or not at all, an element
  /// added twice with another verdict or deleted when missing refused, the generation raised
  /// by each commit only.
  @Test func theFakeBackendKeepsTablesAsTheKernelWould() async throws {
    let backend = FakeFirewallBackend()
    let before = NFTRenderer.table(for: try Self.ruleset(TenancyFixtures.threeTier(), "app-1"))
    let after = NFTRenderer.table(for: try Self.ruleset(Self.grown(), "app-1"))
    let start = try #require(try await backend.generation())
    try await backend.apply(.replacing(before))
    #expect(backend.table == before.withoutComments)
    #expect(try await backend.generation() == start + 1)
    try await backend.check(try #require(before.elementUpdate(to: after)))
    #expect(try await backend.generation() == start + 1)
    try await backend.apply(try #require(before.elementUpdate(to: after)))
    #expect(backend.table == after.withoutComments)
    #expect(try await backend.generation() == start + 2)
    // The same elements again change nothing; with another verdict they are refused, and the
    // transaction's first operation is undone with it.
    let key = "10.0.1.20 . 10.0.2.10 . tcp . 8080"
    try await backend.apply(
      NFTTransaction([
        .addElements(
          table: "inet zpr", map: "ingress4", [NFTElement(key: key, value: "jump s0_0")])
      ]))
    #expect(backend.table == after.withoutComments)
    let refused = NFTTransaction([
      .deleteElements(table: "inet zpr", map: "ingress4", keys: [key]),
      .addElements(
        table: "inet zpr", map: "ingress4",
        [NFTElement(key: "10.0.1.10 . 10.0.2.10 . tcp . 8080", value: "accept")]),
    ])
    await #expect(throws: EnforcerError.self) { try await backend.check(refused) }
    await #expect(throws: EnforcerError.self) { try await backend.apply(refused) }
    #expect(backend.table == after.withoutComments)
    let missing = NFTTransaction([
      .deleteElements(table: "inet zpr", map: "ingress4", keys: ["10.9.9.9 . 10.0.2.10 . tcp . 1"])
    ])
    await #expect(throws: EnforcerError.self) { try await backend.apply(missing) }
    #expect(backend.table == after.withoutComments)
    #expect(try await backend.generation() == start + 3)
  }

  /// Between changes the reconciler reads the generation, not the table: it reads the table
  /// once after a change (to compare with should someone else commit), then only when the
  /// generation moved; a commit elsewhere leaves it in force, one to its table is repaired.
  @Test func theCheckBetweenChangesReadsTheGenerationNotTheTable() async throws {
    let backend = FakeFirewallBackend()
    let reconciler = Reconciler(backend: backend)
    let ruleset = try Self.ruleset(TenancyFixtures.threeTier(), "app-1")
    #expect(try await reconciler.enforce(ruleset) == .applied)
    // A change as element updates reads no listing at all.
    let grown = try Self.ruleset(Self.grown(), "app-1")
    #expect(try await reconciler.enforce(grown) == .applied)
    #expect(await reconciler.lastChange == .elements)
    #expect(backend.listings == 0)
    #expect(try await reconciler.enforce(grown) == .unchanged)
    #expect(backend.listings == 1)
    for _ in 0..<3 { #expect(try await reconciler.enforce(grown) == .unchanged) }
    #expect(backend.listings == 1)
    // Another tool commits a table of its own: zpr's is read back, found intact, and left.
    let other = NFTTable(
      family: "inet", name: "other", objects: [.chain(NFTChain("c", rules: ["accept"]))])
    try await backend.apply(.replacing(other))
    let applies = backend.applied.count
    #expect(try await reconciler.enforce(grown) == .unchanged)
    #expect(backend.listings == 2)
    #expect(try await reconciler.enforce(grown) == .unchanged)
    #expect(backend.listings == 2)
    #expect(backend.applied.count == applies)
    // A change to zpr's table is drift: put back.
    backend.tamper { table in table.updateMap(named: "ingress4") { $0.elements = [] } }
    #expect(try await reconciler.enforce(grown) == .repaired)
    #expect(backend.table == NFTRenderer.table(for: grown).withoutComments)
    // Drift before the first check after a change (no listing to compare with yet): the table
    // is replaced, whatever the other commit was.
    #expect(try await reconciler.enforce(ruleset) == .applied)
    backend.tamper { _ in }
    #expect(try await reconciler.enforce(ruleset) == .repaired)
  }
}

extension NFTTable {
  /// The table with each map's elements in one order (the kernel keeps no order).
  var sortingElements: NFTTable {
    var copy = self
    for map in maps {
      copy.updateMap(named: map.name) { $0.elements.sort { $0.description < $1.description } }
    }
    return copy
  }
}
