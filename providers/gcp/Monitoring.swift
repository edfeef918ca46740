/// Cloud Monitoring v3 alert policies. Their names are chosen by Monitoring (`projects/P/alertPolicies/ID`), so the
/// owner is in `user_labels` and `find` looks policies up by them; a change is a PATCH with an `updateMask` naming
/// the fields that differ.

import Foundation
import ProviderKit

struct AlertPolicyResource: GCPProvider.Resource {
    let client: GCPClient
    static let fields = ["display_name", "documentation", "user_labels", "conditions", "combiner", "enabled", "severity",
                         "notification_channels"]

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let project = try client.project(config["project"])
        // alertPolicies.create has no request id: a call that may have reached Monitoring is not repeated; find adopts it.
        let json = try await client.call(.monitoring, .POST, "projects/\(project)/alertPolicies", body: APIForm.body(config, Self.fields),
                                         name: "monitoring.projects.alertPolicies.create", idempotent: false)
        guard let name = json["name"]?.stringValue else {
            throw ProviderError(address: context.address, call: "monitoring.projects.alertPolicies.create", message: "the answer named no policy")
        }
        return state(json, name: name)
    }

    func state(_ json: [String: AttributeValue], name: String) -> ResourceState {
        var a = APIForm.attributes(json)
        a["name"] = .string(name)
        a["project"] = .string(name.split(separator: "/").dropFirst().first.map(String.init) ?? "")
        a["user_labels"] = json["userLabels"] ?? .map([:])
        for key in ["creation_record", "mutation_record", "validity"] { a[key] = nil }
        return ResourceState(id: name, attributes: a)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let json = try await client.optional(.monitoring, id, name: "monitoring.projects.alertPolicies.get") else { return nil }
        return state(json, name: id)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "monitoring.projects.alertPolicies.get", message: "\(prior.id) no longer exists")
        }
        let changed = Self.fields.filter { ComputeResource.differs($0, current.attributes, config) }
        guard !changed.isEmpty else { return current }
        let mask = changed.map(APIForm.apiName).joined(separator: ",")
        let json = try await client.call(.monitoring, .PATCH, prior.id, query: [("updateMask", mask)], body: APIForm.body(config, changed),
                                         name: "monitoring.projects.alertPolicies.patch")
        return state(json, name: prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { try await client.call(.monitoring, .DELETE, prior.id, name: "monitoring.projects.alertPolicies.delete") }
        catch let error as GCPError where error.isNotFound {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let project = try client.project(config["project"])
        let labels = Owner.labels(context)
        let filter = "user_labels.maif-address = \"\(labels["maif-address"]!.interpolationText)\" AND user_labels.maif-stack = \"\(labels["maif-stack"]!.interpolationText)\""
        let answer = try await client.call(.monitoring, .GET, "projects/\(project)/alertPolicies", query: [("filter", filter)],
                                           name: "monitoring.projects.alertPolicies.list")
        for item in answer["alertPolicies"]?.listValue ?? [] {
            guard let json = item.mapValue, let name = json["name"]?.stringValue else { continue }
            let found = state(json, name: name)
            if Owner.owns(found.attributes, context) { return found }
        }
        return nil
    }
}
