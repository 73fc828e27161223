import ArgumentParser

// The kinds of resource `zpr` manages on a server; each is `zpr <command> list|get|create|
// update|delete` (namespaces and attributes also `lifecycle retire|reactivate`). ZPR policies
// share `zpr policy` with the local check, fmt and parse.

/// ZPR policies on the server (the subcommands of `zpr policy` that talk to one).
enum ZPRPolicyResource: ClientResource {
  static let command = "policy"
  static let path = "zprPolicies"
  static let label = "ZPR policy"
  static let plural = "ZPR policies"
}

/// `zpr namespace`: security attribute namespaces on the server.
struct NamespaceCommand: AsyncParsableCommand, ClientResource {
  static let command = "namespace"
  static let path = "securityAttributeNamespaces"
  static let label = "security attribute namespace"
  static let hasLifecycle = true
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage security attribute namespaces on a zpr server.",
    subcommands: subcommands)
}

/// `zpr attribute`: security attributes on the server.
struct AttributeCommand: AsyncParsableCommand, ClientResource {
  static let command = "attribute"
  static let path = "securityAttributes"
  static let label = "security attribute"
  static let hasLifecycle = true
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage security attributes on a zpr server.",
    subcommands: subcommands)
}

/// `zpr compartment`: compartments on the server.
struct CompartmentCommand: AsyncParsableCommand, ClientResource {
  static let command = "compartment"
  static let path = "compartments"
  static let label = "compartment"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage compartments on a zpr server.", subcommands: subcommands
  )
}

/// `zpr vcn`: VCNs on the server.
struct VCNCommand: AsyncParsableCommand, ClientResource {
  static let command = "vcn"
  static let path = "vcns"
  static let label = "VCN"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage VCNs on a zpr server.", subcommands: subcommands)
}

/// `zpr subnet`: subnets on the server.
struct SubnetCommand: AsyncParsableCommand, ClientResource {
  static let command = "subnet"
  static let path = "subnets"
  static let label = "subnet"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage subnets on a zpr server.", subcommands: subcommands)
}

/// `zpr route-table`: route tables on the server.
struct RouteTableCommand: AsyncParsableCommand, ClientResource {
  static let command = "route-table"
  static let path = "routeTables"
  static let label = "route table"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage route tables on a zpr server.", subcommands: subcommands
  )
}

/// `zpr peering-gateway`: local peering gateways on the server.
struct PeeringGatewayCommand: AsyncParsableCommand, ClientResource {
  static let command = "peering-gateway"
  static let path = "localPeeringGateways"
  static let label = "local peering gateway"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage local peering gateways on a zpr server.",
    subcommands: subcommands)
}

/// `zpr security-list`: security lists on the server.
struct SecurityListCommand: AsyncParsableCommand, ClientResource {
  static let command = "security-list"
  static let path = "securityLists"
  static let label = "security list"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage security lists on a zpr server.",
    subcommands: subcommands)
}

/// `zpr nsg`: network security groups on the server.
struct NSGCommand: AsyncParsableCommand, ClientResource {
  static let command = "nsg"
  static let path = "networkSecurityGroups"
  static let label = "network security group"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage network security groups on a zpr server.",
    subcommands: subcommands)
}

/// `zpr drg`: dynamic routing gateways on the server.
struct DRGCommand: AsyncParsableCommand, ClientResource {
  static let command = "drg"
  static let path = "drgs"
  static let label = "dynamic routing gateway"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage dynamic routing gateways on a zpr server.",
    subcommands: subcommands)
}

/// `zpr instance`: instances on the server.
struct InstanceCommand: AsyncParsableCommand, ClientResource {
  static let command = "instance"
  static let path = "instances"
  static let label = "instance"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage instances on a zpr server.", subcommands: subcommands)
}

/// `zpr database`: databases on the server.
struct DatabaseCommand: AsyncParsableCommand, ClientResource {
  static let command = "database"
  static let path = "databases"
  static let label = "database"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage databases on a zpr server.", subcommands: subcommands)
}

/// `zpr load-balancer`: load balancers on the server.
struct LoadBalancerCommand: AsyncParsableCommand, ClientResource {
  static let command = "load-balancer"
  static let path = "loadBalancers"
  static let label = "load balancer"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage load balancers on a zpr server.",
    subcommands: subcommands)
}

/// `zpr private-endpoint`: private endpoints on the server.
struct PrivateEndpointCommand: AsyncParsableCommand, ClientResource {
  static let command = "private-endpoint"
  static let path = "privateEndpoints"
  static let label = "private endpoint"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage private endpoints on a zpr server.",
    subcommands: subcommands)
}

/// `zpr policy-test`: policy tests on the server.
struct PolicyTestCommand: AsyncParsableCommand, ClientResource {
  static let command = "policy-test"
  static let path = "policyTests"
  static let label = "policy test"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage policy tests on a zpr server.", subcommands: subcommands
  )
}

/// `zpr iam-policy`: IAM policies on the server (who may change what).
struct IAMPolicyCommand: AsyncParsableCommand, ClientResource {
  static let command = "iam-policy"
  static let path = "iamPolicies"
  static let label = "IAM policy"
  static let plural = "IAM policies"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage IAM policies on a zpr server.",
    subcommands: subcommands)
}

/// `zpr group`: groups of users on the server, named by IAM statements.
struct GroupCommand: AsyncParsableCommand, ClientResource {
  static let command = "group"
  static let path = "groups"
  static let label = "group"
  static let plural = "groups"
  static let configuration = CommandConfiguration(
    commandName: command, abstract: "Manage groups of users on a zpr server.",
    subcommands: subcommands)
}

/// Every resource command but `policy`, for the root command.
let resourceCommands: [any ParsableCommand.Type] = [
  NamespaceCommand.self, AttributeCommand.self, CompartmentCommand.self, VCNCommand.self,
  SubnetCommand.self, RouteTableCommand.self, PeeringGatewayCommand.self, SecurityListCommand.self,
  NSGCommand.self, DRGCommand.self, InstanceCommand.self, DatabaseCommand.self,
  LoadBalancerCommand.self, PrivateEndpointCommand.self, PolicyTestCommand.self,
  GroupCommand.self, IAMPolicyCommand.self,
]
