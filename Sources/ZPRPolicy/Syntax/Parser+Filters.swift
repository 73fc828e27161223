// The `with` clause: protocol, ports, ICMP type and code, connection state.

/// A closed set of words matched by their spelling, ignoring ASCII case.
protocol SpelledWord: CaseIterable {
  /// The lower-case spelling.
  var spelling: StaticString { get }
}

extension SpelledWord {
  /// The word spelled by `bytes[start..<end]`, if any.
  static func match(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Self? {
    allCases.first { asciiEqualsIgnoringCase(bytes, start, end, $0.spelling) }
  }
}

/// The filters ZPL knows, in canonical order.
enum FilterName: SpelledWord {
  case transport
  case icmpType
  case icmpCode
  case connectionState

  var spelling: StaticString {
    switch self {
    case .transport: "protocol"
    case .icmpType: "protocol.icmp.type"
    case .icmpCode: "protocol.icmp.code"
    case .connectionState: "connection-state"
    }
  }
}

extension TransportProtocol: SpelledWord {
  var spelling: StaticString {
    switch self {
    case .tcp: "tcp"
    case .udp: "udp"
    case .icmp: "icmp"
    case .icmp6: "icmp6"
    }
  }
}

extension ParserState {
  /// The filter names ZPL knows, in canonical order.
  static let filterNames = FilterName.allCases.map { $0.spelling.description }

  /// Zero or more `with f[, f...]` groups, merged into `filters`.
  mutating func parseFilters(into filters: inout Filters) throws(ParseAbort) {
    while let token = peek(), keyword(token) == .with {
      let clauseStart = token.start
      position += 1
      while true {
        try parseFilter(into: &filters)
        guard let next = peek() else { break }
        if next.kind == .comma {
          position += 1
          // `, with` is read as one separator.
          if let after = peek(), keyword(after) == .with { position += 1 }
          continue
        }
        // Another filter with nothing between: report the missing ',' and read on.
        guard next.kind == .word, FilterName.match(bytes, next.start, next.end) != nil else {
          break
        }
        error(
          .expectedWord,
          "a ',' is missing before '\(text(next.start, next.end))': join filters with ','",
          at: SourceRange(next.start, next.start),
          suggestion: "did you mean ', \(text(next.start, next.end))'?")
      }
      let clause = SourceRange(clauseStart, tokens[position - 1].end)
      filters.range = filters.range.map { $0.union(clause) } ?? clause
    }
  }

