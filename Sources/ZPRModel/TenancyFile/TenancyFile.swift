import Yams
public import ZPRPolicy

/// The declarative tenancy file that users keep in git: YAML, or the same shape in JSON.
/// The keys are documented in docs/tenancy-file.md.
public enum TenancyFile {
  /// A loaded file: the tenancy as far as it could be read, and every problem found, in source
  /// order (the file's shape, the policies' statements, and the tenancy's consistency).
  public struct Loaded: Sendable {
    public var tenancy: Tenancy
    public var diagnostics: [Diagnostic]

    /// Whether any problem is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  }

  /// Reads and checks a tenancy file. `otherStatements` (from policy files checked with it)
  /// count when deciding whether a protected endpoint is named by any statement.
  public static func load(
    _ source: SourceFile, limits: ZPRLimits = .standard, otherStatements: [Statement] = []
  ) -> Loaded {
    var loader = TenancyLoader(source: source, limits: limits)
    loader.otherStatements = otherStatements
    loader.load()
    return Loaded(tenancy: loader.tenancy, diagnostics: loader.reader.diagnostics.sortedBySource())
  }
}

/// Builds a ``Tenancy`` from the node tree, section by section.
private struct TenancyLoader {
  var reader: YAMLReader
  var tenancy: Tenancy
  /// For each resource, the file path it came from (`instances[2]`).
  var resourcePaths: [String] = []
  /// Statements from elsewhere that may name this tenancy's endpoints.
  var otherStatements: [Statement] = []

  static let resourceSections: [(key: String, kind: ResourceKind)] = [
    ("instances", .instance), ("databases", .database), ("loadBalancers", .loadBalancer),
    ("privateEndpoints", .privateEndpoint),
  ]

  init(source: SourceFile, limits: ZPRLimits) {
    reader = YAMLReader(source: source)
    tenancy = Tenancy(catalog: SecurityAttributeCatalog(limits: limits))
  }

  mutating func load() {
    let root: Node
    do {
      // The basic resolver leaves every scalar a string: the reader decides what a value means.
      guard let node = try Yams.compose(yaml: reader.source.text, .basic) else { return }
      root = node
    } catch let error as YamlError {
      reportSyntax(error)
      return
    } catch {
      reader.diagnostics.append(
        Diagnostic(
          .error, TenancyFileCode.invalidYAML, "cannot read the file: \(error)",
          at: SourceRange(0, 0)))
      return
    }
    let keys =
      [
        "defaultNamespace", "serviceNetwork", "namespaces", "compartments", "vcns", "drgs",
        "policies",
      ]
      + Self.resourceSections.map(\.key)
    guard let top = reader.mapping(root, path: "the tenancy file", keys: keys) else { return }
    if let name = reader.string(top["defaultNamespace"], path: "defaultNamespace") {
      tenancy.defaultNamespace = name
    }
    for (index, node) in reader.sequence(top["serviceNetwork"], path: "serviceNetwork").enumerated()
    {
      if let block = reader.prefix(node, path: "serviceNetwork[\(index)]") {
        tenancy.serviceNetwork.append(block)
      }
    }
    namespaces(top["namespaces"])
    compartments(top["compartments"])
    vcns(top["vcns"])
    drgs(top["drgs"])
    for (key, kind) in Self.resourceSections { resources(top[key], key: key, kind: kind) }
    policies(top["policies"])
    reportConsistency()
    reportUnnamedEndpoints()
  }

  // MARK: Sections

