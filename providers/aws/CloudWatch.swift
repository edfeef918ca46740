/// CloudWatch metric alarms. CloudWatch answers both its legacy query protocol and JSON 1.0; this uses JSON 1.0
/// (`X-Amz-Target: GraniteServiceVersion20100801.*`), which moto 5 serves too, so nested metric-math queries need no
/// `Metrics.member.N.MetricStat.Metric.Dimensions.member.M.Name` flattening.

import Foundation
import ProviderKit

struct CloudWatch: Sendable {
    let client: AWSClient

    func call(_ operation: String, _ body: [String: AttributeValue]) async throws -> [String: AttributeValue] {
        try await client.json("monitoring", version: "1.0", target: "GraniteServiceVersion20100801.\(operation)", body)
    }

    var region: String { client.settings.region }

    /// Dimensions as CloudWatch takes them, `[{Name, Value}]` sorted by name, from the schema's name → value map.
    static func dimensions(_ value: AttributeValue?) -> AttributeValue {
        let m = value?.mapValue ?? [:]
        return .list(m.keys.sorted().map { .map(["Name": .string($0), "Value": .string(m[$0]?.text ?? "")]) })
    }

    /// And back: the schema's map from CloudWatch's list.
    static func dimensionMap(_ value: AttributeValue?) -> AttributeValue {
        var m: [String: AttributeValue] = [:]
        for d in value?.listValue ?? [] { if let n = d.mapValue?["Name"]?.text { m[n] = .string(d.mapValue?["Value"]?.text ?? "") } }
        return .map(m)
    }

    /// Brings an ARN's tags from `current` to `wanted` with TagResource and UntagResource.
    func syncTags(arn: String, from current: [String: String], to wanted: [String: String]) async throws {
        let changed = wanted.filter { current[$0.key] != $0.value }
        if !changed.isEmpty { _ = try await call("TagResource", ["ResourceARN": .string(arn), "Tags": JSONTags.list(changed)]) }
        let removed = current.keys.filter { wanted[$0] == nil }.sorted()
        if !removed.isEmpty {
            _ = try await call("UntagResource", ["ResourceARN": .string(arn), "TagKeys": .list(removed.map(AttributeValue.string))])
        }
    }
}

struct CloudWatchAlarmResource: AWSProvider.Resource {
    let cloudwatch: CloudWatch

    /// The PutMetricAlarm request for a configuration. Put replaces the whole alarm, so every call sends all of it.
    static func request(_ config: [String: AttributeValue]) -> [String: AttributeValue] {
        var body: [String: AttributeValue] = [:]
        let strings = [("alarm_name", "AlarmName"), ("alarm_description", "AlarmDescription"), ("comparison_operator", "ComparisonOperator"),
                       ("namespace", "Namespace"), ("metric_name", "MetricName"), ("statistic", "Statistic"),
                       ("treat_missing_data", "TreatMissingData")]
        for (attribute, field) in strings { if let v = config[attribute]?.text { body[field] = .string(v) } }
        for (attribute, field) in [("evaluation_periods", "EvaluationPeriods"), ("datapoints_to_alarm", "DatapointsToAlarm"), ("period", "Period")] {
            if let v = config[attribute]?.intValue_ { body[field] = .int(v) }
        }
        if let v = config["threshold"]?.number { body["Threshold"] = v }
        if let v = config["actions_enabled"]?.boolValue_ { body["ActionsEnabled"] = .bool(v) }
        for (attribute, field) in [("alarm_actions", "AlarmActions"), ("ok_actions", "OKActions"),
                                   ("insufficient_data_actions", "InsufficientDataActions")] {
            if let v = config[attribute]?.stringList { body[field] = .list(v.map(AttributeValue.string)) }
        }
        if config["dimensions"]?.mapValue?.isEmpty == false { body["Dimensions"] = CloudWatch.dimensions(config["dimensions"]) }
        if let metrics = config["metrics"]?.listValue, !metrics.isEmpty { body["Metrics"] = .list(metrics.map(metricQuery)) }
        return body
    }

