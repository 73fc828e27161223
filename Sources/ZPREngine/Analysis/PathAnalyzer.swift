public import ZPRModel
public import ZPRPolicy

/// A flow to analyze, as a user gives it: ends by name (`web-1`, `web-1/1`) or address.
public struct PathQuery: Hashable, Sendable {
  public var from: String
  public var to: String
  public var transport: FlowProtocol
  public var port: Int?
  public var sourcePort: Int?
  public var icmpType: Int?
  public var icmpCode: Int?
  public var bidirectional: Bool

  /// A query.
  public init(
    from: String, to: String, transport: FlowProtocol, port: Int? = nil, sourcePort: Int? = nil,
    icmpType: Int? = nil, icmpCode: Int? = nil, bidirectional: Bool = false
  ) {
    self.from = from
    self.to = to
    self.transport = transport
    self.port = port
    self.sourcePort = sourcePort
    self.icmpType = icmpType
    self.icmpCode = icmpCode
    self.bidirectional = bidirectional
  }
}

/// A query the analyzer cannot answer: an unknown end or a missing port.
public struct AnalysisError: ZPRError, CodedError, Hashable {
  /// Stable codes.
  public enum Code: String, Hashable, Sendable {
    case unknownEnd = "ZPR-ANALYZE-001"
    case missingPort = "ZPR-ANALYZE-002"
    case invalidPort = "ZPR-ANALYZE-003"
  }

  public var code: Code
  public var message: String
}

/// Explains flows through a tenancy: the path hop by hop with each layer's decision, ZPR's from
/// the compiled tables (the ones the hosts enforce), and for a denial what nearly allowed it.
public struct PathAnalyzer: Sendable {
  public let topology: Topology
  public let network: NetworkSemantics
  public let semantics: ZPRSemantics
  public let compiled: CompiledPolicy
  /// Compiled with audit-mode attributes counted, when some endpoint has them.
  public let audit: CompiledPolicy?

  /// An analyzer for a tenancy (compiles its policies).
  public init(_ tenancy: Tenancy) {
    let topology = Topology(tenancy)
    self.topology = topology
    network = NetworkSemantics(topology)
    semantics = ZPRSemantics(topology)
    compiled = CompiledPolicy(topology, mode: .enforce)
    audit =
      topology.endpoints.contains(where: \.hasAuditAttributes)
      ? CompiledPolicy(topology, mode: .audit) : nil
  }

  private var tenancy: Tenancy { topology.tenancy }

  // MARK: Queries

  /// The flow a query describes, with its ends resolved.
  public func flow(for query: PathQuery) throws(AnalysisError) -> (Flow, End, End) {
    let source = try resolve(query.from)
    let destination = try resolve(query.to)
    let flow: Flow
    switch query.transport {
    case .tcp, .udp:
      guard query.icmpType == nil, query.icmpCode == nil else {
        throw AnalysisError(
          code: .invalidPort,
          message: "--icmp-type and --icmp-code apply to ICMP: use --protocol icmp, or leave "
            + "them out")
      }
      guard let port = query.port else {
        throw AnalysisError(
          code: .missingPort,
          message: "a \(query.transport.rawValue) flow needs a destination port: add --port N")
      }
      for (name, value) in [("port", port), ("source port", query.sourcePort ?? 1)]
      where !(1...65535).contains(value) {
        throw AnalysisError(
          code: .invalidPort, message: "the \(name) \(value) is not a port: give 1 to 65535")
      }
      flow = Flow(
        query.transport, from: source.address,
        sourcePort: query.sourcePort ?? Flow.defaultSourcePort,
        to: destination.address, port: port)
    case .icmp:
      guard query.port == nil, query.sourcePort == nil else {
        throw AnalysisError(
          code: .invalidPort,
          message: "ICMP has no ports: leave out --port and --source-port, or give "
            + "--icmp-type and --icmp-code")
      }
      flow = Flow(
        icmpFrom: source.address, to: destination.address,
        type: query.icmpType ?? Flow.defaultICMPType, code: query.icmpCode ?? 0)
    }
    return (flow, source, destination)
  }

