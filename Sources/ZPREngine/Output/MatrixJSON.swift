public import ZPRModel
public import ZPRPolicy

extension ReachabilityMatrix {
  /// The matrix as JSON: the groups of endpoints and each cell's grants (docs/analysis.md).
  public func json(tenancy: Tenancy) -> JSONValue {
    .object([
      (
        "groups",
        .array(
          groups.enumerated().map { index, group in
            .object([
              ("id", .int(index + 1)), ("protected", .bool(group.protected)),
              ("endpoints", .array(group.names.map { .string($0) })),
            ])
          })
      ),
      (
        "cells",
        .array(
          cells.map { cell in
            .object([
              ("from", .int(cell.from + 1)), ("to", .int(cell.to + 1)),
              ("grants", .array(cell.grants.map { $0.json(tenancy: tenancy) })),
            ])
          })
      ),
    ])
  }
}

extension Grant {
  /// A grant as JSON: what it allows and the statement that allows it.
  public func json(tenancy: Tenancy) -> JSONValue {
    .object([
      ("protocol", .string(transport)),
      ("ports", ports.map { .string("\($0.lowerBound)-\($0.upperBound)") } ?? .null),
      ("icmpType", .int(icmpType)), ("icmpCode", .int(icmpCode)),
      ("policy", .string(tenancy.policies[statement.policy].name)),
      ("statement", .int(statement.statement)), ("stateful", .bool(stateful)),
    ])
  }
}

extension PolicyDiff {
  /// The diff as JSON: the pairs of endpoint groups that gain or lose access, with the
  /// statements (of `new` for gains, of `old` for losses).
  public func json(old: Tenancy, new: Tenancy) -> JSONValue {
    func access(_ access: Access, _ tenancy: Tenancy) -> JSONValue {
      .object([
        ("protocol", .string(access.transport)),
        ("ports", access.ports.map { .string("\($0.lowerBound)-\($0.upperBound)") } ?? .null),
        ("icmp", .string(access.message)),
        ("policy", .string(access.statement.map { tenancy.policies[$0.policy].name })),
        ("statement", .int(access.statement?.statement)),
      ])
    }
    return .object([
      ("changes", .int(changes.count)),
      (
        "pairs",
        .array(
          changes.map { change in
            .object([
              ("from", .array(change.from.map { .string($0) })),
              ("to", .array(change.to.map { .string($0) })),
              ("gained", .array(change.gained.map { access($0, new) })),
              ("lost", .array(change.lost.map { access($0, old) })),
            ])
          })
      ),
    ])
  }
}
