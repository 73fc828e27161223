public import ZPRModel
public import ZPRPolicy

/// What ZPR decides about one flow: the check at the egress of a protected source and at the
/// ingress of a protected destination, and the statement that allows it.
public struct ZPRDecision: Hashable, Sendable {
  /// The outcome of one check.
  public enum Check: String, Hashable, Sendable {
    case allowed
    /// Some statement names the endpoint, but none matches the flow.
    case denied
    /// No statement names the endpoint at all: it is unreachable by design.
    case missingPolicy
  }

  /// The egress check (nil: the source is not protected).
  public var egress: Check?
  /// The ingress check (nil: the destination is not protected).
  public var ingress: Check?
  /// The first matching statement, in policy order.
  public var statement: StatementID?
  /// Whether a matching statement is stateful, so that the flow's replies pass.
  public var stateful: Bool

  /// Whether ZPR lets the flow through: it is allowed, or neither end is protected.
  public var allowed: Bool {
    egress != .denied && egress != .missingPolicy && ingress != .denied && ingress != .missingPolicy
  }

  /// Whether ZPR has a say at all.
  public var applies: Bool { egress != nil || ingress != nil }
}

/// The meaning of statements, written as plainly as possible (ZPL.md section 3): the oracle
/// that the compiled engine is tested against.
public struct ZPRSemantics: Sendable {
  public let topology: Topology

  /// The semantics over a topology.
  public init(_ topology: Topology) {
    self.topology = topology
  }

  private var tenancy: Tenancy { topology.tenancy }

  /// Decides a flow by trying every statement in policy order.
  public func decide(_ flow: Flow, mode: EvaluationMode) -> ZPRDecision {
    let source = topology.endpoint(at: flow.source).map { topology.endpoints[$0] }
    let destination = topology.endpoint(at: flow.destination).map { topology.endpoints[$0] }
    let sourceProtected = source?.isProtected(in: mode) ?? false
    let destinationProtected = destination?.isProtected(in: mode) ?? false
    var decision = ZPRDecision(egress: nil, ingress: nil, statement: nil, stateful: false)
    guard sourceProtected || destinationProtected else { return decision }
    for (policyIndex, policy) in tenancy.policies.enumerated() {
      for (statementIndex, statement) in policy.statements.enumerated()
      where matches(statement, flow, source: source, destination: destination, mode: mode) {
        if decision.statement == nil {
          decision.statement = StatementID(policy: policyIndex, statement: statementIndex)
        }
        if statement.filters.state == .stateful { decision.stateful = true }
      }
    }
    func check(_ endpoint: Endpoint?) -> ZPRDecision.Check {
      if decision.statement != nil { return .allowed }
      return endpoint.map { isNamed($0, mode: mode) } == true ? .denied : .missingPolicy
    }
    if sourceProtected { decision.egress = check(source) }
    if destinationProtected { decision.ingress = check(destination) }
    return decision
  }

  /// Whether a statement matches a flow between these ends (nil: an address outside every VNIC).
  public func matches(
    _ statement: Statement, _ flow: Flow, source: Endpoint?, destination: Endpoint?,
    mode: EvaluationMode
  ) -> Bool {
    let (sourceScope, destinationScope) = Self.scopes(of: statement)
    return side(statement.source, scope: sourceScope, matches: flow.source, source, mode: mode)
      && side(
        statement.destination, scope: destinationScope, matches: flow.destination, destination,
        mode: mode)
      && Self.filters(statement.filters, match: flow)
  }

  /// The VCN attribute each side of a statement must be in.
  public static func scopes(of statement: Statement) -> (AttributeRef, AttributeRef) {
    switch statement.scope {
    case .vcn(let vcn): (vcn, vcn)
    case .crossVCN(let source, let destination): (source, destination)
    }
  }

  /// Whether one side of a statement matches one end of a flow. Endpoints are matched by their
  /// attributes (or, for `all-endpoints`, by their VCN); an address or the service network
  /// matches only ends that ZPR does not protect, since a protected endpoint is known by its
  /// attributes, not its address.
  public func side(
    _ side: ZPRPolicy.Endpoint, scope: AttributeRef, matches address: IPAddress,
    _ endpoint: Endpoint?, mode: EvaluationMode
  ) -> Bool {
    switch side.kind {
    case .attribute(let reference):
      guard let endpoint else { return false }
      return carries(endpoint.attributes(in: mode), reference)
        && vcn(endpoint.vcn, carries: scope, mode: mode)
    case .allEndpoints:
      guard let endpoint else { return false }
      return vcn(endpoint.vcn, carries: scope, mode: mode)
    case .address(let block):
      return endpoint?.isProtected(in: mode) != true && block.contains(address)
    case .serviceNetwork:
      return endpoint?.isProtected(in: mode) != true
        && tenancy.serviceNetwork.contains { $0.contains(address) }
    }
  }

  /// Whether a statement's filters admit a flow. No filter admits everything; `icmp` is ICMP
  /// over IPv4 and `icmp6` over IPv6.
  public static func filters(_ filters: Filters, match flow: Flow) -> Bool {
    if let transport = filters.transport {
      switch transport.transport {
      case .tcp, .udp:
        guard flow.transport.rawValue == transport.transport.rawValue else { return false }
        if !transport.ports.isEmpty,
          !transport.ports.contains(where: {
            $0.lower <= flow.destinationPort && flow.destinationPort <= $0.upper
          })
        {
          return false
        }
      case .icmp, .icmp6:
        guard flow.transport == .icmp,
          (transport.transport == .icmp) == (flow.destination.family == .v4)
        else { return false }
      }
    }
    if let type = filters.icmpType, flow.transport != .icmp || flow.icmpType != type.value {
      return false
    }
    if let code = filters.icmpCode, flow.transport != .icmp || flow.icmpCode != code.value {
      return false
    }
    return true
  }

  /// Whether attributes include one a reference names (with its value, when it gives one).
  public func carries(_ attributes: [AppliedAttribute], _ reference: AttributeRef) -> Bool {
    let namespace = reference.namespace ?? tenancy.defaultNamespace
    return attributes.contains {
      SecurityAttributeName.same($0.namespace, namespace)
        && SecurityAttributeName.same($0.key, reference.key)
        && (reference.value == nil || reference.value == $0.value)
    }
  }

  /// Whether a VCN carries the attribute a scope names.
  public func vcn(_ index: Int?, carries scope: AttributeRef, mode: EvaluationMode) -> Bool {
    guard let index else { return false }
    let attributes = tenancy.vcns[index].securityAttributes
    return carries(mode == .audit ? attributes : attributes.filter { $0.mode == .enforce }, scope)
  }

  /// Whether any statement names an endpoint: by an attribute it carries on either side, or by
  /// `all-endpoints` of a VCN it is in.
  public func isNamed(_ endpoint: Endpoint, mode: EvaluationMode) -> Bool {
    let attributes = endpoint.attributes(in: mode)
    return tenancy.policies.contains { policy in
      policy.statements.contains { statement in
        let (sourceScope, destinationScope) = Self.scopes(of: statement)
        return [(statement.source, sourceScope), (statement.destination, destinationScope)]
          .contains { side, scope in
            switch side.kind {
            case .attribute(let reference): carries(attributes, reference)
            case .allEndpoints: vcn(endpoint.vcn, carries: scope, mode: mode)
            case .address, .serviceNetwork: false
            }
          }
      }
    }
  }
}
