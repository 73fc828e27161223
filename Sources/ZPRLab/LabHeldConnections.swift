import Foundation
import Synchronization
import ZPREngine

#if canImport(Glibc)
  import Glibc
#endif

/// What a held connection did when it was asked to carry data.
public struct HeldExchange: Hashable, Sendable {
  public var flow: LabFlow
  /// Whether the payload came back, echoed, within the timeout.
  public var carried: Bool
  /// What happened, in a few words (`echoed`, `no echo within 1 s`, `reset: ...`,
  /// `not open: ...`).
  public var detail: String
}

/// Many TCP connections and UDP flows held open across a lab's VNICs at once, to see what a
/// policy change does to connections already established: each is opened once (TCP: the
/// handshake completes and the destination's listener accepts it; UDP: a connected socket
/// and the destination's echo socket), then ``exchange(_:timeout:)`` sends a fresh payload on
/// each and says which came back. A revoked connection that zpr's reconciler cut gets no
/// echo: its next packet is decided again, and dropped. The sockets stay open until
/// ``close()`` (or until this is released); every call runs on a dedicated thread, which
/// enters the lab's namespaces only to open sockets.
public final class LabHeldConnections: Sendable {
  /// The lab, up.
  public let lab: Lab
  /// The flows asked for, in order.
  public let flows: [LabFlow]
  /// Whether each flow's connection opened.
  public let opened: [Bool]
  /// Why each flow that did not open did not (empty for those that did).
  public let failures: [String]
  /// The source port of each flow's socket (nil when it has none).
  public let sourcePorts: [Int?]
  /// The sockets, and what each TCP connection has received so far.
  private let sockets: Mutex<HeldSockets>

  private init(
    lab: Lab, flows: [LabFlow], opened: [Bool], failures: [String], sourcePorts: [Int?],
    sockets: HeldSockets
  ) {
    self.lab = lab
    self.flows = flows
    self.opened = opened
    self.failures = failures
    self.sourcePorts = sourcePorts
    self.sockets = Mutex(sockets)
  }

  deinit { close() }

  /// How many flows opened.
  public var openCount: Int { opened.filter { $0 }.count }

  /// Opens a connection for every flow (TCP or UDP to a port, from a chosen source port or
  /// the kernel's pick): listeners first (TCP accepts, UDP echoes), then every client at once,
  /// waiting up to `timeout` seconds for the TCP handshakes. A flow whose connection does not
  /// open is noted in ``opened`` and ``failures``, not thrown: the firewalls may well drop it.
  public static func open(_ lab: Lab, flows: [LabFlow], timeout: Double = 2)
    async throws(LabError) -> LabHeldConnections
  {
    for flow in flows where flow.transport == .icmp {
      throw LabError(
        .missingPort, "\(flow.label): a held connection is TCP or UDP to a port, not ICMP")
    }
    let prober = LabProber(lab)
    let plans = try flows.map { flow throws(LabError) in try prober.plan(flow) }
    let opening: Result<HeldOpening, LabError> = await Self.onThread {
      () throws(LabError) -> HeldOpening in
      try HeldOpening.open(plans, timeout: timeout)
    }
    let done = try opening.get()
    return LabHeldConnections(
      lab: lab, flows: flows, opened: done.failures.map(\.isEmpty), failures: done.failures,
      sourcePorts: done.sourcePorts, sockets: done.sockets)
  }

  /// Sends a fresh payload on every open connection (or on those of `indices`), serves the
  /// listeners, and says for each flow, in order, whether its payload came back within
  /// `timeout` seconds. Flows not asked about, or not open, did not carry.
  public func exchange(_ indices: [Int]? = nil, timeout: Double = 1) async throws(LabError)
    -> [HeldExchange]
  {
    let chosen = indices ?? Array(flows.indices)
    let result: Result<[HeldExchange], LabError> = await Self.onThread {
      () throws(LabError) -> [HeldExchange] in
      try self.sockets.withLock { sockets throws(LabError) -> [HeldExchange] in
        try sockets.exchange(chosen, flows: self.flows, timeout: timeout)
      }
    }
    return try result.get()
  }

