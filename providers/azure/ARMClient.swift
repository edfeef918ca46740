/// Calls to Azure Resource Manager: a bearer token on each, a deadline per call, throttling (429) and server errors (5xx)
/// tried again with exponential backoff and full jitter or after the `Retry-After` ARM asks for, ARM's error document
/// `{"error": {"code", "message", "details"}}` turned into `CODE: message`, and long-running operations followed
/// through `Azure-AsyncOperation` (else `Location`) to their end, their URL recorded before the first poll.

import AsyncHTTPClient
import Foundation
import NIOHTTP1
import ProviderKit

/// An error ARM answered with, kept apart so callers can test its code (ResourceNotFound, OperationNotAllowed…).
struct ARMError: Error, Sendable, CustomStringConvertible {
    var call: String
    var status: Int?
    var code: String
    var message: String
    /// The `details` messages ARM adds (every problem a body had), without the first when it repeats `message`.
    var details: [String] = []
    /// Appended in parentheses: "the operation ended Failed", "gave up after 7 attempts".
    var note: String?

    var detail: String {
        var text = code + (message.isEmpty ? "" : ": " + message)
        let extra = details.filter { !message.contains($0) }.prefix(3)
        if !extra.isEmpty { text += " (" + extra.joined(separator: "; ") + ")" }
        if let note { text += " (\(note))" }
        return text
    }

    var description: String { "\(call) failed: \(detail)" }
    var providerError: ProviderError { ProviderError(address: nil, call: call, message: detail) }

    /// ARM's error document, or the HTTP status when the body is not one. Never the raw body.
    static func from(_ exchange: HTTPExchange, call: String) -> ARMError {
        let error = exchange.json.mapValue?["error"]?.mapValue
        let fallback = HTTPResponseStatus(statusCode: exchange.status).reasonPhrase.replacingOccurrences(of: " ", with: "")
        var details: [String] = []
        for d in error?["details"]?.listValue ?? [] {
            guard let m = d.mapValue, let message = m["message"]?.stringValue else { continue }
            details.append((m["target"]?.stringValue.map { "\($0): " } ?? "") + message)
        }
        return ARMError(call: call, status: exchange.status, code: error?["code"]?.stringValue ?? "HTTP\(exchange.status)\(fallback)",
                        message: error?["message"]?.stringValue ?? "", details: details)
    }

    var isNotFound: Bool {
        status == 404 || ["ResourceNotFound", "ResourceGroupNotFound", "ParentResourceNotFound", "NotFound"].contains(code)
    }
}

struct ARMClient: Sendable {
    let settings: AzureSettings
    let http: AzureHTTP
    let tokens: TokenSource
    let counter: CallCounter
    let ledger: OperationLedger

    init(settings: AzureSettings, stack: String) throws {
        self.settings = settings
        counter = CallCounter()
        http = try AzureHTTP(caFile: settings.caFile, timeout: settings.callTimeout, counter: counter)
        tokens = TokenSource(settings: settings, http: http)
        ledger = OperationLedger(root: settings.operationsDirectory, stack: stack)
    }

    var subscription: String {
        get throws {
            guard let s = settings.subscription else {
                throw ProviderError(address: nil, call: "azure settings", message: "no subscription: set clouds.azure.subscription or AZURE_SUBSCRIPTION_ID")
            }
            return s
        }
    }

    // MARK: One call

    /// The URL of an ARM path (or an absolute URL ARM handed out) with its api-version.
    func url(_ path: String, api: String?, query: [(String, String)] = []) -> String {
        var base = path.hasPrefix("http") ? path : settings.endpoint.absoluteString + path
        var items = query
        if let api, !base.contains("api-version=") { items.insert(("api-version", api), at: 0) }
        if !items.isEmpty {
            base += (base.contains("?") ? "&" : "?") + items.map { "\($0.0)=\(TokenSource.formEncode($0.1))" }.joined(separator: "&")
        }
        return base
    }

