/// Compute Engine's long-running operations: every insert, delete, patch and verb answers an Operation, zonal,
/// regional or global, which is waited for where it lives (`operations.wait`, which answers once the operation is DONE
/// or after a while; asked again with a growing pause until the resource's deadline). An operation that ends with
/// `error.errors[]` is a failure with the operation's own reason and message.

import Foundation
import NIOHTTP1
import ProviderKit

/// How long each type's operations may take, unless `clouds.gcp.operation_timeout` says otherwise.
enum OperationTimeouts {
    static let long: Set<String> = ["instance", "instance_group_manager", "autoscaler", "disk"]

    static func seconds(for kind: String, settings: GCPSettings) -> Double {
        settings.operationTimeout ?? (long.contains(kind) ? 600 : 300)
    }
}

extension GCPClient {
    /// Waits for a Compute operation (as answered by the call that started it) until it is DONE; throws its error.
    @discardableResult
    func wait(_ operation: [String: AttributeValue], project: String, timeout: Double, what: String) async throws -> [String: AttributeValue] {
        var op = operation
        guard let name = op["name"]?.stringValue else { return op }
        let scope: String
        if let zone = op["zone"]?.stringValue { scope = "zones/\(ComputeURL.name(zone))" }
        else if let region = op["region"]?.stringValue { scope = "regions/\(ComputeURL.name(region))" }
        else { scope = "global" }
        let method = scope == "global" ? "compute.globalOperations.wait" : scope.hasPrefix("zones/") ? "compute.zoneOperations.wait"
            : "compute.regionOperations.wait"
        let deadline = Date().addingTimeInterval(timeout)
        var pause = 0.1
        while op["status"]?.stringValue != "DONE" {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw ProviderError(address: nil, call: method,
                                    message: "operation \(name) (\(op["operationType"]?.stringValue ?? "?") of \(what)) is still \(op["status"]?.stringValue ?? "?") after \(Int(timeout)) s; it goes on in GCP, and the next apply finds what it made")
            }
            // operations.wait answers at DONE or after up to two minutes; the call's own timeout must outlast that. A wait
            // that times out on this side is simply asked again (here, not by the client's retries, which would each wait
            // as long again past the deadline).
            do {
                op = try await call(.compute, .POST, "projects/\(project)/\(scope)/operations/\(name)/wait", name: method,
                                    idempotent: false, timeout: min(remaining, 125) + 5)
            } catch let error as ProviderError where error.message.contains("deadline") || error.message.contains("Timeout") {
                continue
            }
            if op["status"]?.stringValue != "DONE" {
                try await Task.sleep(nanoseconds: UInt64(min(pause, max(0, deadline.timeIntervalSinceNow)) * 1e9))
                pause = min(pause * 2, 5)
            }
        }
        if case .list(let errors)? = op["error"]?.mapValue?["errors"], let first = errors.first?.mapValue {
            let status = op["httpErrorStatusCode"]?.intValue.map(Int.init) ?? 400
            let message = errors.compactMap { $0.mapValue?["message"]?.stringValue }.joined(separator: "; ")
            throw GCPError(call: "\(method.replacingOccurrences(of: ".wait", with: "")) \(name)", status: status,
                           reason: first["code"]?.stringValue ?? "", statusName: HTTPResponseStatus(statusCode: status).reasonPhrase,
                           message: message)
        }
        return op
    }

    /// Operations of `project` not yet DONE whose target is `targetLink`, newest first (for a resumed apply).
    func pendingOperations(project: String, scope: String, targetLink: String) async throws -> [[String: AttributeValue]] {
        let method = scope == "global" ? "compute.globalOperations.list" : scope.hasPrefix("zones/") ? "compute.zoneOperations.list"
            : "compute.regionOperations.list"
        let answer = try await call(.compute, .GET, "projects/\(project)/\(scope)/operations",
                                    query: [("filter", "(targetLink = \"\(targetLink)\") AND (status != \"DONE\")")], name: method)
        return (answer["items"]?.listValue ?? []).compactMap(\.mapValue)
    }
}