  /// Resets every connection and closes every socket (again: nothing happens).
  public func close() {
    sockets.withLock { $0.close() }
  }

  /// Runs blocking work on a thread of its own (it may enter network namespaces and wait in
  /// `poll`, which no task of the cooperative pool should).
  private static func onThread<T: Sendable>(
    _ work: @escaping @Sendable () throws(LabError) -> T
  ) async -> Result<T, LabError> {
    await withCheckedContinuation { continuation in
      let thread = Thread {
        continuation.resume(returning: Result { () throws(LabError) -> T in try work() })
      }
      thread.name = "zpr-lab-held"
      thread.start()
    }
  }
}

/// The sockets of held connections: each flow's client, the accepted end of each TCP
/// connection, and the listeners.
struct HeldSockets: Sendable {
  /// Each flow's client socket (-1: none).
  var clients: [Int32]
  /// Each TCP flow's accepted socket at the destination (-1: none, or UDP).
  var servers: [Int32]
  /// The listening TCP sockets and the UDP echo sockets.
  var listeners: [(fd: Int32, tcp: Bool)]
  /// Each flow's transport.
  var tcp: [Bool]
  /// What each TCP client has received and not yet matched.
  var received: [[UInt8]]
  /// The number of the last exchange.
  var round: UInt32 = 0
  /// Marks this set's payloads.
  let nonce = UInt32.random(in: 0...UInt32.max)

  /// Resets and closes everything.
  mutating func close() {
    for fd in clients + servers where fd >= 0 { Sockets.abort(fd) }
    for listener in listeners { Glibc.close(listener.fd) }
    clients = clients.map { _ in -1 }
    servers = servers.map { _ in -1 }
    listeners = []
  }

  /// The payload of a flow in this round: a marker, the nonce, the round and the index.
  private func payload(_ index: Int) -> [UInt8] {
    Array("zpr-held".utf8) + withUnsafeBytes(of: nonce.bigEndian) { Array($0) }
      + withUnsafeBytes(of: round.bigEndian) { Array($0) }
      + withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
  }

  /// One exchange over the chosen flows (see ``LabHeldConnections/exchange(_:timeout:)``).
  mutating func exchange(_ chosen: [Int], flows: [LabFlow], timeout: Double) throws(LabError)
    -> [HeldExchange]
  {
    round += 1
    var results = flows.map { HeldExchange(flow: $0, carried: false, detail: "not asked") }
    var pending: Set<Int> = []
    for index in chosen where flows.indices.contains(index) {
      guard clients[index] >= 0 else {
        results[index].detail = "not open"
        continue
      }
      received[index] = []
      let payload = payload(index)
      let sent = payload.withUnsafeBytes {
        send(clients[index], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard sent == payload.count else {
        results[index].detail = "cannot send: \(Sockets.errorText())"
        continue
      }
      pending.insert(index)
    }
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(timeout * 1000)))
    var fds: [pollfd] = []
    var owners: [(index: Int, role: Int)] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !pending.isEmpty, ContinuousClock.now < deadline {
      fds.removeAll(keepingCapacity: true)
      owners.removeAll(keepingCapacity: true)
      for (position, listener) in listeners.enumerated() where !listener.tcp {
        fds.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
        owners.append((position, 0))
      }
      for index in pending {
        fds.append(pollfd(fd: clients[index], events: Int16(POLLIN), revents: 0))
        owners.append((index, 1))
        if tcp[index], servers[index] >= 0 {
          fds.append(pollfd(fd: servers[index], events: Int16(POLLIN), revents: 0))
          owners.append((index, 2))
        }
      }
      let ready = poll(&fds, nfds_t(fds.count), Sockets.milliseconds(until: deadline))
      if ready < 0 {
        if errno == EINTR { continue }
        throw LabError(.prober, "poll failed: \(Sockets.errorText())")
      }
      for (position, entry) in fds.enumerated() where entry.revents != 0 {
        let (index, role) = owners[position]
        switch role {
        case 0:
          Sockets.echo(listeners[index].fd)
        case 2:
          // The destination's end of a TCP connection sends back what it reads.
          let count = buffer.withUnsafeMutableBytes {
            recv(servers[index], $0.baseAddress, $0.count, 0)
          }
          if count > 0 {
            _ = buffer.withUnsafeBytes {
              send(servers[index], $0.baseAddress, count, Int32(MSG_NOSIGNAL))
            }
          }
        default:
          guard pending.contains(index) else { continue }
          let count = buffer.withUnsafeMutableBytes {
            recv(clients[index], $0.baseAddress, $0.count, 0)
          }
          if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { continue }
            results[index].detail = "reset: \(Sockets.errorText())"
            pending.remove(index)
            continue
          }
          if count == 0 && tcp[index] {
            results[index].detail = "closed by the destination"
            pending.remove(index)
            continue
          }
          let payload = payload(index)
          if tcp[index] {
            received[index] += buffer[0..<count]
            guard received[index].count >= payload.count,
              Array(received[index].suffix(payload.count)) == payload
            else { continue }
          } else {
            guard Array(buffer[0..<count]) == payload else { continue }
          }
          received[index] = []
          results[index].carried = true
          results[index].detail = "echoed"
          pending.remove(index)
        }
      }
    }
    for index in pending {
      results[index].detail = "no echo within \(timeout.formatted()) s"
    }
    return results
  }
}