  private mutating func parseFilter(into filters: inout Filters) throws(ParseAbort) {
    guard let nameToken = peek(), nameToken.kind == .word else {
      let found = peek().map { "found '\(text($0.start, $0.end))'" } ?? "but the statement ends"
      error(
        .expectedWord,
        "expected a filter such as protocol='tcp/22' after 'with' or ',', \(found)",
        at: peek()?.range ?? SourceRange(lineEnd, lineEnd))
      throw ParseAbort()
    }
    position += 1
    var name: String { text(nameToken.start, nameToken.end) }  // for messages only
    let filter = FilterName.match(bytes, nameToken.start, nameToken.end)
    let known = filter != nil
    guard let equals = peek(), equals.kind == .equals else {
      if !known {
        reportUnknownFilter(name, at: nameToken.range)
      } else {
        error(
          .malformedFilter, "expected '=' after '\(name)': write \(name)='value'",
          at: peek()?.range ?? SourceRange(nameToken.end, nameToken.end))
      }
      throw ParseAbort()
    }
    position += 1
    guard let valueToken = peek(), valueToken.kind == .quoted || valueToken.kind == .word else {
      error(
        .malformedFilter, "expected a quoted value after '\(name)=', such as \(name)='...'",
        at: peek()?.range ?? SourceRange(equals.end, equals.end))
      throw ParseAbort()
    }
    position += 1
    let valueRange = valueToken.contentRange
    if valueToken.kind == .word {
      error(
        .malformedFilter, "the value of \(name) must be in single quotes",
        at: valueToken.range,
        suggestion: "did you mean \(name)='\(text(valueToken.start, valueToken.end))'?")
    }
    let whole = SourceRange(nameToken.start, valueToken.end)
    switch filter {
    case .transport:
      let filter = parseProtocol(valueRange, whole: whole)
      if filters.transport != nil {
        reportDuplicateFilter(
          name, at: whole, hint: "list several ports in one: protocol='tcp/22,443'")
      } else {
        filters.transport = filter
      }
    case .icmpType, .icmpCode:
      let isType = filter == .icmpType
      let number = parseICMPNumber(valueRange, what: isType ? "type" : "code")
      let filter = NumberFilter(number ?? 0, range: whole)
      if isType {
        if filters.icmpType != nil {
          reportDuplicateFilter(name, at: whole)
        } else {
          filters.icmpType = filter
        }
      } else {
        if filters.icmpCode != nil {
          reportDuplicateFilter(name, at: whole)
        } else {
          filters.icmpCode = filter
        }
      }
    case .connectionState:
      let written = text(valueRange.lowerBound, valueRange.upperBound)
      let state = ConnectionState(rawValue: written.lowercased())
      if state == nil {
        let guess = Suggestions.closest(to: written, among: ["stateless", "stateful"])
        error(
          .invalidConnectionState,
          "connection-state is 'stateful' (the default: replies pass) or 'stateless' (each "
            + "direction needs its own statement), not '\(written)'", at: valueRange,
          suggestion: guess.map { "did you mean connection-state='\($0)'?" })
      }
      if filters.connectionState != nil {
        reportDuplicateFilter(name, at: whole)
      } else {
        filters.connectionState = ConnectionStateFilter(state ?? .stateful, range: whole)
      }
    case nil:
      reportUnknownFilter(name, at: nameToken.range)
    }
  }

  private mutating func reportUnknownFilter(_ name: String, at range: SourceRange) {
    let lowered = name.lowercased()
    var suggestion = Suggestions.closest(to: name, among: Self.filterNames)
    if suggestion == nil {
      suggestion = Self.filterNames.first { $0.hasSuffix(lowered) && lowered.count > 3 }
    }
    var message =
      "unknown filter '\(name)': the filters are protocol, protocol.icmp.type, "
      + "protocol.icmp.code and connection-state"
    if ["port", "ports", "dport", "destination-port", "dst-port"].contains(lowered) {
      message += "; the port goes inside the protocol filter"
      error(.unknownFilter, message, at: range, suggestion: "did you mean protocol='tcp/<port>'?")
      return
    }
    error(
      .unknownFilter, message, at: range, suggestion: suggestion.map { "did you mean '\($0)'?" })
  }

  private mutating func reportDuplicateFilter(
    _ name: String, at range: SourceRange, hint: String? = nil
  ) {
    error(
      .duplicateFilter,
      "\(name) is given twice in this statement: keep one" + (hint.map { " (\($0))" } ?? ""),
      at: range)
  }

  /// `tcp`, `udp`, `icmp`, `icmp6`, with `/ports` for TCP and UDP.
  private mutating func parseProtocol(_ range: SourceRange, whole: SourceRange) -> ProtocolFilter {
    var (start, end) = trimmed(range.lowerBound, range.upperBound)
    let slash = (start..<end).first { bytes[$0] == UInt8(ascii: "/") }
    var nameEnd = slash ?? end
    while nameEnd > start, bytes[nameEnd - 1] == 32 { nameEnd -= 1 }
    let transport = TransportProtocol.match(bytes, start, nameEnd)
    if transport == nil {
      reportUnknownProtocol(
        text(start, nameEnd), at: SourceRange(start, nameEnd), ports: slash.map { text($0, end) })
    }
    var ports: [PortRange] = []
    if let slash {
      start = slash + 1
      if let transport, transport.isICMP {
        let portText = text(start, end)
        error(
          .protocolMismatch,
          "\(transport.rawValue) has no ports: remove '/\(portText)'; to match an ICMP message "
            + "use protocol.icmp.type (and protocol.icmp.code)", at: SourceRange(slash, end),
          suggestion: Int(portText).map {
            "did you mean protocol='\(transport.rawValue)', protocol.icmp.type='\($0)'?"
          })
      } else {
        ports = parsePorts(start, end, transport: transport ?? .tcp, valueRange: range)
      }
    }
    return ProtocolFilter(transport: transport ?? .tcp, ports: ports, range: whole)
  }

