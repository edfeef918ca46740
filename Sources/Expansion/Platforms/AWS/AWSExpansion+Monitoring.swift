/// CloudWatch for an AWS cluster: one alarm per alert rule of `monitoring` (notifying the SNS topics of its
/// severity, AWSExpansion+Notifications.swift), one alarm per explicit scaling
/// policy (the trigger of its SimpleScaling policy), and the cluster-wide metric they all watch.
///
/// A cluster's nodes are its named instances plus whatever the Auto Scaling group added, so a per-instance
/// metric is watched through metric math over every named instance and the group's aggregate.

import ProviderKit
import StackModel

extension AWSClusterExpansion {
    /// Where a metric of the stack's vocabulary lives in CloudWatch.
    struct CloudWatchMetric: Equatable {
        var namespace: String
        var name: String
        /// Published per EC2 instance (and per Auto Scaling group); otherwise MAIF publishes it per cluster.
        var perInstance: Bool

        static func named(_ metric: String) -> CloudWatchMetric {
            switch metric {
            case "cpu_utilization": return CloudWatchMetric(namespace: "AWS/EC2", name: "CPUUtilization", perInstance: true)
            // Published by the CloudWatch agent.
            case "memory_utilization": return CloudWatchMetric(namespace: "CWAgent", name: "mem_used_percent", perInstance: true)
            case "disk_usage", "disk_utilization": return CloudWatchMetric(namespace: "CWAgent", name: "disk_used_percent", perInstance: true)
            default: return CloudWatchMetric(namespace: "MAIF", name: metric, perInstance: false)
            }
        }
    }

    static let period: Int64 = 60

    func alarms() -> PlatformOutput {
        var out = PlatformOutput()
        if let monitoring = stack.monitoring, monitoring.alertingEnabled {
            for rule in monitoring.alertRules {
                if let alarm = alertAlarm(rule) {
                    out.resources.append(alarm)
                } else {
                    out.diagnostics.append(.warning("aws-alert-unmapped", "alert rule '\(rule.name)': CloudWatch has no metric for `\(rule.condition)`; cluster '\(cluster.name)' gets no alarm for it",
                                                    hint: "numeric conditions (<, <=, >, >=) on a metric, or node_status == 'down', become CloudWatch alarms",
                                                    at: rule.location))
                }
            }
        }
        for policy in stack.autoscaling?.horizontal?.policies ?? [] {
            out.resources.append(scalingAlarm(policy))
        }
        return out
    }

    /// What watches a CWAgent metric (memory, disk): those only the CloudWatch agent publishes, which the nodes
    /// then run (AWSExpansion+Agent.swift).
    var agentMetricUses: [(what: String, at: SourceLocation?)] {
        var uses: [(what: String, at: SourceLocation?)] = []
        let h = stack.autoscaling?.horizontal
        if let h, h.targetMemoryUtilization != nil {
            uses.append(("autoscaling.horizontal.target_memory_utilization", stack.location(of: "autoscaling.horizontal.target_memory_utilization") ?? h.location))
        }
        for policy in h?.policies ?? [] where CloudWatchMetric.named(policy.metric).namespace == "CWAgent" {
            uses.append(("scaling policy '\(policy.name)'", policy.location))
        }
        if let monitoring = stack.monitoring, monitoring.alertingEnabled {
            for rule in monitoring.alertRules where CloudWatchMetric.named(rule.condition.metric).namespace == "CWAgent" {
                uses.append(("alert rule '\(rule.name)'", rule.location))
            }
        }
        return uses
    }

    /// `cpu_utilization > 90` for 5m → the highest node's CPUUtilization above 90 for five 1-minute periods.
    func alertAlarm(_ rule: AlertRule) -> DesiredResource? {
        var config: [String: AttributeValue] = [
            "alarm_name": .string("\(cluster.name)-\(rule.name)"),
            "alarm_description": .string("MAIF alert rule \(rule.name) (\(rule.severity.rawValue)) of cluster \(cluster.name): \(rule.condition) for \(rule.duration)"),
        ]
        config.merge(Self.evaluation(rule.duration)) { _, b in b }
        let condition = rule.condition
        switch condition.threshold {
        case .string(let state):
            // A node is down when the load balancer's health check says so.
            guard condition.metric == "node_status",
                  (condition.comparison == .equal && state == "down") || (condition.comparison == .notEqual && state == "up") else { return nil }
            config["namespace"] = "AWS/NetworkELB"
            config["metric_name"] = "UnHealthyHostCount"
            config["dimensions"] = .map(["TargetGroup": ref(targetGroup, "arn_suffix"), "LoadBalancer": ref(balancer, "arn_suffix")])
            config["statistic"] = "Maximum"
            config["period"] = .int(Self.period)
            config["comparison_operator"] = "GreaterThanOrEqualToThreshold"
            config["threshold"] = .double(1)
        case .number(let threshold):
            guard let comparison = Self.comparisonOperator(condition.comparison) else { return nil }
            config["comparison_operator"] = .string(comparison)
            config["threshold"] = .double(threshold)
            config.merge(watch(.named(condition.metric), aggregate: "MAX", label: "highest \(condition.metric) of \(cluster.name)")) { _, b in b }
        }
        // Firing and clearing both reach the severity's recipients.
        config["alarm_actions"] = topicARNs(rule.severity)
        config["ok_actions"] = topicARNs(rule.severity)
        return resource(address("cloudwatch_alarm", rule.name), config, tags: ["maif:severity": rule.severity.rawValue], origin: rule.location)
    }

