import Foundation
public import ZPREnforcer
public import ZPREngine
public import ZPRModel
import ZPRPolicy

/// A tenancy built out of network namespaces on this machine: a namespace per VNIC with its
/// addresses, a router namespace per VCN with a bridge per subnet (its gateway, the subnet's
/// first address, routes between the VCN's subnets), the security lists and NSGs of each VNIC
/// as nftables (`inet zpr_vcn`) and zpr's own ruleset (`inet zpr`). Every name starts with the
/// lab's prefix, so ``down(prefix:)`` finds everything, also after a crash. Needs root.
public struct Lab: Sendable {
  public let prefix: String
  public let tenancy: Tenancy
  public let topology: Topology

  /// A lab of a tenancy (nothing is built until ``up()``).
  public init(_ tenancy: Tenancy, prefix: String = "zl") {
    self.prefix = prefix
    self.tenancy = tenancy
    topology = Topology(tenancy)
  }

  /// The namespace of a VNIC (`zl-web-1.0`).
  public func namespace(of endpoint: ZPREngine.Endpoint) -> String {
    "\(prefix)-" + endpoint.name.replacingOccurrences(of: "/", with: ".")
  }

  /// The namespace of a VNIC by name (`web-1`, `web-1/1`), or nil.
  public func namespace(named name: String) -> String? {
    topology.endpoint(named: name).map { namespace(of: topology.endpoints[$0]) }
  }

  /// The VNICs the lab builds: those with an IPv4 address in a subnet that resolves.
  public var hosts: [Int] {
    topology.endpoints.indices.filter {
      let endpoint = topology.endpoints[$0]
      return endpoint.vcn != nil && endpoint.subnet != nil
        && endpoint.ips.contains { $0.family == .v4 }
    }
  }

