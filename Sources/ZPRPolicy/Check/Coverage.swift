// Whether one statement allows everything another allows: the basis of the duplicate and
// "already covered" warnings.

extension Filters {
  /// Whether these filters admit every flow that `narrower` admits: a stateful statement admits
  /// everything a stateless one does; no protocol admits every protocol; no ports admit every
  /// port; an ICMP type or code admits only itself.
  public func covers(_ narrower: Filters) -> Bool {
    var ports: [ClosedRange<Int32>] = []
    let wider = FilterSummary(self, ports: &ports)
    return wider.covers(FilterSummary(narrower, ports: &ports), ports: ports)
  }
}

/// An attribute as a key: namespace and key compare without regard to case, the value exactly.
/// Hashing feeds one precomputed fingerprint, so no folded copies of the names are made.
struct AttributeKey: Hashable {
  let namespace: String
  let key: String
  let value: String?
  private let fingerprint: UInt64

  init(namespace: String, key: String, value: String?) {
    self.namespace = namespace
    self.key = key
    self.value = value
    var hash = FNV1a()
    for byte in namespace.utf8 { hash.mix(asciiLowercased(byte)) }
    hash.mix(UInt8(ascii: "."))
    for byte in key.utf8 { hash.mix(asciiLowercased(byte)) }
    if let value {
      hash.mix(UInt8(ascii: ":"))
      for byte in value.utf8 { hash.mix(byte) }
    }
    fingerprint = hash.value
  }

  /// The same attribute with any value.
  var bare: AttributeKey { AttributeKey(namespace: namespace, key: key, value: nil) }

  static func == (lhs: AttributeKey, rhs: AttributeKey) -> Bool {
    lhs.fingerprint == rhs.fingerprint && lhs.value == rhs.value
      && equalIgnoringCase(lhs.key, rhs.key) && equalIgnoringCase(lhs.namespace, rhs.namespace)
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(fingerprint)
  }

  private static func equalIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
    guard lhs.utf8.count == rhs.utf8.count else { return false }
    return zip(lhs.utf8, rhs.utf8).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
  }
}
