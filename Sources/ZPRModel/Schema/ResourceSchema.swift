/// One field of a resource's element: its key, the shape of its value, and what it means. The
/// API's bodies, the tenancy file's elements and the command line's flags all use these keys.
public struct ResourceField: Hashable, Sendable {
  /// The shapes a value takes; each has one way to be written as a flag.
  public enum Shape: String, Hashable, Sendable {
    /// Text (`--cidr 10.0.0.0/16`).
    case string
    /// A whole number (`--port 443`).
    case integer
    /// `true` or `false`.
    case boolean
    /// A list of text, one flag per item (`--security-list open --security-list ssh`).
    case strings
    /// Security attributes, one `NAMESPACE.KEY=VALUE` per flag (`--attribute app.tier=web`).
    case attributes
    /// A list of objects, one `KEY=VALUE,KEY=VALUE` per flag
    /// (`--ingress protocol=tcp,source=10.0.0.0/8,ports=22`).
    case objects
  }

  /// The element's key (`cidr`).
  public var key: String
  public var shape: Shape
  public var required: Bool
  /// What it holds, for help and docs (a sentence without a final stop).
  public var summary: String
  /// The command line's flag (`cidr` for `--cidr`); nil: only in a file given with `-f`.
  public var flag: String?
  /// The fields of each object of an `objects` field (a VNIC's, a rule's), for help and docs.
  public var parts: [ResourceField]
  /// Whether the parts' flags set the first object of the list (an instance's `--subnet` and
  /// `--ip` make its first VNIC).
  public var partsAreFlags: Bool

  /// A field.
  public init(
    _ key: String, _ shape: Shape, required: Bool = false, flag: String? = nil,
    parts: [ResourceField] = [], partsAreFlags: Bool = false, _ summary: String
  ) {
    self.key = key
    self.shape = shape
    self.required = required
    self.summary = summary
    self.flag = flag
    self.parts = parts
    self.partsAreFlags = partsAreFlags
  }
}

/// A flag of a kind's `create` and `update` commands: which field it sets, and where.
public struct ResourceFlag: Hashable, Sendable {
  /// The flag without its dashes (`ip`).
  public var name: String
  /// The field it sets.
  public var field: ResourceField
  /// The list field whose first object holds the field (`vnics`), or nil for a field of the
  /// element itself.
  public var inFirstOf: String?
}

/// Everything zpr knows about one kind of resource: where the API serves it, how the command
/// line and the tenancy file name it, its fields, its lifecycle and its IAM permissions. Every
/// surface (the API's routes, the command line's commands and help, the tenancy file's reader
/// and writer, the IAM permissions) derives from ``ResourceSchema/all``: adding a kind is one
/// entry there.
public struct ResourceSchema: Hashable, Sendable, CustomStringConvertible {
  /// The store's kind (`vcn`).
  public var kind: String
  /// The collection's path under `/v1` (`vcns`).
  public var path: String
  /// How messages name one (`VCN`).
  public var label: String
  /// How messages name several (`VCNs`).
  public var plural: String
  /// The command line's command (`zpr vcn`).
  public var command: String
  /// The tenancy file's section, at the top or inside the parent's element.
  public var section: String
  /// The kind it belongs to and the field that names it (`vcn` for a subnet).
  public var parent: Parent?
  /// The element's fields, besides `name` and the parent's field.
  public var fields: [ResourceField]
  /// Namespaces and attributes: retired and reactivated, deleted only once retired.
  public var hasLifecycle: Bool
  /// The IAM resource type its permissions belong to (`vcns`; see `PermissionCatalog`).
  public var iamType: String
  /// The IAM permissions' prefix (`VCN`: `VCN_INSPECT`, `VCN_READ`, `VCN_UPDATE`, ...).
  public var permissions: String
  /// The name API operations use (`Vcn`: `ListVcn`, `UpdateVcn`, ...).
  public var operation: String
  /// A `create` command line, after `zpr COMMAND create`, for help and docs.
  public var example: String

