// Whether one statement allows everything another allows: the basis of the duplicate and
// "already covered" warnings.

extension Filters {
  /// Whether these filters admit every flow that `narrower` admits.
  public func covers(_ narrower: Filters) -> Bool {
    // A stateful statement admits everything a stateless one does, and the replies besides.
    if state == .stateless && narrower.state == .stateful { return false }
    guard let transport else {
      return icmpType == nil && icmpCode == nil
    }
    guard let other = narrower.transport, other.transport == transport.transport else {
      return false
    }
    if let type = icmpType, narrower.icmpType?.value != type.value { return false }
    if let code = icmpCode, narrower.icmpCode?.value != code.value { return false }
    return transport.coversPorts(of: other)
  }
}

extension ProtocolFilter {
  /// The ports as disjoint, sorted ranges (adjacent and overlapping ranges joined).
  public var mergedPorts: [ClosedRange<Int>] {
    var merged: [ClosedRange<Int>] = []
    for port in ports {
      if let last = merged.last, port.lower <= last.upperBound + 1 {
        merged[merged.count - 1] = last.lowerBound...max(last.upperBound, port.upper)
      } else {
        merged.append(port.lower...port.upper)
      }
    }
    return merged
  }

  /// Whether every port of `other` is one of ours (no ports means every port).
  func coversPorts(of other: ProtocolFilter) -> Bool {
    if ports.isEmpty { return true }
    if other.ports.isEmpty { return false }
    let merged = mergedPorts
    return other.ports.allSatisfy { port in
      merged.contains { $0.lowerBound <= port.lower && port.upper <= $0.upperBound }
    }
  }
}

/// An endpoint or VCN attribute reduced to what it means: names folded to lower case, the
/// default namespace filled in, addresses reduced to their block.
enum EndpointKey: Hashable {
  case attribute(namespace: String, key: String, value: String?)
  case address(IPPrefix)
  case allEndpoints
  case serviceNetwork

  init(_ attribute: AttributeRef, defaultNamespace: String) {
    self = .attribute(
      namespace: Self.folded(attribute.namespace ?? defaultNamespace),
      key: Self.folded(attribute.key), value: attribute.value)
  }

  init(_ endpoint: Endpoint, defaultNamespace: String) {
    switch endpoint.kind {
    case .attribute(let attribute): self.init(attribute, defaultNamespace: defaultNamespace)
    case .address(let prefix): self = .address(prefix)
    case .allEndpoints: self = .allEndpoints
    case .serviceNetwork: self = .serviceNetwork
    }
  }

  /// The broader attribute keys that include this one (not itself), most specific first.
  /// Address blocks are widened by ``KeyInterner``, which sees every block of the file.
  func generalizations() -> [EndpointKey] {
    switch self {
    case .attribute(let namespace, let key, let value):
      return (value == nil ? [] : [.attribute(namespace: namespace, key: key, value: nil)])
        + [.allEndpoints]
    case .address, .allEndpoints, .serviceNetwork:
      return []
    }
  }

  /// Names compare without regard to case; most are already lower case, so avoid the copy.
  static func folded(_ name: String) -> String {
    name.utf8.contains { $0 >= 65 && $0 <= 90 } ? name.lowercased() : name
  }
}
