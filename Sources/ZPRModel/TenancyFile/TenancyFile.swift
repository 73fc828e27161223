import Yams
import ZPRIAM
public import ZPRPolicy

/// The declarative tenancy file that users keep in git: YAML, or the same shape in JSON.
/// The keys are documented in docs/tenancy-file.md.
public enum TenancyFile {
  /// The file's resource sections, in the order they are read and written.
  static let resourceSections: [(key: String, kind: ResourceKind)] = [
    ("instances", .instance), ("databases", .database), ("loadBalancers", .loadBalancer),
    ("privateEndpoints", .privateEndpoint),
  ]

  /// A loaded file: the tenancy as far as it could be read, and every problem found, in source
  /// order (the file's shape, the policies' statements, and the tenancy's consistency).
  public struct Loaded: Sendable {
    public var tenancy: Tenancy
    public var diagnostics: [Diagnostic]
    /// The top-level keys the file holds (`apply` leaves what an absent section is about alone,
    /// for the sections that may be absent: `groups`, `iamPolicies`).
    public var sections: Set<String> = []

    /// Whether any problem is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  }

  /// Reads and checks a tenancy file. `otherStatements` (from policy files checked with it)
  /// count when deciding whether a protected endpoint is named by any statement.
  ///
  /// Hostile input is bounded: a document nested deeper than ``ZPRLimits/maxNestingDepth`` or
  /// whose aliases add more than ``ZPRLimits/maxAliasNodes`` nodes is refused unread (ZPT106,
  /// ZPT107), policy statements longer than ``ZPRLimits/maxStatementLength`` are not parsed
  /// (ZPL003; IAM statements are held to `IAMLimits`), and at most ``ZPRLimits/diagnosticsPerFile`` diagnostics are returned, the last one saying
  /// how many more there were (ZPT108).
  public static func load(
    _ source: SourceFile, limits: ZPRLimits = .standard, otherStatements: [Statement] = []
  ) -> Loaded {
    load(source, limits: limits, otherStatements: otherStatements, shapeOnly: false)
  }

  /// Reads a file; with `shapeOnly`, only its shape (keys, types, values, statements' syntax):
  /// nothing that relates one element to another (consistency, the catalog) is checked.
  static func load(
    _ source: SourceFile, limits: ZPRLimits, otherStatements: [Statement], shapeOnly: Bool
  ) -> Loaded {
    var loader = TenancyLoader(source: source, limits: limits)
    loader.otherStatements = otherStatements
    loader.shapeOnly = shapeOnly
    loader.load()
    let end = SourceRange(source.bytes.count, source.bytes.count)
    return Loaded(
      tenancy: loader.tenancy,
      diagnostics: loader.reader.diagnostics.sortedBySource().capped(
        at: limits.diagnosticsPerFile, in: "this file", code: TenancyFileCode.moreDiagnostics,
        at: end),
      sections: loader.sections)
  }
}

/// Builds a ``Tenancy`` from the node tree, section by section.
private struct TenancyLoader {
  var reader: YAMLReader
  var tenancy: Tenancy
  /// For each resource, where it and its parts were written.
  var resourceOrigins: [ResourceOrigin] = []
  /// Statements from elsewhere that may name this tenancy's endpoints.
  var otherStatements: [Statement] = []
  /// The `defaultNamespace` value, for placing a problem with it.
  var defaultNamespaceNode: YAMLNode?
  /// The catalog check of the policies, kept for the endpoints no statement names.
  var catalogCheck: PolicyCatalogCheck?
  /// Policies whose statement limit the loader reported (counting statements as written).
  var reportedLimits: Set<String> = []
  /// The top-level keys present.
  var sections: Set<String> = []
  /// Read the shape alone: no consistency and no catalog checks.
  var shapeOnly = false
  let limits: ZPRLimits

  init(source: SourceFile, limits: ZPRLimits) {
    reader = YAMLReader(source: source)
    tenancy = Tenancy(catalog: SecurityAttributeCatalog(limits: limits))
    self.limits = limits
  }

