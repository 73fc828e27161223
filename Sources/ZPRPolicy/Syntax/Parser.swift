/// Parses ZPL text into a ``PolicyFile``: one statement per line, `#` comments, blank lines.
///
/// Every error in the file is reported, not just the first: a syntax error ends its statement,
/// and parsing goes on at the next line. Value errors (a bad port, a bad name) do not end the
/// statement, so one statement can report several. What is reported is capped
/// (``ZPRLimits/diagnosticsPerStatement``, ``ZPRLimits/diagnosticsPerFile``), a statement
/// longer than ``ZPRLimits/maxStatementLength`` is refused before it is read, and the time
/// taken grows linearly with the text.
public struct PolicyParser: Sendable {
  /// The limits the parser enforces.
  public var limits: ZPRLimits

  /// A parser enforcing these limits.
  public init(limits: ZPRLimits = .standard) {
    self.limits = limits
  }

  /// Parses a whole file and runs the statement-level checks (not the file-level ones: see
  /// ``PolicyChecker``).
  public func parse(_ source: SourceFile) -> PolicyFile {
    source.bytes.withUnsafeBufferPointer { buffer in
      var state = ParserState(bytes: buffer, limits: limits)
      var lines: [PolicyLine] = []
      lines.reserveCapacity(source.lineCount)
      for line in 1...source.lineCount {
        let bounds = source.lineBounds(line)
        lines.append(state.parseLine(bounds.lowerBound, bounds.upperBound))
      }
      var diagnostics = state.diagnostics.sortedBySource()
      if !state.fileOmitted.isEmpty {
        diagnostics.append(
          .omitted(
            state.fileOmitted, in: "this file",
            at: SourceRange(source.bytes.count, source.bytes.count)))
      }
      var file = PolicyFile(
        source: source, lines: lines, statements: state.statements, diagnostics: diagnostics)
      file.omittedDiagnostics = state.fileOmitted
      return file
    }
  }

  /// Parses one statement given on its own (as an API or a tenancy file holds it). A text
  /// longer than ``ZPRLimits/maxStatementLength`` is refused without being read.
  public func parseStatement(_ text: String) -> (statement: Statement?, diagnostics: [Diagnostic]) {
    if text.utf8.count > limits.maxStatementLength,
      let tooLong = Array(text.utf8).withUnsafeBufferPointer({
        Self.lengthProblem($0, 0, $0.count, limit: limits.maxStatementLength)
      })
    {
      return (nil, [tooLong])
    }
    let file = parse(SourceFile(path: "<statement>", text: text))
    let statements = file.statements
    var diagnostics = file.diagnostics
    if statements.count > 1 {
      diagnostics.append(
        Diagnostic(
          .error, .extraText,
          "expected one statement, found \(statements.count): "
            + "give each statement separately", at: statements[1].range))
    } else if statements.isEmpty && diagnostics.isEmpty {
      diagnostics.append(
        Diagnostic(
          .error, .badStart,
          "the statement is empty: write 'in <vcn-attr> VCN allow <endpoint> to connect to "
            + "<endpoint>'", at: SourceRange(0, 0)))
    }
    return (diagnostics.contains { $0.severity == .error } ? nil : statements.first, diagnostics)
  }

  /// The error for `bytes[start..<end]` when it holds more than `limit` Unicode scalars, placed
  /// at the part past the limit; nil when it fits. Reads only as far as it must.
  static func lengthProblem(
    _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, limit: Int
  ) -> Diagnostic? {
    guard end - start > limit else { return nil }
    var scalars = 0
    var cut: Int?
    for index in start..<end where bytes[index] & 0xC0 != 0x80 {
      scalars += 1
      if scalars == limit + 1 { cut = index }
    }
    guard let cut else { return nil }
    return Diagnostic(
      .error, .statementTooLong,
      "this statement is \(scalars) characters long; a statement may hold at most \(limit) (the "
        + "maxStatementLength limit): shorten it, or split it into several statements",
      at: SourceRange(cut, end))
  }
}

extension Array where Element == Diagnostic {
  /// In source order; diagnostics at the same place keep the order they were found in.
  public func sortedBySource() -> [Diagnostic] {
    enumerated().sorted {
      ($0.element.range.lowerBound, $0.offset) < ($1.element.range.lowerBound, $1.offset)
    }.map(\.element)
  }
}

/// Unwinds a statement after a syntax error has been reported.
struct ParseAbort: Error {}

