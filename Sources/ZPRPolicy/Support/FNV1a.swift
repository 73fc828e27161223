/// The FNV-1a hash, for fingerprints that must not depend on `Hasher`'s per-process seed or
/// cost: token bytes, folded names, port lists.
struct FNV1a {
  /// The hash so far.
  private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

  /// Mixes in one byte.
  mutating func mix(_ byte: UInt8) {
    value = (value ^ UInt64(byte)) &* 0x100_0000_01B3
  }

  /// Mixes in a 64-bit word.
  mutating func mix(_ word: UInt64) {
    value = (value ^ word) &* 0x100_0000_01B3
  }
}