  mutating func load() {
    let root: YAMLNode
    do {
      // A document nested too deep is refused before any parser reads it.
      if let refusal = YAMLPreScan.check(reader.source.bytes, maxDepth: limits.maxNestingDepth) {
        throw refusal
      }
      // Scalars stay strings: the reader decides what a value means.
      guard let node = try YAMLDocument.read(reader.source, limits: limits) else {
        ensureDefaultNamespace()
        return
      }
      root = node
    } catch let refusal as YAMLRefusal {
      reader.diagnostics.append(refusal.diagnostic)
      ensureDefaultNamespace()
      return
    } catch let error as YamlError {
      reportSyntax(error)
      ensureDefaultNamespace()
      return
    } catch {
      reader.diagnostics.append(
        Diagnostic(
          .error, TenancyFileCode.invalidYAML, "cannot read the file: \(error)",
          at: SourceRange(0, 0)))
      return
    }
    let keys =
      ["defaultNamespace", "serviceNetwork"]
      + ResourceSchema.all.filter { $0.parent == nil }.map(\.section)
    guard let top = reader.mapping(root, path: "the tenancy file", keys: keys) else {
      ensureDefaultNamespace()
      return
    }
    sections = Set(keys.filter { top[$0] != nil })
    defaultNamespaceNode = top["defaultNamespace"]
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
    for (key, kind) in TenancyFile.resourceSections { resources(top[key], key: key, kind: kind) }
    policies(top["policies"])
    tests(top["tests"])
    groups(top["groups"])
    iamPolicies(top["iamPolicies"])
    guard !shapeOnly else { return }
    reportConsistency()
    reportUnnamedEndpoints()
  }

  // MARK: Sections
  //
  // Each element has two paths: its place in the file (`vcns[3]`), for messages, and its place
  // in the model built so far (`vcns[2]` when an earlier one could not be read), which the
  // consistency rules report. Locations are recorded under the model path.

  private mutating func namespaces(_ node: YAMLNode?) {
    var retired: [(namespace: String?, attributes: [String])] = []
    for (index, item) in reader.sequence(node, path: "namespaces").enumerated() {
      let path = "namespaces[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.namespace.fileKeys,
          required: ["name", "description"]),
        let name = reader.required(fields["name"], path: "\(path).name"),
        let description = reader.required(fields["description"], path: "\(path).description")
      else { continue }
      // A namespace that cannot be created takes its attributes with it.
      guard
        catalogChange(
          at: fields, path: path,
          { catalog throws(ModelError) in
            try catalog.createNamespace(name, description: description)
          })
      else { continue }
      var retiredAttributes: [String] = []
      for (number, attributeNode) in reader.sequence(
        fields["attributes"], path: "\(path).attributes"
      )
      .enumerated() {
        let attributePath = "\(path).attributes[\(number)]"
        guard
          let attribute = reader.mapping(
            attributeNode, path: attributePath, keys: ResourceSchema.attribute.fileKeys,
            required: ["name", "description"]),
          let attributeName = reader.required(attribute["name"], path: "\(attributePath).name"),
          let attributeDescription = reader.required(
            attribute["description"], path: "\(attributePath).description")
        else { continue }
        var validator = AttributeValidator.anyValue
        if let values = attribute["values"] {
          let items = reader.sequence(values, path: "\(attributePath).values")
          let texts = items.enumerated().compactMap {
            reader.required($0.element, path: "\(attributePath).values[\($0.offset)]")
          }
          guard texts.count == items.count else { continue }
          validator = .oneOf(texts)
        }
        let created = catalogChange(at: attribute, path: attributePath) {
          catalog throws(ModelError) in
          try catalog.createAttribute(
            attributeName, in: name, description: attributeDescription, validator: validator)
        }
        if created, reader.bool(attribute["retired"], path: "\(attributePath).retired") == true {
          retiredAttributes.append(attributeName)
        }
      }
      let namespaceRetired = reader.bool(fields["retired"], path: "\(path).retired") == true
      retired.append((namespaceRetired ? name : nil, retiredAttributes.map { "\(name).\($0)" }))
    }
    ensureDefaultNamespace()
    for (namespace, attributes) in retired {
      for qualified in attributes {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        try? tenancy.catalog.retireAttribute(parts[1], in: parts[0])
      }
      if let namespace { try? tenancy.catalog.retireNamespace(namespace) }
    }
  }

  /// As "Enable ZPR" would: the default namespace exists, with its example attribute.
  private mutating func ensureDefaultNamespace() {
    guard tenancy.catalog.namespace(named: tenancy.defaultNamespace) == nil else { return }
    do {
      try tenancy.catalog.enableZPR(defaultNamespace: tenancy.defaultNamespace)
    } catch {
      let node = defaultNamespaceNode ?? YAMLNode.missing
      reader.error(
        TenancyFileCode.invalidCatalog, "defaultNamespace: \(error.message)", at: node,
        path: "defaultNamespace")
    }
  }

