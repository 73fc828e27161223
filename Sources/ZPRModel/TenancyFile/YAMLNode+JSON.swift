public import ZPRPolicy

extension ResourceSchema {
  /// One element written as JSON or YAML (as in a tenancy file's section), as JSON: plain
  /// scalars that YAML reads as null, booleans or whole numbers become those, every other
  /// scalar text. Refuses text that is neither, or that breaks the file's limits.
  public static func element(fromYAML text: String) throws(ModelError) -> JSONValue {
    let source = SourceFile(path: "element", text: text)
    let root: YAMLNode?
    do {
      root = try YAMLDocument.read(source)
    } catch let refusal as YAMLRefusal {
      throw ModelError(.invalidElement, refusal.message)
    } catch {
      throw ModelError(
        .invalidElement, "it is neither JSON nor YAML (\(error)): write the element as one object")
    }
    return root.map(\.json) ?? .null
  }
}

extension YAMLNode {
  /// The node as JSON.
  var json: JSONValue {
    switch self {
    case .mapping(let pairs, _): .object(pairs.map { ($0.key.string ?? "", $0.value.json) })
    case .sequence(let items, _): .array(items.map(\.json))
    case .scalar(let scalar):
      if scalar.style != .plain {
        .string(scalar.text)
      } else if isNull {
        .null
      } else if let bool = ["true": true, "false": false][scalar.text] {
        .bool(bool)
      } else if let number = Int(scalar.text) {
        .int(number)
      } else {
        .string(scalar.text)
      }
    }
  }
}
