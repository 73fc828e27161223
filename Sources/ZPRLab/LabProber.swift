import Foundation
public import ZPREngine
import ZPRPolicy

#if canImport(Glibc)
  import Glibc
#endif

/// What a flow carries between two VNICs: TCP or UDP to a port (from a chosen source port, or
/// one the kernel picks), an ICMP echo request (a ping, answered), or a one-way ICMP message of
/// a type and code.
public struct LabTraffic: Hashable, Sendable {
  public var transport: FlowProtocol
  /// The destination port (TCP, UDP); nil for ICMP.
  public var port: Int?
  /// The source port (TCP, UDP); nil lets the kernel choose one.
  public var sourcePort: Int?
  /// The ICMP type of a one-way message; nil for an echo request.
  public var icmpType: Int?
  /// The ICMP code of a one-way message (0 when nil).
  public var icmpCode: Int?

  /// TCP or UDP to a port, from a chosen source port or one the kernel picks.
  public static func connection(_ transport: FlowProtocol, port: Int, sourcePort: Int? = nil)
    -> LabTraffic
  {
    LabTraffic(transport: transport, port: port, sourcePort: sourcePort)
  }

  /// An ICMP echo request (ICMPv6 between IPv6 VNICs), answered by an echo reply.
  public static let ping = LabTraffic(transport: .icmp)

  /// A one-way ICMP message of a type and code (ICMPv6 between IPv6 VNICs).
  public static func icmp(type: Int, code: Int) -> LabTraffic {
    LabTraffic(transport: .icmp, icmpType: type, icmpCode: code)
  }

  /// Traffic from its parts.
  public init(
    transport: FlowProtocol, port: Int? = nil, sourcePort: Int? = nil, icmpType: Int? = nil,
    icmpCode: Int? = nil
  ) {
    self.transport = transport
    self.port = transport == .icmp ? nil : port
    self.sourcePort = transport == .icmp ? nil : sourcePort
    self.icmpType = transport == .icmp ? icmpType : nil
    self.icmpCode = transport == .icmp && icmpType != nil ? icmpCode ?? 0 : nil
  }

  /// Whether only the message's arrival counts (a one-way ICMP message): nothing answers it.
  public var isOneWay: Bool { transport == .icmp && icmpType != nil }

  /// `tcp/8080`, `tcp/8080 from port 1024`, `icmp`, `icmp type 3 code 1`.
  public var label: String {
    switch transport {
    case .tcp, .udp:
      return "\(transport.rawValue)\(port.map { "/\($0)" } ?? "")"
        + (sourcePort.map { " from port \($0)" } ?? "")
    case .icmp:
      return "icmp" + (icmpType.map { " type \($0) code \(icmpCode ?? 0)" } ?? "")
    }
  }
}

/// A flow for ``LabProber``: from one VNIC of the lab to another, carrying some traffic: TCP or
/// UDP to a port (from a chosen source port, or one the kernel picks), an ICMP echo request, or
/// a one-way ICMP message of a type and code (ICMPv6 between IPv6 VNICs).
public struct LabFlow: Hashable, Sendable {
  public var source: String
  public var destination: String
  public var transport: FlowProtocol
  /// The destination port (TCP, UDP); nil for ICMP.
  public var port: Int?
  /// The source port to bind (TCP, UDP); nil lets the kernel choose one.
  public var sourcePort: Int?
  /// The ICMP type and code of a one-way message; nil for an echo request (ping).
  public var icmpType: Int?
  public var icmpCode: Int?

  /// A flow between two VNICs by name (`web-1`, `web-1/1`).
  public init(
    from source: String, to destination: String, transport: FlowProtocol, port: Int?,
    sourcePort: Int? = nil
  ) {
    self.init(
      from: source, to: destination,
      traffic: LabTraffic(transport: transport, port: port, sourcePort: sourcePort))
  }

  /// A flow between two VNICs by name carrying some traffic.
  public init(from source: String, to destination: String, traffic: LabTraffic) {
    self.source = source
    self.destination = destination
    transport = traffic.transport
    port = traffic.port
    sourcePort = traffic.sourcePort
    icmpType = traffic.icmpType
    icmpCode = traffic.icmpCode
  }

