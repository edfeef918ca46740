/// Calls to the Docker Engine API (v1.41) over AsyncHTTPClient, on a unix socket or TCP with TLS client certificates:
/// a timeout on every call, a bounded retry where the call cannot have reached the daemon (or only read), and
/// Docker's `{"message": …}` turned into an error that names the call and the HTTP status.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ProviderKit

/// A failed Engine API call: which call, the HTTP status (nil when no answer came) and Docker's message.
public struct DockerError: Error, Sendable, CustomStringConvertible {
    /// The Engine API operation, e.g. `ServiceUpdate`.
    public var call: String
    public var status: Int?
    public var message: String

    public init(call: String, status: Int?, message: String) {
        self.call = call
        self.status = status
        self.message = message
    }

    public var description: String { "\(call): \(detail)" }

    /// `HTTP 409: network with name maif-net already exists`.
    public var detail: String { status.map { "HTTP \($0): \(message)" } ?? message }

    public var isNotFound: Bool { status == 404 }
    public var isConflict: Bool { status == 409 }
    /// "in use" answers come as 400 (configs, secrets, networks) or 409 (volumes).
    public var isInUse: Bool { (status == 400 || status == 409 || status == 500) && message.contains("in use") }
    public var isOutOfSequence: Bool { message.contains("update out of sequence") }

    public var providerError: ProviderError { ProviderError(address: nil, call: "docker \(call)", message: detail) }

    /// Docker's message without the gRPC wrapping swarm adds (`rpc error: code = InvalidArgument desc = …`),
    /// or the status's reason phrase when the body has no message. Never the raw body.
    static func message(status: Int, body: [UInt8]) -> String {
        var text: String?
        if let value = try? JSONDecoder().decode(AttributeValue.self, from: Data(body)), let m = value.mapValue?["message"]?.stringValue {
            text = m
        }
        guard var message = text?.trimmingCharacters(in: .whitespacesAndNewlines), !message.isEmpty else {
            return HTTPResponseStatus(statusCode: status).reasonPhrase
        }
        if message.hasPrefix("rpc error: code = "), let desc = message.range(of: " desc = ") {
            message = String(message[desc.upperBound...])
        }
        return message
    }
}

public struct DockerResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    /// The body as a value; `.null` when empty or not JSON.
    public var json: AttributeValue {
        (try? JSONDecoder().decode(AttributeValue.self, from: Data(body))) ?? .null
    }
}

public struct DockerClient: Sendable {
    public let settings: SwarmSettings
    let http: HTTPClient
    static let apiVersion = "v1.41"
    static let maxAttempts = 3

    public init(settings: SwarmSettings, http: HTTPClient = DockerClient.sharedHTTPClient) {
        self.settings = settings
        self.http = http
    }

