import Foundation
public import ZPREnforcer
public import ZPREngine
public import ZPRModel
public import ZPRPolicy

/// A tenancy built out of network namespaces on this machine: a namespace per VNIC with its
/// addresses (IPv4 or IPv6), a router namespace per VCN with a bridge per subnet (its gateway,
/// the subnet's first address, routes between the VCN's subnets), links for local peering and
/// a router namespace per DRG, the security lists and NSGs of each VNIC as nftables
/// (`inet zpr_vcn`) and zpr's own ruleset (`inet zpr`). Every name starts with the lab's
/// prefix, so ``down(prefix:)`` finds everything, also after a crash. Needs root.
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

  /// The VNICs the lab builds: those with an address in a subnet that resolves.
  public var hosts: [Int] {
    topology.endpoints.indices.filter {
      let endpoint = topology.endpoints[$0]
      return endpoint.vcn != nil && endpoint.subnet != nil && !endpoint.ips.isEmpty
    }
  }

  /// Builds the namespaces, links and routes, and applies each VNIC's security rules.
  /// zpr's rulesets are the agents' (or ``enforce(_:)``'s) job.
  public func up() async throws(LabError) {
    guard getuid() == 0 else {
      throw LabError(
        .needsRoot, "the lab builds network namespaces and needs root: run it with sudo")
    }
    let used = Set(hosts.compactMap { topology.endpoints[$0].vcn })
    for vcnIndex in used.sorted() {
      let vcn = tenancy.vcns[vcnIndex]
      let router = routerNamespace(vcnIndex)
      try run(["ip", "netns", "add", router])
      try forward(router)
      for (subnetIndex, subnet) in vcn.subnets.enumerated() {
        let bridge = "b\(subnetIndex)"
        try run(["ip", "-n", router, "link", "add", bridge, "type", "bridge"])
        try address(Self.gateway(subnet.cidr), length: subnet.cidr.length, on: bridge, in: router)
        try run(["ip", "-n", router, "link", "set", bridge, "up"])
      }
    }
    try route(used)
    for index in hosts {
      let endpoint = topology.endpoints[index]
      let vcn = tenancy.vcns[endpoint.vcn!]
      let subnet = vcn.subnets[endpoint.subnet!]
      let router = routerNamespace(endpoint.vcn!)
      let host = namespace(of: endpoint)
      try run(["ip", "netns", "add", host])
      try noDAD(host)
      try run([
        "ip", "link", "add", "h\(index)", "netns", router, "type", "veth", "peer", "name", "eth0",
        "netns", host,
      ])
      try run(["ip", "-n", router, "link", "set", "h\(index)", "master", "b\(endpoint.subnet!)"])
      try run(["ip", "-n", router, "link", "set", "h\(index)", "up"])
      for ip in endpoint.ips where ip.family == subnet.cidr.address.family {
        try address(ip, length: subnet.cidr.length, on: "eth0", in: host)
      }
      try run(["ip", "-n", host, "link", "set", "eth0", "up"])
      try run(["ip", "-n", host, "link", "set", "lo", "up"])
      try run([
        "ip", "-n", host, family(subnet.cidr.address), "route", "add", "default", "via",
        "\(Self.gateway(subnet.cidr))",
      ])
      do {
        try await NFTBackend(namespace: host).apply(
          .replacing(SecurityRuleset.table(endpoint: index, in: topology)))
      } catch {
        throw LabError(
          .network, "the security rules of \(endpoint.name): \(error.message)", cause: error)
      }
    }
  }

  /// Routing between VCNs: a link between the routers of two VCNs whose local peering gateways
  /// name each other, a router namespace per DRG linked to the router of each VCN attached to
  /// it (it sends each VCN's blocks down that VCN's link, the first attachment first), and each
  /// subnet's route table as a routing table its traffic is looked up in. Routes to a peering
  /// gateway or a DRG go over their link; gateways out of the tenancy lead nowhere in the lab.
  /// What arrives at a router from elsewhere is only delivered to its own subnets: peerings and
  /// DRGs carry no transit through a VCN.
  private func route(_ used: Set<Int>) throws(LabError) {
    // The next hop of a VCN's gateway per address family, by "VCN/gateway" or "VCN/drg:NAME".
    var nextHop: [String: [IPAddress.Family: IPAddress]] = [:]
    var link: UInt32 = 0
    for a in used.sorted() {
      for gateway in tenancy.vcns[a].localPeeringGateways {
        guard let peer = gateway.peer,
          let b = tenancy.vcns.firstIndex(where: { $0.name == peer.vcn }), b > a, used.contains(b),
          let back = tenancy.vcns[b].localPeeringGateways.first(where: { $0.name == peer.gateway }),
          back.peer?.vcn == tenancy.vcns[a].name, back.peer?.gateway == gateway.name
        else { continue }
        link += 1
        guard link < 200 else { break }
        let (aSide, bSide) = try self.link(
          "l\(link)", routerNamespace(a), routerNamespace(b), v4: Self.linkBase | link << 8,
          v6: "fd5a:5052:0:\(String(link, radix: 16))")
        nextHop["\(a)/\(gateway.name)"] = bSide
        nextHop["\(b)/\(back.name)"] = aSide
      }
    }
    for (drgIndex, drg) in tenancy.drgs.enumerated() where drgIndex < 50 {
      let attached = drg.attachments.compactMap { name in
        tenancy.vcns.firstIndex { $0.name == name }
      }.filter(used.contains)
      guard !attached.isEmpty else { continue }
      let router = drgNamespace(drgIndex)
      try run(["ip", "netns", "add", router])
      try forward(router)
      for (k, vcn) in attached.enumerated() where k < 64 {
        let (vcnSide, drgSide) = try self.link(
          "d\(drgIndex)x\(k)", routerNamespace(vcn), router,
          v4: Self.linkBase | UInt32(200 + drgIndex) << 8 | UInt32(k * 4),
          v6: "fd5a:5052:d\(String(drgIndex, radix: 16)):\(String(k, radix: 16))")
        nextHop["\(vcn)/drg:\(drg.name)"] = drgSide
        for block in tenancy.vcns[vcn].cidrs {
          guard let hop = vcnSide[block.address.family] else { continue }
          // A block an earlier attachment holds stays with it (the route exists already).
          _ = Self.shell([
            "ip", "-n", router, family(block.address), "route", "add",
            "\(block.network)/\(block.length)", "via", "\(hop)",
          ])
        }
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
          "ip", "-n", router, family(subnet.cidr.address), "rule", "add", "from",
          "\(subnet.cidr.network)/\(subnet.cidr.length)", "lookup", id,
        ])
        for rule in table.rules {
          let gateway: String
          switch rule.target {
          case .localPeeringGateway(let name): gateway = name
          case .drg(let name): gateway = "drg:\(name)"
          default: continue
          }
          guard let hop = nextHop["\(vcnIndex)/\(gateway)"]?[rule.destination.address.family]
          else { continue }
          try run([
            "ip", "-n", router, family(hop), "route", "add",
            "\(rule.destination.network)/\(rule.destination.length)", "via", "\(hop)", "table",
            id,
          ])
        }
      }
    }
  }

  /// 169.254.0.0, where the links between routers take their /30s.
  private static let linkBase: UInt32 = 169 << 24 | 254 << 16

  /// A veth link between two namespaces, with the IPv4 /30 at `v4` (`+1` on the first end,
  /// `+2` on the second) and the IPv6 /64 `V6::/64` (`::1`, `::2`); the addresses of each end.
  private func link(_ name: String, _ a: String, _ b: String, v4: UInt32, v6: String)
    throws(LabError) -> ([IPAddress.Family: IPAddress], [IPAddress.Family: IPAddress])
  {
    try run([
      "ip", "link", "add", name, "netns", a, "type", "veth", "peer", "name", name, "netns", b,
    ])
    var ends: [[IPAddress.Family: IPAddress]] = []
    for (namespace, own) in [(a, 1), (b, 2)] {
      let v4Address = IPAddress(v4: v4 + UInt32(own))
      let v6Address = IPAddress("\(v6)::\(own)")!
      try address(v4Address, length: 30, on: name, in: namespace)
      try address(v6Address, length: 64, on: name, in: namespace)
      try run(["ip", "-n", namespace, "link", "set", name, "up"])
      ends.append([.v4: v4Address, .v6: v6Address])
    }
    return (ends[0], ends[1])
  }

  /// Makes a namespace a router of both families (no reverse-path filter: replies may come
  /// back another way than they left).
  private func forward(_ namespace: String) throws(LabError) {
    try noDAD(namespace)
    try run(["ip", "-n", namespace, "link", "set", "lo", "up"])
    try run([
      "ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1",
      "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0",
      "net.ipv4.conf.default.rp_filter=0",
    ])
  }

  /// No duplicate address detection in a namespace: its IPv6 addresses work at once.
  private func noDAD(_ namespace: String) throws(LabError) {
    try run([
      "ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
    ])
  }

  /// Adds an address to a device (IPv6 without duplicate address detection).
  private func address(_ ip: IPAddress, length: Int, on device: String, in namespace: String)
    throws(LabError)
  {
    try run(
      ["ip", "-n", namespace, "addr", "add", "\(ip)/\(length)", "dev", device]
        + (ip.family == .v6 ? ["nodad"] : []))
  }

  /// `ip`'s option for an address's family.
  private func family(_ ip: IPAddress) -> String { ip.family == .v4 ? "-4" : "-6" }

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
        throw LabError(
          .ruleset, "zpr's ruleset of \(endpoint.name): \(error.message)", cause: error)
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

  /// The router namespace of a DRG (by its index: DRG names may be long).
  public func drgNamespace(_ drg: Int) -> String { "\(prefix)-drg\(drg)" }

  /// A subnet's gateway: its first address.
  static func gateway(_ block: IPPrefix) -> IPAddress {
    block.network.successor ?? block.network
  }

  private func run(_ arguments: [String]) throws(LabError) {
    let (status, output) = Self.shell(arguments)
    guard status == 0 else {
      throw LabError(
        .network,
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

/// Why the lab could not do something: a stable code, what to do, and the error underneath.
public struct LabError: ZPRError, CodedError, Hashable {
  /// Stable codes.
  public enum Code: String, Hashable, Sendable, CaseIterable {
    /// The lab builds network namespaces: it needs root.
    case needsRoot = "ZPR-LAB-001"
    /// A VNIC's security lists and NSGs could not be applied, or a step of the build failed.
    case network = "ZPR-LAB-002"
    /// A VNIC's ZPR ruleset could not be enforced.
    case ruleset = "ZPR-LAB-003"
    /// The lab has no VNIC of that name.
    case unknownVNIC = "ZPR-LAB-004"
    /// A TCP or UDP probe without a port.
    case missingPort = "ZPR-LAB-005"
    /// A probe's listener could not start.
    case listener = "ZPR-LAB-006"
    /// The two VNICs have no address family in common.
    case noCommonFamily = "ZPR-LAB-007"
    /// The native prober could not open a socket, enter a namespace, or wait for answers.
    case prober = "ZPR-LAB-008"
    /// The analyzer could not answer a flow of the differential comparison.
    case analyzer = "ZPR-LAB-009"
  }

  public var code: Code
  public var message: String
  /// The enforcer's error, or the process's, underneath.
  public var cause: (any Error)? { underlying.error }
  private var underlying: ErrorCause

  /// An error.
  public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    underlying = ErrorCause(cause)
  }
}
