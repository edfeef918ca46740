/// The target group resource (with its health check) and the attachment of one target to a target group.

import Foundation
import ProviderKit

struct TargetGroupResource: AWSProvider.Resource {
    let elb: ELBv2
    /// A target group a just-deleted listener used stays "in use" for a moment.
    var inUseTimeout: Double = 120

    /// Health check attributes and their CreateTargetGroup / ModifyTargetGroup parameters.
    static let healthCheck: [(attribute: String, parameter: String)] = [
        ("health_check_enabled", "HealthCheckEnabled"), ("health_check_protocol", "HealthCheckProtocol"),
        ("health_check_port", "HealthCheckPort"), ("health_check_path", "HealthCheckPath"),
        ("health_check_interval_seconds", "HealthCheckIntervalSeconds"), ("health_check_timeout_seconds", "HealthCheckTimeoutSeconds"),
        ("healthy_threshold_count", "HealthyThresholdCount"), ("unhealthy_threshold_count", "UnhealthyThresholdCount"),
    ]

    /// The health check parameters for the attributes the stack sets that differ from `current` (all when nil).
    static func healthCheckParams(_ config: [String: AttributeValue], current: [String: AttributeValue]?) -> [String: String] {
        var params: [String: String] = [:]
        for (attribute, parameter) in healthCheck {
            guard let wanted = config[attribute]?.text, current?[attribute]?.text != wanted else { continue }
            params[parameter] = wanted
        }
        if let code = config["matcher"]?.mapValue?["http_code"]?.text, current?["matcher"]?.mapValue?["http_code"]?.text != code {
            params["Matcher.HttpCode"] = code
        }
        return params
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = ELBv2.tagParams(tagMap(config)).merging(Self.healthCheckParams(config, current: nil)) { $1 }
        params["Name"] = config["name"]?.text
        params["Protocol"] = config["protocol"]?.text
        params["Port"] = config["port"]?.text
        params["VpcId"] = config["vpc_id"]?.text
        params["TargetType"] = config["target_type"]?.text
        let xml = try await elb.call("CreateTargetGroup", params.compactMapValues { $0 })
        guard let arn = xml.queryMembers("TargetGroups").first?.value("TargetGroupArn") else {
            throw ProviderError(address: context.address, call: "elasticloadbalancing CreateTargetGroup", message: "the response named no target group")
        }
        let changed = ELBv2.changedAttributes(config, current: nil)
        if !changed.isEmpty {
            _ = try await elb.call("ModifyTargetGroupAttributes", ["TargetGroupArn": arn].merging(ELBv2.attributeParams(changed)) { $1 })
        }
        return try await readOrFail(context, arn)
    }

    func describeOne(_ arn: String) async throws -> XMLNode? {
        try await elb.describe("DescribeTargetGroups", QueryList.params("TargetGroupArns", [arn]))?.queryMembers("TargetGroups").first
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let tg = try await describeOne(id),
              let attributes = try await elb.describe("DescribeTargetGroupAttributes", ["TargetGroupArn": id]) else { return nil }
        var a: [String: AttributeValue] = [
            "id": .string(id), "arn": .string(id),
            "arn_suffix": .string(ELBv2.arnSuffix(id, after: "targetgroup/", keepMarker: true)),
            "name": .string(tg.value("TargetGroupName") ?? ""),
            "target_type": .string(tg.value("TargetType") ?? "instance"),
            "attributes": ELBv2.attributeMap(attributes),
            "tags": .map(try await elb.tags(id).mapValues { .string($0) }),
            "region": .string(elb.region),
        ]
        for (attribute, element) in [("protocol", "Protocol"), ("vpc_id", "VpcId"), ("health_check_protocol", "HealthCheckProtocol"),
                                     ("health_check_port", "HealthCheckPort"), ("health_check_path", "HealthCheckPath")] {
            if let text = tg.value(element) { a[attribute] = .string(text) }
        }
        for (attribute, element) in [("port", "Port"), ("health_check_interval_seconds", "HealthCheckIntervalSeconds"),
                                     ("health_check_timeout_seconds", "HealthCheckTimeoutSeconds"),
                                     ("healthy_threshold_count", "HealthyThresholdCount"), ("unhealthy_threshold_count", "UnhealthyThresholdCount")] {
            if let number = tg.value(element).flatMap({ Int64($0) }) { a[attribute] = .int(number) }
        }
        if let enabled = tg.value("HealthCheckEnabled") { a["health_check_enabled"] = .bool(enabled == "true") }
        if let code = tg.value("Matcher", "HttpCode") { a["matcher"] = .map(["http_code": .string(code)]) }
        return ResourceState(id: id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let arn = prior.id
        let current = try await readOrFail(context, arn).attributes
        let health = Self.healthCheckParams(config, current: current)
        if !health.isEmpty {
            _ = try await elb.call("ModifyTargetGroup", ["TargetGroupArn": arn].merging(health) { $1 })
        }
        let changed = ELBv2.changedAttributes(config, current: current)
        if !changed.isEmpty {
            _ = try await elb.call("ModifyTargetGroupAttributes", ["TargetGroupArn": arn].merging(ELBv2.attributeParams(changed)) { $1 })
        }
        try await elb.syncTags(arn, from: stringMap(current["tags"]), to: tagMap(config))
        return try await readOrFail(context, arn)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        _ = try await Poll.until("target group \(prior.id) to be no longer in use", timeout: inUseTimeout) { () -> Bool? in
            do {
                try await elb.ignoringNotFound("DeleteTargetGroup", ["TargetGroupArn": prior.id])
                return true
            } catch let error as AWSError where error.code == "ResourceInUse" { return nil }
        }
    }

    /// By name (unique in a region), if its tags name this stack and address.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text,
              let arn = try await elb.describe("DescribeTargetGroups", QueryList.params("Names", [name]))?
                  .queryMembers("TargetGroups").first?.value("TargetGroupArn"),
              ResourceShape.owns(try await elb.tags(arn), context) else { return nil }
        return try await read(context, id: arn)
    }
}

