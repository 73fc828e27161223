public import ZPREngine
import ZPRModel
public import ZPRPolicy

/// What one host (a VNIC) enforces: for each peer address range, what ZPR lets in and out, by
/// the statement that grants it. Built from the compiled policy, the same tables the analyzer
/// explains with, so the kernel is given exactly what `zpr analyze` reasons about.
public struct HostRuleset: Hashable, Sendable {
  /// The endpoint's name (`web-1/0`).
  public var host: String
  /// The revision of the tenancy it comes from, when it comes from a server.
  public var revision: Int64?
  public var addresses: [IPAddress]
  /// Whether ZPR guards this host: when it does not, it filters nothing itself (its protected
  /// peers filter their side).
  public var protected: Bool
  /// The statements' chains some element jumps to, in policy order.
  public var statements: [StatementRule]
  /// TCP and UDP in (by source) and out (by destination).
  public var ingress: [PortElement]
  public var egress: [PortElement]
  /// ICMP in and out.
  public var ingressICMP: [ICMPElement]
  public var egressICMP: [ICMPElement]
  /// What audit mode would decide, when the tenancy has attributes in audit mode and the host
  /// is protected in audit mode: flows it would deny are accepted (as enforce mode decides)
  /// and recorded.
  public var audit: Audit?

  /// The flows audit mode allows: the rest is recorded as audit-denied.
  public struct Audit: Hashable, Sendable {
    public var ingress: [PortElement]
    public var egress: [PortElement]
    public var ingressICMP: [ICMPElement]
    public var egressICMP: [ICMPElement]
  }

  /// A statement's chain, as the ruleset names it (`s0_1`), its counter, and whether the
  /// replies of what it accepts pass (stateful) or need their own statement
  /// (`connection-state='stateless'`). A stateless statement may have a second, stateful chain
  /// (`s0_1_stateful`, counting into the same counter): for the flows it is the first to grant
  /// that a later, stateful statement grants as well, whose replies therefore pass.
  public struct StatementRule: Hashable, Sendable {
    public var id: StatementID
    /// The chain's name.
    public var name: String
    /// The statement's counter (`s0_1`), one per statement.
    public var counter: String
    public var stateful: Bool
    /// The policy's name and the statement, for the ruleset's comments and flow records.
    public var label: String
  }

  /// Peers in a range may use these ports of one transport with one of the host's addresses,
  /// by a statement. The peers and the host's address are of one family.
  public struct PortElement: Hashable, Sendable {
    public var peers: ClosedRange<IPAddress>
    /// The host's address (a VNIC's addresses may differ in what statements name them).
    public var local: IPAddress
    /// `tcp` or `udp`.
    public var transport: String
    public var ports: ClosedRange<Int>
    public var statement: String
  }

  /// Peers in a range may send these ICMP messages, by a statement.
  public struct ICMPElement: Hashable, Sendable {
    public var peers: ClosedRange<IPAddress>
    public var local: IPAddress
    public var types: ClosedRange<Int>
    public var codes: ClosedRange<Int>
    public var statement: String

    /// The types and codes as one number, for ordering.
    var messages: Int {
      types.lowerBound << 24 | types.upperBound << 16 | codes.lowerBound << 8 | codes.upperBound
    }
  }

  /// The ruleset before the first sync: a protected host lets nothing in or out (fail closed).
  public static func failClosed(host: String) -> HostRuleset {
    HostRuleset(
      host: host, revision: nil, addresses: [], protected: true, statements: [], ingress: [],
      egress: [], ingressICMP: [], egressICMP: [], audit: nil)
  }

  /// What the kernel does with a new flow under this ruleset, read off it as nft reads it (one
  /// lookup in a verdict map): the statement whose chain the flow jumps to, "unprotected" when
  /// the host filters nothing, or nil when the flow is dropped. `inbound`: the flow comes to
  /// this host (its destination is one of the host's addresses).
  public func statement(for flow: Flow, inbound: Bool) -> String? {
    guard protected else { return "unprotected" }
    let peer = inbound ? flow.source : flow.destination
    let local = inbound ? flow.destination : flow.source
    guard peer.family == local.family else { return nil }
    switch flow.transport {
    case .tcp, .udp:
      return (inbound ? ingress : egress).first {
        $0.peers.contains(peer) && $0.local == local
          && $0.transport == flow.transport.rawValue && $0.ports.contains(flow.destinationPort)
      }?.statement
    case .icmp:
      return (inbound ? ingressICMP : egressICMP).first {
        $0.peers.contains(peer) && $0.local == local && $0.types.contains(flow.icmpType)
          && $0.codes.contains(flow.icmpCode)
      }?.statement
    }
  }

  /// Whether audit mode would allow a new flow (true when the ruleset has no audit part).
  public func auditAllows(_ flow: Flow, inbound: Bool) -> Bool {
    guard let audit else { return true }
    let view = HostRuleset(
      host: host, revision: nil, addresses: addresses, protected: true, statements: [],
      ingress: audit.ingress, egress: audit.egress, ingressICMP: audit.ingressICMP,
      egressICMP: audit.egressICMP, audit: nil)
    return view.statement(for: flow, inbound: inbound) != nil
  }

