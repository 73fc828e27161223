// Byte-level ASCII helpers for the lexer, the parser and the checker.

/// The byte with A-Z folded to a-z.
func asciiLowercased(_ byte: UInt8) -> UInt8 {
  byte >= 65 && byte <= 90 ? byte | 0x20 : byte
}

/// Whether the byte is 0-9.
func isASCIIDigit(_ byte: UInt8) -> Bool {
  byte >= 48 && byte <= 57
}

/// Whether the byte is 0-9, a-f or A-F.
func isASCIIHexDigit(_ byte: UInt8) -> Bool {
  isASCIIDigit(byte) || (byte | 0x20 >= 97 && byte | 0x20 <= 102)
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
      if asciiLowercased(bytes[start + offset]) != expected[offset] { return false }
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