  /// What the flow carries.
  public var traffic: LabTraffic {
    LabTraffic(
      transport: transport, port: port, sourcePort: sourcePort, icmpType: icmpType,
      icmpCode: icmpCode)
  }

  /// Whether only the arrival of the flow's message counts (a one-way ICMP message).
  public var isOneWay: Bool { traffic.isOneWay }

  /// `web-1 -> app-1 tcp/8080`, `web-1 -> app-1 icmp type 3 code 1`.
  public var label: String { "\(source) -> \(destination) \(traffic.label)" }
}

/// Tries many flows of a lab at once, natively: listeners (TCP accepts, UDP echoes, raw ICMP
/// sockets that see one-way messages arrive) start once per destination, port and address, then
/// the flows run in batches of non-blocking sockets polled from one dedicated thread, which
/// enters each VNIC's network namespace to make its sockets. A flow connects when its TCP
/// handshake completes, its UDP payload comes back, its ICMP echo is answered, or its one-way
/// ICMP message arrives (a raw socket sees it after netfilter's input hook, so not when a
/// firewall dropped it); a flow that gets no answer within the timeout did not.
public struct LabProber: Sendable {
  /// The lab, up.
  public let lab: Lab
  /// Seconds a batch waits for answers once its last flow started.
  public var timeout: Double
  /// Flows in flight at once (each holds a socket).
  public var batch: Int

  /// A prober of a lab that is up.
  public init(_ lab: Lab, timeout: Double = 0.25, batch: Int = 1024) {
    self.lab = lab
    self.timeout = timeout
    self.batch = batch
  }

  /// Tries every flow; the results in the flows' order. Every socket is closed and the thread
  /// has ended when this returns, also when it throws.
  public func probe(_ flows: [LabFlow]) async throws(LabError) -> [ProbeResult] {
    let plans = try flows.map { flow throws(LabError) in try plan(flow) }
    let timeout = timeout
    let batch = max(1, min(batch, 8192))
    let result: Result<[ProbeResult], LabError> = await withCheckedContinuation { continuation in
      let thread = Thread {
        let outcome = Result { () throws(LabError) -> [ProbeResult] in
          try ProbeRun(plans: plans, timeout: timeout, batch: batch).run()
        }
        continuation.resume(returning: outcome)
      }
      thread.name = "zpr-lab-prober"
      thread.start()
    }
    return try result.get()
  }

  /// The namespaces and the address of a flow, as ``Lab/probe(from:to:traffic:timeout:)``
  /// chooses them: the destination's first address of a family the source has.
  func plan(_ flow: LabFlow) throws(LabError) -> ProbePlan {
    let topology = lab.topology
    guard let from = topology.endpoint(named: flow.source), lab.hosts.contains(from) else {
      throw LabError(.unknownVNIC, "the lab has no VNIC named '\(flow.source)'")
    }
    guard let to = topology.endpoint(named: flow.destination), lab.hosts.contains(to) else {
      throw LabError(.unknownVNIC, "the lab has no VNIC named '\(flow.destination)'")
    }
    let families = Set(topology.endpoints[from].ips.map(\.family))
    guard let address = topology.endpoints[to].ips.first(where: { families.contains($0.family) })
    else {
      throw LabError(
        .noCommonFamily,
        "\(flow.source) and \(flow.destination) have no address family in common (IPv4 and "
          + "IPv6): probe between VNICs that share one")
    }
    if flow.transport != .icmp {
      guard let port = flow.port, (1...65535).contains(port) else {
        throw LabError(
          .missingPort, "a \(flow.transport.rawValue) probe needs a port (1 to 65535)")
      }
      if let sourcePort = flow.sourcePort, !(1...65535).contains(sourcePort) {
        throw LabError(
          .missingPort, "the source port \(sourcePort) is not a port: give 1 to 65535")
      }
    } else if flow.port != nil || flow.sourcePort != nil {
      throw LabError(
        .missingPort, "ICMP has no ports: give an ICMP type and code, or nothing (a ping)")
    }
    if flow.transport != .icmp, flow.icmpType != nil || flow.icmpCode != nil {
      throw LabError(
        .missingPort, "an ICMP type and code apply to ICMP probes: use the protocol icmp")
    }
    if let type = flow.icmpType,
      !(0...255).contains(type) || !(0...255).contains(flow.icmpCode ?? 0)
    {
      throw LabError(.missingPort, "an ICMP type and code are numbers from 0 to 255")
    }
    if flow.icmpType == nil, flow.icmpCode != nil {
      throw LabError(.missingPort, "an ICMP code needs an ICMP type")
    }
    return ProbePlan(
      flow: flow, sourceNamespace: lab.namespace(of: topology.endpoints[from]),
      destinationNamespace: lab.namespace(of: topology.endpoints[to]),
      address: address.description, v6: address.family == .v6)
  }
}

