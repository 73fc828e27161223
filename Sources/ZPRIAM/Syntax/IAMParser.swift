public import ZPRPolicy

/// A token of one IAM statement.
struct IAMToken: Equatable {
  enum Kind: Equatable {
    /// Letters, digits and `- _ . : @ /`.
    case word
    /// `'...'` (with `''` for a quote inside); `text` is the content.
    case quoted
    case equals
    case notEquals
    case openBrace
    case closeBrace
    case comma
  }

  var kind: Kind
  var text: String
  var range: SourceRange

  func isKeyword(_ keyword: String) -> Bool {
    kind == .word && text.lowercased() == keyword
  }
}

/// Parses IAM policy files: one statement per line, `#` starts a comment. Every problem is a
/// positioned diagnostic with a fix where one is known; a statement with errors is left out of
/// the result, the rest of the file is still read. A file is one policy: it holds at most
/// `limits.statementsPerPolicy` statements, each at most `limits.statementLength` characters,
/// and parsing takes time in proportion to the file's length whatever it holds.
public struct IAMParser: Sendable {
  /// The limits applied.
  public var limits: IAMLimits

  /// A parser with the standard limits, or others.
  public init(limits: IAMLimits = .standard) {
    self.limits = limits
  }

  /// Parses a whole file.
  public func parse(_ source: SourceFile) -> IAMPolicyFile {
    var statements: [IAMStatement] = []
    var report = CappedDiagnostics(limit: limits.diagnosticsPerFile)
    var count = 0
    for line in 1...max(1, source.lineCount) where line <= source.lineCount {
      let bounds = Self.statementBounds(source.bytes, source.lineBounds(line))
      guard !bounds.isEmpty else { continue }
      count += 1
      var found: [Diagnostic] = []
      if count - 1 == limits.statementsPerPolicy {
        found.append(
          Diagnostic(
            .error, IAMCode.tooManyStatements,
            "a policy holds at most \(limits.statementsPerPolicy) statements (as in the cloud "
              + "service), and this is statement \(count): split them into several policies",
            at: SourceRange(bounds.lowerBound, bounds.upperBound)))
      }
      if Self.isLonger(source.bytes, bounds, than: limits.statementLength) {
        // Not even read: the length alone is enough to refuse it.
        found.append(
          Diagnostic(
            .error, IAMCode.statementTooLong,
            "this statement is longer than \(limits.statementLength) characters: split what it "
              + "grants into several statements",
            at: SourceRange(bounds.lowerBound, bounds.upperBound)))
        report.add(found)
        continue
      }
      var statement = StatementParser(
        source: source, start: bounds.lowerBound, end: bounds.upperBound)
      if statement.tokenize(), !statement.tokens.isEmpty,
        let parsed = statement.parse()
      {
        statements.append(parsed)
      }
      found += statement.diagnostics
      report.add(
        Self.capped(
          found.sortedBySource(), to: limits.diagnosticsPerStatement,
          at: SourceRange(bounds.upperBound, bounds.upperBound), what: "in this statement"))
    }
    return IAMPolicyFile(
      source: source, statements: statements, diagnostics: report.finished(),
      statementCount: count)
  }

  /// Parses one statement.
  public func parseStatement(_ text: String) -> (
    statement: IAMStatement?, diagnostics: [Diagnostic]
  ) {
    let file = parse(SourceFile(path: "<statement>", text: text))
    return (file.statements.first, file.diagnostics)
  }

