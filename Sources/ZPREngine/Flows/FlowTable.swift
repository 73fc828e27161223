import ZPRPolicy

/// Flows as connection tracking sees them, for simulating what ZPR does over time: identical
/// 5-tuples are one flow, replies of a flow allowed statefully pass, a stateless statement does
/// not let replies through, and a recompile cuts the flows that lost their permission.
public struct FlowTable: Sendable {
  /// What happens to a packet.
  public enum Verdict: Hashable, Sendable {
    /// The first packet of a flow the policy allows (the statement that allows it; nil when
    /// ZPR does not govern the flow).
    case new(StatementID?)
    /// A packet of a flow already tracked.
    case established
    /// A reply of a tracked flow that was allowed statefully.
    case reply
    /// A flow the policy does not allow.
    case denied(ZPRDecision)

    /// Whether the packet passes.
    public var passes: Bool {
      if case .denied = self { return false }
      return true
    }
  }

  /// A tracked flow.
  public struct Entry: Hashable, Sendable {
    public var flow: Flow
    public var statement: StatementID?
    /// Whether its replies pass without a statement of their own.
    public var stateful: Bool
  }

  public private(set) var entries: [Flow: Entry] = [:]

  /// An empty table.
  public init() {}

  /// The number of tracked flows.
  public var count: Int { entries.count }

  /// A packet: tracked flows and the replies of stateful ones pass; anything else is a new flow
  /// the policy decides (and, when allowed, tracked).
  public mutating func packet(_ packet: Flow, policy: CompiledPolicy) -> Verdict {
    if entries[packet] != nil { return .established }
    if let original = entries[Self.request(answeredBy: packet)], original.stateful {
      return .reply
    }
    let decision = policy.decide(packet)
    guard decision.allowed else { return .denied(decision) }
    entries[packet] = Entry(
      flow: packet, statement: decision.statement, stateful: decision.stateful || !decision.applies)
    return .new(decision.statement)
  }

  /// After the policy changed: every tracked flow is decided again, those no longer allowed are
  /// cut (removed, as their connection-tracking entries would be), and the number cut is
  /// returned.
  @discardableResult
  public mutating func recompiled(with policy: CompiledPolicy) -> Int {
    var cut = 0
    for (flow, entry) in entries {
      let decision = policy.decide(flow)
      if decision.allowed {
        var kept = entry
        kept.statement = decision.statement
        kept.stateful = decision.stateful || !decision.applies
        entries[flow] = kept
      } else {
        entries[flow] = nil
        cut += 1
      }
    }
    return cut
  }

  /// The flow a packet would answer: the ends and ports swapped (an echo reply answers an echo
  /// request, and so on for each ICMP query).
  static func request(answeredBy reply: Flow) -> Flow {
    var request = reply.reply
    if reply.transport == .icmp,
      let query = Flow.icmpReplies(reply.source.family).first(where: { $0.value == reply.icmpType })
    {
      request.icmpType = query.key
    }
    return request
  }
}
