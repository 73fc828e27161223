/// A half-open range of UTF-8 byte offsets into a source text.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
  /// The offset of the first byte.
  public var lowerBound: Int
  /// The offset just past the last byte.
  public var upperBound: Int

  /// A range from two offsets; `upperBound` must not precede `lowerBound`.
  public init(_ lowerBound: Int, _ upperBound: Int) {
    precondition(lowerBound <= upperBound, "inverted source range")
    self.lowerBound = lowerBound
    self.upperBound = upperBound
  }

  /// The smallest range covering both.
  public func union(_ other: SourceRange) -> SourceRange {
    SourceRange(min(lowerBound, other.lowerBound), max(upperBound, other.upperBound))
  }

  public var description: String { "\(lowerBound)..<\(upperBound)" }
}

/// A 1-based line and column; columns count Unicode scalars.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The line, from 1.
  public var line: Int
  /// The column, from 1, in Unicode scalars.
  public var column: Int

  /// A location from a line and a column.
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }

  public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
    (lhs.line, lhs.column) < (rhs.line, rhs.column)
  }

  public var description: String { "\(line):\(column)" }
}

/// A policy text with its line table, for turning byte offsets into lines and columns.
public struct SourceFile: Sendable {
  /// Where the text came from (a path, or a name such as `<stdin>`).
  public let path: String
  /// The text itself.
  public let text: String
  /// The text as UTF-8 bytes.
  public let bytes: [UInt8]
  /// The offset at which each line starts.
  public let lineStarts: [Int]

  /// Wraps a text; `path` is used in messages only.
  public init(path: String, text: String) {
    self.path = path
    self.text = text
    self.bytes = Array(text.utf8)
    var starts = [0]
    starts.reserveCapacity(bytes.count / 64 + 1)
    for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
      starts.append(offset + 1)
    }
    self.lineStarts = starts
  }

  /// The number of lines (a final newline does not start a new one).
  public var lineCount: Int {
    lineStarts.count > 1 && lineStarts.last == bytes.count ? lineStarts.count - 1 : lineStarts.count
  }

  /// The 1-based line holding `offset`.
  public func line(containing offset: Int) -> Int {
    var low = 0
    var high = lineStarts.count - 1
    while low < high {
      let middle = (low + high + 1) / 2
      if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
    }
    return low + 1
  }

  /// The line and column of `offset`.
  public func location(of offset: Int) -> SourceLocation {
    let clamped = min(max(offset, 0), bytes.count)
    let line = line(containing: clamped)
    let start = lineStarts[line - 1]
    return SourceLocation(line: line, column: scalarCount(start, clamped) + 1)
  }

  /// The offset of a 1-based line and column (columns in Unicode scalars), clamped to the line.
  public func offset(of location: SourceLocation) -> Int {
    guard location.line >= 1, location.line <= lineStarts.count else { return bytes.count }
    let bounds = lineBounds(location.line)
    var offset = bounds.lowerBound
    var column = 1
    while offset < bounds.upperBound, column < location.column {
      offset += 1
      while offset < bounds.upperBound, bytes[offset] & 0xC0 == 0x80 { offset += 1 }
      column += 1
    }
    return offset
  }

  /// The text of a 1-based line, without its line ending.
  public func lineText(_ line: Int) -> String {
    let bounds = lineBounds(line)
    return String(decoding: bytes[bounds], as: UTF8.self)
  }

  /// The byte range of a 1-based line, without its line ending.
  public func lineBounds(_ line: Int) -> Range<Int> {
    let start = lineStarts[line - 1]
    var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
    if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return start..<max(start, end)
  }

  /// The text a range covers.
  public func text(of range: SourceRange) -> String {
    String(decoding: bytes[range.lowerBound..<range.upperBound], as: UTF8.self)
  }

  /// The number of Unicode scalars in a byte range (continuation bytes are not counted).
  func scalarCount(_ start: Int, _ end: Int) -> Int {
    var count = 0
    for index in start..<end where bytes[index] & 0xC0 != 0x80 { count += 1 }
    return count
  }
}
