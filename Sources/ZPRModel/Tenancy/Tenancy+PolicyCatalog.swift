public import ZPRPolicy

/// The codes of problems found by checking statements against a tenancy (ZPL08x).
public enum CatalogCode {
  /// A namespace the catalog does not have.
  public static let unknownNamespace = DiagnosticCode("ZPL080", "unknown namespace")
  /// An attribute the namespace does not have.
  public static let unknownAttribute = DiagnosticCode("ZPL081", "unknown attribute")
  /// An attribute that is retired (a warning: it matches nothing new).
  public static let retiredAttribute = DiagnosticCode("ZPL082", "retired attribute")
  /// A value the attribute's validator rejects.
  public static let rejectedValue = DiagnosticCode("ZPL083", "value the validator rejects")
  /// A VCN attribute that no VCN carries (a warning).
  public static let noSuchVCN = DiagnosticCode("ZPL084", "VCN attribute that no VCN carries")
  /// An endpoint attribute that no resource or VNIC carries (a warning).
  public static let matchesNothing = DiagnosticCode(
    "ZPL085", "endpoint attribute that matches nothing")
  /// A protected endpoint that no statement names (a warning: it will be unreachable).
  public static let unreachable = DiagnosticCode("ZPL086", "protected endpoint no statement names")
}

/// A protected endpoint (a VNIC with an attribute in enforce mode) that no statement names.
public struct UnnamedEndpoint: Hashable, Sendable {
  /// The model path of its resource (`resources[2]`), for placing a diagnostic.
  public var resourcePath: String
  /// The message.
  public var message: String
}

extension Tenancy {
  /// Checks statements against the catalog (namespaces, attributes, values) and the network
  /// (whether anything carries the attributes they name). Each diagnostic is at the attribute
  /// reference in the statement's own source.
  public func catalogDiagnostics(for statements: [Statement]) -> [Diagnostic] {
    PolicyCatalogCheck(self).diagnostics(for: statements)
  }

  /// The protected endpoints that none of the statements names: ZPR makes them unreachable.
  public func unnamedEndpoints(given statements: [Statement]) -> [UnnamedEndpoint] {
    PolicyCatalogCheck(self).unnamedEndpoints(given: statements)
  }
}

/// Statements checked against one tenancy. What the tenancy's VCNs and endpoints carry is
/// indexed once, so each check is a few set lookups however large the tenancy is.
public struct PolicyCatalogCheck: Sendable {
  private let tenancy: Tenancy
  /// Keys (see ``keys(_:_:_:)``) of the attributes some VCN carries.
  private let carriedByVCNs: Set<String>
  /// Keys of the attributes some resource or VNIC carries.
  private let carriedByEndpoints: Set<String>

  /// Indexes a tenancy.
  public init(_ tenancy: Tenancy) {
    self.tenancy = tenancy
    carriedByVCNs = Set(tenancy.vcns.flatMap { $0.securityAttributes.flatMap(Self.keys) })
    var endpoints = Set<String>()
    for resource in tenancy.resources {
      for attribute in resource.securityAttributes { endpoints.formUnion(Self.keys(attribute)) }
      for vnic in resource.vnics {
        for attribute in vnic.securityAttributes { endpoints.formUnion(Self.keys(attribute)) }
      }
    }
    carriedByEndpoints = endpoints
  }

  /// The catalog alone, for ``catalogProblems(for:)`` (which needs nothing the network
  /// carries), so that a change to one policy is checked without indexing every resource.
  init(catalogOf tenancy: Tenancy) {
    self.tenancy = tenancy
    carriedByVCNs = []
    carriedByEndpoints = []
  }

  /// What the catalog says about the statements' attribute references: every error of
  /// ``diagnostics(for:)`` (its other diagnostics are warnings).
  func catalogProblems(for statement: Statement) -> [Diagnostic] {
    Self.attributes(of: statement).compactMap { catalogProblem($0.0) }
  }

