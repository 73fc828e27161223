/// How serious a diagnostic is.
public enum Severity: String, Hashable, Sendable, Codable, Comparable {
  /// The statement cannot be used; checking fails.
  case error
  /// The statement works but is probably not what was meant.
  case warning

  public static func < (lhs: Severity, rhs: Severity) -> Bool {
    lhs == .warning && rhs == .error
  }
}

/// A stable diagnostic code such as `ZPL043`. Codes are never reused for another meaning.
public struct DiagnosticCode: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The code, e.g. `ZPL043`.
  public let rawValue: String
  /// What the code means, in a few words (for documentation and `--explain`-style listings).
  public let summary: String

  /// A code from its text and summary (for codes defined outside this module, such as the
  /// tenancy file's `ZPT` codes).
  public init(_ rawValue: String, _ summary: String) {
    self.rawValue = rawValue
    self.summary = summary
  }

  public static func == (lhs: DiagnosticCode, rhs: DiagnosticCode) -> Bool {
    lhs.rawValue == rhs.rawValue
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

  public static func < (lhs: DiagnosticCode, rhs: DiagnosticCode) -> Bool {
    lhs.rawValue < rhs.rawValue
  }

  public var description: String { rawValue }
}

extension DiagnosticCode {
  /// A character that ZPL does not use.
  public static let unexpectedCharacter = DiagnosticCode("ZPL001", "unexpected character")
  /// A quoted token with no closing quote, or written with double quotes.
  public static let badQuote = DiagnosticCode("ZPL002", "unterminated or double-quoted string")
  /// A statement longer than ``ZPRLimits/maxStatementLength``; it is not read.
  public static let statementTooLong = DiagnosticCode("ZPL003", "statement too long")
  /// More diagnostics than a statement or a file reports; this one says how many were left out.
  public static let moreDiagnostics = DiagnosticCode("ZPL004", "further diagnostics left out")
  /// A required word or separator is missing or misspelt.
  public static let expectedWord = DiagnosticCode("ZPL010", "expected a keyword or separator")
  /// Text after the end of a complete statement.
  public static let extraText = DiagnosticCode("ZPL011", "text after the end of the statement")
  /// A `deny` (or other non-allow) statement.
  public static let onlyAllow = DiagnosticCode("ZPL012", "only allow statements exist")
  /// A line that starts like no statement.
  public static let badStart = DiagnosticCode("ZPL013", "a statement starts with 'in' or 'allow'")
  /// A missing or malformed endpoint.
  public static let expectedEndpoint = DiagnosticCode("ZPL014", "expected an endpoint")
  /// A bare attribute name that looks like a misspelt keyword (a warning).
  public static let keywordLikeName = DiagnosticCode(
    "ZPL015", "attribute name resembles a keyword")
  /// A namespace or key that breaks the naming rules.
  public static let invalidName = DiagnosticCode("ZPL020", "invalid namespace or attribute name")
  /// A missing value, or one that needs quotes.
  public static let invalidValue = DiagnosticCode("ZPL021", "invalid attribute value")
  /// More than one `.` before the `:`.
  public static let invalidAttribute = DiagnosticCode("ZPL022", "malformed attribute reference")
  /// Not an IPv4 or IPv6 address.
  public static let invalidAddress = DiagnosticCode("ZPL030", "invalid IP address")
  /// A prefix length out of range.
  public static let invalidPrefixLength = DiagnosticCode("ZPL031", "invalid prefix length")
  /// An address block with bits set past its prefix.
  public static let hostBitsSet = DiagnosticCode("ZPL032", "address block has host bits set")
  /// A filter ZPL does not know.
  public static let unknownFilter = DiagnosticCode("ZPL040", "unknown filter")
  /// A filter without `='value'`, or with an unquoted value.
  public static let malformedFilter = DiagnosticCode("ZPL041", "filter value must be quoted")
  /// A protocol other than tcp, udp, icmp or icmp6.
  public static let unknownProtocol = DiagnosticCode("ZPL042", "unknown protocol")
  /// A port given by name or otherwise not a number.
  public static let nonNumericPort = DiagnosticCode("ZPL043", "ports are numeric")
  /// A port outside 1-65535, or an empty port.
  public static let portOutOfRange = DiagnosticCode("ZPL044", "port out of range")
  /// A port range whose low end is above its high end.
  public static let invertedPortRange = DiagnosticCode("ZPL045", "port range low above high")
  /// Ports with ICMP, or ICMP filters without ICMP.
  public static let protocolMismatch = DiagnosticCode("ZPL046", "filter does not fit the protocol")
  /// An ICMP type or code that is not a number in 0-255.
  public static let invalidICMPValue = DiagnosticCode("ZPL047", "invalid ICMP type or code")
  /// The same filter twice in one statement.
  public static let duplicateFilter = DiagnosticCode("ZPL048", "filter given twice")
  /// A connection state other than stateful or stateless.
  public static let invalidConnectionState = DiagnosticCode("ZPL049", "invalid connection-state")
  /// `all-endpoints` on both sides.
  public static let allEndpointsBothSides = DiagnosticCode("ZPL050", "all-endpoints on both sides")
  /// An address or the service network on both sides.
  public static let externalBothSides = DiagnosticCode(
    "ZPL051", "address or service network on both sides")
  /// A non-attribute endpoint in the cross-VCN form.
  public static let crossVCNNeedsAttributes = DiagnosticCode(
    "ZPL052", "cross-VCN statements take attributes only")
  /// `protocol.icmp.code` without `protocol.icmp.type`.
  public static let icmpCodeWithoutType = DiagnosticCode("ZPL053", "ICMP code needs an ICMP type")
  /// More statements than one policy may hold.
  public static let tooManyStatements = DiagnosticCode("ZPL060", "too many statements in a policy")
  /// A statement written twice.
  public static let duplicateStatement = DiagnosticCode("ZPL070", "duplicate statement")
  /// A statement another one already allows entirely.
  public static let coveredStatement = DiagnosticCode("ZPL071", "statement already covered")
  /// Ports listed twice or overlapping in one filter.
  public static let overlappingPorts = DiagnosticCode("ZPL072", "overlapping ports")

