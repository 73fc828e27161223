import Foundation
public import ZPREngine
import ZPRPolicy

#if canImport(Glibc)
  import Glibc
#endif

/// A flow for ``LabProber``: from one VNIC of the lab to another over a protocol, to a port
/// (TCP, UDP) or as an echo request (ICMP, or ICMPv6 between IPv6 VNICs).
public struct LabFlow: Hashable, Sendable {
  public var source: String
  public var destination: String
  public var transport: FlowProtocol
  /// The destination port (TCP, UDP); nil for ICMP.
  public var port: Int?

  /// A flow between two VNICs by name (`web-1`, `web-1/1`).
  public init(from source: String, to destination: String, transport: FlowProtocol, port: Int?) {
    self.source = source
    self.destination = destination
    self.transport = transport
    self.port = port
  }

  /// `web-1 -> app-1 tcp/8080`.
  public var label: String {
    "\(source) -> \(destination) \(transport.rawValue)\(port.map { "/\($0)" } ?? "")"
  }
}

/// Tries many flows of a lab at once, natively: listeners (TCP accepts, UDP echoes) start once
/// per destination, port and address, then the flows run in batches of non-blocking sockets
/// polled from one dedicated thread, which enters each VNIC's network namespace to make its
/// sockets. A flow connects when its TCP handshake completes, its UDP payload comes back, or
/// its ICMP echo is answered; a flow that gets no answer within the timeout did not.
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

  /// The namespaces and the address of a flow, as ``Lab/probe(from:to:transport:port:timeout:)``
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

  /// The listener the flow needs (none for ICMP).
  var listener: ListenerKey? {
    guard flow.transport != .icmp, let port = flow.port else { return nil }
    return ListenerKey(
      namespace: destinationNamespace, address: address, v6: v6, transport: flow.transport,
      port: port)
  }
}

/// A listening socket: where, which protocol, which port.
struct ListenerKey: Hashable, Sendable {
  var namespace: String
  var address: String
  var v6: Bool
  var transport: FlowProtocol
  var port: Int
}

/// `setns(2)` for network namespaces (Glibc's module leaves it out: it is a GNU extension).
enum Namespace {
  private typealias SetNS = @convention(c) (Int32, Int32) -> Int32

  /// `CLONE_NEWNET`.
  private static let network: Int32 = 0x4000_0000

  /// Moves the calling thread into the network namespace of a descriptor; 0, or -1 and errno.
  static func set(_ fd: Int32) -> Int32 {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else {
      errno = ENOSYS
      return -1
    }
    return unsafeBitCast(symbol, to: SetNS.self)(fd, network)
  }
}

/// An IPv4 or IPv6 socket address.
struct SocketAddress {
  var storage = sockaddr_storage()
  var length: socklen_t = 0

  init?(_ text: String, port: Int, v6: Bool) {
    if v6 {
      var address = sockaddr_in6()
      address.sin6_family = sa_family_t(AF_INET6)
      address.sin6_port = in_port_t(UInt16(port).bigEndian)
      guard inet_pton(AF_INET6, text, &address.sin6_addr) == 1 else { return nil }
      store(address)
    } else {
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else { return nil }
      store(address)
    }
  }

  /// Keeps a `sockaddr_in` or `sockaddr_in6` as the storage, and its length.
  private mutating func store<Address>(_ address: Address) {
    withUnsafeBytes(of: address) { bytes in
      withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
    }
    length = socklen_t(MemoryLayout<Address>.size)
  }

  /// Calls `body` with the address as a `sockaddr`.
  func withPointer<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    withUnsafeBytes(of: storage) { bytes in
      body(bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
    }
  }
}