    /// One client for the process, as `HTTPClient.shared` is, except that a connection that cannot be made fails at
    /// once instead of being retried until the call's deadline: `call` retries it a few times and then says why.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// One call; `path` is below the version prefix, e.g. `/services/create`. Throws `DockerError`.
    public func call(_ name: String, _ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                     body: AttributeValue? = nil) async throws -> DockerResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await send(method, path, query: query, body: body)
                if (200..<300).contains(response.status) { return response }
                if [502, 503, 504].contains(response.status), method == .GET, attempt < Self.maxAttempts {
                    try await backoff(attempt)
                    continue
                }
                throw DockerError(call: name, status: response.status, message: DockerError.message(status: response.status, body: response.body))
            } catch let error as DockerError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // A GET may always be repeated; anything else only when the connection never opened.
                if attempt < Self.maxAttempts, method == .GET || Self.neverSent(error) {
                    try await backoff(attempt)
                    continue
                }
                throw DockerError(call: name, status: nil, message: unreachable(error))
            }
        }
    }

    /// Only GET, and a 404 as nil.
    public func optional(_ name: String, _ path: String, query: [(String, String)] = []) async throws -> AttributeValue? {
        do {
            return try await call(name, .GET, path, query: query).json
        } catch let error as DockerError where error.isNotFound {
            return nil
        }
    }

    /// `filters={"label":["k=v",…]}` as the list endpoints take it.
    public static func labelFilter(_ labels: [String: String], extra: [String: [String]] = [:]) -> [(String, String)] {
        var filters: [String: AttributeValue] = ["label": .list(labels.keys.sorted().map { .string("\($0)=\(labels[$0]!)") })]
        for (key, values) in extra { filters[key] = .list(values.map { .string($0) }) }
        return [("filters", AttributeValue.map(filters).canonicalJSON(indent: nil))]
    }

    private func backoff(_ attempt: Int) async throws {
        try await Task.sleep(nanoseconds: UInt64(0.2 * pow(2, Double(attempt - 1)) * 1e9))
    }

    static func neverSent(_ error: Error) -> Bool {
        if let e = error as? HTTPClientError, e == .connectTimeout || e == .tlsHandshakeTimeout { return true }
        if error is NIOConnectionError { return true }
        if let e = error as? IOError, [ECONNREFUSED, ENOENT].contains(e.errnoCode) { return true }
        return false
    }

    /// Why the daemon could not be reached, and where maifctl looked.
    func unreachable(_ error: Error) -> String {
        var reason = "\(error)"
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout {
            reason = "no answer within \(Int(settings.callTimeout)) s"
        } else if let e = error as? IOError, e.errnoCode == ENOENT {
            reason = "the socket does not exist"
        } else if let e = error as? IOError, e.errnoCode == ECONNREFUSED {
            reason = "connection refused"
        } else if error is NIOConnectionError {
            reason = "connection refused"
        } else if case .tcp(_, _, let tls?) = settings.endpoint, let code = Self.tlsFailure(reason) {
            reason = Self.explainTLS(code, tls)
        }
        return "cannot reach the Docker daemon at \(settings.endpoint) (from \(settings.source)): \(reason)"
    }

    /// BoringSSL's reason code (`CERTIFICATE_VERIFY_FAILED`) out of a NIOSSL error's text.
    static func tlsFailure(_ text: String) -> String? {
        guard let start = text.range(of: "OPENSSL_internal:") else { return nil }
        let code = text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return code.isEmpty ? nil : String(code)
    }

    static func explainTLS(_ code: String, _ tls: DockerTLS) -> String {
        if code == "CERTIFICATE_VERIFY_FAILED" {
            return "TLS handshake failed (\(code)): the daemon's certificate is not signed by \(tls.caFile)"
        }
        if code.contains("ALERT") {
            return "TLS handshake failed (\(code)): the daemon refused the client certificate \(tls.certFile)"
        }
        return "TLS handshake failed (\(code))"
    }

    private func send(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: AttributeValue?) async throws -> DockerResponse {
        let uri = "/\(Self.apiVersion)\(path)" + (query.isEmpty ? "" : "?" + query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&"))
        var request: HTTPClientRequest
        switch settings.endpoint {
        case .unix(let socket):
            guard let url = URL(httpURLWithSocketPath: socket, uri: uri) else {
                throw DockerError(call: "connect", status: nil, message: "invalid socket path \(socket)")
            }
            request = HTTPClientRequest(url: url.absoluteString)
        case let .tcp(host, port, tls):
            let name = host.contains(":") ? "[\(host)]" : host
            request = HTTPClientRequest(url: "\(tls == nil ? "http" : "https")://\(name):\(port)\(uri)")
            if let tls { request.tlsConfiguration = try Self.tlsConfiguration(tls) }
        }
        request.method = method
        // HTTP/1.1 needs a Host, and AsyncHTTPClient sends none for a unix socket; the docker CLI sends this one.
        if case .unix = settings.endpoint { request.headers.add(name: "Host", value: "api.moby.localhost") }
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.canonicalJSON(indent: nil)))
        }
        let timeout = TimeAmount.milliseconds(Int64(settings.callTimeout * 1000))
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return DockerResponse(status: Int(response.status.code), body: Array(buffer: bytes))
    }

    /// The client certificate and key, and the CA the daemon's certificate is checked against.
    static func tlsConfiguration(_ tls: DockerTLS) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        do {
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(tls.certFile).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: tls.keyFile, format: .pem))
            if tls.verify {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(tls.caFile))
            } else {
                config.certificateVerification = .none
            }
        } catch {
            throw DockerError(call: "connect", status: nil,
                              message: "cannot load the TLS certificates in \(tls.certPath) (ca.pem, cert.pem, key.pem): \(error)")
        }
        return config
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
