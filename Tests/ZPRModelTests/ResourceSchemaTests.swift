import Testing
import ZPRIAM
import ZPRPolicy

@testable import ZPRModel

@Suite("The resource schema")
struct ResourceSchemaTests {
  @Test("kinds, paths, commands and sections are unique, parents come first")
  func unique() {
    let all = ResourceSchema.all
    for key in [\ResourceSchema.kind, \.path, \.command, \.operation] {
      #expect(Set(all.map { $0[keyPath: key] }).count == all.count)
    }
    for (index, schema) in all.enumerated() {
      if let parent = schema.parent {
        let parentIndex = all.firstIndex { $0.kind == parent.kind }
        #expect(parentIndex != nil && parentIndex! < index, "\(schema) comes before its parent")
      }
      #expect(Set(schema.keys).count == schema.keys.count, "\(schema) repeats a key")
      #expect(Set(schema.flags.map(\.name)).count == schema.flags.count, "\(schema) repeats a flag")
    }
  }

  @Test("every kind's IAM type is in the permission catalog, with the kind's permissions")
  func iam() throws {
    for schema in ResourceSchema.all {
      let type = try #require(PermissionCatalog.type(named: schema.iamType), "\(schema)")
      for action in ["INSPECT", "READ", "CREATE", "UPDATE", "DELETE"] {
        #expect(
          type.allPermissions.contains(schema.permission(action)),
          "\(schema): \(schema.iamType) lacks \(schema.permission(action))")
      }
    }
  }

  @Test("the tenancy file reads every kind's section")
  func tenancyFile() {
    let top = ResourceSchema.all.filter { $0.parent == nil }.map { "\($0.section): []" }
    let loaded = TenancyFile.load(
      SourceFile(path: "t.yaml", text: top.joined(separator: "\n") + "\n"))
    #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
    #expect(loaded.sections == Set(ResourceSchema.all.filter { $0.parent == nil }.map(\.section)))
  }

  @Test("flags make an instance's element, its first VNIC included")
  func instanceFlags() throws {
    let members = try ResourceSchema.instance.members(fromFlags: [
      "--subnet", "prod/front", "--ip", "10.0.1.10", "--ip=10.0.1.11", "--attribute",
      "app.tier=web", "--attribute", "owner=ops", "--nsg", "web",
    ])
    #expect(
      JSONValue.object(members).serialized(pretty: false)
        == #"{"securityAttributes":{"app.tier":"web","owner":"ops"},"#
        + #""vnics":[{"subnet":"prod/front","ips":["10.0.1.10","10.0.1.11"],"nsgs":["web"]}]}"#)
  }

  @Test("flags of rules, numbers, lists and --set take their shapes")
  func shapes() throws {
    let list = try ResourceSchema.securityList.members(fromFlags: [
      "--vcn", "prod", "--ingress", "protocol=tcp,source=10.0.0.0/8,ports=22",
      "--ingress", "protocol=icmp,source=0.0.0.0/0,icmpType=8,stateless=true",
    ])
    #expect(
      JSONValue.object(list).serialized(pretty: false)
        == #"{"vcn":"prod","ingress":[{"protocol":"tcp","source":"10.0.0.0/8","ports":"22"},"#
        + #"{"protocol":"icmp","source":"0.0.0.0/0","icmpType":8,"stateless":true}]}"#)
    let test = try ResourceSchema.test.members(fromFlags: [
      "--from", "web-1", "--to", "db-1", "--protocol", "tcp", "--port", "5432", "--expect", "deny",
    ])
    #expect(test.first { $0.0 == "port" }?.1 == .int(5432))
    let set = try ResourceSchema.instance.members(fromFlags: [
      "--set", #"vnics=[{"subnet":"a/b","ip":"10.0.0.1"}]"#, "--set", "compartment=prod",
    ])
    #expect(set.map(\.0) == ["compartment", "vnics"])
    #expect(set[0].1 == .string("prod"))
  }

  @Test(
    "a wrong flag is refused with the fix",
    arguments: [
      (["--cidrs", "10.0.0.0/8"], "`zpr subnet` has no flag --cidrs: did you mean --cidr?"),
      (["--cidr"], "--cidr needs a value: write --cidr VALUE"),
      (["front"], "'front' is not a flag of `zpr subnet`"),
      (["--set", "color=red"], "a subnet has no field 'color'"),
    ])
  func refused(arguments: [String], message: String) {
    #expect {
      _ = try ResourceSchema.subnet.members(fromFlags: arguments)
    } throws: { error in
      let error = error as? ModelError
      return error?.code == .invalidFlag && error?.message.hasPrefix(message) == true
    }
  }

  @Test("an element reads from JSON and from YAML alike")
  func elements() throws {
    let json = try ResourceSchema.element(fromYAML: #"{"name": "web-1", "port": 443, "on": true}"#)
    let yaml = try ResourceSchema.element(fromYAML: "name: web-1\nport: 443\n'on': true\n")
    #expect(json == yaml)
    #expect(json["port"] == .int(443))
    #expect(throws: ModelError.self) { _ = try ResourceSchema.element(fromYAML: "a: [b") }
  }
}