/// A flow resolved to namespaces and an address.
struct ProbePlan: Sendable {
  var flow: LabFlow
  var sourceNamespace: String
  var destinationNamespace: String
  var address: String
  var v6: Bool

  /// The listener the flow needs: a TCP or UDP socket on its port, or a raw ICMP socket for a
  /// one-way message; none for a ping.
  var listener: ListenerKey? {
    if flow.isOneWay {
      return ListenerKey(
        namespace: destinationNamespace, address: "", v6: v6, transport: .icmp, port: 0)
    }
    guard flow.transport != .icmp, let port = flow.port else { return nil }
    return ListenerKey(
      namespace: destinationNamespace, address: address, v6: v6, transport: flow.transport,
      port: port)
  }

  /// What a flow with a chosen source port holds while it runs (its socket's local port and its
  /// peer): two such flows alike cannot run at once.
  var binding: Binding? {
    guard let sourcePort = flow.sourcePort, let port = flow.port else { return nil }
    return Binding(
      namespace: sourceNamespace, transport: flow.transport, sourcePort: sourcePort,
      address: address, port: port)
  }

  struct Binding: Hashable {
    var namespace: String
    var transport: FlowProtocol
    var sourcePort: Int
    var address: String
    var port: Int
  }
}

/// A listening socket: where, which protocol, which port (a raw ICMP socket has no address and
/// no port).
struct ListenerKey: Hashable, Sendable {
  var namespace: String
  var address: String
  var v6: Bool
  var transport: FlowProtocol
  var port: Int
}

/// One run of the prober, on its own thread: owns every descriptor it opens and closes them
/// all, and brings the thread back to its namespace, when it ends.
final class ProbeRun {
  /// What a listening socket does when it is readable.
  enum Kind: Equatable {
    /// Accepts and closes connections.
    case tcp
    /// Echoes datagrams.
    case udp
    /// Sees one-way ICMP messages (ICMPv6 when `v6`) arrive.
    case icmp(v6: Bool)
  }

  let plans: [ProbePlan]
  let timeout: Double
  let batch: Int
  /// Marks this run's payloads, so that nothing of another run is taken for an answer.
  private let nonce = UInt32.random(in: 0...UInt32.max)
  /// The namespaces the thread enters (set when the run starts).
  private var hops: NamespaceHops?
  /// Listening sockets (TCP), echo sockets (UDP) and raw ICMP sockets, with their kind and
  /// namespace.
  private var listeners: [(fd: Int32, kind: Kind, namespace: String)] = []
  /// Raw sockets that send one-way ICMP messages, by namespace and family.
  private var senders: [String: Int32] = [:]
  /// The client sockets of the batch in flight, by flow index.
  private var clients: [Int: Int32] = [:]
  /// The one-way ICMP messages of the batch in flight that have not arrived yet.
  private var awaiting: Set<Int> = []

  init(plans: [ProbePlan], timeout: Double, batch: Int) {
    self.plans = plans
    self.timeout = timeout
    self.batch = batch
  }

  deinit { closeAll() }