  /// See ``Tenancy/catalogDiagnostics(for:)``.
  public func diagnostics(for statements: [Statement]) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    for statement in statements {
      for (attribute, isVCN) in Self.attributes(of: statement) {
        if let problem = catalogProblem(attribute) {
          diagnostics.append(problem)
        } else if isVCN, !carriedByVCNs.contains(key(attribute)) {
          diagnostics.append(
            Diagnostic(
              .warning, CatalogCode.noSuchVCN,
              "no VCN carries \(PolicyFormatter.format(attribute)), so this statement applies "
                + "nowhere: apply it to a VCN, or fix the statement", at: attribute.range))
        } else if !isVCN, !carriedByEndpoints.contains(key(attribute)) {
          diagnostics.append(
            Diagnostic(
              .warning, CatalogCode.matchesNothing,
              "no resource or VNIC carries \(PolicyFormatter.format(attribute)), so this endpoint "
                + "matches nothing: apply it, or fix the statement", at: attribute.range))
        }
      }
    }
    return diagnostics
  }

  /// See ``Tenancy/unnamedEndpoints(given:)``.
  public func unnamedEndpoints(given statements: [Statement]) -> [UnnamedEndpoint] {
    // What the statements name: endpoint attributes, and the VCN scopes of all-endpoints.
    var named = Set<String>()
    var everyEndpointIn = Set<String>()
    for statement in statements {
      for side in [statement.source, statement.destination] {
        switch side.kind {
        case .attribute(let attribute): named.insert(key(attribute))
        case .allEndpoints: everyEndpointIn.formUnion(Self.scopes(of: statement).map(key))
        case .address, .serviceNetwork: break
        }
      }
    }
    // Many endpoints carry the same attributes and sit in the same VCNs: decide each once.
    var attributeNamed: [AppliedAttribute: Bool] = [:]
    func isNamed(_ attribute: AppliedAttribute) -> Bool {
      if let known = attributeNamed[attribute] { return known }
      let answer = Self.keys(attribute).contains(where: named.contains)
      attributeNamed[attribute] = answer
      return answer
    }
    var vcnCovered: [String: Bool] = [:]
    func isCovered(_ vcnName: String) -> Bool {
      if let known = vcnCovered[vcnName] { return known }
      let attributes = tenancy.vcn(named: vcnName)?.securityAttributes ?? []
      let answer = attributes.contains { Self.keys($0).contains(where: everyEndpointIn.contains) }
      vcnCovered[vcnName] = answer
      return answer
    }
    var result: [UnnamedEndpoint] = []
    for (resourceIndex, resource) in tenancy.resources.enumerated() {
      for (index, vnic) in resource.vnics.enumerated() {
        let carried = [resource.securityAttributes, vnic.securityAttributes].joined()
        guard carried.contains(where: { $0.mode == .enforce }),
          !carried.contains(where: isNamed), !isCovered(vnic.vcn)
        else { continue }
        let enforced = carried.filter { $0.mode == .enforce }
        result.append(
          UnnamedEndpoint(
            resourcePath: "resources[\(resourceIndex)]",
            message:
              "VNIC \(resource.name)/\(index) carries "
              + enforced.map { "\($0.qualifiedName):\($0.value)" }.joined(separator: ", ")
              + " in enforce mode but no statement names it, so it will be unreachable: write a "
              + "statement for it, or apply the attribute in audit mode"))
      }
    }
    return result
  }

  // MARK: Keys

  /// An applied attribute matches a reference to it with its value, or with no value.
  private static func keys(_ attribute: AppliedAttribute) -> [String] {
    let name =
      SecurityAttributeName.folded(attribute.namespace) + "."
      + SecurityAttributeName.folded(attribute.key)
    return [name, name + ":" + attribute.value]
  }

  /// The key a reference looks up (the default namespace filled in).
  private func key(_ reference: AttributeRef) -> String {
    let name =
      SecurityAttributeName.folded(reference.namespace ?? tenancy.defaultNamespace) + "."
      + SecurityAttributeName.folded(reference.key)
    return reference.value.map { name + ":" + $0 } ?? name
  }

  // MARK: The catalog

  private func catalogProblem(_ attribute: AttributeRef) -> Diagnostic? {
    let namespaceName = attribute.namespace ?? tenancy.defaultNamespace
    func didYouMean(_ guess: String?) -> String? { guess.map { "did you mean '\($0)'?" } }
    switch tenancy.catalog.lookup(
      namespace: namespaceName, key: attribute.key, value: attribute.value)
    {
    case .found:
      return nil
    case .unknownNamespace(let guess):
      return Diagnostic(
        .error, CatalogCode.unknownNamespace,
        "there is no namespace '\(namespaceName)'"
          + (attribute.namespace == nil
            ? " (the default namespace, used when none is written)" : "")
          + ": create it in the tenancy, or fix the name", at: attribute.range,
        suggestion: didYouMean(guess))
    case .unknownAttribute(let namespace, let guess):
      return Diagnostic(
        .error, CatalogCode.unknownAttribute,
        "namespace '\(namespace.name)' has no attribute '\(attribute.key)': create it, or fix the name",
        at: attribute.range, suggestion: didYouMean(guess))
    case .retired(let namespace, let definition):
      return Diagnostic(
        .warning, CatalogCode.retiredAttribute,
        "\(namespace.name).\(definition.name) is retired: it can no longer be applied, so this "
          + "statement matches less and less; reactivate it, or name another attribute",
        at: attribute.range)
    case .rejected(let namespace, let definition, let values, let guess):
      let allowed =
        values.map { ": use one of " + $0.map { "'\($0)'" }.joined(separator: ", ") } ?? ""
      return Diagnostic(
        .error, CatalogCode.rejectedValue,
        "'\(attribute.value ?? "")' is not a value of \(namespace.name).\(definition.name)\(allowed)",
        at: attribute.range, suggestion: didYouMean(guess))
    }
  }

  /// The attribute references of a statement, each marked as a VCN attribute or not.
  private static func attributes(of statement: Statement) -> [(AttributeRef, Bool)] {
    scopes(of: statement).map { ($0, true) }
      + [statement.source, statement.destination].compactMap { $0.attribute.map { ($0, false) } }
  }

  private static func scopes(of statement: Statement) -> [AttributeRef] {
    switch statement.scope {
    case .vcn(let vcn): [vcn]
    case .crossVCN(let source, let destination): [source, destination]
    }
  }
}
