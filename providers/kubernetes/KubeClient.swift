/// Calls to the Kubernetes API over AsyncHTTPClient and NIOSSL: one shared connection pool, the cluster's CA and client
/// certificate on every request, a bearer token from the kubeconfig, a token file or an exec plugin, a timeout on
/// every call, bounded retries with backoff and jitter (429, 5xx, connections that never opened), and the API
/// server's `Status` turned into an error that names the call, the HTTP status, the reason and the server's message —
/// plus, for 401 and 403, the context and the credential used. Calls are counted for `usage`.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ProviderKit

/// An answer of the API server that is not a success: its `Status` object, read.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    public struct Cause: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var field: String
    }

    /// What was asked: `server-side apply of StatefulSet default/maif`.
    public var call: String
    public var status: Int
    public var reason: String
    public var message: String
    public var causes: [Cause]
    /// For 401/403: the context and credentials, for the message.
    public var identity: String?

    public var description: String { "\(call): \(detail)" }

    /// `Forbidden (HTTP 403): configmaps "x" is forbidden: … (context nobody of kubeconfig …; credentials: …)`.
    public var detail: String {
        var text = "\(reason.isEmpty ? HTTPResponseStatus(statusCode: status).reasonPhrase : reason) (HTTP \(status))"
        if !message.isEmpty { text += ": \(message)" }
        if let identity, status == 401 || status == 403 {
            text += status == 401 ? " — the API server did not accept the credentials of \(identity)" : " — as \(identity)"
        }
        return text
    }

    public var isNotFound: Bool { status == 404 }
    public var isConflict: Bool { status == 409 && causes.contains { $0.reason == "FieldManagerConflict" } }

    var providerError: ProviderError { ProviderError(address: nil, call: call, message: detail) }
}

public struct KubeResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public var json: AttributeValue { (try? JSONDecoder().decode(AttributeValue.self, from: Data(body))) ?? .null }

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

public final class KubeClient: Sendable {
    let access: ClusterAccess
    let callTimeout: Double
    let counter = CallCounter()
    let exec: ExecCredentialCache?
    let tokenFile: TokenFileCache?
    static let maxAttempts = 4

