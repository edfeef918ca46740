/// Auto Scaling over the query protocol, and the Auto Scaling group resource.

import Foundation
import ProviderKit

struct AutoScaling: Sendable {
    let client: AWSClient
    static let version = "2011-01-01"

    var region: String { client.settings.region }

    func call(_ action: String, _ params: [String: String] = [:]) async throws -> XMLNode {
        try await client.query("autoscaling", version: Self.version, action, params).queryResult
    }

    /// The group with this name, nil when there is none.
    func group(_ name: String) async throws -> XMLNode? {
        try await call("DescribeAutoScalingGroups", QueryList.params("AutoScalingGroupNames", [name])).queryMembers("AutoScalingGroups")
            .first { $0.value("AutoScalingGroupName") == name }
    }

    /// `Tags.member.N.*` for the group's tags, each propagated to the instances it launches.
    static func tagParams(_ group: String, _ tags: [String: String], keysOnly: Bool = false) -> [String: String] {
        var params: [String: String] = [:]
        for (i, key) in tags.keys.sorted().enumerated() {
            let prefix = "Tags.member.\(i + 1)."
            params[prefix + "ResourceId"] = group
            params[prefix + "ResourceType"] = "auto-scaling-group"
            params[prefix + "Key"] = key
            if !keysOnly {
                params[prefix + "Value"] = tags[key]
                params[prefix + "PropagateAtLaunch"] = "true"
            }
        }
        return params
    }
}

struct AutoScalingGroupResource: AWSProvider.Resource {
    let autoscaling: AutoScaling
    /// ForceDelete terminates the group's instances first, which takes minutes.
    var deleteTimeout: Double = 900

    /// Settings CreateAutoScalingGroup and UpdateAutoScalingGroup share, as (attribute, parameter).
    static let settings: [(String, String)] = [
        ("min_size", "MinSize"), ("max_size", "MaxSize"), ("desired_capacity", "DesiredCapacity"), ("default_cooldown", "DefaultCooldown"),
        ("health_check_type", "HealthCheckType"), ("health_check_grace_period", "HealthCheckGracePeriod"),
    ]

    /// The parameters for what the stack sets that differs from `current` (everything when nil).
    static func settingParams(_ config: [String: AttributeValue], current: [String: AttributeValue]?) -> [String: String] {
        var params: [String: String] = [:]
        for (attribute, parameter) in settings {
            guard let wanted = config[attribute]?.text, current?[attribute]?.text != wanted else { continue }
            params[parameter] = wanted
        }
        let subnets = QueryList.strings(config["vpc_zone_identifier"])
        if !subnets.isEmpty, current.map({ Set(QueryList.strings($0["vpc_zone_identifier"])) != Set(subnets) }) ?? true {
            params["VPCZoneIdentifier"] = subnets.joined(separator: ",")
        }
        if let template = config["launch_template"]?.mapValue,
           current.map({ ResourceShape.shaped($0["launch_template"] ?? .null, like: .map(template)) != .map(template) }) ?? true {
            params["LaunchTemplate.LaunchTemplateId"] = template["launch_template_id"]?.text
            params["LaunchTemplate.LaunchTemplateName"] = template["launch_template_name"]?.text
            params["LaunchTemplate.Version"] = template["version"]?.text
        }
        if config["termination_policies"] != nil, current?["termination_policies"] != config["termination_policies"] {
            params.merge(QueryList.params("TerminationPolicies", QueryList.strings(config["termination_policies"]))) { $1 }
        }
        return params
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["auto_scaling_group_name"]?.text ?? ""
        var params = Self.settingParams(config, current: nil).merging(AutoScaling.tagParams(name, tagMap(config))) { $1 }
        params["AutoScalingGroupName"] = name
        params.merge(QueryList.params("TargetGroupARNs", QueryList.strings(config["target_group_arns"]))) { $1 }
        _ = try await autoscaling.call("CreateAutoScalingGroup", params)
        return try await readOrFail(context, name)
    }

