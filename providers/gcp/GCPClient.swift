/// Calls to Google's REST APIs over AsyncHTTPClient: a bearer token on every call, a timeout on every call, bounded
/// retries with exponential backoff and full jitter on HTTP 429, 5xx and the retryable error *reasons* Google puts in
/// `error.errors[].reason` (never on the message text), and Google's error bodies turned into `GCPError`s.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProviderKit

/// The APIs the provider speaks, and where each lives below Google's hosts or an endpoint override.
public enum GCPAPI: String, Sendable {
    case compute, storage, dns, monitoring

    var defaultRoot: String {
        switch self {
        case .compute: return "https://compute.googleapis.com/"
        case .storage: return "https://storage.googleapis.com/"
        case .dns: return "https://dns.googleapis.com/"
        case .monitoring: return "https://monitoring.googleapis.com/"
        }
    }

    /// The discovery document's servicePath (plus, for DNS and Monitoring, the version prefix of every method path).
    var servicePath: String {
        switch self {
        case .compute: return "compute/v1/"
        case .storage: return "storage/v1/"
        case .dns: return "dns/v1/"
        case .monitoring: return "v3/"
        }
    }
}

/// When and how long to wait before trying a call again.
public struct GCPRetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.25, maxDelay: Double = 8) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The reasons Google documents as worth retrying (errors[].reason).
    public static let retryableReasons: Set<String> = [
        "rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError", "resourceNotReady",
    ]

    public static func isRetryable(status: Int, reason: String?) -> Bool {
        if let reason, retryableReasons.contains(reason) { return true }
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// Full jitter: a random delay between half and all of min(maxDelay, base · 2^attempt).
    public func delay(afterAttempt attempt: Int) -> Double {
        let cap = min(maxDelay, baseDelay * pow(2, Double(attempt)))
        return Double.random(in: cap / 2...cap)
    }
}

/// An error answer of a Google API: the HTTP status, the first structured reason, the status name and the message.
public struct GCPError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var status: Int
    public var reason: String
    public var statusName: String
    public var message: String
    public var credentialSource: String?

    public var description: String { "\(call): \(detail)" }

    public var detail: String {
        var text = "HTTP \(status) \(reason.isEmpty ? statusName : reason)" + (message.isEmpty ? "" : ": \(message)")
        if let credentialSource, status == 401 || status == 403 { text += " (credentials: \(credentialSource))" }
        return text
    }

    public var providerError: ProviderError { ProviderError(address: nil, call: call, message: detail) }

    var isNotFound: Bool { status == 404 || reason == "notFound" }
    var isAlreadyExists: Bool { status == 409 || reason == "alreadyExists" || reason == "conflict" }

    /// Reads `{"error": {"code", "message", "status", "errors": [{"reason", …}]}}`, or the OAuth form; never the raw body.
    static func parse(call: String, status: Int, body: [UInt8]) -> GCPError {
        var reason = "", statusName = "", message = ""
        if case .map(let root)? = try? JSONDecoder().decode(AttributeValue.self, from: Data(body)) {
            if case .map(let error)? = root["error"] {
                message = error["message"]?.stringValue ?? ""
                statusName = error["status"]?.stringValue ?? ""
                if case .list(let errors)? = error["errors"], let first = errors.first?.mapValue {
                    reason = first["reason"]?.stringValue ?? ""
                    if message.isEmpty { message = first["message"]?.stringValue ?? "" }
                }
                // Cloud Monitoring (and other gRPC-transcoded APIs) carry the reason in details[].reason.
                if reason.isEmpty, case .list(let details)? = error["details"] {
                    reason = details.compactMap { $0.mapValue?["reason"]?.stringValue }.first ?? ""
                }
            } else if let code = root["error"]?.stringValue {
                reason = code
                message = root["error_description"]?.stringValue ?? ""
            }
        }
        if statusName.isEmpty { statusName = HTTPResponseStatus(statusCode: status).reasonPhrase }
        return GCPError(call: call, status: status, reason: reason, statusName: statusName, message: message)
    }
}

/// A thread-safe count of API calls, per discovery method.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func increment(_ method: String) { lock.lock(); counts[method, default: 0] += 1; lock.unlock() }
    var total: Int { lock.lock(); defer { lock.unlock() }; return counts.values.reduce(0, +) }
    var byMethod: [String: Int] { lock.lock(); defer { lock.unlock() }; return counts }
}

public struct GCPClient: Sendable {
    public let settings: GCPSettings
    public var retry: GCPRetryPolicy
    let http: HTTPClient
    let tokens: TokenCache
    let counter = CallCounter()

