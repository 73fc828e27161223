/// Remembers the attribute tokens already parsed in a file, by their exact bytes, so that a
/// policy naming the same attributes again and again builds and validates their strings once.
/// Only tokens that parsed without errors are remembered, so every bad one is still reported.
struct AttributeCache {
  private struct Entry {
    var hash: UInt64
    var start: Int
    var length: Int
    var attribute: AttributeRef
  }

  private var slots: [Int32] = []
  private var entries: [Entry] = []

  /// The attribute an identical earlier token spelled, if any.
  func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64)
    -> AttributeRef?
  {
    guard !slots.isEmpty else { return nil }
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: hash) & mask
    while slots[slot] >= 0 {
      let entry = entries[Int(slots[slot])]
      if entry.hash == hash && entry.length == end - start
        && Self.equal(bytes, entry.start, start, end - start)
      {
        return entry.attribute
      }
      slot = (slot + 1) & mask
    }
    return nil
  }

  /// Remembers a token that parsed cleanly.
  mutating func insert(
    _ attribute: AttributeRef, _ start: Int, _ end: Int, hash: UInt64
  ) {
    if (entries.count + 1) * 2 > slots.count { grow() }
    entries.append(Entry(hash: hash, start: start, length: end - start, attribute: attribute))
    place(Int32(entries.count - 1))
  }

  /// FNV-1a over the token's bytes.
  static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for index in start..<end { hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01B3 }
    return hash ^ (hash >> 29)
  }

  private mutating func place(_ index: Int32) {
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: entries[Int(index)].hash) & mask
    while slots[slot] >= 0 { slot = (slot + 1) & mask }
    slots[slot] = index
  }

  private mutating func grow() {
    slots = [Int32](repeating: -1, count: max(64, slots.count * 2))
    for index in entries.indices { place(Int32(index)) }
  }

  private static func equal(
    _ bytes: UnsafeBufferPointer<UInt8>, _ first: Int, _ second: Int, _ length: Int
  ) -> Bool {
    for offset in 0..<length where bytes[first + offset] != bytes[second + offset] {
      return false
    }
    return true
  }
}
