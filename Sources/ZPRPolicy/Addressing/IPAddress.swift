/// An IPv4 or IPv6 address, stored as 128 bits (IPv4 in the low 32).
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The address family.
  public enum Family: String, Hashable, Sendable, Codable {
    case v4 = "IPv4"
    case v6 = "IPv6"
  }

  /// The address family.
  public let family: Family
  /// The upper 64 bits (always 0 for IPv4).
  public let high: UInt64
  /// The lower 64 bits (the IPv4 address sits in the low 32).
  public let low: UInt64

  /// An IPv4 address from its 32-bit value.
  public init(v4 value: UInt32) {
    family = .v4
    high = 0
    low = UInt64(value)
  }

  /// An IPv6 address from its two 64-bit halves.
  public init(v6High high: UInt64, low: UInt64) {
    family = .v6
    self.high = high
    self.low = low
  }

  /// Parses dotted IPv4 or RFC 4291 IPv6 text; `nil` when the text is not an address.
  public init?(_ text: some StringProtocol) {
    var copy = String(text)
    guard let parsed = copy.withUTF8({ IPAddress.parse($0) }) else { return nil }
    self = parsed
  }

  /// The number of bits in an address of this family.
  public var bitWidth: Int { family == .v4 ? 32 : 128 }

  /// The IPv4 value, when this is an IPv4 address.
  public var v4Value: UInt32? { family == .v4 ? UInt32(truncatingIfNeeded: low) : nil }

  /// The next address of the family, or nil past its last.
  public var successor: IPAddress? {
    if family == .v4 { return low == 0xFFFF_FFFF ? nil : IPAddress(v4: UInt32(low) + 1) }
    let (next, carry) = low.addingReportingOverflow(1)
    guard carry else { return IPAddress(v6High: high, low: next) }
    return high == .max ? nil : IPAddress(v6High: high + 1, low: 0)
  }

  /// The address before this one, or nil before the family's first.
  public var predecessor: IPAddress? {
    if family == .v4 { return low == 0 ? nil : IPAddress(v4: UInt32(low) - 1) }
    let (previous, borrow) = low.subtractingReportingOverflow(1)
    guard borrow else { return IPAddress(v6High: high, low: previous) }
    return high == 0 ? nil : IPAddress(v6High: high - 1, low: .max)
  }

  /// The last address of a family.
  public static func last(of family: Family) -> IPAddress {
    family == .v4 ? IPAddress(v4: .max) : IPAddress(v6High: .max, low: .max)
  }

  /// The first address of a family.
  public static func first(of family: Family) -> IPAddress {
    family == .v4 ? IPAddress(v4: 0) : IPAddress(v6High: 0, low: 0)
  }

  public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
    if lhs.family != rhs.family { return lhs.family == .v4 }
    return (lhs.high, lhs.low) < (rhs.high, rhs.low)
  }

  /// Dotted decimal for IPv4, RFC 5952 (lower case, longest zero run compressed, IPv4-mapped
  /// addresses as `::ffff:a.b.c.d`) for IPv6.
  public var description: String {
    if let value = v4Value { return Self.dotted(value) }
    if high == 0 && low >> 32 == 0xFFFF {
      return "::ffff:" + Self.dotted(UInt32(truncatingIfNeeded: low))
    }
    var groups = [UInt16](repeating: 0, count: 8)
    for index in 0..<4 {
      groups[index] = UInt16(truncatingIfNeeded: high >> (48 - 16 * index))
      groups[index + 4] = UInt16(truncatingIfNeeded: low >> (48 - 16 * index))
    }
    // The longest run of two or more zero groups is written as "::" (the first one on a tie).
    var bestStart = -1
    var bestLength = 1
    var index = 0
    while index < 8 {
      guard groups[index] == 0 else {
        index += 1
        continue
      }
      var end = index
      while end < 8 && groups[end] == 0 { end += 1 }
      if end - index > bestLength {
        bestStart = index
        bestLength = end - index
      }
      index = end
    }
    func hex(_ range: Range<Int>) -> String {
      range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
    }
    guard bestStart >= 0 else { return hex(0..<8) }
    return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
  }

  private static func dotted(_ value: UInt32) -> String {
    "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
  }

  /// Parses an address from UTF-8 bytes.
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
    if bytes.contains(UInt8(ascii: ":")) { return parseV6(bytes) }
    return parseV4(bytes[...]).map { IPAddress(v4: $0) }
  }

  /// Four decimal octets; leading zeros are refused because some tools read them as octal.
  static func parseV4(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
    var value: UInt32 = 0
    var octets = 0
    var index = bytes.startIndex
    while index < bytes.endIndex {
      var octet: UInt32 = 0
      var digits = 0
      let start = index
      while index < bytes.endIndex, bytes[index] >= 48, bytes[index] <= 57 {
        octet = octet * 10 + UInt32(bytes[index] - 48)
        digits += 1
        index += 1
        if digits > 3 { return nil }
      }
      if digits == 0 || octet > 255 || (digits > 1 && bytes[start] == 48) { return nil }
      value = value << 8 | octet
      octets += 1
      if index < bytes.endIndex {
        guard bytes[index] == UInt8(ascii: "."), octets < 4 else { return nil }
        index += 1
        if index == bytes.endIndex { return nil }
      }
    }
    return octets == 4 ? value : nil
  }

  private static func parseV6(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
    var head: [UInt16] = []
    var tail: [UInt16] = []
    var sawGap = false
    var index = 0
    let count = bytes.count
    if count >= 2, bytes[0] == UInt8(ascii: ":") {
      guard bytes[1] == UInt8(ascii: ":") else { return nil }
      sawGap = true
      index = 2
    }
    while index < count {
      // An embedded IPv4 address may end the text.
      var end = index
      var hasDot = false
      while end < count, bytes[end] != UInt8(ascii: ":") {
        if bytes[end] == UInt8(ascii: ".") { hasDot = true }
        end += 1
      }
      if hasDot {
        guard end == count, let v4 = parseV4(bytes[index..<end]) else { return nil }
        let groups = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
        if sawGap { tail += groups } else { head += groups }
        index = end
        break
      }
      guard end - index >= 1, end - index <= 4 else { return nil }
      var group: UInt16 = 0
      for position in index..<end {
        guard let digit = hexValue(bytes[position]) else { return nil }
        group = group << 4 | UInt16(digit)
      }
      if sawGap { tail.append(group) } else { head.append(group) }
      index = end
      if index < count {
        index += 1  // the ':'
        if index < count, bytes[index] == UInt8(ascii: ":") {
          guard !sawGap else { return nil }
          sawGap = true
          index += 1
        } else if index == count {
          return nil
        }
      }
    }
    let total = head.count + tail.count
    if sawGap ? total > 7 : total != 8 { return nil }
    let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
    var high: UInt64 = 0
    var low: UInt64 = 0
    for index in 0..<4 {
      high = high << 16 | UInt64(groups[index])
      low = low << 16 | UInt64(groups[index + 4])
    }
    return IPAddress(v6High: high, low: low)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    guard isASCIIHexDigit(byte) else { return nil }
    return isASCIIDigit(byte) ? byte - 48 : (byte | 0x20) - 87
  }
}
