import ZPRModel
import ZPRPolicy

extension PathAnalyzer {
  /// Statements that would match the flow but for one thing: an attribute value, the VCN, the
  /// protocol, the port, an address, or the direction. At most three, in policy order.
  func nearMisses(_ flow: Flow, source: Int?, destination: Int?) -> [NearMiss] {
    let sourceEndpoint = source.map { topology.endpoints[$0] }
    let destinationEndpoint = destination.map { topology.endpoints[$0] }
    var misses: [NearMiss] = []
    // Only statements with a side matching an end can nearly match: the compiled signatures
    // list them, so a denial costs what the ends touch, not every statement.
    for id in compiled.statementsTouching(flow) {
      let policy = topology.tenancy.policies[id.policy]
      let index = id.statement
      let statement = policy.statements[index]
      do {
        guard misses.count < 3 else { return misses }
        let (sourceScope, destinationScope) = ZPRSemantics.scopes(of: statement)
        let sourceMatches = semantics.side(
          statement.source, scope: sourceScope, matches: flow.source, sourceEndpoint,
          mode: .enforce)
        let destinationMatches = semantics.side(
          statement.destination, scope: destinationScope, matches: flow.destination,
          destinationEndpoint, mode: .enforce)
        let filtersMatch = ZPRSemantics.filters(statement.filters, match: flow)
        func miss(_ difference: NearMiss.Difference, _ explanation: String) {
          misses.append(
            NearMiss(
              policy: policy.name, statement: index,
              statementText: PolicyFormatter.format(statement), difference: difference,
              explanation: explanation))
        }
        let reversed = semantics.matches(
          statement, Self.reversed(flow), source: destinationEndpoint,
          destination: sourceEndpoint, mode: .enforce)
        if reversed, !(sourceMatches && destinationMatches) {
          miss(
            .direction,
            "it allows the other direction: \(flow.destination) to \(flow.source); a statement "
              + "allows connections from its first endpoint to its second only")
          continue
        }
        switch (sourceMatches, destinationMatches, filtersMatch) {
        case (false, true, true):
          let (difference, text) = sideDifference(
            statement.source, scope: sourceScope, flow.source, sourceEndpoint, role: "source")
          miss(difference, text)
        case (true, false, true):
          let (difference, text) = sideDifference(
            statement.destination, scope: destinationScope, flow.destination,
            destinationEndpoint, role: "destination")
          miss(difference, text)
        case (true, true, false):
          let (difference, text) = Self.filterDifference(statement.filters, flow)
          miss(difference, text)
        default:
          continue
        }
      }
    }
    return misses
  }

  /// The flow the other way with the same destination port: what a statement written backwards
  /// would allow.
  private static func reversed(_ flow: Flow) -> Flow {
    var reversed = flow
    reversed.source = flow.destination
    reversed.destination = flow.source
    return reversed
  }

  /// Why one side of a statement does not match an end.
  private func sideDifference(
    _ side: ZPRPolicy.Endpoint, scope: AttributeRef, _ address: IPAddress, _ endpoint: Endpoint?,
    role: String
  ) -> (NearMiss.Difference, String) {
    let attributeDifference: NearMiss.Difference =
      role == "source" ? .sourceAttribute : .destinationAttribute
    switch side.kind {
    case .attribute(let reference):
      guard let endpoint else {
        return (
          .address,
          "it names \(PolicyFormatter.format(reference)) endpoints, but the \(role) "
            + "\(address) is not a VNIC of the tenancy: name it by address"
        )
      }
      let attributes = endpoint.attributes(in: .enforce)
      if semantics.carries(attributes, reference) {
        return (.vcn, vcnDifference(endpoint, scope: scope, role: role))
      }
      let namespace = reference.namespace ?? topology.tenancy.defaultNamespace
      if let other = attributes.first(where: {
        SecurityAttributeName.same($0.namespace, namespace)
          && SecurityAttributeName.same($0.key, reference.key)
      }) {
        return (
          attributeDifference,
          "it names \(PolicyFormatter.format(reference)), but the \(role) carries "
            + "\(other.qualifiedName):\(other.value)"
        )
      }
      let carried = attributes.map { "\($0.qualifiedName):\($0.value)" }.joined(separator: ", ")
      return (
        attributeDifference,
        "it names \(PolicyFormatter.format(reference)), which the \(role) does not carry "
          + "(it carries \(carried.isEmpty ? "no attribute in enforce mode" : carried))"
      )
    case .allEndpoints:
      guard let endpoint else {
        return (.address, "it names all-endpoints, but the \(role) \(address) is not a VNIC")
      }
      return (.vcn, vcnDifference(endpoint, scope: scope, role: role))
    case .address(let block):
      if endpoint?.isProtected(in: .enforce) == true {
        return (
          .address,
          "it names the address block \(block), but the \(role) is protected, and ZPR knows a "
            + "protected endpoint by its attributes, not its address"
        )
      }
      return (.address, "it names \(block), which does not hold the \(role) \(address)")
    case .serviceNetwork:
      if endpoint?.isProtected(in: .enforce) == true {
        return (
          .address,
          "it names the service network, but the \(role) is a protected endpoint"
        )
      }
      return (.address, "it names the service network, which does not hold \(address)")
    }
  }