  /// The statement on a line: from its first character to its last, before any comment.
  static func statementBounds(_ bytes: [UInt8], _ line: Range<Int>) -> Range<Int> {
    func isSpace(_ byte: UInt8) -> Bool {
      byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
    var start = line.lowerBound
    while start < line.upperBound, isSpace(bytes[start]) { start += 1 }
    var end = start
    var quoted = false
    while end < line.upperBound {
      let byte = bytes[end]
      if byte == UInt8(ascii: "'") {
        quoted.toggle()
      } else if byte == UInt8(ascii: "#"), !quoted {
        break
      }
      end += 1
    }
    while end > start, isSpace(bytes[end - 1]) { end -= 1 }
    return start..<end
  }

  /// Whether a range holds more than `limit` characters (Unicode scalars), counted no further
  /// than needed.
  static func isLonger(_ bytes: [UInt8], _ range: Range<Int>, than limit: Int) -> Bool {
    guard range.count > limit else { return false }
    var count = 0
    for index in range where bytes[index] & 0xC0 != 0x80 {
      count += 1
      if count > limit { return true }
    }
    return false
  }

  /// At most `limit` diagnostics, then one that says how many more there were (an error when
  /// any of them is).
  static func capped(
    _ diagnostics: [Diagnostic], to limit: Int, at range: SourceRange, what: String
  )
    -> [Diagnostic]
  {
    guard diagnostics.count > limit else { return diagnostics }
    let dropped = diagnostics[limit...]
    return Array(diagnostics.prefix(limit)) + [
      Diagnostic(
        dropped.contains { $0.severity == .error } ? .error : .warning, IAMCode.moreDiagnostics,
        "... and \(dropped.count) more \(what)", at: range)
    ]
  }
}

/// A file's diagnostics, kept up to a limit as they are found; the rest are only counted.
private struct CappedDiagnostics {
  let limit: Int
  var kept: [Diagnostic] = []
  var dropped = 0
  var droppedError = false
  var firstDropped: SourceRange?

  init(limit: Int) {
    self.limit = limit
  }

  mutating func add(_ diagnostics: [Diagnostic]) {
    for diagnostic in diagnostics {
      if kept.count < limit {
        kept.append(diagnostic)
      } else {
        dropped += 1
        droppedError = droppedError || diagnostic.severity == .error
        if firstDropped == nil { firstDropped = diagnostic.range }
      }
    }
  }

  func finished() -> [Diagnostic] {
    guard let firstDropped else { return kept }
    return kept + [
      Diagnostic(
        droppedError ? .error : .warning, IAMCode.moreDiagnostics,
        "... and \(dropped) more in this file (the first \(limit) are shown)", at: firstDropped)
    ]
  }
}

/// The parser of one line.
private struct StatementParser {
  let source: SourceFile
  let start: Int
  let end: Int
  var tokens: [IAMToken] = []
  var diagnostics: [Diagnostic] = []
  var index = 0
  /// The statement is about a type zpr does not manage: its condition is read, not checked.
  var unmanaged = false

  init(source: SourceFile, start: Int, end: Int) {
    self.source = source
    self.start = start
    self.end = end
  }

  // MARK: Tokens

