import ArgumentParser
import ZPRModel

// The kinds of resource `zpr` manages on a server, one command each (`zpr vcn list|get|create|
// update|delete`, namespaces and attributes also `lifecycle retire|reactivate`). Everything a
// command knows of its kind (its name, path, labels, fields, flags and help) comes from the
// kind's `ResourceSchema`; ArgumentParser needs a type per command, so each kind has one here,
// and a test holds this list to `ResourceSchema.all`. ZPR policies share `zpr policy` with the
// local check, fmt and parse.

/// ZPR policies on the server (the subcommands of `zpr policy` that talk to one).
enum ZPRPolicyResource: ClientResource {
  static let schema = ResourceSchema.policy
}

/// `zpr namespace` (``ResourceSchema/namespace``).
struct NamespaceCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.namespace
  static let configuration = commandConfiguration
}

/// `zpr attribute` (``ResourceSchema/attribute``).
struct AttributeCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.attribute
  static let configuration = commandConfiguration
}

/// `zpr compartment` (``ResourceSchema/compartment``).
struct CompartmentCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.compartment
  static let configuration = commandConfiguration
}

/// `zpr vcn` (``ResourceSchema/vcn``).
struct VCNCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.vcn
  static let configuration = commandConfiguration
}

/// `zpr subnet` (``ResourceSchema/subnet``).
struct SubnetCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.subnet
  static let configuration = commandConfiguration
}

/// `zpr route-table` (``ResourceSchema/routeTable``).
struct RouteTableCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.routeTable
  static let configuration = commandConfiguration
}

/// `zpr peering-gateway` (``ResourceSchema/peeringGateway``).
struct PeeringGatewayCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.peeringGateway
  static let configuration = commandConfiguration
}

/// `zpr security-list` (``ResourceSchema/securityList``).
struct SecurityListCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.securityList
  static let configuration = commandConfiguration
}

/// `zpr nsg` (``ResourceSchema/nsg``).
struct NSGCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.nsg
  static let configuration = commandConfiguration
}

/// `zpr drg` (``ResourceSchema/drg``).
struct DRGCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.drg
  static let configuration = commandConfiguration
}

/// `zpr instance` (``ResourceSchema/instance``).
struct InstanceCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.instance
  static let configuration = commandConfiguration
}

/// `zpr database` (``ResourceSchema/database``).
struct DatabaseCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.database
  static let configuration = commandConfiguration
}

/// `zpr load-balancer` (``ResourceSchema/loadBalancer``).
struct LoadBalancerCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.loadBalancer
  static let configuration = commandConfiguration
}

/// `zpr private-endpoint` (``ResourceSchema/privateEndpoint``).
struct PrivateEndpointCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.privateEndpoint
  static let configuration = commandConfiguration
}

/// `zpr policy-test` (``ResourceSchema/test``).
struct PolicyTestCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.test
  static let configuration = commandConfiguration
}

/// `zpr group` (``ResourceSchema/group``).
struct GroupCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.group
  static let configuration = commandConfiguration
}

/// `zpr iam-policy` (``ResourceSchema/iamPolicy``).
struct IAMPolicyCommand: AsyncParsableCommand, ClientResource {
  static let schema = ResourceSchema.iamPolicy
  static let configuration = commandConfiguration
}

/// Every resource command but `policy`, for the root command.
let resourceCommands: [any ParsableCommand.Type] = [
  NamespaceCommand.self, AttributeCommand.self, CompartmentCommand.self, VCNCommand.self,
  SubnetCommand.self, RouteTableCommand.self, PeeringGatewayCommand.self, SecurityListCommand.self,
  NSGCommand.self, DRGCommand.self, InstanceCommand.self, DatabaseCommand.self,
  LoadBalancerCommand.self, PrivateEndpointCommand.self, PolicyTestCommand.self, GroupCommand.self,
  IAMPolicyCommand.self,
]
