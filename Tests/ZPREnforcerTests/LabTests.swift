import Foundation
import Testing
import ZPREnforcer
import ZPREngine
import ZPRLab
import ZPRModel
import ZPRPolicy
import ZPRTesting

/// The analyzer against the kernel: a tenancy built as a lab of network namespaces (routers,
/// bridges, security lists and NSGs, zpr's rulesets), every ordered pair of VNICs tried for
/// real over a sample of protocols and ports, each result compared with `zpr analyze`'s.
@Suite(
  "The lab against the analyzer",
  .enabled(
    if: Namespaces.available,
    "needs root, nftables and iproute2 (CI has them): it builds labs"),
  .serialized)
struct LabTests {
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "examples/tenancies")

  /// Every flow of ``LabDifferential/sample(_:ports:sourcePorts:icmpTypes:)`` between the lab's
  /// VNICs, probed natively and compared with the analyzer; each disagreement as its reproducer
  /// (the seed, the tenancy file, the flow, both answers).
  static func compare(_ lab: Lab, _ tenancy: Tenancy, seed: UInt64? = nil) async throws
    -> Outcome
  {
    let flows = LabDifferential.flows(lab, sample: LabDifferential.sample(tenancy))
    let result = try await LabDifferential.compare(lab, tenancy, flows: flows)
    print(
      "lab \(lab.prefix): \(result.compared) flows probed in "
        + "\(result.probeSeconds.formatted(.number.precision(.fractionLength(2)))) s "
        + "(\(Int(result.flowsPerSecond)) flows/s), analyzed in "
        + "\(result.analyzeSeconds.formatted(.number.precision(.fractionLength(2)))) s")
    return Outcome(
      compared: result.compared, allowed: result.connected.count,
      disagreements: result.disagreements.map { $0.reproducer(seed: seed, tenancy: tenancy) },
      connected: result.connected.map { ($0.source, $0.destination) }, coverage: result.coverage,
      probeSeconds: result.probeSeconds)
  }

  /// What one differential comparison found.
  struct Outcome {
    var compared: Int
    var allowed: Int
    var disagreements: [String]
    var connected: [(String, String)]
    var coverage: LabCoverage
    var probeSeconds: Double
  }

  /// Builds a lab of a tenancy, enforces it, compares every flow of the sample with the
  /// analyzer (expecting no disagreement), and takes the lab down.
  static func differential(_ tenancy: Tenancy, prefix: String, seed: UInt64? = nil) async throws
    -> Outcome
  {
    defer { _ = Lab.down(prefix: prefix) }
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    _ = try await lab.enforce(tenancy)
    let result = try await Self.compare(lab, tenancy, seed: seed)
    #expect(result.disagreements == [], "\(result.disagreements.joined(separator: "\n"))")
    return result
  }

  /// Whether one flow connects, probed natively.
  static func connects(
    _ lab: Lab, _ source: String, _ destination: String, _ transport: FlowProtocol, _ port: Int?
  ) async throws -> Bool {
    try await LabProber(lab).probe([
      LabFlow(from: source, to: destination, transport: transport, port: port)
    ])[0].connected
  }

  static func load(_ name: String) throws -> Tenancy {
    let path = examples.appendingPathComponent(name).path
    let loaded = TenancyFile.load(
      SourceFile(path: path, text: try String(contentsOfFile: path, encoding: .utf8)))
    #expect(!loaded.hasErrors)
    return loaded.tenancy
  }

  @Test(arguments: ["three-tier.yaml", "iam.yaml", "two-vcns.yaml", "hub.yaml"])
  func theExamplesBehaveInTheKernelAsTheAnalyzerSays(name: String) async throws {
    let result = try await Self.differential(
      Self.load(name), prefix: "zlt\(getpid() % 10_000)")
    // Both outcomes occur, so the agreement means something.
    #expect(result.allowed >= 1, "only \(result.allowed) of \(result.compared) flows connected")
    #expect(result.allowed < result.compared)
    print(
      "lab \(name): \(result.compared) flows compared, \(result.allowed) connected, 0 disagreements"
    )
  }

  /// A policy change in a running lab: the flows it revokes stop, the ones it adds start, and
  /// the kernel still agrees with the analyzer about every flow.
  @Test func aPolicyChangeDuringTheTestKeepsTheKernelAndTheAnalyzerInStep() async throws {
    let prefix = "zlc\(getpid() % 10_000)"
    defer { _ = Lab.down(prefix: prefix) }
    let tenancy = try Self.load("three-tier.yaml")
    let lab = Lab(tenancy, prefix: prefix)
    try await lab.up()
    let reconcilers = try await lab.enforce(tenancy)
    #expect(try await Self.connects(lab, "web-1", "app-1", .tcp, 8080))
    // Revoke web -> app, allow web -> db on 5432 (the NSG allows only the app subnet: still no).
    var changed = tenancy
    changed.policies[0].statements[0] = PolicyParser().parseStatement(
      "in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8081'"
    ).statement!
    _ = try await lab.enforce(changed, reconcilers: reconcilers)
    #expect(!(try await Self.connects(lab, "web-1", "app-1", .tcp, 8080)))
    #expect(try await Self.connects(lab, "web-1", "app-1", .tcp, 8081))
    let result = try await Self.compare(lab, changed)
    #expect(result.disagreements == [], "\(result.disagreements.joined(separator: "\n"))")
  }

  /// Random tenancies of every kind of ``LabRound`` in turn: ZPR's statements behind open
  /// security lists, security lists and NSGs that both restrict, tenancies as generated, and
  /// VCNs joined over IPv4 and IPv6. What the flows covered is counted, and each feature must
  /// have been exercised by flows that got through (so that coverage cannot silently vanish).
  @Test func randomTenanciesBehaveInTheKernelAsTheAnalyzerSays() async throws {
    var random = SplitMix64(seed: 2026)
    var compared = 0
    var connected = 0
    var probeSeconds = 0.0
    var coverage = LabCoverage()
    for round in 0..<Self.rounds {
      let seed = random.next()
      let kind = LabRound(round: round)
      let tenancy = kind.tenancy(seed: seed)
      let result = try await Self.differential(
        tenancy, prefix: "zlr\(getpid() % 10_000)\(round % 10)", seed: seed)
      print("lab, random round \(round) (\(kind.rawValue)): \(result.coverage.summary)")
      compared += result.compared
      connected += result.allowed
      probeSeconds += result.probeSeconds
      coverage = coverage + result.coverage
    }
    #expect(compared >= 100_000, "a run compares at least 100,000 random flows")
    #expect(connected >= 1, "no flow connected in \(compared)")
    for (name, count) in coverage.counts {
      #expect(count > 0, "no compared flow exercised \(name): \(coverage.summary)")
    }
    print(
      "lab, random tenancies: \(compared) flows compared, \(connected) connected, "
        + "\(Int(Double(compared) / max(probeSeconds, 0.001))) flows/s probed; coverage: "
        + coverage.summary)
  }

  /// How many random tenancies a run builds.
  static let rounds = 8

  /// A random tenancy of three VCNs with IPv6 subnets beside IPv4 ones, joined by local
  /// peering and by a DRG every VCN is attached to, with open security lists: flows within and
  /// across VCNs, over both address families.
  @Test func aRandomTenancyAcrossVCNsAndAddressFamiliesBehavesAsTheAnalyzerSays() async throws {
    let seed: UInt64 = 2027
    var generator = TenancyGenerator(seed: seed)
    var size = TenancyGenerator.Size(
      namespaces: 2, attributesPerNamespace: 2, vcns: 3, subnetsPerVCN: 2, resources: 20,
      policies: 3)
    size.ipv6Share = 0.4
    var tenancy = generator.tenancy(size)
    LabDifferential.joinVCNs(&tenancy)
    let result = try await Self.differential(
      tenancy, prefix: "zlx\(getpid() % 10_000)", seed: seed)
    let topology = Topology(tenancy)
    func endpoint(_ name: String) -> ZPREngine.Endpoint {
      topology.endpoints[topology.endpoint(named: name)!]
    }
    let across = result.connected.filter { endpoint($0.0).vcn != endpoint($0.1).vcn }.count
    let ipv6 = result.connected.filter { endpoint($0.0).ips.first?.family == .v6 }.count
    let acrossV4 =
      result.connected.filter {
        endpoint($0.0).vcn != endpoint($0.1).vcn && endpoint($0.0).ips.first?.family == .v4
      }.count
    // Flows across VCNs and over IPv6 connected, so the agreement covers them.
    #expect(across >= 1, "no flow across VCNs connected")
    #expect(ipv6 >= 1, "no IPv6 flow connected")
    #expect(acrossV4 >= 1, "no IPv4 flow across VCNs connected")
    print(
      "lab, a random tenancy across VCNs and families: \(result.compared) flows compared, "
        + "\(result.allowed) connected (\(across) across VCNs, \(ipv6) over IPv6), 0 disagreements")
  }
}