/// Opening held connections, on their thread: listeners, clients, handshakes, accepts.
struct HeldOpening: Sendable {
  var sockets: HeldSockets
  /// Why each flow did not open (empty: it did).
  var failures: [String]
  var sourcePorts: [Int?]

  static func open(_ plans: [ProbePlan], timeout: Double) throws(LabError) -> HeldOpening {
    let hops = try NamespaceHops()
    defer { hops.close() }
    let keys = Set(plans.compactMap(\.listener)).sorted {
      ($0.namespace, $0.address, $0.transport.rawValue, $0.port)
        < ($1.namespace, $1.address, $1.transport.rawValue, $1.port)
    }
    try Sockets.raiseDescriptorLimit(
      to: 2 * plans.count + keys.count + 256, hint: "hold fewer connections")
    let sockets = HeldSockets(
      clients: plans.map { _ in -1 }, servers: plans.map { _ in -1 }, listeners: [],
      tcp: plans.map { $0.flow.transport == .tcp }, received: plans.map { _ in [] })
    var opening = HeldOpening(
      sockets: sockets, failures: plans.map { _ in "" }, sourcePorts: plans.map { _ in nil })
    do {
      for key in keys {
        try hops.enter(key.namespace)
        let fd = try Sockets.listener(key)
        opening.sockets.listeners.append((fd, key.transport == .tcp))
      }
      // Clients, grouped by namespace; TCP connections by their two ends, to match accepts.
      var byEnds: [String: Int] = [:]
      var connecting: Set<Int> = []
      let order = plans.indices.sorted {
        (plans[$0].sourceNamespace, $0) < (plans[$1].sourceNamespace, $1)
      }
      var current: String?
      for index in order {
        let plan = plans[index]
        if current != plan.sourceNamespace {
          try hops.enter(plan.sourceNamespace)
          current = plan.sourceNamespace
        }
        opening.connect(index, plan, ends: &byEnds, connecting: &connecting)
      }
      hops.leave()
      try opening.complete(plans, ends: byEnds, connecting: connecting, timeout: timeout)
    } catch {
      hops.leave()
      opening.sockets.close()
      throw error
    }
    return opening
  }

