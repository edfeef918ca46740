/// KMS keys over JSON 1.1 (`X-Amz-Target: TrentService.*`): a symmetric customer-managed key with its description,
/// rotation, key policy and tags. A key cannot be deleted at once: destroy schedules its deletion (`deletion_window_in_days`,
/// 7–30), and a key pending deletion reads as gone.

import Foundation
import ProviderKit

struct KMS: Sendable {
    let client: AWSClient

    func call(_ operation: String, _ body: [String: AttributeValue]) async throws -> [String: AttributeValue] {
        try await client.json("kms", version: "1.1", target: "TrentService.\(operation)", body)
    }

    var region: String { client.settings.region }

    static func tagList(_ tags: [String: String]) -> AttributeValue {
        .list(tags.keys.sorted().map { .map(["TagKey": .string($0), "TagValue": .string(tags[$0]!)]) })
    }
}

struct KMSKeyResource: AWSProvider.Resource {
    let kms: KMS

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var body: [String: AttributeValue] = ["KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT"]
        if let description = config["description"]?.text { body["Description"] = .string(description) }
        // Without one, KMS gives the key its default policy (the account's IAM policies decide).
        if let policy = config["policy"]?.text { body["Policy"] = .string(policy) }
        let tags = tagMap(config)
        if !tags.isEmpty { body["Tags"] = KMS.tagList(tags) }
        let out = try await kms.call("CreateKey", body)
        guard let id = out["KeyMetadata"]?.mapValue?["KeyId"]?.text else {
            throw ProviderError(address: context.address, call: "kms CreateKey", message: "the response named no key")
        }
        if config["enable_key_rotation"]?.boolValue_ == true { _ = try await kms.call("EnableKeyRotation", ["KeyId": .string(id)]) }
        return try await readOrFail(context, id)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        let metadata: [String: AttributeValue]
        do {
            guard let m = try await kms.call("DescribeKey", ["KeyId": .string(id)])["KeyMetadata"]?.mapValue else { return nil }
            metadata = m
        } catch let error as AWSError where error.code == "NotFoundException" {
            return nil
        }
        let state = metadata["KeyState"]?.text ?? ""
        if state == "PendingDeletion" || state == "PendingReplicaDeletion" { return nil }
        let rotation = try await kms.call("GetKeyRotationStatus", ["KeyId": .string(id)])["KeyRotationEnabled"]?.boolValue_ ?? false
        var tags: [String: String] = [:]
        for tag in try await kms.call("ListResourceTags", ["KeyId": .string(id)])["Tags"]?.listValue ?? [] {
            if let k = tag.mapValue?["TagKey"]?.text { tags[k] = tag.mapValue?["TagValue"]?.text ?? "" }
        }
        let description = metadata["Description"]?.text ?? ""
        let policy = try await kms.call("GetKeyPolicy", ["KeyId": .string(id), "PolicyName": "default"])["Policy"]?.text
        return ResourceState(id: id, attributes: [
            "policy": IAM.policyAttribute(policy),
            "id": .string(id), "arn": .string(metadata["Arn"]?.text ?? ""), "region": .string(kms.region),
            "description": description.isEmpty ? .null : .string(description),
            "enable_key_rotation": .bool(rotation),
            "key_state": .string(state),
            "tags": .tags(tags),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        let key: AttributeValue = .string(prior.id)
        if let wanted = config["description"], wanted != current.attributes["description"] {
            _ = try await kms.call("UpdateKeyDescription", ["KeyId": key, "Description": .string(wanted.text ?? "")])
        }
        if let wanted = config["policy"]?.text, IAM.policyAttribute(wanted) != current.attributes["policy"] {
            _ = try await kms.call("PutKeyPolicy", ["KeyId": key, "PolicyName": "default", "Policy": .string(wanted)])
        }
        if let wanted = config["enable_key_rotation"]?.boolValue_, .bool(wanted) != current.attributes["enable_key_rotation"] {
            _ = try await kms.call(wanted ? "EnableKeyRotation" : "DisableKeyRotation", ["KeyId": key])
        }
        let have = stringMap(current.attributes["tags"]), want = tagMap(config)
        let changed = want.filter { have[$0.key] != $0.value }
        if !changed.isEmpty { _ = try await kms.call("TagResource", ["KeyId": key, "Tags": KMS.tagList(changed)]) }
        let removed = have.keys.filter { want[$0] == nil }.sorted()
        if !removed.isEmpty { _ = try await kms.call("UntagResource", ["KeyId": key, "TagKeys": .list(removed.map(AttributeValue.string))]) }
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        let days = min(30, max(7, prior.attributes["deletion_window_in_days"]?.intValue_ ?? 30))
        do {
            _ = try await kms.call("ScheduleKeyDeletion", ["KeyId": .string(prior.id), "PendingWindowInDays": .int(days)])
        } catch let error as AWSError where error.code == "NotFoundException" || error.code == "KMSInvalidStateException" {}
    }

    /// Keys have no name: the one this address made is found by its owner tags (ListKeys, then each key's tags).
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        var marker: String?
        for _ in 0..<50 {
            var body: [String: AttributeValue] = ["Limit": 100]
            if let marker { body["Marker"] = .string(marker) }
            let out = try await kms.call("ListKeys", body)
            for key in out["Keys"]?.listValue ?? [] {
                guard let id = key.mapValue?["KeyId"]?.text, let state = try await read(context, id: id),
                      owned(stringMap(state.attributes["tags"]), context) else { continue }
                return state
            }
            guard out["Truncated"]?.boolValue_ == true, let next = out["NextMarker"]?.text else { return nil }
            marker = next
        }
        return nil
    }
}