  /// How many statements it names (a statement may have two chains).
  public var statementCount: Int { Set(statements.map(\.id)).count }

  /// How many elements its sets hold.
  public var elementCount: Int {
    ingress.count + egress.count + ingressICMP.count + egressICMP.count
  }
}

/// A statement's chain: the statement, and whether its replies pass.
private struct ChainKey: Hashable {
  var statement: StatementID
  var stateful: Bool
}

/// A problem building or applying a ruleset: a stable code, what to do, and the error
/// underneath when there is one.
public struct EnforcerError: ZPRError, CodedError, Hashable {
  /// Stable codes.
  public enum Code: String, Hashable, Sendable, CaseIterable {
    /// The tenancy has no VNIC of that name.
    case unknownHost = "ZPR-ENF-001"
    /// `nft`, `conntrack` or `ip` is not installed or cannot run.
    case toolMissing = "ZPR-ENF-002"
    /// `nft -c` refused the ruleset; nothing was changed.
    case rulesetRefused = "ZPR-ENF-003"
    /// `nft` could not apply the ruleset; the transaction was rolled back.
    case applyFailed = "ZPR-ENF-004"
    /// `nft` could not list or delete zpr's table.
    case tableUnavailable = "ZPR-ENF-005"
    /// `conntrack` could not list or cut connections.
    case connectionsUnavailable = "ZPR-ENF-006"
    /// `ip` could not list the machine's addresses.
    case addressesUnavailable = "ZPR-ENF-007"
    /// The kernel did not tell the ruleset's generation over netlink.
    case generationUnavailable = "ZPR-ENF-008"
    /// A named network namespace does not exist or cannot be entered.
    case unknownNamespace = "ZPR-ENF-009"
  }

  public var code: Code
  public var message: String
  /// What failed underneath (a process that could not start, say).
  public var cause: (any Error)? { underlying.error }
  private var underlying: ErrorCause

  /// An error.
  public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    underlying = ErrorCause(cause)
  }
}

extension HostRuleset {
  /// The ruleset of the endpoint named `host` (`web-1` for its first VNIC, or `web-1/1`).
  /// `audit`: the policy compiled in audit mode (``CompiledPolicy/init(_:mode:)``), when the
  /// tenancy has attributes in audit mode.
  public init(
    host: String, topology: Topology, compiled: CompiledPolicy, audit: CompiledPolicy? = nil,
    revision: Int64? = nil
  ) throws(EnforcerError) {
    guard let index = topology.endpoint(named: host) else {
      let known = topology.names
      let guess = Suggestions.closest(to: host, among: known).map { " (did you mean '\($0)'?)" }
      throw EnforcerError(
        .unknownHost,
        "the tenancy has no VNIC named '\(host)'\(guess ?? ""): name a resource (its first VNIC) "
          + "or RESOURCE/N")
    }
    let endpoint = topology.endpoints[index]
    self.host = endpoint.name
    self.revision = revision
    addresses = endpoint.ips
    protected = endpoint.isProtected(in: compiled.mode)
    statements = []
    ingress = []
    egress = []
    ingressICMP = []
    egressICMP = []
    if let audit, endpoint.isProtected(in: .audit) {
      let found = Self.elements(of: endpoint, in: audit) { _ in "audit" }
      self.audit = Audit(
        ingress: found.ingress, egress: found.egress, ingressICMP: found.ingressICMP,
        egressICMP: found.egressICMP)
    }
    guard protected else { return }
    // A grant names the first statement that grants it, and is stateful when any granting
    // statement is: a stateless statement's grant may be stateful, through its own chain.
    var used: [ChainKey: StatementRule] = [:]
    func rule(_ grant: Grant) -> String {
      let key = ChainKey(statement: grant.statement, stateful: grant.stateful)
      if let known = used[key] { return known.name }
      let id = grant.statement
      let policy = topology.tenancy.policies[id.policy]
      let statement = id.statement < policy.statements.count ? policy.statements[id.statement] : nil
      let counter = "s\(id.policy)_\(id.statement)"
      let declared = statement.map { $0.filters.state == .stateful } ?? grant.stateful
      let made = StatementRule(
        id: id, name: grant.stateful && !declared ? counter + "_stateful" : counter,
        counter: counter, stateful: grant.stateful,
        label: "\(policy.name)[\(id.statement)]: \(statement.map(PolicyFormatter.format) ?? "")")
      used[key] = made
      return made.name
    }
    let found = Self.elements(of: endpoint, in: compiled, rule)
    statements = used.values.sorted { ($0.id, $0.name) < ($1.id, $1.name) }
    ingress = found.ingress
    egress = found.egress
    ingressICMP = found.ingressICMP
    egressICMP = found.egressICMP
  }