  /// The kind a resource belongs to, and the field of its element that names the parent.
  public struct Parent: Hashable, Sendable {
    public var kind: String
    public var field: String
    /// How the field is written: the parent's name, for help.
    public var summary: String
  }

  public var description: String { kind }

  /// The label with its article: "an instance", "a VCN", "an IAM policy".
  public var withArticle: String {
    (label.first.map { "aeiouAEIOU".contains($0) } == true ? "an " : "a ") + label
  }

  /// The keys the element's fields take (`name`, the parent's field, then the others).
  public var keys: [String] { ["name"] + (parent.map { [$0.field] } ?? []) + fields.map(\.key) }

  /// The keys an element must have.
  public var requiredKeys: [String] {
    ["name"] + (parent.map { [$0.field] } ?? []) + fields.filter(\.required).map(\.key)
  }

  /// The keys of its element in a tenancy file, where it sits inside its parent's element (so
  /// without the parent's field): its fields, `retired` for kinds with a lifecycle, and the
  /// sections of its parts.
  public var fileKeys: [String] {
    ["name"] + fields.map(\.key) + (hasLifecycle ? ["retired"] : [])
      + Self.all.filter { $0.parent?.kind == kind }.map(\.section)
  }

  /// The keys of an object of a list field (a VNIC's, a rule's).
  public func partKeys(_ key: String) -> [String] { field(key)?.parts.map(\.key) ?? [] }

  /// The field of that key.
  public func field(_ key: String) -> ResourceField? { fields.first { $0.key == key } }

  /// The permission an action on this kind takes (`INSPECT`, `READ`, `CREATE`, `UPDATE`,
  /// `DELETE`). Attributes are read through their namespace's permissions and changed with
  /// `SECURITY_ATTRIBUTE_NAMESPACE_UPDATE`.
  public func permission(_ action: String) -> String {
    if kind == Self.attribute.kind, action != "INSPECT", action != "READ" {
      return "\(permissions)_UPDATE"
    }
    return "\(permissions)_\(action)"
  }

  /// The command line's flags for `create` and `update`, in the order help lists them: the
  /// parent's, then each field's, then the first object's parts where they are flags.
  public var flags: [ResourceFlag] {
    var flags: [ResourceFlag] = []
    if let parent {
      flags.append(
        ResourceFlag(
          name: parent.field,
          field: ResourceField(parent.field, .string, required: true, parent.summary),
          inFirstOf: nil))
    }
    for field in fields {
      if let flag = field.flag {
        flags.append(ResourceFlag(name: flag, field: field, inFirstOf: nil))
      }
      if field.partsAreFlags {
        for part in field.parts {
          if let flag = part.flag {
            flags.append(ResourceFlag(name: flag, field: part, inFirstOf: field.key))
          }
        }
      }
    }
    return flags
  }
}

extension ResourceSchema {
  init(
    _ kind: String, path: String, label: String, plural: String? = nil, command: String? = nil,
    section: String? = nil, parent: Parent? = nil, fields: [ResourceField],
    hasLifecycle: Bool = false, iamType: String, permissions: String, operation: String? = nil,
    example: String
  ) {
    self.kind = kind
    self.path = path
    self.label = label
    self.plural = plural ?? label + "s"
    self.command = command ?? kind
    self.section = section ?? path
    self.parent = parent
    self.fields = fields
    self.hasLifecycle = hasLifecycle
    self.iamType = iamType
    self.permissions = permissions
    self.operation = operation ?? kind.prefix(1).uppercased() + kind.dropFirst()
    self.example = example
  }

  /// The field `description`.
  static func description(required: Bool = false, _ summary: String) -> ResourceField {
    ResourceField("description", .string, required: required, flag: "description", summary)
  }

  /// The field `compartment`.
  static let compartmentField = ResourceField(
    "compartment", .string, flag: "compartment", "The compartment it is in (default: the root)")

  /// The field `securityAttributes`.
  static func attributesField(_ of: String) -> ResourceField {
    ResourceField(
      "securityAttributes", .attributes, flag: "attribute",
      "Security attributes of \(of), as NAMESPACE.KEY=VALUE (the default namespace's as KEY=VALUE)"
    )
  }

