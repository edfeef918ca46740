/// A service principal's certificate credential: the PEM AZURE_CLIENT_CERTIFICATE_PATH names (private key and
/// certificate in one file), and the client assertion the Microsoft identity platform takes instead of a secret: a JWT
/// signed RS256 with that key, whose `x5t` header is the certificate's SHA-1 thumbprint (base64url) and whose claims
/// name the client (`iss`, `sub`), the token endpoint (`aud`) and a lifetime of ten minutes.

import Crypto
import _CryptoExtras
import Foundation

struct ClientCertificate: Sendable {
    let key: _RSA.Signing.PrivateKey
    /// The certificate, DER-encoded.
    let certificateDER: [UInt8]
    let path: String

    struct Problem: Error { var message: String }

    init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(message: FileManager.default.fileExists(atPath: path) ? "\(path) cannot be read" : "no such file: \(path)")
        }
        try self.init(pem: text, path: path)
    }

    init(pem text: String, path: String) throws {
        self.path = path
        let blocks = PEM.blocks(text)
        guard let keyBlock = blocks.first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw Problem(message: "\(path) holds no private key (a PEM block 'PRIVATE KEY' or 'RSA PRIVATE KEY')")
        }
        if keyBlock.label.contains("ENCRYPTED") {
            throw Problem(message: "\(path): the private key is encrypted; give it unencrypted (openssl pkey -in KEY -out KEY.pem)")
        }
        guard let certificate = blocks.first(where: { $0.label == "CERTIFICATE" }) else {
            throw Problem(message: "\(path) holds no certificate (a PEM block 'CERTIFICATE')")
        }
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: keyBlock.text)
        } catch {
            throw Problem(message: "\(path): the private key is not an RSA key of 2048 bits or more")
        }
        certificateDER = certificate.der
    }

    /// The certificate's SHA-1 thumbprint, base64url without padding: the `x5t` the identity platform looks the key up by.
    var thumbprint: String { Base64URL.encode(Array(Insecure.SHA1.hash(data: certificateDER))) }

    /// A client assertion for `audience` (the token endpoint's URL), signed now.
    func assertion(clientID: String, audience: String, now: Date = Date(), id: String = UUID().uuidString) throws -> String {
        let header: [String: Any] = ["alg": "RS256", "typ": "JWT", "x5t": thumbprint]
        let issued = Int(now.timeIntervalSince1970)
        let claims: [String: Any] = ["aud": audience, "iss": clientID, "sub": clientID, "jti": id,
                                     "nbf": issued, "iat": issued, "exp": issued + 600]
        func part(_ object: [String: Any]) throws -> String {
            Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])))
        }
        let signingInput = try part(header) + "." + part(claims)
        let signature = try key.signature(for: Array(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}

/// PEM blocks: `-----BEGIN LABEL-----` … `-----END LABEL-----`.
enum PEM {
    struct Block {
        var label: String
        /// The whole block, BEGIN and END lines included.
        var text: String
        var der: [UInt8]
    }

    static func blocks(_ text: String) -> [Block] {
        var out: [Block] = []
        var label: String?
        var lines: [String] = []
        var body = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if label == nil, line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                label = String(line.dropFirst(11).dropLast(5))
                lines = [line]
                body = ""
            } else if let current = label {
                lines.append(line)
                if line == "-----END \(current)-----" {
                    let payload = body.components(separatedBy: "\n").filter { !$0.contains(":") }.joined()
                    out.append(Block(label: current, text: lines.joined(separator: "\n") + "\n",
                                     der: Data(base64Encoded: payload).map(Array.init) ?? []))
                    label = nil
                } else {
                    body += line + "\n"
                }
            }
        }
        return out
    }
}
