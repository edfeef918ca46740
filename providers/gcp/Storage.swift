/// Cloud Storage buckets over the JSON API: location, storage class, versioning, default KMS key, lifecycle, labels,
/// uniform bucket-level access and public access prevention, retention. Changes are PATCHes of what differs, guarded by
/// the bucket's metageneration (a concurrent change is refused with 412 instead of being overwritten).

import Foundation
import ProviderKit

struct BucketResource: GCPProvider.Resource {
    let client: GCPClient

    static let fields = ["name", "location", "storage_class", "versioning", "labels", "lifecycle", "iam_configuration",
                         "retention_policy", "encryption"]
    /// What a PATCH may change (location and name are fixed at creation).
    static let mutable = ["storage_class", "versioning", "labels", "lifecycle", "iam_configuration", "retention_policy", "encryption"]

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let project = try client.project(config["project"])
        let name = config["name"]?.stringValue ?? ""
        do {
            // buckets.insert has no requestId: a call that may have reached GCS is not repeated (find adopts it).
            try await client.call(.storage, .POST, "b", query: [("project", project)], body: APIForm.body(config, Self.fields),
                                  name: "storage.buckets.insert", idempotent: false)
        } catch let error as GCPError where error.isAlreadyExists {
            guard let found = try await find(context, config) else {
                throw GCPError(call: error.call, status: error.status, reason: error.reason, statusName: error.statusName,
                               message: error.message + " (bucket names are global: this one is taken, and not by this stack's \(context.address))")
            }
            return try await update(context, found, config)
        }
        guard let state = try await read(context, id: name) else {
            throw ProviderError(address: context.address, call: "storage.buckets.get", message: "bucket \(name) was created but is not there")
        }
        return state
    }

    func get(_ name: String) async throws -> [String: AttributeValue]? {
        try await client.optional(.storage, "b/\(name)", name: "storage.buckets.get")
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let json = try await get(id) else { return nil }
        return state(json)
    }

    func state(_ json: [String: AttributeValue]) -> ResourceState {
        var a = APIForm.attributes(json)
        let name = json["name"]?.stringValue ?? ""
        a["id"] = .string(name)
        a["location"] = json["location"]?.stringValue.map { .string($0.uppercased()) } ?? .null
        a["labels"] = json["labels"] ?? .map([:])
        a["versioning"] = .map(["enabled": .bool(json["versioning"]?.mapValue?["enabled"]?.boolValue ?? false)])
        a["project_number"] = json["projectNumber"].map { .string($0.interpolationText) } ?? .null
        a["time_created"] = json["timeCreated"] ?? .null
        a["self_link"] = json["selfLink"] ?? .string("https://www.googleapis.com/storage/v1/b/\(name)")
        for key in ["kind", "etag", "metageneration", "updated", "location_type", "rpo", "soft_delete_policy", "hierarchical_namespace"] {
            a[key] = nil
        }
        return ResourceState(id: name, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await get(prior.id) else {
            throw ProviderError(address: context.address, call: "storage.buckets.get", message: "bucket \(prior.id) no longer exists")
        }
        let attributes = state(current).attributes
        var body: [String: AttributeValue] = [:]
        for key in Self.mutable where ComputeResource.differs(key, attributes, config) {
            let name = APIForm.apiName(key)
            if key == "labels" {
                // A PATCH merges labels: one to remove is sent as null.
                var labels = config["labels"]?.mapValue ?? [:]
                for old in (attributes["labels"]?.mapValue ?? [:]).keys where labels[old] == nil { labels[old] = .null }
                body[name] = .map(labels)
            } else {
                body[name] = APIForm.toAPI(config[key]!, field: name)
            }
        }
        if !body.isEmpty {
            try await client.call(.storage, .PATCH, "b/\(prior.id)",
                                  query: [("ifMetagenerationMatch", current["metageneration"]?.interpolationText ?? "")],
                                  body: body, name: "storage.buckets.patch")
        }
        guard let now = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "storage.buckets.get", message: "bucket \(prior.id) is gone after the update")
        }
        return now
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { try await client.call(.storage, .DELETE, "b/\(prior.id)", name: "storage.buckets.delete") }
        catch let error as GCPError where error.isNotFound {}
    }

    /// Bucket names are the stack's; the bucket is adopted only when its labels name this address.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.stringValue, let json = try await get(name) else { return nil }
        let found = state(json)
        return Owner.owns(found.attributes, context) ? found : nil
    }
}
