/// AWS Signature Version 4: canonical request → string to sign → HMAC-SHA256 chain. Pure: no I/O, no clock.

import Crypto
import Foundation

/// An access key with where it came from, so errors can name the source.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// e.g. "environment (AWS_ACCESS_KEY_ID)" or "profile 'ci' in /root/.aws/credentials".
    public var source: String

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, source: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }
}

/// One request to sign: the path is not yet percent-encoded; query items are raw.
public struct SignableRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [(String, String)]
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [(String, String)] = [], headers: [String: String], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

public enum SigV4 {
    /// The headers to add to `request`: X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (when the
    /// credentials carry one) and Authorization. `host` must already be in the request's headers.
    public static func sign(_ request: SignableRequest, service: String, region: String, credentials: AWSCredentials,
                            date: Date, signPayloadHeader: Bool = true) -> [String: String] {
        let amzDate = timestamp(date)
        let day = String(amzDate.prefix(8))
        let payloadHash = hex(SHA256.hash(data: request.body))
        var headers = request.headers
        headers["X-Amz-Date"] = amzDate
        if signPayloadHeader { headers["X-Amz-Content-Sha256"] = payloadHash }
        if let token = credentials.sessionToken { headers["X-Amz-Security-Token"] = token }

        let (canonical, signedHeaders) = canonicalRequest(request, headers: headers, payloadHash: payloadHash)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(hex(SHA256.hash(data: Data(canonical.utf8))))"
        let key = signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))

        var added = headers.filter { request.headers[$0.key] == nil }
        added["Authorization"] = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return added
    }

    /// The canonical request text and the signed header list (all headers given are signed).
    static func canonicalRequest(_ request: SignableRequest, headers: [String: String], payloadHash: String) -> (String, String) {
        let path = request.path.isEmpty ? "/" : request.path.split(separator: "/", omittingEmptySubsequences: false)
            .map { encode(String($0)) }.joined(separator: "/")
        let pairs: [(String, String)] = request.query.map { (encode($0.0), encode($0.1)) }
        let sorted = pairs.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        let query = sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        var byName: [String: String] = [:]
        for (name, value) in headers {
            let trimmed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            byName[name.lowercased()] = trimmed
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!)\n" }.joined()
        let signed = names.joined(separator: ";")
        return ([request.method, path, query, canonicalHeaders, signed, payloadHash].joined(separator: "\n"), signed)
    }

    static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private static let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8))

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