  /// Splits the line; false when a character or quote makes it unreadable.
  mutating func tokenize() -> Bool {
    let bytes = source.bytes
    var position = start
    func isWordByte(_ byte: UInt8) -> Bool {
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
        || (byte >= 0x61 && byte <= 0x7A) || byte >= 0x80
        || "-_.:@/".utf8.contains(byte)
    }
    while position < end {
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        position += 1
      case UInt8(ascii: "#"):
        return true
      case UInt8(ascii: "="):
        tokens.append(
          IAMToken(kind: .equals, text: "=", range: SourceRange(position, position + 1)))
        position += 1
      case UInt8(ascii: "!") where position + 1 < end && bytes[position + 1] == UInt8(ascii: "="):
        tokens.append(
          IAMToken(kind: .notEquals, text: "!=", range: SourceRange(position, position + 2)))
        position += 2
      case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","):
        let kind: IAMToken.Kind =
          byte == UInt8(ascii: "{") ? .openBrace : byte == UInt8(ascii: "}") ? .closeBrace : .comma
        tokens.append(
          IAMToken(
            kind: kind, text: String(UnicodeScalar(byte)),
            range: SourceRange(position, position + 1)))
        position += 1
      case UInt8(ascii: "'"):
        var cursor = position + 1
        var text: [UInt8] = []
        var closed = false
        while cursor < end {
          if bytes[cursor] == UInt8(ascii: "'") {
            if cursor + 1 < end, bytes[cursor + 1] == UInt8(ascii: "'") {
              text.append(UInt8(ascii: "'"))
              cursor += 2
              continue
            }
            closed = true
            break
          }
          text.append(bytes[cursor])
          cursor += 1
        }
        guard closed else {
          diagnostics.append(
            Diagnostic(
              .error, IAMCode.badQuote, "this string has no closing quote: end it with '",
              at: SourceRange(position, end)))
          return false
        }
        tokens.append(
          IAMToken(
            kind: .quoted, text: String(decoding: text, as: UTF8.self),
            range: SourceRange(position, cursor + 1)))
        position = cursor + 1
      case UInt8(ascii: "\""):
        diagnostics.append(
          Diagnostic(
            .error, IAMCode.badQuote, "values are quoted with single quotes, not double quotes",
            at: SourceRange(position, position + 1), suggestion: "write 'value'"))
        return false
      case _ where isWordByte(byte):
        var cursor = position
        while cursor < end, isWordByte(bytes[cursor]) { cursor += 1 }
        tokens.append(
          IAMToken(
            kind: .word, text: String(decoding: bytes[position..<cursor], as: UTF8.self),
            range: SourceRange(position, cursor)))
        position = cursor
      default:
        // The whole character, however many bytes it takes.
        var cursor = position + 1
        while cursor < end, bytes[cursor] & 0xC0 == 0x80 { cursor += 1 }
        let character = String(decoding: bytes[position..<cursor], as: UTF8.self)
        diagnostics.append(
          Diagnostic(
            .error, IAMCode.unexpectedCharacter,
            "'\(character)' has no meaning in an IAM statement: remove it",
            at: SourceRange(position, cursor)))
        return false
      }
    }
    return true
  }

  var current: IAMToken? { index < tokens.count ? tokens[index] : nil }
  var endRange: SourceRange {
    let last = tokens.last?.range.upperBound ?? start
    return SourceRange(last, last)
  }

  mutating func error(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange, suggestion: String? = nil
  ) {
    diagnostics.append(Diagnostic(.error, code, message, at: range, suggestion: suggestion))
  }

  /// Text of the statement as a message quotes it: cut short when long, so that no message
  /// grows with the input.
  func shown(_ text: String) -> String {
    let scalars = text.unicodeScalars
    guard scalars.count > 60 else { return text }
    var cut = String.UnicodeScalarView()
    cut.append(contentsOf: scalars.prefix(57))
    return String(cut) + "…"
  }

  /// The closest candidate to a word, unless the word is too long to be a slip of any.
  func guess(_ word: String, among candidates: [String]) -> String? {
    word.utf8.count > 80 ? nil : Suggestions.closest(to: word, among: candidates)
  }

  /// Consumes a keyword, or reports what was expected.
  mutating func expect(_ keyword: String, after what: String) -> Bool {
    if let token = current, token.isKeyword(keyword) {
      index += 1
      return true
    }
    let found = current.map { "'\(shown($0.text))'" } ?? "the end of the line"
    var suggestion: String?
    if let token = current, token.kind == .word, guess(token.text, among: [keyword]) != nil {
      suggestion = "did you mean '\(keyword)'?"
    }
    error(
      IAMCode.expectedWord, "expected '\(keyword)' \(what), found \(found)",
      at: current?.range ?? endRange, suggestion: suggestion)
    return false
  }

  // MARK: The statement

  mutating func parse() -> IAMStatement? {
    let first = tokens[0]
    guard first.isKeyword("allow") else {
      let guess = self.guess(first.text, among: ["allow"])
      error(
        IAMCode.expectedWord,
        "an IAM statement starts with 'Allow', not '\(shown(first.text))': write Allow group "
          + "GROUP to VERB RESOURCE-TYPE in tenancy", at: first.range,
        suggestion: guess.map { "did you mean '\($0)'?" })
      return nil
    }
    index = 1
    guard let subject = parseSubject() else { return nil }
    guard expect("to", after: "after the group") else { return nil }
    let verb = parseVerb()
    let resource = parseResource()
    guard expect("in", after: "after the resource type (in tenancy, or in compartment NAME)")
    else { return nil }
    guard let location = parseLocation() else { return nil }
    var condition: IAMCondition?
    if let token = current, token.isKeyword("where") {
      index += 1
      guard let parsed = parseCondition() else { return nil }
      condition = parsed
    }
    if let token = current {
      error(
        IAMCode.extraText,
        "unexpected '\(shown(token.text))' after the end of the statement: remove it, or put a "
          + "condition after 'where'",
        at: SourceRange(token.range.lowerBound, tokens.last!.range.upperBound))
      return nil
    }
    guard let verb, let resource else { return nil }
    let statement = IAMStatement(
      subject: subject, verb: verb, resource: resource, location: location, condition: condition,
      range: SourceRange(first.range.lowerBound, tokens.last!.range.upperBound))
    if let condition, !unmanaged { checkPermissions(in: condition, of: statement) }
    return statement
  }

  mutating func parseSubject() -> IAMSubject? {
    guard let token = current else {
      error(
        IAMCode.expectedWord,
        "expected 'group GROUP', 'group id OCID', 'any-user' or 'any-group' after 'Allow'",
        at: endRange)
      return nil
    }
    if token.isKeyword("any-user") {
      index += 1
      return .anyUser
    }
    if token.isKeyword("any-group") {
      index += 1
      return .anyGroup
    }
    if token.isKeyword("group") || token.isKeyword("dynamic-group")
      || (token.isKeyword("service") && isName(at: index + 1))
    {
      let keyword = token.text.lowercased()
      index += 1
      guard let (names, byID) = parseNames(after: keyword) else { return nil }
      let range = SourceRange(token.range.lowerBound, tokens[index - 1].range.upperBound)
      switch keyword {
      case "group": return byID ? .groupIDs(names) : .groups(names)
      case "dynamic-group":
        diagnostics.append(
          Diagnostic(
            .warning, IAMCode.subjectWithoutMembers,
            "zpr has no dynamic groups: this statement is kept, and grants nothing here",
            at: range))
        return byID ? .dynamicGroupIDs(names) : .dynamicGroups(names)
      default:
        diagnostics.append(
          Diagnostic(
            .warning, IAMCode.subjectWithoutMembers,
            "services of the cloud service do not call zpr: this statement is kept, and grants "
              + "nothing here", at: range))
        return .services(names)
      }
    }
    // `Allow UserGroupA to ...`: a group named without the keyword (a slip of the published
    // example). Say so, and read on as if it were there.
    if token.kind == .word || token.kind == .quoted,
      index + 1 < tokens.count, tokens[index + 1].isKeyword("to")
    {
      error(
        IAMCode.missingGroupKeyword,
        "'\(shown(token.text))' is read as a group, but the keyword 'group' is missing before it",
        at: token.range, suggestion: "write 'group \(token.text)'")
      index += 1
      return .groups([token.text])
    }
    error(
      IAMCode.expectedWord,
      "expected 'group GROUP', 'group id OCID', 'any-user' or 'any-group' after 'Allow', found "
        + "'\(shown(token.text))'", at: token.range)
    return nil
  }

  /// Whether the token at `position` can be a name (a word or a quoted string, not `to`).
  func isName(at position: Int) -> Bool {
    guard position < tokens.count else { return false }
    let token = tokens[position]
    return (token.kind == .word || token.kind == .quoted) && !token.isKeyword("to")
  }

  /// Whether `id NAME` starts at `position`.
  func isID(at position: Int) -> Bool {
    position < tokens.count && tokens[position].isKeyword("id") && isName(at: position + 1)
  }

  /// The names after `group` (or `dynamic-group`, `service`): `A, B`, or ids `id X, id Y` (the
  /// keyword may be repeated: `group id X, group id Y`). All by name or all by id.
  mutating func parseNames(after keyword: String) -> (names: [String], byID: Bool)? {
    var names: [String] = []
    var byID: Bool?
    while true {
      if byID == true, current?.isKeyword(keyword) == true, isID(at: index + 1) { index += 1 }
      let entryIsID = keyword != "service" && isID(at: index)
      if let byID, byID != entryIsID {
        error(
          IAMCode.expectedWord,
          "a statement names its groups all by name or all by id ('id OCID'): write one "
            + "statement for the names and one for the ids", at: current?.range ?? endRange)
        return nil
      }
      byID = entryIsID
      if entryIsID { index += 1 }
      guard isName(at: index), let name = current else {
        error(
          IAMCode.expectedWord,
          entryIsID ? "expected an id after 'id'" : "expected a name after '\(keyword)'",
          at: current?.range ?? endRange)
        return nil
      }
      names.append(name.text)
      index += 1
      guard current?.kind == .comma else { break }
      index += 1
    }
    return (names, byID ?? false)
  }

  mutating func parseVerb() -> IAMVerb? {
    guard let token = current, token.kind == .word, !token.isKeyword("in") else {
      error(
        IAMCode.unknownVerb, "expected a verb (inspect, read, use or manage)",
        at: current?.range ?? endRange)
      return nil
    }
    index += 1
    if let verb = IAMVerb(rawValue: token.text.lowercased()) { return verb }
    let guess = self.guess(token.text, among: IAMVerb.allCases.map(\.rawValue))
    error(
      IAMCode.unknownVerb,
      "'\(shown(token.text))' is not a verb: the verbs are inspect, read, use and manage, each "
        + "granting more than the one before", at: token.range,
      suggestion: guess.map { "did you mean '\($0)'?" })
    return nil
  }

  mutating func parseResource() -> String? {
    // The words up to `in`: one word, or a type written with spaces.
    var words: [IAMToken] = []
    while let token = current, token.kind == .word, !token.isKeyword("in") {
      words.append(token)
      index += 1
    }
    guard let first = words.first else {
      error(
        IAMCode.unknownResourceType, "expected a resource type (vcns, instance-family, ...)",
        at: current?.range ?? endRange)
      return nil
    }
    let range = SourceRange(first.range.lowerBound, words.last!.range.upperBound)
    let written = words.map(\.text).joined(separator: " ")
    let joined = words.map { $0.text.lowercased() }.joined(separator: "-")
    if words.count > 1,
      PermissionCatalog.types(named: joined) != nil
        || PermissionCatalog.unmanagedResourceNames.contains(joined)
    {
      diagnostics.append(
        Diagnostic(
          .warning, IAMCode.spacedResourceType,
          "'\(shown(written))' is read as '\(joined)': resource types are written with hyphens",
          at: range, suggestion: "write '\(joined)'"))
    } else if words.count > 1 {
      return unknownResource(written, joined, at: range)
    }
    if PermissionCatalog.types(named: joined) != nil { return canonical(joined) }
    if PermissionCatalog.unmanagedResourceNames.contains(joined) {
      unmanaged = true
      diagnostics.append(
        Diagnostic(
          .warning, IAMCode.unmanagedResourceType,
          "'\(joined)' is a resource type of the cloud service that zpr does not manage: the "
            + "statement is kept, and grants nothing here", at: range))
      return joined
    }
    return unknownResource(written, joined, at: range)
  }

  /// Reports a word that is no resource type, with the closest of zpr's types (or else of the
  /// cloud service's).
  mutating func unknownResource(_ written: String, _ joined: String, at range: SourceRange)
    -> String?
  {
    let guess =
      self.guess(joined, among: PermissionCatalog.resourceNames)
      ?? self.guess(joined, among: PermissionCatalog.unmanagedResourceNames.sorted())
    error(
      IAMCode.unknownResourceType,
      "'\(shown(written))' is not a resource type or family: see the permission catalog "
        + "(docs/iam.md)", at: range, suggestion: guess.map { "did you mean '\($0)'?" })
    return nil
  }

  /// A type's canonical name (aliases map to their type; families stay).
  func canonical(_ name: String) -> String {
    let lowered = name.lowercased()
    if PermissionCatalog.families[lowered] != nil { return lowered }
    return PermissionCatalog.type(named: lowered)?.name ?? lowered
  }

  mutating func parseLocation() -> IAMLocation? {
    guard let token = current else {
      error(
        IAMCode.expectedWord, "expected 'tenancy' or 'compartment NAME' after 'in'", at: endRange)
      return nil
    }
    if token.isKeyword("tenancy") {
      index += 1
      return .tenancy
    }
    guard token.isKeyword("compartment") else {
      let guess = self.guess(token.text, among: ["tenancy", "compartment"])
      error(
        IAMCode.expectedWord,
        "expected 'tenancy' or 'compartment NAME' after 'in', found '\(shown(token.text))'",
        at: token.range, suggestion: guess.map { "did you mean '\($0)'?" })
      return nil
    }
    index += 1
    guard let name = current, name.kind == .word || name.kind == .quoted,
      !name.isKeyword("where")
    else {
      error(
        IAMCode.badCompartment,
        "expected a compartment name after 'compartment' (A, or A:B for B in A)",
        at: current?.range ?? endRange)
      return nil
    }
    index += 1
    let path =
      name.kind == .quoted
      ? [name.text]
      : name.text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard !path.contains(where: \.isEmpty) else {
      error(
        IAMCode.badCompartment,
        "'\(shown(name.text))' is not a compartment path: write names joined by ':', such as "
          + "Prod:Network",
        at: name.range)
      return nil
    }
    return .compartment(path)
  }

  mutating func parseCondition() -> IAMCondition? {
    guard let token = current else {
      error(IAMCode.expectedWord, "expected a condition after 'where'", at: endRange)
      return nil
    }
    if token.isKeyword("all") || token.isKeyword("any"),
      index + 1 < tokens.count, tokens[index + 1].kind == .openBrace
    {
      index += 2
      var clauses: [IAMCondition] = []
      while true {
        guard let clause = parseClause() else { return nil }
        clauses.append(clause)
        if current?.kind == .comma {
          index += 1
          continue
        }
        guard current?.kind == .closeBrace else {
          error(
            IAMCode.expectedWord, "expected ',' or '}' in the list of conditions",
            at: current?.range ?? endRange)
          return nil
        }
        index += 1
        break
      }
      return token.isKeyword("all") ? .all(clauses) : .any(clauses)
    }
    return parseClause()
  }

  mutating func parseClause() -> IAMCondition? {
    guard let variable = current, variable.kind == .word else {
      error(
        IAMCode.unknownVariable, "expected a variable such as request.permission",
        at: current?.range ?? endRange)
      return nil
    }
    index += 1
    let known = PermissionCatalog.variables.contains(variable.text.lowercased())
    // A statement about a type zpr does not manage grants nothing, whatever its condition
    // tests: the cloud service's other variables are read as written.
    let name = known ? variable.text.lowercased() : variable.text
    guard known || unmanaged else {
      let guess = self.guess(variable.text, among: PermissionCatalog.variables)
      error(
        IAMCode.unknownVariable,
        "'\(shown(variable.text))' is not a variable: conditions test "
          + PermissionCatalog.variables.joined(separator: ", "), at: variable.range,
        suggestion: guess.map { "did you mean '\($0)'?" })
      return nil
    }
    guard let op = current, op.kind == .equals || op.kind == .notEquals else {
      error(
        IAMCode.badOperator, "expected = or != after \(shown(variable.text))",
        at: current?.range ?? endRange)
      return nil
    }
    index += 1
    guard let value = current, value.kind == .quoted || value.kind == .word else {
      error(
        IAMCode.expectedWord, "expected a value after \(op.text), such as 'VCN_UPDATE'",
        at: current?.range ?? endRange)
      return nil
    }
    index += 1
    switch name {
    case _ where unmanaged: break
    case "request.permission":
      let permission = value.text.uppercased()
      guard PermissionCatalog.permissions.contains(permission) else {
        let guess = self.guess(value.text, among: PermissionCatalog.permissions.sorted())
        error(
          IAMCode.unknownPermission,
          "'\(shown(value.text))' is not a permission: see the permission catalog (docs/iam.md)",
          at: value.range, suggestion: guess.map { "did you mean '\($0)'?" })
        return nil
      }
    case "request.operation":
      guard PermissionCatalog.operations.contains(value.text) else {
        let guess = self.guess(value.text, among: PermissionCatalog.operations)
        error(
          IAMCode.unknownOperation,
          "'\(shown(value.text))' is not an operation of the API (such as UpdateVcn)",
          at: value.range,
          suggestion: guess.map { "did you mean '\($0)'?" })
        return nil
      }
    default: break
    }
    let text = name == "request.permission" ? value.text.uppercased() : value.text
    let range = SourceRange(variable.range.lowerBound, value.range.upperBound)
    return op.kind == .equals
      ? .equals(variable: name, value: text, range: range)
      : .notEquals(variable: name, value: text, range: range)
  }

  /// A `request.permission='P'` the statement's verb and type cannot grant means the statement
  /// grants nothing (under `all`) or less than it seems.
  mutating func checkPermissions(in condition: IAMCondition, of statement: IAMStatement) {
    switch condition {
    case .equals(let variable, let value, let range) where variable == "request.permission":
      let granted = (PermissionCatalog.types(named: statement.resource) ?? []).flatMap {
        $0.permissions(for: statement.verb)
      }
      guard !granted.contains(value) else { return }
      let least = PermissionCatalog.verb(granting: value)
      let owner = PermissionCatalog.type(of: value)?.name ?? "another type"
      let covers =
        PermissionCatalog.types(named: statement.resource)?.contains { $0.name == owner } == true
      diagnostics.append(
        Diagnostic(
          .warning, IAMCode.permissionNotGranted,
          covers
            ? "'\(statement.verb.rawValue) \(statement.resource)' does not grant \(value), so this "
              + "condition never holds: it takes '\(least?.rawValue ?? "manage")'"
            : "\(value) is a permission of \(owner), not of \(statement.resource): this condition "
              + "never holds", at: range,
          suggestion: covers ? "write '\(least?.rawValue ?? "manage") \(statement.resource)'" : nil)
      )
    case .all(let clauses), .any(let clauses):
      for clause in clauses { checkPermissions(in: clause, of: statement) }
    default: break
    }
  }
}