  private func vcnDifference(_ endpoint: Endpoint, scope: AttributeRef, role: String) -> String {
    guard let vcn = endpoint.vcn else {
      return "the \(role)'s VCN is unknown"
    }
    let carried = topology.tenancy.vcns[vcn].securityAttributes.map {
      "\($0.qualifiedName):\($0.value)"
    }
    return "it applies in VCNs carrying \(PolicyFormatter.format(scope)), but the \(role)'s VCN "
      + "'\(topology.tenancy.vcns[vcn].name)' carries "
      + (carried.isEmpty ? "no attribute" : carried.joined(separator: ", "))
  }

  private static func filterDifference(_ filters: Filters, _ flow: Flow) -> (
    NearMiss.Difference, String
  ) {
    let allowed = PolicyFormatter.format(filters).trimmingPrefix(" with ")
    if let transport = filters.transport {
      let flowName =
        flow.transport == .icmp && flow.destination.family == .v6
        ? "icmp6" : flow.transport.rawValue
      if transport.transport.rawValue != flowName {
        return (.protocol, "it allows \(allowed), but the flow is \(flowName)")
      }
      if flow.transport.hasPorts {
        return (.port, "it allows \(allowed), but the flow goes to port \(flow.destinationPort)")
      }
    }
    return (
      .icmp,
      "it allows \(allowed), but the flow is ICMP type \(flow.icmpType) code \(flow.icmpCode)"
    )
  }

  /// A statement that would let ZPR allow the flow: the ends by their first enforce-mode
  /// attribute (or their address, when unprotected) in their VCNs, for this protocol and port.
  func suggestion(_ flow: Flow, source: Int?, destination: Int?) -> String? {
    let zero = SourceRange(0, 0)
    func reference(_ attribute: AppliedAttribute) -> AttributeRef {
      AttributeRef(
        namespace: attribute.namespace, key: attribute.key, value: attribute.value, range: zero)
    }
    func side(_ index: Int?, _ address: IPAddress) -> (ZPRPolicy.Endpoint, AttributeRef?)? {
      guard let index, topology.endpoints[index].isProtected(in: .enforce) else {
        return (ZPRPolicy.Endpoint(.address(IPPrefix(host: address)), range: zero), nil)
      }
      let endpoint = topology.endpoints[index]
      let attribute = endpoint.attributes(in: .enforce)[0]
      guard let vcn = endpoint.vcn,
        let scope = topology.tenancy.vcns[vcn].securityAttributes.first(where: {
          $0.mode == .enforce
        })
      else { return nil }
      return (ZPRPolicy.Endpoint(.attribute(reference(attribute)), range: zero), reference(scope))
    }
    guard let (from, fromScope) = side(source, flow.source),
      let (to, toScope) = side(destination, flow.destination)
    else { return nil }
    var filters = Filters()
    switch flow.transport {
    case .tcp, .udp:
      filters.transport = ProtocolFilter(
        transport: flow.transport == .tcp ? .tcp : .udp,
        ports: [PortRange(flow.destinationPort, flow.destinationPort, range: zero)], range: zero)
    case .icmp:
      filters.transport = ProtocolFilter(
        transport: flow.destination.family == .v4 ? .icmp : .icmp6, ports: [], range: zero)
      filters.icmpType = NumberFilter(flow.icmpType, range: zero)
    }
    let scope: Statement.Scope
    switch (fromScope, toScope) {
    case (let source?, let destination?) where source != destination:
      scope = .crossVCN(source: source, destination: destination)
    case (let only?, _), (nil, let only?):
      scope = .vcn(only)
    case (nil, nil):
      return nil
    }
    return PolicyFormatter.format(
      Statement(scope: scope, source: from, destination: to, filters: filters, range: zero))
  }
}
