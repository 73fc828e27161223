/// A token of one line of ZPL.
struct Token {
  enum Kind: Equatable {
    /// A run of characters other than blanks, quotes, `,`, `=` and `#`.
    case word
    /// A `'...'` string; `start..<end` covers the quotes, the content is inside them.
    case quoted
    /// `=`
    case equals
    /// `,`
    case comma
    /// A character ZPL does not use.
    case unexpected
  }

  var kind: Kind
  var start: Int
  var end: Int
  /// For `.quoted`: the string contains a doubled `''` that must be unescaped.
  var hasEscapes = false
  /// For `.quoted`: the string was written with `"` instead of `'`.
  var doubleQuoted = false
  /// For `.quoted`: no closing quote before the end of the line.
  var unterminated = false

  var range: SourceRange { SourceRange(start, end) }
  /// The content of a quoted token (without quotes), or the whole token otherwise.
  var contentStart: Int { kind == .quoted ? start + 1 : start }
  var contentEnd: Int { kind == .quoted && !unterminated ? end - 1 : end }
  var contentRange: SourceRange { SourceRange(contentStart, contentEnd) }
}

/// Splits one line into tokens; the comment (from an unquoted `#`) is returned separately.
struct Lexer {
  let bytes: UnsafeBufferPointer<UInt8>

  /// Appends the tokens of `start..<end` to `tokens` and returns where a comment starts, if any.
  func tokenize(_ start: Int, _ end: Int, into tokens: inout [Token]) -> Int? {
    var index = start
    while index < end {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        index += 1
      case UInt8(ascii: "#"):
        return index
      case UInt8(ascii: "="):
        tokens.append(Token(kind: .equals, start: index, end: index + 1))
        index += 1
      case UInt8(ascii: ","):
        tokens.append(Token(kind: .comma, start: index, end: index + 1))
        index += 1
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        tokens.append(quoted(from: index, end: end, quote: byte))
        index = tokens[tokens.count - 1].end
      case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "{"),
        UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "`"), 0..<32, 127:
        tokens.append(Token(kind: .unexpected, start: index, end: index + 1))
        index += 1
      default:
        let wordStart = index
        while index < end, Self.isWordByte(bytes[index]) { index += 1 }
        tokens.append(Token(kind: .word, start: wordStart, end: index))
      }
    }
    return nil
  }

  private func quoted(from start: Int, end: Int, quote: UInt8) -> Token {
    var token = Token(kind: .quoted, start: start, end: end)
    token.doubleQuoted = quote == UInt8(ascii: "\"")
    var index = start + 1
    while index < end {
      if bytes[index] == quote {
        if index + 1 < end, bytes[index + 1] == quote {
          token.hasEscapes = true
          index += 2
          continue
        }
        token.end = index + 1
        return token
      }
      index += 1
    }
    token.unterminated = true
    return token
  }

  static func isWordByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "#"),
      UInt8(ascii: "="), UInt8(ascii: ","), UInt8(ascii: "'"), UInt8(ascii: "\""),
      UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "{"),
      UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "`"), 0..<32, 127:
      false
    default:
      true
    }
  }
}

/// The words ZPL reserves; matched without regard to case.
enum Keyword: String, CaseIterable {
  case `in`
  case vcn
  case allow
  case to
  case connect
  case endpoints
  case with
  case allEndpoints = "all-endpoints"
  case serviceAddresses = "osn-services-ip-addresses"
  case serviceEndpoints = "osn-services-ip-endpoints"
  case deny

  /// The lower-case spelling, as a static string for byte comparisons.
  var spelling: StaticString {
    switch self {
    case .in: "in"
    case .vcn: "vcn"
    case .allow: "allow"
    case .to: "to"
    case .connect: "connect"
    case .endpoints: "endpoints"
    case .with: "with"
    case .allEndpoints: "all-endpoints"
    case .serviceAddresses: "osn-services-ip-addresses"
    case .serviceEndpoints: "osn-services-ip-endpoints"
    case .deny: "deny"
    }
  }

  /// The spelling the formatter writes.
  var canonical: String { self == .vcn ? "VCN" : rawValue }

  /// The keyword spelled by `bytes[start..<end]`, ignoring case.
  static func match(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Keyword? {
    // Dispatch on length first: most words are attributes and fail here at once.
    let candidate: Keyword
    let second: Keyword?
    switch end - start {
    case 2: (candidate, second) = (.in, .to)
    case 3: (candidate, second) = (.vcn, nil)
    case 4: (candidate, second) = (.with, .deny)
    case 5: (candidate, second) = (.allow, nil)
    case 7: (candidate, second) = (.connect, nil)
    case 9: (candidate, second) = (.endpoints, nil)
    case 13: (candidate, second) = (.allEndpoints, nil)
    case 25: (candidate, second) = (.serviceAddresses, .serviceEndpoints)
    default: return nil
    }
    if candidate.matches(bytes, start) { return candidate }
    if let second, second.matches(bytes, start) { return second }
    return nil
  }

  private func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
    asciiEqualsIgnoringCase(bytes, start, spelling)
  }
}

/// Whether `bytes[start...]` spells the lower-case ASCII `word`, ignoring case (the caller has
/// checked the length).
func asciiEqualsIgnoringCase(
  _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ word: StaticString
)
  -> Bool
{
  word.withUTF8Buffer { expected in
    for offset in 0..<expected.count {
      var byte = bytes[start + offset]
      if byte >= 65 && byte <= 90 { byte |= 0x20 }
      if byte != expected[offset] { return false }
    }
    return true
  }
}

/// Whether `bytes[start..<end]` spells `word`, ignoring ASCII case.
func asciiEqualsIgnoringCase(
  _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ word: StaticString
) -> Bool {
  end - start == word.utf8CodeUnitCount && asciiEqualsIgnoringCase(bytes, start, word)
}
