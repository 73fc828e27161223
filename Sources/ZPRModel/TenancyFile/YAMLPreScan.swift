import ZPRPolicy

/// Why a YAML document was refused before it was read: too deep, or aliases that expand too
/// far. Reported as one diagnostic; nothing else in the file is checked.
struct YAMLRefusal: Error {
  var code: DiagnosticCode
  var message: String
  /// The byte offset at fault.
  var offset: Int

  /// The refusal of a document nested deeper than the limit, at a 1-based line.
  static func tooDeep(line: Int, offset: Int, limit: Int, alias: String? = nil) -> YAMLRefusal {
    YAMLRefusal(
      code: TenancyFileCode.tooDeep,
      message: "line \(line) "
        + (alias.map { "expands the alias *\($0) to" } ?? "nests")
        + " lists and mappings more than \(limit) levels deep (the maxNestingDepth limit; a "
        + "tenancy file needs about 10): the file is not read; write it flatter", offset: offset)
  }

  /// The refusal of aliases that would add more than `limit` nodes.
  static func aliasBudget(line: Int, offset: Int, limit: Int) -> YAMLRefusal {
    YAMLRefusal(
      code: TenancyFileCode.aliasExpansion,
      message: "the aliases up to line \(line) would add more than \(limit) nodes (the "
        + "maxAliasNodes limit): the file is not read; write the repeated parts out, or use "
        + "fewer aliases", offset: offset)
  }

  /// The diagnostic that reports it.
  var diagnostic: Diagnostic {
    Diagnostic(.error, code, message, at: SourceRange(offset, offset))
  }
}

/// A cheap, linear look at a YAML text before any parser reads it: it follows the nesting of
/// flow collections (`[`, `{`) and of block collections (indentation, `- ` entries, `key:`
/// lines) and refuses a document deeper than the limit, naming the line.
///
/// It reads YAML roughly (quotes, comments and block scalars are skipped; multi-line plain
/// scalars are taken as text), so that it refuses ordinary deep documents early and with a clear
/// message. It is not the only guard: the readers that run after it check the depth exactly
/// (``YAMLSubsetReader``, ``YAMLEventCheck``, and the conversion of the full parser's nodes).
struct YAMLPreScan {
  /// A block collection: the column it starts at and whether it is a list.
  private struct Level {
    var column: Int
    var isSequence: Bool
  }

  private let bytes: UnsafeBufferPointer<UInt8>
  private let limit: Int
  private var levels: [Level] = []
  private var flow = 0
  private var line = 1
  private var index = 0
  private var lineStart = 0
  /// The quote of a quoted scalar that goes on past the end of its line.
  private var openQuote: UInt8?
  /// Inside a block scalar (`|`, `>`): lines indented more than this are its text.
  private var blockScalarColumn: Int?
  /// The last line ended inside a plain scalar, which may go on in the next one.
  private var inPlainScalar = false

  private init(bytes: UnsafeBufferPointer<UInt8>, limit: Int) {
    self.bytes = bytes
    self.limit = limit
  }

  /// The refusal of a text nested deeper than `maxDepth`, or nil.
  static func check(_ bytes: [UInt8], maxDepth: Int) -> YAMLRefusal? {
    bytes.withUnsafeBufferPointer { buffer in
      var scan = YAMLPreScan(bytes: buffer, limit: maxDepth)
      do throws(YAMLRefusal) {
        try scan.run()
        return nil
      } catch {
        return error
      }
    }
  }

  // MARK: Lines

  private mutating func run() throws(YAMLRefusal) {
    while index < bytes.count {
      lineStart = index
      var end = index
      while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
      try scanLine(end)
      // One line break: LF, CR or CR LF.
      index = end
      if index < bytes.count, bytes[index] == 0x0D { index += 1 }
      if index < bytes.count, bytes[index] == 0x0A { index += 1 }
      line += 1
    }
  }

