/// Tokens for Azure Resource Manager from the Microsoft identity platform: client credentials with a secret or a signed
/// client assertion (`POST {authority}/{tenant}/oauth2/v2.0/token`), or a managed identity's token from the instance
/// metadata endpoint (`GET /metadata/identity/oauth2/token`). A token is kept until five minutes before it expires
/// (or half its lifetime, when that is shorter) and shared by every call of the provider; concurrent callers wait for
/// the one request in flight. A token never reaches an error, a log or the state.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ProviderKit

/// One HTTP exchange, the way both the token source and the ARM client send it.
struct HTTPExchange: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }

    /// The body as JSON; `.null` when empty or not JSON.
    var json: AttributeValue {
        guard !body.isEmpty else { return .null }
        return (try? JSONDecoder().decode(AttributeValue.self, from: Data(body))) ?? .null
    }
}

/// The transport: AsyncHTTPClient's shared pool, with the configured extra CA for HTTPS, a deadline per call.
struct AzureHTTP: Sendable {
    let tls: TLSConfiguration?
    let timeout: TimeAmount
    let counter: CallCounter

    init(caFile: String?, timeout: Double, counter: CallCounter) throws {
        self.timeout = .milliseconds(Int64(timeout * 1000))
        self.counter = counter
        guard let caFile else { tls = nil; return }
        var config = TLSConfiguration.makeClientConfiguration()
        do {
            let extra = try NIOSSLCertificate.fromPEMFile(caFile)
            config.additionalTrustRoots = [.certificates(extra)]
        } catch {
            throw ProviderConfigurationError(key: "ca_file", "cannot read the CA certificates in \(caFile): \(error)")
        }
        tls = config
    }

    func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
              kind: CallCounter.Kind) async throws -> HTTPExchange {
        counter.count(kind)
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let tls, url.hasPrefix("https:") { request.tlsConfiguration = tls }
        request.headers.add(name: "User-Agent", value: "maifctl-azure/1.0")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 32 << 20)
        return HTTPExchange(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                            body: Array(buffer: bytes))
    }
}

/// What the provider's calls cost: ARM requests, operation polls and token requests, counted apart.
final class CallCounter: @unchecked Sendable {
    enum Kind { case arm, poll, token }
    private let lock = NSLock()
    private var counts: [Kind: Int] = [:]
    func count(_ kind: Kind) { lock.lock(); counts[kind, default: 0] += 1; lock.unlock() }
    subscript(kind: Kind) -> Int { lock.lock(); defer { lock.unlock() }; return counts[kind] ?? 0 }
    var total: Int { self[.arm] + self[.poll] + self[.token] }
}