  /// An end by name (`web-1`, `web-1/1`) or address.
  public func resolve(_ text: String) throws(AnalysisError) -> End {
    if let index = topology.endpoint(named: text) {
      return end(text, topology.endpoints[index].ips.first!, index)
    }
    if let address = IPAddress(text) {
      return end(text, address, topology.endpoint(at: address))
    }
    let guess = Suggestions.closest(to: text, among: topology.names)
    throw AnalysisError(
      code: .unknownEnd,
      message: "no instance, VNIC or address '\(text)'"
        + (guess.map { " (did you mean '\($0)'?)" } ?? "")
        + ": give a resource name, NAME/N for its VNIC N, or an IP address")
  }

  private func end(_ query: String, _ address: IPAddress, _ index: Int?) -> End {
    guard let index else {
      let place =
        topology.vcn(holding: address).map { "VCN \(tenancy.vcns[$0].name), no VNIC holds it" }
        ?? "outside the tenancy"
      return End(query: query, address: address, endpoint: nil, place: place, protected: false)
    }
    let endpoint = topology.endpoints[index]
    return End(
      query: query, address: address, endpoint: endpoint.name, place: place(of: endpoint),
      protected: endpoint.isProtected(in: .enforce))
  }

  private func place(of endpoint: Endpoint) -> String {
    guard let vcn = endpoint.vcn else { return "an unknown VCN" }
    let subnet = endpoint.subnet.map { tenancy.vcns[vcn].subnets[$0].name } ?? "?"
    return "VCN \(tenancy.vcns[vcn].name), subnet \(subnet)"
  }

  /// Analyzes a query.
  public func analyze(_ query: PathQuery) throws(AnalysisError) -> PathAnalysis {
    let (flow, source, destination) = try flow(for: query)
    return analyze(
      flow, source: source, destination: destination, bidirectional: query.bidirectional)
  }

  // MARK: The path

  /// Analyzes a flow between resolved ends.
  public func analyze(_ flow: Flow, source: End, destination: End, bidirectional: Bool)
    -> PathAnalysis
  {
    let decision = compiled.decide(flow)
    var analysis = PathAnalysis(
      flow: flow, source: source, destination: destination, status: .reachable, stoppedAt: nil,
      forward: [], returnPath: nil, returnStatus: nil, nearMisses: [], suggestion: nil,
      audit: nil, notes: [])
    let sourceIndex = topology.endpoint(at: flow.source)
    let destinationIndex = topology.endpoint(at: flow.destination)
    walk(flow, decision: decision, from: sourceIndex, to: destinationIndex, into: &analysis)
    if analysis.stoppedAt == .zprEgress || analysis.stoppedAt == .zprIngress {
      analysis.nearMisses = nearMisses(flow, source: sourceIndex, destination: destinationIndex)
      analysis.suggestion = suggestion(flow, source: sourceIndex, destination: destinationIndex)
    }
    if let audit,
      [sourceIndex, destinationIndex].contains(where: {
        $0.map { topology.endpoints[$0].hasAuditAttributes } ?? false
      })
    {
      analysis.audit = auditNote(audit.decide(flow))
    }
    if bidirectional, analysis.status == .reachable {
      var replies = PathAnalysis(
        flow: flow.reply, source: destination, destination: source, status: .reachable,
        stoppedAt: nil, forward: [], returnPath: nil, returnStatus: nil, nearMisses: [],
        suggestion: nil, audit: nil, notes: [])
      walkReplies(
        flow, decision: decision, source: sourceIndex, destination: destinationIndex,
        into: &replies)
      analysis.returnPath = replies.forward
      analysis.returnStatus = replies.status
      analysis.notes += replies.notes
    }
    return analysis
  }

