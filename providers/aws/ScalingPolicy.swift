/// The scaling policy resource (PutScalingPolicy): simple scaling, and target tracking on a predefined metric,
/// a customized metric, or metric math over several metrics. AWS keeps no tags for it: its id is its ARN, which
/// names the group and the policy, and `find` looks it up by those names.

import Foundation
import ProviderKit

struct ScalingPolicyResource: AWSProvider.Resource {
    let autoscaling: AutoScaling
    /// How long a new policy waits for its group: a stack may name the group without referring to it, so the
    /// two can be created at the same time.
    var groupTimeout: Double = 300

    // MARK: Target tracking configuration ↔ query parameters

    /// `Dimensions.member.N.Name/Value` from a dimension name → value map, in name order.
    static func dimensionParams(_ prefix: String, _ value: AttributeValue?) -> [String: String] {
        var params: [String: String] = [:]
        let dimensions = stringMap(value)
        for (i, name) in dimensions.keys.sorted().enumerated() {
            params["\(prefix)Dimensions.member.\(i + 1).Name"] = name
            params["\(prefix)Dimensions.member.\(i + 1).Value"] = dimensions[name]
        }
        return params
    }

    /// `{namespace, metric_name, dimensions}` as `Namespace`, `MetricName`, `Dimensions.member.N.*` under `prefix`.
    static func metricParams(_ prefix: String, _ metric: [String: AttributeValue]) -> [String: String] {
        var params = dimensionParams(prefix, metric["dimensions"])
        params[prefix + "Namespace"] = metric["namespace"]?.text
        params[prefix + "MetricName"] = metric["metric_name"]?.text
        return params
    }

    /// `TargetTrackingConfiguration.*` from the schema's `target_tracking_configuration`.
    static func targetTrackingParams(_ value: AttributeValue?) -> [String: String] {
        guard let config = value?.mapValue else { return [:] }
        let root = "TargetTrackingConfiguration."
        var params: [String: String] = [:]
        params[root + "TargetValue"] = config["target_value"]?.text
        params[root + "DisableScaleIn"] = config["disable_scale_in"]?.text
        if let predefined = config["predefined_metric_specification"]?.mapValue {
            params[root + "PredefinedMetricSpecification.PredefinedMetricType"] = predefined["predefined_metric_type"]?.text
            params[root + "PredefinedMetricSpecification.ResourceLabel"] = predefined["resource_label"]?.text
        }
        if let custom = config["customized_metric_specification"]?.mapValue {
            let spec = root + "CustomizedMetricSpecification."
            params.merge(metricParams(spec, custom)) { $1 }
            params[spec + "Statistic"] = custom["statistic"]?.text
            params[spec + "Unit"] = custom["unit"]?.text
            for (i, query) in (custom["metrics"]?.listValue ?? []).enumerated() {
                let q = query.mapValue ?? [:]
                let prefix = "\(spec)Metrics.member.\(i + 1)."
                params[prefix + "Id"] = q["id"]?.text
                params[prefix + "Expression"] = q["expression"]?.text
                params[prefix + "Label"] = q["label"]?.text
                params[prefix + "ReturnData"] = q["return_data"]?.text
                if let stat = q["metric_stat"]?.mapValue {
                    params.merge(metricParams(prefix + "MetricStat.Metric.", stat["metric"]?.mapValue ?? [:])) { $1 }
                    params[prefix + "MetricStat.Stat"] = stat["stat"]?.text
                    params[prefix + "MetricStat.Unit"] = stat["unit"]?.text
                }
            }
        }
        return params.compactMapValues { $0 }
    }

    /// `{namespace, metric_name, dimensions}` from a `Metric` (or a CustomizedMetricSpecification) element.
    static func metric(_ xml: XMLNode) -> [String: AttributeValue] {
        var m: [String: AttributeValue] = [:]
        if let namespace = xml.value("Namespace") { m["namespace"] = .string(namespace) }
        if let name = xml.value("MetricName") { m["metric_name"] = .string(name) }
        var dimensions: [String: AttributeValue] = [:]
        for d in xml.queryMembers("Dimensions") { if let name = d.value("Name") { dimensions[name] = .string(d.value("Value") ?? "") } }
        if !dimensions.isEmpty { m["dimensions"] = .map(dimensions) }
        return m
    }