    /// One metric-math query: `{id, expression | metric_stat: {metric: {namespace, metric_name, dimensions}, period, stat, unit},
    /// label, return_data, period}` → `MetricDataQuery`.
    static func metricQuery(_ value: AttributeValue) -> AttributeValue {
        let m = value.mapValue ?? [:]
        var q: [String: AttributeValue] = [:]
        if let v = m["id"]?.text { q["Id"] = .string(v) }
        if let v = m["expression"]?.text { q["Expression"] = .string(v) }
        if let v = m["label"]?.text { q["Label"] = .string(v) }
        if let v = m["return_data"]?.boolValue_ { q["ReturnData"] = .bool(v) }
        if let v = m["period"]?.intValue_ { q["Period"] = .int(v) }
        if let stat = m["metric_stat"]?.mapValue {
            let metric = stat["metric"]?.mapValue ?? [:]
            var out: [String: AttributeValue] = [:]
            var inner: [String: AttributeValue] = [:]
            if let v = metric["namespace"]?.text { inner["Namespace"] = .string(v) }
            if let v = metric["metric_name"]?.text { inner["MetricName"] = .string(v) }
            if metric["dimensions"]?.mapValue?.isEmpty == false { inner["Dimensions"] = CloudWatch.dimensions(metric["dimensions"]) }
            out["Metric"] = .map(inner)
            if let v = stat["period"]?.intValue_ { out["Period"] = .int(v) }
            if let v = stat["stat"]?.text { out["Stat"] = .string(v) }
            if let v = stat["unit"]?.text { out["Unit"] = .string(v) }
            q["MetricStat"] = .map(out)
        }
        return .map(q)
    }

    /// A `MetricDataQuery` from DescribeAlarms in the schema's shape, keys present only where CloudWatch has a value.
    static func metricAttribute(_ value: AttributeValue) -> AttributeValue {
        let q = value.mapValue ?? [:]
        var m: [String: AttributeValue] = [:]
        if let v = q["Id"]?.text { m["id"] = .string(v) }
        if let v = q["Expression"]?.text { m["expression"] = .string(v) }
        if let v = q["Label"]?.text { m["label"] = .string(v) }
        if let v = q["ReturnData"]?.boolValue_ { m["return_data"] = .bool(v) }
        if let v = q["Period"]?.intValue_ { m["period"] = .int(v) }
        if let stat = q["MetricStat"]?.mapValue {
            let metric = stat["Metric"]?.mapValue ?? [:]
            var inner: [String: AttributeValue] = [:]
            if let v = metric["Namespace"]?.text { inner["namespace"] = .string(v) }
            if let v = metric["MetricName"]?.text { inner["metric_name"] = .string(v) }
            if metric["Dimensions"]?.listValue?.isEmpty == false { inner["dimensions"] = CloudWatch.dimensionMap(metric["Dimensions"]) }
            var out: [String: AttributeValue] = ["metric": .map(inner)]
            if let v = stat["Period"]?.intValue_ { out["period"] = .int(v) }
            if let v = stat["Stat"]?.text { out["stat"] = .string(v) }
            if let v = stat["Unit"]?.text { out["unit"] = .string(v) }
            m["metric_stat"] = .map(out)
        }
        return .map(m)
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["alarm_name"]?.text ?? ""
        // PutMetricAlarm overwrites an alarm of the same name: only one this stack made (a crashed create) may be.
        if let existing = try await describe(name), let arn = existing["AlarmArn"]?.text {
            let tags = try await tags(arn)
            guard tags["maif:stack"] == context.stack, tags["maif:address"] == context.address.description else {
                throw ProviderError(address: context.address, call: "monitoring PutMetricAlarm",
                                    message: "an alarm named \(name) already exists in \(cloudwatch.region) and is not this resource's")
            }
            return try await put(context, name: name, currentTags: tags, config)
        }
        var body = Self.request(config)
        let tags = tagMap(config)
        if !tags.isEmpty { body["Tags"] = JSONTags.list(tags) }
        _ = try await cloudwatch.call("PutMetricAlarm", body)
        return try await readOrFail(context, name)
    }

