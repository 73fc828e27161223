import ArgumentParser
import Foundation
import ZPREngine
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// `zpr bench engine`: compile a large synthetic tenancy and measure decisions per second.
struct EngineBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "engine",
    abstract: "Compile a synthetic tenancy and measure ZPR decisions per second on one core.",
    discussion: """
      Measures, in one run and on the same flows: the compiled engine, the reference evaluator \
      (on a sample), and a bare dictionary lookup of the flows' destinations in a table of every \
      endpoint address (the floor any decision needs).
      """
  )

  @Option(help: "Endpoints (VNICs) in the tenancy.")
  var endpoints = 100_000

  @Option(help: "Statements in its policies.")
  var statements = 10_000

  @Option(help: "Flows decided per timed run of the compiled engine.")
  var flows = 1_000_000

  @Option(help: "Flows decided by the reference evaluator (it is slow on purpose).")
  var referenceFlows = 2_000

  @Option(help: "Path analyses timed (on the same flows).")
  var analyses = 2_000

  @Option(help: "Endpoints of the tenancy whose reachability matrix is timed.")
  var matrixEndpoints = 10_000

  @Option(help: "The seed of the generated tenancy and flows.")
  var seed: UInt64 = 42

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func validate() throws {
    guard endpoints >= 2, statements >= 1, flows >= 1, referenceFlows >= 1 else {
      throw ValidationError("--endpoints must be at least 2; the others at least 1")
    }
    guard endpoints <= 1_000_000 else {
      throw ValidationError("--endpoints can be at most 1000000 (200 VCNs of 5000)")
    }
  }

  func run() async throws {
    let workload = EngineWorkload(endpoints: endpoints, statements: statements, seed: seed)
    let topology = Topology(workload.tenancy)
    var compiled: CompiledPolicy?
    let compileTime = ContinuousClock().measure {
      compiled = CompiledPolicy(topology, mode: .enforce)
    }
    let engine = compiled!
    var random = SplitMix64(seed: seed &+ 1)
    let addresses = topology.endpoints.map { $0.ips[0] }
    // Half the flows are aimed at a statement (its roles and a port it names), so that the
    // engine meets as many allowed flows as denied ones.
    var byRole: [String: [IPAddress]] = [:]
    for endpoint in topology.endpoints {
      let zone = endpoint.vcn.flatMap { workload.tenancy.vcns[$0].securityAttributes.first?.value }
      for attribute in endpoint.attributes where attribute.key == "role" {
        byRole["\(attribute.value)@\(zone ?? "")", default: []].append(endpoint.ips[0])
      }
    }
    let all = workload.tenancy.policies.flatMap(\.statements)
    let sample: [Flow] = (0..<flows).map { _ in
      var source = addresses.randomElement(using: &random)!
      var destination = addresses.randomElement(using: &random)!
      if random.chance(0.5), let statement = all.randomElement(using: &random) {
        let (sourceZone, destinationZone) = ZPRSemantics.scopes(of: statement)
        if let role = statement.source.attribute?.value,
          let from = byRole["\(role)@\(sourceZone.value ?? "")"]
        {
          source = from.randomElement(using: &random)!
        }
        if let role = statement.destination.attribute?.value,
          let to = byRole["\(role)@\(destinationZone.value ?? "")"]
        {
          destination = to.randomElement(using: &random)!
        } else if case .address = statement.destination.kind {
          destination = IPAddress(v4: UInt32.random(in: 0x0B00_0000...0x0BFF_FFFF, using: &random))
        }
        switch statement.filters.transport?.transport {
        case .udp?: return Flow(.udp, from: source, to: destination, port: 53)
        case .icmp?, .icmp6?: return Flow(icmpFrom: source, to: destination)
        default:
          let port = statement.filters.transport?.ports.first?.lower ?? 443
          return Flow(.tcp, from: source, to: destination, port: port)
        }
      }
      switch Int.random(in: 0..<20, using: &random) {
      case 0: return Flow(.udp, from: source, to: destination, port: 53)
      case 1: return Flow(icmpFrom: source, to: destination)
      default:
        return Flow(
          .tcp, from: source, to: destination, port: workload.ports.randomElement(using: &random)!)
      }
    }
    var table: [IPAddress: Int] = [:]
    for (index, address) in addresses.enumerated() { table[address] = index }

    var allowed = 0
    let compiledRate = bestRate(count: sample.count) {
      allowed = 0
      for flow in sample where engine.decide(flow).statement != nil { allowed += 1 }
    }
    var found = 0
    let hashRate = bestRate(count: sample.count) {
      found = 0
      for flow in sample { found &+= table[flow.destination] ?? 0 }
    }
    let semantics = ZPRSemantics(topology)
    let referenceSample = Array(sample.prefix(referenceFlows))
    var agree = 0
    let referenceRate = bestRate(count: referenceSample.count, runs: 1) {
      agree = 0
      for flow in referenceSample
      where semantics.decide(flow, mode: .enforce) == engine.decide(flow) {
        agree += 1
      }
    }
    precondition(found != 0 || allowed >= 0)

    // One path analysis: the analyzer over the same tenancy, on the first flows.
    let analyzer = PathAnalyzer(workload.tenancy)
    var reachable = 0
    let analysisSample = Array(sample.prefix(analyses))
    let analysisTime = ContinuousClock().measure {
      for flow in analysisSample {
        // Addresses of the tenancy always resolve.
        guard let source = try? analyzer.resolve(flow.source.description),
          let destination = try? analyzer.resolve(flow.destination.description)
        else { continue }
        if analyzer.analyze(flow, source: source, destination: destination, bidirectional: false)
          .status == .reachable
        {
          reachable += 1
        }
      }
    }
    let analysisMicroseconds = seconds(analysisTime) * 1e6 / Double(max(1, analysisSample.count))

    // Incremental updates: one resource's attributes change, its endpoints are recompiled. The
    // first update pays for copying the shared tables once and is not counted.
    var updatedTopology = topology
    var updated = engine
    let roles = Set(workload.tenancy.resources.compactMap { $0.securityAttributes.first?.value })
      .sorted()
    func relabel() {
      let resource = Int.random(in: 0..<updatedTopology.tenancy.resources.count, using: &random)
      var attributes = updatedTopology.tenancy.resources[resource].securityAttributes
      if !attributes.isEmpty { attributes[0].value = roles.randomElement(using: &random)! }
      for endpoint in updatedTopology.setAttributes(attributes, ofResource: resource) {
        updated.update(updatedTopology.endpoints[endpoint], at: endpoint)
      }
    }
    relabel()
    let updateCount = 1_000
    let updateTime = ContinuousClock().measure { for _ in 0..<updateCount { relabel() } }
    let updateMicroseconds = seconds(updateTime) * 1e6 / Double(updateCount)

    // Replacing one policy: its statements move to other ports.
    func repolicy() {
      let index = Int.random(in: 0..<updatedTopology.tenancy.policies.count, using: &random)
      var policy = updatedTopology.tenancy.policies[index]
      for number in policy.statements.indices {
        guard var transport = policy.statements[number].filters.transport,
          !transport.ports.isEmpty
        else { continue }
        transport.ports = transport.ports.map {
          PortRange(($0.lower % 60000) + 1, ($0.upper % 60000) + 1, range: $0.range)
        }
        policy.statements[number].filters.transport = transport
      }
      updatedTopology.setPolicy(policy, at: index)
      updated.replacePolicy(at: index, in: updatedTopology)
    }
    repolicy()
    let policyCount = 100
    let policyTime = ContinuousClock().measure { for _ in 0..<policyCount { repolicy() } }
    let policyMicroseconds = seconds(policyTime) * 1e6 / Double(policyCount)

    // The matrix of a smaller tenancy with the same number of statements.
    let matrixWorkload = EngineWorkload(
      endpoints: matrixEndpoints, statements: statements, seed: seed)
    let matrixTopology = Topology(matrixWorkload.tenancy)
    let matrixCompiled = CompiledPolicy(matrixTopology)
    var cells = 0
    let matrixTime = ContinuousClock().measure {
      cells = ReachabilityMatrix(matrixCompiled, topology: matrixTopology).cells.count
    }
    let statistics = engine.statistics
    switch format {
    case .json:
      let json: JSONValue = .object([
        ("endpoints", .number(Double(topology.endpoints.count))),
        ("statements", .number(Double(workload.tenancy.statementCount))),
        ("compileSeconds", .number(seconds(compileTime))),
        ("compiled", .object([("decisionsPerSecond", .number(compiledRate))])),
        ("reference", .object([("decisionsPerSecond", .number(referenceRate))])),
        ("hashBaseline", .object([("decisionsPerSecond", .number(hashRate))])),
        ("allowedShare", .number(Double(allowed) / Double(sample.count))),
        ("referenceAgreement", .number(Double(agree) / Double(referenceSample.count))),
        ("pathAnalysisMicroseconds", .number(analysisMicroseconds)),
        ("resourceUpdateMicroseconds", .number(updateMicroseconds)),
        ("policyUpdateMicroseconds", .number(policyMicroseconds)),
        (
          "matrix",
          .object([
            ("endpoints", .number(Double(matrixTopology.endpoints.count))),
            ("seconds", .number(seconds(matrixTime))), ("cells", .number(Double(cells))),
          ])
        ),
        ("identityClasses", .number(Double(statistics.identityClasses))),
        ("signaturePairs", .number(Double(statistics.signaturePairs))),
        ("ruleSets", .number(Double(statistics.ruleSets))),
      ])
      writeOut(json.serialized() + "\n")
    case .text:
      func rate(_ value: Double) -> String { String(format: "%12.0f", value) }
      writeOut(
        """
        engine: \(topology.endpoints.count) endpoints, \(workload.tenancy.statementCount) statements \
        (\(statistics.identityClasses) identity classes, \(statistics.signaturePairs) signature \
        pairs, \(statistics.ruleSets) rule sets)
          compile          \(String(format: "%8.3f", seconds(compileTime))) s   (goal: under 1 s)
          compiled         \(rate(compiledRate)) decisions/s   (goal: 20,000,000)
          reference        \(rate(referenceRate)) decisions/s   (\(referenceSample.count) flows; \
        compiled is \(String(format: "%.0f", compiledRate / referenceRate))x, goal 100x)
          hash baseline    \(rate(hashRate)) lookups/s   (compiled takes \
        \(String(format: "%.1f", hashRate / compiledRate))x its time, goal within 3x)
          allowed          \(String(format: "%.1f", 100 * Double(allowed) / Double(sample.count)))% of flows
          agreement        \(agree) of \(referenceSample.count) reference decisions
          path analysis    \(String(format: "%8.1f", analysisMicroseconds)) µs each   (\(analysisSample.count) \
        flows, \(reachable) reachable; goal under 100 µs)
          update           \(String(format: "%8.1f", updateMicroseconds)) µs per resource \
        relabelled   (\(updateCount) updates; goal under 1 ms)
          update           \(String(format: "%8.1f", policyMicroseconds)) µs per policy replaced   \
        (\(policyCount) policies of \(workload.tenancy.catalog.limits.statementsPerPolicy) statements; goal under 1 ms)
          matrix           \(String(format: "%8.3f", seconds(matrixTime))) s   (\(matrixTopology.endpoints.count) \
        endpoints, \(cells) cells; goal under 1 s)

        """)
    }
  }

  /// The best rate of several timed runs of `body`, which decides `count` flows.
  private func bestRate(count: Int, runs: Int = 3, _ body: () -> Void) -> Double {
    var best = Duration.seconds(1_000_000)
    for _ in 0..<runs { best = min(best, ContinuousClock().measure(body)) }
    return Double(count) / max(seconds(best), 1e-9)
  }
}
