import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// CloudWatch alarms as expansion writes them (a plain metric alarm on load balancer dimensions, a metric-math alarm over
/// the nodes), and the audit log group.
extension AWSIntegration {
    static func alarm(_ endpoint: String, _ name: String, region: String = "us-east-1") throws -> [String: Any]? {
        let out = try Moto.cli(endpoint, region: region, ["cloudwatch", "describe-alarms", "--alarm-names", name]) as? [String: Any]
        return (out?["MetricAlarms"] as? [[String: Any]])?.first
    }

    static func cloudWatchTags(_ endpoint: String, _ arn: String, region: String = "us-east-1") throws -> [String: String] {
        Moto.tagList((try Moto.cli(endpoint, region: region, ["cloudwatch", "list-tags-for-resource", "--resource-arn", arn]) as? [String: Any])?["Tags"])
    }

    /// The node_down alert of the production stack: UnHealthyHostCount of the target group behind the network LB.
    static func nodeDownConfig(_ ctx: ResourceContext, region: String = "us-east-1") -> [String: AttributeValue] {
        [
            "alarm_name": "production-cluster-node_down",
            "alarm_description": "MAIF alert rule node_down (critical) of cluster production-cluster: node_status == 'down' for 1m",
            "comparison_operator": "GreaterThanOrEqualToThreshold", "datapoints_to_alarm": 1, "evaluation_periods": 1,
            "dimensions": .map(["LoadBalancer": "net/production-cluster/50dc6c495c0c9188",
                                "TargetGroup": "targetgroup/production-cluster/73e2d6bc24d8a067"]),
            "metric_name": "UnHealthyHostCount", "namespace": "AWS/NetworkELB", "period": 60, "statistic": "Maximum",
            "threshold": .double(1), "region": .string(region),
            "tags": Moto.tags(ctx, ["maif:cluster": "production-cluster", "maif:severity": "critical"]),
        ]
    }

    @Test func metricAlarmLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("cloudwatch_alarm", "production-cluster.node_down", stack: "production")
        let config = Self.nodeDownConfig(ctx)
        let alarm = try await aws.create(ctx, config)
        #expect(alarm.id == "production-cluster-node_down")
        #expect(alarm.attributes["arn"]?.text?.hasSuffix(":alarm:production-cluster-node_down") == true)