  private mutating func scanLine(_ end: Int) throws(YAMLRefusal) {
    var position = lineStart
    while position < end, bytes[position] == 0x20 { position += 1 }
    let indent = position - lineStart
    var first = position
    while first < end, isBlank(bytes[first]) { first += 1 }
    let blank = first == end || bytes[first] == UInt8(ascii: "#")
    if let quote = openQuote {
      // The quoted scalar goes on; the rest of the line after it is read as usual.
      guard let after = closeQuote(quote, from: lineStart, end) else { return }
      openQuote = nil
      try scanTokens(after, end, tokenStart: false, keyColumn: nil)
      return
    }
    if let column = blockScalarColumn {
      if blank || indent > column { return }
      blockScalarColumn = nil
    }
    if flow > 0 {
      try scanTokens(position, end, tokenStart: !inPlainScalar, keyColumn: nil)
      return
    }
    if blank { return }
    if indent == 0, isDocumentMarker(position, end) {
      levels.removeAll()
      inPlainScalar = false
      if bytes[position] == UInt8(ascii: "-") {
        try scanTokens(position + 3, end, tokenStart: true, keyColumn: nil)
      }
      return
    }
    if indent == 0, bytes[position] == UInt8(ascii: "%") { return }
    // A more indented line after a plain scalar is more of its text.
    if inPlainScalar, indent > (levels.last?.column ?? -1) {
      try scanTokens(position, end, tokenStart: false, keyColumn: nil)
      return
    }
    inPlainScalar = false
    while let last = levels.last, last.column > indent { levels.removeLast() }
    // Entries (`- `) and explicit keys (`? `) at the start of the line, each a level.
    while position < end,
      bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "?"),
      position + 1 == end || isBlank(bytes[position + 1])
    {
      try enter(column: position - lineStart, isSequence: bytes[position] == UInt8(ascii: "-"))
      position += 1
      while position < end, isBlank(bytes[position]) { position += 1 }
    }
    try scanTokens(position, end, tokenStart: true, keyColumn: position - lineStart)
  }

  /// Steps into a block collection at a column, or stays in the one there.
  private mutating func enter(column: Int, isSequence: Bool) throws(YAMLRefusal) {
    while let last = levels.last, last.column > column { levels.removeLast() }
    if let last = levels.last, last.column == column {
      // The same collection, or a list that is a key's value at the key's own column.
      if last.isSequence == isSequence { return }
      if last.isSequence {
        // A key back at a list's column: the list has ended; its mapping goes on.
        levels.removeLast()
        if let parent = levels.last, parent.column == column, !parent.isSequence { return }
      }
    }
    levels.append(Level(column: column, isSequence: isSequence))
    try checkDepth()
  }

  private func checkDepth() throws(YAMLRefusal) {
    if levels.count + flow > limit {
      throw .tooDeep(line: line, offset: min(index, bytes.count), limit: limit)
    }
  }

  // MARK: Tokens

  /// Reads `start..<end` of a line: quoted scalars, flow brackets, comments, block scalar
  /// headers and the `:` of a key (which opens a mapping at `keyColumn`).
  private mutating func scanTokens(_ start: Int, _ end: Int, tokenStart: Bool, keyColumn: Int?)
    throws(YAMLRefusal)
  {
    var position = start
    var atTokenStart = tokenStart
    var keyColumn = keyColumn
    while position < end {
      let byte = bytes[position]
      if isBlank(byte) {
        position += 1
        continue
      }
      index = position
      let afterBlank = position == lineStart || isBlank(bytes[position - 1])
      if byte == UInt8(ascii: "#"), afterBlank {
        inPlainScalar = false
        return
      }
      if isValueIndicator(position, end) {
        // A key's colon: in block context, the key's mapping is a level.
        if flow == 0, let column = keyColumn {
          try enter(column: column, isSequence: false)
          keyColumn = nil
        }
        position += 1
        atTokenStart = true
        inPlainScalar = false
        continue
      }
      if flow > 0 || atTokenStart {
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
          flow += 1
          try checkDepth()
          position += 1
          atTokenStart = true
          inPlainScalar = false
          continue
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
          if flow > 0 { flow -= 1 }
          position += 1
          atTokenStart = false
          inPlainScalar = false
          continue
        case UInt8(ascii: ","):
          position += 1
          atTokenStart = true
          inPlainScalar = false
          continue
        default:
          break
        }
      }
      guard atTokenStart else {
        // More of a plain scalar (or a stray character): read on.
        position += 1
        continue
      }
      switch byte {
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        inPlainScalar = false
        guard let after = closeQuote(byte, from: position + 1, end) else {
          openQuote = byte
          return
        }
        position = after
        atTokenStart = false
      case UInt8(ascii: "&"), UInt8(ascii: "!"):
        // An anchor or a tag: a property of the node that follows.
        while position < end, !isBlank(bytes[position]), !isFlowIndicator(bytes[position]) {
          position += 1
        }
      case UInt8(ascii: "*"):
        position += 1
        while position < end, !isBlank(bytes[position]), !isFlowIndicator(bytes[position]) {
          position += 1
        }
        atTokenStart = false
        inPlainScalar = false
      case UInt8(ascii: "|") where flow == 0, UInt8(ascii: ">") where flow == 0:
        // A block scalar: the more indented lines below are its text.
        blockScalarColumn = levels.last?.column ?? 0
        inPlainScalar = false
        return
      case UInt8(ascii: "-") where position + 1 == end || isBlank(bytes[position + 1]),
        UInt8(ascii: "?") where position + 1 == end || isBlank(bytes[position + 1]):
        position += 1
      default:
        // A plain scalar: it runs to a key's colon, a comment, the end of the line, or (in a
        // flow collection) a flow indicator.
        atTokenStart = false
        inPlainScalar = true
        position += 1
      }
    }
  }

  /// The offset after the closing quote, or nil when the scalar goes on past `end`.
  private func closeQuote(_ quote: UInt8, from start: Int, _ end: Int) -> Int? {
    var position = start
    while position < end {
      let byte = bytes[position]
      if quote == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
        position += 2
        continue
      }
      if byte == quote {
        // In single quotes, '' is a quote inside.
        if quote == UInt8(ascii: "'"), position + 1 < end, bytes[position + 1] == quote {
          position += 2
          continue
        }
        return position + 1
      }
      position += 1
    }
    return nil
  }

  /// A `:` that separates a key from its value: followed by a blank or the end of the line, or
  /// in a flow collection by a flow indicator or after a quoted key (`{"a":1}`).
  private func isValueIndicator(_ position: Int, _ end: Int) -> Bool {
    guard bytes[position] == UInt8(ascii: ":") else { return false }
    guard position + 1 < end else { return true }
    let next = bytes[position + 1]
    if isBlank(next) { return true }
    guard flow > 0 else { return false }
    if isFlowIndicator(next) { return true }
    let previous = position > lineStart ? bytes[position - 1] : 0x20
    return previous == UInt8(ascii: "\"") || previous == UInt8(ascii: "'")
      || previous == UInt8(ascii: "]") || previous == UInt8(ascii: "}")
  }

  /// `---` or `...` at the start of a line, alone or followed by a blank.
  private func isDocumentMarker(_ position: Int, _ end: Int) -> Bool {
    guard position + 3 <= end else { return false }
    let first = bytes[position]
    guard first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else { return false }
    guard bytes[position + 1] == first, bytes[position + 2] == first else { return false }
    return position + 3 == end || isBlank(bytes[position + 3])
  }

  private func isBlank(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09
  }

  private func isFlowIndicator(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
      || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
  }
}