  /// The forward path: the source's egress, the route, the gateways, the destination's ingress.
  private func walk(
    _ flow: Flow, decision: ZPRDecision, from source: Int?, to destination: Int?,
    into analysis: inout PathAnalysis
  ) {
    func stop(_ status: ReachabilityStatus, _ layer: PathLayer) {
      analysis.status = status
      analysis.stoppedAt = layer
    }
    let targetVCN: Int
    if let source, let sourceVCN = topology.endpoints[source].vcn {
      let endpoint = topology.endpoints[source]
      var hop = Hop(kind: .sourceVNIC, name: name(of: endpoint, flow.source), layers: [])
      let egress = network.securityMatch(flow, at: source, .egress)
      hop.layers.append(securityDecision(egress, .egress, at: endpoint))
      guard egress != nil else {
        if decision.egress != nil {
          hop.layers.append(notEvaluated(.zprNotEvaluatedSecurityDenied))
        }
        analysis.forward.append(hop)
        return stop(.unreachable, .securityEgress)
      }
      let route = network.route(from: sourceVCN, subnet: endpoint.subnet, to: flow.destination)
      if case .none = route, decision.egress != nil {
        hop.layers.append(notEvaluated(.zprNotEvaluatedMissingRoute))
      } else if let check = decision.egress {
        hop.layers.append(zprDecision(check, decision, .egress))
      }
      analysis.forward.append(hop)
      switch route {
      case .none(let why):
        analysis.forward.append(
          Hop(
            kind: .routing, name: "routing in VCN \(tenancy.vcns[sourceVCN].name)",
            layers: [
              LayerDecision(
                layer: .route, direction: nil, action: .denied, allowedBy: nil, reason: why)
            ]))
        return stop(.unreachable, .route)
      case .vcn(let vcn, let via):
        analysis.forward.append(routingHop(via, in: sourceVCN, to: flow.destination))
        if case .rule(_, _, _, let target) = via {
          analysis.forward.append(gatewayHop(target, from: sourceVCN, to: vcn))
        }
        targetVCN = vcn
      case .edge(let via):
        analysis.forward.append(routingHop(via, in: sourceVCN, to: flow.destination))
        if Self.blocks(decision.egress) { return stop(.unreachable, .zprEgress) }
        if case .rule(_, _, _, let target) = via {
          analysis.forward.append(
            Hop(kind: .outside, name: "\(Self.describe(target)): leaves the tenancy", layers: []))
        }
        analysis.notes.append(
          "the destination is outside the tenancy: zpr vouches for the path as far as the "
            + "tenancy's edge, not for what lies beyond it")
        return
      }
      if Self.blocks(decision.egress) { return stop(.unreachable, .zprEgress) }
    } else {
      let inside = topology.vcn(holding: flow.source)
      analysis.forward.append(
        Hop(
          kind: .outside,
          name: "\(flow.source) ("
            + (inside.map { "in VCN \(tenancy.vcns[$0].name), but no VNIC holds it" }
              ?? "outside the tenancy") + ")", layers: []))
      guard let vcn = topology.vcn(holding: flow.destination) else {
        analysis.notes.append("neither end is a VNIC of the tenancy: there is nothing to analyze")
        return stop(.indeterminate, .destination)
      }
      analysis.notes.append(
        (inside == nil
          ? "the source is outside the tenancy"
          : "no VNIC holds the source address, so its own egress rules are unknown")
          + ": the analysis starts where its traffic enters VCN " + tenancy.vcns[vcn].name)
      targetVCN = vcn
    }
    guard let destination, topology.endpoints[destination].vcn == targetVCN else {
      analysis.forward.append(
        Hop(
          kind: .destinationVNIC,
          name: "\(flow.destination) in VCN \(tenancy.vcns[targetVCN].name): no VNIC holds it",
          layers: []))
      analysis.notes.append(
        "no VNIC holds \(flow.destination): the route leads into VCN "
          + "\(tenancy.vcns[targetVCN].name), but what answers there is unknown")
      return stop(.indeterminate, .destination)
    }
    let endpoint = topology.endpoints[destination]
    var hop = Hop(kind: .destinationVNIC, name: name(of: endpoint, flow.destination), layers: [])
    let ingress = network.securityMatch(flow, at: destination, .ingress)
    hop.layers.append(securityDecision(ingress, .ingress, at: endpoint))
    guard ingress != nil else {
      if decision.ingress != nil { hop.layers.append(notEvaluated(.zprNotEvaluatedSecurityDenied)) }
      analysis.forward.append(hop)
      return stop(.unreachable, .securityIngress)
    }
    if let check = decision.ingress { hop.layers.append(zprDecision(check, decision, .ingress)) }
    analysis.forward.append(hop)
    if Self.blocks(decision.ingress) { return stop(.unreachable, .zprIngress) }
  }

