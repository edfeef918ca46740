/// Cloud Monitoring v3 alert policies and notification channels. Their names are chosen by Monitoring
/// (`projects/P/alertPolicies/ID`, `projects/P/notificationChannels/ID`), so the owner is in `user_labels` and `find`
/// looks them up by it; a change is a PATCH with an `updateMask` naming the fields that differ.

import Foundation
import ProviderKit

struct AlertPolicyResource: GCPProvider.Resource {
    let client: GCPClient
    static let fields = ["display_name", "documentation", "user_labels", "conditions", "combiner", "enabled", "severity",
                         "notification_channels"]
    var collection = "alertPolicies"
    var method = "monitoring.projects.alertPolicies"
    var fields = Self.fields
    /// Where a channel's `url_from` is read.
    var environment: [String: String] = [:]

    /// The configuration as the API takes it: a `url_from` read into `labels.url` (only for the call; the state keeps
    /// `url_from`, never the URL).
    func sent(_ context: ResourceContext, _ config: [String: AttributeValue], call: String) throws -> [String: AttributeValue] {
        guard let source = config["url_from"]?.stringValue else { return config }
        guard let url = ReferenceText.read(source, environment: environment) else {
            throw ProviderError(address: context.address, call: call, message: "url_from \(source) is not set or cannot be read")
        }
        var out = config
        var labels = config["labels"]?.mapValue ?? [:]
        labels["url"] = .string(url)
        out["labels"] = .map(labels)
        return out
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let project = try client.project(config["project"])
        let config = try sent(context, config, call: "\(method).create")
        // alertPolicies.create has no request id: a call that may have reached Monitoring is not repeated; find adopts it.
        let json = try await client.call(.monitoring, .POST, "projects/\(project)/\(collection)", body: APIForm.body(config, fields),
                                         name: "\(method).create", idempotent: false)
        guard let name = json["name"]?.stringValue else {
            throw ProviderError(address: context.address, call: "\(method).create", message: "the answer named no \(collection)")
        }
        return state(json, name: name)
    }

    func state(_ json: [String: AttributeValue], name: String) -> ResourceState {
        var a = APIForm.attributes(json)
        a["name"] = .string(name)
        a["project"] = .string(name.split(separator: "/").dropFirst().first.map(String.init) ?? "")
        a["user_labels"] = json["userLabels"] ?? .map([:])
        for key in ["creation_record", "mutation_record", "mutation_records", "validity", "verification_status"] { a[key] = nil }
        return ResourceState(id: name, attributes: a)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let json = try await client.optional(.monitoring, id, name: "\(method).get") else { return nil }
        return state(json, name: id)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "\(method).get", message: "\(prior.id) no longer exists")
        }
        let config = try sent(context, config, call: "\(method).patch")
        let changed = fields.filter { ComputeResource.differs($0, current.attributes, config) }
        guard !changed.isEmpty else { return current }
        let mask = changed.map(APIForm.apiName).joined(separator: ",")
        let json = try await client.call(.monitoring, .PATCH, prior.id, query: [("updateMask", mask)], body: APIForm.body(config, changed),
                                         name: "\(method).patch")
        return state(json, name: prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        // A channel is deleted after the policies that name it (they depend on it), so no `force` is needed.
        do { try await client.call(.monitoring, .DELETE, prior.id, name: "\(method).delete") }
        catch let error as GCPError where error.isNotFound {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let project = try client.project(config["project"])
        let labels = Owner.labels(context)
        let filter = "user_labels.maif-address = \"\(labels["maif-address"]!.interpolationText)\" AND user_labels.maif-stack = \"\(labels["maif-stack"]!.interpolationText)\""
        let answer = try await client.call(.monitoring, .GET, "projects/\(project)/\(collection)", query: [("filter", filter)],
                                           name: "\(method).list")
        for item in answer[collection]?.listValue ?? [] {
            guard let json = item.mapValue, let name = json["name"]?.stringValue else { continue }
            let found = state(json, name: name)
            if Owner.owns(found.attributes, context) { return found }
        }
        return nil
    }
}

extension AlertPolicyResource {
    /// A notification channel (an e-mail address, a webhook URL) alert policies name in `notification_channels`.
    static func notificationChannel(client: GCPClient, environment: [String: String]) -> AlertPolicyResource {
        AlertPolicyResource(client: client, collection: "notificationChannels", method: "monitoring.projects.notificationChannels",
                            fields: ["type", "display_name", "description", "labels", "user_labels", "enabled"], environment: environment)
    }
}
