// Endpoints, attribute references and addresses.

extension ParserState {
  /// An endpoint: an attribute (with optional `endpoints`), an address, `all-endpoints`, or the
  /// service network.
  mutating func parseEndpoint(role: String) throws(ParseAbort) -> Endpoint {
    guard let token = peek() else {
      error(
        .expectedEndpoint,
        "expected the \(role) endpoint, but the statement ends here: name it with an attribute "
          + "(app:web endpoints), an address ('10.0.0.0/16'), all-endpoints or "
          + "'osn-services-ip-addresses'", at: SourceRange(lineEnd, lineEnd))
      throw ParseAbort()
    }
    let endpoint: Endpoint
    switch token.kind {
    case .word:
      switch keyword(token) {
      case .allEndpoints:
        endpoint = Endpoint(.allEndpoints, range: token.range)
      case .serviceAddresses, .serviceEndpoints:
        endpoint = Endpoint(.serviceNetwork, range: token.range)
      case .some(let keyword):
        error(
          .expectedEndpoint,
          "expected the \(role) endpoint before '\(text(token.start, token.end))': name it with "
            + "an attribute (app:web endpoints), an address ('10.0.0.0/16'), all-endpoints or "
            + "'osn-services-ip-addresses'"
            + (keyword == .endpoints ? "" : "; to use '\(keyword.rawValue)' as a name, quote it"),
          at: token.range)
        throw ParseAbort()
      case nil:
        if looksLikeAddress(token.start, token.end) {
          endpoint = Endpoint(.address(parseAddress(token.contentRange)), range: token.range)
        } else {
          let attribute = parseAttribute(token)
          warnIfKeywordLike(attribute)
          endpoint = Endpoint(.attribute(attribute), range: token.range)
        }
      }
    case .quoted:
      // Quoted or not, these two keywords keep their meaning (the public docs quote both).
      let content = token.contentRange
      let quotedKeyword = Keyword.match(bytes, content.lowerBound, content.upperBound)
      if quotedKeyword == .serviceAddresses || quotedKeyword == .serviceEndpoints {
        endpoint = Endpoint(.serviceNetwork, range: token.range)
      } else if quotedKeyword == .allEndpoints {
        endpoint = Endpoint(.allEndpoints, range: token.range)
      } else if quotedLooksLikeAddress(content.lowerBound, content.upperBound) {
        endpoint = Endpoint(.address(parseAddress(content)), range: token.range)
      } else {
        endpoint = Endpoint(.attribute(parseAttribute(token)), range: token.range)
      }
    case .equals, .comma, .unexpected:
      error(
        .expectedEndpoint,
        "expected the \(role) endpoint, found '\(text(token.start, token.end))'", at: token.range)
      throw ParseAbort()
    }
    position += 1
    var result = endpoint
    if let end = skipEndpointsWord() { result.range = SourceRange(endpoint.range.lowerBound, end) }
    return result
  }

  /// A bare name close to a keyword (`all-endpoint`) is read as an attribute, which is rarely
  /// what was meant: warn, with the keyword as the fix.
  private mutating func warnIfKeywordLike(_ attribute: AttributeRef) {
    // Cheap tests first: this runs for every bare attribute, and the keywords are long words
    // starting with 'a' or 'o'.
    guard attribute.namespace == nil, attribute.value == nil,
      let first = attribute.key.utf8.first,
      asciiLowercased(first) == 97 || asciiLowercased(first) == 111,
      attribute.key.utf8.count >= 10,
      let keyword = Suggestions.closest(
        to: attribute.key,
        among: ["all-endpoints", "osn-services-ip-addresses", "osn-services-ip-endpoints"])
    else { return }
    warning(
      .keywordLikeName,
      "'\(attribute.key)' is read as a security attribute name; if you meant the keyword, write "
        + "'\(keyword)'", at: attribute.range, suggestion: "did you mean '\(keyword)'?")
  }

