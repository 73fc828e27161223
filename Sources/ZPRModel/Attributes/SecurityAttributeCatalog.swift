public import ZPRPolicy

/// A security attribute: a named label with a validator, inside a namespace.
public struct SecurityAttribute: Hashable, Sendable {
  /// The name, unique in its namespace without regard to case.
  public var name: String
  /// What the attribute means; required.
  public var description: String
  /// What values it accepts.
  public var validator: AttributeValidator
  /// Where it is in its life.
  public var state: LifecycleState
}

/// A security attribute namespace: a container of attributes that IAM policies are written
/// against.
public struct SecurityAttributeNamespace: Hashable, Sendable {
  /// The name, unique in the tenancy without regard to case.
  public var name: String
  /// What the namespace is for; required.
  public var description: String
  /// Where it is in its life.
  public var state: LifecycleState
  /// Its attributes, deleted ones included (their names may be reused).
  public var attributes: [SecurityAttribute]

  /// The attribute of that name that is not deleted, if any.
  public func attribute(named name: String) -> SecurityAttribute? {
    attributes.last { $0.state.isLive && SecurityAttributeName.same($0.name, name) }
  }
}

/// Every security attribute namespace of a tenancy and the operations on them. Each operation
/// either succeeds completely or throws and changes nothing.
public struct SecurityAttributeCatalog: Hashable, Sendable {
  /// The namespaces, deleted ones included.
  public private(set) var namespaces: [SecurityAttributeNamespace] = []
  /// The index of each namespace that is not being deleted, by folded name: lookups are
  /// constant time however many namespaces there are.
  private var liveIndex: [String: Int] = [:]
  /// The limits in force.
  public var limits: ZPRLimits

  /// An empty catalog (ZPR not enabled yet).
  public init(limits: ZPRLimits = .standard) {
    self.limits = limits
  }

  /// The namespace of that name that is not deleted, if any.
  public func namespace(named name: String) -> SecurityAttributeNamespace? {
    liveIndex[SecurityAttributeName.folded(name)].map { namespaces[$0] }
  }

  /// The attribute `namespace.name`, if both exist and are not deleted.
  public func attribute(_ name: String, in namespace: String) -> SecurityAttribute? {
    self.namespace(named: namespace)?.attribute(named: name)
  }

  // MARK: Enabling ZPR

  /// "Enable ZPR": creates the default namespace with the example attribute `sensitivity`.
  public mutating func enableZPR(defaultNamespace: String = "oracle-zpr") throws(ModelError) {
    guard namespace(named: defaultNamespace) == nil else {
      throw ModelError(
        .alreadyEnabled,
        "ZPR is already enabled: the namespace '\(defaultNamespace)' exists; change it or its "
          + "attributes instead")
    }
    try change { catalog throws(ModelError) in
      try catalog.createNamespace(
        defaultNamespace, description: "The default namespace of Zero Trust Packet Routing")
      try catalog.createAttribute(
        "sensitivity", in: defaultNamespace,
        description: "An example attribute: how sensitive a resource's data is")
    }
  }

  // MARK: Namespaces

  /// Creates an active namespace.
  public mutating func createNamespace(_ name: String, description: String) throws(ModelError) {
    try Self.checkName(name, what: "namespace")
    try Self.checkDescription(description, of: "namespace '\(name)'")
    if let existing = namespace(named: name) {
      throw ModelError(
        .duplicateName,
        "a namespace named '\(existing.name)' already exists (names ignore case): choose another "
          + "name")
    }
    liveIndex[SecurityAttributeName.folded(name)] = namespaces.count
    namespaces.append(
      SecurityAttributeNamespace(
        name: name, description: description, state: .active, attributes: []))
  }

  /// Changes a namespace's description.
  public mutating func updateNamespace(_ name: String, description: String) throws(ModelError) {
    try Self.checkDescription(description, of: "namespace '\(name)'")
    let index = try liveNamespaceIndex(name)
    namespaces[index].description = description
  }

