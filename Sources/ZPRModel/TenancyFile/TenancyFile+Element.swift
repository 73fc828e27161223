public import ZPRPolicy

extension TenancyFile {
  /// The change that creates or replaces one stored element: its kind, name, parent's name
  /// and JSON, read exactly as a tenancy file's element is read. Only its shape is checked here
  /// (keys, types, values, statements' syntax); how it relates to the rest of the tenancy is
  /// ``CheckedTenancy``'s to check. Nil, with the diagnostics, when its shape is wrong or the
  /// kind is not one a single change can carry (namespaces and attributes go through the
  /// catalog's operations). `replacing` names the resource a renamed one was.
  public static func upsert(
    _ schema: ResourceSchema, name: String, parent: String?, json body: String,
    replacing: String? = nil, limits: ZPRLimits = .standard
  ) -> (change: TenancyChange?, diagnostics: [Diagnostic]) {
    let nameMember = "\"name\":" + JSONValue.string(name).serialized(pretty: false)
    let trimmed = body.drop { $0 == " " || $0 == "\n" }
    guard trimmed.hasPrefix("{") else { return (nil, []) }
    let rest = trimmed.dropFirst().drop { $0 == " " || $0 == "\n" }
    let element = "{" + nameMember + (rest.hasPrefix("}") ? "" : ",") + rest
    let text: String
    if let parent, schema.parent?.kind == ResourceSchema.vcn.kind {
      text =
        "vcns:\n  - name: " + JSONValue.string(parent).serialized(pretty: false) + "\n    "
        + schema.section + ":\n      - " + element + "\n"
    } else if schema.parent == nil {
      text = schema.section + ":\n  - " + element + "\n"
    } else {
      return (nil, [])
    }
    let loaded = load(
      SourceFile(path: schema.path, text: text), limits: limits, otherStatements: [],
      shapeOnly: true)
    guard !loaded.hasErrors else { return (nil, loaded.diagnostics) }
    let tenancy = loaded.tenancy
    let vcn = tenancy.vcns.first
    let change: TenancyChange? =
      switch schema.kind {
      case ResourceSchema.compartment.kind:
        tenancy.compartments.first.map { .upsertCompartment($0) }
      case ResourceSchema.vcn.kind: vcn.map { .upsertVCN($0) }
      case ResourceSchema.subnet.kind:
        vcn?.subnets.first.map { .upsertSubnet(vcn: parent ?? "", $0) }
      case ResourceSchema.routeTable.kind:
        vcn?.routeTables.first.map { .upsertRouteTable(vcn: parent ?? "", $0) }
      case ResourceSchema.securityList.kind:
        vcn?.securityLists.first.map { .upsertSecurityList(vcn: parent ?? "", $0) }
      case ResourceSchema.nsg.kind:
        vcn?.networkSecurityGroups.first.map { .upsertNetworkSecurityGroup(vcn: parent ?? "", $0) }
      case ResourceSchema.peeringGateway.kind:
        vcn?.localPeeringGateways.first.map { .upsertLocalPeeringGateway(vcn: parent ?? "", $0) }
      case ResourceSchema.drg.kind: tenancy.drgs.first.map { .upsertDRG($0) }
      case ResourceSchema.policy.kind: tenancy.policies.first.map { .upsertPolicy($0) }
      case ResourceSchema.test.kind: tenancy.tests.first.map { .upsertTest($0) }
      case ResourceSchema.group.kind: tenancy.groups.first.map { .upsertGroup($0) }
      case ResourceSchema.iamPolicy.kind: tenancy.iamPolicies.first.map { .upsertIAMPolicy($0) }
      default:
        ResourceSchema.owners.contains { $0.kind == schema.kind }
          ? tenancy.resources.first.map { .upsertResource($0, replacing: replacing) } : nil
      }
    return (change, loaded.diagnostics)
  }

  /// The change that removes one stored element (nil for namespaces and attributes, which go
  /// through the catalog's operations).
  public static func remove(_ schema: ResourceSchema, name: String, parent: String?)
    -> TenancyChange?
  {
    let vcn = parent ?? ""
    switch schema.kind {
    case ResourceSchema.compartment.kind: return .removeCompartment(name)
    case ResourceSchema.vcn.kind: return .removeVCN(name)
    case ResourceSchema.subnet.kind: return .removeSubnet(vcn: vcn, name: name)
    case ResourceSchema.routeTable.kind: return .removeRouteTable(vcn: vcn, name: name)
    case ResourceSchema.securityList.kind: return .removeSecurityList(vcn: vcn, name: name)
    case ResourceSchema.nsg.kind: return .removeNetworkSecurityGroup(vcn: vcn, name: name)
    case ResourceSchema.peeringGateway.kind: return .removeLocalPeeringGateway(vcn: vcn, name: name)
    case ResourceSchema.drg.kind: return .removeDRG(name)
    case ResourceSchema.policy.kind: return .removePolicy(name)
    case ResourceSchema.test.kind: return .removeTest(name)
    case ResourceSchema.group.kind: return .removeGroup(name)
    case ResourceSchema.iamPolicy.kind: return .removeIAMPolicy(name)
    default:
      return ResourceSchema.owners.contains { $0.kind == schema.kind } ? .removeResource(name) : nil
    }
  }
}
