/// Every limit zpr enforces, in one configurable place. Exceeding one is an error naming it.
public struct ZPRLimits: Hashable, Sendable, Codable {
  /// Statements in one policy.
  public var statementsPerPolicy: Int
  /// Security attributes on one resource (instance, database, load balancer, ...).
  public var attributesPerResource: Int
  /// Security attributes on one VNIC.
  public var attributesPerVNIC: Int
  /// Security attributes on one VCN.
  public var attributesPerVCN: Int
  /// Values in one `ENUM` attribute.
  public var valuesPerEnum: Int
  /// Characters (Unicode scalars) in one statement, a line of a policy file, checked before the
  /// statement is read.
  public var maxStatementLength: Int
  /// Diagnostics reported for one statement; one more says how many were left out.
  public var diagnosticsPerStatement: Int
  /// Diagnostics reported for one policy file or tenancy file; one more says how many were
  /// left out.
  public var diagnosticsPerFile: Int
  /// Levels of nesting in a tenancy file (lists and mappings inside one another, aliases
  /// expanded); a tenancy file needs about 10.
  public var maxNestingDepth: Int
  /// Nodes that YAML aliases in a tenancy file may add, in all, when they are expanded.
  public var maxAliasNodes: Int

  /// Limits from their parts; the defaults are the public service's.
  public init(
    statementsPerPolicy: Int = 25, attributesPerResource: Int = 3, attributesPerVNIC: Int = 5,
    attributesPerVCN: Int = 1, valuesPerEnum: Int = 100, maxStatementLength: Int = 4096,
    diagnosticsPerStatement: Int = 10, diagnosticsPerFile: Int = 200, maxNestingDepth: Int = 64,
    maxAliasNodes: Int = 100_000
  ) {
    self.statementsPerPolicy = statementsPerPolicy
    self.attributesPerResource = attributesPerResource
    self.attributesPerVNIC = attributesPerVNIC
    self.attributesPerVCN = attributesPerVCN
    self.valuesPerEnum = valuesPerEnum
    self.maxStatementLength = maxStatementLength
    self.diagnosticsPerStatement = diagnosticsPerStatement
    self.diagnosticsPerFile = diagnosticsPerFile
    self.maxNestingDepth = maxNestingDepth
    self.maxAliasNodes = maxAliasNodes
  }

  /// Decodes limits; the parsing limits, added later, take their defaults when absent.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let defaults = ZPRLimits()
    statementsPerPolicy = try container.decode(Int.self, forKey: .statementsPerPolicy)
    attributesPerResource = try container.decode(Int.self, forKey: .attributesPerResource)
    attributesPerVNIC = try container.decode(Int.self, forKey: .attributesPerVNIC)
    attributesPerVCN = try container.decode(Int.self, forKey: .attributesPerVCN)
    valuesPerEnum = try container.decode(Int.self, forKey: .valuesPerEnum)
    maxStatementLength =
      try container.decodeIfPresent(Int.self, forKey: .maxStatementLength)
      ?? defaults.maxStatementLength
    diagnosticsPerStatement =
      try container.decodeIfPresent(Int.self, forKey: .diagnosticsPerStatement)
      ?? defaults.diagnosticsPerStatement
    diagnosticsPerFile =
      try container.decodeIfPresent(Int.self, forKey: .diagnosticsPerFile)
      ?? defaults.diagnosticsPerFile
    maxNestingDepth =
      try container.decodeIfPresent(Int.self, forKey: .maxNestingDepth) ?? defaults.maxNestingDepth
    maxAliasNodes =
      try container.decodeIfPresent(Int.self, forKey: .maxAliasNodes) ?? defaults.maxAliasNodes
  }

  /// The limits of the public service.
  public static let standard = ZPRLimits()
}

/// What parsing and checking a policy depend on.
public struct PolicyOptions: Hashable, Sendable {
  /// The limits to enforce.
  public var limits: ZPRLimits
  /// The namespace that `key:value` (no namespace) refers to.
  public var defaultNamespace: String

  /// Options from their parts.
  public init(limits: ZPRLimits = .standard, defaultNamespace: String = "oracle-zpr") {
    self.limits = limits
    self.defaultNamespace = defaultNamespace
  }
}
