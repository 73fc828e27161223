/// Where a namespace or attribute is in its life: `ACTIVE` -> `INACTIVE` (retired) ->
/// `DELETING` -> `DELETED`, and back from `INACTIVE` to `ACTIVE` by reactivation.
public enum LifecycleState: String, Hashable, Sendable, Codable, CaseIterable {
  /// In use: may be applied and named by policies.
  case active = "ACTIVE"
  /// Retired: kept, but may not be applied anew; may be reactivated or deleted.
  case inactive = "INACTIVE"
  /// Being deleted.
  case deleting = "DELETING"
  /// Deleted: kept for the record; its name may be used again.
  case deleted = "DELETED"

  /// Whether the object still exists for naming purposes (not deleting or deleted).
  public var isLive: Bool { self == .active || self == .inactive }
}