  private mutating func namespaces(_ node: Node?) {
    var retired: [(String, [String])] = []
    for (index, item) in reader.sequence(node, path: "namespaces").enumerated() {
      let path = "namespaces[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ["name", "description", "retired", "attributes"],
          required: ["name", "description"]),
        let name = reader.string(fields["name"], path: "\(path).name"),
        let description = reader.string(fields["description"], path: "\(path).description")
      else { continue }
      catalogChange(at: fields["name"]!, path: "\(path).name") { catalog throws(ModelError) in
        try catalog.createNamespace(name, description: description)
      }
      var retiredAttributes: [String] = []
      for (number, attributeNode) in reader.sequence(
        fields["attributes"], path: "\(path).attributes"
      )
      .enumerated() {
        let attributePath = "\(path).attributes[\(number)]"
        guard
          let attribute = reader.mapping(
            attributeNode, path: attributePath, keys: ["name", "description", "values", "retired"],
            required: ["name", "description"]),
          let attributeName = reader.string(attribute["name"], path: "\(attributePath).name"),
          let attributeDescription = reader.string(
            attribute["description"], path: "\(attributePath).description")
        else { continue }
        var validator = AttributeValidator.anyValue
        if let values = attribute["values"] {
          validator = .oneOf(
            reader.sequence(values, path: "\(attributePath).values").enumerated().compactMap {
              reader.string($0.element, path: "\(attributePath).values[\($0.offset)]")
            })
        }
        catalogChange(at: attribute["name"]!, path: "\(attributePath).name") {
          catalog throws(ModelError) in
          try catalog.createAttribute(
            attributeName, in: name, description: attributeDescription, validator: validator)
        }
        if reader.bool(attribute["retired"], path: "\(attributePath).retired") == true {
          retiredAttributes.append(attributeName)
        }
      }
      let namespaceRetired = reader.bool(fields["retired"], path: "\(path).retired") == true
      retired.append((namespaceRetired ? name : "", retiredAttributes.map { "\(name).\($0)" }))
    }
    // As "Enable ZPR" would: the default namespace exists, with its example attribute.
    if tenancy.catalog.namespace(named: tenancy.defaultNamespace) == nil {
      try? tenancy.catalog.enableZPR(defaultNamespace: tenancy.defaultNamespace)
    }
    for (namespace, attributes) in retired {
      for qualified in attributes {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        try? tenancy.catalog.retireAttribute(parts[1], in: parts[0])
      }
      if !namespace.isEmpty { try? tenancy.catalog.retireNamespace(namespace) }
    }
  }

  private mutating func compartments(_ node: Node?) {
    for (index, item) in reader.sequence(node, path: "compartments").enumerated() {
      let path = "compartments[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ["name", "parent"], required: ["name"]),
        let name = reader.string(fields["name"], path: "\(path).name")
      else { continue }
      record(path, item, fields, ["name", "parent"])
      tenancy.compartments.append(
        Compartment(name: name, parent: reader.string(fields["parent"], path: "\(path).parent")))
    }
  }

  private mutating func vcns(_ node: Node?) {
    let keys = [
      "name", "compartment", "cidrs", "securityAttributes", "routeTables", "localPeeringGateways",
      "securityLists", "networkSecurityGroups", "subnets",
    ]
    for (index, item) in reader.sequence(node, path: "vcns").enumerated() {
      let path = "vcns[\(index)]"
      guard
        let fields = reader.mapping(item, path: path, keys: keys, required: ["name"]),
        let name = reader.string(fields["name"], path: "\(path).name")
      else { continue }
      record(path, item, fields, ["name", "compartment", "cidrs", "securityAttributes"])
      var vcn = VCN(name: name, cidrs: [])
      vcn.compartment = reader.string(fields["compartment"], path: "\(path).compartment")
      for (number, block) in reader.sequence(fields["cidrs"], path: "\(path).cidrs").enumerated() {
        reader.record("\(path).cidrs[\(number)]", block, filePath: "\(path).cidrs[\(number)]")
        if let prefix = reader.prefix(block, path: "\(path).cidrs[\(number)]") {
          vcn.cidrs.append(prefix)
        }
      }
      vcn.securityAttributes = securityAttributes(
        fields["securityAttributes"], path: "\(path).securityAttributes")
      vcn.routeTables = routeTables(fields["routeTables"], path: "\(path).routeTables")
      vcn.localPeeringGateways = peeringGateways(
        fields["localPeeringGateways"], path: "\(path).localPeeringGateways")
      vcn.securityLists = ruleSets(fields["securityLists"], path: "\(path).securityLists").map {
        SecurityList(name: $0.name, ingress: $0.ingress, egress: $0.egress)
      }
      vcn.networkSecurityGroups = ruleSets(
        fields["networkSecurityGroups"], path: "\(path).networkSecurityGroups", allowGroups: true
      ).map { NetworkSecurityGroup(name: $0.name, ingress: $0.ingress, egress: $0.egress) }
      vcn.subnets = subnets(fields["subnets"], path: "\(path).subnets")
      tenancy.vcns.append(vcn)
    }
  }