  private mutating func compartments(_ node: YAMLNode?) {
    for (index, item) in reader.sequence(node, path: "compartments").enumerated() {
      let path = "compartments[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.compartment.fileKeys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(
        model: "compartments[\(tenancy.compartments.count)]", file: path, item, fields,
        ["name", "parent"])
      tenancy.compartments.append(
        Compartment(name: name, parent: reader.string(fields["parent"], path: "\(path).parent")))
    }
  }

  private mutating func vcns(_ node: YAMLNode?) {
    let keys = ResourceSchema.vcn.fileKeys
    for (index, item) in reader.sequence(node, path: "vcns").enumerated() {
      let path = "vcns[\(index)]"
      let model = "vcns[\(tenancy.vcns.count)]"
      guard
        let fields = reader.mapping(item, path: path, keys: keys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(
        model: model, file: path, item, fields,
        ["name", "compartment", "cidrs", "securityAttributes"])
      var vcn = VCN(name: name, cidrs: [])
      vcn.compartment = reader.string(fields["compartment"], path: "\(path).compartment")
      for (number, block) in reader.sequence(fields["cidrs"], path: "\(path).cidrs").enumerated() {
        reader.record(
          "\(model).cidrs[\(vcn.cidrs.count)]", block, filePath: "\(path).cidrs[\(number)]")
        if let prefix = reader.prefix(block, path: "\(path).cidrs[\(number)]") {
          vcn.cidrs.append(prefix)
        }
      }
      vcn.securityAttributes = securityAttributes(
        fields["securityAttributes"], path: "\(path).securityAttributes")
      vcn.routeTables = routeTables(
        fields["routeTables"], file: "\(path).routeTables", model: "\(model).routeTables")
      vcn.localPeeringGateways = peeringGateways(
        fields["localPeeringGateways"], file: "\(path).localPeeringGateways",
        model: "\(model).localPeeringGateways")
      vcn.securityLists = ruleSets(
        fields["securityLists"], file: "\(path).securityLists", model: "\(model).securityLists"
      ).map { SecurityList(name: $0.name, ingress: $0.ingress, egress: $0.egress) }
      vcn.networkSecurityGroups = ruleSets(
        fields["networkSecurityGroups"], file: "\(path).networkSecurityGroups",
        model: "\(model).networkSecurityGroups"
      ).map { NetworkSecurityGroup(name: $0.name, ingress: $0.ingress, egress: $0.egress) }
      vcn.subnets = subnets(fields["subnets"], file: "\(path).subnets", model: "\(model).subnets")
      tenancy.vcns.append(vcn)
    }
  }

  private mutating func subnets(_ node: YAMLNode?, file: String, model: String) -> [Subnet] {
    var subnets: [Subnet] = []
    for (index, item) in reader.sequence(node, path: file).enumerated() {
      let path = "\(file)[\(index)]"
      let modelPath = "\(model)[\(subnets.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.subnet.fileKeys,
          required: ["name", "cidr"]),
        let name = resourceName(fields["name"], path: "\(path).name"),
        let cidr = reader.prefix(fields["cidr"], path: "\(path).cidr")
      else { continue }
      record(model: modelPath, file: path, item, fields, ["name", "cidr", "routeTable"])
      var lists: [String] = []
      for (number, list) in reader.sequence(fields["securityLists"], path: "\(path).securityLists")
        .enumerated()
      {
        reader.record(
          "\(modelPath).securityLists[\(lists.count)]", list,
          filePath: "\(path).securityLists[\(number)]")
        if let name = reader.required(list, path: "\(path).securityLists[\(number)]") {
          lists.append(name)
        }
      }
      subnets.append(
        Subnet(
          name: name, cidr: cidr,
          routeTable: reader.string(fields["routeTable"], path: "\(path).routeTable"),
          securityLists: lists))
    }
    return subnets
  }

  private mutating func routeTables(_ node: YAMLNode?, file: String, model: String) -> [RouteTable]
  {
    var tables: [RouteTable] = []
    for (index, item) in reader.sequence(node, path: file).enumerated() {
      let path = "\(file)[\(index)]"
      let modelPath = "\(model)[\(tables.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.routeTable.fileKeys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(model: modelPath, file: path, item, fields, ["name"])
      var rules: [RouteRule] = []
      for (number, ruleNode) in reader.sequence(fields["rules"], path: "\(path).rules").enumerated()
      {
        let rulePath = "\(path).rules[\(number)]"
        guard
          let rule = reader.mapping(
            ruleNode, path: rulePath, keys: ResourceSchema.routeTable.partKeys("rules"),
            required: ["destination", "target"]),
          let destination = reader.prefix(rule["destination"], path: "\(rulePath).destination"),
          let targetNode = rule["target"],
          let target = routeTarget(targetNode, path: "\(rulePath).target")
        else { continue }
        record(
          model: "\(modelPath).rules[\(rules.count)]", file: rulePath, ruleNode, rule,
          ["destination", "target"])
        rules.append(RouteRule(destination: destination, target: target))
      }
      tables.append(RouteTable(name: name, rules: rules))
    }
    return tables
  }

  private mutating func routeTarget(_ node: YAMLNode, path: String) -> RouteTarget? {
    guard let text = reader.required(node, path: path) else { return nil }
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

  private mutating func peeringGateways(_ node: YAMLNode?, file: String, model: String)
    -> [LocalPeeringGateway]
  {
    var gateways: [LocalPeeringGateway] = []
    for (index, item) in reader.sequence(node, path: file).enumerated() {
      let path = "\(file)[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.peeringGateway.fileKeys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(model: "\(model)[\(gateways.count)]", file: path, item, fields, ["name", "peer"])
      var gateway = LocalPeeringGateway(name: name)
      if let peerNode = fields["peer"], let peer = reader.string(peerNode, path: "\(path).peer") {
        let parts = peer.split(separator: "/").map(String.init)
        if parts.count == 2 {
          gateway.peer = (parts[0], parts[1])
        } else {
          reader.error(
            TenancyFileCode.invalidValue,
            "\(path).peer: write the peer as VCN/GATEWAY, not '\(peer)'",
            at: peerNode, path: "\(path).peer")
        }
      }
      gateways.append(gateway)
    }
    return gateways
  }

  private mutating func ruleSets(_ node: YAMLNode?, file: String, model: String) -> [(
    name: String, ingress: [SecurityRule], egress: [SecurityRule]
  )] {
    var sets: [(name: String, ingress: [SecurityRule], egress: [SecurityRule])] = []
    for (index, item) in reader.sequence(node, path: file).enumerated() {
      let path = "\(file)[\(index)]"
      let modelPath = "\(model)[\(sets.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.securityList.fileKeys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(model: modelPath, file: path, item, fields, ["name"])
      sets.append(
        (
          name,
          rules(
            fields["ingress"], file: "\(path).ingress", model: "\(modelPath).ingress",
            peerKey: "source"),
          rules(
            fields["egress"], file: "\(path).egress", model: "\(modelPath).egress",
            peerKey: "destination")
        ))
    }
    return sets
  }

  private mutating func rules(_ node: YAMLNode?, file: String, model: String, peerKey: String)
    -> [SecurityRule]
  {
    let keys = ResourceSchema.securityList.partKeys(peerKey == "source" ? "ingress" : "egress")
    var rules: [SecurityRule] = []
    for (index, item) in reader.sequence(node, path: file).enumerated() {
      let rulePath = "\(file)[\(index)]"
      let modelPath = "\(model)[\(rules.count)]"
      guard
        let fields = reader.mapping(
          item, path: rulePath, keys: keys, required: ["protocol", peerKey]),
        let protocolNode = fields["protocol"], let peerNode = fields[peerKey],
        let protocolText = reader.required(protocolNode, path: "\(rulePath).protocol"),
        let peerText = reader.required(peerNode, path: "\(rulePath).\(peerKey)")
      else { continue }
      guard let transport = RuleProtocol(rawValue: protocolText.lowercased()) else {
        reader.error(
          TenancyFileCode.invalidValue,
          "\(rulePath).protocol: '\(protocolText)' is not all, tcp, udp or icmp", at: protocolNode,
          path: "\(rulePath).protocol",
          suggestion: Suggestions.closest(
            to: protocolText, among: RuleProtocol.allCases.map(\.rawValue)
          )
          .map { "did you mean '\($0)'?" })
        continue
      }
      let peer: RulePeer
      if peerText.hasPrefix("nsg/") {
        peer = .networkSecurityGroup(String(peerText.dropFirst(4)))
      } else if let block = reader.prefix(peerNode, path: "\(rulePath).\(peerKey)") {
        peer = .cidr(block)
      } else {
        continue
      }
      reader.record(modelPath, item, filePath: rulePath)
      for (key, modelKey) in [("ports", "destinationPorts"), ("sourcePorts", "sourcePorts")] {
        if let value = fields[key] {
          reader.record("\(modelPath).\(modelKey)", value, filePath: "\(rulePath).\(key)")
        }
      }
      rules.append(
        SecurityRule(
          stateless: reader.bool(fields["stateless"], path: "\(rulePath).stateless") ?? false,
          transport: transport, peer: peer,
          destinationPorts: reader.ports(fields["ports"], path: "\(rulePath).ports"),
          sourcePorts: reader.ports(fields["sourcePorts"], path: "\(rulePath).sourcePorts"),
          icmpType: reader.number(fields["icmpType"], path: "\(rulePath).icmpType"),
          icmpCode: reader.number(fields["icmpCode"], path: "\(rulePath).icmpCode")))
    }
    return rules
  }

  private mutating func drgs(_ node: YAMLNode?) {
    for (index, item) in reader.sequence(node, path: "drgs").enumerated() {
      let path = "drgs[\(index)]"
      let model = "drgs[\(tenancy.drgs.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.drg.fileKeys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(model: model, file: path, item, fields, ["name"])
      var attachments: [String] = []
      for (number, attachment) in reader.sequence(
        fields["attachments"], path: "\(path).attachments"
      ).enumerated() {
        reader.record(
          "\(model).attachments[\(attachments.count)]", attachment,
          filePath: "\(path).attachments[\(number)]")
        if let vcn = reader.required(attachment, path: "\(path).attachments[\(number)]") {
          attachments.append(vcn)
        }
      }
      tenancy.drgs.append(DynamicRoutingGateway(name: name, attachments: attachments))
    }
  }

  private mutating func resources(_ node: YAMLNode?, key: String, kind: ResourceKind) {
    for (index, item) in reader.sequence(node, path: key).enumerated() {
      // Paths are only written out for messages, so they are built only then.
      func path() -> String { "\(key)[\(index)]" }
      guard
        let fields = reader.mapping(
          item, path: path(), keys: ResourceSchema.instance.fileKeys,
          required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path()).name")
      else { continue }
      var origin = ResourceOrigin(section: key, index: index, node: item)
      var vnics: [VNIC] = []
      for (number, vnicNode) in reader.sequence(fields["vnics"], path: "\(path()).vnics")
        .enumerated()
      {
        if let (vnic, vnicOrigin) = vnic(
          vnicNode, index: number, path: "\(path()).vnics[\(number)]")
        {
          vnics.append(vnic)
          origin.vnics.append(vnicOrigin)
        }
      }
      tenancy.resources.append(
        Resource(
          name: name, kind: kind,
          compartment: reader.string(fields["compartment"], path: "\(path()).compartment"),
          securityAttributes: securityAttributes(
            fields["securityAttributes"], path: "\(path()).securityAttributes"),
          vnics: vnics))
      resourceOrigins.append(origin)
    }
  }

  private mutating func vnic(_ node: YAMLNode, index: Int, path: @autoclosure () -> String)
    -> (VNIC, VNICOrigin)?
  {
    guard
      let fields = reader.mapping(
        node, path: path(), keys: ResourceSchema.instance.partKeys("vnics"),
        required: ["subnet"]),
      let subnetNode = fields["subnet"],
      let subnet = reader.required(subnetNode, path: "\(path()).subnet")
    else { return nil }
    let parts = subnet.split(separator: "/").map(String.init)
    guard parts.count == 2 else {
      reader.error(
        TenancyFileCode.invalidValue,
        "\(path()).subnet: write the subnet as VCN/SUBNET, not '\(subnet)'",
        at: subnetNode, path: "\(path()).subnet")
      return nil
    }
    var origin = VNICOrigin(index: index, node: node)
    var ips: [IPAddress] = []
    if let ipNode = fields["ip"], let ip = reader.address(ipNode, path: "\(path()).ip") {
      ips.append(ip)
      origin.ips.append((ipNode, .single))
    }
    for (number, ipNode) in reader.sequence(fields["ips"], path: "\(path()).ips").enumerated() {
      if let ip = reader.address(ipNode, path: "\(path()).ips[\(number)]") {
        ips.append(ip)
        origin.ips.append((ipNode, .listed(number)))
      }
    }
    var groups: [String] = []
    for (number, group) in reader.sequence(fields["nsgs"], path: "\(path()).nsgs").enumerated() {
      if let name = reader.required(group, path: "\(path()).nsgs[\(number)]") {
        groups.append(name)
        origin.networkSecurityGroups.append((group, number))
      }
    }
    let vnic = VNIC(
      vcn: parts[0], subnet: parts[1], ips: ips, networkSecurityGroups: groups,
      securityAttributes: securityAttributes(
        fields["securityAttributes"], path: "\(path()).securityAttributes"))
    return (vnic, origin)
  }

  /// `{"ns.attr": value}` or `{"ns.attr": {value: v, mode: audit}}`; no namespace means the
  /// default one.
  private mutating func securityAttributes(
    _ node: YAMLNode?, path: @autoclosure () -> String
  ) -> [AppliedAttribute] {
    guard let node, !node.isNull else { return [] }
    guard case .mapping(let mapping, _) = node else {
      reader.error(
        TenancyFileCode.wrongType,
        "\(path()) must map attribute names to values, like {app.tier: web}", at: node, path: path()
      )
      return []
    }
    var applied: [AppliedAttribute] = []
    for pair in mapping {
      let (keyNode, valueNode) = (pair.key, pair.value)
      guard let key = reader.required(keyNode, path: path()) else { continue }
      func entryPath() -> String { "\(path()).\(key)" }
      let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
      let (namespace, name) =
        parts.count == 2 ? (parts[0], parts[1]) : (tenancy.defaultNamespace, key)
      var value: String?
      var mode = AttributeMode.enforce
      if case .mapping = valueNode {
        guard
          let fields = reader.mapping(
            valueNode, path: entryPath(), keys: ["value", "mode"], required: ["value"])
        else { continue }
        value = reader.required(fields["value"], path: "\(entryPath()).value")
        if let modeNode = fields["mode"],
          let modeText = reader.string(modeNode, path: "\(entryPath()).mode")
        {
          guard let parsed = AttributeMode(rawValue: modeText.lowercased()) else {
            reader.error(
              TenancyFileCode.invalidValue,
              "\(entryPath()).mode must be enforce or audit, not '\(modeText)'", at: modeNode,
              path: "\(entryPath()).mode")
            continue
          }
          mode = parsed
        }
      } else {
        value = reader.required(valueNode, path: entryPath())
      }
      if let value {
        applied.append(AppliedAttribute(namespace: namespace, key: name, value: value, mode: mode))
      }
    }
    return applied
  }

  private mutating func policies(_ node: YAMLNode?) {
    let catalogCheck = PolicyCatalogCheck(tenancy)
    self.catalogCheck = catalogCheck
    let limit = tenancy.catalog.limits.statementsPerPolicy
    for (index, item) in reader.sequence(node, path: "policies").enumerated() {
      let path = "policies[\(index)]"
      let model = "policies[\(tenancy.policies.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.policy.fileKeys,
          required: ResourceSchema.policy.requiredKeys),
        let name = resourceName(fields["name"], path: "\(path).name"),
        let description = reader.required(fields["description"], path: "\(path).description")
      else { continue }
      record(model: model, file: path, item, fields, ["name", "statements"])
      let nodes = reader.sequence(fields["statements"], path: "\(path).statements")
      if nodes.count > limit, let statementsNode = fields["statements"] {
        // Counted as written: statements with errors count toward the limit too.
        reader.error(
          TenancyIssue.Code.tooManyStatements.diagnosticCode,
          "policy '\(name)' has \(nodes.count) statements; a policy holds at most \(limit) (the "
            + "statementsPerPolicy limit): split it into several policies", at: statementsNode,
          path: "\(path).statements")
        reportedLimits.insert(model)
      }
      var statements: [Statement] = []
      for (number, statementNode) in nodes.enumerated() {
        let statementPath = "\(path).statements[\(number)]"
        guard let text = reader.required(statementNode, path: statementPath) else { continue }
        let (statement, parsed) = PolicyParser(limits: limits).parseStatement(text)
        let diagnostics =
          parsed + (shapeOnly ? [] : statement.map { catalogCheck.diagnostics(for: [$0]) } ?? [])
        place(diagnostics, of: text, at: statementNode, path: statementPath)
        if let statement { statements.append(statement) }
      }
      tenancy.policies.append(Policy(name: name, description: description, statements: statements))
    }
  }

  private mutating func groups(_ node: YAMLNode?) {
    for (index, item) in reader.sequence(node, path: "groups").enumerated() {
      let path = "groups[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.group.fileKeys, required: ["name"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(
        model: "groups[\(tenancy.groups.count)]", file: path, item, fields, ["name", "members"])
      let members = reader.sequence(fields["members"], path: "\(path).members").enumerated()
        .compactMap { reader.required($1, path: "\(path).members[\($0)]") }
      tenancy.groups.append(
        IAMGroup(
          name: name,
          description: reader.string(fields["description"], path: "\(path).description") ?? "",
          members: members))
    }
  }

  /// IAM policies: their statements are checked as `zpr iam check` checks them, each
  /// diagnostic placed on its statement in the file.
  private mutating func iamPolicies(_ node: YAMLNode?) {
    for (index, item) in reader.sequence(node, path: "iamPolicies").enumerated() {
      let path = "iamPolicies[\(index)]"
      let model = "iamPolicies[\(tenancy.iamPolicies.count)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: ResourceSchema.iamPolicy.fileKeys,
          required: ["name", "statements"]),
        let name = resourceName(fields["name"], path: "\(path).name")
      else { continue }
      record(model: model, file: path, item, fields, ["name", "statements"])
      var statements: [IAMStatement] = []
      let nodes = reader.sequence(fields["statements"], path: "\(path).statements")
      for (number, statementNode) in nodes.enumerated() {
        let statementPath = "\(path).statements[\(number)]"
        guard let text = reader.required(statementNode, path: statementPath) else { continue }
        // The IAM parser holds statements to its own limits (IAMLimits: length, diagnostics).
        let (statement, parsed) = IAMParser().parseStatement(text)
        place(parsed, of: text, at: statementNode, path: statementPath)
        if let statement {
          reader.record(
            "\(model).statements[\(statements.count)]", statementNode, filePath: statementPath)
          statements.append(statement)
        }
      }
      tenancy.iamPolicies.append(
        IAMPolicy(
          name: name,
          description: reader.string(fields["description"], path: "\(path).description") ?? "",
          statements: statements))
    }
  }

  private mutating func tests(_ node: YAMLNode?) {
    let keys = ResourceSchema.test.fileKeys
    for (index, item) in reader.sequence(node, path: "tests").enumerated() {
      let path = "tests[\(index)]"
      guard
        let fields = reader.mapping(
          item, path: path, keys: keys, required: ["from", "to", "protocol", "expect"]),
        let from = reader.required(fields["from"], path: "\(path).from"),
        let to = reader.required(fields["to"], path: "\(path).to"),
        let protocolNode = fields["protocol"],
        let protocolText = reader.required(protocolNode, path: "\(path).protocol"),
        let expectNode = fields["expect"],
        let expectText = reader.required(expectNode, path: "\(path).expect")
      else { continue }
      guard let transport = PolicyTest.Transport(rawValue: protocolText.lowercased()) else {
        reader.error(
          TenancyFileCode.invalidValue,
          "\(path).protocol: '\(protocolText)' is not tcp, udp or icmp", at: protocolNode,
          path: "\(path).protocol",
          suggestion: Suggestions.closest(
            to: protocolText, among: PolicyTest.Transport.allCases.map(\.rawValue)
          ).map { "did you mean '\($0)'?" })
        continue
      }
      guard let expect = PolicyTest.Expectation(rawValue: expectText.lowercased()) else {
        reader.error(
          TenancyFileCode.invalidValue, "\(path).expect must be allow or deny, not '\(expectText)'",
          at: expectNode, path: "\(path).expect")
        continue
      }
      let port = reader.number(fields["port"], path: "\(path).port")
      if transport != .icmp, port == nil, fields["port"] == nil {
        reader.error(
          TenancyFileCode.missingKey, "\(path) tests a \(transport.rawValue) flow: add its port",
          at: item, path: path)
        continue
      }
      if transport == .icmp, let portNode = fields["port"] {
        reader.error(
          TenancyFileCode.invalidValue,
          "\(path).port: ICMP has no ports: remove it, or give icmpType and icmpCode",
          at: portNode, path: "\(path).port")
        continue
      }
      if let port, !(1...65535).contains(port), let portNode = fields["port"] {
        reader.error(
          TenancyFileCode.invalidValue, "\(path).port: \(port) is not a port: give 1 to 65535",
          at: portNode, path: "\(path).port")
        continue
      }
      reader.record("tests[\(tenancy.tests.count)]", item, filePath: path)
      for key in ["from", "to"] {
        if let value = fields[key] {
          reader.record("tests[\(tenancy.tests.count)].\(key)", value, filePath: "\(path).\(key)")
        }
      }
      tenancy.tests.append(
        PolicyTest(
          name: reader.string(fields["name"], path: "\(path).name").map(Self.normalized),
          from: from, to: to,
          transport: transport, port: port,
          icmpType: reader.number(fields["icmpType"], path: "\(path).icmpType"),
          icmpCode: reader.number(fields["icmpCode"], path: "\(path).icmpCode"), expect: expect))
    }
  }

  /// Places a statement's diagnostics inside the statement in the file when the file holds the
  /// statement's text as it is (plain or simply quoted); otherwise (escapes, block scalars) at
  /// the statement as a whole.
  private mutating func place(
    _ diagnostics: [Diagnostic], of text: String, at node: YAMLNode, path: String
  ) {
    let whole = node.range
    let start = whole.lowerBound + (node.isQuoted ? 1 : 0)
    let bytes = reader.source.bytes
    let expected = Array(text.utf8)
    let exact =
      start + expected.count <= bytes.count
      && bytes[start..<(start + expected.count)].elementsEqual(expected)
    for var diagnostic in diagnostics {
      diagnostic.range =
        exact
        ? SourceRange(start + diagnostic.range.lowerBound, start + diagnostic.range.upperBound)
        : whole
      diagnostic.path = path
      reader.diagnostics.append(diagnostic)
    }
  }

  // MARK: Helpers

  /// A name, required, in the form ``NameRules/resourceName(_:)`` gives it (Unicode NFC); a
  /// name that breaks the rules is kept as written, for the consistency check to report.
  private mutating func resourceName(_ node: YAMLNode?, path: @autoclosure () -> String)
    -> String?
  {
    reader.required(node, path: path()).map(Self.normalized)
  }

  private static func normalized(_ name: String) -> String {
    // ASCII names, nearly all of them, are already normalized.
    guard !name.utf8.allSatisfy({ $0 < 0x80 }) else { return name }
    return (try? NameRules.resourceName(name).get()) ?? name
  }

  /// Records where an element (its mapping) and the given fields were written.
  private mutating func record(
    model: String, file: String, _ node: YAMLNode, _ fields: YAMLFields, _ keys: [String]
  ) {
    reader.record(model, node, filePath: file)
    for key in keys {
      if let value = fields[key] {
        reader.record("\(model).\(key)", value, filePath: "\(file).\(key)")
      }
    }
  }

  /// Runs a catalog operation the file implies for the element with these fields; a refusal
  /// becomes a diagnostic at the field it concerns. Returns whether it succeeded.
  @discardableResult
  private mutating func catalogChange(
    at fields: YAMLFields, path: String,
    _ body: (inout SecurityAttributeCatalog) throws(ModelError) -> Void
  ) -> Bool {
    do {
      try tenancy.catalog.change(body)
      return true
    } catch {
      let key = error.code == .missingDescription ? "description" : "name"
      let node = fields[key] ?? fields["name"] ?? YAMLNode.missing
      reader.error(TenancyFileCode.invalidCatalog, error.message, at: node, path: "\(path).\(key)")
      return false
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
      let offset = reader.source.offset(
        of: SourceLocation(line: context.mark.line, column: context.mark.column))
      reader.diagnostics.append(
        Diagnostic(
          .error, TenancyFileCode.invalidYAML,
          "this mapping gives \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) more than "
            + "once: keep one", at: SourceRange(offset, offset)))
      return
    default:
      break
    }
    let offset =
      mark.map { reader.source.offset(of: SourceLocation(line: $0.line, column: $0.column)) } ?? 0
    reader.diagnostics.append(
      Diagnostic(
        .error, TenancyFileCode.invalidYAML,
        problem.contains("another document")
          ? "a tenancy file holds one YAML document: remove the '---' that starts another"
          : "this is not valid YAML (\(problem)): check the indentation and quoting here",
        at: SourceRange(offset, offset)))
  }

  /// Places the tenancy's consistency issues at the element they name (or its nearest
  /// recorded ancestor), with the path as the file writes it.
  private mutating func reportConsistency() {
    for issue in tenancy.consistencyIssues()
    where
      !(issue.code == .tooManyStatements
      && reportedLimits.contains(String(issue.path.prefix { $0 != "." })))
    {
      var modelPath = issue.path
      var location = self.location(of: modelPath)
      while location == nil, let cut = modelPath.lastIndex(where: { $0 == "." || $0 == "[" }) {
        modelPath = String(modelPath[..<cut])
        location = self.location(of: modelPath)
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
    let check = catalogCheck ?? PolicyCatalogCheck(tenancy)
    for unnamed in check.unnamedEndpoints(given: statements) {
      let range = location(of: unnamed.resourcePath)?.range ?? SourceRange(0, 0)
      reader.diagnostics.append(
        Diagnostic(
          .warning, CatalogCode.unreachable, unnamed.message, at: range,
          path: filePath(for: unnamed.resourcePath)))
    }
  }

  /// Where the model element at a path was written, if the file has it.
  private func location(of modelPath: String) -> YAMLReader.Location? {
    modelPath.hasPrefix("resources[")
      ? resourceOrigins.location(of: modelPath) : reader.locations[modelPath]
  }

  /// The file's path for a model path: `resources[3]` becomes `databases[0]`, and so on.
  private func filePath(for modelPath: String) -> String {
    if let location = location(of: modelPath) { return location.filePath }
    guard modelPath.hasPrefix("resources["), let close = modelPath.firstIndex(of: "]"),
      let index = Int(modelPath[modelPath.index(modelPath.startIndex, offsetBy: 10)..<close]),
      index < resourceOrigins.count
    else { return modelPath }
    return resourceOrigins[index].filePath + modelPath[modelPath.index(after: close)...]
  }
}
