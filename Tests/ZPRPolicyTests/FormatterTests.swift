import Testing
import ZPRPolicy

@Suite("The canonical formatter")
struct FormatterTests {
  @Test(arguments: [
    (
      "IN networks:prod vcn ALLOW app:web TO CONNECT TO app:db WITH protocol = 'TCP/5432'",
      "in networks:prod VCN allow app:web endpoints to connect to app:db endpoints with protocol='tcp/5432'"
    ),
    (
      "in n:p VCN allow a:w to connect to 10.0.0.15",
      "in n:p VCN allow a:w endpoints to connect to '10.0.0.15'"
    ),
    (
      "in n:p VCN allow a:w to connect to '10.0.0.15/32'",
      "in n:p VCN allow a:w endpoints to connect to '10.0.0.15'"
    ),
    (
      "in n:p VCN allow a:w to connect to FD00:0:0::/64",
      "in n:p VCN allow a:w endpoints to connect to 'fd00::/64'"
    ),
    (
      "in n:p VCN allow a:w to connect to osn-services-ip-endpoints",
      "in n:p VCN allow a:w endpoints to connect to 'osn-services-ip-addresses'"
    ),
    (
      "in n:p VCN allow 'a:w' to connect to 'ns.k:dev and test''s db'",
      "in n:p VCN allow a:w endpoints to connect to 'ns.k:dev and test''s db' endpoints"
    ),
    (
      "in n:p VCN allow a:w to connect to a:d with connection-state='STATELESS' with protocol='tcp/80, 22'",
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='tcp/22,80', connection-state='stateless'"
    ),
    (
      "in n:p VCN allow a:w to connect to a:d with protocol.icmp.type='8', protocol='ICMP'",
      "in n:p VCN allow a:w endpoints to connect to a:d endpoints with protocol='icmp', protocol.icmp.type='8'"
    ),
    (
      "Allow a:w in n:one VCN to connect to a:d in n:two VCN with protocol='tcp/22'",
      "allow a:w endpoints in n:one VCN to connect to a:d endpoints with protocol='tcp/22' in n:two VCN"
    ),
    (
      "in n:p VCN allow 'to' to connect to a:d",
      "in n:p VCN allow 'to' endpoints to connect to a:d endpoints"
    ),
  ])
  func formatsCanonically(input: String, expected: String) throws {
    let parsed = try statement(input)
    let formatted = PolicyFormatter.format(parsed)
    #expect(formatted == expected)
    #expect(try statement(formatted) == parsed)
    #expect(PolicyFormatter.format(try statement(formatted)) == formatted)
  }

  @Test func formatsAWholeFileKeepingComments() {
    let file = check(
      """


      # header
      IN n:p VCN allow a:w TO connect to a:d   # trailing

      \t
      # tail
      in n:p VCN allow a:x to connect to a:d


      """)
    #expect(
      PolicyFormatter.format(file) == """
        # header
        in n:p VCN allow a:w endpoints to connect to a:d endpoints # trailing

        # tail
        in n:p VCN allow a:x endpoints to connect to a:d endpoints

        """)
  }

  @Test func emptyFileStaysEmpty() {
    #expect(PolicyFormatter.format(check("")) == "")
    #expect(PolicyFormatter.format(check("\n\n  \n")) == "")
  }
}
