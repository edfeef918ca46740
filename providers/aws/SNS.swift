/// SNS over the query protocol (API 2010-03-31): topics (display name, tags) and their subscriptions. A subscription's
/// endpoint may be given by reference (`endpoint_from: env:NAME | file:PATH`, a webhook URL that is a credential): it is
/// read when the subscription is made and never stored; a missing variable or file fails the plan.

import Foundation
import ProviderKit

struct SNS: Sendable {
    let client: AWSClient
    static let version = "2010-03-31"

    func call(_ action: String, _ params: [String: String] = [:]) async throws -> XMLNode {
        try await client.query("sns", version: Self.version, action, params)
    }

    var region: String { client.settings.region }

    /// `Attributes.entry.N.key/value` of a Get*Attributes answer.
    static func attributes(_ xml: XMLNode) -> [String: String] {
        var out: [String: String] = [:]
        for entry in xml.find("Attributes")?.all("entry") ?? [] { if let k = entry.value("key") { out[k] = entry.value("value") ?? "" } }
        return out
    }

    /// Every topic ARN (ListTopics, paged, bounded).
    func topics() async throws -> [String] {
        var arns: [String] = [], token: String?
        for _ in 0..<100 {
            let xml = try await call("ListTopics", token.map { ["NextToken": $0] } ?? [:])
            arns += xml.find("Topics")?.all("member").compactMap { $0.value("TopicArn") } ?? []
            token = xml.find("NextToken")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if token?.isEmpty ?? true { break }
        }
        return arns
    }

    func tags(_ arn: String) async throws -> [String: String] {
        var out: [String: String] = [:]
        for member in try await call("ListTagsForResource", ["ResourceArn": arn]).find("Tags")?.all("member") ?? [] {
            if let k = member.value("Key") { out[k] = member.value("Value") ?? "" }
        }
        return out
    }
}