  /// Retires a namespace and every active attribute in it.
  public mutating func retireNamespace(_ name: String) throws(ModelError) {
    let index = try liveNamespaceIndex(name)
    try Self.require(namespaces[index].state, is: .active, to: "retire", "namespace '\(name)'")
    namespaces[index].state = .inactive
    for attribute in namespaces[index].attributes.indices
    where namespaces[index].attributes[attribute].state == .active {
      namespaces[index].attributes[attribute].state = .inactive
    }
  }

  /// Reactivates a retired namespace. Its attributes stay retired: reactivate each on its own.
  public mutating func reactivateNamespace(_ name: String) throws(ModelError) {
    let index = try liveNamespaceIndex(name)
    try Self.require(
      namespaces[index].state, is: .inactive, to: "reactivate", "namespace '\(name)'")
    namespaces[index].state = .active
  }

  /// Deletes a retired namespace. Without `cascade` it must hold no attributes that are not
  /// deleted; with it, its attributes are deleted too.
  public mutating func deleteNamespace(_ name: String, cascade: Bool = false) throws(ModelError) {
    try beginNamespaceDeletion(name, cascade: cascade)
    try completeNamespaceDeletion(name)
  }

  /// First half of a delete: `INACTIVE` -> `DELETING` (the attributes too, with `cascade`).
  public mutating func beginNamespaceDeletion(_ name: String, cascade: Bool = false)
    throws(ModelError)
  {
    let index = try liveNamespaceIndex(name)
    try Self.require(namespaces[index].state, is: .inactive, to: "delete", "namespace '\(name)'")
    let remaining = namespaces[index].attributes.filter { $0.state.isLive }
    if !remaining.isEmpty && !cascade {
      throw ModelError(
        .notEmpty,
        "namespace '\(name)' still holds \(remaining.count) attribute(s) "
          + "(\(remaining.map(\.name).joined(separator: ", "))): delete them first, or delete the "
          + "namespace with cascade")
    }
    namespaces[index].state = .deleting
    liveIndex[SecurityAttributeName.folded(name)] = nil
    for attribute in namespaces[index].attributes.indices
    where namespaces[index].attributes[attribute].state.isLive {
      namespaces[index].attributes[attribute].state = .deleting
    }
  }

  /// Second half of a delete: `DELETING` -> `DELETED`.
  public mutating func completeNamespaceDeletion(_ name: String) throws(ModelError) {
    guard
      let index = namespaces.lastIndex(where: {
        $0.state == .deleting && SecurityAttributeName.same($0.name, name)
      })
    else {
      throw ModelError(
        .invalidState, "namespace '\(name)' is not being deleted: begin its deletion first")
    }
    namespaces[index].state = .deleted
    for attribute in namespaces[index].attributes.indices
    where namespaces[index].attributes[attribute].state == .deleting {
      namespaces[index].attributes[attribute].state = .deleted
    }
  }

  // MARK: Attributes

  /// Creates an active attribute in an active namespace.
  public mutating func createAttribute(
    _ name: String, in namespace: String, description: String,
    validator: AttributeValidator = .anyValue
  ) throws(ModelError) {
    try Self.checkName(name, what: "attribute")
    try Self.checkDescription(description, of: "attribute '\(namespace).\(name)'")
    try validator.validate(limits: limits, attribute: "\(namespace).\(name)")
    let index = try liveNamespaceIndex(namespace)
    try Self.require(
      namespaces[index].state, is: .active, to: "add attributes to", "namespace '\(namespace)'")
    if let existing = namespaces[index].attribute(named: name) {
      throw ModelError(
        .duplicateName,
        "namespace '\(namespace)' already has an attribute named '\(existing.name)' (names ignore "
          + "case): choose another name")
    }
    namespaces[index].attributes.append(
      SecurityAttribute(name: name, description: description, validator: validator, state: .active))
  }

  /// Changes an attribute's description and, when given, its validator. Values already applied
  /// are not re-checked here; ``findings(for:)`` reports those the new validator rejects.
  public mutating func updateAttribute(
    _ name: String, in namespace: String, description: String? = nil,
    validator: AttributeValidator? = nil
  ) throws(ModelError) {
    let (space, index) = try liveAttributeIndex(name, in: namespace)
    // Check everything before changing anything.
    if let description {
      try Self.checkDescription(description, of: "attribute '\(namespace).\(name)'")
    }
    try validator?.validate(limits: limits, attribute: "\(namespace).\(name)")
    if let description { namespaces[space].attributes[index].description = description }
    if let validator { namespaces[space].attributes[index].validator = validator }
  }