    static let retryableCodes: Set<String> = ["TooManyRequests", "AnotherOperationInProgress", "RetryableError", "ServerTimeout",
                                               "InternalServerError", "ServiceUnavailable", "GatewayTimeout"]

    static func isRetryable(_ status: Int, _ code: String) -> Bool {
        if status == 409 { return code == "AnotherOperationInProgress" }
        return status == 429 || status == 408 || status == 500 || status == 502 || status == 503 || status == 504
            || (status >= 500 && retryableCodes.contains(code))
    }

    /// Full jitter: up to min(16 s, 0.5 s · 2^attempt), at least half of it.
    static func backoff(_ attempt: Int) -> Double {
        let cap = min(16, 0.5 * pow(2, Double(attempt)))
        return Double.random(in: cap / 2...cap)
    }

    /// `Retry-After` in seconds (or an HTTP date), capped at a minute.
    static func retryAfter(_ exchange: HTTPExchange) -> Double? {
        guard let text = exchange.header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(text) { return min(60, max(0, seconds)) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return format.date(from: text).map { min(60, max(0, $0.timeIntervalSinceNow)) }
    }

    /// One ARM call with its retries. Statuses in `accept` (besides 2xx) are returned, not thrown: a GET that may meet
    /// 404, a poll. Throws `ARMError` for ARM's answers, `ProviderError` when ARM cannot be reached.
    func send(_ method: HTTPMethod, _ path: String, api: String?, body: AttributeValue? = nil, call: String,
              accept: Set<Int> = [], kind: CallCounter.Kind = .arm, retryErrors: Bool = true) async throws -> HTTPExchange {
        let target = url(path, api: api)
        var headers: [(String, String)] = [("Accept", "application/json")]
        var bytes: [UInt8]?
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(body.canonicalJSON(indent: nil).utf8)
        }
        var attempt = 0
        var refreshed = false
        while true {
            let token = try await tokens.bearer()
            let exchange: HTTPExchange
            do {
                exchange = try await http.send(method, target, headers: headers + [("Authorization", "Bearer " + token)], body: bytes, kind: kind)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // ARM's writes are idempotent (PUT, DELETE, the VM actions): a call whose answer was lost may be sent again.
                if attempt < settings.maxRetries {
                    try await Task.sleep(nanoseconds: UInt64(Self.backoff(attempt) * 1e9))
                    attempt += 1
                    continue
                }
                throw ProviderError(address: nil, call: call, message: "cannot reach Azure Resource Manager at \(settings.endpoint.absoluteString): \(error)")
            }
            if (200..<300).contains(exchange.status) || accept.contains(exchange.status) { return exchange }
            var error = ARMError.from(exchange, call: call)
            if exchange.status == 401, !refreshed, ["ExpiredAuthenticationToken", "InvalidAuthenticationToken"].contains(error.code) {
                refreshed = true
                _ = try await tokens.bearer(fresh: true)
                continue
            }
            if exchange.status == 401 || exchange.status == 403 { error.note = "credential: \(settings.credentialSource)" }
            if retryErrors, Self.isRetryable(exchange.status, error.code) {
                if attempt < settings.maxRetries {
                    try await Task.sleep(nanoseconds: UInt64((Self.retryAfter(exchange) ?? Self.backoff(attempt)) * 1e9))
                    attempt += 1
                    continue
                }
                if attempt > 0 { error.note = "gave up after \(attempt + 1) attempts" }
            }
            throw error
        }
    }

    /// A resource document, or nil when ARM says it is not there.
    func get(_ path: String, api: String, call: String) async throws -> [String: AttributeValue]? {
        let exchange = try await send(.GET, path, api: api, call: call, accept: [404])
        if exchange.status == 404 { return nil }
        return exchange.json.mapValue ?? [:]
    }

    // MARK: Writes and their operations

