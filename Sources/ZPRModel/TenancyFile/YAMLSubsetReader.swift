import ZPRPolicy

/// Reads the YAML that zpr writes and that people usually write straight from the bytes: block
/// mappings and lists, one-line flow collections, one-line plain and quoted scalars, comments.
/// Anything else (anchors, aliases, tags, block or multi-line scalars, escapes, tabs, directives,
/// several documents, duplicate keys, and every error) makes it decline, and the full YAML
/// parser reads the file instead: what it accepts, it reads exactly as that parser does.
struct YAMLSubsetReader {
  /// A document the subset reader read: its root, nil when the document is empty.
  struct Result {
    var root: YAMLNode?
  }

  /// Thrown inside the reader when the input leaves the subset.
  private struct Declined: Error {}

  private let bytes: UnsafeBufferPointer<UInt8>
  private var position = 0
  private var lineStart = 0
  /// Collections open around the position, and how many may be: a document nested deeper is
  /// declined (the full parser's path refuses it), so the reader's recursion stays bounded.
  private var depth = 0
  private let maxDepth: Int

  private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  /// The document, or nil when it is outside the subset (or nested deeper than `maxDepth`).
  static func read(_ bytes: [UInt8], maxDepth: Int = ZPRLimits.standard.maxNestingDepth)
    -> Result?
  {
    bytes.withUnsafeBufferPointer { buffer in
      guard Self.plainText(buffer) else { return nil }
      var reader = YAMLSubsetReader(bytes: buffer, maxDepth: maxDepth)
      do throws(Declined) {
        return Result(root: try reader.document())
      } catch {
        return nil
      }
    }
  }

