public import ZPRPolicy

/// The answer to "can X reach Y?": the status, the path hop by hop with each layer's decision,
/// and for a denial what nearly allowed it and what would.
public struct PathAnalysis: Hashable, Sendable {
  public var flow: Flow
  public var source: End
  public var destination: End
  public var status: ReachabilityStatus
  /// Where the flow stopped (nil when it got through).
  public var stoppedAt: PathLayer?
  public var forward: [Hop]
  /// The path of the replies, when asked for and the flow got through.
  public var returnPath: [Hop]?
  public var returnStatus: ReachabilityStatus?
  /// Statements that almost allow the flow, each with the one thing that differs.
  public var nearMisses: [NearMiss]
  /// A statement that would let ZPR allow the flow, when ZPR stopped it.
  public var suggestion: String?
  /// What ZPR would decide if the ends' audit-mode attributes were enforced.
  public var audit: AuditNote?
  /// Remarks a reader needs (a path leaving the tenancy, an address no VNIC holds).
  public var notes: [String]

  /// The status of the whole exchange: the forward status, unless the flow gets there and its
  /// replies, when analyzed, do not get back (then the replies' status).
  public var roundTripStatus: ReachabilityStatus {
    guard status == .reachable, let returnStatus else { return status }
    return returnStatus
  }
}

/// One end of a flow, as resolved.
public struct End: Hashable, Sendable {
  /// What the user wrote.
  public var query: String
  public var address: IPAddress
  /// The endpoint's name (`web-1/0`), when a VNIC holds the address.
  public var endpoint: String?
  /// Where it is: `VCN prod, subnet web`, or `outside the tenancy`.
  public var place: String
  /// Whether ZPR guards it (it carries an attribute in enforce mode).
  public var protected: Bool
}

/// A place on the path and what each layer there decided.
public struct Hop: Hashable, Sendable {
  public enum Kind: String, Hashable, Sendable, Codable {
    case sourceVNIC
    case routing
    case gateway
    case destinationVNIC
    /// Outside the tenancy: where an outside source comes from or an outside destination is.
    case outside
  }

  public var kind: Kind
  public var name: String
  public var layers: [LayerDecision]
}

/// The codes of ZPL.md section 4.
public enum ActionCode: String, Hashable, Sendable, Codable {
  case allowed = "ALLOWED"
  case denied = "DENIED"
  case zprAllowed = "ZPR_ALLOWED"
  case zprDenied = "ZPR_DENIED"
  case zprMissingPolicy = "ZPR_MISSING_POLICY"
  case zprNotEvaluatedMissingRoute = "ZPR_POLICY_NOT_EVALUATED_MISSING_ROUTE"
  case zprNotEvaluatedSecurityDenied = "ZPR_POLICY_NOT_EVALUATED_SL_NSG_DENIED"
}

/// The kinds of configuration that allow traffic (ZPL.md section 4).
public enum ConfigurationType: String, Hashable, Sendable, Codable {
  case nsg = "NSG"
  case statefulNSG = "STATEFUL_NSG"
  case ingressSecurityList = "INGRESS_SECURITY_LIST"
  case egressSecurityList = "EGRESS_SECURITY_LIST"
  case statefulIngressSecurityList = "STATEFUL_INGRESS_SECURITY_LIST"
  case statefulEgressSecurityList = "STATEFUL_EGRESS_SECURITY_LIST"
  case route = "ROUTE"
  case zpr = "ZPR"
  case statefulZPR = "STATEFUL_ZPR"
}

/// What one layer decided at a hop.
public struct LayerDecision: Hashable, Sendable {
  public enum Layer: String, Hashable, Sendable, Codable {
    /// Security lists and NSGs together: any rule of any of them lets a packet through.
    case security = "SECURITY_LIST_NSG"
    case route = "ROUTE"
    case zpr = "ZPR"
  }

  public var layer: Layer
  public var direction: PacketDirection?
  public var action: ActionCode
  public var allowedBy: ConfigurationType?
  /// What decided, in words: `security list 'open' egress rule 1`, `route table 'main' rule 0:
  /// 10.1.0.0/16 -> lpg/prod-shared`, `policy 'three-tier' statement 2`, or why it denied.
  public var reason: String
  /// The deciding ZPR statement, when there is one.
  public var policy: String?
  public var statement: Int?
  public var statementText: String?
}

/// A statement that nearly allows a flow, and the one thing that differs.
public struct NearMiss: Hashable, Sendable {
  public enum Difference: String, Hashable, Sendable, Codable {
    case sourceAttribute
    case destinationAttribute
    case vcn
    case `protocol`
    case port
    case icmp
    case direction
    case address
  }

  public var policy: String
  public var statement: Int
  public var statementText: String
  public var difference: Difference
  public var explanation: String
}

/// ZPR's decision with audit-mode attributes counted as enforced.
public struct AuditNote: Hashable, Sendable {
  public var action: ActionCode
  public var policy: String?
  public var statement: Int?
  public var explanation: String
}
