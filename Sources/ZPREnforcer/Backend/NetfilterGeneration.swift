import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The generation of a network namespace's nftables ruleset, read from the kernel over
/// netlink (`NFT_MSG_GETGEN`). Every committed transaction, by anyone, raises it by one;
/// checks (`nft -c`), refused transactions, listings and what packets add to dynamic sets do
/// not. An unchanged generation proves the ruleset unchanged without reading it back.
public enum NetfilterGeneration {
  /// The generation in a named network namespace (`/run/netns/NAME`), or in the caller's own
  /// when nil. Read on a thread of its own, which enters the namespace and ends after.
  public static func read(namespace: String?) async throws(EnforcerError) -> UInt32 {
    let result: Result<UInt32, EnforcerError> = await withCheckedContinuation { continuation in
      let thread = Thread {
        continuation.resume(
          returning: Result { () throws(EnforcerError) -> UInt32 in
            if let namespace { try NetworkNamespace.enter(namespace) }
            return try query()
          })
      }
      thread.name = "zpr-nft-generation"
      thread.start()
    }
    return try result.get()
  }

  /// `NETLINK_NETFILTER`.
  private static let netfilter: Int32 = 12
  /// `(NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN`.
  private static let getGeneration: UInt16 = 10 << 8 | 16
  /// `NLMSG_ERROR`.
  private static let errorMessage: UInt16 = 2
  /// `NFTA_GEN_ID`.
  private static let generationAttribute: UInt16 = 1

  /// Asks the kernel of the calling thread's namespace.
  static func query() throws(EnforcerError) -> UInt32 {
    let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netfilter)
    guard fd >= 0 else { throw failure("cannot open a netfilter netlink socket") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    // nlmsghdr (length, type, flags NLM_F_REQUEST, sequence, port) and nfgenmsg (family
    // AF_UNSPEC, version 0, resource 0), in the host's byte order but for the resource.
    var request: [UInt8] = []
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: value) { request += $0 }
    }
    append(UInt32(20))
    append(getGeneration)
    append(UInt16(1))
    append(UInt32(1))
    append(UInt32(0))
    append(UInt32(0))
    guard send(fd, request, request.count, 0) == request.count else {
      throw failure("cannot ask the kernel for the ruleset generation")
    }
    var reply = [UInt8](repeating: 0, count: 4096)
    let count = recv(fd, &reply, reply.count, 0)
    guard count >= 20 else { throw failure("the kernel did not tell the ruleset generation") }
    func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
      reply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
    let length = min(Int(read(UInt32.self, at: 0)), count)
    guard read(UInt16.self, at: 4) != errorMessage else {
      let code = count >= 20 ? -Int32(read(Int32.self, at: 16)) : 0
      throw EnforcerError(
        .generationUnavailable,
        "the kernel refused to tell the ruleset generation: "
          + String(cString: strerror(code)) + " (zpr needs CAP_NET_ADMIN: run it as root)")
    }
    // Attributes follow the 16-byte header and the 4-byte nfgenmsg, each 4-byte aligned.
    var offset = 20
    while offset + 4 <= length {
      let size = Int(read(UInt16.self, at: offset))
      let type = read(UInt16.self, at: offset + 2) & 0x7fff
      guard size >= 4 else { break }
      if type == generationAttribute, size >= 8, offset + 8 <= length {
        return UInt32(bigEndian: read(UInt32.self, at: offset + 4))
      }
      offset += (size + 3) & ~3
    }
    throw failure("the kernel's answer named no ruleset generation")
  }

  private static func failure(_ what: String) -> EnforcerError {
    EnforcerError(
      .generationUnavailable,
      "\(what): \(String(cString: strerror(errno))) (zpr reads it over netlink, which needs "
        + "CAP_NET_ADMIN: run it as root)")
  }
}

/// Network namespaces by name, as `ip netns` makes them (`/run/netns/NAME`).
public enum NetworkNamespace {
  private typealias SetNS = @convention(c) (Int32, Int32) -> Int32

  /// `CLONE_NEWNET`.
  private static let network: Int32 = 0x4000_0000

  /// Moves the calling thread into the network namespace of a descriptor (`setns(2)`, which
  /// Glibc's module leaves out: it is a GNU extension); 0, or -1 and errno.
  public static func set(_ fd: Int32) -> Int32 {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else {
      errno = ENOSYS
      return -1
    }
    return unsafeBitCast(symbol, to: SetNS.self)(fd, network)
  }

  /// Moves the calling thread into a named namespace for good: only for a thread of its own,
  /// which ends after.
  public static func enter(_ name: String) throws(EnforcerError) {
    guard !name.contains("/"), !name.isEmpty else {
      throw EnforcerError(.unknownNamespace, "'\(name)' is not a network namespace's name")
    }
    let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw EnforcerError(
        .unknownNamespace,
        "there is no network namespace '\(name)' (/run/netns/\(name)): "
          + String(cString: strerror(errno)) + "; ip netns list shows those there are")
    }
    defer { close(fd) }
    guard set(fd) == 0 else {
      throw EnforcerError(
        .unknownNamespace,
        "cannot enter the network namespace '\(name)': \(String(cString: strerror(errno))) "
          + "(needs root)")
    }
  }
}
