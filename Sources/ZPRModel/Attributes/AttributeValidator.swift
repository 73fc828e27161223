import ZPRPolicy

/// What values an attribute accepts: `DEFAULT` (any static value the user types) or `ENUM` (a
/// list of allowed values).
public enum AttributeValidator: Hashable, Sendable {
  /// `DEFAULT`: any non-empty value.
  case anyValue
  /// `ENUM`: one of these values (compared exactly, case included).
  case oneOf([String])

  /// `DEFAULT` or `ENUM`, as the API and files name them.
  public var kind: String {
    switch self {
    case .anyValue: "DEFAULT"
    case .oneOf: "ENUM"
    }
  }

  /// Whether a value passes.
  public func accepts(_ value: String) -> Bool {
    switch self {
    case .anyValue: !value.isEmpty
    case .oneOf(let values): values.contains(value)
    }
  }

  /// Checks an ENUM list: at least one value, none empty, no duplicates, within the limit.
  func validate(limits: ZPRLimits, attribute: String) throws(ModelError) {
    guard case .oneOf(let values) = self else { return }
    guard !values.isEmpty else {
      throw ModelError(
        .invalidValidator,
        "the ENUM validator of '\(attribute)' lists no values: give at least one, or use DEFAULT "
          + "to accept any value")
    }
    if values.contains(where: \.isEmpty) {
      throw ModelError(
        .invalidValidator, "the ENUM validator of '\(attribute)' lists an empty value: remove it")
    }
    var seen = Set<String>()
    for value in values where !seen.insert(value).inserted {
      throw ModelError(
        .invalidValidator,
        "the ENUM validator of '\(attribute)' lists '\(value)' twice: list each value once")
    }
    guard values.count <= limits.valuesPerEnum else {
      throw ModelError(
        .limitExceeded,
        "the ENUM validator of '\(attribute)' lists \(values.count) values; an attribute takes at "
          + "most \(limits.valuesPerEnum) (the valuesPerEnum limit): remove some, or use DEFAULT")
    }
  }
}
