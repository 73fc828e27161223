public import ZPRModel
public import ZPRPolicy

/// Which way a packet crosses a VNIC.
public enum PacketDirection: String, Hashable, Sendable {
  case egress
  case ingress
}

/// The rule of a security list or NSG that let a packet through.
public struct SecurityMatch: Hashable, Sendable {
  /// Where the rule is.
  public enum Source: Hashable, Sendable {
    case securityList(String)
    case networkSecurityGroup(String)
  }

  public var source: Source
  /// The rule's index among the list's or group's rules of that direction.
  public var rule: Int
  public var stateful: Bool
}

/// Where the route of a VCN sends traffic for an address.
public enum RouteResult: Hashable, Sendable {
  /// To a VCN of the tenancy (the same one, or one reached through a peering or a DRG).
  case vcn(Int, via: RouteVia)
  /// Out of the tenancy, through a gateway (internet, NAT, service, or a DRG to elsewhere).
  case edge(RouteVia)
  /// Nowhere: why, in words.
  case none(String)
}

/// The hop a route takes: the local network, or a gateway named by a route rule.
public enum RouteVia: Hashable, Sendable {
  case local
  /// A rule of a route table (its index) with its target.
  case rule(table: String, index: Int, destination: IPPrefix, target: RouteTarget)
}

/// The security lists, NSGs and routes of ZPL.md section 3, written plainly; the reference
/// evaluator and the path analyzer both read the network through it.
public struct NetworkSemantics: Sendable {
  public let topology: Topology

  /// The network semantics of a topology.
  public init(_ topology: Topology) {
    self.topology = topology
  }

  private var tenancy: Tenancy { topology.tenancy }

  /// The first rule, of the subnet's security lists and then the VNIC's NSGs, that lets the
  /// packet cross the endpoint in this direction; nil when none does.
  public func securityMatch(
    _ packet: Flow, at endpointIndex: Int, _ direction: PacketDirection
  ) -> SecurityMatch? {
    let endpoint = topology.endpoints[endpointIndex]
    guard let vcnIndex = endpoint.vcn else { return nil }
    let vcn = tenancy.vcns[vcnIndex]
    let peer = direction == .egress ? packet.destination : packet.source
    let peerEndpoint = topology.endpoint(at: peer).map { topology.endpoints[$0] }
    if let subnetIndex = endpoint.subnet {
      for listName in vcn.subnets[subnetIndex].securityLists {
        guard let list = vcn.securityLists.first(where: { $0.name == listName }) else { continue }
        let rules = direction == .egress ? list.egress : list.ingress
        if let index = rules.firstIndex(where: {
          allows($0, packet, peer: peer, peerEndpoint, vcn: vcnIndex)
        }) {
          return SecurityMatch(
            source: .securityList(listName), rule: index, stateful: !rules[index].stateless)
        }
      }
    }
    for groupName in groups(of: endpoint) {
      guard let group = vcn.networkSecurityGroups.first(where: { $0.name == groupName }) else {
        continue
      }
      let rules = direction == .egress ? group.egress : group.ingress
      if let index = rules.firstIndex(where: {
        allows($0, packet, peer: peer, peerEndpoint, vcn: vcnIndex)
      }) {
        return SecurityMatch(
          source: .networkSecurityGroup(groupName), rule: index, stateful: !rules[index].stateless)
      }
    }
    return nil
  }

  /// The NSGs an endpoint's VNIC joins.
  public func groups(of endpoint: Endpoint) -> [String] {
    tenancy.resources[endpoint.resource].vnics[endpoint.vnic].networkSecurityGroups
  }