  /// Opens a flow's client socket in the namespace the thread is in and starts connecting.
  private mutating func connect(
    _ index: Int, _ plan: ProbePlan, ends: inout [String: Int], connecting: inout Set<Int>
  ) {
    let tcp = plan.flow.transport == .tcp
    let fd = socket(
      plan.v6 ? AF_INET6 : AF_INET,
      Int32((tcp ? SOCK_STREAM : SOCK_DGRAM).rawValue) | Sockets.flags,
      0)
    guard fd >= 0 else {
      failures[index] = "cannot open a socket: \(Sockets.errorText())"
      return
    }
    if let sourcePort = plan.flow.sourcePort {
      Sockets.set(fd, SOL_SOCKET, SO_REUSEADDR, 1)
      let bound = SocketAddress.any(port: sourcePort, v6: plan.v6).withPointer { bind(fd, $0, $1) }
      guard bound == 0 else {
        failures[index] = "cannot bind the source port \(sourcePort): \(Sockets.errorText())"
        Glibc.close(fd)
        return
      }
    }
    guard let address = SocketAddress(plan.address, port: plan.flow.port ?? 0, v6: plan.v6) else {
      failures[index] = "\(plan.address) is not an address a socket can use"
      Glibc.close(fd)
      return
    }
    let status = address.withPointer { Glibc.connect(fd, $0, $1) }
    guard status == 0 || (tcp && errno == EINPROGRESS) else {
      failures[index] = "cannot connect: \(Sockets.errorText())"
      Glibc.close(fd)
      return
    }
    sockets.clients[index] = fd
    let local = SocketAddress.endpoint(of: fd, peer: false)
    sourcePorts[index] = local?.port
    if tcp, let local {
      ends["\(local.address) \(local.port) \(plan.address) \(plan.flow.port ?? 0)"] = index
      connecting.insert(index)
    }
  }

  /// Waits for the TCP handshakes and accepts them, until each is done or the timeout.
  private mutating func complete(
    _ plans: [ProbePlan], ends: [String: Int], connecting: Set<Int>, timeout: Double
  ) throws(LabError) {
    var waiting = connecting
    var unaccepted = connecting
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(timeout * 1000)))
    var fds: [pollfd] = []
    var owners: [Int] = []
    while !(waiting.isEmpty && unaccepted.isEmpty), ContinuousClock.now < deadline {
      fds.removeAll(keepingCapacity: true)
      owners.removeAll(keepingCapacity: true)
      for (position, listener) in sockets.listeners.enumerated() where listener.tcp {
        fds.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
        owners.append(-1 - position)
      }
      for index in waiting {
        fds.append(pollfd(fd: sockets.clients[index], events: Int16(POLLOUT), revents: 0))
        owners.append(index)
      }
      let ready = poll(&fds, nfds_t(fds.count), Sockets.milliseconds(until: deadline))
      if ready < 0 {
        if errno == EINTR { continue }
        throw LabError(.prober, "poll failed: \(Sockets.errorText())")
      }
      for (position, entry) in fds.enumerated() where entry.revents != 0 {
        let owner = owners[position]
        if owner < 0 {
          let listener = sockets.listeners[-1 - owner].fd
          while true {
            let accepted = accept(listener, nil, nil)
            guard accepted >= 0 else { break }
            _ = fcntl(accepted, F_SETFL, fcntl(accepted, F_GETFL) | O_NONBLOCK)
            _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
            guard let peer = SocketAddress.endpoint(of: accepted, peer: true),
              let local = SocketAddress.endpoint(of: accepted, peer: false),
              let index = ends["\(peer.address) \(peer.port) \(local.address) \(local.port)"],
              sockets.servers[index] < 0
            else {
              Sockets.abort(accepted)
              continue
            }
            sockets.servers[index] = accepted
            unaccepted.remove(index)
          }
          continue
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(sockets.clients[owner], SOL_SOCKET, SO_ERROR, &error, &length)
        waiting.remove(owner)
        if error != 0 || entry.revents & Int16(POLLOUT) == 0 {
          failures[owner] = Sockets.describe(error == 0 ? ECONNRESET : error)
          unaccepted.remove(owner)
        }
      }
    }
    for index in connecting
    where !failures[index].isEmpty || waiting.contains(index)
      || unaccepted.contains(index)
    {
      if failures[index].isEmpty {
        failures[index] =
          waiting.contains(index)
          ? "no handshake within \(timeout.formatted()) s" : "not accepted within the timeout"
      }
      Sockets.abort(sockets.clients[index])
      sockets.clients[index] = -1
      if sockets.servers[index] >= 0 {
        Sockets.abort(sockets.servers[index])
        sockets.servers[index] = -1
      }
      sourcePorts[index] = nil
    }
  }
}
