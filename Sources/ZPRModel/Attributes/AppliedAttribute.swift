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
  public func validate(
    _ attributes: [AppliedAttribute], on kind: ResourceKind, name: @autoclosure () -> String
  )
    throws(ModelError)
  {
    let limit = kind.attributeLimit(in: limits)
    guard attributes.count <= limit.count else {
      throw ModelError(
        .limitExceeded,
        "\(kind.rawValue) '\(name())' would carry \(attributes.count) security attributes; one "
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
          "\(kind.rawValue) '\(name())' carries \(attribute.qualifiedName) twice (values "
            + "'\(earlier.value)' and '\(attribute.value)'): keep one value")
      }
      seen[key] = attribute
      if let problem = problem(with: attribute) {
        throw ModelError(problem.code, "\(kind.rawValue) '\(name())': \(problem.message)")
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
    switch lookup(namespace: attribute.namespace, key: attribute.key, value: attribute.value) {
    case .found:
      return nil
    case .unknownNamespace(let guess):
      return ModelError(
        .notFound,
        "there is no namespace '\(attribute.namespace)'" + Self.didYouMean(guess)
          + ": create it, or fix the name")
    case .unknownAttribute(let namespace, let guess):
      return ModelError(
        .notFound,
        "namespace '\(namespace.name)' has no attribute '\(attribute.key)'" + Self.didYouMean(guess)
          + ": create it, or fix the name")
    case .retired(let namespace, let definition):
      return ModelError(
        .invalidState,
        namespace.state != .active
          ? "namespace '\(namespace.name)' is retired: reactivate it before applying its attributes"
          : "attribute \(namespace.name).\(definition.name) is retired: reactivate it, or apply "
            + "another one")
    case .rejected(_, _, let values, let guess):
      guard let values else {
        return ModelError(
          .valueRejected, "\(attribute.qualifiedName) needs a value: give a non-empty one")
      }
      return ModelError(
        .valueRejected,
        "'\(attribute.value)' is not a value of \(attribute.qualifiedName): use one of "
          + values.map { "'\($0)'" }.joined(separator: ", ") + Self.didYouMean(guess))
    }
  }

  static func didYouMean(_ guess: String?) -> String {
    guess.map { " (did you mean '\($0)'?)" } ?? ""
  }
}

/// What the catalog says about `namespace.key` (with a value): the one place that resolves an
/// attribute reference, for applying attributes and for checking policy statements alike.
public enum CatalogLookup: Sendable {
  /// Both exist and are active, and the value (if any) passes the validator.
  case found(SecurityAttributeNamespace, SecurityAttribute)
  /// No such namespace; the closest name, if one is close.
  case unknownNamespace(guess: String?)
  /// No such attribute in the namespace; the closest name, if one is close.
  case unknownAttribute(SecurityAttributeNamespace, guess: String?)
  /// The namespace or the attribute is retired.
  case retired(SecurityAttributeNamespace, SecurityAttribute)
  /// The validator rejects the value: the ENUM values (nil for DEFAULT) and the closest one.
  case rejected(SecurityAttributeNamespace, SecurityAttribute, values: [String]?, guess: String?)
}

extension SecurityAttributeCatalog {
  /// Resolves `namespace.key`, and checks `value` when one is given.
  public func lookup(namespace name: String, key: String, value: String?) -> CatalogLookup {
    guard let namespace = namespace(named: name) else {
      return .unknownNamespace(
        guess: Suggestions.closest(to: name, among: namespaces.filter(\.state.isLive).map(\.name)))
    }
    guard let definition = namespace.attribute(named: key) else {
      return .unknownAttribute(
        namespace,
        guess: Suggestions.closest(
          to: key, among: namespace.attributes.filter(\.state.isLive).map(\.name)))
    }
    guard namespace.state == .active, definition.state == .active else {
      return .retired(namespace, definition)
    }
    if let value, !definition.validator.accepts(value) {
      if case .oneOf(let values) = definition.validator {
        return .rejected(
          namespace, definition, values: values,
          guess: Suggestions.closest(to: value, among: values))
      }
      return .rejected(namespace, definition, values: nil, guess: nil)
    }
    return .found(namespace, definition)
  }
}
