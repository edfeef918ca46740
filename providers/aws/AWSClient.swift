/// Signed HTTP calls to AWS services over AsyncHTTPClient: a timeout on every call, bounded retries with
/// exponential backoff and jitter on throttling and server errors, AWS error bodies turned into `ProviderError`s.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProviderKit

/// When and how long to wait before trying a call again.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.2, maxDelay: Double = 8) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "SlowDown",
        "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "PriorRequestNotComplete",
        "InternalError", "ServiceUnavailable",
    ]

    public static func isRetryable(status: Int, code: String?) -> Bool {
        status == 429 || status >= 500 || code.map(throttlingCodes.contains) == true
    }

    /// Full jitter: a random delay up to min(maxDelay, base · 2^attempt), attempt counting from 0.
    public func delay(afterAttempt attempt: Int) -> Double {
        let cap = min(maxDelay, baseDelay * pow(2, Double(attempt)))
        return Double.random(in: cap / 2...cap)
    }
}

/// A response: status, headers and body.
public struct AWSResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var xml: XMLNode? { body.isEmpty ? nil : XMLTree.parse(body) }
}

/// An AWS error response, kept apart from other failures so callers can test for codes such as NotFound.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public var service: String
    public var call: String
    public var status: Int
    public var code: String
    public var message: String
    public var credentialSource: String

    public var description: String { "\(service) \(call): \(detail)" }

    /// The AWS error code, HTTP status and message, plus the credential source on authentication failures.
    public var detail: String {
        var text = "\(code) (HTTP \(status))" + (message.isEmpty ? "" : ": \(message)")
        if ["AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException",
            "IncompleteSignature", "AccessDenied", "ExpiredToken"].contains(code) {
            text += " (credentials from \(credentialSource))"
        }
        return text
    }

    public var providerError: ProviderError { ProviderError(address: nil, call: "\(service) \(call)", message: detail) }
}

public struct AWSClient: Sendable {
    public var settings: AWSSettings
    public var retry: RetryPolicy
    public var timeout: TimeAmount
    let http: HTTPClient
    /// Counts API calls (the closing note of issue 6 asks how many an apply makes).
    let counter = CallCounter()

    public init(settings: AWSSettings, retry: RetryPolicy = RetryPolicy(), timeout: TimeAmount = .seconds(30),
                http: HTTPClient = .shared) {
        self.settings = settings
        self.retry = retry
        self.timeout = timeout
        self.http = http
    }

    public var callCount: Int { counter.value }

    /// The same client (connection pool, retry policy, call counter) signing for another region; a resource's
    /// `region` attribute picks it, so one stack can span regions.
    public func inRegion(_ region: String?) -> AWSClient {
        guard let region, !region.isEmpty, region != settings.region else { return self }
        var copy = self
        copy.settings.region = region
        return copy
    }

    /// The base URL of a service: the override when set, otherwise AWS's regional endpoint.
    func baseURL(_ service: String) -> URL {
        if let endpoint = settings.endpoint { return endpoint }
        return URL(string: "https://\(service).\(settings.region).amazonaws.com")!
    }

    /// A query-protocol call (EC2, ELBv2, Auto Scaling): Action/Version in a form POST, XML back.
    public func query(_ service: String, version: String, _ action: String, _ params: [String: String]) async throws -> XMLNode {
        var form = [("Action", action), ("Version", version)] + params.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        form = form.map { (SigV4.encode($0.0), SigV4.encode($0.1)) }
        let body = Array(form.map { "\($0.0)=\($0.1)" }.joined(separator: "&").utf8)
        let response = try await send(service, call: action, method: "POST", path: "/", query: [],
                                      headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"], body: body)
        guard let xml = response.xml else {
            throw ProviderError(address: nil, call: "\(service) \(action)", message: "the response was not XML")
        }
        return xml
    }

    /// One signed call with retries. Throws `AWSError` for an AWS error response, `ProviderError` otherwise.
    public func send(_ service: String, call: String, method: String, path: String, query: [(String, String)],
                     headers: [String: String] = [:], body: [UInt8] = []) async throws -> AWSResponse {
        let credentials: AWSCredentials
        switch settings.credentials {
        case .success(let c): credentials = c
        case .failure(let e): throw e
        }
        var attempt = 0
        while true {
            do {
                let response = try await sendOnce(service, method: method, path: path, query: query, headers: headers, body: body,
                                                  credentials: credentials)
                if response.status < 300 { return response }
                let error = Self.error(service: service, call: call, response: response, credentialSource: credentials.source)
                if attempt + 1 < retry.maxAttempts, RetryPolicy.isRetryable(status: response.status, code: error.code) {
                    try await Task.sleep(nanoseconds: UInt64(retry.delay(afterAttempt: attempt) * 1e9))
                    attempt += 1
                    continue
                }
                throw error
            } catch let error as HTTPClientError where attempt + 1 < retry.maxAttempts && Self.isTransient(error) {
                try await Task.sleep(nanoseconds: UInt64(retry.delay(afterAttempt: attempt) * 1e9))
                attempt += 1
            } catch let error as HTTPClientError {
                throw ProviderError(address: nil, call: "\(service) \(call)", message: "\(error) (endpoint \(baseURL(service)))")
            }
        }
    }

    static func isTransient(_ error: HTTPClientError) -> Bool {
        [HTTPClientError.readTimeout, .connectTimeout, .remoteConnectionClosed, .deadlineExceeded].contains(error)
    }

    private func sendOnce(_ service: String, method: String, path: String, query: [(String, String)], headers: [String: String],
                          body: [UInt8], credentials: AWSCredentials) async throws -> AWSResponse {
        counter.increment()
        let base = baseURL(service)
        let host = base.port.map { "\(base.host ?? ""):\($0)" } ?? (base.host ?? "")
        let basePath = base.path.hasSuffix("/") ? String(base.path.dropLast()) : base.path
        let fullPath = basePath + (path.hasPrefix("/") ? path : "/" + path)
        var signable = SignableRequest(method: method, path: fullPath, query: query, headers: headers, body: body)
        signable.headers["host"] = host
        let added = SigV4.sign(signable, service: service, region: settings.region, credentials: credentials, date: Date())
        let encodedPath = fullPath.split(separator: "/", omittingEmptySubsequences: false).map { SigV4.encode(String($0)) }
            .joined(separator: "/")
        let queryText = query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: "\(base.scheme ?? "https")://\(host)\(encodedPath)" + (queryText.isEmpty ? "" : "?\(queryText)"))
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in signable.headers.merging(added, uniquingKeysWith: { $1 }) where name != "host" {
            request.headers.add(name: name, value: value)
        }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return AWSResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                           body: Array(buffer: bytes))
    }

    /// Reads `<Error><Code>…<Message>…` wherever the service puts it (or a JSON protocol's `__type`/`message`); never
    /// returns the raw body.
    static func error(service: String, call: String, response: AWSResponse, credentialSource: String) -> AWSError {
        let xml = response.xml
        let json = xml == nil ? JSONError(response.body) : nil
        let code = xml?.find("Code")?.text ?? xml.flatMap { $0.name == "Code" ? $0.text : nil } ?? json?.code
        let message = xml?.find("Message")?.text ?? json?.message ?? ""
        let fallback = HTTPResponseStatus(statusCode: response.status).reasonPhrase.replacingOccurrences(of: " ", with: "")
        return AWSError(service: service, call: call, status: response.status, code: code ?? fallback,
                        message: message.trimmingCharacters(in: .whitespacesAndNewlines), credentialSource: credentialSource)
    }
}

/// A thread-safe counter of API calls.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