  /// Builds the namespaces, links and routes, and applies each VNIC's security rules.
  /// zpr's rulesets are the agents' (or ``enforce(_:)``'s) job.
  public func up() async throws(LabError) {
    guard getuid() == 0 else {
      throw LabError(
        "ZPR-LAB-001", "the lab builds network namespaces and needs root: run it with sudo")
    }
    let used = Set(hosts.compactMap { topology.endpoints[$0].vcn })
    for vcnIndex in used.sorted() {
      let vcn = tenancy.vcns[vcnIndex]
      let router = routerNamespace(vcnIndex)
      try run(["ip", "netns", "add", router])
      try run(["ip", "-n", router, "link", "set", "lo", "up"])
      try run(["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
      for setting in ["all", "default"] {
        try run([
          "ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.conf.\(setting).rp_filter=0",
        ])
      }
      for (subnetIndex, subnet) in vcn.subnets.enumerated()
      where subnet.cidr.address.family == .v4 {
        let bridge = "b\(subnetIndex)"
        try run(["ip", "-n", router, "link", "add", bridge, "type", "bridge"])
        try run([
          "ip", "-n", router, "addr", "add", "\(Self.gateway(subnet.cidr))/\(subnet.cidr.length)",
          "dev", bridge,
        ])
        try run(["ip", "-n", router, "link", "set", bridge, "up"])
      }
    }
    try peer(used)
    for index in hosts {
      let endpoint = topology.endpoints[index]
      let vcn = tenancy.vcns[endpoint.vcn!]
      let subnet = vcn.subnets[endpoint.subnet!]
      let router = routerNamespace(endpoint.vcn!)
      let host = namespace(of: endpoint)
      try run(["ip", "netns", "add", host])
      try run([
        "ip", "link", "add", "h\(index)", "netns", router, "type", "veth", "peer", "name", "eth0",
        "netns", host,
      ])
      try run(["ip", "-n", router, "link", "set", "h\(index)", "master", "b\(endpoint.subnet!)"])
      try run(["ip", "-n", router, "link", "set", "h\(index)", "up"])
      for ip in endpoint.ips where ip.family == .v4 {
        try run(["ip", "-n", host, "addr", "add", "\(ip)/\(subnet.cidr.length)", "dev", "eth0"])
      }
      try run(["ip", "-n", host, "link", "set", "eth0", "up"])
      try run(["ip", "-n", host, "link", "set", "lo", "up"])
      try run([
        "ip", "-n", host, "route", "add", "default", "via", "\(Self.gateway(subnet.cidr))",
      ])
      do {
        try await NFTBackend(namespace: host).apply(
          SecurityRuleset.render(endpoint: index, in: topology))
      } catch {
        throw LabError("ZPR-LAB-002", "the security rules of \(endpoint.name): \(error.message)")
      }
    }
  }

  /// Local peering: a link between the routers of two VCNs whose gateways name each other, and
  /// each subnet's route table as a routing table its traffic is looked up in (routes to a
  /// peering gateway go over the link; other gateways lead nowhere in the lab).
  private func peer(_ used: Set<Int>) throws(LabError) {
    var nextHop: [String: IPAddress] = [:]
    var link = 0
    for a in used.sorted() {
      for gateway in tenancy.vcns[a].localPeeringGateways {
        guard let peer = gateway.peer,
          let b = tenancy.vcns.firstIndex(where: { $0.name == peer.vcn }), b > a, used.contains(b),
          let back = tenancy.vcns[b].localPeeringGateways.first(where: { $0.name == peer.gateway }),
          back.peer?.vcn == tenancy.vcns[a].name, back.peer?.gateway == gateway.name
        else { continue }
        link += 1
        guard link < 256 else { break }
        let name = "l\(link)"
        try run([
          "ip", "link", "add", name, "netns", routerNamespace(a), "type", "veth", "peer", "name",
          name, "netns", routerNamespace(b),
        ])
        for (vcn, own) in [(a, 1), (b, 2)] {
          try run([
            "ip", "-n", routerNamespace(vcn), "addr", "add", "169.254.\(link).\(own)/30", "dev",
            name,
          ])
          try run(["ip", "-n", routerNamespace(vcn), "link", "set", name, "up"])
        }
        nextHop["\(a)/\(gateway.name)"] = IPAddress("169.254.\(link).2")
        nextHop["\(b)/\(back.name)"] = IPAddress("169.254.\(link).1")
      }
    }
    for vcnIndex in used.sorted() {
      let vcn = tenancy.vcns[vcnIndex]
      let router = routerNamespace(vcnIndex)
      for (subnetIndex, subnet) in vcn.subnets.enumerated() {
        guard let tableName = subnet.routeTable,
          let table = vcn.routeTables.first(where: { $0.name == tableName })
        else { continue }
        let id = String(100 + subnetIndex)
        try run([
          "ip", "-n", router, "rule", "add", "from", "\(subnet.cidr.network)/\(subnet.cidr.length)",
          "lookup", id,
        ])
        for rule in table.rules where rule.destination.address.family == .v4 {
          guard case .localPeeringGateway(let gateway) = rule.target,
            let hop = nextHop["\(vcnIndex)/\(gateway)"]
          else { continue }
          try run([
            "ip", "-n", router, "route", "add",
            "\(rule.destination.network)/\(rule.destination.length)", "via", "\(hop)", "table", id,
          ])
        }
      }
    }
  }

  /// Applies zpr's ruleset of a tenancy (this one, or a changed one) in every VNIC's namespace,
  /// as the agents would, with one reconciler per host; returns them.
  public func enforce(_ tenancy: Tenancy, reconcilers: [String: Reconciler] = [:])
    async throws(LabError) -> [String: Reconciler]
  {
    let enforced = EnforcedTenancy(tenancy)
    var result = reconcilers
    for index in hosts {
      let endpoint = topology.endpoints[index]
      let reconciler =
        result[endpoint.name] ?? Reconciler(backend: NFTBackend(namespace: namespace(of: endpoint)))
      do {
        try await reconciler.enforce(enforced.ruleset(for: endpoint.name))
      } catch {
        throw LabError("ZPR-LAB-003", "zpr's ruleset of \(endpoint.name): \(error.message)")
      }
      result[endpoint.name] = reconciler
    }
    return result
  }

  /// Removes every namespace whose name starts with the prefix (and so everything in them).
  public static func down(prefix: String = "zl") -> [String] {
    let listed = Self.shell(["ip", "netns", "list"]).output
    let names = listed.split(separator: "\n").compactMap { $0.split(separator: " ").first }
      .map(String.init).filter { $0.hasPrefix(prefix + "-") }
    for name in names {
      // Processes left inside (listeners, agents) go first, or the namespace stays alive.
      let pids = Self.shell(["ip", "netns", "pids", name]).output.split(separator: "\n")
      for pid in pids { kill(pid_t(pid) ?? 0, SIGKILL) }
      _ = Self.shell(["ip", "netns", "del", name])
    }
    return names
  }

  /// The router namespace of a VCN.
  public func routerNamespace(_ vcn: Int) -> String { "\(prefix)-vcn-\(tenancy.vcns[vcn].name)" }

  /// A subnet's gateway: its first address.
  static func gateway(_ block: IPPrefix) -> IPAddress {
    IPAddress(v4: block.network.v4Value! + 1)
  }

  private func run(_ arguments: [String]) throws(LabError) {
    let (status, output) = Self.shell(arguments)
    guard status == 0 else {
      throw LabError(
        "ZPR-LAB-002",
        "\(arguments.joined(separator: " ")) failed: "
          + output.trimmingCharacters(in: .whitespacesAndNewlines)
          + " (`zpr lab down` removes what was built)")
    }
  }

  /// Runs a command; its status and its output (standard output and error together).
  public static func shell(_ arguments: [String], input: String? = nil) -> (
    status: Int32, output: String
  ) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let standardInput = Pipe()
    process.standardInput = standardInput
    guard (try? process.run()) != nil else { return (-1, "cannot run \(arguments[0])") }
    if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
    try? standardInput.fileHandleForWriting.close()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}

/// A problem building or using the lab: a stable code (`ZPR-LAB-...`) and what to do; the
/// enforcer's error type, which the lab's own failures share.
public typealias LabError = EnforcerError