        let made = try #require(try Self.alarm(endpoint, "production-cluster-node_down"))
        #expect(made["Namespace"] as? String == "AWS/NetworkELB")
        #expect(made["MetricName"] as? String == "UnHealthyHostCount")
        #expect(made["Statistic"] as? String == "Maximum")
        #expect(made["Threshold"] as? Double == 1)
        #expect(made["ComparisonOperator"] as? String == "GreaterThanOrEqualToThreshold")
        let dimensions = (made["Dimensions"] as? [[String: Any]] ?? []).map { "\($0["Name"] ?? "")=\($0["Value"] ?? "")" }.sorted()
        #expect(dimensions == ["LoadBalancer=net/production-cluster/50dc6c495c0c9188", "TargetGroup=targetgroup/production-cluster/73e2d6bc24d8a067"])
        #expect(try Self.cloudWatchTags(endpoint, made["AlarmArn"] as? String ?? "")
                == ["maif:stack": "production", "maif:address": "aws.cloudwatch_alarm.production-cluster.node_down",
                    "maif:cluster": "production-cluster", "maif:severity": "critical"])
        try await NoChange.expect(aws, ctx, alarm, config)

        // Drift: threshold and statistic put by hand, a tag removed; update puts the alarm and its tags back.
        _ = try Moto.cli(endpoint, ["cloudwatch", "put-metric-alarm", "--alarm-name", "production-cluster-node_down",
                                    "--comparison-operator", "GreaterThanOrEqualToThreshold", "--evaluation-periods", "1",
                                    "--metric-name", "UnHealthyHostCount", "--namespace", "AWS/NetworkELB", "--period", "60",
                                    "--statistic", "Average", "--threshold", "5"])
        _ = try Moto.cli(endpoint, ["cloudwatch", "untag-resource", "--resource-arn", made["AlarmArn"] as? String ?? "", "--tag-keys", "maif:severity"])
        let drifted = try #require(try await aws.read(ctx, alarm))
        #expect(drifted.attributes["threshold"] == .double(5))
        #expect(drifted.attributes["statistic"] == "Average")
        #expect(drifted.attributes["dimensions"] == .map([:]))
        #expect(drifted.attributes["tags"]?.mapValue?["maif:severity"] == nil)
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == alarm)
        let again = try #require(try Self.alarm(endpoint, "production-cluster-node_down"))
        #expect(again["Threshold"] as? Double == 1)
        #expect(again["Statistic"] as? String == "Maximum")
        #expect(try Self.cloudWatchTags(endpoint, made["AlarmArn"] as? String ?? "")["maif:severity"] == "critical")

        #expect(try await aws.find(ctx, config)?.id == alarm.id)
        #expect(try await aws.find(Moto.context("cloudwatch_alarm", "other", stack: "production"), config) == nil)
        // Someone else's alarm of that name is not overwritten.
        await #expect {
            _ = try await aws.create(Moto.context("cloudwatch_alarm", "other", stack: "production"), config)
        } throws: { error in "\(error)".contains("already exists") }

        try await aws.delete(ctx, repaired)
        #expect(try await aws.read(ctx, repaired) == nil)
        #expect(try Self.alarm(endpoint, "production-cluster-node_down") == nil)
        try await aws.delete(ctx, repaired) // already gone: not an error
    }

    @Test func metricMathAlarmInAnotherRegion() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "multi-region")
        let ctx = Moto.context("cloudwatch_alarm", "maif-eu-west-1.high_cpu_usage", stack: "multi-region")
        func node(_ id: String, _ label: String, _ dimensions: [String: AttributeValue]) -> AttributeValue {
            .map(["id": .string(id), "label": .string(label), "return_data": false,
                  "metric_stat": .map(["period": 60, "stat": "Average",
                                       "metric": .map(["namespace": "AWS/EC2", "metric_name": "CPUUtilization", "dimensions": .map(dimensions)])])])
        }
        var config: [String: AttributeValue] = [
            "alarm_name": "maif-eu-west-1-high_cpu_usage",
            "alarm_description": "MAIF alert rule high_cpu_usage (warning) of cluster maif-eu-west-1: cpu_utilization > 90 for 5m",
            "comparison_operator": "GreaterThanThreshold", "datapoints_to_alarm": 5, "evaluation_periods": 5, "threshold": .double(90),
            "metrics": .list([
                node("m1", "node-eu-1", ["InstanceId": "i-0a1"]), node("m2", "node-eu-2", ["InstanceId": "i-0a2"]),
                node("m3", "node-eu-3", ["InstanceId": "i-0a3"]),
                node("scaled", "nodes added by auto scaling", ["AutoScalingGroupName": "maif-eu-west-1"]),
                .map(["id": "cluster", "expression": "MAX(METRICS())", "label": "highest cpu_utilization of maif-eu-west-1", "return_data": true]),
            ]),
            "region": "eu-west-1", "tags": Moto.tags(ctx, ["maif:cluster": "maif-eu-west-1", "maif:severity": "warning"]),
        ]
        let alarm = try await aws.create(ctx, config)
        #expect(alarm.attributes["arn"]?.text?.contains(":eu-west-1:") == true)
        #expect(try Self.alarm(endpoint, "maif-eu-west-1-high_cpu_usage") == nil) // not in the provider's own region
        let made = try #require(try Self.alarm(endpoint, "maif-eu-west-1-high_cpu_usage", region: "eu-west-1"))
        let metrics = made["Metrics"] as? [[String: Any]] ?? []
        #expect(metrics.compactMap { $0["Id"] as? String } == ["m1", "m2", "m3", "scaled", "cluster"])
        #expect(metrics.last?["Expression"] as? String == "MAX(METRICS())")
        let stat = metrics.first?["MetricStat"] as? [String: Any]
        #expect(stat?["Stat"] as? String == "Average")
        #expect(((stat?["Metric"] as? [String: Any])?["Dimensions"] as? [[String: Any]])?.first?["Value"] as? String == "i-0a1")
        try await NoChange.expect(aws, ctx, alarm, config)

        // Changed in place: a scaling action added and the threshold raised.
        config["alarm_actions"] = .list(["arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:1:autoScalingGroupName/maif-eu-west-1:policyName/up"])
        config["threshold"] = .double(95)
        let updated = try await aws.update(ctx, alarm, config)
        #expect(updated.attributes["threshold"] == .double(95))
        try await NoChange.expect(aws, ctx, updated, config)
        let changed = try #require(try Self.alarm(endpoint, "maif-eu-west-1-high_cpu_usage", region: "eu-west-1"))
        #expect(changed["AlarmActions"] as? [String] == config["alarm_actions"]?.stringList)
        #expect((changed["Metrics"] as? [Any])?.count == 5)

        try await aws.delete(ctx, updated)
        #expect(try Self.alarm(endpoint, "maif-eu-west-1-high_cpu_usage", region: "eu-west-1") == nil)
    }

    @Test func logGroupLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("cloudwatch_log_group", "audit", stack: "production")
        var config: [String: AttributeValue] = [
            "name": "/maif/production/audit", "retention_in_days": 30, "export_bucket": "arn:aws:s3:::maif-production-access-logs",
            "tags": Moto.tags(ctx),
        ]
        func described() throws -> [String: Any]? {
            let out = try Moto.cli(endpoint, ["logs", "describe-log-groups", "--log-group-name-prefix", "/maif/production/audit"]) as? [String: Any]
            return (out?["logGroups"] as? [[String: Any]])?.first
        }
        func tags() throws -> [String: String] {
            let out = try Moto.cli(endpoint, ["logs", "list-tags-log-group", "--log-group-name", "/maif/production/audit"]) as? [String: Any]
            return out?["tags"] as? [String: String] ?? [:]
        }
        let group = try await aws.create(ctx, config)
        #expect(group.id == "/maif/production/audit")
        #expect(group.attributes["arn"]?.text?.hasSuffix(":log-group:/maif/production/audit") == true)
        #expect(group.attributes["export_bucket"] == "arn:aws:s3:::maif-production-access-logs")
        #expect(try described()?["retentionInDays"] as? Int == 30)
        #expect(try tags() == ["maif:stack": "production", "maif:address": "aws.cloudwatch_log_group.audit"])
        try await NoChange.expect(aws, ctx, group, config)

        // Drift: retention shortened and a tag added by hand.
        _ = try Moto.cli(endpoint, ["logs", "put-retention-policy", "--log-group-name", "/maif/production/audit", "--retention-in-days", "7"])
        _ = try Moto.cli(endpoint, ["logs", "tag-log-group", "--log-group-name", "/maif/production/audit", "--tags", "extra=1"])
        let drifted = try #require(try await aws.read(ctx, group))
        #expect(drifted.attributes["retention_in_days"] == 7)
        #expect(drifted.attributes["tags"]?.mapValue?["extra"] == "1")
        #expect(drifted.attributes["export_bucket"] == "arn:aws:s3:::maif-production-access-logs") // recorded, not read
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == group)
        #expect(try described()?["retentionInDays"] as? Int == 30)
        #expect(try tags()["extra"] == nil)

        // Retention dropped from the stack: kept forever again.
        config["retention_in_days"] = .null
        let forever = try await aws.update(ctx, repaired, config)
        #expect(forever.attributes["retention_in_days"] == .null)
        #expect(try described()?["retentionInDays"] == nil)

        #expect(try await aws.find(ctx, config)?.id == group.id)
        #expect(try await aws.find(Moto.context("cloudwatch_log_group", "other", stack: "production"), config) == nil)
        await #expect {
            _ = try await aws.create(Moto.context("cloudwatch_log_group", "other", stack: "production"), config)
        } throws: { error in "\(error)".contains("logs CreateLogGroup") && "\(error)".contains("ResourceAlreadyExistsException") }

        try await aws.delete(ctx, forever)
        #expect(try await aws.read(ctx, forever) == nil)
        #expect(try described() == nil)
        try await aws.delete(ctx, forever)
    }
}
