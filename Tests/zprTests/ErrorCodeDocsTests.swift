import Foundation
import Testing

/// Every stable error code the source defines is documented: a user who meets one finds what it
/// means and what to do.
@Suite("Error codes are documented")
struct ErrorCodeDocsTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The `ZPR-...-NNN` codes written in the sources.
  static func codes() throws -> Set<String> {
    let sources = root.appendingPathComponent("Sources")
    let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
    let pattern = try Regex(#""(ZPR-[A-Z]+-[0-9]{3})""#)
    var codes: Set<String> = []
    for case let file as URL in files where file.pathExtension == "swift" {
      let text = try String(contentsOf: file, encoding: .utf8)
      for match in text.matches(of: pattern) {
        codes.insert(String(text[match.range].dropFirst().dropLast()))
      }
    }
    return codes
  }

  @Test func everyCodeIsInTheDocs() throws {
    let docs = Self.root.appendingPathComponent("docs")
    var text = ""
    for name in try FileManager.default.contentsOfDirectory(atPath: docs.path)
    where name.hasSuffix(".md") {
      text += try String(contentsOf: docs.appendingPathComponent(name), encoding: .utf8)
    }
    let codes = try Self.codes()
    #expect(codes.count > 100, "the scan found \(codes.count) codes")
    for code in codes.sorted() {
      #expect(
        text.contains("| \(code) |") || text.contains("| \(code),") || text.contains("`\(code)`"),
        "\(code) is not documented in docs/")
    }
  }
}
