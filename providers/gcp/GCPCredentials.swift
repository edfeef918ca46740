/// Where the gcp provider's OAuth 2.0 access tokens come from, in the order Google's own tools look (Application Default
/// Credentials), with the stack's reference first:
///
/// 1. `clouds.gcp.credentials` (`{env: NAME}` or `{file: PATH}`): a service-account key or an authorized_user file. A
///    variable may hold the JSON itself or, as `GOOGLE_APPLICATION_CREDENTIALS` does by Google's convention, a path to it.
/// 2. `GOOGLE_OAUTH_ACCESS_TOKEN`: a ready access token (used as it is, never refreshed).
/// 3. `GOOGLE_APPLICATION_CREDENTIALS`: the path of a key (or the JSON itself).
/// 4. gcloud's application-default credentials, `$CLOUDSDK_CONFIG/application_default_credentials.json`
///    (`~/.config/gcloud/…` by default).
/// 5. The metadata server of a Compute Engine VM (`GCE_METADATA_HOST` or `clouds.gcp.metadata_host` moves it).
///
/// A service account signs a JWT (RS256) and exchanges it at the key's `token_uri`; an authorized_user file trades its
/// refresh token at Google's token endpoint. Either endpoint can be overridden (`clouds.gcp.token_uri`,
/// `MAIFCTL_GCP_TOKEN_URI`). Tokens are cached until shortly before they expire. No key, secret or token ever appears
/// in an error: errors name the source and the account.

import _CryptoExtras
import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ProviderKit

public struct ServiceAccountKey: Sendable {
    public var clientEmail: String
    public var privateKeyID: String?
    public var privateKeyPEM: String
    public var tokenURI: String
    public var projectID: String?
}

public struct AuthorizedUser: Sendable {
    public var clientID: String
    public var clientSecret: String
    public var refreshToken: String
    public var tokenURI: String?
    public var quotaProjectID: String?
}

/// One place an access token can come from, and how to say which in an error.
public enum GCPCredentialSource: Sendable {
    case serviceAccount(ServiceAccountKey, origin: String)
    case authorizedUser(AuthorizedUser, origin: String)
    case accessToken(String, origin: String)
    case metadataServer(host: String)

    /// "service account x@p.iam.gserviceaccount.com from clouds.gcp.credentials (environment variable …)".
    public var description: String {
        switch self {
        case .serviceAccount(let key, let origin): return "service account \(key.clientEmail) from \(origin)"
        case .authorizedUser(_, let origin): return "authorized_user credentials from \(origin)"
        case .accessToken(_, let origin): return "the access token in \(origin)"
        case .metadataServer(let host): return "the metadata server at \(host)"
        }
    }

    public var projectID: String? {
        switch self {
        case .serviceAccount(let key, _): return key.projectID
        case .authorizedUser(let user, _): return user.quotaProjectID
        default: return nil
        }
    }

    /// Google's token endpoint, which authorized_user files (as gcloud writes them) leave implied.
    public static let googleTokenURI = "https://oauth2.googleapis.com/token"
    public static let scope = "https://www.googleapis.com/auth/cloud-platform"