    /// A write (PUT, PATCH, DELETE, or a POST action) followed to its end. Returns the resource as it is afterwards for a
    /// PUT or PATCH (nil for the others). `address` keys the recorded operation; `deadline` bounds the whole of it.
    func write(_ method: HTTPMethod, _ path: String, api: String, body: AttributeValue? = nil, call: String,
               address: ResourceAddress, deadline: Date) async throws -> [String: AttributeValue]? {
        let digest = body.map { Digest.sha256($0.canonicalJSON(indent: nil)) } ?? ""
        let exchange = try await send(method, path, api: api, body: body, call: call,
                                      accept: method == .DELETE ? [404] : [])
        if method == .DELETE, exchange.status == 404 || exchange.status == 204 { return nil }
        let asyncOperation = exchange.header("Azure-AsyncOperation"), location = exchange.header("Location")
        let writes = method == .PUT || method == .PATCH
        guard asyncOperation != nil || (location != nil && exchange.status == 202) else {
            let document = exchange.json.mapValue
            // A synchronous answer whose resource is still settling: wait for its provisioningState.
            if writes, let document, let state = Self.provisioningState(document), !Self.terminal(state) {
                return try await settle(path, api: api, call: call, deadline: deadline)
            }
            if writes, let document { try Self.check(document, call: call) }
            guard writes else { return nil }
            if let document { return document }
            return try await get(path, api: api, call: call)
        }
        let operation = PendingOperation(method: method.rawValue, resource: path, asyncOperation: asyncOperation, location: location,
                                         apiVersion: api, digest: digest)
        try ledger.record(operation, for: address)
        let result = try await follow(operation, call: call, deadline: deadline, firstWait: Self.retryAfter(exchange))
        ledger.remove(address)
        return result
    }