    /// The schema's `target_tracking_configuration` from DescribePolicies.
    static func targetTracking(_ xml: XMLNode) -> AttributeValue {
        var config: [String: AttributeValue] = [:]
        if let target = xml.value("TargetValue").flatMap({ Double($0) }) { config["target_value"] = .double(target) }
        if let disable = xml.value("DisableScaleIn") { config["disable_scale_in"] = .bool(disable == "true") }
        if let predefined = xml["PredefinedMetricSpecification"] {
            var p: [String: AttributeValue] = [:]
            if let type = predefined.value("PredefinedMetricType") { p["predefined_metric_type"] = .string(type) }
            if let label = predefined.value("ResourceLabel"), !label.isEmpty { p["resource_label"] = .string(label) }
            config["predefined_metric_specification"] = .map(p)
        }
        if let custom = xml["CustomizedMetricSpecification"] {
            var c = Self.metric(custom)
            if let statistic = custom.value("Statistic") { c["statistic"] = .string(statistic) }
            if let unit = custom.value("Unit") { c["unit"] = .string(unit) }
            let queries = custom.queryMembers("Metrics")
            if !queries.isEmpty {
                c["metrics"] = .list(queries.map { q in
                    var m: [String: AttributeValue] = [:]
                    for (attribute, element) in [("id", "Id"), ("expression", "Expression"), ("label", "Label")] {
                        if let text = q.value(element) { m[attribute] = .string(text) }
                    }
                    if let returnData = q.value("ReturnData") { m["return_data"] = .bool(returnData == "true") }
                    if let stat = q["MetricStat"] {
                        var s: [String: AttributeValue] = [:]
                        if let node = stat["Metric"] { s["metric"] = .map(Self.metric(node)) }
                        if let statistic = stat.value("Stat") { s["stat"] = .string(statistic) }
                        if let unit = stat.value("Unit") { s["unit"] = .string(unit) }
                        m["metric_stat"] = .map(s)
                    }
                    return .map(m)
                })
            }
            config["customized_metric_specification"] = .map(c)
        }
        return .map(config)
    }

    // MARK: Names

    /// The group and policy names an ARN ends with: `…:autoScalingGroupName/GROUP:policyName/POLICY`.
    static func names(_ arn: String) -> (group: String, policy: String)? {
        guard let group = arn.range(of: ":autoScalingGroupName/"), let policy = arn.range(of: ":policyName/", options: .backwards),
              group.upperBound <= policy.lowerBound else { return nil }
        return (String(arn[group.upperBound..<policy.lowerBound]), String(arn[policy.upperBound...]))
    }

    // MARK: Resource

    func put(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = Self.targetTrackingParams(config["target_tracking_configuration"])
        for (attribute, parameter) in [("auto_scaling_group_name", "AutoScalingGroupName"), ("policy_name", "PolicyName"),
                                       ("policy_type", "PolicyType"), ("adjustment_type", "AdjustmentType"),
                                       ("scaling_adjustment", "ScalingAdjustment"), ("cooldown", "Cooldown"),
                                       ("estimated_instance_warmup", "EstimatedInstanceWarmup")] {
            params[parameter] = config[attribute]?.text
        }
        let group = config["auto_scaling_group_name"]?.text ?? "", policy = config["policy_name"]?.text ?? ""
        _ = try await autoscaling.call("PutScalingPolicy", params)
        let state = try await Poll.until("scaling policy \(policy) of \(group) to be visible", timeout: 30) {
            try await read(group: group, policy: policy)
        }
        return state
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let group = config["auto_scaling_group_name"]?.text ?? ""
        _ = try await Poll.until("Auto Scaling group \(group) to exist for its policy", timeout: groupTimeout, interval: 10) {
            try await autoscaling.group(group)
        }
        return try await put(context, config)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let names = Self.names(id) else {
            throw ProviderError(address: context.address, call: "read", message: "\(id) is not a scaling policy ARN")
        }
        return try await read(group: names.group, policy: names.policy)
    }

    /// nil when the policy, or its group, is gone.
    func read(group: String, policy: String) async throws -> ResourceState? {
        let xml: XMLNode
        do {
            xml = try await autoscaling.call("DescribePolicies", ["AutoScalingGroupName": group].merging(QueryList.params("PolicyNames", [policy])) { $1 })
        } catch let error as AWSError where error.code == "ValidationError" && error.message.lowercased().contains("not found") { return nil }
        guard let item = xml.queryMembers("ScalingPolicies").first(where: { $0.value("PolicyName") == policy }),
              let arn = item.value("PolicyARN") else { return nil }
        var a: [String: AttributeValue] = [
            "arn": .string(arn), "auto_scaling_group_name": .string(group), "policy_name": .string(policy),
            "policy_type": .string(item.value("PolicyType") ?? "SimpleScaling"), "region": .string(autoscaling.region),
        ]
        if let type = item.value("AdjustmentType") { a["adjustment_type"] = .string(type) }
        for (attribute, element) in [("scaling_adjustment", "ScalingAdjustment"), ("cooldown", "Cooldown"),
                                     ("estimated_instance_warmup", "EstimatedInstanceWarmup")] {
            if let number = item.value(element).flatMap({ Int64($0) }) { a[attribute] = .int(number) }
        }
        if let tracking = item["TargetTrackingConfiguration"] { a["target_tracking_configuration"] = Self.targetTracking(tracking) }
        return ResourceState(id: arn, attributes: a)
    }

    /// PutScalingPolicy again: it replaces the policy of that name in place, keeping its ARN.
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await put(context, config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        guard let names = Self.names(prior.id), try await read(group: names.group, policy: names.policy) != nil else { return }
        do {
            _ = try await autoscaling.call("DeletePolicy", ["AutoScalingGroupName": names.group, "PolicyName": names.policy])
        } catch let error as AWSError where error.code == "ValidationError" {
            // Its group was deleted meanwhile (the policies go with it): gone is what was asked for.
            if try await read(group: names.group, policy: names.policy) != nil { throw error }
        }
    }

    /// By group and policy name, unique together.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let group = config["auto_scaling_group_name"]?.text, let policy = config["policy_name"]?.text,
              let state = try await read(group: group, policy: policy) else { return nil }
        return state
    }
}