  /// The optional word `endpoints` (after an attribute, as published, or after any endpoint);
  /// a near miss such as `endpoint` is reported. Returns where the word ends.
  private mutating func skipEndpointsWord() -> Int? {
    guard let token = peek(), token.kind == .word else { return nil }
    if let keyword = keyword(token) {
      guard keyword == .endpoints else { return nil }
      position += 1
      return token.end
    }
    let word = text(token.start, token.end)
    guard Suggestions.closest(to: word, among: ["endpoints"]) != nil else { return nil }
    error(
      .expectedWord, "'\(word)' is not a keyword: after an attribute write 'endpoints'",
      at: token.range, suggestion: "did you mean 'endpoints'?")
    position += 1
    return token.end
  }

  /// The attribute that names a VCN, after `in`.
  mutating func parseVCNAttribute(after previous: String) throws(ParseAbort) -> AttributeRef {
    guard let token = peek(), token.kind == .word || token.kind == .quoted,
      keyword(token) == nil, token.kind == .quoted || !looksLikeAddress(token.start, token.end)
    else {
      let found =
        peek().map { "found '\(text($0.start, $0.end))'" } ?? "but the statement ends here"
      error(
        .expectedEndpoint,
        "expected the VCN's security attribute after '\(previous)', \(found): write for example "
          + "'in networks:prod VCN'", at: peek()?.range ?? SourceRange(lineEnd, lineEnd))
      throw ParseAbort()
    }
    position += 1
    return parseAttribute(token)
  }

  /// A bare word is an address when it holds `::`, or when it is made only of address
  /// characters (hex digits, `:`, `.`, `/`) and starts with a digit or holds two or more `:`.
  /// Anything else is read as an attribute, so `1app:w` is reported as a bad name and
  /// `ns.key:v:x` as a value that needs quotes.
  func looksLikeAddress(_ start: Int, _ end: Int) -> Bool {
    guard start < end else { return false }
    var colons = 0
    var addressCharacters = true
    for index in start..<end {
      let byte = bytes[index]
      if !Self.isAddressByte(byte) { addressCharacters = false }
      if byte == 58 {
        colons += 1
        if index > start && bytes[index - 1] == 58 { return true }
      }
    }
    return addressCharacters && (isASCIIDigit(bytes[start]) || colons >= 2)
  }