  private mutating func reportUnknownProtocol(
    _ written: String, at range: SourceRange, ports: String?
  ) {
    let lowered = written.lowercased()
    var suggestion: String?
    var message =
      "unknown protocol '\(written)': use tcp or udp (with optional /ports), icmp or icmp6"
    if let numbered = Suggestions.protocolNumbers[lowered] {
      suggestion = "did you mean '\(numbered.rawValue)\(ports ?? "")'?"
      message += "; protocols are named, not numbered"
    } else if ["all", "any", "*", "ip"].contains(lowered) {
      message += "; to allow every protocol, leave out the protocol filter"
    } else if lowered == "icmpv6" || lowered == "ipv6-icmp" {
      suggestion = "did you mean 'icmp6'?"
    } else if let guess = Suggestions.closest(
      to: written, among: TransportProtocol.allCases.map(\.rawValue))
    {
      suggestion = "did you mean '\(guess)\(ports ?? "")'?"
    }
    error(.unknownProtocol, message, at: range, suggestion: suggestion)
  }

  /// A comma-separated list of ports and `low-high` ranges, returned sorted.
  private mutating func parsePorts(
    _ start: Int, _ end: Int, transport: TransportProtocol, valueRange: SourceRange
  ) -> [PortRange] {
    var ports: [PortRange] = []
    var itemStart = start
    while itemStart <= end {
      var itemEnd = itemStart
      while itemEnd < end, bytes[itemEnd] != UInt8(ascii: ",") { itemEnd += 1 }
      let (lower, upper) = trimmed(itemStart, itemEnd)
      if let port = parsePortItem(lower, upper, transport: transport, valueRange: valueRange) {
        ports.append(port)
      }
      itemStart = itemEnd + 1
    }
    ports.sort { ($0.lower, $0.upper) < ($1.lower, $1.upper) }
    warnAboutOverlaps(ports, transport: transport, valueRange: valueRange)
    return ports
  }

  private mutating func parsePortItem(
    _ start: Int, _ end: Int, transport: TransportProtocol, valueRange: SourceRange
  ) -> PortRange? {
    let range = SourceRange(start, end)
    guard start < end else {
      error(
        .portOutOfRange, "a port is missing here: write a number from 1 to 65535",
        at: range)
      return nil
    }
    let dash = (start..<end).first { bytes[$0] == UInt8(ascii: "-") }
    var (lowEnd, highStart) = (dash ?? end, dash.map { $0 + 1 } ?? end)
    (_, lowEnd) = trimmed(start, lowEnd)
    (highStart, _) = trimmed(highStart, end)
    if dash != nil, lowEnd == start || highStart == end {
      error(
        .portOutOfRange,
        "the port range '\(text(start, end))' is missing its \(lowEnd == start ? "first" : "last") "
          + "port: write low-high, e.g. '1521-1522'", at: SourceRange(start, end))
      return nil
    }
    guard let low = number(start, lowEnd), dash == nil || number(highStart, end) != nil else {
      reportNonNumericPort(start, end, transport: transport, valueRange: valueRange)
      return nil
    }
    let high = dash == nil ? low : number(highStart, end)!
    var valid = true
    for (value, bounds) in [(low, SourceRange(start, lowEnd)), (high, SourceRange(highStart, end))]
    where value < 1 || value > 65535 {
      error(
        .portOutOfRange,
        "port \(text(bounds.lowerBound, bounds.upperBound)) is out of range: ports are 1 to 65535",
        at: bounds)
      valid = false
      if dash == nil { break }
    }
    guard valid else { return nil }
    if low > high {
      error(
        .invertedPortRange,
        "the port range \(low)-\(high) runs backwards: write the lower port first",
        at: range,
        // The suggestion rewrites the whole value: built only for a diagnostic that is kept.
        suggestion: isReporting
          ? "did you mean '\(text(valueRange.lowerBound, start))\(high)-\(low)"
            + "\(text(end, valueRange.upperBound))'?" : nil)
      return nil
    }
    return PortRange(low, high, range: range)
  }

