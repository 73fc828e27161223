/// An open-addressing table from 64-bit keys to non-negative integers: a few nanoseconds a
/// lookup, for the hot paths of the checker and the decision engine.
public struct IntTable: Sendable {
  private var keys: [UInt64] = []
  private var values: [Int32] = []
  public private(set) var count = 0

  /// An empty table.
  public init() {}

  /// The value for `key`, or -1.
  public func find(_ key: UInt64) -> Int {
    guard !keys.isEmpty else { return -1 }
    let mask = keys.count - 1
    var slot = Self.slot(key, mask)
    while values[slot] >= 0 {
      if keys[slot] == key { return Int(values[slot]) }
      slot = (slot + 1) & mask
    }
    return -1
  }

  /// Stores `value` for `key` and returns the value it replaces, or -1.
  public mutating func insert(_ key: UInt64, _ value: Int32) -> Int {
    if (count + 1) * 2 > keys.count { grow() }
    let mask = keys.count - 1
    var slot = Self.slot(key, mask)
    while values[slot] >= 0 {
      if keys[slot] == key {
        defer { values[slot] = value }
        return Int(values[slot])
      }
      slot = (slot + 1) & mask
    }
    keys[slot] = key
    values[slot] = value
    count += 1
    return -1
  }

  private mutating func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = max(16, keys.count * 2)
    keys = [UInt64](repeating: 0, count: capacity)
    values = [Int32](repeating: -1, count: capacity)
    count = 0
    for (key, value) in zip(oldKeys, oldValues) where value >= 0 { _ = insert(key, value) }
  }

  /// Fibonacci hashing: the high bits of the product depend on every bit of the key.
  @inline(__always)
  private static func slot(_ key: UInt64, _ mask: Int) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - mask.nonzeroBitCount))
  }
}
