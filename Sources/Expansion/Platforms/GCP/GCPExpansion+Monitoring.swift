/// Cloud Monitoring for a GCP cluster: one alert policy per alert rule of `monitoring`, over the cluster's instances
/// (selected by their `maif-cluster` label, so the nodes auto scaling adds are watched too).
///
/// `cpu_utilization > 90` for 5m → a threshold on compute.googleapis.com/instance/cpu/utilization (a fraction: 0.9)
/// for 300 s; memory and disk metrics are the Ops Agent's percentages; other metrics are MAIF's own custom metrics
/// (custom.googleapis.com/maif/<name>, labelled by cluster); `node_status == 'down'` is an absence of the instances'
/// uptime metric. Each policy notifies the channels of its severity's recipients (+Notifications). Monitoring needs an absence to last at least 120 s: a shorter rule gets 120 s and a warning.

import ProviderKit
import StackModel

extension GCPCluster {
    /// Where a metric of the stack's vocabulary lives in Cloud Monitoring, and the scale of its values.
    struct MonitoringMetric: Equatable {
        var filter: String
        /// The stack writes percentages; GCE's utilization metrics are fractions.
        var scale: Double
    }

    static let minimumAbsence = 120.0

    func metric(_ name: String) -> MonitoringMetric {
        let instances = "resource.type = \"gce_instance\" AND metadata.user_labels.\"maif-cluster\" = \"\(GCPExpansion.labelValue(cluster.name))\""
        switch name {
        case "cpu_utilization":
            return MonitoringMetric(filter: "metric.type = \"compute.googleapis.com/instance/cpu/utilization\" AND \(instances)", scale: 0.01)
        case "memory_utilization":
            return MonitoringMetric(filter: "metric.type = \"agent.googleapis.com/memory/percent_used\" AND metric.labels.state = \"used\" AND \(instances)", scale: 1)
        case "disk_usage", "disk_utilization":
            return MonitoringMetric(filter: "metric.type = \"agent.googleapis.com/disk/percent_used\" AND metric.labels.state = \"used\" AND \(instances)", scale: 1)
        default:
            return MonitoringMetric(filter: "metric.type = \"custom.googleapis.com/maif/\(name)\" AND metric.labels.cluster = \"\(cluster.name)\"", scale: 1)
        }
    }

    func alertPolicies() -> PlatformOutput {
        var out = PlatformOutput()
        guard let monitoring = stack.monitoring, monitoring.alertingEnabled else { return out }
        for rule in monitoring.alertRules {
            guard let condition = alertCondition(rule, &out.diagnostics) else {
                out.diagnostics.append(.warning("gcp-alert-unmapped", "alert rule '\(rule.name)': Cloud Monitoring has no metric for `\(rule.condition)`; cluster '\(cluster.name)' gets no alert policy for it",
                                                hint: "numeric conditions (<, <=, >, >=) on a metric, or node_status == 'down', become alert policies",
                                                at: rule.location))
                continue
            }
            if rule.severity == .info {
                out.diagnostics.append(.warning("gcp-alert-severity-info", "alert rule '\(rule.name)': Cloud Monitoring has no info severity; its policy is WARNING, the lowest there is",
                                                at: rule.location))
            }
            let a = address("alert_policy", rule.name)
            var labels = GCPExpansion.labels(stack, a).mapValue ?? [:]
            labels["maif-cluster"] = .string(GCPExpansion.labelValue(cluster.name))
            labels["maif-severity"] = .string(rule.severity.rawValue)
            out.resources.append(resource(a, [
                "display_name": .string("\(cluster.name) \(rule.name)"),
                "documentation": .map([
                    "content": .string("MAIF alert rule \(rule.name) (\(rule.severity.rawValue)) of cluster \(cluster.name), stack \(stack.meta.name): \(rule.condition) for \(rule.duration)"),
                    "mime_type": "text/markdown",
                ]),
                "combiner": "OR",
                "conditions": .list([condition]),
                "severity": .string(Self.severity(rule.severity)),
                "enabled": true,
                "user_labels": .map(labels),
                "notification_channels": channelNames(rule.severity),
            ], origin: rule.location))
        }
        return out
    }

    func alertCondition(_ rule: AlertRule, _ diagnostics: inout [Diagnostic]) -> AttributeValue? {
        let condition = rule.condition
        let seconds = max(0, rule.duration.seconds.rounded(.up))
        let aligned: AttributeValue = .list([.map(["alignment_period": "60s", "per_series_aligner": "ALIGN_MEAN"])])
        switch condition.threshold {
        case .string(let state):
            // A node is down when its VM stops reporting: the uptime metric is absent.
            guard condition.metric == "node_status",
                  (condition.comparison == .equal && state == "down") || (condition.comparison == .notEqual && state == "up") else { return nil }
            var duration = seconds
            if duration < Self.minimumAbsence {
                duration = Self.minimumAbsence
                diagnostics.append(.warning("gcp-alert-duration-raised",
                                            "alert rule '\(rule.name)': Cloud Monitoring reports a missing metric after 120 s at the earliest; cluster '\(cluster.name)' is alerted after 120 s, not \(rule.duration)",
                                            hint: "give the rule a duration of 2m or more", at: rule.location))
            }
            let filter = "metric.type = \"compute.googleapis.com/instance/uptime\" AND resource.type = \"gce_instance\" AND metadata.user_labels.\"maif-cluster\" = \"\(GCPExpansion.labelValue(cluster.name))\""
            return .map([
                "display_name": .string("\(rule.name): \(condition)"),
                "condition_absent": .map(["filter": .string(filter), "duration": .string("\(Int64(duration))s"), "aggregations": aligned,
                                          "trigger": .map(["count": 1])]),
            ])
        case .number(let threshold):
            guard let comparison = Self.comparison(condition.comparison) else { return nil }
            let m = metric(condition.metric)
            return .map([
                "display_name": .string("\(rule.name): \(condition)"),
                "condition_threshold": .map([
                    "filter": .string(m.filter), "comparison": .string(comparison), "threshold_value": .double(threshold * m.scale),
                    "duration": .string("\(Int64(seconds))s"), "aggregations": aligned, "trigger": .map(["count": 1]),
                ]),
            ])
        }
    }

    static func comparison(_ comparison: Condition.Comparison) -> String? {
        switch comparison {
        case .greater: return "COMPARISON_GT"
        case .greaterOrEqual: return "COMPARISON_GE"
        case .less: return "COMPARISON_LT"
        case .lessOrEqual: return "COMPARISON_LE"
        case .equal, .notEqual: return nil
        }
    }

    static func severity(_ severity: AlertSeverity) -> String {
        switch severity {
        case .critical: return "CRITICAL"
        case .warning: return "WARNING"
        case .info: return "WARNING"
        }
    }
}