  /// Closes every descriptor and returns to the original namespace.
  private func closeAll() {
    for fd in clients.values { close(fd) }
    clients = [:]
    for listener in listeners { close(listener.fd) }
    listeners = []
    for fd in senders.values { close(fd) }
    senders = [:]
    hops?.close()
    hops = nil
  }

  func run() throws(LabError) -> [ProbeResult] {
    defer { closeAll() }
    hops = try NamespaceHops()
    try Sockets.raiseDescriptorLimit(
      to: batch + Set(plans.compactMap(\.listener)).count
        + 2 * Set(plans.map(\.sourceNamespace)).count + 256,
      hint: "probe in smaller batches")
    try startListeners()
    try allowPing()
    var results = plans.map { plan in
      ProbeResult(
        from: plan.flow.source, to: plan.flow.destination, transport: plan.flow.transport,
        port: plan.flow.port, connected: false, detail: "", sourcePort: plan.flow.sourcePort,
        icmpType: plan.flow.icmpType, icmpCode: plan.flow.icmpCode)
    }
    for phase in phases() {
      var start = 0
      while start < phase.count {
        let end = min(start + batch, phase.count)
        try runBatch(Array(phase[start..<end]), into: &results)
        start = end
      }
    }
    return results
  }

  /// The flows in groups that may run at once, in order: two flows with the same chosen source
  /// port to the same destination and port would need the same socket, so the second waits
  /// for a later group.
  private func phases() -> [[Int]] {
    var phases: [[Int]] = [[]]
    var seen: [ProbePlan.Binding: Int] = [:]
    for (index, plan) in plans.enumerated() {
      guard let binding = plan.binding else {
        phases[0].append(index)
        continue
      }
      let phase = seen[binding, default: 0]
      seen[binding] = phase + 1
      if phase == phases.count { phases.append([]) }
      phases[phase].append(index)
    }
    return phases
  }

  /// Moves this thread into a namespace of the lab.
  private func enter(_ name: String) throws(LabError) {
    try hops?.enter(name)
  }

  /// Back to the thread's own namespace.
  private func leave() {
    hops?.leave()
  }

  /// A listening TCP socket or a UDP echo socket on each port and address the flows use, and a
  /// raw ICMP socket in each namespace that one-way messages go to.
  private func startListeners() throws(LabError) {
    let keys = Set(plans.compactMap(\.listener)).sorted {
      ($0.namespace, $0.address, $0.transport.rawValue, $0.port, $0.v6 ? 1 : 0)
        < ($1.namespace, $1.address, $1.transport.rawValue, $1.port, $1.v6 ? 1 : 0)
    }
    var current: String?
    defer { leave() }
    for key in keys {
      if current != key.namespace {
        try enter(key.namespace)
        current = key.namespace
      }
      if key.transport == .icmp {
        try startReceiver(key)
        continue
      }
      listeners.append(
        (try Sockets.listener(key), key.transport == .tcp ? .tcp : .udp, key.namespace))
    }
  }