  /// Whether every character is one the subset takes as it is: no control characters but the
  /// line feed, no byte-order mark, no C1 controls, no U+FFFE/U+FFFF (the full parser decides
  /// about those).
  private static func plainText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    let count = bytes.count
    while index < count {
      let byte = bytes[index]
      if byte < 0x20 {
        if byte != 0x0A { return false }
      } else if byte == 0x7F {
        return false
      } else if byte == 0xC2 {
        if index + 1 < count, bytes[index + 1] < 0xA0 { return false }
      } else if byte == 0xE2 {
        // U+2028 and U+2029 break lines in YAML.
        if index + 2 < count, bytes[index + 1] == 0x80, bytes[index + 2] & 0xFE == 0xA8 {
          return false
        }
      } else if byte == 0xEF {
        if index + 2 < count, bytes[index + 1] == 0xBB, bytes[index + 2] == 0xBF { return false }
        if index + 2 < count, bytes[index + 1] == 0xBF, bytes[index + 2] >= 0xBE { return false }
      }
      index += 1
    }
    return true
  }

  // MARK: Structure

  private mutating func document() throws(Declined) -> YAMLNode? {
    guard try skipToContent() else { return nil }
    let root = try block(column: column)
    guard try !skipToContent() else { throw Declined() }
    return root
  }

  /// A node that starts at the current position, at this column, in block context.
  private mutating func block(column: Int) throws(Declined) -> YAMLNode {
    if isSequenceEntry { return try blockSequence(column: column) }
    let first = bytes[position]
    if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
      let node = try flowCollection()
      try expectLineEnd()
      return node
    }
    let scalar = try scalar(flow: false)
    if isMappingColon {
      guard Self.fitsAsKey(scalar) else { throw Declined() }
      return try blockMapping(column: column, firstKey: scalar)
    }
    try expectLineEnd()
    return .scalar(scalar)
  }

  /// Steps into a collection; one past the limit declines the document.
  private mutating func enter() throws(Declined) {
    depth += 1
    if depth > maxDepth { throw Declined() }
  }

  private mutating func blockMapping(column: Int, firstKey: YAMLScalar) throws(Declined)
    -> YAMLNode
  {
    try enter()
    defer { depth -= 1 }
    var pairs: [YAMLPair] = []
    var key = firstKey
    while true {
      position += 1  // the ':'
      let value = try mappingValue(column: column)
      pairs.append(YAMLPair(key: .scalar(key), value: value))
      guard try skipToContent(), self.column == column else { break }
      guard !isSequenceEntry, !isFlowStart else { throw Declined() }
      key = try scalar(flow: false)
      guard isMappingColon, Self.fitsAsKey(key) else { throw Declined() }
    }
    if self.column > column, position < bytes.count { throw Declined() }
    try checkUniqueKeys(pairs)
    return .mapping(pairs, start: firstKey.range.lowerBound)
  }

  /// The value after a key's colon: on the same line, on the lines below (more indented, or a
  /// list at the key's own indentation), or nothing (a null).
  private mutating func mappingValue(column: Int) throws(Declined) -> YAMLNode {
    let afterColon = position
    skipSpaces()
    if atLineEnd {
      guard try skipToContent() else { return Self.empty(at: afterColon) }
      if self.column > column { return try block(column: self.column) }
      if self.column == column, isSequenceEntry { return try blockSequence(column: column) }
      return Self.empty(at: afterColon)
    }
    if isSequenceEntry { throw Declined() }
    if isFlowStart {
      let node = try flowCollection()
      try expectLineEnd()
      return node
    }
    let value = try scalar(flow: false)
    if isMappingColon { throw Declined() }
    try expectLineEnd()
    return .scalar(value)
  }

  private mutating func blockSequence(column: Int) throws(Declined) -> YAMLNode {
    try enter()
    defer { depth -= 1 }
    let start = position
    var items: [YAMLNode] = []
    while true {
      position += 1  // the '-'
      skipSpaces()
      if atLineEnd {
        // An entry with nothing on its line: its node is below, more indented.
        guard try skipToContent(), self.column > column else { throw Declined() }
        items.append(try block(column: self.column))
      } else {
        items.append(try block(column: self.column))
      }
      guard try skipToContent(), self.column == column, isSequenceEntry else { break }
    }
    if self.column > column, position < bytes.count { throw Declined() }
    return .sequence(items, start: start)
  }

  // MARK: Flow collections (on one line)

  private mutating func flowCollection() throws(Declined) -> YAMLNode {
    try enter()
    defer { depth -= 1 }
    let start = position
    let open = bytes[position]
    position += 1
    skipSpaces()
    if open == UInt8(ascii: "[") {
      var items: [YAMLNode] = []
      if peek == UInt8(ascii: "]") {
        position += 1
        return .sequence(items, start: start)
      }
      while true {
        items.append(try flowNode())
        skipSpaces()
        if isMappingColon { throw Declined() }  // a single-pair mapping inside a list
        if try flowSeparator(closing: UInt8(ascii: "]")) { break }
      }
      return .sequence(items, start: start)
    }
    var pairs: [YAMLPair] = []
    if peek == UInt8(ascii: "}") {
      position += 1
      return .mapping(pairs, start: start)
    }
    while true {
      guard !isFlowStart else { throw Declined() }
      let key = try scalar(flow: true)
      // In a flow mapping a quoted key may be followed by its colon right away (`{"a":1}`, as
      // JSON writes it); a plain key needs the blank.
      let adjacent = key.style != .plain && peek == UInt8(ascii: ":")
      guard isMappingColon || adjacent, Self.fitsAsKey(key) else { throw Declined() }
      position += 1
      skipSpaces()
      guard let next = peek, next != UInt8(ascii: ","), next != UInt8(ascii: "}") else {
        throw Declined()
      }
      pairs.append(YAMLPair(key: .scalar(key), value: try flowNode()))
      skipSpaces()
      if try flowSeparator(closing: UInt8(ascii: "}")) { break }
    }
    try checkUniqueKeys(pairs)
    return .mapping(pairs, start: start)
  }

  /// After an entry: a comma (then more entries) or the closing bracket (true).
  private mutating func flowSeparator(closing: UInt8) throws(Declined) -> Bool {
    guard let next = peek else { throw Declined() }
    if next == closing {
      position += 1
      return true
    }
    guard next == UInt8(ascii: ",") else { throw Declined() }
    position += 1
    skipSpaces()
    guard let following = peek, following != closing, following != UInt8(ascii: ",") else {
      throw Declined()
    }
    return false
  }

  private mutating func flowNode() throws(Declined) -> YAMLNode {
    if isFlowStart { return try flowCollection() }
    return .scalar(try scalar(flow: true))
  }

  // MARK: Scalars

  private mutating func scalar(flow: Bool) throws(Declined) -> YAMLScalar {
    guard let first = peek else { throw Declined() }
    if first == UInt8(ascii: "'") { return try singleQuoted() }
    if first == UInt8(ascii: "\"") { return try doubleQuoted() }
    return try plain(flow: flow)
  }

  private mutating func plain(flow: Bool) throws(Declined) -> YAMLScalar {
    let start = position
    let first = bytes[start]
    switch first {
    case UInt8(ascii: "-"):
      // `-x` is a scalar; `- ` an entry, `---` a document marker.
      guard let next = byte(at: start + 1), !Self.isBlank(next), next != UInt8(ascii: "-")
      else { throw Declined() }
    case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["),
      UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"),
      UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
      UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"),
      UInt8(ascii: " "), UInt8(ascii: "\n"):
      throw Declined()
    default:
      break
    }
    var end = start
    var index = start
    scan: while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "\n"):
        break scan
      case UInt8(ascii: ":"):
        let next = self.byte(at: index + 1)
        if next == nil || Self.isBlank(next!) { break scan }
        if flow, Self.isFlowIndicator(next!) || next == UInt8(ascii: "?") { throw Declined() }
      case UInt8(ascii: "#"):
        if bytes[index - 1] == UInt8(ascii: " ") { break scan }
      case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
        UInt8(ascii: "}"):
        if flow { break scan }
      case UInt8(ascii: "?"):
        if flow { throw Declined() }
      default:
        break
      }
      index += 1
      if byte != UInt8(ascii: " ") { end = index }
    }
    // A plain scalar may go on over more lines; the subset leaves those to the full parser,
    // which is why every caller checks what follows.
    position = end
    return YAMLScalar(text: text(start, end), style: .plain, range: SourceRange(start, end))
  }

  private mutating func singleQuoted() throws(Declined) -> YAMLScalar {
    let start = position
    var index = start + 1
    var escaped = false
    while true {
      guard index < bytes.count else { throw Declined() }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\n") { throw Declined() }
      if byte == UInt8(ascii: "'") {
        if self.byte(at: index + 1) == UInt8(ascii: "'") {
          escaped = true
          index += 2
          continue
        }
        break
      }
      index += 1
    }
    position = index + 1
    var value = text(start + 1, index)
    if escaped { value = value.replacing("''", with: "'") }
    try expectScalarEnd()
    return YAMLScalar(text: value, style: .singleQuoted, range: SourceRange(start, position))
  }

  private mutating func doubleQuoted() throws(Declined) -> YAMLScalar {
    let start = position
    var index = start + 1
    while true {
      guard index < bytes.count else { throw Declined() }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\\") { throw Declined() }
      if byte == UInt8(ascii: "\"") { break }
      index += 1
    }
    position = index + 1
    try expectScalarEnd()
    return YAMLScalar(
      text: text(start + 1, index), style: .doubleQuoted, range: SourceRange(start, position))
  }

  /// What may follow a closing quote: a blank, a colon, a flow indicator, or the end.
  private func expectScalarEnd() throws(Declined) {
    guard let next = peek else { return }
    guard Self.isBlank(next) || next == UInt8(ascii: ":") || Self.isFlowIndicator(next) else {
      throw Declined()
    }
  }

  // MARK: Lines and positions

  private var column: Int { position - lineStart }

  private var peek: UInt8? { byte(at: position) }

  private func byte(at index: Int) -> UInt8? {
    index < bytes.count ? bytes[index] : nil
  }

  private var isSequenceEntry: Bool {
    guard peek == UInt8(ascii: "-") else { return false }
    guard let next = byte(at: position + 1) else { return true }
    return Self.isBlank(next)
  }

  private var isFlowStart: Bool {
    peek == UInt8(ascii: "[") || peek == UInt8(ascii: "{")
  }

  /// A colon that ends a key: followed by a blank or the end.
  private var isMappingColon: Bool {
    guard peek == UInt8(ascii: ":") else { return false }
    guard let next = byte(at: position + 1) else { return true }
    return Self.isBlank(next)
  }

  /// Whether only spaces and a comment remain on the line.
  private var atLineEnd: Bool {
    guard let next = peek else { return true }
    return next == UInt8(ascii: "\n")
      || (next == UInt8(ascii: "#") && position > 0 && bytes[position - 1] == UInt8(ascii: " "))
  }

  private mutating func skipSpaces() {
    while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
  }

  /// After a node that ends its line: only spaces and a comment may follow.
  private mutating func expectLineEnd() throws(Declined) {
    skipSpaces()
    guard atLineEnd else { throw Declined() }
  }

  /// Moves to the next thing that is not a space, a comment or a line break; false at the end.
  private mutating func skipToContent() throws(Declined) -> Bool {
    while position < bytes.count {
      switch bytes[position] {
      case UInt8(ascii: " "):
        position += 1
      case UInt8(ascii: "\n"):
        position += 1
        lineStart = position
      case UInt8(ascii: "#"):
        guard position == lineStart || bytes[position - 1] == UInt8(ascii: " ") else {
          throw Declined()
        }
        while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
      default:
        if position == lineStart, isDocumentMarker { throw Declined() }
        return true
      }
    }
    return false
  }

  /// `---`, `...` or a `%` directive at the start of a line.
  private var isDocumentMarker: Bool {
    let first = bytes[position]
    if first == UInt8(ascii: "%") { return true }
    guard first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else { return false }
    guard byte(at: position + 1) == first, byte(at: position + 2) == first else { return false }
    guard let next = byte(at: position + 3) else { return true }
    return Self.isBlank(next)
  }

  private static func isBlank(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n")
  }

  private static func isFlowIndicator(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
      || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
  }

  private func text(_ start: Int, _ end: Int) -> String {
    String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
  }

  /// A null written as nothing; the full parser places it just after the colon.
  private static func empty(at offset: Int) -> YAMLNode {
    .scalar(YAMLScalar(text: "", style: .plain, range: SourceRange(offset, offset)))
  }

  /// The full parser takes a key of at most 1024 characters.
  private static func fitsAsKey(_ key: YAMLScalar) -> Bool {
    key.range.upperBound - key.range.lowerBound <= 1000
  }

  /// Duplicate keys are an error the full parser reports.
  private func checkUniqueKeys(_ pairs: [YAMLPair]) throws(Declined) {
    guard pairs.count > 1 else { return }
    if pairs.count <= 12 {
      for index in 1..<pairs.count {
        let key = pairs[index].key.string
        for earlier in 0..<index where pairs[earlier].key.string == key { throw Declined() }
      }
      return
    }
    var seen = Set<String>(minimumCapacity: pairs.count)
    for pair in pairs where !seen.insert(pair.key.string ?? "").inserted { throw Declined() }
  }
}