  /// The replies' path: back from the destination to the source; stateful rules and statements
  /// let them through, stateless ones need rules of their own.
  private func walkReplies(
    _ flow: Flow, decision: ZPRDecision, source: Int?, destination: Int?,
    into replies: inout PathAnalysis
  ) {
    let reply = flow.reply
    let replyDecision = compiled.decide(reply)
    let zprPasses = !decision.applies || decision.stateful || replyDecision.allowed
    guard let destination, let destinationVCN = topology.endpoints[destination].vcn else {
      // The flow left the tenancy: its replies come back from outside to the source.
      replies.forward.append(
        Hop(kind: .outside, name: "\(reply.source) (outside the tenancy)", layers: []))
      guard let source else {
        replies.status = .indeterminate
        return
      }
      let endpoint = topology.endpoints[source]
      var last = Hop(
        kind: .destinationVNIC, name: name(of: endpoint, reply.destination), layers: [])
      if decision.applies {
        last.layers.append(replyZPR(decision, replyDecision, .ingress))
      }
      if !zprPasses {
        replies.forward.append(last)
        replies.status = .unreachable
        return
      }
      let forwardEgress = network.securityMatch(flow, at: source, .egress)
      if forwardEgress?.stateful == true {
        last.layers.append(statefulReply(forwardEgress!, .ingress))
      } else {
        let ingress = network.securityMatch(reply, at: source, .ingress)
        last.layers.append(securityDecision(ingress, .ingress, at: endpoint))
        if ingress == nil { replies.status = .unreachable }
      }
      replies.forward.append(last)
      return
    }
    let endpoint = topology.endpoints[destination]
    var hop = Hop(kind: .sourceVNIC, name: name(of: endpoint, reply.source), layers: [])
    let forwardIngress = network.securityMatch(flow, at: destination, .ingress)
    if forwardIngress?.stateful == true {
      hop.layers.append(statefulReply(forwardIngress!, .egress))
    } else {
      let egress = network.securityMatch(reply, at: destination, .egress)
      hop.layers.append(securityDecision(egress, .egress, at: endpoint))
      if egress == nil {
        replies.forward.append(hop)
        replies.status = .unreachable
        return
      }
    }
    if decision.applies { hop.layers.append(replyZPR(decision, replyDecision, .egress)) }
    replies.forward.append(hop)
    let route = network.route(from: destinationVCN, subnet: endpoint.subnet, to: reply.destination)
    switch route {
    case .none(let why):
      replies.forward.append(
        Hop(
          kind: .routing, name: "routing in VCN \(tenancy.vcns[destinationVCN].name)",
          layers: [
            LayerDecision(
              layer: .route, direction: nil, action: .denied, allowedBy: nil, reason: why)
          ]))
      replies.status = .unreachable
      return
    case .edge(let via):
      replies.forward.append(routingHop(via, in: destinationVCN, to: reply.destination))
      if source != nil {
        replies.status = .unreachable
        return
      }
    case .vcn(let back, let via):
      replies.forward.append(routingHop(via, in: destinationVCN, to: reply.destination))
      if let source, topology.endpoints[source].vcn != back {
        replies.status = .unreachable
        return
      }
      if source == nil {
        replies.status = .indeterminate
        return
      }
    }
    guard zprPasses else {
      replies.status = .unreachable
      return
    }
    guard let source else { return }
    let sourceEndpoint = topology.endpoints[source]
    var last = Hop(
      kind: .destinationVNIC, name: name(of: sourceEndpoint, reply.destination), layers: [])
    let forwardEgress = network.securityMatch(flow, at: source, .egress)
    if forwardEgress?.stateful == true {
      last.layers.append(statefulReply(forwardEgress!, .ingress))
    } else {
      let ingress = network.securityMatch(reply, at: source, .ingress)
      last.layers.append(securityDecision(ingress, .ingress, at: sourceEndpoint))
      if ingress == nil { replies.status = .unreachable }
    }
    replies.forward.append(last)
  }

