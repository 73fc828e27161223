public import ZPRPolicy

extension ResourceSchema {
  /// The element's fields that command-line flags give (`--cidr 10.0.0.0/16 --attribute
  /// app.tier=web`, also `--cidr=...`), as JSON members in the order of the kind's fields, and
  /// the name of the parent (`--vcn prod`) among them. `--set KEY=VALUE` sets any field, the
  /// value read as JSON when it is JSON (`--set 'vnics=[...]'`) and as text otherwise. Refuses
  /// an unknown flag, a flag without a value and a value of the wrong shape, naming the fix.
  public func members(fromFlags arguments: [String]) throws(ModelError) -> [(String, JSONValue)] {
    let flags = self.flags
    var values: [String: JSONValue] = [:]
    var firsts: [String: [(String, JSONValue)]] = [:]
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      guard argument.hasPrefix("--"), argument.count > 2 else {
        throw ModelError(
          .invalidFlag,
          "'\(argument)' is not a flag of `zpr \(command)`: give fields as --FLAG VALUE "
            + "(\(flagList))")
      }
      var name = String(argument.dropFirst(2))
      var value: String?
      if let equals = name.firstIndex(of: "=") {
        value = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
      }
      if value == nil {
        guard index + 1 < arguments.count else {
          throw ModelError(.invalidFlag, "--\(name) needs a value: write --\(name) VALUE")
        }
        index += 1
        value = arguments[index]
      }
      index += 1
      if name == "set" {
        let (key, text) = try Self.pair(value!, flag: "set", example: "KEY=VALUE")
        guard keys.contains(key), key != "name" else {
          throw ModelError(
            .invalidFlag,
            "\(withArticle) has no field '\(key)': its fields are \(keys.dropFirst().joined(separator: ", "))"
          )
        }
        values[key] = (try? JSONValue.parse(text)) ?? .string(text)
        continue
      }
      guard let flag = flags.first(where: { $0.name == name }) else {
        let suggestion = Suggestions.closest(to: name, among: flags.map(\.name))
        throw ModelError(
          .invalidFlag,
          "`zpr \(command)` has no flag --\(name)"
            + (suggestion.map { ": did you mean --\($0)?" } ?? "") + " (its flags: \(flagList))")
      }
      let parsed = try Self.value(value!, flag: flag)
      if let list = flag.inFirstOf {
        var members = firsts[list] ?? []
        Self.merge(flag.field, parsed, into: &members)
        firsts[list] = members
      } else {
        var members = values[flag.field.key].map { [(flag.field.key, $0)] } ?? []
        Self.merge(flag.field, parsed, into: &members)
        values[flag.field.key] = members[0].1
      }
    }
    for (list, members) in firsts {
      guard values[list] == nil else {
        throw ModelError(
          .invalidFlag,
          "give the \(list) either with --set \(list)=... or with their flags, not both")
      }
      values[list] = .array([.object(members)])
    }
    return keys.compactMap { key in values[key].map { (key, $0) } }
  }

  /// Every flag, for messages.
  private var flagList: String {
    (flags.map { "--\($0.name)" } + ["--set KEY=VALUE"]).joined(separator: ", ")
  }

  /// Adds a flag's value to the members: a list grows, attributes and fields are set.
  private static func merge(
    _ field: ResourceField, _ value: JSONValue, into members: inout [(String, JSONValue)]
  ) {
    guard let index = members.firstIndex(where: { $0.0 == field.key }) else {
      members.append((field.key, value))
      return
    }
    switch (members[index].1, value) {
    case (.array(let old), .array(let new)): members[index].1 = .array(old + new)
    case (.object(let old), .object(let new)):
      members[index].1 = .object(old.filter { key, _ in !new.contains { $0.0 == key } } + new)
    default: members[index].1 = value
    }
  }

  /// One flag's value in the shape of its field.
  private static func value(_ text: String, flag: ResourceFlag) throws(ModelError) -> JSONValue {
    switch flag.field.shape {
    case .string: return .string(text)
    case .integer:
      guard let number = Int(text) else {
        throw ModelError(.invalidFlag, "--\(flag.name) takes a whole number, not '\(text)'")
      }
      return .int(number)
    case .boolean:
      guard let bool = Bool(text) else {
        throw ModelError(.invalidFlag, "--\(flag.name) takes true or false, not '\(text)'")
      }
      return .bool(bool)
    case .strings: return .array([.string(text)])
    case .attributes:
      let (key, value) = try pair(text, flag: flag.name, example: "app.tier=web")
      return .object([(key, .string(value))])
    case .objects:
      var members: [(String, JSONValue)] = []
      for item in text.split(separator: ",", omittingEmptySubsequences: false) {
        let (key, value) = try pair(
          String(item), flag: flag.name, example: "KEY=VALUE,KEY=VALUE")
        guard let part = flag.field.parts.first(where: { $0.key == key }) else {
          throw ModelError(
            .invalidFlag,
            "--\(flag.name): '\(key)' is not a field of it; its fields are "
              + flag.field.parts.map(\.key).joined(separator: ", "))
        }
        members.append(
          (key, try Self.value(value, flag: ResourceFlag(name: "\(flag.name) \(key)", field: part)))
        )
      }
      return .array([.object(members)])
    }
  }

  /// `KEY=VALUE`, split at the first `=`.
  private static func pair(_ text: String, flag: String, example: String) throws(ModelError) -> (
    String, String
  ) {
    guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
      throw ModelError(
        .invalidFlag, "--\(flag) takes \(example), not '\(text)': put an = between them")
    }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
  }
}

extension ResourceFlag {
  init(name: String, field: ResourceField) {
    self.init(name: name, field: field, inFirstOf: nil)
  }
}
