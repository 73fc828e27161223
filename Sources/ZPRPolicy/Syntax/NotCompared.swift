/// Wraps a value that equality and hashing ignore, such as a node's source range, so that two
/// syntax trees compare equal when they say the same thing, wherever it was written.
@propertyWrapper
public struct NotCompared<Value: Sendable>: Hashable, Sendable {
  /// The wrapped value.
  public var wrappedValue: Value

  /// Wraps a value.
  public init(wrappedValue: Value) {
    self.wrappedValue = wrappedValue
  }

  public static func == (lhs: NotCompared, rhs: NotCompared) -> Bool { true }

  public func hash(into hasher: inout Hasher) {}
}
