/// The long-running ARM operations this provider started and has not seen end: one small file per resource address,
/// written (and synced) after ARM accepts a request and before the first poll, removed when the operation ends. A run
/// killed while a VM is being created leaves the file behind; the next run (recovering the journal's intent through
/// `find`, or creating, changing or deleting the resource again) polls that operation to its end instead of starting
/// another one that ARM would refuse with `AnotherOperationInProgress`.

import Foundation
import ProviderKit

struct PendingOperation: Sendable, Equatable {
    var method: String
    /// The resource's ARM id.
    var resource: String
    var asyncOperation: String?
    var location: String?
    /// The API version of the resource, for the GET after the operation.
    var apiVersion: String
    /// A digest of the request body: a create that meets its own finished operation need not send it again.
    var digest: String
    var started: Date

    var json: AttributeValue {
        var m: [String: AttributeValue] = [
            "method": .string(method), "resource": .string(resource), "api_version": .string(apiVersion),
            "digest": .string(digest), "started": .double(started.timeIntervalSince1970),
        ]
        if let asyncOperation { m["azure_async_operation"] = .string(asyncOperation) }
        if let location { m["location"] = .string(location) }
        return .map(m)
    }

    init(method: String, resource: String, asyncOperation: String?, location: String?, apiVersion: String, digest: String, started: Date = Date()) {
        self.method = method
        self.resource = resource
        self.asyncOperation = asyncOperation
        self.location = location
        self.apiVersion = apiVersion
        self.digest = digest
        self.started = started
    }

    init?(_ value: AttributeValue) {
        guard let m = value.mapValue, let method = m["method"]?.stringValue, let resource = m["resource"]?.stringValue else { return nil }
        self.init(method: method, resource: resource, asyncOperation: m["azure_async_operation"]?.stringValue,
                  location: m["location"]?.stringValue, apiVersion: m["api_version"]?.stringValue ?? "",
                  digest: m["digest"]?.stringValue ?? "",
                  started: Date(timeIntervalSince1970: {
                      switch m["started"] {
                      case .double(let d)?: return d
                      case .int(let i)?: return Double(i)
                      default: return 0
                      }
                  }()))
    }
}

struct OperationLedger: Sendable {
    /// `<operations_dir>/<stack>`; nil keeps nothing (tests of the client alone).
    let directory: String?

    init(root: String?, stack: String) {
        directory = root.map { "\($0)/\(stack.isEmpty ? "_" : stack)" }
    }

    private func file(_ address: ResourceAddress) -> String? {
        directory.map { "\($0)/\(address.description).json" }
    }

    func pending(_ address: ResourceAddress) -> PendingOperation? {
        guard let path = file(address), let data = FileManager.default.contents(atPath: path),
              let value = try? JSONDecoder().decode(AttributeValue.self, from: data) else { return nil }
        return PendingOperation(value)
    }

    /// Durable before it returns: the file is written aside, synced, and renamed into place.
    func record(_ operation: PendingOperation, for address: ResourceAddress) throws {
        guard let directory, let path = file(address) else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temporary = path + ".tmp"
            let data = Data((operation.json.canonicalJSON() + "\n").utf8)
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw ProviderError(address: address, call: "record operation", message: "cannot write \(temporary)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.synchronize()
            try handle.close()
            if rename(temporary, path) != 0 {
                throw ProviderError(address: address, call: "record operation", message: "cannot rename \(temporary): \(String(cString: strerror(errno)))")
            }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(address: address, call: "record operation", message: "cannot write \(path): \(error)")
        }
    }

    func remove(_ address: ResourceAddress) {
        guard let path = file(address) else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