    public init(settings: GCPSettings, retry: GCPRetryPolicy = GCPRetryPolicy(), http: HTTPClient = .shared) {
        self.settings = settings
        self.retry = retry
        self.http = http
        tokens = TokenCache(source: settings.credentials, tokenURIOverride: settings.tokenURI, http: http)
    }

    public var callCount: Int { counter.total }
    public func tokenExchanges() async -> Int { await tokens.exchangeCount() }

    func root(_ api: GCPAPI) -> String {
        guard let endpoint = settings.endpoint else { return api.defaultRoot + api.servicePath }
        let text = endpoint.absoluteString
        return (text.hasSuffix("/") ? text : text + "/") + api.servicePath
    }

    /// The project a resource goes to: its own `project`, else the provider's; an error when neither is known.
    func project(_ configured: AttributeValue?) throws -> String {
        if let p = configured?.stringValue, !p.isEmpty { return p }
        if let p = settings.project { return p }
        throw ProviderError(address: nil, call: "gcp project",
                            message: "no project: set clouds.gcp.project (or the resource's project, GOOGLE_CLOUD_PROJECT)")
    }

    /// One call. `path` is below the API's service path (`projects/p/global/networks`); `name` is the discovery method id
    /// it calls, for errors and counts. Returns the JSON object answered (empty for an empty body). Throws `GCPError`.
    /// `idempotent: false` (an insert without a requestId) is not retried after a failure that may have reached the
    /// server without an answer.
    @discardableResult
    public func call(_ api: GCPAPI, _ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                     body: [String: AttributeValue]? = nil, name: String, idempotent: Bool = true,
                     timeout: Double? = nil) async throws -> [String: AttributeValue] {
        var attempt = 0
        var refreshedToken = false
        while true {
            let token = try await tokens.token()
            let outcome: (status: Int, body: [UInt8])
            do {
                outcome = try await send(api, method, path, query: query, body: body, token: token, name: name, timeout: timeout)
            } catch let error as HTTPClientError where attempt + 1 < retry.maxAttempts && (idempotent || Self.neverSent(error)) {
                try await Task.sleep(nanoseconds: UInt64(retry.delay(afterAttempt: attempt) * 1e9))
                attempt += 1
                continue
            } catch let error as HTTPClientError {
                throw ProviderError(address: nil, call: name, message: "\(error) (\(root(api)))")
            }
            if (200..<300).contains(outcome.status) {
                if outcome.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
                guard case .map(let object)? = try? JSONDecoder().decode(AttributeValue.self, from: Data(outcome.body)) else {
                    throw ProviderError(address: nil, call: name, message: "the answer (HTTP \(outcome.status)) was not a JSON object")
                }
                return object
            }
            var error = GCPError.parse(call: name, status: outcome.status, body: outcome.body)
            error.credentialSource = await tokens.sourceDescription
            if outcome.status == 401, !refreshedToken {
                // An expired or revoked token: get a new one, once.
                await tokens.invalidate(token)
                refreshedToken = true
                continue
            }
            if attempt + 1 < retry.maxAttempts, GCPRetryPolicy.isRetryable(status: outcome.status, reason: error.reason) {
                try await Task.sleep(nanoseconds: UInt64(retry.delay(afterAttempt: attempt) * 1e9))
                attempt += 1
                continue
            }
            throw error
        }
    }

    /// The object, or nil when the API answers 404.
    public func optional(_ api: GCPAPI, _ path: String, query: [(String, String)] = [], name: String) async throws -> [String: AttributeValue]? {
        do { return try await call(api, .GET, path, query: query, name: name) } catch let error as GCPError where error.isNotFound { return nil }
    }

    /// A failure before the request left (no connection): safe to retry even when the call is not idempotent.
    static func neverSent(_ error: HTTPClientError) -> Bool {
        [HTTPClientError.connectTimeout].contains(error)
    }

    private func send(_ api: GCPAPI, _ method: HTTPMethod, _ path: String, query: [(String, String)], body: [String: AttributeValue]?,
                      token: String, name: String, timeout: Double?) async throws -> (status: Int, body: [UInt8]) {
        counter.increment(name)
        let encodedPath = path.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/")
        let queryText = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: root(api) + encodedPath + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "User-Agent", value: "maifctl-gcp/1.0")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: AttributeValue.map(body).canonicalJSON(indent: nil)))
        }
        let seconds = timeout ?? settings.requestTimeout
        let response = try await http.execute(request, timeout: .milliseconds(Int64(seconds * 1000)))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Array(buffer: bytes))
    }

    /// RFC 3986 unreserved characters stay; everything else is percent-encoded (a path segment or a query part).
    static func encode(_ s: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
