import HTTPTypes
import NIOSSL

/// The certificate chain and private key of an HTTPS server, read from PEM files.
public struct TLSFiles: Sendable {
  let configuration: TLSConfiguration

  /// Reads the files; throws an error that names what is wrong with them.
  public init(certificate: String, key: String) throws {
    do {
      configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
    } catch {
      throw APIError(
        .badRequest, "ZPR-API-035",
        "cannot read the TLS certificate or key (\(error)): give PEM files, the chain in "
          + "--tls-cert and its private key in --tls-key")
    }
  }
}
