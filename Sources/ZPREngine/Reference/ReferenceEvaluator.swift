public import ZPRModel
import ZPRPolicy

/// Whether a flow gets through.
public enum ReachabilityStatus: String, Hashable, Sendable, Codable {
  case reachable = "REACHABLE"
  case unreachable = "UNREACHABLE"
  /// The tenancy does not say: an address no VNIC holds, or ends both outside the tenancy.
  case indeterminate = "INDETERMINATE"
}

/// The places along a path where a flow can be stopped, in the order a packet meets them.
public enum PathLayer: String, Hashable, Sendable, Codable {
  case securityEgress
  case route
  case zprEgress
  case securityIngress
  case zprIngress
  /// The destination: no VNIC holds the address.
  case destination
}

/// What the reference evaluator decides about a flow: the status, the first layer that stopped
/// it, ZPR's decision, and (when asked) the same for its replies.
public struct ReferenceResult: Hashable, Sendable {
  public var status: ReachabilityStatus
  public var stoppedAt: PathLayer?
  public var zpr: ZPRDecision
  /// The replies' status and where they stop, for a bidirectional evaluation of a reachable
  /// flow.
  public var replyStatus: ReachabilityStatus?
  public var replyStoppedAt: PathLayer?
}

/// The whole of ZPL.md section 3 as plainly as possible: routes, security lists and NSGs, and
/// ZPR by trying every statement. Slow on purpose; every fast path is tested against it.
public struct ReferenceEvaluator: Sendable {
  public let topology: Topology
  public let zpr: ZPRSemantics
  public let network: NetworkSemantics

  /// An evaluator for a tenancy.
  public init(_ tenancy: Tenancy) {
    let topology = Topology(tenancy)
    self.topology = topology
    zpr = ZPRSemantics(topology)
    network = NetworkSemantics(topology)
  }

  /// Decides a flow, and its replies when `bidirectional`.
  public func evaluate(_ flow: Flow, bidirectional: Bool = false) -> ReferenceResult {
    let decision = zpr.decide(flow, mode: .enforce)
    var result = ReferenceResult(status: .reachable, stoppedAt: nil, zpr: decision)
    func stop(_ status: ReachabilityStatus, _ layer: PathLayer) -> ReferenceResult {
      result.status = status
      result.stoppedAt = layer
      return result
    }
    let source = topology.endpoint(at: flow.source)
    let destination = topology.endpoint(at: flow.destination)
    var egress: SecurityMatch?
    let targetVCN: Int
    if let source, let sourceVCN = topology.endpoints[source].vcn {
      egress = network.securityMatch(flow, at: source, .egress)
      guard egress != nil else { return stop(.unreachable, .securityEgress) }
      switch network.route(
        from: sourceVCN, subnet: topology.endpoints[source].subnet, to: flow.destination)
      {
      case .none: return stop(.unreachable, .route)
      case .edge:
        guard !Self.blocks(decision.egress) else { return stop(.unreachable, .zprEgress) }
        if bidirectional {
          (result.replyStatus, result.replyStoppedAt) = repliesFromOutside(
            of: flow, decision: decision, source: source, egress: egress!)
        }
        return result
      case .vcn(let vcn, _): targetVCN = vcn
      }
      guard !Self.blocks(decision.egress) else { return stop(.unreachable, .zprEgress) }
    } else {
      guard let vcn = topology.vcn(holding: flow.destination) else {
        return stop(.indeterminate, .destination)
      }
      targetVCN = vcn
    }
    guard let destination, topology.endpoints[destination].vcn == targetVCN else {
      return stop(.indeterminate, .destination)
    }
    guard let ingress = network.securityMatch(flow, at: destination, .ingress) else {
      return stop(.unreachable, .securityIngress)
    }
    guard !Self.blocks(decision.ingress) else { return stop(.unreachable, .zprIngress) }
    if bidirectional {
      (result.replyStatus, result.replyStoppedAt) = replies(
        of: flow, decision: decision, source: source, destination: destination, egress: egress,
        ingress: ingress)
    }
    return result
  }

  /// The replies of a flow that got through: stateful rules and statements let them pass;
  /// otherwise they need rules and statements of their own. They need a route back either way.
  private func replies(
    of flow: Flow, decision: ZPRDecision, source: Int?, destination: Int,
    egress: SecurityMatch?, ingress: SecurityMatch
  ) -> (ReachabilityStatus, PathLayer?) {
    let reply = flow.reply
    guard ingress.stateful || network.securityMatch(reply, at: destination, .egress) != nil else {
      return (.unreachable, .securityEgress)
    }
    let endpoint = topology.endpoints[destination]
    guard let vcn = endpoint.vcn else { return (.indeterminate, .destination) }
    switch network.route(from: vcn, subnet: endpoint.subnet, to: reply.destination) {
    case .none: return (.unreachable, .route)
    case .edge: if source != nil { return (.unreachable, .route) }
    case .vcn(let back, _):
      if let source, topology.endpoints[source].vcn != back { return (.unreachable, .route) }
      if source == nil { return (.indeterminate, .destination) }
    }
    let replyDecision = zpr.decide(reply, mode: .enforce)
    let zprPasses = !decision.applies || decision.stateful || replyDecision.allowed
    guard zprPasses else {
      return (.unreachable, Self.blocks(replyDecision.egress) ? .zprEgress : .zprIngress)
    }
    guard let source else { return (.reachable, nil) }
    guard egress?.stateful == true || network.securityMatch(reply, at: source, .ingress) != nil
    else { return (.unreachable, .securityIngress) }
    return (.reachable, nil)
  }

  /// The replies of a flow that left the tenancy: they come back from outside to the source.
  private func repliesFromOutside(
    of flow: Flow, decision: ZPRDecision, source: Int, egress: SecurityMatch
  ) -> (ReachabilityStatus, PathLayer?) {
    let reply = flow.reply
    let replyDecision = zpr.decide(reply, mode: .enforce)
    guard !decision.applies || decision.stateful || replyDecision.allowed else {
      return (.unreachable, .zprIngress)
    }
    guard egress.stateful || network.securityMatch(reply, at: source, .ingress) != nil else {
      return (.unreachable, .securityIngress)
    }
    return (.reachable, nil)
  }

  private static func blocks(_ check: ZPRDecision.Check?) -> Bool {
    check == .denied || check == .missingPolicy
  }
}