/// The working state of one parse: the bytes, the current line's tokens, the diagnostics.
struct ParserState {
  let bytes: UnsafeBufferPointer<UInt8>
  var tokens: [Token] = []
  var position = 0
  var diagnostics: [Diagnostic] = []
  var statements: [Statement] = []
  var attributeCache = AttributeCache()
  var lineEnd = 0
  var errorCount = 0
  let limits: ZPRLimits
  /// Diagnostics kept for the current line, and those left out of it.
  var lineShown = 0
  var lineOmitted = DiagnosticTally()
  /// Diagnostics kept for the file (line summaries included), and those left out of it.
  var fileShown = 0
  var fileOmitted = DiagnosticTally()

  init(bytes: UnsafeBufferPointer<UInt8>, limits: ZPRLimits) {
    self.bytes = bytes
    self.limits = limits
    tokens.reserveCapacity(32)
  }

  // MARK: Lines

  /// One line, with its diagnostics capped: those past the statement's cap are counted and
  /// reported as one.
  mutating func parseLine(_ start: Int, _ end: Int) -> PolicyLine {
    lineShown = 0
    lineOmitted = DiagnosticTally()
    let line = parseLineContent(start, end)
    if !lineOmitted.isEmpty {
      if fileShown < limits.diagnosticsPerFile {
        fileShown += 1
        diagnostics.append(.omitted(lineOmitted, in: "this statement", at: SourceRange(end, end)))
      } else {
        fileOmitted.add(lineOmitted)
      }
    }
    return line
  }

  private mutating func parseLineContent(_ start: Int, _ end: Int) -> PolicyLine {
    tokens.removeAll(keepingCapacity: true)
    position = 0
    lineEnd = end
    // A statement over the length limit is not read at all.
    if let tooLong = PolicyParser.lengthProblem(
      bytes, start, end, limit: limits.maxStatementLength)
    {
      errorCount += 1
      report(tooLong.severity, tooLong.code, tooLong.message, at: tooLong.range)
      return .invalid(SourceRange(start, end))
    }
    let commentStart = Lexer(bytes: bytes).tokenize(start, end, into: &tokens)
    var comment: Comment?
    if let commentStart {
      var textEnd = end
      while textEnd > commentStart + 1, bytes[textEnd - 1] == 32 || bytes[textEnd - 1] == 9 {
        textEnd -= 1
      }
      comment = Comment(
        text: text(commentStart + 1, textEnd), range: SourceRange(commentStart, textEnd))
    }
    if tokens.isEmpty {
      if let comment { return .comment(comment) }
      return .blank
    }
    let errorsBefore = errorCount
    let line = SourceRange(start, end)
    // A line of nothing but stray characters has no tokens left once they are reported.
    guard lexicallyValid(), !tokens.isEmpty else { return .invalid(line) }
    do {
      let statement = try parseStatement()
      if errorCount > errorsBefore { return .invalid(line) }
      statements.append(statement)
      return .statement(index: statements.count - 1, trailingComment: comment)
    } catch {
      return .invalid(line)
    }
  }

