/// An address block in CIDR notation; a single host is a prefix of full length.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
  /// The address as written (host bits may be set; see ``hasHostBits``).
  public let address: IPAddress
  /// The number of leading bits that name the network.
  public let length: Int

  /// Why a text is not a valid prefix.
  public enum ParseError: Error, Hashable, Sendable {
    /// The part before `/` is not an IPv4 or IPv6 address.
    case invalidAddress
    /// The length after `/` is not a number in `0...maximum`.
    case invalidLength(maximum: Int)
  }

  /// A prefix from an address and a length; the length must fit the family.
  public init(address: IPAddress, length: Int) {
    precondition(length >= 0 && length <= address.bitWidth, "prefix length out of range")
    self.address = address
    self.length = length
  }

  /// A single-host prefix.
  public init(host: IPAddress) {
    self.init(address: host, length: host.bitWidth)
  }

  /// Parses `address` or `address/length`.
  public static func parse(_ text: some StringProtocol) -> Result<IPPrefix, ParseError> {
    var copy = String(text)
    return copy.withUTF8 { parse($0) }
  }

  /// Parses `address` or `address/length` from UTF-8 bytes.
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<IPPrefix, ParseError> {
    guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else {
      guard let address = IPAddress.parse(bytes) else { return .failure(.invalidAddress) }
      return .success(IPPrefix(host: address))
    }
    let addressBytes = UnsafeBufferPointer(rebasing: bytes[..<slash])
    guard let address = IPAddress.parse(addressBytes) else { return .failure(.invalidAddress) }
    var length = 0
    let digits = bytes[(slash + 1)...]
    guard !digits.isEmpty, digits.count <= 3 else {
      return .failure(.invalidLength(maximum: address.bitWidth))
    }
    for byte in digits {
      guard byte >= 48, byte <= 57 else {
        return .failure(.invalidLength(maximum: address.bitWidth))
      }
      length = length * 10 + Int(byte - 48)
    }
    guard length <= address.bitWidth else {
      return .failure(.invalidLength(maximum: address.bitWidth))
    }
    return .success(IPPrefix(address: address, length: length))
  }

  /// Whether this names exactly one address.
  public var isHost: Bool { length == address.bitWidth }

  /// The first address of the block (host bits cleared).
  public var network: IPAddress {
    let (maskHigh, maskLow) = Self.mask(length: length, family: address.family)
    if address.family == .v4 {
      return IPAddress(v4: UInt32(truncatingIfNeeded: address.low & maskLow))
    }
    return IPAddress(v6High: address.high & maskHigh, low: address.low & maskLow)
  }

  /// Whether bits past the prefix length are set, as in `10.0.0.5/16`.
  public var hasHostBits: Bool { network != address }

  /// Whether every address of `other` lies in this block.
  public func contains(_ other: IPPrefix) -> Bool {
    guard other.address.family == address.family, other.length >= length else { return false }
    return IPPrefix(address: other.address, length: length).network == network
  }

  /// Whether `other` lies in this block.
  public func contains(_ other: IPAddress) -> Bool {
    contains(IPPrefix(host: other))
  }

  /// `address` for a host, `address/length` otherwise.
  public var description: String {
    isHost ? address.description : "\(address)/\(length)"
  }

  private static func mask(length: Int, family: IPAddress.Family) -> (UInt64, UInt64) {
    let bits = family == .v4 ? 96 + length : length
    let high: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : ~UInt64(0) << (64 - bits))
    let low: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : ~UInt64(0) << (128 - bits))
    return (high, low)
  }
}
