import Testing
import ZPREngine
import ZPRModel
import ZPRPolicy

@Suite("Reachability matrix")
struct MatrixTests {
  /// Every cell says what the reference allows between every pair of endpoints it covers, and
  /// a pair with a protected end and no cell is one the reference denies.
  @Test func agreesWithTheReferenceForEveryPair() {
    var sampling = Sampling(seed: 5)
    var pairs = 0
    var granted = 0
    for _ in 0..<40 {
      let tenancy = sampling.tenancy()
      let topology = Topology(tenancy)
      let compiled = CompiledPolicy(topology)
      let matrix = ReachabilityMatrix(compiled, topology: topology)
      let semantics = ZPRSemantics(topology)
      var groupOf: [Int: Int] = [:]
      for (index, group) in matrix.groups.enumerated() {
        for endpoint in group.endpoints { groupOf[endpoint] = index }
      }
      var cells: [[Int]: [Grant]] = [:]
      for cell in matrix.cells { cells[[cell.from, cell.to]] = cell.grants }
      let ports =
        [22, 80, 443, 5432] + sampling.flows(in: tenancy, count: 10).map(\.destinationPort)
      for (from, source) in topology.endpoints.enumerated() {
        for (to, destination) in topology.endpoints.enumerated() {
          for port in ports {
            let flow = Flow(.tcp, from: source.ips[0], to: destination.ips[0], port: port)
            let decision = semantics.decide(flow, mode: .enforce)
            guard decision.applies else { continue }
            let grants = cells[[groupOf[from]!, groupOf[to]!]] ?? []
            let grant = grants.first { $0.transport == "tcp" && $0.ports?.contains(port) == true }
            #expect(grant?.statement == decision.statement, "\(flow)")
            pairs += 1
            if grant != nil { granted += 1 }
          }
        }
      }
    }
    #expect(pairs > 10_000)
    #expect(granted > 100, "only \(granted) granted pairs among \(pairs)")
  }

  @Test func theExampleGroupsItsTiers() {
    let loaded = TenancyFile.load(SourceFile(path: "lab.yaml", text: lab))
    let topology = Topology(loaded.tenancy)
    let matrix = ReachabilityMatrix(CompiledPolicy(topology), topology: topology)
    let web = matrix.groups.firstIndex { $0.names.contains("web-1/0") }!
    let db = matrix.groups.firstIndex { $0.names.contains("db-1/0") }!
    let cell = matrix.cells.first { $0.from == web && $0.to == db }
    #expect(cell?.grants.map(\.description).sorted() == ["tcp/5432", "udp/514"])
    // locked-1 carries app.role:web in the same VCN: statements cannot tell it from web-1.
    #expect(matrix.groups[web].names.contains("locked-1/0"))
  }
}