    /// nil when there is no such group, or it is being deleted.
    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let group = try await autoscaling.group(id), group.value("Status")?.isEmpty ?? true else { return nil }
        var a: [String: AttributeValue] = [
            "id": .string(id), "auto_scaling_group_name": .string(id), "arn": .string(group.value("AutoScalingGroupARN") ?? ""),
            "health_check_type": .string(group.value("HealthCheckType") ?? "EC2"),
            "vpc_zone_identifier": .list((group.value("VPCZoneIdentifier") ?? "").split(separator: ",").map {
                .string($0.trimmingCharacters(in: .whitespaces))
            }),
            "target_group_arns": .list(group.queryMembers("TargetGroupARNs").map { .string($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            "termination_policies": .list(group.queryMembers("TerminationPolicies").map { .string($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            "region": .string(autoscaling.region),
        ]
        for (attribute, element) in [("min_size", "MinSize"), ("max_size", "MaxSize"), ("desired_capacity", "DesiredCapacity"),
                                     ("default_cooldown", "DefaultCooldown"), ("health_check_grace_period", "HealthCheckGracePeriod")] {
            if let number = group.value(element).flatMap({ Int64($0) }) { a[attribute] = .int(number) }
        }
        if let template = group["LaunchTemplate"] {
            var m: [String: AttributeValue] = [:]
            if let id = template.value("LaunchTemplateId") { m["launch_template_id"] = .string(id) }
            if let name = template.value("LaunchTemplateName") { m["launch_template_name"] = .string(name) }
            // A numbered version reads as a number, as `latest_version` of the launch template does.
            if let version = template.value("Version") { m["version"] = Int64(version).map { .int($0) } ?? .string(version) }
            a["launch_template"] = .map(m)
        }
        var tags: [String: AttributeValue] = [:]
        for tag in group.queryMembers("Tags") { if let key = tag.value("Key") { tags[key] = .string(tag.value("Value") ?? "") } }
        a["tags"] = .map(tags)
        return ResourceState(id: id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = prior.id
        let current = try await readOrFail(context, name).attributes
        let changed = Self.settingParams(config, current: current)
        if !changed.isEmpty {
            _ = try await autoscaling.call("UpdateAutoScalingGroup", changed.merging(["AutoScalingGroupName": name]) { $1 })
        }
        if config["target_group_arns"] != nil {
            let wanted = Set(QueryList.strings(config["target_group_arns"])), have = Set(QueryList.strings(current["target_group_arns"]))
            if !wanted.subtracting(have).isEmpty {
                _ = try await autoscaling.call("AttachLoadBalancerTargetGroups",
                                               QueryList.params("TargetGroupARNs", wanted.subtracting(have).sorted()).merging(["AutoScalingGroupName": name]) { $1 })
            }
            if !have.subtracting(wanted).isEmpty {
                _ = try await autoscaling.call("DetachLoadBalancerTargetGroups",
                                               QueryList.params("TargetGroupARNs", have.subtracting(wanted).sorted()).merging(["AutoScalingGroupName": name]) { $1 })
            }
        }
        let have = stringMap(current["tags"]), wanted = tagMap(config)
        let changedTags = wanted.filter { have[$0.key] != $0.value }
        if !changedTags.isEmpty { _ = try await autoscaling.call("CreateOrUpdateTags", AutoScaling.tagParams(name, changedTags)) }
        let removed = have.filter { wanted[$0.key] == nil }
        if !removed.isEmpty { _ = try await autoscaling.call("DeleteTags", AutoScaling.tagParams(name, removed, keysOnly: true)) }
        return try await readOrFail(context, name)
    }

    /// ForceDelete (its instances are terminated with it), then a bounded wait until the group is gone.
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do {
            _ = try await autoscaling.call("DeleteAutoScalingGroup", ["AutoScalingGroupName": prior.id, "ForceDelete": "true"])
        } catch let error as AWSError where error.code == "ValidationError" && error.message.contains("not found") {
            return
        } catch let error as AWSError where error.code == "ScalingActivityInProgress" || error.code == "ResourceInUse" {
            // A delete already under way: wait for it below.
        }
        _ = try await Poll.until("Auto Scaling group \(prior.id) to be deleted", timeout: deleteTimeout, interval: 15) {
            try await autoscaling.group(prior.id) == nil ? true : nil
        }
    }

    /// By the maif:stack and maif:address tags.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let xml = try await autoscaling.call("DescribeAutoScalingGroups", [
            "Filters.member.1.Name": "tag:maif:stack", "Filters.member.1.Values.member.1": context.stack,
            "Filters.member.2.Name": "tag:maif:address", "Filters.member.2.Values.member.1": context.address.description,
        ])
        guard let name = xml.queryMembers("AutoScalingGroups").first?.value("AutoScalingGroupName") else { return nil }
        return try await read(context, id: name)
    }
}
