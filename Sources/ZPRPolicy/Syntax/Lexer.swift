/// A token of one line of ZPL.
struct Token {
  enum Kind: Equatable {
    /// A run of word characters (see ``Lexer/isWordByte(_:)``).
    case word
    /// A quoted string; `start..<end` covers the quotes, the content is inside them.
    case quoted
    /// `=`
    case equals
    /// `,`
    case comma
    /// A character ZPL does not use.
    case unexpected
  }

  /// How a string was quoted: only straight single quotes are ZPL.
  enum QuoteStyle: Equatable {
    case single
    case double
    case typographic
  }

  var kind: Kind
  var start: Int
  var end: Int
  /// For `.quoted`: the string contains a doubled `''` that must be unescaped.
  var hasEscapes = false
  /// For `.quoted`: the quotes used.
  var quote = QuoteStyle.single
  /// For `.quoted`: the width in bytes of the opening and closing quotes.
  var openWidth = 1
  var closeWidth = 1
  /// For `.quoted`: no closing quote before the end of the line.
  var unterminated = false

  var range: SourceRange { SourceRange(start, end) }
  /// The content of a quoted token (without quotes), or the whole token otherwise.
  var contentStart: Int { kind == .quoted ? start + openWidth : start }
  var contentEnd: Int { kind == .quoted && !unterminated ? end - closeWidth : end }
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
        tokens.append(quoted(from: index, end: end))
        index = tokens[tokens.count - 1].end
      default:
        if typographicQuoteWidth(at: index, end) > 0 {
          tokens.append(quoted(from: index, end: end))
          index = tokens[tokens.count - 1].end
        } else if Self.isWordByte(byte) {
          let wordStart = index
          while index < end, Self.isWordByte(bytes[index]),
            bytes[index] != 0xE2 || typographicQuoteWidth(at: index, end) == 0
          {
            index += 1
          }
          tokens.append(Token(kind: .word, start: wordStart, end: index))
        } else {
          tokens.append(Token(kind: .unexpected, start: index, end: index + 1))
          index += 1
        }
      }
    }
    return nil
  }

  /// A quoted string from its opening quote: `'...'` with `''` for a quote inside, or (to be
  /// reported) `"..."` or typographic quotes.
  private func quoted(from start: Int, end: Int) -> Token {
    var token = Token(kind: .quoted, start: start, end: end)
    let opening = bytes[start]
    if opening == UInt8(ascii: "\"") { token.quote = .double }
    if opening >= 0x80 {
      token.quote = .typographic
      token.openWidth = typographicQuoteWidth(at: start, end)
    }
    var index = start + token.openWidth
    while index < end {
      if token.quote == .typographic {
        let width = typographicQuoteWidth(at: index, end)
        if width > 0 {
          token.closeWidth = width
          token.end = index + width
          return token
        }
      } else if bytes[index] == opening {
        if index + 1 < end, bytes[index + 1] == opening {
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

  /// 3 at a typographic quote (U+2018, U+2019, U+201C, U+201D in UTF-8), 0 elsewhere.
  private func typographicQuoteWidth(at index: Int, _ end: Int) -> Int {
    guard bytes[index] == 0xE2, index + 2 < end, bytes[index + 1] == 0x80 else { return 0 }
    switch bytes[index + 2] {
    case 0x98, 0x99, 0x9C, 0x9D: return 3
    default: return 0
    }
  }

  /// Word characters: everything but blanks, control characters, quotes, `#`, `=`, `,` and the
  /// brackets and punctuation ZPL does not use. (Typographic quotes are found separately.)
  static func isWordByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: " "), UInt8(ascii: "#"), UInt8(ascii: "="), UInt8(ascii: ","),
      UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
      UInt8(ascii: ";"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["),
      UInt8(ascii: "]"), UInt8(ascii: "`"), 0..<32, 127:
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