/// Hands out a live ARM token, asking for a new one when needed.
actor TokenSource {
    private let settings: AzureSettings
    private let http: AzureHTTP
    private var token: (value: String, refreshAt: Date)?
    private var inFlight: Task<(String, Double), Error>?
    private(set) var requests = 0

    init(settings: AzureSettings, http: AzureHTTP) {
        self.settings = settings
        self.http = http
    }

    /// A bearer token; `fresh` forgets the cached one first (ARM said it had expired or was invalid).
    func bearer(fresh: Bool = false) async throws -> String {
        if fresh { token = nil }
        if let token, Date() < token.refreshAt { return token.value }
        if let inFlight { return try await inFlight.value.0 }
        let task = Task { try await self.request() }
        inFlight = task
        defer { inFlight = nil }
        let (value, lifetime) = try await task.value
        token = (value, Date().addingTimeInterval(lifetime - min(300, lifetime / 2)))
        return value
    }

    /// The token endpoint of a service principal's tenant.
    static func tokenURL(authority: URL, tenant: String) -> String {
        "\(authority.absoluteString)/\(tenant)/oauth2/v2.0/token"
    }

    private func request() async throws -> (String, Double) {
        let credential: AzureCredential
        switch settings.credential {
        case .success(let c): credential = c
        case .failure(let e): throw e
        }
        let scope = settings.audience + "/.default"
        var exchange: HTTPExchange
        var attempt = 0
        while true {
            do {
                exchange = try await once(credential, scope: scope)
            } catch let error as ProviderError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if attempt < settings.maxRetries {
                    try await Task.sleep(nanoseconds: UInt64(ARMClient.backoff(attempt) * 1e9))
                    attempt += 1
                    continue
                }
                throw ProviderError(address: nil, call: "azure token", message: "cannot reach \(Self.host(of: settings, credential)): \(error) (credential: \(settings.credentialSource))")
            }
            // The identity platform and IMDS throttle too (429) and have bad moments (5xx): wait as they say.
            guard exchange.status == 429 || exchange.status >= 500, attempt < settings.maxRetries else { break }
            try await Task.sleep(nanoseconds: UInt64((ARMClient.retryAfter(exchange) ?? ARMClient.backoff(attempt)) * 1e9))
            attempt += 1
        }
        requests += 1
        let json = exchange.json
        guard exchange.status == 200, let token = json.mapValue?["access_token"]?.stringValue, !token.isEmpty else {
            throw ProviderError(address: nil, call: "azure token", message: Self.describe(exchange, source: settings.credentialSource))
        }
        // expires_in is a number from the identity platform and a string from IMDS.
        let lifetime = json.mapValue?["expires_in"].flatMap { $0.intValue } ?? 3599
        return (token, Double(max(60, lifetime)))
    }

    /// One token request for the credential.
    private func once(_ credential: AzureCredential, scope: String) async throws -> HTTPExchange {
        switch credential {
        case let .clientSecret(tenant, clientID, secret):
            return try await post(Self.tokenURL(authority: settings.authorityHost, tenant: tenant),
                                  ["grant_type": "client_credentials", "client_id": clientID, "client_secret": secret, "scope": scope])
        case let .clientCertificate(tenant, clientID, certificate):
            let endpoint = Self.tokenURL(authority: settings.authorityHost, tenant: tenant)
            // A fresh assertion each time: its jti is single-use and its lifetime short.
            let assertion = try certificate.assertion(clientID: clientID, audience: endpoint)
            return try await post(endpoint, [
                "grant_type": "client_credentials", "client_id": clientID, "scope": scope,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": assertion,
            ])
        case let .managedIdentity(clientID, base):
            var query = "api-version=2018-02-01&resource=" + Self.formEncode(settings.audience + "/")
            if let clientID { query += "&client_id=" + Self.formEncode(clientID) }
            return try await http.send(.GET, "\(base)/metadata/identity/oauth2/token?" + query, headers: [("Metadata", "true")], kind: .token)
        }
    }

    private func post(_ url: String, _ form: [String: String]) async throws -> HTTPExchange {
        let body = form.sorted { $0.key < $1.key }.map { "\(Self.formEncode($0.key))=\(Self.formEncode($0.value))" }.joined(separator: "&")
        return try await http.send(.POST, url, headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                   body: Array(body.utf8), kind: .token)
    }

    /// AAD's `error` and the first line of `error_description` (its code and words; trace ids and timestamps dropped),
    /// then the credential's source. Never the request, which holds the secret or assertion.
    static func describe(_ exchange: HTTPExchange, source: String) -> String {
        let json = exchange.json.mapValue ?? [:]
        var text = "HTTP \(exchange.status)"
        if let error = json["error"]?.stringValue {
            text = error
            if let description = json["error_description"]?.stringValue?.split(whereSeparator: \.isNewline).first {
                let words = description.components(separatedBy: " Trace ID:").first ?? String(description)
                text += ": " + words.trimmingCharacters(in: .whitespaces)
            }
        } else if let message = json["error"]?.mapValue?["message"]?.stringValue {
            text += ": " + message
        }
        return "\(text) (credential: \(source))"
    }

    private static func host(of settings: AzureSettings, _ credential: AzureCredential) -> String {
        if case .managedIdentity(_, let base) = credential { return "the managed identity endpoint \(base)" }
        return "the token endpoint at \(settings.authorityHost.absoluteString)"
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