  /// Hex digits, `:`, `.` and `/`: what addresses and prefixes are written with.
  static func isAddressByte(_ byte: UInt8) -> Bool {
    isASCIIHexDigit(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
      || byte == UInt8(ascii: "/")
  }

  /// Quoted text may hold an attribute value with colons (`'k:a:b'`, `'k:a::b'`), so inside
  /// quotes only text that parses as an address, starts with a digit, or is made of address
  /// characters around a `::` is an address.
  func quotedLooksLikeAddress(_ start: Int, _ end: Int) -> Bool {
    guard start < end else { return false }
    if isASCIIDigit(bytes[start]) { return true }
    if case .success = IPPrefix.parse(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
      return true
    }
    var doubleColon = false
    for index in start..<end {
      let byte = bytes[index]
      guard Self.isAddressByte(byte) else { return false }
      if byte == 58 && index > start && bytes[index - 1] == 58 { doubleColon = true }
    }
    return doubleColon
  }

  mutating func parseAddress(_ range: SourceRange) -> IPPrefix {
    let written = text(range.lowerBound, range.upperBound)
    let placeholder = IPPrefix(host: IPAddress(v4: 0))
    switch IPPrefix.parse(UnsafeBufferPointer(rebasing: bytes[range.lowerBound..<range.upperBound]))
    {
    case .failure(.invalidAddress):
      let address = written.split(separator: "/", maxSplits: 1).first.map(String.init) ?? written
      let octets = address.split(separator: ".", omittingEmptySubsequences: false)
      if octets.count == 4,
        octets.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }),
        octets.contains(where: { $0.count > 1 && $0.hasPrefix("0") })
      {
        let fixed = octets.map { String(Int($0)!) }.joined(separator: ".")
        error(
          .invalidAddress,
          "'\(written)' has an octet with a leading zero, which some tools read as octal: write "
            + "each octet without leading zeros", at: range,
          suggestion: "did you mean '\(written.replacing(address, with: fixed))'?")
        return placeholder
      }
      error(
        .invalidAddress,
        "'\(written)' is not a valid IP address: write an IPv4 address such as 10.0.0.15 or an "
          + "IPv6 address such as fd00::15, optionally with /prefix-length", at: range)
      return placeholder
    case .failure(.invalidLength(let maximum)):
      error(
        .invalidPrefixLength,
        "the prefix length in '\(written)' must be a number from 0 to \(maximum)", at: range)
      return placeholder
    case .success(let prefix):
      if prefix.hasHostBits {
        error(
          .hostBitsSet,
          "'\(written)' has bits set after the first \(prefix.length): write the block's first "
            + "address, or the single host", at: range,
          suggestion:
            "did you mean '\(IPPrefix(address: prefix.network, length: prefix.length))' (the block) "
            + "or '\(prefix.address)' (the host)?")
      }
      return prefix
    }
  }

  /// `[namespace.]key[:value]`, bare or in quotes. Errors are reported; a best-effort reference
  /// is returned either way.
  mutating func parseAttribute(_ token: Token) -> AttributeRef {
    let hash = AttributeCache.hash(bytes, token.start, token.end)
    if var known = attributeCache.lookup(bytes, token.start, token.end, hash: hash) {
      known.range = token.range
      return known
    }
    let errorsBefore = errorCount
    let attribute = parseAttributeSyntax(token)
    if errorCount == errorsBefore {
      attributeCache.insert(attribute, token.start, token.end, hash: hash)
    }
    return attribute
  }

  private mutating func parseAttributeSyntax(_ token: Token) -> AttributeRef {
    let quoted = token.kind == .quoted
    let start = token.contentStart
    let end = token.contentEnd
    var colon: Int?
    for index in start..<end where bytes[index] == UInt8(ascii: ":") {
      colon = index
      break
    }
    let nameEnd = colon ?? end
    var dot: Int?
    for index in start..<nameEnd where bytes[index] == UInt8(ascii: ".") {
      if dot == nil {
        dot = index
      } else {
        error(
          .invalidAttribute,
          "'\(text(start, nameEnd))' has more than one '.': an attribute is written "
            + "namespace.key:value, and names cannot contain '.'", at: SourceRange(start, nameEnd))
        break
      }
    }
    var namespace: String?
    if let dot {
      checkName(start, dot, what: "namespace")
      namespace = text(start, dot)
    }
    let keyStart = dot.map { $0 + 1 } ?? start
    checkName(keyStart, nameEnd, what: "attribute name")
    let key = text(keyStart, nameEnd)
    var value: String?
    if let colon {
      let valueStart = colon + 1
      if valueStart == end {
        error(
          .invalidValue,
          "'\(text(start, end))' has no value after ':': write key:value, or the bare key to "
            + "match any value", at: SourceRange(start, end))
      } else if quoted {
        var raw = text(valueStart, end)
        if token.hasEscapes { raw = raw.replacing("''", with: "'") }
        value = raw
      } else {
        for index in valueStart..<end where !SecurityAttributeName.isNameByte(bytes[index]) {
          let written = text(start, end)
          error(
            .invalidValue,
            "the value in '\(written)' holds '\(text(index, index + 1))': a value with "
              + "characters other than letters, digits, '-' and '_' needs the whole attribute "
              + "in single quotes", at: SourceRange(valueStart, end),
            suggestion: "did you mean '\(written)'?")
          break
        }
        value = text(valueStart, end)
      }
    }
    return AttributeRef(namespace: namespace, key: key, value: value, range: token.range)
  }

  /// Names use `0-9 A-Z a-z - _` and start with a letter (``SecurityAttributeName``).
  private mutating func checkName(_ start: Int, _ end: Int, what: String) {
    let bytes = UnsafeBufferPointer(rebasing: self.bytes[start..<end])
    guard let problem = SecurityAttributeName.problem(in: bytes) else { return }
    switch problem {
    case .empty:
      error(
        .invalidName,
        what == "namespace"
          ? "the namespace before '.' is empty: write namespace.key:value, or drop the '.' to use "
            + "the default namespace"
          : "the attribute name is empty: write key:value, or namespace.key:value",
        at: SourceRange(start, end))
    case .startsWithNonLetter:
      error(
        .invalidName, problem.message(name: text(start, end), what: what),
        at: SourceRange(start, end))
    case .invalidCharacter(let offset, let length):
      error(
        .invalidName, problem.message(name: text(start, end), what: what),
        at: SourceRange(start + offset, start + offset + length))
    }
  }
}
