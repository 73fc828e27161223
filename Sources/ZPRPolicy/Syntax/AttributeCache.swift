/// Remembers the attribute tokens already parsed in a file, by their exact bytes, so that a
/// policy naming the same attributes again and again builds and validates their strings once.
/// Only tokens that parsed without errors are remembered, so every bad one is still reported.
struct AttributeCache {
  private struct Entry {
    var start: Int
    var length: Int
    var attribute: AttributeRef
    /// The previous entry whose bytes hash alike, or -1.
    var previous: Int
  }

  /// The latest entry for each hash.
  private var latest = IntTable()
  private var entries: [Entry] = []

  /// The attribute an identical earlier token spelled, if any.
  func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64)
    -> AttributeRef?
  {
    var index = latest.find(hash)
    while index >= 0 {
      let entry = entries[index]
      if entry.length == end - start
        && (0..<entry.length).allSatisfy({ bytes[entry.start + $0] == bytes[start + $0] })
      {
        return entry.attribute
      }
      index = entry.previous
    }
    return nil
  }

  /// Remembers a token that parsed cleanly.
  mutating func insert(_ attribute: AttributeRef, _ start: Int, _ end: Int, hash: UInt64) {
    let previous = latest.insert(hash, Int32(entries.count))
    entries.append(
      Entry(start: start, length: end - start, attribute: attribute, previous: previous))
  }

  /// The hash of a token's bytes.
  static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
    var hash = FNV1a()
    for index in start..<end { hash.mix(bytes[index]) }
    return hash.value
  }
}
