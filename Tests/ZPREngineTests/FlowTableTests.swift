import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

@Suite("Flow table")
struct FlowTableTests {
  static let tenancy: Tenancy = {
    let loaded = TenancyFile.load(SourceFile(path: "lab.yaml", text: lab))
    precondition(!loaded.hasErrors)
    return loaded.tenancy
  }()

  static func address(_ text: String) -> IPAddress { IPAddress(text)! }

  @Test func repliesOfStatefulFlowsPassAndStatelessOnesDoNot() {
    let policy = CompiledPolicy(Topology(Self.tenancy))
    var table = FlowTable()
    let web = Self.address("10.0.1.10")
    let db = Self.address("10.0.3.10")
    let query = Flow(.tcp, from: web, to: db, port: 5432)
    #expect(table.packet(query, policy: policy) == .new(StatementID(policy: 0, statement: 0)))
    #expect(table.packet(query, policy: policy) == .established)
    #expect(table.packet(query.reply, policy: policy) == .reply)
    #expect(table.count == 1)
    // The same ends on another source port are another flow.
    let second = Flow(.tcp, from: web, sourcePort: 50000, to: db, port: 5432)
    #expect(table.packet(second, policy: policy) == .new(StatementID(policy: 0, statement: 0)))
    #expect(table.count == 2)
    // A stateless statement: the flow passes, its replies need a statement of their own.
    let syslog = Flow(.udp, from: web, to: db, port: 514)
    #expect(table.packet(syslog, policy: policy).passes)
    #expect(!table.packet(syslog.reply, policy: policy).passes)
    // The database may not open a connection to the web tier.
    #expect(!table.packet(Flow(.tcp, from: db, to: web, port: 5432), policy: policy).passes)
  }

  @Test func aRecompileCutsTheFlowsThatLostPermission() {
    var table = FlowTable()
    let before = CompiledPolicy(Topology(Self.tenancy))
    let web = Self.address("10.0.1.10")
    let db = Self.address("10.0.3.10")
    let tools = Self.address("10.1.1.10")
    let database = Flow(.tcp, from: web, to: db, port: 5432)
    let https = Flow(.tcp, from: web, to: tools, port: 443)
    #expect(table.packet(database, policy: before).passes)
    #expect(table.packet(https, policy: before).passes)
    var changed = Self.tenancy
    changed.policies[0].statements.remove(at: 0)
    let after = CompiledPolicy(Topology(changed))
    #expect(table.recompiled(with: after) == 1)
    #expect(table.count == 1)
    #expect(!table.packet(database.reply, policy: after).passes)
    #expect(!table.packet(database, policy: after).passes)
    #expect(table.packet(https, policy: after) == .established)
  }

  /// After a random change, the flows that survive a recompile are exactly those the
  /// reference allows under the new policies.
  @Test func survivorsAreWhatTheReferenceAllows() {
    var sampling = Sampling(seed: 31)
    var random = SplitMix64(seed: 32)
    var cut = 0
    for _ in 0..<60 {
      let old = sampling.tenancy()
      let new = PolicyDiffTests.changed(old, random: &random)
      var table = FlowTable()
      let before = CompiledPolicy(Topology(old))
      for flow in sampling.flows(in: old, count: 80) { _ = table.packet(flow, policy: before) }
      let tracked = table.entries.keys
      cut += table.recompiled(with: CompiledPolicy(Topology(new)))
      let reference = ZPRSemantics(Topology(new))
      for flow in tracked {
        #expect(
          (table.entries[flow] != nil) == reference.decide(flow, mode: .enforce).allowed, "\(flow)")
      }
    }
    #expect(cut > 20, "only \(cut) flows were cut")
  }
}
