// A strict RFC 8259 reader for JSON request bodies: one value, no extensions, bounded depth and
// size, and errors that say where and what to send instead. The parser keeps its own stack of
// open containers, so no input can make it recurse.

/// How much a JSON text may hold; exceeding a limit is an error that names it.
public struct JSONLimits: Hashable, Sendable {
  /// Arrays and objects open at once (`[[1]]` is depth 2).
  public var maxDepth: Int
  /// UTF-8 bytes in one string, after unescaping (keys included).
  public var maxStringLength: Int
  /// Characters in one number as written.
  public var maxNumberLength: Int
  /// Values in the whole text (every string, number, literal, array and object, keys excluded).
  public var maxValues: Int

  /// Limits from their parts; the defaults suit API request bodies.
  public init(
    maxDepth: Int = 64, maxStringLength: Int = 1 << 20, maxNumberLength: Int = 100,
    maxValues: Int = 1_000_000
  ) {
    self.maxDepth = maxDepth
    self.maxStringLength = maxStringLength
    self.maxNumberLength = maxNumberLength
    self.maxValues = maxValues
  }

  /// The limits the server applies to request bodies.
  public static let standard = JSONLimits()
}

/// Why a JSON text was refused: a stable code, the byte offset at fault, and what to send
/// instead.
public struct JSONReadError: ZPRError, CodedError, Hashable {
  /// The stable codes (listed in docs/diagnostics.md).
  public enum Code: String, Hashable, Sendable, CaseIterable {
    /// A character that cannot stand here (a missing `,` or `:`, a stray bracket, a comment, a
    /// byte-order mark, a single-quoted string, ...).
    case unexpectedCharacter = "ZPR-JSON-001"
    /// The text ends inside a value, or holds no value at all.
    case unexpectedEnd = "ZPR-JSON-002"
    /// More text after the one value.
    case trailingText = "ZPR-JSON-003"
    /// Bytes that are not valid UTF-8.
    case invalidUTF8 = "ZPR-JSON-004"
    /// A string with an unescaped control character, an unknown escape or a lone surrogate.
    case invalidString = "ZPR-JSON-005"
    /// A number JSON does not allow (`01`, `+1`, `.5`, `1.`, `NaN`) or one out of range.
    case invalidNumber = "ZPR-JSON-006"
    /// An object gives the same key twice.
    case duplicateKey = "ZPR-JSON-007"
    /// Arrays and objects nested deeper than ``JSONLimits/maxDepth``.
    case tooDeep = "ZPR-JSON-008"
    /// A string, a number or the whole text over a limit of ``JSONLimits``.
    case tooLarge = "ZPR-JSON-009"
  }

  /// The stable code.
  public let code: Code
  /// The offset of the byte at fault, from 0.
  public let offset: Int
  /// What is wrong and what to send instead.
  public let message: String

  /// An error from its parts.
  public init(_ code: Code, at offset: Int, _ message: String) {
    self.code = code
    self.offset = offset
    self.message = message
  }

  public var description: String { "byte \(offset): \(message) [\(code.rawValue)]" }
}

extension JSONValue {
  /// Reads a JSON text (RFC 8259): exactly one value with only whitespace around it; no
  /// duplicate keys; integers that fit `Int` become ``int(_:)-swift.enum.case``, other numbers
  /// ``number(_:)``.
  public static func parse(
    _ bytes: some Collection<UInt8>, limits: JSONLimits = .standard
  ) throws(JSONReadError) -> JSONValue {
    let array = Array(bytes)
    return try array.withUnsafeBufferPointer { buffer throws(JSONReadError) in
      var reader = JSONByteReader(bytes: buffer, limits: limits)
      return try reader.document()
    }
  }

  /// Reads a JSON text given as a string (see ``parse(_:limits:)``).
  public static func parse(_ text: String, limits: JSONLimits = .standard) throws(JSONReadError)
    -> JSONValue
  {
    try parse(Array(text.utf8), limits: limits)
  }
}

/// The reading state: the bytes, the position and the containers open around it.
private struct JSONByteReader {
  /// An array or object being read; its parts are changed in place, so that appending to a
  /// long array does not copy it.
  private struct Frame {
    var isObject: Bool
    var items: [JSONValue] = []
    var members: [(String, JSONValue)] = []
    var keys: Set<String> = []
    /// In an object, the key whose value is being read.
    var key = ""
  }

