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
    var diagnostics: [Diagnostic] = []
    for statement in statements {
      for (attribute, isVCN) in Self.attributes(of: statement) {
        if let problem = catalogProblem(attribute) {
          diagnostics.append(problem)
        } else if isVCN, !vcns.contains(where: { carries($0.securityAttributes, attribute) }) {
          diagnostics.append(
            Diagnostic(
              .warning, CatalogCode.noSuchVCN,
              "no VCN carries \(Self.text(attribute)), so this statement applies nowhere: apply it "
                + "to a VCN, or fix the statement", at: attribute.range))
        } else if !isVCN, !endpoints.contains(where: { carries($0.attributes, attribute) }) {
          diagnostics.append(
            Diagnostic(
              .warning, CatalogCode.matchesNothing,
              "no resource or VNIC carries \(Self.text(attribute)), so this endpoint matches "
                + "nothing: apply it, or fix the statement", at: attribute.range))
        }
      }
    }
    return diagnostics
  }

  /// The protected endpoints that none of the statements names: ZPR makes them unreachable.
  public func unnamedEndpoints(given statements: [Statement]) -> [UnnamedEndpoint] {
    var result: [UnnamedEndpoint] = []
    for endpoint in endpoints where endpoint.attributes.contains(where: { $0.mode == .enforce }) {
      let vcnAttributes = vcn(named: endpoint.vnic.vcn)?.securityAttributes ?? []
      let named = statements.contains { statement in
        [statement.source, statement.destination].contains { side in
          switch side.kind {
          case .attribute(let attribute): carries(endpoint.attributes, attribute)
          case .allEndpoints: Self.scopes(of: statement).contains { carries(vcnAttributes, $0) }
          case .address, .serviceNetwork: false
          }
        }
      }
      if !named {
        let label = "\(endpoint.resource.name)/\(endpoint.index)"
        result.append(
          UnnamedEndpoint(
            resourcePath: "resources[\(endpoint.resourceIndex)]",
            message:
              "VNIC \(label) carries \(endpoint.attributes.filter { $0.mode == .enforce }.map { "\($0.qualifiedName):\($0.value)" }.joined(separator: ", ")) "
              + "in enforce mode but no statement names it, so it will be unreachable: write a "
              + "statement for it, or apply the attribute in audit mode"))
      }
    }
    return result
  }

  // MARK: Helpers

  /// Every VNIC with the attributes it carries (its resource's and its own).
  var endpoints:
    [(
      resource: Resource, resourceIndex: Int, index: Int, vnic: VNIC, attributes: [AppliedAttribute]
    )]
  {
    resources.enumerated().flatMap { resourceIndex, resource in
      resource.vnics.enumerated().map { index, vnic in
        (
          resource, resourceIndex, index, vnic,
          resource.securityAttributes + vnic.securityAttributes
        )
      }
    }
  }

  /// Whether any of the applied attributes matches a reference (a bare reference matches any
  /// value).
  func carries(_ applied: [AppliedAttribute], _ reference: AttributeRef) -> Bool {
    let namespace = reference.namespace ?? defaultNamespace
    return applied.contains {
      SecurityAttributeName.same($0.namespace, namespace)
        && SecurityAttributeName.same($0.key, reference.key)
        && (reference.value == nil || reference.value == $0.value)
    }
  }

  private func catalogProblem(_ attribute: AttributeRef) -> Diagnostic? {
    let namespaceName = attribute.namespace ?? defaultNamespace
    guard let namespace = catalog.namespace(named: namespaceName) else {
      let guess = Suggestions.closest(
        to: namespaceName, among: catalog.namespaces.filter(\.state.isLive).map(\.name))
      return Diagnostic(
        .error, CatalogCode.unknownNamespace,
        "there is no namespace '\(namespaceName)'"
          + (attribute.namespace == nil
            ? " (the default namespace, used when none is written)" : "")
          + ": create it in the tenancy, or fix the name", at: attribute.range,
        suggestion: guess.map { "did you mean '\($0)'?" })
    }
    guard let definition = namespace.attribute(named: attribute.key) else {
      let guess = Suggestions.closest(
        to: attribute.key, among: namespace.attributes.filter(\.state.isLive).map(\.name))
      return Diagnostic(
        .error, CatalogCode.unknownAttribute,
        "namespace '\(namespace.name)' has no attribute '\(attribute.key)': create it, or fix the name",
        at: attribute.range, suggestion: guess.map { "did you mean '\($0)'?" })
    }
    if definition.state != .active || namespace.state != .active {
      return Diagnostic(
        .warning, CatalogCode.retiredAttribute,
        "\(namespace.name).\(definition.name) is retired: it can no longer be applied, so this "
          + "statement matches less and less; reactivate it, or name another attribute",
        at: attribute.range)
    }
    if let value = attribute.value, !definition.validator.accepts(value) {
      var suggestion: String?
      var allowed = ""
      if case .oneOf(let values) = definition.validator {
        suggestion = Suggestions.closest(to: value, among: values).map { "did you mean '\($0)'?" }
        allowed = ": use one of " + values.map { "'\($0)'" }.joined(separator: ", ")
      }
      return Diagnostic(
        .error, CatalogCode.rejectedValue,
        "'\(value)' is not a value of \(namespace.name).\(definition.name)\(allowed)",
        at: attribute.range,
        suggestion: suggestion)
    }
    return nil
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

  private static func text(_ attribute: AttributeRef) -> String {
    PolicyFormatter.format(attribute)
  }
}