    /// A key file's text (JSON), parsed. `origin` says where it came from, for errors.
    public static func parse(json text: String, origin: String) throws -> GCPCredentialSource {
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CredentialError("\(origin) is not a JSON credentials file")
        }
        let type = object["type"] as? String ?? ""
        func field(_ name: String) throws -> String {
            guard let v = object[name] as? String, !v.isEmpty else { throw CredentialError("\(origin) (\(type)) has no \(name)") }
            return v
        }
        switch type {
        case "service_account":
            // The key itself is read when the first token is needed (an error then names the account and the source).
            let pem = try field("private_key")
            guard pem.contains("-----BEGIN") else { throw CredentialError("the private_key of \(origin) is not in PEM form") }
            return .serviceAccount(ServiceAccountKey(clientEmail: try field("client_email"), privateKeyID: object["private_key_id"] as? String,
                                                     privateKeyPEM: pem, tokenURI: object["token_uri"] as? String ?? googleTokenURI,
                                                     projectID: object["project_id"] as? String), origin: origin)
        case "authorized_user":
            return .authorizedUser(AuthorizedUser(clientID: try field("client_id"), clientSecret: try field("client_secret"),
                                                  refreshToken: try field("refresh_token"), tokenURI: object["token_uri"] as? String,
                                                  quotaProjectID: object["quota_project_id"] as? String), origin: origin)
        case "":
            throw CredentialError("\(origin) has no \"type\" (service_account or authorized_user)")
        default:
            throw CredentialError("\(origin) holds \(type) credentials; maifctl takes service_account and authorized_user files")
        }
    }

    /// A value that is either the JSON itself or the path of a file holding it.
    public static func parse(jsonOrPath value: String, origin: String, workingDirectory: String, environment: [String: String]) throws
        -> GCPCredentialSource {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") { return try parse(json: trimmed, origin: origin) }
        let path = ProviderSettings.resolvePath(trimmed, environment: environment, workingDirectory: workingDirectory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            // Shown only when it looks like a path: a value that is neither JSON nor a path might be a secret.
            let looksLikePath = (trimmed.contains("/") || trimmed.hasSuffix(".json")) && !trimmed.contains(where: \.isWhitespace)
            throw CredentialError(looksLikePath ? "\(origin) names the file \(path), which cannot be read"
                                                : "\(origin) holds neither a JSON key nor the path of a readable file")
        }
        return try parse(json: text, origin: "\(origin) → \(path)")
    }
}

struct CredentialError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A bearer token and when it stops working.
struct AccessToken: Sendable {
    var value: String
    var expires: Date
}

