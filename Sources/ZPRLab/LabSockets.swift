import Foundation
import ZPREnforcer
import ZPREngine

#if canImport(Glibc)
  import Glibc
#endif

/// The network namespaces of a lab as one thread moves between them: it opens each
/// namespace's file once, enters them in turn, and comes back to its own namespace when it is
/// closed. A socket belongs to the namespace it was opened in, wherever it is used later.
final class NamespaceHops {
  /// The thread's own network namespace, to come back to.
  private var home: Int32
  /// Open namespace files by name.
  private var open: [String: Int32] = [:]

  /// Notes the calling thread's namespace (to come back to).
  init() throws(LabError) {
    home = Glibc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard home >= 0 else {
      throw LabError(
        .prober, "cannot open this thread's network namespace: \(Sockets.errorText()): run as root")
    }
  }

  deinit { close() }

  /// Moves the thread into a namespace of the lab.
  func enter(_ name: String) throws(LabError) {
    let fd: Int32
    if let known = open[name] {
      fd = known
    } else {
      fd = Glibc.open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw LabError(
          .prober,
          "cannot open the namespace \(name): \(Sockets.errorText()): is the lab up (`zpr lab up`)?"
        )
      }
      open[name] = fd
    }
    guard NetworkNamespace.set(fd) == 0 else {
      throw LabError(
        .prober, "cannot enter the namespace \(name): \(Sockets.errorText()): run as root")
    }
  }

  /// Back to the thread's own namespace.
  func leave() {
    if home >= 0 { _ = NetworkNamespace.set(home) }
  }

  /// Back home, and every namespace file closed.
  func close() {
    if home >= 0 {
      _ = NetworkNamespace.set(home)
      Glibc.close(home)
      home = -1
    }
    for fd in open.values { Glibc.close(fd) }
    open = [:]
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

  /// The wildcard address of a family with a port (`0.0.0.0:PORT`, `[::]:PORT`).
  static func any(port: Int, v6: Bool) -> SocketAddress {
    SocketAddress(v6 ? "::" : "0.0.0.0", port: port, v6: v6)!
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

  /// The local port a socket is bound to, or nil.
  static func localPort(of fd: Int32) -> Int? {
    endpoint(of: fd, peer: false).map(\.port)
  }

  /// A socket's own address and port (`peer`: its peer's), as text and number; nil when it has
  /// none.
  static func endpoint(of fd: Int32, peer: Bool) -> (address: String, port: Int)? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length)
      }
    }
    guard status == 0 else { return nil }
    return withUnsafeBytes(of: storage) { bytes -> (String, Int)? in
      // sin_port and sin6_port sit at the same offset, after the family.
      let port = Int(UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
      let family = Int32(storage.ss_family)
      var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
      let offset =
        family == AF_INET6
        ? MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
        : MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
      guard family == AF_INET || family == AF_INET6, port != 0,
        inet_ntop(family, bytes.baseAddress! + offset, &text, socklen_t(text.count)) != nil
      else { return nil }
      let end = text.firstIndex(of: 0) ?? text.count
      return (String(decoding: text[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self), port)
    }
  }
}

/// The socket calls the prober and the held connections share.
enum Sockets {
  /// The flags of every socket the lab opens: non-blocking, closed on exec.
  static let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

  /// Sets an integer socket option.
  static func set(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Int32) {
    var value = value
    _ = setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
  }

  /// A TCP socket listening, or a UDP socket bound, on an address and port of the namespace
  /// the thread is in.
  static func listener(_ key: ListenerKey) throws(LabError) -> Int32 {
    let tcp = key.transport == .tcp
    let fd = socket(
      key.v6 ? AF_INET6 : AF_INET, Int32((tcp ? SOCK_STREAM : SOCK_DGRAM).rawValue) | flags, 0)
    guard fd >= 0 else {
      throw LabError(.listener, "cannot make a listener in \(key.namespace): \(errorText())")
    }
    set(fd, SOL_SOCKET, SO_REUSEADDR, 1)
    if key.v6 { set(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
    // Room for a whole batch of datagrams before the loop echoes them.
    if !tcp { set(fd, SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20) }
    guard let address = SocketAddress(key.address, port: key.port, v6: key.v6) else {
      close(fd)
      throw LabError(.listener, "\(key.address) is not an address a socket can use")
    }
    let bound = address.withPointer { bind(fd, $0, $1) }
    guard bound == 0 else {
      let text = errorText()
      close(fd)
      throw LabError(
        .listener,
        "cannot listen on \(key.address) \(key.transport.rawValue)/\(key.port) in "
          + "\(key.namespace): \(text): is something else listening there?")
    }
    if tcp {
      guard listen(fd, 4096) == 0 else {
        let text = errorText()
        close(fd)
        throw LabError(.listener, "cannot listen on \(key.address) tcp/\(key.port): \(text)")
      }
    }
    return fd
  }

  /// Sends every datagram waiting on a UDP socket back where it came from.
  static func echo(_ fd: Int32) {
    var buffer = [UInt8](repeating: 0, count: 2048)
    var peer = sockaddr_storage()
    while true {
      var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
      let count = buffer.withUnsafeMutableBytes { bytes in
        withUnsafeMutablePointer(to: &peer) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length)
          }
        }
      }
      guard count >= 0 else { return }
      _ = buffer.withUnsafeBytes { bytes in
        withUnsafePointer(to: &peer) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, bytes.baseAddress, count, 0, $0, length)
          }
        }
      }
    }
  }

  /// Enough descriptors for `needed` of them (raises the soft limit towards the hard one).
  static func raiseDescriptorLimit(to needed: Int, hint: String) throws(LabError) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    let wanted = rlim_t(needed)
    if limit.rlim_cur < wanted {
      limit.rlim_cur = min(max(wanted, limit.rlim_cur), limit.rlim_max)
      _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    guard limit.rlim_cur >= wanted else {
      throw LabError(
        .prober,
        "the lab needs \(needed) file descriptors and may open only \(limit.rlim_cur): "
          + "raise `ulimit -n` or \(hint)")
    }
  }

  /// Closes a socket at once (a TCP connection is reset, leaving nothing in TIME_WAIT).
  static func abort(_ fd: Int32) {
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
  static func errorText() -> String { String(cString: strerror(errno)) }

  /// Milliseconds left until a deadline, for `poll` (at least 1 while any is left).
  static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
    let left = ContinuousClock.now.duration(to: deadline).components
    guard left.seconds >= 0, left.attoseconds >= 0 else { return 0 }
    return Int32(left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000) + 1
  }
}