  /// A raw ICMP (or ICMPv6) socket in the namespace the thread is in: it sees every message of
  /// its family that the namespace's firewalls let in.
  private func startReceiver(_ key: ListenerKey) throws(LabError) {
    let fd = socket(
      key.v6 ? AF_INET6 : AF_INET, Int32(SOCK_RAW.rawValue) | Sockets.flags,
      Int32(key.v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
    guard fd >= 0 else {
      throw LabError(
        .listener, "cannot open a raw ICMP socket in \(key.namespace): \(Sockets.errorText())")
    }
    listeners.append((fd, .icmp(v6: key.v6), key.namespace))
    Sockets.set(fd, SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
  }

  /// The raw socket that sends one-way ICMP messages of a family from the namespace the thread
  /// is in (opened on first use; it takes in nothing).
  private func sender(in namespace: String, v6: Bool) -> Int32 {
    let key = "\(namespace) \(v6 ? 6 : 4)"
    if let fd = senders[key] { return fd }
    let fd = socket(
      v6 ? AF_INET6 : AF_INET, Int32(SOCK_RAW.rawValue) | Sockets.flags,
      Int32(v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
    guard fd >= 0 else { return fd }
    Sockets.set(fd, SOL_SOCKET, SO_SNDBUFFORCE, 8 << 20)
    // A sender needs none of the namespace's incoming messages: block every ICMPv6 type
    // (ICMP6_FILTER), and every ICMP type below 32, all that ICMP_FILTER (on SOL_RAW) can.
    var block = [UInt32](repeating: .max, count: v6 ? 8 : 1)
    _ = setsockopt(
      fd, v6 ? Int32(IPPROTO_ICMPV6) : 255, 1, &block,
      socklen_t(block.count * MemoryLayout<UInt32>.size))
    senders[key] = fd
    return fd
  }

  /// Lets root open ping sockets in every namespace that sends an ICMP echo.
  private func allowPing() throws(LabError) {
    let names = Set(
      plans.filter { $0.flow.transport == .icmp && !$0.flow.isOneWay }.map(\.sourceNamespace)
    ).sorted()
    defer { leave() }
    for name in names {
      try enter(name)
      let fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw LabError(.prober, "cannot allow ping sockets in \(name): \(Sockets.errorText())")
      }
      let text = Array("0 2147483647\n".utf8)
      let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      close(fd)
      guard written == text.count else {
        throw LabError(.prober, "cannot allow ping sockets in \(name): \(Sockets.errorText())")
      }
    }
  }

  /// The payload of a flow's datagram, echo or one-way message: a marker, the run's nonce and
  /// the flow's index.
  private func payload(_ index: Int) -> [UInt8] {
    Array("zpr-lab".utf8) + withUnsafeBytes(of: nonce.bigEndian) { Array($0) }
      + withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
  }

  /// Starts the flows of a batch, then answers and collects until every flow is done or the
  /// timeout has passed since the last one started.
  private func runBatch(_ indices: [Int], into results: inout [ProbeResult]) throws(LabError) {
    defer {
      for fd in clients.values { Sockets.abort(fd) }
      clients = [:]
      awaiting = []
    }
    // Grouped by namespace: one switch per namespace.
    let order = indices.sorted {
      (plans[$0].sourceNamespace, $0) < (plans[$1].sourceNamespace, $1)
    }
    var current: String?
    do {
      defer { leave() }
      for index in order {
        let plan = plans[index]
        if current != plan.sourceNamespace {
          try enter(plan.sourceNamespace)
          current = plan.sourceNamespace
        }
        start(index, plan, into: &results)
      }
    }
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(timeout * 1000)))
    var fds: [pollfd] = []
    var owners: [Int] = []
    while true {
      fds.removeAll(keepingCapacity: true)
      owners.removeAll(keepingCapacity: true)
      for (position, listener) in listeners.enumerated() {
        fds.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
        owners.append(-1 - position)
      }
      for (index, fd) in clients {
        let events = plans[index].flow.transport == .tcp ? POLLOUT : POLLIN
        fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
        owners.append(index)
      }
      let now = ContinuousClock.now
      guard !clients.isEmpty || !awaiting.isEmpty, now < deadline else { break }
      let ready = poll(&fds, nfds_t(fds.count), Sockets.milliseconds(until: deadline))
      if ready < 0 {
        if errno == EINTR { continue }
        throw LabError(.prober, "poll failed: \(Sockets.errorText())")
      }
      for (position, entry) in fds.enumerated() where entry.revents != 0 {
        let owner = owners[position]
        if owner < 0 {
          serve(listeners[-1 - owner], into: &results)
        } else {
          finish(owner, events: entry.revents, into: &results)
        }
      }
    }
    let waited = timeout.formatted()
    for index in clients.keys where results[index].detail.isEmpty {
      results[index].detail = "no answer within \(waited) s"
    }
    for index in awaiting where results[index].detail.isEmpty {
      results[index].detail = "did not arrive within \(waited) s"
    }
  }

  /// Opens a flow's socket (in its source namespace) and sends its first packet.
  private func start(_ index: Int, _ plan: ProbePlan, into results: inout [ProbeResult]) {
    if plan.flow.isOneWay {
      sendOneWay(index, plan, into: &results)
      return
    }
    let family = plan.v6 ? AF_INET6 : AF_INET
    let fd: Int32
    switch plan.flow.transport {
    case .tcp: fd = socket(family, Int32(SOCK_STREAM.rawValue) | Sockets.flags, 0)
    case .udp: fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Sockets.flags, 0)
    case .icmp:
      fd = socket(
        family, Int32(SOCK_DGRAM.rawValue) | Sockets.flags,
        Int32(plan.v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
    }
    guard fd >= 0 else {
      results[index].detail = "cannot open a socket: \(Sockets.errorText())"
      return
    }
    guard let address = SocketAddress(plan.address, port: plan.flow.port ?? 0, v6: plan.v6)
    else {
      close(fd)
      results[index].detail = "\(plan.address) is not an address a socket can use"
      return
    }
    if let sourcePort = plan.flow.sourcePort {
      // Other flows may hold the same port towards other peers at the same time.
      Sockets.set(fd, SOL_SOCKET, SO_REUSEADDR, 1)
      let bound = SocketAddress.any(port: sourcePort, v6: plan.v6).withPointer { bind(fd, $0, $1) }
      guard bound == 0 else {
        results[index].detail = "cannot bind the source port \(sourcePort): \(Sockets.errorText())"
        close(fd)
        return
      }
    }
    let sent: Bool
    switch plan.flow.transport {
    case .tcp:
      let status = address.withPointer { connect(fd, $0, $1) }
      results[index].sourcePort = SocketAddress.localPort(of: fd) ?? plan.flow.sourcePort
      if status == 0 {
        results[index].connected = true
        results[index].detail = "connected"
        Sockets.abort(fd)
        return
      }
      sent = errno == EINPROGRESS
    case .udp:
      let payload = payload(index)
      let status = address.withPointer { connect(fd, $0, $1) }
      results[index].sourcePort = SocketAddress.localPort(of: fd) ?? plan.flow.sourcePort
      sent = status == 0 && payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } > 0
    case .icmp:
      // Type 8 (echo request) or 128 (ICMPv6), code 0; the kernel sets the identifier and the
      // checksum of a ping socket.
      let message = [UInt8(plan.v6 ? 128 : 8), 0, 0, 0, 0, 0, 0, 1] + payload(index)
      let status = message.withUnsafeBytes { bytes in
        address.withPointer { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
      }
      sent = status > 0
    }
    guard sent else {
      results[index].detail = Sockets.errorText()
      close(fd)
      return
    }
    clients[index] = fd
  }

  /// Sends a one-way ICMP message from the namespace the thread is in: the type and code, an
  /// identifier and sequence number of the flow's own, the payload; the destination's raw
  /// socket reports its arrival.
  private func sendOneWay(_ index: Int, _ plan: ProbePlan, into results: inout [ProbeResult]) {
    let fd = sender(in: plan.sourceNamespace, v6: plan.v6)
    guard fd >= 0 else {
      results[index].detail = "cannot open a raw ICMP socket: \(Sockets.errorText())"
      return
    }
    guard let address = SocketAddress(plan.address, port: 0, v6: plan.v6) else {
      results[index].detail = "\(plan.address) is not an address a socket can use"
      return
    }
    // The identifier and sequence number are the flow's index: no two messages of a run look
    // alike to conntrack (a reply type would otherwise match another flow's request).
    let number = UInt32(truncatingIfNeeded: index)
    var message: [UInt8] = [
      UInt8(plan.flow.icmpType ?? 0), UInt8(plan.flow.icmpCode ?? 0), 0, 0,
      UInt8(number >> 24), UInt8(number >> 16 & 0xff), UInt8(number >> 8 & 0xff),
      UInt8(number & 0xff),
    ]
    message += payload(index)
    if !plan.v6 {
      // The kernel computes ICMPv6 checksums of raw sockets, not ICMP ones.
      let sum = Self.checksum(message)
      message[2] = UInt8(sum >> 8)
      message[3] = UInt8(sum & 0xff)
    }
    let status = message.withUnsafeBytes { bytes in
      address.withPointer { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
    }
    guard status == message.count else {
      results[index].detail = "cannot send: \(Sockets.errorText())"
      return
    }
    awaiting.insert(index)
  }

  /// The Internet checksum (RFC 1071) of a message.
  static func checksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var position = 0
    while position + 1 < bytes.count {
      sum += UInt32(bytes[position]) << 8 | UInt32(bytes[position + 1])
      position += 2
    }
    if position < bytes.count { sum += UInt32(bytes[position]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
  }

  /// A flow's socket is ready: connected, answered, or refused.
  private func finish(_ index: Int, events: Int16, into results: inout [ProbeResult]) {
    guard let fd = clients[index] else { return }
    let plan = plans[index]
    switch plan.flow.transport {
    case .tcp:
      var error: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
      if error == 0 && events & Int16(POLLOUT) != 0 {
        results[index].connected = true
        results[index].detail = "connected"
      } else {
        results[index].detail = Sockets.describe(error == 0 ? ECONNRESET : error)
      }
    case .udp, .icmp:
      var buffer = [UInt8](repeating: 0, count: 128)
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count < 0 {
        if errno == EAGAIN || errno == EWOULDBLOCK { return }
        results[index].detail = Sockets.describe(errno)
      } else {
        let payload = payload(index)
        let received = Array(buffer[0..<count])
        if plan.flow.transport == .udp {
          guard received == payload else { return }  // Not this flow's echo: keep waiting.
        } else {
          // An echo reply (0, or 129 over ICMPv6) carrying the request's payload.
          guard count == 8 + payload.count, received[0] == (plan.v6 ? 129 : 0),
            Array(received[8...]) == payload
          else { return }
        }
        results[index].connected = true
        results[index].detail = plan.flow.transport == .udp ? "connected" : "echo reply"
      }
    }
    Sockets.abort(fd)
    clients[index] = nil
  }

  /// Accepts and drops every pending connection (TCP), echoes every datagram (UDP), or notes
  /// the one-way ICMP messages that arrived (raw).
  private func serve(
    _ listener: (fd: Int32, kind: Kind, namespace: String), into results: inout [ProbeResult]
  ) {
    switch listener.kind {
    case .tcp:
      while true {
        let accepted = accept(listener.fd, nil, nil)
        guard accepted >= 0 else { return }
        // A plain close (FIN): a reset could reach the client before it sees the handshake
        // complete; the client's reset then ends the connection on both sides.
        close(accepted)
      }
    case .udp:
      Sockets.echo(listener.fd)
    case .icmp(let v6):
      arrivals(listener.fd, v6: v6, namespace: listener.namespace, into: &results)
    }
  }

  /// Reads every message waiting on a raw ICMP socket and marks the one-way flows they belong
  /// to as arrived: this run's payload, at the flow's destination, of the flow's type and code.
  private func arrivals(
    _ fd: Int32, v6: Bool, namespace: String, into results: inout [ProbeResult]
  ) {
    var buffer = [UInt8](repeating: 0, count: 2048)
    let marker = Array("zpr-lab".utf8) + withUnsafeBytes(of: nonce.bigEndian) { Array($0) }
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      guard count >= 0 else { return }
      // An IPv4 raw socket reads the IP header first; an ICMPv6 one reads the message alone.
      let start = v6 ? 0 : Int(buffer[0] & 0x0f) * 4
      let body = start + 8
      guard count >= body + marker.count + 8,
        Array(buffer[body..<(body + marker.count)]) == marker
      else { continue }
      var index = 0
      for byte in buffer[(body + marker.count)..<(body + marker.count + 8)] {
        index = index << 8 | Int(byte)
      }
      guard awaiting.contains(index), plans[index].destinationNamespace == namespace,
        plans[index].v6 == v6, Int(buffer[start]) == plans[index].flow.icmpType,
        Int(buffer[start + 1]) == plans[index].flow.icmpCode ?? 0
      else { continue }
      awaiting.remove(index)
      results[index].connected = true
      results[index].detail = "arrived"
    }
  }
}