  private mutating func reportNonNumericPort(
    _ start: Int, _ end: Int, transport: TransportProtocol, valueRange: SourceRange
  ) {
    let written = text(start, end)
    var suggestion: String?
    // The suggestion rewrites the whole value: built only for a diagnostic that is kept.
    if isReporting, let port = Suggestions.servicePorts[written.lowercased()] {
      let value =
        text(valueRange.lowerBound, start) + String(port) + text(end, valueRange.upperBound)
      suggestion = "did you mean '\(value)'?"
    }
    error(
      .nonNumericPort,
      "ports are numeric: '\(written)' is not a port number; write the number, e.g. "
        + "'\(transport.rawValue)/8080'", at: SourceRange(start, end), suggestion: suggestion)
  }

  private mutating func warnAboutOverlaps(
    _ ports: [PortRange], transport: TransportProtocol, valueRange: SourceRange
  ) {
    guard ports.count > 1 else { return }
    var merged: [(Int, Int)] = []
    var overlap: (PortRange, PortRange)?
    var previous = ports[0]
    merged.append((previous.lower, previous.upper))
    for port in ports.dropFirst() {
      if port.lower <= merged[merged.count - 1].1 {
        if overlap == nil { overlap = (previous, port) }
        merged[merged.count - 1].1 = max(merged[merged.count - 1].1, port.upper)
      } else {
        merged.append((port.lower, port.upper))
      }
      previous = port
    }
    guard let (first, second) = overlap else { return }
    let list = merged.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }.joined(separator: ",")
    warning(
      .overlappingPorts,
      first == second
        ? "port \(first) is listed twice" : "ports \(first) and \(second) overlap",
      at: second.range, suggestion: "did you mean '\(transport.rawValue)/\(list)'?")
  }

  private mutating func parseICMPNumber(_ range: SourceRange, what: String) -> Int? {
    let (start, end) = trimmed(range.lowerBound, range.upperBound)
    guard let value = number(start, end), value <= 255 else {
      error(
        .invalidICMPValue,
        "the ICMP \(what) must be a number from 0 to 255, not '\(text(start, end))'",
        at: SourceRange(start, end))
      return nil
    }
    return value
  }

  /// ICMP filters need an ICMP protocol, and a code needs a type.
  mutating func checkFilters(_ filters: Filters) {
    // One diagnostic per mistake: the missing ICMP protocol first, else the missing type.
    let isICMP = filters.transport?.transport.isICMP ?? false
    if !isICMP, let filter = filters.icmpType ?? filters.icmpCode {
      error(
        .protocolMismatch,
        "ICMP type and code filters need protocol='icmp' (or 'icmp6') in the same statement",
        at: filter.range)
    } else if let code = filters.icmpCode, filters.icmpType == nil {
      error(
        .icmpCodeWithoutType,
        "protocol.icmp.code needs protocol.icmp.type: a code only means something within a type; "
          + "add protocol.icmp.type='N' (for example '3', destination unreachable)",
        at: code.range)
    }
  }

  /// A decimal number of at most 6 digits (enough to catch ports above 65535).
  private func number(_ start: Int, _ end: Int) -> Int? {
    guard start < end, end - start <= 6 else {
      return start < end && (start..<end).allSatisfy({ bytes[$0] >= 48 && bytes[$0] <= 57 })
        ? Int.max : nil
    }
    var value = 0
    for index in start..<end {
      let byte = bytes[index]
      guard byte >= 48, byte <= 57 else { return nil }
      value = value * 10 + Int(byte - 48)
    }
    return value
  }

  private func trimmed(_ start: Int, _ end: Int) -> (Int, Int) {
    var (low, high) = (start, end)
    while low < high, bytes[low] == 32 || bytes[low] == 9 { low += 1 }
    while high > low, bytes[high - 1] == 32 || bytes[high - 1] == 9 { high -= 1 }
    return (low, high)
  }
}
