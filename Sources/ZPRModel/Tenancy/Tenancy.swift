public import ZPRIAM
public import ZPRPolicy

/// A named ZPR policy: a description and its statements.
public struct Policy: Hashable, Sendable {
  public var name: String
  public var description: String
  public var statements: [Statement]

  /// A policy.
  public init(name: String, description: String, statements: [Statement]) {
    self.name = name
    self.description = description
    self.statements = statements
  }
}

/// Everything zpr decides about: the security attribute catalog, the network and the resources
/// in it, and the ZPR policies.
public struct Tenancy: Hashable, Sendable {
  /// The namespace that attributes written without one belong to.
  public var defaultNamespace: String
  /// What `osn-services-ip-addresses` means.
  public var serviceNetwork: [IPPrefix]
  public var catalog: SecurityAttributeCatalog
  public var compartments: [Compartment]
  public var vcns: [VCN]
  public var drgs: [DynamicRoutingGateway]
  public var resources: [Resource]
  public var policies: [Policy]
  /// Flows the policies must allow or deny, checked by `zpr test`.
  public var tests: [PolicyTest]
  /// Groups of users, named by IAM statements.
  public var groups: [IAMGroup]
  /// Who may change what: the IAM policies.
  public var iamPolicies: [IAMPolicy]

  /// A tenancy from its parts.
  public init(
    defaultNamespace: String = "oracle-zpr", serviceNetwork: [IPPrefix] = [],
    catalog: SecurityAttributeCatalog = SecurityAttributeCatalog(),
    compartments: [Compartment] = [], vcns: [VCN] = [], drgs: [DynamicRoutingGateway] = [],
    resources: [Resource] = [], policies: [Policy] = [], tests: [PolicyTest] = [],
    groups: [IAMGroup] = [], iamPolicies: [IAMPolicy] = []
  ) {
    self.defaultNamespace = defaultNamespace
    self.serviceNetwork = serviceNetwork
    self.catalog = catalog
    self.compartments = compartments
    self.vcns = vcns
    self.drgs = drgs
    self.resources = resources
    self.policies = policies
    self.tests = tests
    self.groups = groups
    self.iamPolicies = iamPolicies
  }

  /// The statements of all its policies (those that parsed).
  public var statementCount: Int {
    policies.reduce(0) { $0 + $1.statements.count }
  }

  /// A compartment's path from the root, through its parents (`[]` for nil: the root).
  public func compartmentPath(of name: String?) -> [String] {
    guard let name else { return [] }
    var path = [name]
    while let parent = compartments.first(where: { $0.name == path[0] })?.parent,
      !path.contains(parent)
    {
      path.insert(parent, at: 0)
    }
    return path
  }

  /// The VCN of that name.
  public func vcn(named name: String) -> VCN? {
    vcns.first { $0.name == name }
  }
}

/// A problem in a tenancy, located by the path of the element (`resources[2].vnics[0].ips[0]`),
/// which a file loader maps back to a line and column.
public struct TenancyIssue: Hashable, Sendable, CustomStringConvertible {
  /// The stable codes.
  public enum Code: String, Hashable, Sendable, CaseIterable {
    /// Two elements of one kind share a name.
    case duplicateName = "ZPT001"
    /// A name refers to nothing.
    case unresolvedReference = "ZPT002"
    /// An address or block lies outside the block that must hold it.
    case outsideBlock = "ZPT003"
    /// Two blocks that must not overlap do.
    case overlappingBlocks = "ZPT004"
    /// A block has bits set past its prefix length.
    case hostBitsSet = "ZPT005"
    /// A local peering is not returned by its peer.
    case oneWayPeering = "ZPT006"
    /// A security rule is malformed.
    case invalidRule = "ZPT007"
    /// Security attributes that may not be applied (unknown, retired, rejected, over a limit).
    case invalidAttributes = "ZPT008"
    /// Two VNICs of one VCN share an IP.
    case duplicateAddress = "ZPT009"
    /// Something required is missing (a CIDR, a VNIC, an IP).
    case missingElement = "ZPT010"
    /// Compartments that contain each other.
    case compartmentCycle = "ZPT011"
    /// A policy with more statements than the limit.
    case tooManyStatements = "ZPT012"
    /// A name that breaks the naming rules (``NameRules``).
    case invalidName = "ZPT013"
  }

  public var severity: Severity
  public var code: Code
  /// What is wrong and how to fix it.
  public var message: String
  /// Where: the element's path in the tenancy.
  public var path: String

  /// An issue.
  public init(_ severity: Severity, _ code: Code, _ message: String, at path: String) {
    self.severity = severity
    self.code = code
    self.message = message
    self.path = path
  }

  public var description: String {
    "\(path): \(severity.rawValue): \(message) [\(code.rawValue)]"
  }
}
