/// IAM over the query protocol (API 2010-05-08): roles, their inline policies and instance profiles. IAM is global:
/// one endpoint, requests signed for us-east-1 whatever region the stack is in. Policy documents come back
/// URL-encoded; they are kept as compact JSON with sorted keys on both sides, so a document written another way is no
/// change.

import Foundation
import ProviderKit

struct IAM: Sendable {
    let client: AWSClient
    static let version = "2010-05-08"

    init(client: AWSClient) {
        var global = client.inRegion("us-east-1")
        if global.settings.endpoint == nil { global.settings.endpoint = URL(string: "https://iam.amazonaws.com") }
        self.client = global
    }

    func call(_ action: String, _ params: [String: String] = [:]) async throws -> XMLNode {
        try await client.query("iam", version: Self.version, action, params)
    }

    /// nil when IAM answers NoSuchEntity.
    func optional(_ action: String, _ params: [String: String]) async throws -> XMLNode? {
        do { return try await call(action, params) } catch let error as AWSError where error.code == "NoSuchEntity" { return nil }
    }

    /// A policy document in the one form both sides are compared in; nil when it is not JSON.
    static func canonicalPolicy(_ text: String) -> String? {
        let decoded = text.hasPrefix("%") ? (text.removingPercentEncoding ?? text) : text
        guard let value = try? JSONDecoder().decode(AttributeValue.self, from: Data(decoded.utf8)), case .map = value else { return nil }
        return value.canonicalJSON(indent: nil)
    }

    static func policyAttribute(_ text: String?) -> AttributeValue {
        guard let text, !text.isEmpty else { return .null }
        return .string(canonicalPolicy(text) ?? text.removingPercentEncoding ?? text)
    }

    /// `Tags.member.N.Key/Value` parameters.
    static func tagParams(_ tags: [String: String], prefix: String = "Tags.member") -> [String: String] {
        var params: [String: String] = [:]
        for (i, key) in tags.keys.sorted().enumerated() {
            params["\(prefix).\(i + 1).Key"] = key
            params["\(prefix).\(i + 1).Value"] = tags[key]
        }
        return params
    }

    static func tags(_ node: XMLNode?) -> [String: String] {
        var out: [String: String] = [:]
        for member in node?["Tags"]?.all("member") ?? [] { if let k = member.value("Key") { out[k] = member.value("Value") ?? "" } }
        return out
    }

    /// Brings tags from `current` to `wanted` with `Tag<Kind>` / `Untag<Kind>` (Role, InstanceProfile).
    func syncTags(_ kind: String, nameParam: String, name: String, from current: [String: String], to wanted: [String: String]) async throws {
        let changed = wanted.filter { current[$0.key] != $0.value }
        if !changed.isEmpty { _ = try await call("Tag\(kind)", Self.tagParams(changed).merging([nameParam: name]) { $1 }) }
        let removed = current.keys.filter { wanted[$0] == nil }.sorted()
        if !removed.isEmpty {
            var params = [nameParam: name]
            for (i, key) in removed.enumerated() { params["TagKeys.member.\(i + 1)"] = key }
            _ = try await call("Untag\(kind)", params)
        }
    }
}

func owned(_ tags: [String: String], _ context: ResourceContext) -> Bool {
    tags["maif:stack"] == context.stack && tags["maif:address"] == context.address.description
}

// MARK: Roles