  /// The parent field of a VCN's parts.
  static let inVCN = Parent(kind: "vcn", field: "vcn", summary: "The VCN it belongs to")

  /// The fields of a security rule, as in a security list or an NSG.
  static func ruleParts(peer: String) -> [ResourceField] {
    [
      ResourceField(
        "protocol", .string, required: true, "all, tcp, udp, icmp or icmp6 (or a number)"),
      ResourceField(
        peer, .string, required: true,
        "A CIDR block, or in an NSG's rules another NSG of the VCN (nsg:NAME)"),
      ResourceField("ports", .string, "Destination ports: a port or LOW-HIGH"),
      ResourceField("sourcePorts", .string, "Source ports: a port or LOW-HIGH"),
      ResourceField("icmpType", .integer, "The ICMP type"),
      ResourceField("icmpCode", .integer, "The ICMP code"),
      ResourceField("stateless", .boolean, "true: replies are not allowed by this rule"),
    ]
  }

  /// The ingress and egress rules of a security list or an NSG.
  static let securityRules = [
    ResourceField(
      "ingress", .objects, flag: "ingress", parts: ruleParts(peer: "source"),
      "An ingress rule, as protocol=tcp,source=10.0.0.0/8,ports=22"),
    ResourceField(
      "egress", .objects, flag: "egress", parts: ruleParts(peer: "destination"),
      "An egress rule, as protocol=all,destination=0.0.0.0/0"),
  ]

  /// Instances, databases, load balancers, private endpoints: owners of VNICs.
  static func owner(
    _ kind: String, path: String, label: String, command: String, iamType: String,
    permissions: String, example: String
  ) -> ResourceSchema {
    ResourceSchema(
      kind, path: path, label: label, command: command,
      fields: [
        compartmentField, attributesField("the \(label) (all its VNICs carry them)"),
        ResourceField(
          "vnics", .objects, required: true,
          parts: [
            ResourceField(
              "subnet", .string, required: true, flag: "subnet",
              "The first VNIC's subnet, as VCN/SUBNET"),
            ResourceField("ip", .string, "The VNIC's address (or `ips`, a list)"),
            ResourceField(
              "ips", .strings, flag: "ip", "An address of the first VNIC (IPv4 or IPv6)"),
            ResourceField(
              "nsgs", .strings, flag: "nsg", "A network security group of the VNIC's VCN"),
            ResourceField(
              "securityAttributes", .attributes, flag: "vnic-attribute",
              "Security attributes of the VNIC alone, as NAMESPACE.KEY=VALUE"),
          ], partsAreFlags: true,
          "Its network interfaces (in a file; the flags make one)"),
      ],
      iamType: iamType, permissions: permissions, example: example)
  }
}