  /// Reports stray characters and bad quotes, and drops the stray characters so that the rest of
  /// the statement is still checked. An unterminated string ends the statement.
  private mutating func lexicallyValid() -> Bool {
    var valid = true
    var kept = 0
    for index in tokens.indices {
      let token = tokens[index]
      if token.kind == .unexpected {
        let character = text(token.start, token.end)
        error(
          .unexpectedCharacter,
          "unexpected character '\(character.unicodeScalars.first.map { $0.escaped(asASCII: true) } ?? "")': "
            + "ZPL uses only words, quoted 'strings', '=' and ','", at: token.range)
        continue
      }
      if token.kind == .quoted && token.unterminated {
        let content = text(token.contentStart, token.contentEnd)
        error(
          .badQuote, "this string has no closing quote: add ' where it ends",
          at: token.range, suggestion: "did you mean '\(content.replacing("'", with: "''"))'?")
        valid = false
      } else if token.kind == .quoted && token.quote != .single {
        let content = text(token.contentStart, token.contentEnd)
        let used = token.quote == .double ? "double quotes" : "typographic (curly) quotes"
        error(
          .badQuote, "strings are written in straight single quotes ('), not \(used)",
          at: token.range, suggestion: "did you mean '\(content.replacing("'", with: "''"))'?")
      }
      tokens[kept] = token
      kept += 1
    }
    tokens.removeSubrange(kept...)
    return valid
  }

  // MARK: Statements

  mutating func parseStatement() throws(ParseAbort) -> Statement {
    let first = tokens[0]
    var keyword = self.keyword(first)
    if keyword == nil, first.kind == .word {
      // A misspelt first word is reported and read as what it resembles, to check the rest.
      let word = text(first.start, first.end)
      if let guess = Suggestions.closest(to: word, among: ["allow", "in"]) {
        error(
          .expectedWord, "'\(word)' is not a keyword: a statement starts with '\(guess)'",
          at: first.range, suggestion: "did you mean '\(guess)'?")
        keyword = guess == "allow" ? .allow : .in
      }
    }
    switch keyword {
    case .in:
      return try parseScopedStatement()
    case .allow:
      return try parseCrossVCNStatement()
    case .deny:
      reportDeny(at: first.range)
      throw ParseAbort()
    default:
      error(
        .badStart,
        "a statement starts with 'in <vcn-attr> VCN allow ...' or, across VCNs, 'allow <attr> "
          + "endpoints in <vcn-attr> VCN to connect to ...'", at: first.range)
      throw ParseAbort()
    }
  }

  /// `in <vcn> VCN allow <endpoint> to connect to <endpoint> [with ...]`
  private mutating func parseScopedStatement() throws(ParseAbort) -> Statement {
    let start = tokens[0].start
    position = 1
    let vcn = try parseVCNAttribute(after: "in")
    try expect(.vcn, context: "after the VCN's attribute")
    if let token = peek(), keyword(token) == .deny {
      reportDeny(at: token.range)
      throw ParseAbort()
    }
    try expect(.allow, context: "after 'VCN'")
    let source = try parseEndpoint(role: "source")
    try expectConnectTo()
    let destination = try parseEndpoint(role: "destination")
    var filters = Filters()
    try parseFilters(into: &filters)
    if let token = peek() {
      if keyword(token) == .in {
        error(
          .extraText,
          "'in ... VCN' after the destination belongs to the cross-VCN form: write 'allow <attr> "
            + "endpoints in <vcn-attr> VCN to connect to <attr> endpoints in <vcn-attr> VCN'",
          at: SourceRange(token.start, tokens[tokens.count - 1].end))
      } else {
        reportExtraText(token, hint: "write one statement per line, and join filters with ','")
      }
      throw ParseAbort()
    }
    let statement = Statement(
      scope: .vcn(vcn), source: source, destination: destination, filters: filters,
      range: SourceRange(start, tokens[tokens.count - 1].end))
    checkEndpoints(statement)
    checkFilters(filters)
    return statement
  }

  /// `allow <attr> endpoints in <vcn> VCN to connect to <attr> endpoints [with ...] in <vcn> VCN`
  private mutating func parseCrossVCNStatement() throws(ParseAbort) -> Statement {
    let start = tokens[0].start
    position = 1
    let source = try parseEndpoint(role: "source")
    if let token = peek(), keyword(token) != .in {
      error(
        .expectedWord,
        "expected 'in <vcn-attr> VCN' after the source: a statement that starts with 'allow' "
          + "crosses VCNs and names both; within one VCN write 'in <vcn-attr> VCN allow ...'",
        at: token.range)
      throw ParseAbort()
    }
    try expect(.in, context: "after the source endpoint")
    let sourceVCN = try parseVCNAttribute(after: "in")
    try expect(.vcn, context: "after the source VCN's attribute")
    try expectConnectTo()
    let destination = try parseEndpoint(role: "destination")
    var filters = Filters()
    try parseFilters(into: &filters)
    guard peek() != nil else {
      error(
        .expectedWord,
        "a cross-VCN statement names the destination's VCN too: add 'in <vcn-attr> VCN' at the end",
        at: SourceRange(lineEnd, lineEnd))
      throw ParseAbort()
    }
    if let token = peek(), token.kind == .word, keyword(token) == nil,
      Suggestions.closest(to: text(token.start, token.end), among: ["with"]) != nil
    {
      reportExtraText(token, hint: "")
      throw ParseAbort()
    }
    try expect(.in, context: "after the destination endpoint")
    let destinationVCN = try parseVCNAttribute(after: "in")
    try expect(.vcn, context: "after the destination VCN's attribute")
    try parseFilters(into: &filters)
    if let token = peek() {
      reportExtraText(token, hint: "write one statement per line")
      throw ParseAbort()
    }
    let statement = Statement(
      scope: .crossVCN(source: sourceVCN, destination: destinationVCN), source: source,
      destination: destination, filters: filters,
      range: SourceRange(start, tokens[tokens.count - 1].end))
    // (all-endpoints and addresses are not allowed here at all, so only this rule applies.)
    for endpoint in [source, destination] where endpoint.attribute == nil {
      error(
        .crossVCNNeedsAttributes,
        "a cross-VCN statement connects attribute endpoints only: name this side with a security "
          + "attribute, or write addresses in an 'in <vcn-attr> VCN allow ...' statement",
        at: endpoint.range)
    }
    checkFilters(filters)
    return statement
  }

  private mutating func reportDeny(at range: SourceRange) {
    error(
      .onlyAllow,
      "ZPR has no deny statements: whatever no statement allows is denied; remove this "
        + "statement and narrow the allow statements instead", at: range)
  }

  /// Reports what follows a complete statement: a misspelt `with`, or text that belongs on a
  /// line of its own.
  private mutating func reportExtraText(_ token: Token, hint: String) {
    let found = text(token.start, token.end)
    let rest = SourceRange(token.start, tokens[tokens.count - 1].end)
    if token.kind == .word, keyword(token) == nil,
      Suggestions.closest(to: found, among: ["with"]) != nil
    {
      error(
        .expectedWord, "'\(found)' is not a keyword: filters start with 'with'", at: token.range,
        suggestion: "did you mean 'with'?")
      return
    }
    error(
      .extraText, "unexpected '\(found)' after the end of the statement: \(hint)", at: rest)
  }

  private mutating func expectConnectTo() throws(ParseAbort) {
    try expect(.to, context: "after the source endpoint ('to connect to')")
    try expect(.connect, context: "after 'to' ('to connect to')")
    try expect(.to, context: "after 'connect' ('to connect to')")
  }

  /// Rules that look at both sides of a statement.
  private mutating func checkEndpoints(_ statement: Statement) {
    let (source, destination) = (statement.source, statement.destination)
    if source.kind == .allEndpoints && destination.kind == .allEndpoints {
      error(
        .allEndpointsBothSides,
        "all-endpoints on both sides would allow everything: name at least one side with a "
          + "security attribute", at: destination.range)
    }
    if source.isExternal && destination.isExternal {
      error(
        .externalBothSides,
        "an address or the service network may stand on one side only: ZPR governs endpoints "
          + "that carry security attributes, so name the other side with an attribute",
        at: destination.range)
    }
  }

  // MARK: Tokens

  func peek() -> Token? {
    position < tokens.count ? tokens[position] : nil
  }

  func keyword(_ token: Token) -> Keyword? {
    token.kind == .word ? Keyword.match(bytes, token.start, token.end) : nil
  }

  /// Consumes `keyword`. A near miss is reported with a did-you-mean and consumed, so the rest of
  /// the statement is still checked; anything else ends the statement.
  mutating func expect(_ expected: Keyword, context: String) throws(ParseAbort) {
    guard let token = peek() else {
      error(
        .expectedWord, "expected '\(expected.canonical)' \(context), but the statement ends here",
        at: SourceRange(lineEnd, lineEnd))
      throw ParseAbort()
    }
    if keyword(token) == expected {
      position += 1
      return
    }
    let found = text(token.start, token.end)
    if token.kind == .word, keyword(token) == nil,
      Suggestions.closest(to: found, among: [expected.rawValue]) != nil
    {
      error(
        .expectedWord, "'\(found)' is not a keyword: expected '\(expected.canonical)' \(context)",
        at: token.range, suggestion: "did you mean '\(expected.canonical)'?")
      position += 1
      return
    }
    error(
      .expectedWord, "expected '\(expected.canonical)' \(context), found '\(found)'",
      at: token.range)
    throw ParseAbort()
  }

  // MARK: Reporting

  mutating func error(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange, suggestion: String? = nil
  ) {
    errorCount += 1
    report(.error, code, message, at: range, suggestion: suggestion)
  }

  mutating func warning(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange, suggestion: String? = nil
  ) {
    report(.warning, code, message, at: range, suggestion: suggestion)
  }

  /// Whether the next diagnostic will be kept: text that costs more than the token at fault
  /// (a suggestion that rewrites a whole value) is built only then.
  var isReporting: Bool {
    fileShown < limits.diagnosticsPerFile && lineShown < limits.diagnosticsPerStatement
  }

  /// Keeps a diagnostic while the statement and the file are under their caps; counts it
  /// otherwise.
  mutating func report(
    _ severity: Severity, _ code: DiagnosticCode, _ message: String, at range: SourceRange,
    suggestion: String? = nil
  ) {
    if fileShown >= limits.diagnosticsPerFile {
      fileOmitted.add(severity)
    } else if lineShown >= limits.diagnosticsPerStatement {
      lineOmitted.add(severity)
    } else {
      lineShown += 1
      fileShown += 1
      diagnostics.append(Diagnostic(severity, code, message, at: range, suggestion: suggestion))
    }
  }

  func text(_ start: Int, _ end: Int) -> String {
    String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
  }
}
