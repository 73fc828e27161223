import ZPRPolicy

/// A part of a VCN, named by the VCN and its own name.
struct PartKey: Hashable, Sendable {
  var vcn: String
  var name: String
}

/// An attribute as applied, named without regard to case (as the catalog compares names).
struct AttributeKey: Hashable, Sendable {
  var namespace: String
  var key: String

  init(namespace: String, key: String) {
    self.namespace = SecurityAttributeName.folded(namespace)
    self.key = SecurityAttributeName.folded(key)
  }

  init(_ attribute: AppliedAttribute) {
    self.init(namespace: attribute.namespace, key: attribute.key)
  }
}

/// What the incremental checker knows about the resources of a consistent tenancy (so each
/// name is unique, and each IP of a VCN has one owner), kept up to date change by change: a
/// change to one resource updates the entries of that resource alone.
struct ResourceIndex: Sendable {
  /// Each resource's ordinal: a number that orders resources as the tenancy lists them and
  /// does not change, so that removing one does not renumber the others. Ordinals are spaced,
  /// so that one put between two others (a new resource of an earlier kind) takes the number
  /// between theirs; only when none is left are they numbered again.
  private var ordinalOf: [String: Int] = [:]
  /// The ordinals, in the tenancy's order (ascending): a position by binary search.
  private var ordinals: [Int] = []
  private static let spacing = 1 << 20
  /// The owner of each IP, by VCN.
  private(set) var ipOwners: [String: [IPAddress: String]] = [:]
  /// The resources with a VNIC in each VCN, subnet, NSG; in each compartment; carrying each
  /// attribute (on themselves or a VNIC).
  private(set) var vcnUsers: [String: Set<String>] = [:]
  private(set) var subnetUsers: [PartKey: Set<String>] = [:]
  private(set) var groupUsers: [PartKey: Set<String>] = [:]
  private(set) var compartmentUsers: [String: Set<String>] = [:]
  private(set) var carriers: [AttributeKey: Set<String>] = [:]
  /// How many test ends name each resource.
  private(set) var testEnds: [String: Int] = [:]

  /// Indexes a tenancy (linear).
  init(_ tenancy: Tenancy) {
    for (position, resource) in tenancy.resources.enumerated() {
      ordinals.append(position * Self.spacing)
      ordinalOf[resource.name] = position * Self.spacing
      update(resource, adding: true)
    }
    for test in tenancy.tests { count(test, by: 1) }
  }

  /// The position of the resource of that name.
  func position(of name: String) -> Int? {
    guard let ordinal = ordinalOf[name] else { return nil }
    var (low, high) = (0, ordinals.count)
    while low < high {
      let middle = (low + high) / 2
      if ordinals[middle] < ordinal { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// The positions of the resources of these names, in order.
  func positions(of names: some Sequence<String>) -> [Int] {
    names.compactMap(position).sorted()
  }

  /// Records a resource put at a position: a new one (placed already, with ``place(_:at:)``,
  /// or else placed now), or one replacing another (`old`).
  mutating func insert(_ resource: Resource, at position: Int, replacing old: Resource? = nil) {
    if let old {
      let ordinal = ordinalOf.removeValue(forKey: old.name)!
      ordinalOf[resource.name] = ordinal
      update(old, adding: false)
    } else if ordinalOf[resource.name] == nil {
      place(resource.name, at: position)
    }
    update(resource, adding: true)
  }

  /// Gives a new resource its place in the order, between the ones around it.
  mutating func place(_ name: String, at position: Int) {
    func bounds() -> (Int, Int) {
      let before = position > 0 ? ordinals[position - 1] : -Self.spacing
      let after = position < ordinals.count ? ordinals[position] : before + 2 * Self.spacing
      return (before, after)
    }
    var (before, after) = bounds()
    if after - before < 2 {
      // No number is left between them (a million insertions at one place): number them all
      // again, spaced.
      let names = Dictionary(uniqueKeysWithValues: ordinalOf.map { ($1, $0) })
      for (place, ordinal) in ordinals.enumerated() {
        ordinals[place] = place * Self.spacing
        ordinalOf[names[ordinal]!] = place * Self.spacing
      }
      (before, after) = bounds()
    }
    let ordinal = before + (after - before) / 2
    ordinals.insert(ordinal, at: position)
    ordinalOf[name] = ordinal
  }

  /// Takes back the place given to a new resource that was refused.
  mutating func unplace(_ name: String, at position: Int) {
    ordinals.remove(at: position)
    ordinalOf[name] = nil
  }

  /// Forgets the resource at a position.
  mutating func remove(_ resource: Resource, at position: Int) {
    ordinals.remove(at: position)
    ordinalOf[resource.name] = nil
    update(resource, adding: false)
  }

  /// Counts (or uncounts) the resources a test names.
  mutating func count(_ test: PolicyTest, by step: Int) {
    for end in [test.from, test.to] where IPAddress(end) == nil {
      let name = String(end.prefix { $0 != "/" })
      testEnds[name, default: 0] += step
      if testEnds[name] == 0 { testEnds[name] = nil }
    }
  }

  private mutating func update(_ resource: Resource, adding: Bool) {
    let name = resource.name
    func edit<Key: Hashable>(_ table: inout [Key: Set<String>], _ key: Key) {
      if adding {
        table[key, default: []].insert(name)
      } else {
        table[key]?.remove(name)
        if table[key]?.isEmpty == true { table[key] = nil }
      }
    }
    if let compartment = resource.compartment { edit(&compartmentUsers, compartment) }
    for attribute in resource.securityAttributes { edit(&carriers, AttributeKey(attribute)) }
    for vnic in resource.vnics {
      edit(&vcnUsers, vnic.vcn)
      edit(&subnetUsers, PartKey(vcn: vnic.vcn, name: vnic.subnet))
      for group in vnic.networkSecurityGroups {
        edit(&groupUsers, PartKey(vcn: vnic.vcn, name: group))
      }
      for attribute in vnic.securityAttributes { edit(&carriers, AttributeKey(attribute)) }
      for ip in vnic.ips {
        if adding {
          ipOwners[vnic.vcn, default: [:]][ip] = name
        } else if ipOwners[vnic.vcn]?[ip] == name {
          ipOwners[vnic.vcn]?[ip] = nil
        }
      }
    }
  }
}
