import Testing
import ZPRPolicy

@Suite("IP addresses and prefixes")
struct AddressTests {
  @Test(arguments: [
    ("10.0.0.15", "10.0.0.15"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
    ("fd00::15", "fd00::15"), ("::", "::"), ("::1", "::1"), ("FD00:0:0:0:0:0:0:1", "fd00::1"),
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    ("::FFFF:a00:1", "::ffff:10.0.0.1"),
    ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::", "1::"),
  ])
  func parsesAndPrintsCanonically(text: String, canonical: String) throws {
    let address = try #require(IPAddress(text))
    #expect(address.description == canonical)
    #expect(IPAddress(canonical) == address)
  }

  @Test(arguments: [
    "", "10.0.0", "10.0.0.256", "10.0.0.1.2", "010.0.0.1", "10..0.1", "10.0.0.", "1:2:3:4:5:6:7",
    "1::2::3", ":1:2", "1:2:3:4:5:6:7:8:9", "fd00::g", "12345::", "a", "10.0.0.1a",
  ])
  func rejectsMalformedAddresses(text: String) {
    #expect(IPAddress(text) == nil)
  }

  @Test func prefixesParseAndContain() throws {
    let block = try IPPrefix.parse("10.0.0.0/16").get()
    #expect(block.length == 16 && !block.isHost && !block.hasHostBits)
    #expect(block.contains(try IPPrefix.parse("10.0.3.0/24").get()))
    #expect(!block.contains(try IPPrefix.parse("10.1.0.0/24").get()))
    #expect(!block.contains(try IPPrefix.parse("10.0.0.0/8").get()))
    #expect(try IPPrefix.parse("0.0.0.0/0").get().contains(try #require(IPAddress("1.2.3.4"))))
    #expect(try IPPrefix.parse("10.0.0.5/16").get().hasHostBits)
    #expect(try IPPrefix.parse("10.0.0.5").get().isHost)
    #expect(try IPPrefix.parse("fd00::/8").get().contains(try #require(IPAddress("fd12::1"))))
    #expect(try IPPrefix.parse("10.0.0.5/32").get().description == "10.0.0.5")
    #expect(IPPrefix.parse("10.0.0.0/33") == .failure(.invalidLength(maximum: 32)))
    #expect(IPPrefix.parse("fd00::/129") == .failure(.invalidLength(maximum: 128)))
    #expect(IPPrefix.parse("10.0.0.0/") == .failure(.invalidLength(maximum: 32)))
    #expect(IPPrefix.parse("10.0.0/8") == .failure(.invalidAddress))
    // IPv4 and IPv6 never contain each other.
    #expect(!(try IPPrefix.parse("::/0").get().contains(try #require(IPAddress("10.0.0.1")))))
  }
}
