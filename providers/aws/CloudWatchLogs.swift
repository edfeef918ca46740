/// CloudWatch Logs log groups over JSON 1.1 (`X-Amz-Target: Logs_20140328.*`): retention, KMS key, tags.

import Foundation
import ProviderKit

struct CloudWatchLogs: Sendable {
    let client: AWSClient

    func call(_ operation: String, _ body: [String: AttributeValue]) async throws -> [String: AttributeValue] {
        try await client.json("logs", version: "1.1", target: "Logs_20140328.\(operation)", body)
    }

    var region: String { client.settings.region }
}

struct LogGroupResource: AWSProvider.Resource {
    let logs: CloudWatchLogs

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.text ?? ""
        var body: [String: AttributeValue] = ["logGroupName": .string(name)]
        let tags = tagMap(config)
        if !tags.isEmpty { body["tags"] = .map(tags.mapValues(AttributeValue.string)) }
        if let key = config["kms_key_id"]?.text { body["kmsKeyId"] = .string(key) }
        if let logClass = config["log_group_class"]?.text { body["logGroupClass"] = .string(logClass) }
        do {
            _ = try await logs.call("CreateLogGroup", body)
        } catch let error as AWSError where error.code == "ResourceAlreadyExistsException" {
            // Adopted only when this resource made it (a create interrupted by a crash); anyone else's is left alone.
            guard let existing = try await read(context, id: name), owned(existing, context) else { throw error }
            return try await apply(context, name: name, current: existing, config)
        }
        let created = try await readOrFail(context, name)
        return try await apply(context, name: name, current: created, config)
    }

    func owned(_ state: ResourceState, _ context: ResourceContext) -> Bool {
        let tags = stringMap(state.attributes["tags"])
        return tags["maif:stack"] == context.stack && tags["maif:address"] == context.address.description
    }

    /// Brings retention, KMS key and tags from `current` to the configuration.
    func apply(_ context: ResourceContext, name: String, current: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var changed = false
        let group: [String: AttributeValue] = ["logGroupName": .string(name)]
        if let wanted = config["retention_in_days"], wanted != current.attributes["retention_in_days"] {
            if let days = wanted.intValue_ {
                _ = try await logs.call("PutRetentionPolicy", group.merging(["retentionInDays": .int(days)]) { $1 })
            } else {
                _ = try await logs.call("DeleteRetentionPolicy", group)
            }
            changed = true
        }
        if let wanted = config["kms_key_id"], wanted != current.attributes["kms_key_id"] {
            if let key = wanted.text {
                _ = try await logs.call("AssociateKmsKey", group.merging(["kmsKeyId": .string(key)]) { $1 })
            } else {
                _ = try await logs.call("DisassociateKmsKey", group)
            }
            changed = true
        }
        let have = stringMap(current.attributes["tags"]), want = tagMap(config)
        if have != want, let arn = current.attributes["arn"]?.text {
            let add = want.filter { have[$0.key] != $0.value }
            if !add.isEmpty { _ = try await logs.call("TagResource", ["resourceArn": .string(arn), "tags": .map(add.mapValues(AttributeValue.string))]) }
            let remove = have.keys.filter { want[$0] == nil }.sorted()
            if !remove.isEmpty { _ = try await logs.call("UntagResource", ["resourceArn": .string(arn), "tagKeys": .list(remove.map(AttributeValue.string))]) }
            changed = true
        }
        // export_bucket is recorded only: CreateExportTask takes the bucket per export, so the group has nothing to set.
        return changed ? try await readOrFail(context, name) : current
    }

    /// DescribeLogGroups by prefix, paged until the exact name turns up.
    func describe(_ name: String) async throws -> [String: AttributeValue]? {
        var token: String?
        repeat {
            var body: [String: AttributeValue] = ["logGroupNamePrefix": .string(name)]
            if let token { body["nextToken"] = .string(token) }
            let out = try await logs.call("DescribeLogGroups", body)
            if let group = out["logGroups"]?.listValue?.compactMap(\.mapValue).first(where: { $0["logGroupName"]?.text == name }) {
                return group
            }
            token = out["nextToken"]?.text
        } while token != nil
        return nil
    }

    func read(_ context: ResourceContext, id name: String) async throws -> ResourceState? {
        guard let group = try await describe(name) else { return nil }
        // `arn` ends in `:*` (the streams); the tagging APIs want the group's own ARN.
        let arn = group["logGroupArn"]?.text ?? (group["arn"]?.text.map { $0.hasSuffix(":*") ? String($0.dropLast(2)) : $0 } ?? "")
        let tags = try await logs.call("ListTagsForResource", ["resourceArn": .string(arn)])["tags"]?.mapValue ?? [:]
        var a: [String: AttributeValue] = [
            "name": .string(name), "arn": .string(arn), "region": .string(logs.region),
            "retention_in_days": group["retentionInDays"]?.intValue_.map(AttributeValue.int) ?? .null,
            "kms_key_id": group["kmsKeyId"]?.text.map(AttributeValue.string) ?? .null,
            "tags": .map(tags.compactMapValues { $0.text.map(AttributeValue.string) }),
        ]
        // Older endpoints (and moto) do not report the class; then the configured one stands.
        if let logClass = group["logGroupClass"]?.text { a["log_group_class"] = .string(logClass) }
        return ResourceState(id: name, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        return try await apply(context, name: prior.id, current: current, config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do {
            _ = try await logs.call("DeleteLogGroup", ["logGroupName": .string(prior.id)])
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {}
    }

    /// Log group names are fixed by the stack: looked up by name, checked against the owner tags.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text, let state = try await read(context, id: name), owned(state, context) else { return nil }
        return state
    }
}