extension ResourceSchema {
  public static let namespace = ResourceSchema(
    "securityAttributeNamespace", path: "securityAttributeNamespaces",
    label: "security attribute namespace", command: "namespace", section: "namespaces",
    fields: [description(required: true, "What its attributes are for")], hasLifecycle: true,
    iamType: "security-attribute-namespace", permissions: "SECURITY_ATTRIBUTE_NAMESPACE",
    operation: "SecurityAttributeNamespace",
    example: "app --description 'Application roles'")
  public static let attribute = ResourceSchema(
    "securityAttribute", path: "securityAttributes", label: "security attribute",
    command: "attribute", section: "attributes",
    parent: Parent(kind: namespace.kind, field: "namespace", summary: "The namespace it is in"),
    fields: [
      description(required: true, "What it says about a resource"),
      ResourceField(
        "values", .strings, flag: "value",
        "A value it may take (with none, any value of up to 256 characters)"),
    ], hasLifecycle: true, iamType: "security-attribute-namespace",
    permissions: "SECURITY_ATTRIBUTE_NAMESPACE", operation: "SecurityAttribute",
    example: "tier --namespace app --description 'The tier' --value web --value db")
  public static let compartment = ResourceSchema(
    "compartment", path: "compartments", label: "compartment",
    fields: [
      ResourceField(
        "parent", .string, flag: "parent", "The compartment it is in (default: the root)")
    ], iamType: "compartments", permissions: "COMPARTMENT", example: "prod --parent company")
  public static let vcn = ResourceSchema(
    "vcn", path: "vcns", label: "VCN",
    fields: [
      compartmentField,
      ResourceField(
        "cidrs", .strings, required: true, flag: "cidr", "An address block (IPv4 or IPv6)"),
      attributesField("the VCN"),
    ], iamType: "vcns", permissions: "VCN", operation: "Vcn",
    example: "prod --cidr 10.0.0.0/16 --attribute networks=prod")
  public static let routeTable = ResourceSchema(
    "routeTable", path: "routeTables", label: "route table", command: "route-table",
    parent: inVCN,
    fields: [
      ResourceField(
        "rules", .objects, flag: "rule",
        parts: [
          ResourceField("destination", .string, required: true, "A CIDR block"),
          ResourceField(
            "target", .string, required: true,
            "Where it goes: lpg/GATEWAY, drg/DRG, internet or local"),
        ], "A route, as destination=10.1.0.0/16,target=drg/hub")
    ], iamType: "route-tables", permissions: "ROUTE_TABLE",
    example: "main --vcn prod --rule destination=10.1.0.0/16,target=drg/hub")
  public static let peeringGateway = ResourceSchema(
    "localPeeringGateway", path: "localPeeringGateways", label: "local peering gateway",
    command: "peering-gateway", parent: inVCN,
    fields: [
      ResourceField(
        "peer", .string, flag: "peer", "The gateway it peers with, as VCN/GATEWAY")
    ], iamType: "local-peering-gateways", permissions: "LOCAL_PEERING_GATEWAY",
    example: "to-shared --vcn prod --peer shared/to-prod")
  public static let securityList = ResourceSchema(
    "securityList", path: "securityLists", label: "security list", command: "security-list",
    parent: inVCN, fields: securityRules, iamType: "security-lists",
    permissions: "SECURITY_LIST",
    example: "open --vcn prod --ingress protocol=all,source=10.0.0.0/8 "
      + "--egress protocol=all,destination=0.0.0.0/0")
  public static let nsg = ResourceSchema(
    "networkSecurityGroup", path: "networkSecurityGroups", label: "network security group",
    command: "nsg", parent: inVCN, fields: securityRules, iamType: "network-security-groups",
    permissions: "NETWORK_SECURITY_GROUP",
    example: "db --vcn prod --ingress protocol=tcp,source=nsg:web,ports=5432")
  public static let subnet = ResourceSchema(
    "subnet", path: "subnets", label: "subnet", parent: inVCN,
    fields: [
      ResourceField("cidr", .string, required: true, flag: "cidr", "Its block, inside the VCN's"),
      ResourceField("routeTable", .string, flag: "route-table", "The VCN's route table it uses"),
      ResourceField(
        "securityLists", .strings, flag: "security-list", "A security list of the VCN it uses"),
    ], iamType: "subnets", permissions: "SUBNET",
    example: "front --vcn prod --cidr 10.0.1.0/24 --route-table main --security-list open")
  public static let drg = ResourceSchema(
    "drg", path: "drgs", label: "dynamic routing gateway",
    fields: [
      ResourceField("attachments", .strings, flag: "attachment", "A VCN attached to it")
    ], iamType: "drgs", permissions: "DRG", operation: "Drg",
    example: "hub --attachment prod --attachment shared")
  public static let instance = owner(
    "instance", path: "instances", label: "instance", command: "instance", iamType: "instances",
    permissions: "INSTANCE",
    example: "web-1 --subnet prod/front --ip 10.0.1.10 --attribute app.tier=web")
  public static let database = owner(
    "database", path: "databases", label: "database", command: "database",
    iamType: "databases", permissions: "DATABASE",
    example: "orders --subnet prod/data --ip 10.0.3.10 --attribute app.tier=db")
  public static let loadBalancer = owner(
    "loadBalancer", path: "loadBalancers", label: "load balancer", command: "load-balancer",
    iamType: "load-balancers", permissions: "LOAD_BALANCER",
    example: "front --subnet prod/edge --ip 10.0.0.5 --attribute app.tier=lb")
  public static let privateEndpoint = owner(
    "privateEndpoint", path: "privateEndpoints", label: "private endpoint",
    command: "private-endpoint", iamType: "private-endpoints", permissions: "PRIVATE_ENDPOINT",
    example: "vault --subnet prod/data --ip 10.0.3.20 --attribute app.tier=vault")
  public static let policy = ResourceSchema(
    "zprPolicy", path: "zprPolicies", label: "ZPR policy", plural: "ZPR policies",
    command: "policy", section: "policies",
    fields: [
      description(required: true, "What the policy is for"),
      ResourceField(
        "statements", .strings, required: true, flag: "statement",
        "A ZPL statement (or --zpl FILE for a file of them)"),
    ], iamType: "zpr-policy", permissions: "ZPR_POLICY", operation: "ZprPolicy",
    example: "web --description 'Web to app' --statement "
      + "\"allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol='tcp/8080'\""
  )
  public static let test = ResourceSchema(
    "policyTest", path: "policyTests", label: "policy test", command: "policy-test",
    section: "tests",
    fields: [
      ResourceField("from", .string, required: true, flag: "from", "The client: a resource's name"),
      ResourceField("to", .string, required: true, flag: "to", "The server: a resource's name"),
      ResourceField("protocol", .string, required: true, flag: "protocol", "tcp, udp or icmp"),
      ResourceField("port", .integer, flag: "port", "The destination port (TCP and UDP)"),
      ResourceField("icmpType", .integer, flag: "icmp-type", "The ICMP type"),
      ResourceField("icmpCode", .integer, flag: "icmp-code", "The ICMP code"),
      ResourceField(
        "expect", .string, required: true, flag: "expect", "allow or deny: what must happen"),
    ], iamType: "zpr-policy", permissions: "ZPR_POLICY",
    example: "web-to-db-closed --from web-1 --to db-1 --protocol tcp --port 5432 --expect deny")
  public static let group = ResourceSchema(
    "userGroup", path: "groups", label: "group",
    command: "group",
    fields: [
      description("Who is in it"),
      ResourceField("members", .strings, flag: "member", "A user in it"),
    ], iamType: "groups", permissions: "GROUP", operation: "Group",
    example: "network-admins --description 'The network team' --member alice")
  public static let iamPolicy = ResourceSchema(
    "iamPolicy", path: "iamPolicies", label: "IAM policy", plural: "IAM policies",
    command: "iam-policy",
    fields: [
      description(required: true, "What the IAM policy is for"),
      ResourceField("statements", .strings, required: true, flag: "statement", "An IAM statement"),
    ], iamType: "policies", permissions: "POLICY", operation: "Policy",
    example: "network --description 'The network team' --statement "
      + "'allow group network-admins to manage virtual-network-family in tenancy'")

  /// The kinds inside a VCN's element, in the tenancy file's order.
  public static let vcnParts = [routeTable, peeringGateway, securityList, nsg, subnet]

  /// The owners of VNICs, in the tenancy file's order.
  public static let owners = [instance, database, loadBalancer, privateEndpoint]

  /// Every kind, parents before their parts (the order `apply` creates them in, and the
  /// tenancy file's).
  public static let all: [ResourceSchema] =
    [namespace, attribute, compartment, vcn] + vcnParts + [drg] + owners + [
      policy, test, group, iamPolicy,
    ]

  /// The kinds whose section a tenancy file may leave out, to leave them as they are: who may
  /// change what is often kept apart from the network.
  public static let optionalSections = [
    group.section: group.kind, iamPolicy.section: iamPolicy.kind,
  ]

  /// The kind of that name (`vcn`).
  public static func named(_ kind: String) -> ResourceSchema? { all.first { $0.kind == kind } }

  /// The kind of that command (`route-table`).
  public static func command(_ command: String) -> ResourceSchema? {
    all.first { $0.command == command }
  }

  /// The ZPR configuration: one record, present once ZPR is enabled.
  public static let configurationKind = "zprConfiguration"
}