    /// One pool for the process (never deinitialised, so never left running at exit): connections are kept per
    /// server and TLS configuration.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    init(access: ClusterAccess, callTimeout: Double, environment: [String: String]) {
        self.access = access
        self.callTimeout = callTimeout
        if case .exec(let e) = access.credential {
            exec = ExecCredentialCache(exec: e, server: access.server, environment: environment)
        } else {
            exec = nil
        }
        if case .tokenFile(let f) = access.credential { tokenFile = TokenFileCache(path: f) } else { tokenFile = nil }
    }

    var callCount: Int { counter.value }

    /// One call with retries. Throws `KubeAPIError` for an API error and `ProviderError` when the server cannot be reached.
    func send(_ call: String, _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
              contentType: String = "application/json", accept: String = "application/json") async throws -> KubeResponse {
        var attempt = 0
        var refreshedToken = false
        while true {
            attempt += 1
            let response: KubeResponse
            do {
                response = try await sendOnce(method, path, query: query, body: body, contentType: contentType, accept: accept)
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as KubeconfigError {
                throw ProviderError(address: nil, call: call, message: error.message)
            } catch {
                // Every write maifctl makes is idempotent (server-side apply, delete), so a call whose connection
                // broke may be sent again; a connection that never opened is retried quickly, then reported.
                if attempt < Self.maxAttempts, Self.isTransient(error) {
                    try await backoff(attempt)
                    continue
                }
                throw ProviderError(address: nil, call: call, message: unreachable(error))
            }
            if response.status < 300 { return response }
            if response.status == 401, let exec, !refreshedToken {
                // An exec plugin's token can be refused before its stated expiry: run the plugin once more.
                await exec.invalidate()
                refreshedToken = true
                continue
            }
            if (response.status == 429 || [500, 502, 503, 504].contains(response.status)), attempt < Self.maxAttempts {
                let retryAfter = response.header("Retry-After").flatMap(Double.init)
                try await backoff(attempt, atLeast: retryAfter)
                continue
            }
            throw Self.error(call: call, response: response, identity: access.identity)
        }
    }

    /// GET that answers nil for 404.
    func get(_ call: String, _ path: String, query: [(String, String)] = []) async throws -> AttributeValue? {
        do {
            return try await send(call, .GET, path, query: query).json
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }

    private func backoff(_ attempt: Int, atLeast: Double? = nil) async throws {
        let cap = min(4.0, 0.2 * pow(2, Double(attempt - 1)))
        let delay = max(atLeast.map { min($0, 10) } ?? 0, Double.random(in: cap / 2...cap))
        try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
    }

    static func isTransient(_ error: Error) -> Bool {
        if let e = error as? HTTPClientError {
            return [HTTPClientError.connectTimeout, .remoteConnectionClosed, .readTimeout, .tlsHandshakeTimeout].contains(e)
        }
        if let e = error as? IOError { return [ECONNRESET, EPIPE].contains(e.errnoCode) }
        return false
    }

    /// Why the API server could not be reached, naming it and the context.
    func unreachable(_ error: Error) -> String {
        var reason = "\(error)"
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout {
            reason = "no answer within \(Int(callTimeout)) s"
        } else if let e = error as? HTTPClientError, e == .connectTimeout {
            reason = "the connection timed out"
        } else if error is NIOConnectionError || (error as? IOError)?.errnoCode == ECONNREFUSED || reason.lowercased().contains("connection refused") {
            reason = "connection refused"
        } else if let code = Self.tlsFailure(reason) {
            reason = code == "CERTIFICATE_VERIFY_FAILED"
                ? "TLS handshake failed (CERTIFICATE_VERIFY_FAILED): the server's certificate is not signed by the cluster's certificate authority"
                : "TLS handshake failed (\(code))"
        }
        return "cannot reach the Kubernetes API server \(access.server) (\(access.origin)): \(reason)"
    }

    /// BoringSSL's reason code out of a NIOSSL error's text.
    static func tlsFailure(_ text: String) -> String? {
        guard let start = text.range(of: "OPENSSL_internal:") else {
            return text.contains("handshakeFailed") ? "handshake failed" : nil
        }
        let code = text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return code.isEmpty ? nil : String(code)
    }

    private func sendOnce(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String,
                          accept: String) async throws -> KubeResponse {
        let queryText = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: access.baseURL + path + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = method
        request.tlsConfiguration = access.tls
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "maifctl/0.1.0")
        switch access.credential {
        case .token(let token): request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .tokenFile: if let token = try tokenFile?.token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        case .exec: if let token = try await exec?.token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        case .none, .clientCertificate: break
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        counter.increment()
        let response = try await Self.http.execute(request, timeout: .milliseconds(Int64(callTimeout * 1000)))
        let bytes = try await response.body.collect(upTo: 128 << 20)
        return KubeResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: bytes))
    }

    /// The `Status` in an error response (or the reason phrase when there is none); never the raw body.
    static func error(call: String, response: KubeResponse, identity: String) -> KubeAPIError {
        let status = response.json.mapValue ?? [:]
        var message = status["message"]?.stringValue ?? ""
        if status["kind"]?.stringValue != "Status" { message = "" }
        let causes: [KubeAPIError.Cause] = (status["details"]?.mapValue?["causes"]?.listValue ?? []).compactMap { c in
            guard let m = c.mapValue else { return nil }
            return .init(reason: m["reason"]?.stringValue ?? "", message: m["message"]?.stringValue ?? "", field: m["field"]?.stringValue ?? "")
        }
        return KubeAPIError(call: call, status: response.status, reason: status["reason"]?.stringValue ?? "",
                            message: message.trimmingCharacters(in: .whitespacesAndNewlines), causes: causes, identity: identity)
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// A token file, read again after a minute (kubelet rotates projected service account tokens).
final class TokenFileCache: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var value: (String, Date)?

    init(path: String) { self.path = path }

    func token(now: Date = Date()) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let (token, read) = value, now.timeIntervalSince(read) < 60 { return token }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KubeconfigError(message: "the token file \(path) cannot be read")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        value = (token, now)
        return token
    }
}

/// A thread-safe counter of API calls.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