  // MARK: Layer decisions

  private func name(of endpoint: Endpoint, _ address: IPAddress) -> String {
    "\(endpoint.name) (\(address), \(place(of: endpoint)))"
  }

  private func securityDecision(
    _ match: SecurityMatch?, _ direction: PacketDirection, at endpoint: Endpoint
  ) -> LayerDecision {
    guard let match else {
      let lists =
        endpoint.subnet.flatMap { subnet in
          endpoint.vcn.map { tenancy.vcns[$0].subnets[subnet].securityLists }
        } ?? []
      let groups = network.groups(of: endpoint)
      var checked: [String] = lists.map { "security list '\($0)'" } + groups.map { "NSG '\($0)'" }
      if checked.isEmpty { checked = ["no security list or NSG applies"] }
      return LayerDecision(
        layer: .security, direction: direction, action: .denied, allowedBy: nil,
        reason:
          "no \(direction.rawValue) rule allows it (checked: \(checked.joined(separator: ", ")))")
    }
    return allowed(by: match, direction)
  }

  /// The decision of a rule that let a packet through in a direction.
  private func allowed(by match: SecurityMatch, _ direction: PacketDirection) -> LayerDecision {
    let type: ConfigurationType
    let reason: String
    switch match.source {
    case .securityList(let name):
      type =
        switch (direction, match.stateful) {
        case (.egress, true): .statefulEgressSecurityList
        case (.egress, false): .egressSecurityList
        case (.ingress, true): .statefulIngressSecurityList
        case (.ingress, false): .ingressSecurityList
        }
      reason = "security list '\(name)' \(direction.rawValue) rule \(match.rule)"
    case .networkSecurityGroup(let name):
      type = match.stateful ? .statefulNSG : .nsg
      reason = "NSG '\(name)' \(direction.rawValue) rule \(match.rule)"
    }
    return LayerDecision(
      layer: .security, direction: direction, action: .allowed, allowedBy: type, reason: reason)
  }

  private func statefulReply(_ match: SecurityMatch, _ direction: PacketDirection) -> LayerDecision
  {
    var decision = allowed(by: match, direction == .egress ? .ingress : .egress)
    decision.direction = direction
    decision.reason = "a reply: the stateful \(decision.reason) that let the flow in tracks it"
    return decision
  }

  /// ZPR on a reply: a stateful statement that allowed the flow lets it pass; otherwise the reply
  /// is a flow of its own.
  private func replyZPR(
    _ decision: ZPRDecision, _ replyDecision: ZPRDecision, _ direction: PacketDirection
  ) -> LayerDecision {
    if decision.stateful || !replyDecision.applies {
      return LayerDecision(
        layer: .zpr, direction: direction, action: .zprAllowed, allowedBy: .statefulZPR,
        reason: "a reply of a flow that a stateful statement allowed")
    }
    let check =
      [replyDecision.egress, replyDecision.ingress].compactMap { $0 }.first { $0 != .allowed }
      ?? replyDecision.egress ?? replyDecision.ingress ?? .allowed
    return zprDecision(check, replyDecision, direction)
  }

  private func notEvaluated(_ action: ActionCode) -> LayerDecision {
    LayerDecision(
      layer: .zpr, direction: nil, action: action, allowedBy: nil,
      reason: action == .zprNotEvaluatedMissingRoute
        ? "ZPR was not evaluated: there is no route"
        : "ZPR was not evaluated: security lists and NSGs already deny the flow")
  }

