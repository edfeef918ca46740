/// CloudTrail trails over JSON 1.1 (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*`): where a
/// trail delivers (bucket, prefix, KMS key), whether it covers every region and the global services, log file
/// validation, whether it is logging (StartLogging / StopLogging), tags. And the account the provider's credentials
/// belong to (STS GetCallerIdentity), which the bucket and key policies CloudTrail needs must name.

import Foundation
import ProviderKit

struct CloudTrail: Sendable {
    let client: AWSClient

    func call(_ operation: String, _ body: [String: AttributeValue]) async throws -> [String: AttributeValue] {
        try await client.json("cloudtrail", version: "1.1", target: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.\(operation)", body)
    }

    var region: String { client.settings.region }
}

struct CloudTrailResource: AWSProvider.Resource {
    let trail: CloudTrail

    /// The delivery settings CreateTrail and UpdateTrail both take, from the configuration.
    static func settings(_ config: [String: AttributeValue]) -> [String: AttributeValue] {
        var body: [String: AttributeValue] = [
            "S3BucketName": .string(config["s3_bucket_name"]?.text ?? ""),
            "IncludeGlobalServiceEvents": .bool(config["include_global_service_events"]?.boolValue_ ?? true),
            "IsMultiRegionTrail": .bool(config["is_multi_region_trail"]?.boolValue_ ?? false),
            "EnableLogFileValidation": .bool(config["enable_log_file_validation"]?.boolValue_ ?? false),
        ]
        if let prefix = config["s3_key_prefix"]?.text { body["S3KeyPrefix"] = .string(prefix) }
        if let key = config["kms_key_id"]?.text { body["KmsKeyId"] = .string(key) }
        return body
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.text ?? ""
        var body = Self.settings(config)
        body["Name"] = .string(name)
        let tags = tagMap(config)
        if !tags.isEmpty { body["TagsList"] = JSONTags.list(tags) }
        do {
            _ = try await trail.call("CreateTrail", body)
        } catch let error as AWSError where error.code == "TrailAlreadyExistsException" {
            // Adopted only when this resource made it (a create interrupted by a crash).
            guard let existing = try await read(context, id: name), owned(existing, context) else { throw error }
            return try await update(context, existing, config)
        }
        try await setLogging(name, current: nil, config)
        return try await readOrFail(context, name)
    }

    func owned(_ state: ResourceState, _ context: ResourceContext) -> Bool {
        let tags = stringMap(state.attributes["tags"])
        return tags["maif:stack"] == context.stack && tags["maif:address"] == context.address.description
    }

    /// A trail logs from StartLogging on; CreateTrail leaves it stopped.
    func setLogging(_ name: String, current: ResourceState?, _ config: [String: AttributeValue]) async throws {
        let wanted = config["enable_logging"]?.boolValue_ ?? true
        guard current?.attributes["enable_logging"]?.boolValue_ != wanted else { return }
        _ = try await trail.call(wanted ? "StartLogging" : "StopLogging", ["Name": .string(name)])
    }

    func read(_ context: ResourceContext, id name: String) async throws -> ResourceState? {
        let found: [String: AttributeValue]
        do {
            guard let t = try await trail.call("GetTrail", ["Name": .string(name)])["Trail"]?.mapValue else { return nil }
            found = t
        } catch let error as AWSError where error.code == "TrailNotFoundException" {
            return nil
        }
        let arn = found["TrailARN"]?.text ?? ""
        let status = try await trail.call("GetTrailStatus", ["Name": .string(name)])
        let listed = try await trail.call("ListTags", ["ResourceIdList": .list([.string(arn)])])["ResourceTagList"]?.listValue?.first?.mapValue
        let tags = JSONTags.map(listed?["TagsList"])
        func optional(_ key: String) -> AttributeValue {
            guard let text = found[key]?.text, !text.isEmpty else { return .null }
            return .string(text)
        }
        return ResourceState(id: name, attributes: [
            "name": .string(name), "arn": .string(arn), "region": .string(trail.region),
            "home_region": .string(found["HomeRegion"]?.text ?? trail.region),
            "s3_bucket_name": .string(found["S3BucketName"]?.text ?? ""),
            "s3_key_prefix": optional("S3KeyPrefix"),
            "kms_key_id": optional("KmsKeyId"),
            "include_global_service_events": .bool(found["IncludeGlobalServiceEvents"]?.boolValue_ ?? false),
            "is_multi_region_trail": .bool(found["IsMultiRegionTrail"]?.boolValue_ ?? false),
            "enable_log_file_validation": .bool(found["LogFileValidationEnabled"]?.boolValue_ ?? false),
            "enable_logging": .bool(status["IsLogging"]?.boolValue_ ?? false),
            "tags": .tags(tags),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        let name = prior.id
        let fields = ["s3_bucket_name", "s3_key_prefix", "kms_key_id", "include_global_service_events", "is_multi_region_trail",
                      "enable_log_file_validation"]
        if fields.contains(where: { key in config[key].map { $0 != (current.attributes[key] ?? .null) } ?? false }) {
            var body = Self.settings(config)
            body["Name"] = .string(name)
            _ = try await trail.call("UpdateTrail", body)
        }
        try await setLogging(name, current: current, config)
        let have = stringMap(current.attributes["tags"]), want = tagMap(config)
        let arn = AttributeValue.string(current.attributes["arn"]?.text ?? "")
        let changed = want.filter { have[$0.key] != $0.value }
        if !changed.isEmpty { _ = try await trail.call("AddTags", ["ResourceId": arn, "TagsList": JSONTags.list(changed)]) }
        let removed = have.filter { want[$0.key] == nil }
        if !removed.isEmpty { _ = try await trail.call("RemoveTags", ["ResourceId": arn, "TagsList": JSONTags.list(removed)]) }
        return try await readOrFail(context, name)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do {
            _ = try await trail.call("DeleteTrail", ["Name": .string(prior.id)])
        } catch let error as AWSError where error.code == "TrailNotFoundException" {}
    }

    /// Trail names are fixed by the stack: looked up by name, checked against the owner tags.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text, let state = try await read(context, id: name), owned(state, context) else { return nil }
        return state
    }
}

/// The account and identity the provider's credentials belong to (STS GetCallerIdentity). Nothing is created or
/// deleted: it is a resource so that policies can name the account (`${aws.caller_identity.<name>.account_id}`)
/// and the graph orders them after it.
struct CallerIdentityResource: AWSProvider.Resource {
    let client: AWSClient

    func identity() async throws -> ResourceState {
        let xml = try await client.query("sts", version: "2011-06-15", "GetCallerIdentity", [:])
        let account = xml.value("GetCallerIdentityResult", "Account") ?? xml.find("Account")?.text ?? ""
        return ResourceState(id: account, attributes: [
            "account_id": .string(account),
            "caller_arn": .string(xml.value("GetCallerIdentityResult", "Arn") ?? xml.find("Arn")?.text ?? ""),
        ])
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState { try await identity() }
    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? { try await identity() }
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await identity()
    }
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {}
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? { try await identity() }
}