/// One target registered with a target group. Its id is `TARGET_GROUP_ARN/TARGET_ID/PORT`; AWS keeps no tags
/// for it, so `find` looks it up by that natural key. `weight` is recorded, never sent: RegisterTargets takes none.
struct TargetGroupAttachmentResource: AWSProvider.Resource {
    let elb: ELBv2

    struct Key: Equatable {
        var targetGroupArn: String
        var targetId: String
        var port: Int64?

        /// The id with the port AWS reports, so that it is the same whether the stack set the port or not.
        func id(port: Int64) -> String { "\(targetGroupArn)/\(targetId)/\(port)" }

        init(targetGroupArn: String, targetId: String, port: Int64?) {
            self.targetGroupArn = targetGroupArn
            self.targetId = targetId
            self.port = port
        }

        init(_ config: [String: AttributeValue]) {
            self.init(targetGroupArn: config["target_group_arn"]?.text ?? "", targetId: config["target_id"]?.text ?? "",
                      port: config["port"]?.intValue_)
        }

        /// Parses `ARN/TARGET/PORT` from the end: the target group ARN itself holds slashes.
        init?(id: String) {
            let parts = id.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 3, let port = Int64(parts[parts.count - 1]) else { return nil }
            self.init(targetGroupArn: parts.dropLast(2).joined(separator: "/"), targetId: String(parts[parts.count - 2]), port: port)
        }

        var target: [String: String] {
            var params = ["Targets.member.1.Id": targetId]
            if let port { params["Targets.member.1.Port"] = String(port) }
            return params
        }
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let key = Key(config)
        var params = ["TargetGroupArn": key.targetGroupArn].merging(key.target) { $1 }
        params["Targets.member.1.AvailabilityZone"] = config["availability_zone"]?.text
        _ = try await elb.call("RegisterTargets", params)
        let state = try await Poll.until("target \(key.targetId) to be registered", timeout: 30) { try await read(key) }
        return state
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let key = Key(id: id) else {
            throw ProviderError(address: context.address, call: "read", message: "\(id) is not TARGET_GROUP_ARN/TARGET_ID/PORT")
        }
        return try await read(key)
    }

    /// nil when the target is not registered (or is being deregistered), or its target group is gone.
    func read(_ key: Key) async throws -> ResourceState? {
        let xml: XMLNode?
        do {
            xml = try await elb.describe("DescribeTargetHealth", ["TargetGroupArn": key.targetGroupArn].merging(key.target) { $1 })
        } catch let error as AWSError where error.code == "InvalidTarget" { return nil }
        guard let description = xml?.queryMembers("TargetHealthDescriptions").first(where: { $0.value("Target", "Id") == key.targetId }),
              description.value("TargetHealth", "Reason") != "Target.NotRegistered",
              description.value("TargetHealth", "State") != "draining",
              let port = description.value("Target", "Port").flatMap({ Int64($0) }) ?? key.port else { return nil }
        var a: [String: AttributeValue] = [
            "id": .string(key.id(port: port)), "target_group_arn": .string(key.targetGroupArn), "target_id": .string(key.targetId),
            "port": .int(port), "region": .string(elb.region),
        ]
        if let zone = description.value("Target", "AvailabilityZone"), !zone.isEmpty { a["availability_zone"] = .string(zone) }
        return ResourceState(id: key.id(port: port), attributes: a)
    }

    /// Everything but `weight` forces a new attachment; the weight is only recorded.
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let state = try await read(context, id: prior.id) else { return try await create(context, config) }
        return state
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        guard let key = Key(id: prior.id) else { return }
        do {
            try await elb.ignoringNotFound("DeregisterTargets", ["TargetGroupArn": key.targetGroupArn].merging(key.target) { $1 })
        } catch let error as AWSError where error.code == "InvalidTarget" {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await read(Key(config))
    }
}