  private func zprDecision(
    _ check: ZPRDecision.Check, _ decision: ZPRDecision, _ direction: PacketDirection
  ) -> LayerDecision {
    switch check {
    case .allowed:
      let id = decision.statement!
      let policy = tenancy.policies[id.policy]
      let text = PolicyFormatter.format(policy.statements[id.statement])
      return LayerDecision(
        layer: .zpr, direction: direction, action: .zprAllowed,
        allowedBy: decision.stateful ? .statefulZPR : .zpr,
        reason: "policy '\(policy.name)' statement \(id.statement)", policy: policy.name,
        statement: id.statement, statementText: text)
    case .denied:
      return LayerDecision(
        layer: .zpr, direction: direction, action: .zprDenied, allowedBy: nil,
        reason: "statements name this endpoint, but none allows this flow")
    case .missingPolicy:
      return LayerDecision(
        layer: .zpr, direction: direction, action: .zprMissingPolicy, allowedBy: nil,
        reason: "no statement names this endpoint's attributes: it is unreachable by design "
          + "until a policy names it")
    }
  }

  private func routingHop(_ via: RouteVia, in vcn: Int, to address: IPAddress) -> Hop {
    switch via {
    case .local:
      return Hop(
        kind: .routing, name: "routing in VCN \(tenancy.vcns[vcn].name)",
        layers: [
          LayerDecision(
            layer: .route, direction: nil, action: .allowed, allowedBy: .route,
            reason: "\(address) is in the VCN: local route")
        ])
    case .rule(let table, let index, let destination, let target):
      return Hop(
        kind: .routing, name: "route table '\(table)' of VCN \(tenancy.vcns[vcn].name)",
        layers: [
          LayerDecision(
            layer: .route, direction: nil, action: .allowed, allowedBy: .route,
            reason: "rule \(index): \(destination) -> \(Self.describe(target))")
        ])
    }
  }

  private func gatewayHop(_ target: RouteTarget, from vcn: Int, to other: Int) -> Hop {
    Hop(
      kind: .gateway,
      name: "\(Self.describe(target)) from VCN \(tenancy.vcns[vcn].name) to VCN "
        + tenancy.vcns[other].name,
      layers: [])
  }

  static func describe(_ target: RouteTarget) -> String {
    switch target {
    case .local: "local"
    case .localPeeringGateway(let name): "local peering gateway '\(name)'"
    case .drg(let name): "DRG '\(name)'"
    case .internetGateway: "internet gateway"
    case .natGateway: "NAT gateway"
    case .serviceGateway: "service gateway"
    }
  }

  private func auditNote(_ decision: ZPRDecision) -> AuditNote {
    let check =
      [decision.egress, decision.ingress].compactMap { $0 }.first { $0 != .allowed }
      ?? decision.egress ?? decision.ingress
    guard let check else {
      return AuditNote(
        action: .zprAllowed, explanation: "with audit-mode attributes enforced, ZPR would not apply"
      )
    }
    switch check {
    case .allowed:
      let id = decision.statement!
      return AuditNote(
        action: .zprAllowed, policy: tenancy.policies[id.policy].name, statement: id.statement,
        explanation: "with audit-mode attributes enforced, ZPR would allow this flow "
          + "(policy '\(tenancy.policies[id.policy].name)' statement \(id.statement))")
    case .denied:
      return AuditNote(
        action: .zprDenied,
        explanation: "with audit-mode attributes enforced, ZPR would deny this flow: "
          + "no statement allows it")
    case .missingPolicy:
      return AuditNote(
        action: .zprMissingPolicy,
        explanation: "with audit-mode attributes enforced, ZPR would deny this flow: "
          + "no statement names the endpoint")
    }
  }

  static func blocks(_ check: ZPRDecision.Check?) -> Bool {
    check == .denied || check == .missingPolicy
  }
}