  private mutating func subnets(_ node: Node?, path: String) -> [Subnet] {
    reader.sequence(node, path: path).enumerated().compactMap { index, item in
      let subnetPath = "\(path)[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: subnetPath, keys: ["name", "cidr", "routeTable", "securityLists"],
          required: ["name", "cidr"]),
        let name = reader.string(fields["name"], path: "\(subnetPath).name"),
        let cidr = reader.prefix(fields["cidr"], path: "\(subnetPath).cidr")
      else { return nil }
      record(subnetPath, item, fields, ["name", "cidr", "routeTable"])
      let lists = reader.sequence(fields["securityLists"], path: "\(subnetPath).securityLists")
      for (number, list) in lists.enumerated() {
        reader.record(
          "\(subnetPath).securityLists[\(number)]", list,
          filePath: "\(subnetPath).securityLists[\(number)]")
      }
      return Subnet(
        name: name, cidr: cidr,
        routeTable: reader.string(fields["routeTable"], path: "\(subnetPath).routeTable"),
        securityLists: lists.enumerated().compactMap {
          reader.string($0.element, path: "\(subnetPath).securityLists[\($0.offset)]")
        })
    }
  }

  private mutating func routeTables(_ node: Node?, path: String) -> [RouteTable] {
    reader.sequence(node, path: path).enumerated().compactMap { index, item in
      let tablePath = "\(path)[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: tablePath, keys: ["name", "rules"], required: ["name"]),
        let name = reader.string(fields["name"], path: "\(tablePath).name")
      else { return nil }
      record(tablePath, item, fields, ["name"])
      let rules = reader.sequence(fields["rules"], path: "\(tablePath).rules").enumerated()
        .compactMap { number, ruleNode -> RouteRule? in
          let rulePath = "\(tablePath).rules[\(number)]"
          guard
            let rule = reader.mapping(
              ruleNode, path: rulePath, keys: ["destination", "target"],
              required: ["destination", "target"]),
            let destination = reader.prefix(rule["destination"], path: "\(rulePath).destination"),
            let target = routeTarget(rule["target"]!, path: "\(rulePath).target")
          else { return nil }
          record(rulePath, ruleNode, rule, ["destination", "target"])
          return RouteRule(destination: destination, target: target)
        }
      return RouteTable(name: name, rules: rules)
    }
  }

  private mutating func routeTarget(_ node: Node, path: String) -> RouteTarget? {
    guard let text = reader.string(node, path: path) else { return nil }
    let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
    switch (parts.first ?? "", parts.count) {
    case ("local", 1): return .local
    case ("internet", 1): return .internetGateway
    case ("nat", 1): return .natGateway
    case ("service", 1): return .serviceGateway
    case ("lpg", 2): return .localPeeringGateway(parts[1])
    case ("drg", 2): return .drg(parts[1])
    default:
      reader.error(
        TenancyFileCode.invalidValue,
        "\(path): '\(text)' is not a route target: write local, internet, nat, service, "
          + "lpg/NAME or drg/NAME", at: node, path: path)
      return nil
    }
  }

  private mutating func peeringGateways(_ node: Node?, path: String) -> [LocalPeeringGateway] {
    reader.sequence(node, path: path).enumerated().compactMap { index, item in
      let gatewayPath = "\(path)[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: gatewayPath, keys: ["name", "peer"], required: ["name"]),
        let name = reader.string(fields["name"], path: "\(gatewayPath).name")
      else { return nil }
      record(gatewayPath, item, fields, ["name", "peer"])
      guard let peerNode = fields["peer"],
        let peer = reader.string(peerNode, path: "\(gatewayPath).peer")
      else { return LocalPeeringGateway(name: name) }
      let parts = peer.split(separator: "/").map(String.init)
      guard parts.count == 2 else {
        reader.error(
          TenancyFileCode.invalidValue,
          "\(gatewayPath).peer: write the peer as VCN/GATEWAY, not '\(peer)'",
          at: peerNode, path: "\(gatewayPath).peer")
        return LocalPeeringGateway(name: name)
      }
      return LocalPeeringGateway(name: name, peer: (parts[0], parts[1]))
    }
  }

  private mutating func ruleSets(_ node: Node?, path: String, allowGroups: Bool = false) -> [(
    name: String, ingress: [SecurityRule], egress: [SecurityRule]
  )] {
    reader.sequence(node, path: path).enumerated().compactMap { index, item in
      let setPath = "\(path)[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: setPath, keys: ["name", "ingress", "egress"], required: ["name"]),
        let name = reader.string(fields["name"], path: "\(setPath).name")
      else { return nil }
      record(setPath, item, fields, ["name"])
      return (
        name, rules(fields["ingress"], path: "\(setPath).ingress", peerKey: "source"),
        rules(fields["egress"], path: "\(setPath).egress", peerKey: "destination")
      )
    }
  }

  private mutating func rules(_ node: Node?, path: String, peerKey: String) -> [SecurityRule] {
    let keys = ["protocol", peerKey, "ports", "sourcePorts", "icmpType", "icmpCode", "stateless"]
    return reader.sequence(node, path: path).enumerated().compactMap { index, item in
      let rulePath = "\(path)[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: rulePath, keys: keys, required: ["protocol", peerKey])
      else { return nil }
      reader.record(rulePath, item, filePath: rulePath)
      for (key, modelKey) in [("ports", "destinationPorts"), ("sourcePorts", "sourcePorts")] {
        if let value = fields[key] {
          reader.record("\(rulePath).\(modelKey)", value, filePath: "\(rulePath).\(key)")
        }
      }
      guard let protocolText = reader.string(fields["protocol"], path: "\(rulePath).protocol"),
        let peerText = reader.string(fields[peerKey], path: "\(rulePath).\(peerKey)")
      else { return nil }
      guard let transport = RuleProtocol(rawValue: protocolText.lowercased()) else {
        reader.error(
          TenancyFileCode.invalidValue,
          "\(rulePath).protocol: '\(protocolText)' is not all, tcp, udp or icmp",
          at: fields["protocol"]!, path: "\(rulePath).protocol",
          suggestion: Suggestions.closest(
            to: protocolText, among: RuleProtocol.allCases.map(\.rawValue)
          )
          .map { "did you mean '\($0)'?" })
        return nil
      }
      let peer: RulePeer
      if peerText.hasPrefix("nsg/") {
        peer = .networkSecurityGroup(String(peerText.dropFirst(4)))
      } else if let block = reader.prefix(fields[peerKey], path: "\(rulePath).\(peerKey)") {
        peer = .cidr(block)
      } else {
        return nil
      }
      func number(_ key: String) -> Int? {
        guard let text = reader.string(fields[key], path: "\(rulePath).\(key)") else { return nil }
        guard let value = Int(text) else {
          reader.error(
            TenancyFileCode.invalidValue, "\(rulePath).\(key) must be a number, not '\(text)'",
            at: fields[key]!,
            path: "\(rulePath).\(key)")
          return nil
        }
        return value
      }
      return SecurityRule(
        stateless: reader.bool(fields["stateless"], path: "\(rulePath).stateless") ?? false,
        transport: transport, peer: peer,
        destinationPorts: reader.ports(fields["ports"], path: "\(rulePath).ports"),
        sourcePorts: reader.ports(fields["sourcePorts"], path: "\(rulePath).sourcePorts"),
        icmpType: number("icmpType"), icmpCode: number("icmpCode"))
    }
  }

  private mutating func drgs(_ node: Node?) {
    for (index, item) in reader.sequence(node, path: "drgs").enumerated() {
      let path = "drgs[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ["name", "attachments"], required: ["name"]),
        let name = reader.string(fields["name"], path: "\(path).name")
      else { continue }
      record(path, item, fields, ["name"])
      let attachments = reader.sequence(fields["attachments"], path: "\(path).attachments")
      for (number, attachment) in attachments.enumerated() {
        reader.record(
          "\(path).attachments[\(number)]", attachment, filePath: "\(path).attachments[\(number)]")
      }
      tenancy.drgs.append(
        DynamicRoutingGateway(
          name: name,
          attachments: attachments.enumerated().compactMap {
            reader.string($0.element, path: "\(path).attachments[\($0.offset)]")
          }))
    }
  }

  private mutating func resources(_ node: Node?, key: String, kind: ResourceKind) {
    for (index, item) in reader.sequence(node, path: key).enumerated() {
      let path = "\(key)[\(index)]"
      let modelPath = "resources[\(tenancy.resources.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ["name", "compartment", "securityAttributes", "vnics"],
          required: ["name"]),
        let name = reader.string(fields["name"], path: "\(path).name")
      else { continue }
      reader.record(modelPath, item, filePath: path)
      for field in ["name", "compartment", "securityAttributes", "vnics"] {
        if let value = fields[field] {
          reader.record("\(modelPath).\(field)", value, filePath: "\(path).\(field)")
        }
      }
      var vnics: [VNIC] = []
      for (number, vnicNode) in reader.sequence(fields["vnics"], path: "\(path).vnics").enumerated()
      {
        if let vnic = vnic(
          vnicNode, path: "\(path).vnics[\(number)]", modelPath: "\(modelPath).vnics[\(number)]")
        {
          vnics.append(vnic)
        }
      }
      tenancy.resources.append(
        Resource(
          name: name, kind: kind,
          compartment: reader.string(fields["compartment"], path: "\(path).compartment"),
          securityAttributes: securityAttributes(
            fields["securityAttributes"], path: "\(path).securityAttributes"),
          vnics: vnics))
      resourcePaths.append(path)
    }
  }

  private mutating func vnic(_ node: Node, path: String, modelPath: String) -> VNIC? {
    guard
      let fields = reader.mapping(
        node, path: path, keys: ["subnet", "ip", "ips", "nsgs", "securityAttributes"],
        required: ["subnet"]),
      let subnet = reader.string(fields["subnet"], path: "\(path).subnet")
    else { return nil }
    reader.record(modelPath, node, filePath: path)
    reader.record("\(modelPath).subnet", fields["subnet"]!, filePath: "\(path).subnet")
    let parts = subnet.split(separator: "/").map(String.init)
    guard parts.count == 2 else {
      reader.error(
        TenancyFileCode.invalidValue,
        "\(path).subnet: write the subnet as VCN/SUBNET, not '\(subnet)'",
        at: fields["subnet"]!, path: "\(path).subnet")
      return nil
    }
    var ips: [IPAddress] = []
    var ipNodes: [(Node, String)] = fields["ip"].map { [($0, "\(path).ip")] } ?? []
    ipNodes += reader.sequence(fields["ips"], path: "\(path).ips").enumerated().map {
      ($0.element, "\(path).ips[\($0.offset)]")
    }
    for (ipNode, ipPath) in ipNodes {
      reader.record("\(modelPath).ips[\(ips.count)]", ipNode, filePath: ipPath)
      if let ip = reader.address(ipNode, path: ipPath) { ips.append(ip) }
    }
    if let ipsNode = fields["ip"] ?? fields["ips"] {
      reader.record(
        "\(modelPath).ips", ipsNode, filePath: fields["ip"] != nil ? "\(path).ip" : "\(path).ips")
    }
    let groups = reader.sequence(fields["nsgs"], path: "\(path).nsgs")
    for (number, group) in groups.enumerated() {
      reader.record(
        "\(modelPath).networkSecurityGroups[\(number)]", group, filePath: "\(path).nsgs[\(number)]")
    }
    if let attributes = fields["securityAttributes"] {
      reader.record(
        "\(modelPath).securityAttributes", attributes, filePath: "\(path).securityAttributes")
    }
    return VNIC(
      vcn: parts[0], subnet: parts[1], ips: ips,
      networkSecurityGroups: groups.enumerated().compactMap {
        reader.string($0.element, path: "\(path).nsgs[\($0.offset)]")
      },
      securityAttributes: securityAttributes(
        fields["securityAttributes"], path: "\(path).securityAttributes"))
  }

  /// `{"ns.attr": value}` or `{"ns.attr": {value: v, mode: audit}}`; no namespace means the
  /// default one.
  private mutating func securityAttributes(_ node: Node?, path: String) -> [AppliedAttribute] {
    guard let node else { return [] }
    guard case .mapping(let mapping) = node else {
      reader.error(
        TenancyFileCode.wrongType,
        "\(path) must map attribute names to values, like {app.tier: web}", at: node,
        path: path)
      return []
    }
    var applied: [AppliedAttribute] = []
    for (keyNode, valueNode) in mapping {
      guard let key = reader.string(keyNode, path: path) else { continue }
      let entryPath = "\(path).\(key)"
      let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
      let (namespace, name) =
        parts.count == 2 ? (parts[0], parts[1]) : (tenancy.defaultNamespace, key)
      var value: String?
      var mode = AttributeMode.enforce
      if case .mapping = valueNode {
        guard
          let fields = reader.mapping(
            valueNode, path: entryPath, keys: ["value", "mode"], required: ["value"])
        else { continue }
        value = reader.string(fields["value"], path: "\(entryPath).value")
        if let modeText = reader.string(fields["mode"], path: "\(entryPath).mode") {
          guard let parsed = AttributeMode(rawValue: modeText.lowercased()) else {
            reader.error(
              TenancyFileCode.invalidValue,
              "\(entryPath).mode must be enforce or audit, not '\(modeText)'",
              at: fields["mode"]!, path: "\(entryPath).mode")
            continue
          }
          mode = parsed
        }
      } else {
        value = reader.string(valueNode, path: entryPath)
      }
      if let value {
        applied.append(AppliedAttribute(namespace: namespace, key: name, value: value, mode: mode))
      }
    }
    return applied
  }

  private mutating func policies(_ node: Node?) {
    let catalogCheck = PolicyCatalogCheck(tenancy)
    for (index, item) in reader.sequence(node, path: "policies").enumerated() {
      let path = "policies[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ["name", "description", "statements"],
          required: ["name", "description", "statements"]),
        let name = reader.string(fields["name"], path: "\(path).name"),
        let description = reader.string(fields["description"], path: "\(path).description")
      else { continue }
      record(path, item, fields, ["name", "statements"])
      var statements: [Statement] = []
      for (number, statementNode) in reader.sequence(
        fields["statements"], path: "\(path).statements"
      )
      .enumerated() {
        let statementPath = "\(path).statements[\(number)]"
        guard let text = reader.string(statementNode, path: statementPath) else { continue }
        let (statement, parsed) = PolicyParser().parseStatement(text)
        // Statement diagnostics, and those of the catalog, are placed inside the statement.
        let start = reader.range(of: statementNode).lowerBound
        let shift = start + (quoted(statementNode) ? 1 : 0)
        let diagnostics = parsed + (statement.map { catalogCheck.diagnostics(for: [$0]) } ?? [])
        for var diagnostic in diagnostics {
          let length = diagnostic.range.upperBound - diagnostic.range.lowerBound
          let lower = min(shift + diagnostic.range.lowerBound, reader.source.bytes.count)
          diagnostic.range = SourceRange(lower, min(lower + length, reader.source.bytes.count))
          diagnostic.path = statementPath
          reader.diagnostics.append(diagnostic)
        }
        if let statement { statements.append(statement) }
      }
      tenancy.policies.append(Policy(name: name, description: description, statements: statements))
    }
  }

  // MARK: Helpers

  private func quoted(_ node: Node) -> Bool {
    guard case .scalar(let scalar) = node else { return false }
    return scalar.style == .singleQuoted || scalar.style == .doubleQuoted
  }

  /// Records the element at `path` (its mapping) and the given fields, model and file paths
  /// being the same.
  private mutating func record(
    _ path: String, _ node: Node, _ fields: [String: Node], _ keys: [String]
  ) {
    reader.record(path, node, filePath: path)
    for key in keys {
      if let value = fields[key] {
        reader.record("\(path).\(key)", value, filePath: "\(path).\(key)")
      }
    }
  }

  /// Runs a catalog operation the file implies; a refusal becomes a diagnostic at `node`.
  private mutating func catalogChange(
    at node: Node, path: String, _ body: (inout SecurityAttributeCatalog) throws(ModelError) -> Void
  ) {
    do {
      try tenancy.catalog.change(body)
    } catch {
      reader.error(TenancyFileCode.invalidCatalog, error.message, at: node, path: path)
    }
  }

  private mutating func reportSyntax(_ error: YamlError) {
    var mark: Mark?
    var problem = "\(error)"
    switch error {
    case .scanner(_, let text, let position, _), .parser(_, let text, let position, _),
      .composer(_, let text, let position, _):
      mark = position
      problem = text
    case .duplicatedKeysInMapping(let duplicates, let context):
      mark = context.mark
      problem = "a mapping repeats \(duplicates.map { "'\($0)'" }.joined(separator: ", "))"
    default:
      break
    }
    let offset =
      mark.map { reader.source.offset(of: SourceLocation(line: $0.line, column: $0.column)) } ?? 0
    reader.diagnostics.append(
      Diagnostic(
        .error, TenancyFileCode.invalidYAML,
        "this is not valid YAML (\(problem)): check the indentation and quoting here",
        at: SourceRange(offset, offset)))
  }

  /// Places the tenancy's consistency issues at the element they name (or its nearest
  /// recorded ancestor), with the path as the file writes it.
  private mutating func reportConsistency() {
    for issue in tenancy.consistencyIssues() {
      var modelPath = issue.path
      var location = reader.locations[modelPath]
      while location == nil, let cut = modelPath.lastIndex(where: { $0 == "." || $0 == "[" }) {
        modelPath = String(modelPath[..<cut])
        location = reader.locations[modelPath]
      }
      reader.diagnostics.append(
        Diagnostic(
          issue.severity, issue.code.diagnosticCode, issue.message,
          at: location?.range ?? SourceRange(0, 0), path: filePath(for: issue.path)))
    }
  }

  /// Warns, at the resource, about protected endpoints that no statement names.
  private mutating func reportUnnamedEndpoints() {
    let statements = tenancy.policies.flatMap(\.statements) + otherStatements
    for unnamed in tenancy.unnamedEndpoints(given: statements) {
      let range = reader.locations[unnamed.resourcePath]?.range ?? SourceRange(0, 0)
      reader.diagnostics.append(
        Diagnostic(
          .warning, CatalogCode.unreachable, unnamed.message, at: range,
          path: filePath(for: unnamed.resourcePath)))
    }
  }

  /// The file's path for a model path: `resources[3]` becomes `databases[0]`, and so on.
  private func filePath(for modelPath: String) -> String {
    if let location = reader.locations[modelPath] { return location.filePath }
    guard modelPath.hasPrefix("resources["), let close = modelPath.firstIndex(of: "]"),
      let index = Int(modelPath[modelPath.index(modelPath.startIndex, offsetBy: 10)..<close]),
      index < resourcePaths.count
    else { return modelPath }
    return resourcePaths[index] + modelPath[modelPath.index(after: close)...]
  }
}