    /// Polls an operation to its end (also one a previous run recorded) and returns the resource after a PUT or PATCH.
    /// A failed or canceled operation throws its error; past the deadline it throws, and the operation stays recorded.
    func follow(_ operation: PendingOperation, call: String, deadline: Date, firstWait: Double?) async throws -> [String: AttributeValue]? {
        var wait = firstWait ?? 1
        let writes = operation.method == "PUT" || operation.method == "PATCH"
        func pause() async throws {
            guard Date().addingTimeInterval(wait) < deadline else {
                throw ProviderError(address: nil, call: call, message: "gave up after \(Int(settings.operationTimeout)) s (clouds.azure.operation_timeout) "
                                    + "waiting for the operation \(operation.asyncOperation ?? operation.location ?? ""); it may still be running, and the next apply resumes it")
            }
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
        if let url = operation.asyncOperation {
            while true {
                try await pause()
                let exchange = try await send(.GET, url, api: nil, call: call, kind: .poll)
                let status = exchange.json.mapValue?["status"]?.stringValue ?? "InProgress"
                if status.caseInsensitiveCompare("Succeeded") == .orderedSame { break }
                if ["failed", "canceled", "cancelled"].contains(status.lowercased()) {
                    throw Self.operationFailure(exchange.json.mapValue?["error"], status: status, call: call)
                }
                wait = Self.retryAfter(exchange) ?? min(10, wait * 2)
            }
            guard writes else { return nil }
            guard let document = try await get(operation.resource, api: operation.apiVersion, call: call) else {
                throw ARMError(call: call, status: 404, code: "ResourceNotFound", message: "the resource is gone after its operation succeeded")
            }
            try Self.check(document, call: call)
            return document
        }
        guard let url = operation.location else { return nil }
        while true {
            try await pause()
            // A Location poll answers the operation's failure with an error status: that is its end, not a fault to retry.
            let exchange = try await send(.GET, url, api: nil, call: call, accept: Set(202...599).subtracting([429]), kind: .poll)
            switch exchange.status {
            case 202:
                wait = Self.retryAfter(exchange) ?? min(10, wait * 2)
            case 200..<300:
                guard writes else { return nil }
                if let document = exchange.json.mapValue, document["id"] != nil { try Self.check(document, call: call); return document }
                return try await get(operation.resource, api: operation.apiVersion, call: call)
            default:
                var error = ARMError.from(exchange, call: call)
                error.note = "the operation failed"
                throw error
            }
        }
    }

    /// Waits for a resource whose write answered synchronously but is still Creating/Updating.
    private func settle(_ path: String, api: String, call: String, deadline: Date) async throws -> [String: AttributeValue] {
        var wait = 1.0
        while true {
            guard Date().addingTimeInterval(wait) < deadline else {
                throw ProviderError(address: nil, call: call, message: "gave up after \(Int(settings.operationTimeout)) s waiting for provisioningState Succeeded")
            }
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            guard let document = try await get(path, api: api, call: call) else {
                throw ARMError(call: call, status: 404, code: "ResourceNotFound", message: "the resource disappeared while it was being provisioned")
            }
            if let state = Self.provisioningState(document), !Self.terminal(state) { wait = min(10, wait * 2); continue }
            try Self.check(document, call: call)
            return document
        }
    }

    static func provisioningState(_ document: [String: AttributeValue]) -> String? {
        document["properties"]?.mapValue?["provisioningState"]?.stringValue
    }

    static func terminal(_ state: String) -> Bool {
        ["succeeded", "failed", "canceled", "cancelled"].contains(state.lowercased())
    }

    /// A resource that ARM reports Failed or Canceled after its write is an error, whatever the HTTP status said.
    static func check(_ document: [String: AttributeValue], call: String) throws {
        guard let state = provisioningState(document), ["failed", "canceled", "cancelled"].contains(state.lowercased()) else { return }
        throw ARMError(call: call, status: nil, code: "Provisioning\(state)", message: "ARM reports provisioningState \(state)")
    }

    static func operationFailure(_ error: AttributeValue?, status: String, call: String) -> ARMError {
        let m = error?.mapValue
        var details: [String] = []
        for d in m?["details"]?.listValue ?? [] { if let message = d.mapValue?["message"]?.stringValue { details.append(message) } }
        return ARMError(call: call, status: nil, code: m?["code"]?.stringValue ?? "Operation\(status)",
                        message: m?["message"]?.stringValue ?? "", details: details, note: "the operation ended \(status)")
    }

    // MARK: Names

    /// `PUT Microsoft.Network/virtualNetworks/subnets` for a path: the method and the resource type it names.
    static func callName(_ method: String, _ path: String) -> String {
        "\(method) \(ARMPath.type(of: path))"
    }
}

/// ARM resource ids and paths.
enum ARMPath {
    /// The resource type a path names: `Microsoft.Network/virtualNetworks/subnets`, `Microsoft.Resources/resourceGroups`.
    static func type(of path: String) -> String {
        let parts = path.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
        if let p = parts.lastIndex(where: { $0.lowercased() == "providers" }), p + 1 < parts.count {
            let rest = Array(parts[(p + 2)...])
            let types = stride(from: 0, to: rest.count, by: 2).map { rest[$0] }
            return ([parts[p + 1]] + types).joined(separator: "/")
        }
        if parts.contains(where: { $0.lowercased() == "resourcegroups" }) { return "Microsoft.Resources/resourceGroups" }
        return parts.last.map { "Microsoft.Resources/\($0)" } ?? path
    }

    /// The parts of an id: `resourceGroups` → its name, and each `type` → name after `providers/<namespace>`.
    static func components(_ id: String) -> [String: String] {
        let parts = id.split(separator: "/").map(String.init)
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < parts.count {
            let key = parts[i].lowercased()
            if key == "providers" { out["namespace"] = parts[i + 1]; i += 2; continue }
            out[key] = parts[i + 1]
            i += 2
        }
        return out
    }

    static func escape(_ segment: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~()")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }
}