/// Hands out access tokens: one exchange at a time, the result kept until a minute before it expires.
actor TokenCache {
    let source: Result<GCPCredentialSource, ProviderError>
    let tokenURIOverride: String?
    let http: HTTPClient
    private var current: AccessToken?
    private var pending: Task<AccessToken, any Error>?
    /// Token exchanges and metadata server calls made (for `usage`).
    private(set) var exchanges = 0

    init(source: Result<GCPCredentialSource, ProviderError>, tokenURIOverride: String?, http: HTTPClient) {
        self.source = source
        self.tokenURIOverride = tokenURIOverride
        self.http = http
    }

    var sourceDescription: String {
        switch source {
        case .success(let s): return s.description
        case .failure: return "no credentials"
        }
    }

    func token() async throws -> String {
        if let current, current.expires.timeIntervalSinceNow > 60 { return current.value }
        if let pending { return try await pending.value.value }
        let source: GCPCredentialSource
        switch self.source {
        case .success(let s): source = s
        case .failure(let e): throw e
        }
        let override = tokenURIOverride, http = http
        let task = Task { try await Self.fetch(source, tokenURIOverride: override, http: http) }
        pending = task
        exchanges += 1
        defer { pending = nil }
        let token = try await task.value
        current = token
        return token.value
    }

    /// Forgets the cached token (the API said it is no longer valid).
    func invalidate(_ value: String) {
        if current?.value == value { current = nil }
    }

    func exchangeCount() -> Int { exchanges }

    static func fetch(_ source: GCPCredentialSource, tokenURIOverride: String?, http: HTTPClient) async throws -> AccessToken {
        switch source {
        case .accessToken(let token, _):
            // A token given ready-made: its lifetime is unknown; the API will say when it ends.
            return AccessToken(value: token, expires: .distantFuture)
        case .serviceAccount(let key, _):
            let uri = tokenURIOverride ?? key.tokenURI
            let assertion = try JWT.assertion(key: key, audience: uri, scope: GCPCredentialSource.scope, now: Date())
            return try await exchange(uri, form: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)],
                                      source: source, http: http)
        case .authorizedUser(let user, _):
            let uri = tokenURIOverride ?? user.tokenURI ?? GCPCredentialSource.googleTokenURI
            return try await exchange(uri, form: [("grant_type", "refresh_token"), ("client_id", user.clientID),
                                                  ("client_secret", user.clientSecret), ("refresh_token", user.refreshToken)],
                                      source: source, http: http)
        case .metadataServer(let host):
            let url = "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token"
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Metadata-Flavor", value: "Google")
            let status: Int, body: [UInt8]
            do {
                (status, body) = try await send(request, what: "the metadata server at \(host)", http: http, timeout: 5)
            } catch var error as ProviderError {
                error.message += " (and no other credentials were found: clouds.gcp.credentials, GOOGLE_OAUTH_ACCESS_TOKEN, "
                    + "GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json)"
                throw error
            }
            guard status == 200 else {
                throw ProviderError(address: nil, call: "gcp credentials",
                                    message: "the metadata server at \(host) answered HTTP \(status) for the default service account's token")
            }
            return try parseToken(body, source: source)
        }
    }

    static func exchange(_ uri: String, form: [(String, String)], source: GCPCredentialSource, http: HTTPClient) async throws -> AccessToken {
        var request = HTTPClientRequest(url: uri)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")))
        let (status, body) = try await send(request, what: "the token endpoint \(uri)", http: http)
        guard status == 200 else {
            // OAuth errors are {"error": "invalid_grant", "error_description": "…"}: safe to show, they hold no secret.
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
            let code = object?["error"] as? String ?? "HTTP \(status)"
            let detail = (object?["error_description"] as? String).map { ": \($0)" } ?? ""
            throw ProviderError(address: nil, call: "gcp credentials",
                                message: "the token exchange at \(uri) failed: \(code)\(detail) (HTTP \(status); credentials: \(source.description))")
        }
        return try parseToken(body, source: source)
    }

    static func send(_ request: HTTPClientRequest, what: String, http: HTTPClient, timeout: Int64 = 30) async throws -> (Int, [UInt8]) {
        do {
            let response = try await http.execute(request, timeout: .seconds(timeout))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Array(buffer: body))
        } catch {
            throw ProviderError(address: nil, call: "gcp credentials", message: "\(what) cannot be reached: \(error)")
        }
    }

    static func parseToken(_ body: [UInt8], source: GCPCredentialSource) throws -> AccessToken {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let token = object["access_token"] as? String, !token.isEmpty else {
            throw ProviderError(address: nil, call: "gcp credentials", message: "the token answer for \(source.description) held no access_token")
        }
        let seconds = (object["expires_in"] as? NSNumber)?.doubleValue ?? 3600
        return AccessToken(value: token, expires: Date().addingTimeInterval(seconds))
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// The signed JWT a service account exchanges for an access token (RFC 7523, Google's claims).
enum JWT {
    static func assertion(key: ServiceAccountKey, audience: String, scope: String, now: Date) throws -> String {
        var header: [String: AttributeValue] = ["alg": "RS256", "typ": "JWT"]
        if let kid = key.privateKeyID { header["kid"] = .string(kid) }
        let iat = Int64(now.timeIntervalSince1970)
        let claims: [String: AttributeValue] = [
            "iss": .string(key.clientEmail), "scope": .string(scope), "aud": .string(audience),
            "iat": .int(iat), "exp": .int(iat + 3600),
        ]
        let signingInput = base64URL(Array(AttributeValue.map(header).canonicalJSON(indent: nil).utf8)) + "."
            + base64URL(Array(AttributeValue.map(claims).canonicalJSON(indent: nil).utf8))
        let privateKey: _RSA.Signing.PrivateKey
        do { privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: key.privateKeyPEM) } catch {
            throw ProviderError(address: nil, call: "gcp credentials", message: "the private key of service account \(key.clientEmail) cannot be read")
        }
        let signature = try privateKey.signature(for: Array(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + base64URL(Array(signature.rawRepresentation))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