  let bytes: UnsafeBufferPointer<UInt8>
  let limits: JSONLimits
  private var position = 0
  private var stack: [Frame] = []
  private var values = 0

  init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
    self.bytes = bytes
    self.limits = limits
  }

  // MARK: Structure

  mutating func document() throws(JSONReadError) -> JSONValue {
    if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
      throw JSONReadError(
        .unexpectedCharacter, at: 0,
        "the text starts with a byte-order mark (U+FEFF): send UTF-8 JSON without it")
    }
    skipWhitespace()
    let value = try readValue()
    skipWhitespace()
    if position < bytes.count {
      throw JSONReadError(
        .trailingText, at: position,
        "\(describe(position)) after the end of the JSON value: send exactly one value (wrap "
          + "several in an array)")
    }
    return value
  }

  /// One value, with everything nested in it, read without recursion.
  private mutating func readValue() throws(JSONReadError) -> JSONValue {
    while true {
      // Read the start of a value; an empty container or a scalar is complete at once.
      var complete: JSONValue
      guard position < bytes.count else {
        throw JSONReadError(
          .unexpectedEnd, at: position,
          stack.isEmpty
            ? "the text holds no JSON value: send an object, array, string, number, true, false "
              + "or null"
            : "the text ends inside \(openContainer): close it with '\(closingBracket)'")
      }
      try countValue()
      switch bytes[position] {
      case UInt8(ascii: "["):
        try open()
        skipWhitespace()
        guard peek == UInt8(ascii: "]") else {
          stack.append(Frame(isObject: false))
          continue
        }
        position += 1
        complete = .array([])
      case UInt8(ascii: "{"):
        try open()
        skipWhitespace()
        guard peek == UInt8(ascii: "}") else {
          let key = try readKey()
          stack.append(Frame(isObject: true, keys: [key], key: key))
          continue
        }
        position += 1
        complete = .object([])
      case UInt8(ascii: "\""):
        complete = .string(try readString())
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        complete = try readNumber()
      case UInt8(ascii: "t"):
        try literal("true")
        complete = .bool(true)
      case UInt8(ascii: "f"):
        try literal("false")
        complete = .bool(false)
      case UInt8(ascii: "n"):
        try literal("null")
        complete = .null
      default:
        throw unexpectedValueStart()
      }
      // Put the complete value in the container around it, closing those that end here.
      while let top = stack.indices.last {
        skipWhitespace()
        if stack[top].isObject {
          stack[top].members.append((stack[top].key, complete))
          if peek == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
            let keyStart = position
            let key = try readKey()
            guard stack[top].keys.insert(key).inserted else {
              throw JSONReadError(
                .duplicateKey, at: keyStart,
                "the object gives the key \(quoted(key)) twice: send each key once")
            }
            stack[top].key = key
            break
          }
          guard peek == UInt8(ascii: "}") else { throw separatorError(in: "an object", "}") }
          position += 1
          complete = .object(stack.removeLast().members)
        } else {
          stack[top].items.append(complete)
          if peek == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
            break
          }
          guard peek == UInt8(ascii: "]") else { throw separatorError(in: "an array", "]") }
          position += 1
          complete = .array(stack.removeLast().items)
        }
      }
      if stack.isEmpty { return complete }
    }
  }

  /// Steps into an array or object, refusing one past the depth limit.
  private mutating func open() throws(JSONReadError) {
    guard stack.count < limits.maxDepth else {
      throw JSONReadError(
        .tooDeep, at: position,
        "arrays and objects are nested more than \(limits.maxDepth) deep here (the maxDepth "
          + "limit): send a flatter document")
    }
    position += 1
  }

  private mutating func countValue() throws(JSONReadError) {
    values += 1
    guard values <= limits.maxValues else {
      throw JSONReadError(
        .tooLarge, at: position,
        "the text holds more than \(limits.maxValues) values (the maxValues limit): send less "
          + "at once")
    }
  }

  /// A key and its colon.
  private mutating func readKey() throws(JSONReadError) -> String {
    guard peek == UInt8(ascii: "\"") else {
      if position >= bytes.count {
        throw JSONReadError(
          .unexpectedEnd, at: position,
          "the text ends inside an object: give a key in double quotes, or close the object "
            + "with '}'")
      }
      throw JSONReadError(
        .unexpectedCharacter, at: position,
        "\(describe(position)) where a key belongs: keys are strings in double quotes, such as "
          + "\"name\"" + (peek == UInt8(ascii: "}") ? " (no ',' before '}')" : ""))
    }
    let key = try readString()
    skipWhitespace()
    guard peek == UInt8(ascii: ":") else {
      if position >= bytes.count {
        throw JSONReadError(
          .unexpectedEnd, at: position,
          "the text ends after the key \(quoted(key)): add ':' and its value")
      }
      throw JSONReadError(
        .unexpectedCharacter, at: position,
        "\(describe(position)) after the key \(quoted(key)): write ':' between a key and its value"
      )
    }
    position += 1
    skipWhitespace()
    return key
  }

  // MARK: Scalars

  /// A string from its opening quote: valid UTF-8, control characters escaped, escapes known,
  /// surrogates paired.
  private mutating func readString() throws(JSONReadError) -> String {
    let start = position
    position += 1
    var utf8: [UInt8] = []
    var runStart = position
    while true {
      guard position < bytes.count else {
        throw JSONReadError(
          .unexpectedEnd, at: start, "this string has no closing '\"': end it with '\"'")
      }
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        utf8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
        position += 1
        break
      }
      if byte == UInt8(ascii: "\\") {
        utf8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
        try escape(into: &utf8)
        runStart = position
      } else if byte < 0x20 {
        throw JSONReadError(
          .invalidString, at: position,
          "a string holds the control character U+\(hex(UInt32(byte))): write it escaped, as "
            + "\(escapeHint(byte))")
      } else if byte < 0x80 {
        position += 1
      } else {
        try skipUTF8Sequence()
      }
      if utf8.count + (position - runStart) > limits.maxStringLength {
        throw JSONReadError(
          .tooLarge, at: start,
          "a string is longer than \(limits.maxStringLength) bytes (the maxStringLength limit): "
            + "send a shorter one")
      }
    }
    // Every byte was checked, so decoding cannot repair anything.
    return String(decoding: utf8, as: UTF8.self)
  }

  /// A backslash escape, appended as UTF-8.
  private mutating func escape(into utf8: inout [UInt8]) throws(JSONReadError) {
    let start = position
    guard position + 1 < bytes.count else {
      throw JSONReadError(
        .unexpectedEnd, at: start, "the text ends inside an escape: finish it and close the string")
    }
    let letter = bytes[position + 1]
    position += 2
    switch letter {
    case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
    case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
    case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
    case UInt8(ascii: "b"): utf8.append(0x08)
    case UInt8(ascii: "f"): utf8.append(0x0C)
    case UInt8(ascii: "n"): utf8.append(0x0A)
    case UInt8(ascii: "r"): utf8.append(0x0D)
    case UInt8(ascii: "t"): utf8.append(0x09)
    case UInt8(ascii: "u"):
      var scalar = try hexQuad(escapeStart: start)
      if (0xDC00...0xDFFF).contains(scalar) {
        throw JSONReadError(
          .invalidString, at: start,
          "\\u\(hex(scalar)) is the second half of a surrogate pair with no first half: escape a "
            + "character above U+FFFF as a high surrogate followed by a low one")
      }
      if (0xD800...0xDBFF).contains(scalar) {
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
          bytes[position + 1] == UInt8(ascii: "u")
        else {
          throw JSONReadError(
            .invalidString, at: start,
            "\\u\(hex(scalar)) is the first half of a surrogate pair, but no \\uDC00-\\uDFFF "
              + "follows: send both halves, or the character itself in UTF-8")
        }
        let lowStart = position
        position += 2
        let low = try hexQuad(escapeStart: lowStart)
        guard (0xDC00...0xDFFF).contains(low) else {
          throw JSONReadError(
            .invalidString, at: lowStart,
            "\\u\(hex(scalar)) must be followed by a low surrogate (\\uDC00-\\uDFFF), not "
              + "\\u\(hex(low)): send both halves of the pair, or the character itself in UTF-8")
        }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      }
      appendUTF8(scalar, to: &utf8)
    default:
      throw JSONReadError(
        .invalidString, at: start,
        "unknown escape '\\\(printable(letter))': JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
          + "and \\uXXXX")
    }
  }

  /// Four hex digits after `\u`.
  private mutating func hexQuad(escapeStart: Int) throws(JSONReadError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard position < bytes.count else {
        throw JSONReadError(
          .unexpectedEnd, at: escapeStart,
          "the text ends inside a \\u escape: write four hex digits, as in \\u00e9")
      }
      let byte = bytes[position]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default:
        throw JSONReadError(
          .invalidString, at: escapeStart,
          "a \\u escape needs four hex digits, as in \\u00e9: \(describe(position)) is not one")
      }
      value = value << 4 | digit
      position += 1
    }
    return value
  }

  /// Checks one multi-byte UTF-8 sequence (no overlong forms, no surrogates, nothing above
  /// U+10FFFF) and steps over it.
  private mutating func skipUTF8Sequence() throws(JSONReadError) {
    let lead = bytes[position]
    let length: Int
    var lowest: UInt8 = 0x80
    var highest: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0:
      length = 3
      lowest = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED:
      length = 3
      highest = 0x9F
    case 0xF0:
      length = 4
      lowest = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4:
      length = 4
      highest = 0x8F
    default: throw invalidUTF8(at: position)
    }
    guard position + length <= bytes.count else { throw invalidUTF8(at: position) }
    let second = bytes[position + 1]
    guard second >= lowest, second <= highest else { throw invalidUTF8(at: position) }
    for offset in 2..<max(2, length) where bytes[position + offset] & 0xC0 != 0x80 {
      throw invalidUTF8(at: position)
    }
    position += length
  }

  private func invalidUTF8(at offset: Int) -> JSONReadError {
    JSONReadError(
      .invalidUTF8, at: offset,
      "byte 0x\(hex(UInt32(bytes[offset]), width: 2)) does not start a valid UTF-8 character: send "
        + "the text as UTF-8")
  }

  /// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`
  private mutating func readNumber() throws(JSONReadError) -> JSONValue {
    let start = position
    var integral = true
    if peek == UInt8(ascii: "-") { position += 1 }
    guard let first = peek, isDigit(first) else {
      throw JSONReadError(
        .invalidNumber, at: start,
        "'-' must be followed by a digit: write a number such as -1 or -0.5")
    }
    position += 1
    if first == UInt8(ascii: "0"), let next = peek, isDigit(next) {
      throw JSONReadError(
        .invalidNumber, at: start,
        "numbers do not start with 0 followed by more digits: write \(trimmedZeros(from: start)) "
          + "without the leading zero (or send the value as a string)")
    }
    skipDigits()
    if peek == UInt8(ascii: ".") {
      integral = false
      position += 1
      guard let next = peek, isDigit(next) else {
        throw JSONReadError(
          .invalidNumber, at: start,
          "a '.' in a number must be followed by digits: write 1.0, not 1.")
      }
      skipDigits()
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      integral = false
      position += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
      guard let next = peek, isDigit(next) else {
        throw JSONReadError(
          .invalidNumber, at: start,
          "an exponent needs digits: write a number such as 1e5 or 2.5E-3")
      }
      skipDigits()
    }
    guard position - start <= limits.maxNumberLength else {
      throw JSONReadError(
        .tooLarge, at: start,
        "a number is written with more than \(limits.maxNumberLength) characters (the "
          + "maxNumberLength limit): send fewer digits, or the value as a string")
    }
    let text = String(
      decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if integral, let value = Int(text) { return .int(value) }
    guard let value = Double(text), value.isFinite else {
      throw JSONReadError(
        .invalidNumber, at: start,
        "\(text) is out of range for a number: send a smaller one, or the value as a string")
    }
    return .number(value)
  }

  private mutating func skipDigits() {
    while let byte = peek, isDigit(byte) { position += 1 }
  }

  /// The number from `start` with its leading zeros dropped, for a suggestion.
  private func trimmedZeros(from start: Int) -> String {
    var index = start
    var sign = ""
    if bytes[index] == UInt8(ascii: "-") {
      sign = "-"
      index += 1
    }
    var end = index
    while end < bytes.count, end - index < 20, isDigit(bytes[end]) { end += 1 }
    let digits = String(
      decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
    let trimmed = digits.drop { $0 == "0" }
    return sign + (trimmed.isEmpty ? "0" : String(trimmed))
  }

  private mutating func literal(_ word: StaticString) throws(JSONReadError) {
    let start = position
    let matches = word.withUTF8Buffer { expected in
      guard position + expected.count <= bytes.count else { return false }
      for offset in 0..<expected.count where bytes[position + offset] != expected[offset] {
        return false
      }
      return true
    }
    guard matches else { throw unexpectedValueStart() }
    position = start + word.utf8CodeUnitCount
  }

  // MARK: Errors

  private func unexpectedValueStart() -> JSONReadError {
    let byte = bytes[position]
    var hint =
      "expected a value: an object, array, string in double quotes, number, true, "
      + "false or null"
    switch byte {
    case UInt8(ascii: "'"): hint = "strings are written in double quotes (\"...\"), not single ones"
    case UInt8(ascii: "+"): hint = "numbers have no '+' sign: write 1, not +1"
    case UInt8(ascii: "."): hint = "numbers start with a digit: write 0.5, not .5"
    case UInt8(ascii: "N"), UInt8(ascii: "I"):
      hint = "JSON has no NaN or Infinity: send null, or the value as a string"
    case UInt8(ascii: "T"), UInt8(ascii: "F"):
      hint = "the literals are true and false, in lower case"
    case UInt8(ascii: "/"), UInt8(ascii: "#"): hint = "JSON has no comments: remove them"
    case UInt8(ascii: "]"), UInt8(ascii: "}"):
      hint = "a value is missing before it (no ',' before a closing bracket)"
    default: break
    }
    return JSONReadError(.unexpectedCharacter, at: position, "\(describe(position)): \(hint)")
  }

  private func separatorError(in container: String, _ closing: String) -> JSONReadError {
    guard position < bytes.count else {
      return JSONReadError(
        .unexpectedEnd, at: position,
        "the text ends inside \(container): add ',' and the next value, or close it with "
          + "'\(closing)'")
    }
    return JSONReadError(
      .unexpectedCharacter, at: position,
      "\(describe(position)) in \(container): separate values with ',' and close it with "
        + "'\(closing)'")
  }

  private var openContainer: String { stack.last?.isObject == true ? "an object" : "an array" }

  private var closingBracket: String { stack.last?.isObject == true ? "}" : "]" }

  // MARK: Bytes

  private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  /// The byte at an offset, for a message: `'x'` for printable ASCII, `byte 0xNN` otherwise.
  private func describe(_ offset: Int) -> String {
    guard offset < bytes.count else { return "the end of the text" }
    let byte = bytes[offset]
    if byte >= 0x20, byte < 0x7F { return "unexpected '\(printable(byte))'" }
    return "unexpected byte 0x\(hex(UInt32(byte), width: 2))"
  }

  private func printable(_ byte: UInt8) -> String {
    byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x\(hex(UInt32(byte), width: 2))"
  }

  private func escapeHint(_ byte: UInt8) -> String {
    switch byte {
    case 0x0A: "\\n"
    case 0x0D: "\\r"
    case 0x09: "\\t"
    default: "\\u\(hex(UInt32(byte)))"
    }
  }

  /// A key for a message, quoted and cut short when long.
  private func quoted(_ key: String) -> String {
    let shown = key.unicodeScalars.count > 60 ? String(key.unicodeScalars.prefix(60)) + "..." : key
    return JSONValue.string(shown).serialized(pretty: false)
  }

  private func hex(_ value: UInt32, width: Int = 4) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  private func appendUTF8(_ value: UInt32, to utf8: inout [UInt8]) {
    switch value {
    case 0..<0x80:
      utf8.append(UInt8(value))
    case 0x80..<0x800:
      utf8.append(UInt8(0xC0 | value >> 6))
      utf8.append(UInt8(0x80 | value & 0x3F))
    case 0x800..<0x10000:
      utf8.append(UInt8(0xE0 | value >> 12))
      utf8.append(UInt8(0x80 | value >> 6 & 0x3F))
      utf8.append(UInt8(0x80 | value & 0x3F))
    default:
      utf8.append(UInt8(0xF0 | value >> 18))
      utf8.append(UInt8(0x80 | value >> 12 & 0x3F))
      utf8.append(UInt8(0x80 | value >> 6 & 0x3F))
      utf8.append(UInt8(0x80 | value & 0x3F))
    }
  }
}