/// One run of the prober, on its own thread: owns every descriptor it opens and closes them
/// all, and brings the thread back to its namespace, when it ends.
final class ProbeRun {
  let plans: [ProbePlan]
  let timeout: Double
  let batch: Int
  /// The thread's own network namespace, to come back to.
  private var home: Int32 = -1
  /// Open namespace files by name.
  private var namespaces: [String: Int32] = [:]
  /// Listening sockets (TCP) and echo sockets (UDP), with their protocol.
  private var listeners: [(fd: Int32, transport: FlowProtocol)] = []
  /// The client sockets of the batch in flight, by flow index.
  private var clients: [Int: Int32] = [:]

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
    if home >= 0 {
      _ = Namespace.set(home)
      close(home)
      home = -1
    }
    for fd in namespaces.values { close(fd) }
    namespaces = [:]
  }

  func run() throws(LabError) -> [ProbeResult] {
    defer { closeAll() }
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard home >= 0 else {
      throw LabError(
        .prober, "cannot open this thread's network namespace: \(Self.errorText()): run as root")
    }
    try raiseDescriptorLimit()
    try startListeners()
    try allowPing()
    var results = plans.map { plan in
      ProbeResult(
        from: plan.flow.source, to: plan.flow.destination, transport: plan.flow.transport,
        port: plan.flow.port, connected: false, detail: "")
    }
    var start = 0
    while start < plans.count {
      let end = min(start + batch, plans.count)
      try runBatch(start..<end, into: &results)
      start = end
    }
    return results
  }

  /// Enough descriptors for a batch and the listeners (raises the soft limit to the hard one).
  private func raiseDescriptorLimit() throws(LabError) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    let listenerCount = Set(plans.compactMap(\.listener)).count
    let needed = rlim_t(batch + listenerCount + Set(plans.map(\.sourceNamespace)).count + 256)
    if limit.rlim_cur < needed {
      limit.rlim_cur = min(max(needed, limit.rlim_cur), limit.rlim_max)
      _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    guard limit.rlim_cur >= needed else {
      throw LabError(
        .prober,
        "the prober needs \(needed) file descriptors and may open only \(limit.rlim_cur): "
          + "raise `ulimit -n` or probe in smaller batches")
    }
  }

  /// Moves this thread into a namespace of the lab.
  private func enter(_ name: String) throws(LabError) {
    let fd: Int32
    if let open = namespaces[name] {
      fd = open
    } else {
      fd = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw LabError(
          .prober,
          "cannot open the namespace \(name): \(Self.errorText()): is the lab up (`zpr lab up`)?")
      }
      namespaces[name] = fd
    }
    guard Namespace.set(fd) == 0 else {
      throw LabError(
        .prober, "cannot enter the namespace \(name): \(Self.errorText()): run as root")
    }
  }

  /// Back to the thread's own namespace.
  private func leave() {
    _ = Namespace.set(home)
  }

  /// A listening TCP socket or a UDP echo socket on each port and address the flows use.
  private func startListeners() throws(LabError) {
    let keys = Set(plans.compactMap(\.listener)).sorted {
      ($0.namespace, $0.address, $0.transport.rawValue, $0.port)
        < ($1.namespace, $1.address, $1.transport.rawValue, $1.port)
    }
    var current: String?
    defer { leave() }
    for key in keys {
      if current != key.namespace {
        try enter(key.namespace)
        current = key.namespace
      }
      let tcp = key.transport == .tcp
      let fd = socket(
        key.v6 ? AF_INET6 : AF_INET,
        Int32((tcp ? SOCK_STREAM : SOCK_DGRAM).rawValue) | Int32(SOCK_NONBLOCK.rawValue)
          | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else {
        throw LabError(.listener, "cannot make a listener in \(key.namespace): \(Self.errorText())")
      }
      listeners.append((fd, key.transport))
      var one: Int32 = 1
      _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
      if key.v6 {
        _ = setsockopt(
          fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
      }
      if !tcp {
        // Room for a whole batch of datagrams before the loop echoes them.
        var size: Int32 = 8 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
      }
      guard let address = SocketAddress(key.address, port: key.port, v6: key.v6) else {
        throw LabError(.listener, "\(key.address) is not an address a socket can use")
      }
      let bound = address.withPointer { bind(fd, $0, $1) }
      guard bound == 0 else {
        throw LabError(
          .listener,
          "cannot listen on \(key.address) \(key.transport.rawValue)/\(key.port) in "
            + "\(key.namespace): \(Self.errorText()): is something else listening there?")
      }
      if tcp {
        guard listen(fd, 4096) == 0 else {
          throw LabError(
            .listener, "cannot listen on \(key.address) tcp/\(key.port): \(Self.errorText())")
        }
      }
    }
  }

  /// Lets root open ping sockets in every namespace that sends an ICMP echo.
  private func allowPing() throws(LabError) {
    let names = Set(plans.filter { $0.flow.transport == .icmp }.map(\.sourceNamespace)).sorted()
    defer { leave() }
    for name in names {
      try enter(name)
      let fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw LabError(.prober, "cannot allow ping sockets in \(name): \(Self.errorText())")
      }
      let text = Array("0 2147483647\n".utf8)
      let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      close(fd)
      guard written == text.count else {
        throw LabError(.prober, "cannot allow ping sockets in \(name): \(Self.errorText())")
      }
    }
  }

  /// The payload of a flow's datagram or echo: a marker and the flow's index.
  private static func payload(_ index: Int) -> [UInt8] {
    Array("zpr-lab".utf8) + withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
  }

  /// Starts the flows of a batch, then answers and collects until every flow is done or the
  /// timeout has passed since the last one started.
  private func runBatch(_ range: Range<Int>, into results: inout [ProbeResult]) throws(LabError) {
    defer {
      for fd in clients.values { Self.abort(fd) }
      clients = [:]
    }
    // Grouped by namespace: one switch per namespace.
    let order = range.sorted { plans[$0].sourceNamespace < plans[$1].sourceNamespace }
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
      guard !clients.isEmpty, now < deadline else { break }
      let left = now.duration(to: deadline).components
      let milliseconds = Int32(left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000) + 1
      let ready = poll(&fds, nfds_t(fds.count), milliseconds)
      if ready < 0 {
        if errno == EINTR { continue }
        throw LabError(.prober, "poll failed: \(Self.errorText())")
      }
      for (position, entry) in fds.enumerated() where entry.revents != 0 {
        let owner = owners[position]
        if owner < 0 {
          serve(listeners[-1 - owner])
        } else {
          finish(owner, events: entry.revents, into: &results)
        }
      }
    }
    let waited = timeout.formatted()
    for index in clients.keys where results[index].detail.isEmpty {
      results[index].detail = "no answer within \(waited) s"
    }
  }

  /// Opens a flow's socket (in its source namespace) and sends its first packet.
  private func start(_ index: Int, _ plan: ProbePlan, into results: inout [ProbeResult]) {
    let family = plan.v6 ? AF_INET6 : AF_INET
    let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    let fd: Int32
    switch plan.flow.transport {
    case .tcp: fd = socket(family, Int32(SOCK_STREAM.rawValue) | flags, 0)
    case .udp: fd = socket(family, Int32(SOCK_DGRAM.rawValue) | flags, 0)
    case .icmp:
      fd = socket(
        family, Int32(SOCK_DGRAM.rawValue) | flags,
        Int32(plan.v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
    }
    guard fd >= 0 else {
      results[index].detail = "cannot open a socket: \(Self.errorText())"
      return
    }
    guard let address = SocketAddress(plan.address, port: plan.flow.port ?? 0, v6: plan.v6)
    else {
      close(fd)
      results[index].detail = "\(plan.address) is not an address a socket can use"
      return
    }
    let sent: Bool
    switch plan.flow.transport {
    case .tcp:
      let status = address.withPointer { connect(fd, $0, $1) }
      if status == 0 {
        results[index].connected = true
        results[index].detail = "connected"
        Self.abort(fd)
        return
      }
      sent = errno == EINPROGRESS
    case .udp:
      let payload = Self.payload(index)
      let status = address.withPointer { connect(fd, $0, $1) }
      sent = status == 0 && payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } > 0
    case .icmp:
      // Type 8 (echo request) or 128 (ICMPv6), code 0; the kernel sets the identifier and the
      // checksum of a ping socket.
      let message = [UInt8(plan.v6 ? 128 : 8), 0, 0, 0, 0, 0, 0, 1] + Self.payload(index)
      let status = message.withUnsafeBytes { bytes in
        address.withPointer { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
      }
      sent = status > 0
    }
    guard sent else {
      results[index].detail = Self.errorText()
      close(fd)
      return
    }
    clients[index] = fd
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
        results[index].detail = Self.describe(error == 0 ? ECONNRESET : error)
      }
    case .udp, .icmp:
      var buffer = [UInt8](repeating: 0, count: 128)
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count < 0 {
        if errno == EAGAIN || errno == EWOULDBLOCK { return }
        results[index].detail = Self.describe(errno)
      } else {
        let payload = Self.payload(index)
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
    Self.abort(fd)
    clients[index] = nil
  }

  /// Accepts and drops every pending connection (TCP), or echoes every datagram (UDP).
  private func serve(_ listener: (fd: Int32, transport: FlowProtocol)) {
    if listener.transport == .tcp {
      while true {
        let accepted = accept(listener.fd, nil, nil)
        guard accepted >= 0 else { return }
        // A plain close (FIN): a reset could reach the client before it sees the handshake
        // complete; the client's reset then ends the connection on both sides.
        close(accepted)
      }
    }
    var buffer = [UInt8](repeating: 0, count: 2048)
    var peer = sockaddr_storage()
    while true {
      var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
      let count = buffer.withUnsafeMutableBytes { bytes in
        withUnsafeMutablePointer(to: &peer) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(listener.fd, bytes.baseAddress, bytes.count, 0, $0, &length)
          }
        }
      }
      guard count >= 0 else { return }
      _ = buffer.withUnsafeBytes { bytes in
        withUnsafePointer(to: &peer) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(listener.fd, bytes.baseAddress, count, 0, $0, length)
          }
        }
      }
    }
  }

  /// Closes a socket at once (a TCP connection is reset, leaving nothing in TIME_WAIT).
  private static func abort(_ fd: Int32) {
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    close(fd)
  }

  /// What an error means for a flow: a refusal (a reset, or a port unreachable) means that
  /// nothing listens there, which is the prober's fault (the lab's firewalls drop).
  static func describe(_ error: Int32) -> String {
    let text = String(cString: strerror(error))
    return error == ECONNREFUSED ? "refused (\(text)): nothing listens there" : text
  }

  /// The text of `errno`.
  private static func errorText() -> String { String(cString: strerror(errno)) }
}
