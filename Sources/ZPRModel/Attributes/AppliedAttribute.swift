public import ZPRPolicy

/// Whether ZPR acts on an applied attribute.
public enum AttributeMode: String, Hashable, Sendable, Codable, CaseIterable {
  /// ZPR decides and enforces.
  case enforce
  /// ZPR evaluates and records what it would decide, but never blocks (a dry run).
  case audit
}

/// A security attribute applied to a resource: `namespace.key = value`, in a mode.
public struct AppliedAttribute: Hashable, Sendable {
  /// The namespace (the default one when the user left it out).
  public var namespace: String
  /// The attribute's name.
  public var key: String
  /// The value.
  public var value: String
  /// Enforce or audit.
  public var mode: AttributeMode

  /// An applied attribute.
  public init(namespace: String, key: String, value: String, mode: AttributeMode = .enforce) {
    self.namespace = namespace
    self.key = key
    self.value = value
    self.mode = mode
  }

  /// `namespace.key`.
  public var qualifiedName: String { "\(namespace).\(key)" }
}

/// The kinds of thing security attributes are applied to; each has its own limit.
public enum ResourceKind: String, Hashable, Sendable, Codable, CaseIterable {
  case vcn
  case vnic
  case instance
  case database
  case loadBalancer = "load-balancer"
  case privateEndpoint = "private-endpoint"

  /// How many attributes one of these may carry, and the name of that limit.
  public func attributeLimit(in limits: ZPRLimits) -> (count: Int, name: String) {
    switch self {
    case .vcn: (limits.attributesPerVCN, "attributesPerVCN")
    case .vnic: (limits.attributesPerVNIC, "attributesPerVNIC")
    case .instance, .database, .loadBalancer, .privateEndpoint:
      (limits.attributesPerResource, "attributesPerResource")
    }
  }
}

/// An applied value the catalog no longer accepts: found by a lint, never dropped silently.
public struct AttributeFinding: Hashable, Sendable, CustomStringConvertible {
  /// The attribute as applied.
  public var attribute: AppliedAttribute
  /// What is wrong with it now and what to do.
  public var message: String

  public var description: String { "\(attribute.qualifiedName): \(message)" }
}

extension SecurityAttributeCatalog {
  /// Checks the attributes to apply to one resource: each names an active attribute of an active
  /// namespace, its value passes the validator, no attribute is applied twice, and the resource
  /// kind's limit holds. Throws the first problem.
  public func validate(_ attributes: [AppliedAttribute], on kind: ResourceKind, name: String)
    throws(ModelError)
  {
    let limit = kind.attributeLimit(in: limits)
    guard attributes.count <= limit.count else {
      throw ModelError(
        .limitExceeded,
        "\(kind.rawValue) '\(name)' would carry \(attributes.count) security attributes; one "
          + "carries at most \(limit.count) (the \(limit.name) limit): remove some")
    }
    var seen: [String: AppliedAttribute] = [:]
    for attribute in attributes {
      let key =
        SecurityAttributeName.folded(attribute.namespace) + "."
        + SecurityAttributeName.folded(attribute.key)
      if let earlier = seen[key] {
        throw ModelError(
          .duplicateAttribute,
          "\(kind.rawValue) '\(name)' carries \(attribute.qualifiedName) twice (values "
            + "'\(earlier.value)' and '\(attribute.value)'): keep one value")
      }
      seen[key] = attribute
      if let problem = problem(with: attribute) {
        throw ModelError(problem.code, "\(kind.rawValue) '\(name)': \(problem.message)")
      }
    }
  }

  /// The applied attributes the catalog no longer accepts (an attribute retired or deleted since,
  /// or a validator added or narrowed after the value was applied).
  public func findings(for attributes: [AppliedAttribute]) -> [AttributeFinding] {
    attributes.compactMap { attribute in
      problem(with: attribute).map { AttributeFinding(attribute: attribute, message: $0.message) }
    }
  }

  /// What is wrong with applying one attribute now, if anything.
  private func problem(with attribute: AppliedAttribute) -> ModelError? {
    guard let space = namespace(named: attribute.namespace) else {
      let guess = Suggestions.closest(
        to: attribute.namespace, among: namespaces.filter(\.state.isLive).map(\.name))
      return ModelError(
        .notFound,
        "there is no namespace '\(attribute.namespace)'"
          + (guess.map { " (did you mean '\($0)'?)" } ?? "") + ": create it, or fix the name")
    }
    guard space.state == .active else {
      return ModelError(
        .invalidState,
        "namespace '\(space.name)' is retired: reactivate it before applying its attributes")
    }
    guard let definition = space.attribute(named: attribute.key) else {
      let guess = Suggestions.closest(
        to: attribute.key, among: space.attributes.filter(\.state.isLive).map(\.name))
      return ModelError(
        .notFound,
        "namespace '\(space.name)' has no attribute '\(attribute.key)'"
          + (guess.map { " (did you mean '\($0)'?)" } ?? "") + ": create it, or fix the name")
    }
    guard definition.state == .active else {
      return ModelError(
        .invalidState,
        "attribute \(attribute.qualifiedName) is retired: reactivate it, or apply another one")
    }
    guard definition.validator.accepts(attribute.value) else {
      if case .oneOf(let values) = definition.validator {
        let guess = Suggestions.closest(to: attribute.value, among: values)
        return ModelError(
          .valueRejected,
          "'\(attribute.value)' is not a value of \(attribute.qualifiedName): use one of "
            + values.map { "'\($0)'" }.joined(separator: ", ")
            + (guess.map { " (did you mean '\($0)'?)" } ?? ""))
      }
      return ModelError(
        .valueRejected, "\(attribute.qualifiedName) needs a value: give a non-empty one")
    }
    return nil
  }
}
