public import ZPRPolicy

// The diagnostic codes of the tenancy file: ZPT1xx for the file's shape, and the ZPT0xx
// consistency codes of ``TenancyIssue`` reported through the same diagnostics.

/// The codes of problems in the tenancy file's shape (ZPT1xx).
public enum TenancyFileCode {
  /// The tenancy file is not valid YAML or JSON.
  public static let invalidYAML = DiagnosticCode("ZPT100", "not valid YAML or JSON")
  /// A value of the wrong shape (a list where a mapping belongs, ...).
  public static let wrongType = DiagnosticCode("ZPT101", "value of the wrong type")
  /// A key the tenancy file does not know.
  public static let unknownKey = DiagnosticCode("ZPT102", "unknown key")
  /// A required key is missing.
  public static let missingKey = DiagnosticCode("ZPT103", "missing key")
  /// A value that does not parse (a CIDR, a port range, a route target, ...).
  public static let invalidValue = DiagnosticCode("ZPT104", "invalid value")
  /// A catalog operation the file implies was refused (duplicate or invalid name, bad ENUM).
  public static let invalidCatalog = DiagnosticCode("ZPT105", "invalid namespace or attribute")
  /// Lists and mappings nested deeper than ``ZPRLimits/maxNestingDepth`` (aliases expanded); the
  /// file is not read.
  public static let tooDeep = DiagnosticCode("ZPT106", "nested too deep")
  /// Aliases that would add more than ``ZPRLimits/maxAliasNodes`` nodes, or an alias inside a
  /// key; the file is not read.
  public static let aliasExpansion = DiagnosticCode("ZPT107", "aliases expand too far")
  /// More diagnostics than a load returns (``ZPRLimits/diagnosticsPerFile``); this one says how
  /// many were left out.
  public static let moreDiagnostics = DiagnosticCode("ZPT108", "further diagnostics left out")

  /// Every file-shape code, in order (docs/diagnostics.md lists the same).
  public static let all: [DiagnosticCode] = [
    invalidYAML, wrongType, unknownKey, missingKey, invalidValue, invalidCatalog, tooDeep,
    aliasExpansion, moreDiagnostics,
  ]
}

extension TenancyIssue.Code {
  /// The code as a diagnostic code.
  public var diagnosticCode: DiagnosticCode {
    DiagnosticCode(rawValue, summary)
  }

  /// What the code means, in a few words.
  public var summary: String {
    switch self {
    case .duplicateName: "duplicate name"
    case .unresolvedReference: "name refers to nothing"
    case .outsideBlock: "address outside its block"
    case .overlappingBlocks: "overlapping blocks"
    case .hostBitsSet: "block has host bits set"
    case .oneWayPeering: "peering not returned"
    case .invalidRule: "malformed security rule"
    case .invalidAttributes: "security attributes that may not be applied"
    case .duplicateAddress: "IP used twice in a VCN"
    case .missingElement: "required element missing"
    case .compartmentCycle: "compartments contain each other"
    case .tooManyStatements: "too many statements in a policy"
    case .invalidName: "name breaks the naming rules"
    }
  }
}