struct SNSTopicResource: AWSProvider.Resource {
    let sns: SNS

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.text ?? ""
        // CreateTopic returns an existing topic of the same name: only one this address made (a crashed create) is taken.
        if let existing = try await sns.topics().first(where: { $0.hasSuffix(":\(name)") }) {
            guard owned(try await sns.tags(existing), context) else {
                throw ProviderError(address: context.address, call: "sns CreateTopic",
                                    message: "a topic named \(name) already exists in \(sns.region) and is not this resource's")
            }
            return try await update(context, ResourceState(id: existing, attributes: [:]), config)
        }
        var params = ["Name": name]
        var entry = 0
        if let display = config["display_name"]?.text {
            entry += 1
            params["Attributes.entry.\(entry).key"] = "DisplayName"
            params["Attributes.entry.\(entry).value"] = display
        }
        params.merge(IAM.tagParams(tagMap(config), prefix: "Tags.member")) { $1 }
        let xml = try await sns.call("CreateTopic", params)
        guard let arn = xml.find("TopicArn")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !arn.isEmpty else {
            throw ProviderError(address: context.address, call: "sns CreateTopic", message: "the response named no topic")
        }
        return try await readOrFail(context, arn)
    }

    func read(_ context: ResourceContext, id arn: String) async throws -> ResourceState? {
        let attributes: [String: String]
        do {
            attributes = SNS.attributes(try await sns.call("GetTopicAttributes", ["TopicArn": arn]))
        } catch let error as AWSError where error.code == "NotFound" || error.code == "NotFoundException" {
            return nil
        }
        let display = attributes["DisplayName"] ?? ""
        return ResourceState(id: arn, attributes: [
            "id": .string(arn), "arn": .string(arn), "region": .string(sns.region),
            "name": .string(String(arn.split(separator: ":").last ?? "")),
            "display_name": display.isEmpty ? .null : .string(display),
            "tags": .tags(try await sns.tags(arn)),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        if let wanted = config["display_name"], wanted != current.attributes["display_name"] {
            _ = try await sns.call("SetTopicAttributes", ["TopicArn": prior.id, "AttributeName": "DisplayName", "AttributeValue": wanted.text ?? ""])
        }
        let have = stringMap(current.attributes["tags"]), want = tagMap(config)
        let changed = want.filter { have[$0.key] != $0.value }
        if !changed.isEmpty {
            _ = try await sns.call("TagResource", IAM.tagParams(changed, prefix: "Tags.member").merging(["ResourceArn": prior.id]) { $1 })
        }
        let removed = have.keys.filter { want[$0] == nil }.sorted()
        if !removed.isEmpty {
            var params = ["ResourceArn": prior.id]
            for (i, key) in removed.enumerated() { params["TagKeys.member.\(i + 1)"] = key }
            _ = try await sns.call("UntagResource", params)
        }
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { _ = try await sns.call("DeleteTopic", ["TopicArn": prior.id]) } catch let error as AWSError where error.code.hasPrefix("NotFound") {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text else { return nil }
        for arn in try await sns.topics() where arn.hasSuffix(":\(name)") {
            if owned(try await sns.tags(arn), context) { return try await read(context, id: arn) }
        }
        return nil
    }
}

struct SNSSubscriptionResource: AWSProvider.Resource {
    let sns: SNS
    let environment: [String: String]

    /// The endpoint to subscribe: `endpoint`, or what `endpoint_from` names.
    func endpoint(_ context: ResourceContext, _ config: [String: AttributeValue]) throws -> String {
        if let endpoint = config["endpoint"]?.text { return endpoint }
        guard let source = config["endpoint_from"]?.text else {
            throw ProviderError(address: context.address, call: "sns Subscribe", message: "neither endpoint nor endpoint_from is set")
        }
        guard let value = ReferenceText.read(source, environment: environment) else {
            throw ProviderError(address: context.address, call: "sns Subscribe", message: "endpoint_from \(source) is not set or cannot be read")
        }
        return value
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let target = try endpoint(context, config)
        let proto = config["protocol"]?.text ?? ""
        if ["http", "https"].contains(proto), !target.hasPrefix("\(proto)://") {
            // Said without the value: a webhook URL is a credential.
            throw ProviderError(address: context.address, call: "sns Subscribe", message: "the endpoint is not an \(proto):// URL")
        }
        if let existing = try await find(context, config) { return existing }
        let xml = try await sns.call("Subscribe", ["TopicArn": config["topic_arn"]?.text ?? "", "Protocol": proto, "Endpoint": target,
                                                   "ReturnSubscriptionArn": "true"])
        guard let arn = xml.find("SubscriptionArn")?.text.trimmingCharacters(in: .whitespacesAndNewlines), arn.hasPrefix("arn:") else {
            throw ProviderError(address: context.address, call: "sns Subscribe", message: "the response named no subscription")
        }
        return try await readOrFail(context, arn)
    }

    func read(_ context: ResourceContext, id arn: String) async throws -> ResourceState? {
        let a: [String: String]
        do {
            a = SNS.attributes(try await sns.call("GetSubscriptionAttributes", ["SubscriptionArn": arn]))
        } catch let error as AWSError where error.code.hasPrefix("NotFound") {
            return nil
        }
        return ResourceState(id: arn, attributes: [
            "id": .string(arn), "arn": .string(arn), "region": .string(sns.region),
            "topic_arn": .string(a["TopicArn"] ?? ""), "protocol": .string(a["Protocol"] ?? ""),
            "endpoint": .string(a["Endpoint"] ?? ""),
            "pending_confirmation": .bool(a["PendingConfirmation"] == "true"),
        ])
    }

    /// Everything but the endpoint is fixed (force-new); nothing to change in place.
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { _ = try await sns.call("Unsubscribe", ["SubscriptionArn": prior.id]) } catch let error as AWSError where error.code.hasPrefix("NotFound") {}
    }

    /// Subscriptions cannot be tagged: the one with this topic, protocol and endpoint is this resource's.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let topic = config["topic_arn"]?.text, let proto = config["protocol"]?.text else { return nil }
        let target = try endpoint(context, config)
        let xml = try await sns.call("ListSubscriptionsByTopic", ["TopicArn": topic])
        for member in xml.find("Subscriptions")?.all("member") ?? [] where member.value("Protocol") == proto && member.value("Endpoint") == target {
            if let arn = member.value("SubscriptionArn"), arn.hasPrefix("arn:") { return try await read(context, id: arn) }
        }
        return nil
    }
}