  /// Every code, in order (the table in docs/diagnostics.md lists the same).
  public static let all: [DiagnosticCode] = [
    unexpectedCharacter, badQuote, statementTooLong, moreDiagnostics, expectedWord, extraText,
    onlyAllow, badStart,
    expectedEndpoint, keywordLikeName, invalidName, invalidValue, invalidAttribute, invalidAddress,
    invalidPrefixLength, hostBitsSet, unknownFilter, malformedFilter, unknownProtocol,
    nonNumericPort, portOutOfRange, invertedPortRange, protocolMismatch, invalidICMPValue,
    duplicateFilter, invalidConnectionState, allEndpointsBothSides, externalBothSides,
    crossVCNNeedsAttributes, icmpCodeWithoutType, tooManyStatements, duplicateStatement,
    coveredStatement, overlappingPorts,
  ]
}

/// A problem found in a policy: what is wrong, where, and how to fix it.
public struct Diagnostic: Hashable, Sendable {
  /// How serious it is.
  public var severity: Severity
  /// The stable code.
  public var code: DiagnosticCode
  /// What is wrong and what to do about it.
  public var message: String
  /// The exact range at fault.
  public var range: SourceRange
  /// A concrete fix, such as "did you mean 'tcp/22'?", when one is known.
  public var suggestion: String?
  /// In a structured file (a tenancy), the path of the element at fault, such as
  /// `resources[2].vnics[0].ips[0]`.
  public var path: String?

  /// A diagnostic from its parts.
  public init(
    _ severity: Severity, _ code: DiagnosticCode, _ message: String, at range: SourceRange,
    suggestion: String? = nil, path: String? = nil
  ) {
    self.severity = severity
    self.code = code
    self.message = message
    self.range = range
    self.suggestion = suggestion
    self.path = path
  }
}