  /// Retires an active attribute.
  public mutating func retireAttribute(_ name: String, in namespace: String) throws(ModelError) {
    let (space, index) = try liveAttributeIndex(name, in: namespace)
    try Self.require(
      namespaces[space].attributes[index].state, is: .active, to: "retire",
      "attribute '\(namespace).\(name)'")
    namespaces[space].attributes[index].state = .inactive
  }

  /// Reactivates a retired attribute; its namespace must be active.
  public mutating func reactivateAttribute(_ name: String, in namespace: String) throws(ModelError)
  {
    let (space, index) = try liveAttributeIndex(name, in: namespace)
    try Self.require(
      namespaces[space].state, is: .active, to: "reactivate attributes in",
      "namespace '\(namespace)'")
    try Self.require(
      namespaces[space].attributes[index].state, is: .inactive, to: "reactivate",
      "attribute '\(namespace).\(name)'")
    namespaces[space].attributes[index].state = .active
  }

  /// Deletes a retired attribute.
  public mutating func deleteAttribute(_ name: String, in namespace: String) throws(ModelError) {
    let (space, index) = try liveAttributeIndex(name, in: namespace)
    try Self.require(
      namespaces[space].attributes[index].state, is: .inactive, to: "delete",
      "attribute '\(namespace).\(name)'")
    namespaces[space].attributes[index].state = .deleted
  }

  // MARK: Helpers

  /// Runs a change on a copy and keeps it only if it succeeds, so that a change made of several
  /// steps is all or nothing.
  public mutating func change(
    _ body: (inout SecurityAttributeCatalog) throws(ModelError) -> Void
  ) throws(ModelError) {
    var copy = self
    try body(&copy)
    self = copy
  }

  private func liveNamespaceIndex(_ name: String) throws(ModelError) -> Int {
    guard let index = liveIndex[SecurityAttributeName.folded(name)] else {
      let known = namespaces.filter(\.state.isLive).map(\.name)
      let guess = Suggestions.closest(to: name, among: known).map { " (did you mean '\($0)'?)" }
      throw ModelError(
        .notFound, "there is no namespace named '\(name)'\(guess ?? ""): create it first")
    }
    return index
  }

  private func liveAttributeIndex(_ name: String, in namespace: String) throws(ModelError) -> (
    Int, Int
  ) {
    let space = try liveNamespaceIndex(namespace)
    guard
      let index = namespaces[space].attributes.lastIndex(where: {
        $0.state.isLive && SecurityAttributeName.same($0.name, name)
      })
    else {
      let known = namespaces[space].attributes.filter(\.state.isLive).map(\.name)
      let guess = Suggestions.closest(to: name, among: known).map { " (did you mean '\($0)'?)" }
      throw ModelError(
        .notFound,
        "namespace '\(namespace)' has no attribute named '\(name)'\(guess ?? ""): create it first")
    }
    return (space, index)
  }

  private static func checkName(_ name: String, what: String) throws(ModelError) {
    if let problem = SecurityAttributeName.problem(with: name) {
      throw ModelError(.invalidName, problem.message(name: name, what: what))
    }
  }

  private static func checkDescription(_ description: String, of what: String) throws(ModelError) {
    guard !description.allSatisfy(\.isWhitespace) else {
      throw ModelError(.missingDescription, "the \(what) needs a description: say what it is for")
    }
  }

  private static func require(
    _ state: LifecycleState, is required: LifecycleState, to action: String, _ what: String
  ) throws(ModelError) {
    guard state == required else {
      let hint =
        switch required {
        case .active: "reactivate it first"
        case .inactive: state == .active ? "retire it first" : "only a retired one can be"
        case .deleting, .deleted: "begin its deletion first"
        }
      throw ModelError(
        .invalidState,
        "cannot \(action) \(what): it is \(state.rawValue), and only \(required.rawValue) ones "
          + "can be: \(hint)")
    }
  }

}
