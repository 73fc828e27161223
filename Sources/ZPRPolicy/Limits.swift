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

  /// Limits from their parts; the defaults are the public service's.
  public init(
    statementsPerPolicy: Int = 25, attributesPerResource: Int = 3, attributesPerVNIC: Int = 5,
    attributesPerVCN: Int = 1, valuesPerEnum: Int = 100
  ) {
    self.statementsPerPolicy = statementsPerPolicy
    self.attributesPerResource = attributesPerResource
    self.attributesPerVNIC = attributesPerVNIC
    self.attributesPerVCN = attributesPerVCN
    self.valuesPerEnum = valuesPerEnum
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
