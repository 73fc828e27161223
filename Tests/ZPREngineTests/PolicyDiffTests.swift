import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("What-if diff")
struct PolicyDiffTests {
  /// A changed version: a statement dropped, one added with another port, and one resource's
  /// attribute switched between enforce and audit.
  static func changed(_ tenancy: Tenancy, random: inout SplitMix64) -> Tenancy {
    var new = tenancy
    if let policy = new.policies.indices.randomElement(using: &random),
      !new.policies[policy].statements.isEmpty
    {
      var copy = new.policies[policy].statements.randomElement(using: &random)!
      new.policies[policy].statements.removeFirst()
      copy.filters = Filters(
        transport: ProtocolFilter(
          transport: .tcp, ports: [PortRange(22, 22, range: SourceRange(0, 0))],
          range: SourceRange(0, 0)))
      new.policies[policy].statements.append(copy)
    }
    if let resource = new.resources.indices.randomElement(using: &random),
      !new.resources[resource].securityAttributes.isEmpty
    {
      let mode = new.resources[resource].securityAttributes[0].mode
      new.resources[resource].securityAttributes[0].mode = mode == .audit ? .enforce : .audit
    }
    return new
  }

  /// Every endpoint pair and port whose ZPR verdict changes appears in the diff (gained or lost),
  /// and everything the diff lists changes.
  @Test func agreesWithTheReferenceOnEveryPair() {
    var sampling = Sampling(seed: 77)
    var random = SplitMix64(seed: 78)
    var changedVerdicts = 0
    var checked = 0
    for _ in 0..<40 {
      let old = sampling.tenancy()
      let new = Self.changed(old, random: &random)
      let diff = PolicyDiff(old: old, new: new)
      let before = ZPRSemantics(Topology(old))
      let after = ZPRSemantics(Topology(new))
      let topology = Topology(old)
      for source in topology.endpoints {
        for destination in topology.endpoints {
          let changes = diff.changes.filter {
            $0.from.contains(source.name) && $0.to.contains(destination.name)
          }
          #expect(changes.count <= 1)
          for port in [22, 80, 443, 5432] {
            let flow = Flow(.tcp, from: source.ips[0], to: destination.ips[0], port: port)
            let was = before.decide(flow, mode: .enforce).allowed
            let now = after.decide(flow, mode: .enforce).allowed
            let gained =
              changes.first?.gained.contains {
                $0.transport == "tcp" && $0.ports?.contains(port) == true
              } ?? false
            let lost =
              changes.first?.lost.contains {
                $0.transport == "tcp" && $0.ports?.contains(port) == true
              } ?? false
            #expect(gained == (now && !was), "gained \(flow)")
            #expect(lost == (was && !now), "lost \(flow)")
            checked += 1
            if was != now { changedVerdicts += 1 }
          }
        }
      }
    }
    #expect(changedVerdicts > 100, "only \(changedVerdicts) of \(checked) verdicts changed")
  }

  @Test func aNewPortShowsAsGainedWithItsStatement() {
    let loaded = TenancyFile.load(SourceFile(path: "lab.yaml", text: lab))
    var new = loaded.tenancy
    new.policies[0].statements[0] = PolicyParser().parseStatement(
      "in network.vcn:prod VCN allow app.role:web endpoints to connect to app.role:db endpoints "
        + "with protocol='tcp/5433'"
    ).0!
    let diff = PolicyDiff(old: loaded.tenancy, new: new)
    let change = diff.changes.first { $0.from.contains("web-1/0") && $0.to.contains("db-1/0") }
    #expect(change?.gained.map(\.description) == ["tcp/5433"])
    #expect(change?.lost.map(\.description) == ["tcp/5432"])
    #expect(change?.gained.first?.statement == StatementID(policy: 0, statement: 0))
  }
}
