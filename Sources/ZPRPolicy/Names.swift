/// The naming rule for security attribute namespaces and attributes (ZPL.md section 1): only
/// `0-9 A-Z a-z - _`, starting with a letter; names compare without regard to case.
public enum SecurityAttributeName {
  /// How a name breaks the rule.
  public enum Problem: Hashable, Sendable {
    /// The name is empty.
    case empty
    /// The first character is not a letter a-z or A-Z.
    case startsWithNonLetter
    /// The character at this UTF-8 offset (of this many bytes) is not allowed.
    case invalidCharacter(offset: Int, length: Int)

    /// What is wrong and how to fix it, for a name of the given kind ("namespace", ...).
    public func message(name: String, what: String) -> String {
      switch self {
      case .empty:
        "the \(what) is empty: give it a name"
      case .startsWithNonLetter:
        "the \(what) '\(name)' must start with a letter a-z or A-Z"
      case .invalidCharacter(let offset, let length):
        "the \(what) '\(name)' contains '\(String(decoding: name.utf8.dropFirst(offset).prefix(length), as: UTF8.self))': "
          + "names use only letters, digits, '-' and '_'"
      }
    }
  }

  /// How `name` breaks the rule, or `nil` when it is a valid name.
  public static func problem(with name: String) -> Problem? {
    problem(in: Array(name.utf8))
  }

  /// How the UTF-8 bytes of a name break the rule, or `nil`.
  static func problem(in bytes: some Collection<UInt8>) -> Problem? {
    guard let first = bytes.first else { return .empty }
    guard isLetter(first) else { return .startsWithNonLetter }
    var offset = 0
    var iterator = bytes.makeIterator()
    while let byte = iterator.next() {
      if !isNameByte(byte) {
        // A multi-byte character is reported whole.
        var length = 1
        while let next = iterator.next(), next & 0xC0 == 0x80 { length += 1 }
        return .invalidCharacter(offset: offset, length: length)
      }
      offset += 1
    }
    return nil
  }

  /// Whether two names are the same name (ASCII case folded).
  public static func same(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.count == rhs.utf8.count
      && zip(lhs.utf8, rhs.utf8).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
  }

  /// The name with ASCII letters in lower case, for use as a key.
  public static func folded(_ name: String) -> String {
    guard name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return name }
    return String(decoding: name.utf8.map(asciiLowercased), as: UTF8.self)
  }

  /// Letters, digits, `-` and `_`: the characters of names (and of unquoted values).
  static func isNameByte(_ byte: UInt8) -> Bool {
    isASCIIDigit(byte) || isLetter(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
  }

  static func isLetter(_ byte: UInt8) -> Bool {
    byte | 0x20 >= 97 && byte | 0x20 <= 122
  }
}