  /// What each address region may send each of the endpoint's addresses and receive from it,
  /// merged; `rule` names the chain of a grant's statement.
  private static func elements(
    of endpoint: ZPREngine.Endpoint, in compiled: CompiledPolicy, _ rule: (Grant) -> String
  ) -> (
    ingress: [PortElement], egress: [PortElement], ingressICMP: [ICMPElement],
    egressICMP: [ICMPElement]
  ) {
    var ingress: [PortElement] = []
    var egress: [PortElement] = []
    var ingressICMP: [ICMPElement] = []
    var egressICMP: [ICMPElement] = []
    var regions: [IPAddress.Family: [AddressRegion]] = [:]
    for own in Set(endpoint.ips).sorted() {
      let mine = compiled.signatures(at: own)
      if regions[own.family] == nil { regions[own.family] = compiled.regions(own.family) }
      // ICMP over IPv4 is `icmp`, over IPv6 `icmp6`; a statement without a protocol grants both.
      let icmp = own.family == .v4 ? "icmp" : "icmp6"
      for region in regions[own.family]! {
        let peers = region.first...region.last
        for (grants, isIngress) in [
          (compiled.grants(from: region.source, to: mine.destination), true),
          (compiled.grants(from: mine.source, to: region.destination), false),
        ] where !grants.isEmpty {
          var messages: [ICMPElement] = []
          for grant in grants {
            switch grant.transport {
            case "tcp", "udp":
              let element = PortElement(
                peers: peers, local: own, transport: grant.transport,
                ports: grant.ports ?? 0...65535, statement: rule(grant))
              if isIngress { ingress.append(element) } else { egress.append(element) }
            case icmp, "icmp/icmp6":
              messages.append(
                ICMPElement(
                  peers: peers, local: own, types: grant.icmpType.map { $0...$0 } ?? 0...255,
                  codes: grant.icmpCode.map { $0...$0 } ?? 0...255, statement: rule(grant)))
            default: continue  // ICMP of the other family.
            }
          }
          let disjoint = Self.disjoint(messages)
          if isIngress { ingressICMP += disjoint } else { egressICMP += disjoint }
        }
      }
    }
    return (merged(ingress), merged(egress), merged(ingressICMP), merged(egressICMP))
  }

  /// ICMP grants of one peer range with none inside another (a set's intervals may not
  /// overlap): a grant of every type covers the rest, as does one of every code of a type.
  private static func disjoint(_ elements: [ICMPElement]) -> [ICMPElement] {
    var kept: [ICMPElement] = []
    for element in elements {
      let covered = kept.contains {
        $0.types.contains(element.types.lowerBound) && $0.types.contains(element.types.upperBound)
          && $0.codes.contains(element.codes.lowerBound)
          && $0.codes.contains(element.codes.upperBound)
      }
      guard !covered else { continue }
      kept.removeAll {
        element.types.contains($0.types.lowerBound) && element.types.contains($0.types.upperBound)
          && element.codes.contains($0.codes.lowerBound)
          && element.codes.contains($0.codes.upperBound)
      }
      kept.append(element)
    }
    return kept
  }

  /// Neighbouring peer ranges with the same grant joined, in address order.
  private static func merged(_ elements: [PortElement]) -> [PortElement] {
    let sorted = elements.sorted {
      (
        $0.local, $0.transport, $0.ports.lowerBound, $0.ports.upperBound, $0.statement,
        $0.peers.lowerBound
      )
        < (
          $1.local, $1.transport, $1.ports.lowerBound, $1.ports.upperBound, $1.statement,
          $1.peers.lowerBound
        )
    }
    var result: [PortElement] = []
    for element in sorted {
      if let last = result.last, last.local == element.local, last.transport == element.transport,
        last.ports == element.ports, last.statement == element.statement,
        last.peers.upperBound.successor == element.peers.lowerBound
      {
        result[result.count - 1].peers = last.peers.lowerBound...element.peers.upperBound
      } else {
        result.append(element)
      }
    }
    return result.sorted {
      ($0.peers.lowerBound, $0.local, $0.transport, $0.ports.lowerBound)
        < ($1.peers.lowerBound, $1.local, $1.transport, $1.ports.lowerBound)
    }
  }

  private static func merged(_ elements: [ICMPElement]) -> [ICMPElement] {
    let sorted = elements.sorted {
      ($0.local, $0.messages, $0.statement, $0.peers.lowerBound)
        < ($1.local, $1.messages, $1.statement, $1.peers.lowerBound)
    }
    var result: [ICMPElement] = []
    for element in sorted {
      if let last = result.last, last.local == element.local, last.types == element.types,
        last.codes == element.codes,
        last.statement == element.statement,
        last.peers.upperBound.successor == element.peers.lowerBound
      {
        result[result.count - 1].peers = last.peers.lowerBound...element.peers.upperBound
      } else {
        result.append(element)
      }
    }
    return result.sorted {
      ($0.peers.lowerBound, $0.local, $0.types.lowerBound, $0.codes.lowerBound)
        < ($1.peers.lowerBound, $1.local, $1.types.lowerBound, $1.codes.lowerBound)
    }
  }
}