  /// Whether one rule lets a packet through; `peer` is the far end (the destination for egress,
  /// the source for ingress).
  public func allows(
    _ rule: SecurityRule, _ packet: Flow, peer: IPAddress, _ peerEndpoint: Endpoint?, vcn: Int
  ) -> Bool {
    switch rule.transport {
    case .all: break
    case .tcp: guard packet.transport == .tcp else { return false }
    case .udp: guard packet.transport == .udp else { return false }
    case .icmp: guard packet.transport == .icmp else { return false }
    }
    switch rule.peer {
    case .cidr(let block):
      guard block.contains(peer) else { return false }
    case .networkSecurityGroup(let name):
      guard let peerEndpoint, peerEndpoint.vcn == vcn, groups(of: peerEndpoint).contains(name)
      else { return false }
    }
    if rule.transport != .all, packet.transport.hasPorts {
      if let ports = rule.destinationPorts, !ports.contains(packet.destinationPort) { return false }
      if let ports = rule.sourcePorts, !ports.contains(packet.sourcePort) { return false }
    }
    if rule.transport == .icmp {
      if let type = rule.icmpType, type != packet.icmpType { return false }
      if let code = rule.icmpCode, code != packet.icmpCode { return false }
    }
    return true
  }

  /// Where traffic for an address goes from a subnet: its own VCN's blocks are local; anything
  /// else follows the subnet's route table (longest prefix first) to a peering gateway, a DRG or
  /// a gateway out of the tenancy.
  public func route(from vcnIndex: Int, subnet subnetIndex: Int?, to address: IPAddress)
    -> RouteResult
  {
    let vcn = tenancy.vcns[vcnIndex]
    if vcn.cidrs.contains(where: { $0.contains(address) }) { return .vcn(vcnIndex, via: .local) }
    guard let subnetIndex, let tableName = vcn.subnets[subnetIndex].routeTable else {
      return .none("subnet has no route table, and \(address) is outside VCN '\(vcn.name)'")
    }
    guard let table = vcn.routeTables.first(where: { $0.name == tableName }) else {
      return .none("route table '\(tableName)' does not exist")
    }
    let candidates = table.rules.enumerated().filter { $0.element.destination.contains(address) }
    guard
      let (index, rule) = candidates.max(by: {
        $0.element.destination.length < $1.element.destination.length
      })
    else {
      return .none("no rule of route table '\(tableName)' covers \(address)")
    }
    let via = RouteVia.rule(
      table: tableName, index: index, destination: rule.destination, target: rule.target)
    switch rule.target {
    case .local:
      return .none(
        "route table '\(tableName)' sends \(address) to local, outside VCN '\(vcn.name)'")
    case .localPeeringGateway(let name):
      guard let gateway = vcn.localPeeringGateways.first(where: { $0.name == name }),
        let peer = gateway.peer, let peerIndex = topology.vcn(named: peer.vcn),
        let peerGateway = tenancy.vcns[peerIndex].localPeeringGateways.first(where: {
          $0.name == peer.gateway
        }),
        peerGateway.peer?.vcn == vcn.name, peerGateway.peer?.gateway == name
      else {
        return .none("local peering gateway '\(name)' is not peered both ways")
      }
      guard tenancy.vcns[peerIndex].cidrs.contains(where: { $0.contains(address) }) else {
        return .none(
          "\(address) is not in the peered VCN '\(peer.vcn)', and peerings do not carry transit")
      }
      return .vcn(peerIndex, via: via)
    case .drg(let name):
      guard let drg = tenancy.drgs.first(where: { $0.name == name }),
        drg.attachments.contains(vcn.name)
      else {
        return .none("VCN '\(vcn.name)' is not attached to DRG '\(name)'")
      }
      for attached in drg.attachments where attached != vcn.name {
        if let other = topology.vcn(named: attached),
          tenancy.vcns[other].cidrs.contains(where: { $0.contains(address) })
        {
          return .vcn(other, via: via)
        }
      }
      if topology.vcn(holding: address) != nil {
        return .none("\(address) is in a VCN not attached to DRG '\(name)'")
      }
      return .edge(via)
    case .internetGateway, .natGateway:
      if topology.vcn(holding: address) != nil {
        return .none("\(address) is a private address of the tenancy; gateways out do not reach it")
      }
      return .edge(via)
    case .serviceGateway:
      guard tenancy.serviceNetwork.contains(where: { $0.contains(address) }) else {
        return .none("\(address) is not in the service network the service gateway reaches")
      }
      return .edge(via)
    }
  }
}
