/// Cloud DNS v1: managed zones (labelled with their owner) and record sets (found again by their natural key, zone +
/// name + type, since they carry no labels), including geo routing policies. Zone changes answer a `dns#operation`,
/// waited for until `done`.

import Foundation
import ProviderKit

struct ManagedZoneResource: GCPProvider.Resource {
    let client: GCPClient
    static let fields = ["name", "dns_name", "description", "labels", "visibility"]

    func path(project: String, name: String) -> String { "projects/\(project)/managedZones/\(name)" }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let project = try client.project(config["project"])
        let name = config["name"]?.stringValue ?? ""
        do {
            try await client.call(.dns, .POST, "projects/\(project)/managedZones", body: APIForm.body(config, Self.fields),
                                  name: "dns.managedZones.create", idempotent: false)
        } catch let error as GCPError where error.isAlreadyExists {
            guard let found = try await find(context, config) else { throw error }
            return try await update(context, found, config)
        }
        guard let state = try await read(context, id: path(project: project, name: name)) else {
            throw ProviderError(address: context.address, call: "dns.managedZones.get", message: "zone \(name) was created but is not there")
        }
        return state
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let json = try await client.optional(.dns, id, name: "dns.managedZones.get") else { return nil }
        var a = APIForm.attributes(json)
        a["id"] = json["id"].map { .string($0.interpolationText) } ?? .null
        a["project"] = .string(id.split(separator: "/").dropFirst().first.map(String.init) ?? "")
        a["labels"] = json["labels"] ?? .map([:])
        for key in ["kind", "creation_time", "name_server_set", "cloud_logging_config"] { a[key] = nil }
        return ResourceState(id: id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "dns.managedZones.get", message: "zone \(prior.id) no longer exists")
        }
        let changed = ["description", "labels"].filter { ComputeResource.differs($0, current.attributes, config) }
        if !changed.isEmpty {
            let op = try await client.call(.dns, .PATCH, prior.id, body: APIForm.body(config, changed), name: "dns.managedZones.patch")
            try await waitForOperation(op, zone: prior.id)
        }
        return try await read(context, id: prior.id) ?? current
    }

    /// A `dns#operation` until its status is `done` (bounded).
    func waitForOperation(_ op: [String: AttributeValue], zone: String) async throws {
        guard op["status"]?.stringValue != "done", let id = op["id"]?.stringValue else { return }
        let timeout = OperationTimeouts.seconds(for: "dns_managed_zone", settings: client.settings)
        _ = try await Poll.until("the change of zone \(ComputeURL.name(zone))", timeout: timeout) {
            let now = try await client.call(.dns, .GET, "\(zone)/operations/\(id)", name: "dns.managedZoneOperations.get")
            return now["status"]?.stringValue == "done" ? true : nil
        }
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { try await client.call(.dns, .DELETE, prior.id, name: "dns.managedZones.delete") }
        catch let error as GCPError where error.isNotFound {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.stringValue else { return nil }
        guard let found = try await read(context, id: path(project: try client.project(config["project"]), name: name)) else { return nil }
        return Owner.owns(found.attributes, context) ? found : nil
    }
}

struct RecordSetResource: GCPProvider.Resource {
    let client: GCPClient
    static let fields = ["name", "type", "ttl", "rrdatas", "routing_policy"]

    func id(_ config: [String: AttributeValue]) throws -> String {
        let project = try client.project(config["project"])
        let zone = config["managed_zone"]?.stringValue ?? ""
        return "projects/\(project)/managedZones/\(ComputeURL.name(zone))/rrsets/\(config["name"]?.stringValue ?? "")/\(config["type"]?.stringValue ?? "")"
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let id = try id(config)
        let collection = id.split(separator: "/").dropLast(2).joined(separator: "/")
        do {
            try await client.call(.dns, .POST, collection, body: APIForm.body(config, Self.fields), name: "dns.resourceRecordSets.create",
                                  idempotent: false)
        } catch let error as GCPError where error.isAlreadyExists {
            // Record sets carry no owner marks: the one with this name and type is the one the stack wants.
            return try await update(context, ResourceState(id: id, attributes: [:]), config)
        }
        guard let state = try await read(context, id: id) else {
            throw ProviderError(address: context.address, call: "dns.resourceRecordSets.get", message: "\(id) was created but is not there")
        }
        return state
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let json = try await client.optional(.dns, id, name: "dns.resourceRecordSets.get") else { return nil }
        var a = APIForm.attributes(json)
        let parts = id.split(separator: "/").map(String.init)
        a["project"] = parts.count > 1 ? .string(parts[1]) : .null
        a["managed_zone"] = parts.count > 3 ? .string(parts[3]) : .null
        a["kind"] = nil
        a["signature_rrdatas"] = nil
        return ResourceState(id: id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await client.call(.dns, .PATCH, prior.id, body: APIForm.body(config, Self.fields), name: "dns.resourceRecordSets.patch")
        guard let now = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "dns.resourceRecordSets.get", message: "\(prior.id) is gone after the update")
        }
        return now
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { try await client.call(.dns, .DELETE, prior.id, name: "dns.resourceRecordSets.delete") }
        catch let error as GCPError where error.isNotFound {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await read(context, id: try id(config))
    }
}

/// Bounded waits with a growing pause.
enum Poll {
    static func until<T>(_ what: String, timeout: Double, interval: Double = 5, _ check: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var delay = 0.1
        while true {
            if let value = try await check() { return value }
            guard Date() < deadline else {
                throw ProviderError(address: nil, call: "wait", message: "gave up after \(Int(timeout)) s waiting for \(what)")
            }
            try await Task.sleep(nanoseconds: UInt64(min(delay, max(0, deadline.timeIntervalSinceNow)) * 1e9))
            delay = min(interval, delay * 2)
        }
    }
}