struct IAMRoleResource: AWSProvider.Resource {
    let iam: IAM

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.text ?? ""
        var params = ["RoleName": name, "AssumeRolePolicyDocument": config["assume_role_policy"]?.text ?? ""]
        params["Description"] = config["description"]?.text
        params["Path"] = config["path"]?.text
        params.merge(IAM.tagParams(tagMap(config))) { $1 }
        do {
            _ = try await iam.call("CreateRole", params)
        } catch let error as AWSError where error.code == "EntityAlreadyExists" {
            // Adopted only when a create of this resource made it (a crash); anyone else's role is left alone.
            guard let existing = try await read(context, id: name), owned(stringMap(existing.attributes["tags"]), context) else { throw error }
            return try await update(context, existing, config)
        }
        return try await readOrFail(context, name)
    }

    func read(_ context: ResourceContext, id name: String) async throws -> ResourceState? {
        guard let role = try await iam.optional("GetRole", ["RoleName": name])?.find("Role") else { return nil }
        let tags = IAM.tags(try await iam.call("ListRoleTags", ["RoleName": name]).find("ListRoleTagsResult"))
        return ResourceState(id: name, attributes: [
            "name": .string(name),
            "arn": .string(role.value("Arn") ?? ""),
            "unique_id": .string(role.value("RoleId") ?? ""),
            "path": .string(role.value("Path") ?? "/"),
            "description": role.value("Description").flatMap { $0.isEmpty ? nil : AttributeValue.string($0) } ?? .null,
            "assume_role_policy": IAM.policyAttribute(role.value("AssumeRolePolicyDocument")),
            "tags": .tags(tags),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = prior.id
        let current = try await readOrFail(context, name)
        if let wanted = config["assume_role_policy"]?.text, IAM.policyAttribute(wanted) != current.attributes["assume_role_policy"] {
            _ = try await iam.call("UpdateAssumeRolePolicy", ["RoleName": name, "PolicyDocument": wanted])
        }
        if let wanted = config["description"], wanted != current.attributes["description"] {
            _ = try await iam.call("UpdateRole", ["RoleName": name, "Description": wanted.text ?? ""])
        }
        try await iam.syncTags("Role", nameParam: "RoleName", name: name, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, name)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { _ = try await iam.call("DeleteRole", ["RoleName": prior.id]) } catch let error as AWSError where error.code == "NoSuchEntity" {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text, let state = try await read(context, id: name),
              owned(stringMap(state.attributes["tags"]), context) else { return nil }
        return state
    }
}

// MARK: Inline policies

/// An inline policy of a role (PutRolePolicy). Its id is `role:name`; it has no tags, and belongs to whoever owns the role.
struct IAMRolePolicyResource: AWSProvider.Resource {
    let iam: IAM

    static func split(_ id: String) -> (role: String, name: String) {
        guard let colon = id.firstIndex(of: ":") else { return (id, "") }
        return (String(id[..<colon]), String(id[id.index(after: colon)...]))
    }

    func put(_ context: ResourceContext, role: String, name: String, _ config: [String: AttributeValue]) async throws -> ResourceState {
        _ = try await iam.call("PutRolePolicy", ["RoleName": role, "PolicyName": name, "PolicyDocument": config["policy"]?.text ?? ""])
        return try await readOrFail(context, "\(role):\(name)")
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await put(context, role: config["role"]?.text ?? "", name: config["name"]?.text ?? "", config)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        let (role, name) = Self.split(id)
        guard let result = try await iam.optional("GetRolePolicy", ["RoleName": role, "PolicyName": name]) else { return nil }
        return ResourceState(id: id, attributes: [
            "role": .string(role), "name": .string(name), "id": .string(id),
            "policy": IAM.policyAttribute(result.find("PolicyDocument")?.text.trimmingCharacters(in: .whitespacesAndNewlines)),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let (role, name) = Self.split(prior.id)
        return try await put(context, role: role, name: name, config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        let (role, name) = Self.split(prior.id)
        do { _ = try await iam.call("DeleteRolePolicy", ["RoleName": role, "PolicyName": name]) } catch let error as AWSError where error.code == "NoSuchEntity" {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let role = config["role"]?.text, let name = config["name"]?.text else { return nil }
        return try await read(context, id: "\(role):\(name)")
    }
}

// MARK: Instance profiles

struct IAMInstanceProfileResource: AWSProvider.Resource {
    let iam: IAM

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.text ?? ""
        var params = ["InstanceProfileName": name]
        params["Path"] = config["path"]?.text
        params.merge(IAM.tagParams(tagMap(config))) { $1 }
        do {
            _ = try await iam.call("CreateInstanceProfile", params)
        } catch let error as AWSError where error.code == "EntityAlreadyExists" {
            guard let existing = try await read(context, id: name), owned(stringMap(existing.attributes["tags"]), context) else { throw error }
            return try await update(context, existing, config)
        }
        if let role = config["role"]?.text {
            _ = try await iam.call("AddRoleToInstanceProfile", ["InstanceProfileName": name, "RoleName": role])
        }
        return try await readOrFail(context, name)
    }

    func read(_ context: ResourceContext, id name: String) async throws -> ResourceState? {
        guard let profile = try await iam.optional("GetInstanceProfile", ["InstanceProfileName": name])?.find("InstanceProfile") else { return nil }
        let roles = profile["Roles"]?.all("member").compactMap { $0.value("RoleName") } ?? []
        // GetInstanceProfile answers with the profile's tags (one call fewer than ListInstanceProfileTags, which moto lacks).
        let tags = IAM.tags(profile)
        return ResourceState(id: name, attributes: [
            "name": .string(name),
            "arn": .string(profile.value("Arn") ?? ""),
            "unique_id": .string(profile.value("InstanceProfileId") ?? ""),
            "path": .string(profile.value("Path") ?? "/"),
            "role": roles.first.map(AttributeValue.string) ?? .null,
            "tags": .tags(tags),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = prior.id
        let current = try await readOrFail(context, name)
        let have = current.attributes["role"]?.text, want = config["role"]?.text
        if have != want {
            if let have { _ = try await iam.call("RemoveRoleFromInstanceProfile", ["InstanceProfileName": name, "RoleName": have]) }
            if let want { _ = try await iam.call("AddRoleToInstanceProfile", ["InstanceProfileName": name, "RoleName": want]) }
        }
        try await iam.syncTags("InstanceProfile", nameParam: "InstanceProfileName", name: name,
                               from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, name)
    }

    /// The role first: IAM refuses to delete a profile that still has one.
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        guard let current = try await read(context, id: prior.id) else { return }
        if let role = current.attributes["role"]?.text {
            _ = try await iam.call("RemoveRoleFromInstanceProfile", ["InstanceProfileName": prior.id, "RoleName": role])
        }
        do { _ = try await iam.call("DeleteInstanceProfile", ["InstanceProfileName": prior.id]) } catch let error as AWSError where error.code == "NoSuchEntity" {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text, let state = try await read(context, id: name),
              owned(stringMap(state.attributes["tags"]), context) else { return nil }
        return state
    }
}