    /// The trigger of a SimpleScaling policy: the cluster's average of the policy's metric past its threshold.
    func scalingAlarm(_ policy: ScalingPolicy) -> DesiredResource {
        let down = policy.action == .scaleDown
        var config: [String: AttributeValue] = [
            "alarm_name": .string("\(cluster.name)-scaling-\(policy.name)"),
            "alarm_description": .string("MAIF scaling policy \(policy.name) of cluster \(cluster.name): \(policy.action.rawValue) by \(abs(policy.adjustment)) when \(policy.metric) \(down ? "<" : ">") \(Condition.Operand.number(policy.threshold))"),
            "comparison_operator": down ? "LessThanThreshold" : "GreaterThanThreshold",
            "threshold": .double(policy.threshold),
            "alarm_actions": .list([ref(scalingPolicy(policy.name), "arn")]),
        ]
        // Without a duration, three minutes of breach: long enough to skip a spike, short enough to scale in time.
        config.merge(Self.evaluation(policy.duration ?? .seconds(180))) { _, b in b }
        config.merge(watch(.named(policy.metric), aggregate: "AVG", label: "average \(policy.metric) of \(cluster.name)")) { _, b in b }
        return resource(address("cloudwatch_alarm", "scaling", policy.name), config, origin: policy.location)
    }

    /// The alarm attributes that say what is watched: a per-cluster MAIF metric directly, a per-instance
    /// metric through metric math over the named instances and the Auto Scaling group.
    func watch(_ metric: CloudWatchMetric, aggregate: String, label: String) -> [String: AttributeValue] {
        guard metric.perInstance else {
            return [
                "namespace": .string(metric.namespace), "metric_name": .string(metric.name),
                "dimensions": .map(["Cluster": .string(cluster.name)]),
                "statistic": "Average", "period": .int(Self.period),
            ]
        }
        return ["metrics": .list(clusterMetricQueries(metric, aggregate: aggregate, label: label, period: Self.period))]
    }

    /// Metric math queries: one per named instance (`m1`…), one for the Auto Scaling group (`scaled`), and
    /// the returned `<aggregate>(METRICS())` over them. Target tracking takes the same queries without a period.
    func clusterMetricQueries(_ metric: CloudWatchMetric, aggregate: String, label: String, period: Int64?) -> [AttributeValue] {
        func query(_ id: String, _ label: String, _ dimensions: [String: AttributeValue]) -> AttributeValue {
            var stat: [String: AttributeValue] = [
                "metric": .map(["namespace": .string(metric.namespace), "metric_name": .string(metric.name), "dimensions": .map(dimensions)]),
                "stat": "Average",
            ]
            if let period { stat["period"] = .int(period) }
            return .map(["id": .string(id), "label": .string(label), "metric_stat": .map(stat), "return_data": false])
        }
        var queries = cluster.nodes.enumerated().map { i, node in
            query("m\(i + 1)", node.id, ["InstanceId": ref(instance(node), "id")])
        }
        if stack.autoscaling?.horizontal != nil {
            queries.append(query("scaled", "nodes added by auto scaling", ["AutoScalingGroupName": ref(autoScalingGroup, "auto_scaling_group_name")]))
        }
        queries.append(.map(["id": "cluster", "expression": .string("\(aggregate)(METRICS())"), "label": .string(label), "return_data": true]))
        return queries
    }

    /// A duration as whole 1-minute periods, every one of which must breach.
    static func evaluation(_ duration: TimeSpan) -> [String: AttributeValue] {
        let periods = AttributeValue.int(max(1, Int64((duration.seconds / Double(period)).rounded(.up))))
        return ["evaluation_periods": periods, "datapoints_to_alarm": periods]
    }

    static func comparisonOperator(_ comparison: Condition.Comparison) -> String? {
        switch comparison {
        case .greater: return "GreaterThanThreshold"
        case .greaterOrEqual: return "GreaterThanOrEqualToThreshold"
        case .less: return "LessThanThreshold"
        case .lessOrEqual: return "LessThanOrEqualToThreshold"
        case .equal, .notEqual: return nil
        }
    }
}