    /// Puts the whole alarm again and brings its tags to the configuration (Put ignores Tags for an existing alarm).
    func put(_ context: ResourceContext, name: String, currentTags: [String: String], _ config: [String: AttributeValue]) async throws -> ResourceState {
        _ = try await cloudwatch.call("PutMetricAlarm", Self.request(config))
        let state = try await readOrFail(context, name)
        guard let arn = state.attributes["arn"]?.text else { return state }
        try await cloudwatch.syncTags(arn: arn, from: currentTags, to: tagMap(config))
        return try await readOrFail(context, name)
    }

    func describe(_ name: String) async throws -> [String: AttributeValue]? {
        let out = try await cloudwatch.call("DescribeAlarms", ["AlarmNames": .list([.string(name)])])
        return out["MetricAlarms"]?.listValue?.compactMap(\.mapValue).first { $0["AlarmName"]?.text == name }
    }

    func tags(_ arn: String) async throws -> [String: String] {
        JSONTags.map(try await cloudwatch.call("ListTagsForResource", ["ResourceARN": .string(arn)])["Tags"])
    }

    func read(_ context: ResourceContext, id name: String) async throws -> ResourceState? {
        guard let alarm = try await describe(name) else { return nil }
        let arn = alarm["AlarmArn"]?.text ?? ""
        func string(_ key: String) -> AttributeValue { alarm[key]?.text.map(AttributeValue.string) ?? .null }
        func int(_ key: String) -> AttributeValue { alarm[key]?.intValue_.map(AttributeValue.int) ?? .null }
        func list(_ key: String) -> AttributeValue { .list((alarm[key]?.stringList ?? []).map(AttributeValue.string)) }
        var threshold = AttributeValue.null
        if let t = alarm["Threshold"]?.number { threshold = .double(t.doubleValue_) }
        let a: [String: AttributeValue] = [
            "alarm_name": .string(name), "arn": .string(arn), "region": .string(cloudwatch.region),
            "alarm_description": string("AlarmDescription"), "comparison_operator": string("ComparisonOperator"),
            "evaluation_periods": int("EvaluationPeriods"), "datapoints_to_alarm": int("DatapointsToAlarm"), "threshold": threshold,
            "namespace": string("Namespace"), "metric_name": string("MetricName"), "statistic": string("Statistic"), "period": int("Period"),
            "dimensions": CloudWatch.dimensionMap(alarm["Dimensions"]),
            "metrics": .list((alarm["Metrics"]?.listValue ?? []).map(Self.metricAttribute)),
            "treat_missing_data": string("TreatMissingData"), "actions_enabled": .bool(alarm["ActionsEnabled"]?.boolValue_ ?? true),
            "alarm_actions": list("AlarmActions"), "ok_actions": list("OKActions"), "insufficient_data_actions": list("InsufficientDataActions"),
            "tags": .map(try await tags(arn).mapValues(AttributeValue.string)),
        ]
        return ResourceState(id: name, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        return try await put(context, name: prior.id, currentTags: stringMap(current.attributes["tags"]), config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do {
            _ = try await cloudwatch.call("DeleteAlarms", ["AlarmNames": .list([.string(prior.id)])])
        } catch let error as AWSError where error.code.hasPrefix("ResourceNotFound") {}
    }

    /// Alarm names are fixed by the stack: looked up by name, checked against the owner tags.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["alarm_name"]?.text, let state = try await read(context, id: name) else { return nil }
        let tags = stringMap(state.attributes["tags"])
        return tags["maif:address"] == context.address.description && tags["maif:stack"] == context.stack ? state : nil
    }
}

extension AttributeValue {
    var doubleValue_: Double {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s) ?? 0
        default: return 0
        }
    }
}
