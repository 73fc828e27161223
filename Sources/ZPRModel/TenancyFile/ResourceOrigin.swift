/// Where a resource of the model was written, kept compactly: a tenancy holds up to hundreds
/// of thousands of resources, so the places of their parts are worked out from the YAML nodes
/// only when a problem is reported there, not recorded one by one as the file is read.
struct ResourceOrigin {
  /// The file's section (`instances`) and the resource's index in it.
  var section: String
  var index: Int
  var node: YAMLNode
  /// The VNICs read, in model order.
  var vnics: [VNICOrigin] = []

  var filePath: String { "\(section)[\(index)]" }
}

/// Where a VNIC of the model was written.
struct VNICOrigin {
  /// Where an address read came from: the VNIC's `ip`, or an element of its `ips`.
  enum Address {
    case single
    case listed(Int)
  }

  /// The VNIC's index in its resource's `vnics` in the file.
  var index: Int
  var node: YAMLNode
  /// The addresses read, in model order.
  var ips: [(node: YAMLNode, source: Address)] = []
  /// The file indexes of the NSG names read, in model order.
  var networkSecurityGroups: [(node: YAMLNode, index: Int)] = []
}

extension [ResourceOrigin] {
  /// Where the model element at a path under `resources[N]` was written, if the path names
  /// something the file has (`resources[2].vnics[0].ips[1]`).
  func location(of modelPath: String) -> YAMLReader.Location? {
    // The common case, a whole resource, without splitting the path.
    if modelPath.hasPrefix("resources["), modelPath.last == "]",
      let number = Int(modelPath.dropFirst(10).dropLast()), number >= 0, number < count
    {
      return YAMLReader.Location(range: self[number].node.range, filePath: self[number].filePath)
    }
    let parts = Self.components(modelPath)
    guard let first = parts.first, first.name == "resources", let number = first.index,
      number < count
    else { return nil }
    let resource = self[number]
    guard parts.count > 1 else {
      return YAMLReader.Location(range: resource.node.range, filePath: resource.filePath)
    }
    switch (parts[1].name, parts[1].index) {
    case ("name", nil), ("compartment", nil), ("securityAttributes", nil), ("vnics", nil):
      guard parts.count == 2 else { return nil }
      return Self.field(parts[1].name, of: resource.node, at: resource.filePath)
    case ("vnics", let vnicNumber?):
      guard vnicNumber < resource.vnics.count else { return nil }
      let vnic = resource.vnics[vnicNumber]
      let path = "\(resource.filePath).vnics[\(vnic.index)]"
      guard parts.count > 2 else {
        return YAMLReader.Location(range: vnic.node.range, filePath: path)
      }
      guard parts.count == 3 else { return nil }
      switch (parts[2].name, parts[2].index) {
      case ("subnet", nil), ("securityAttributes", nil):
        return Self.field(parts[2].name, of: vnic.node, at: path)
      case ("ips", nil):
        return Self.field("ip", of: vnic.node, at: path)
          ?? Self.field("ips", of: vnic.node, at: path)
      case ("ips", let ipNumber?):
        guard ipNumber < vnic.ips.count else { return nil }
        let (node, source) = vnic.ips[ipNumber]
        switch source {
        case .single: return YAMLReader.Location(range: node.range, filePath: "\(path).ip")
        case .listed(let index):
          return YAMLReader.Location(range: node.range, filePath: "\(path).ips[\(index)]")
        }
      case ("networkSecurityGroups", let groupNumber?):
        guard groupNumber < vnic.networkSecurityGroups.count else { return nil }
        let (node, index) = vnic.networkSecurityGroups[groupNumber]
        return YAMLReader.Location(range: node.range, filePath: "\(path).nsgs[\(index)]")
      default:
        return nil
      }
    default:
      return nil
    }
  }

  /// A mapping's value for a key, with the key added to the path.
  private static func field(_ key: Substring, of node: YAMLNode, at path: String)
    -> YAMLReader.Location?
  {
    guard case .mapping(let pairs, _) = node,
      let pair = pairs.first(where: { $0.key.string.map { $0[...] == key } ?? false })
    else { return nil }
    return YAMLReader.Location(range: pair.value.range, filePath: "\(path).\(key)")
  }

  /// `resources[3].vnics[0].ips` as its names and indexes.
  private static func components(_ path: String) -> [(name: Substring, index: Int?)] {
    path.split(separator: ".", omittingEmptySubsequences: false).map { part in
      guard let open = part.firstIndex(of: "["), part.last == "]" else { return (part, nil) }
      return (part[..<open], Int(part[part.index(after: open)..<part.index(before: part.endIndex)]))
    }
  }
}
