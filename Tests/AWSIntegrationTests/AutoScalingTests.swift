import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// Auto Scaling resources in the shapes expansion produces (production.plan.json, multi-region.plan.json).
extension AWSIntegration {
    @Test func autoScalingGroupLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try Balancing.network(endpoint)
        let template = try Balancing.launchTemplate(endpoint)
        let tg1 = try Balancing.targetGroup(endpoint, name: "tg-one", vpc: net.vpc)
        let tg2 = try Balancing.targetGroup(endpoint, name: "tg-two", vpc: net.vpc)
        let ctx = Moto.context("autoscaling_group", "production-cluster")
        var config: [String: AttributeValue] = [
            "auto_scaling_group_name": "production-cluster", "min_size": 0, "max_size": 17, "default_cooldown": 300,
            "health_check_type": "ELB", "health_check_grace_period": 300,
            "launch_template": .map(["launch_template_id": .string(template), "version": "$Latest"]),
            "target_group_arns": .list([.string(tg1)]), "vpc_zone_identifier": .list(net.subnets.map { .string($0) }),
            "termination_policies": .list(["OldestInstance", "Default"]),
            "region": "us-east-1", "tags": Moto.tags(ctx, ["maif:cluster": "production-cluster"]),
        ]
        let group = try await aws.create(ctx, config)
        #expect(group.id == "production-cluster")
        #expect(group.attributes["arn"]?.stringValue?.hasPrefix("arn:aws:autoscaling:us-east-1:") == true)
        #expect(group.attributes["desired_capacity"] == nil, "left to AWS and the policies when the stack does not set it")
        try await Balancing.expectNoChange(aws, ctx, group, config)

        var item = try ASGView.group(endpoint, "production-cluster")
        #expect(item["MinSize"] as? Int == 0 && item["MaxSize"] as? Int == 17 && item["DefaultCooldown"] as? Int == 300)
        #expect(item["HealthCheckType"] as? String == "ELB" && item["HealthCheckGracePeriod"] as? Int == 300)
        #expect(item["VPCZoneIdentifier"] as? String == net.subnets.joined(separator: ","))
        #expect(item["LaunchTemplate"] as? [String: String] == ["LaunchTemplateId": template, "LaunchTemplateName": "production-cluster",
                                                                "Version": "$Latest"])
        #expect(item["TargetGroupARNs"] as? [String] == [tg1])
        #expect(item["TerminationPolicies"] as? [String] == ["OldestInstance", "Default"])
        let tags = item["Tags"] as? [[String: Any]] ?? []
        #expect(Moto.tagList(tags) == ["maif:stack": "prod", "maif:address": "aws.autoscaling_group.production-cluster",
                                       "maif:cluster": "production-cluster"])
        #expect(tags.allSatisfy { $0["PropagateAtLaunch"] as? Bool == true }, "the tags reach the instances it launches")

        // Drift made out of band: read reports it, update puts it back.
        _ = try Balancing.cli(endpoint, ["autoscaling", "update-auto-scaling-group", "--auto-scaling-group-name", "production-cluster",
                                         "--max-size", "5", "--health-check-grace-period", "60", "--health-check-type", "EC2"])
        _ = try Balancing.cli(endpoint, ["autoscaling", "detach-load-balancer-target-groups", "--auto-scaling-group-name", "production-cluster",
                                         "--target-group-arns", tg1])
        _ = try Balancing.cli(endpoint, ["autoscaling", "delete-tags", "--tags",
                                         "ResourceId=production-cluster,ResourceType=auto-scaling-group,Key=maif:cluster"])
        let drifted = try #require(try await aws.read(ctx, group))
        #expect(drifted.attributes["max_size"] == 5 && drifted.attributes["health_check_grace_period"] == 60)
        #expect(drifted.attributes["health_check_type"] == "EC2" && drifted.attributes["target_group_arns"] == .list([]))
        #expect(drifted.attributes["tags"]?.mapValue?["maif:cluster"] == nil)
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == group)
        item = try ASGView.group(endpoint, "production-cluster")
        #expect(item["MaxSize"] as? Int == 17 && item["HealthCheckGracePeriod"] as? Int == 300 && item["HealthCheckType"] as? String == "ELB")
        #expect(item["TargetGroupARNs"] as? [String] == [tg1])
        #expect(Moto.tagList(item["Tags"])["maif:cluster"] == "production-cluster")

        // Target groups attach and detach in place; sizes change with UpdateAutoScalingGroup.
        config["target_group_arns"] = .list([.string(tg2)])
        config["max_size"] = 10
        let changed = try await aws.update(ctx, repaired, config)
        #expect(changed.attributes["target_group_arns"] == .list([.string(tg2)]) && changed.attributes["max_size"] == 10)
        item = try ASGView.group(endpoint, "production-cluster")
        #expect(item["TargetGroupARNs"] as? [String] == [tg2] && item["MaxSize"] as? Int == 10)
        try await Balancing.expectNoChange(aws, ctx, changed, config)

        #expect(try await aws.find(ctx, config)?.id == group.id)
        #expect(try await aws.find(Moto.context("autoscaling_group", "other"), config) == nil)
        try await aws.delete(ctx, changed)
        #expect(try await aws.read(ctx, changed) == nil)
        let left = try Balancing.cli(endpoint, ["autoscaling", "describe-auto-scaling-groups"])
        #expect((left["AutoScalingGroups"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, changed)
    }

    @Test func simpleScalingPolicyLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        try ASGView.makeGroup(endpoint, "production-cluster")
        let ctx = Moto.context("autoscaling_policy", "production-cluster.low_usage_scaling")
        let config: [String: AttributeValue] = [
            "auto_scaling_group_name": "production-cluster", "policy_name": "production-cluster-low_usage_scaling",
            "policy_type": "SimpleScaling", "adjustment_type": "ChangeInCapacity", "scaling_adjustment": -1, "cooldown": 600,
            "region": "us-east-1",
        ]
        let policy = try await aws.create(ctx, config)
        #expect(policy.id.hasSuffix(":autoScalingGroupName/production-cluster:policyName/production-cluster-low_usage_scaling"))
        #expect(policy.attributes["arn"] == .string(policy.id))
        try await Balancing.expectNoChange(aws, ctx, policy, config)
        var item = try ASGView.policy(endpoint, "production-cluster-low_usage_scaling")
        #expect(item["PolicyType"] as? String == "SimpleScaling" && item["AdjustmentType"] as? String == "ChangeInCapacity")
        #expect(item["ScalingAdjustment"] as? Int == -1 && item["Cooldown"] as? Int == 600)

        _ = try Balancing.cli(endpoint, ["autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "production-cluster",
                                         "--policy-name", "production-cluster-low_usage_scaling", "--policy-type", "SimpleScaling",
                                         "--adjustment-type", "ChangeInCapacity", "--scaling-adjustment", "-3", "--cooldown", "60"])
        let drifted = try #require(try await aws.read(ctx, policy))
        #expect(drifted.attributes["scaling_adjustment"] == -3 && drifted.attributes["cooldown"] == 60)
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == policy)
        item = try ASGView.policy(endpoint, "production-cluster-low_usage_scaling")
        #expect(item["ScalingAdjustment"] as? Int == -1 && item["Cooldown"] as? Int == 600)

        #expect(try await aws.find(ctx, config) == policy)
        var other = config
        other["policy_name"] = "production-cluster-cpu_scaling"
        #expect(try await aws.find(ctx, other) == nil)
        try await aws.delete(ctx, repaired)
        #expect(try await aws.read(ctx, repaired) == nil)
        #expect((try Balancing.cli(endpoint, ["autoscaling", "describe-policies"])["ScalingPolicies"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, repaired)
    }

    /// production.plan.json names the group of a simple policy without referring to it, so the two may be
    /// created at once: the policy waits (bounded) for its group.
    @Test func scalingPolicyWaitsForItsGroup() async throws {
        let (aws, endpoint) = try Moto.provider()
        let ctx = Moto.context("autoscaling_policy", "late.cpu_scaling")
        let config: [String: AttributeValue] = [
            "auto_scaling_group_name": "late", "policy_name": "late-cpu_scaling", "policy_type": "SimpleScaling",
            "adjustment_type": "ChangeInCapacity", "scaling_adjustment": 2, "cooldown": 300, "region": "us-east-1",
        ]
        let first = config
        async let created = aws.create(ctx, first)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        try ASGView.makeGroup(endpoint, "late")
        let policy = try await created
        #expect(try ASGView.policy(endpoint, "late-cpu_scaling")["ScalingAdjustment"] as? Int == 2)
        try await Balancing.expectNoChange(aws, ctx, policy, config)

        var orphan = config
        orphan["auto_scaling_group_name"] = "never"
        let impatient = ScalingPolicyResource(autoscaling: AutoScaling(client: aws.client), groupTimeout: 1)
        await #expect {
            _ = try await impatient.create(ctx, orphan)
        } throws: { error in
            "\(error)".contains("waiting for Auto Scaling group never to exist")
        }
    }

    /// The metric-math target tracking policy multi-region.plan.json makes for each region's group.
    @Test func targetTrackingPolicyLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        try ASGView.makeGroup(endpoint, "maif-us-east-1")
        let ctx = Moto.context("autoscaling_policy", "maif-us-east-1.target_cpu_utilization")
        func node(_ id: String, _ instance: String) -> AttributeValue {
            .map(["id": .string(id), "label": .string("node-\(id)"), "return_data": false,
                  "metric_stat": .map(["metric": .map(["dimensions": .map(["InstanceId": .string(instance)]), "metric_name": "CPUUtilization",
                                                       "namespace": "AWS/EC2"]), "stat": "Average"])])
        }
        func tracking(_ target: Double) -> AttributeValue {
            .map(["target_value": .double(target), "customized_metric_specification": .map(["metrics": .list([
                node("m1", "i-0123456789abcdef0"), node("m2", "i-0123456789abcdef1"),
                .map(["id": "scaled", "label": "nodes added by auto scaling", "return_data": false,
                      "metric_stat": .map(["metric": .map(["dimensions": .map(["AutoScalingGroupName": "maif-us-east-1"]),
                                                           "metric_name": "CPUUtilization", "namespace": "AWS/EC2"]), "stat": "Average"])]),
                .map(["expression": "AVG(METRICS())", "id": "cluster", "label": "average cpu_utilization of maif-us-east-1", "return_data": true]),
            ])])])
        }
        var config: [String: AttributeValue] = [
            "auto_scaling_group_name": "maif-us-east-1", "policy_name": "maif-us-east-1-target_cpu_utilization",
            "policy_type": "TargetTrackingScaling", "estimated_instance_warmup": 300, "target_tracking_configuration": tracking(70),
            "region": "us-east-1",
        ]
        let policy = try await aws.create(ctx, config)
        try await Balancing.expectNoChange(aws, ctx, policy, config)
        var item = try ASGView.policy(endpoint, "maif-us-east-1-target_cpu_utilization")
        #expect(item["PolicyType"] as? String == "TargetTrackingScaling" && item["EstimatedInstanceWarmup"] as? Int == 300)
        var spec = item["TargetTrackingConfiguration"] as? [String: Any] ?? [:]
        #expect(spec["TargetValue"] as? Double == 70)
        let metrics = (spec["CustomizedMetricSpecification"] as? [String: Any])?["Metrics"] as? [[String: Any]] ?? []
        #expect(metrics.compactMap { $0["Id"] as? String } == ["m1", "m2", "scaled", "cluster"])
        #expect(metrics.map { $0["ReturnData"] as? Bool } == [false, false, false, true])
        let m1 = (metrics.first?["MetricStat"] as? [String: Any])?["Metric"] as? [String: Any]
        #expect(m1?["Namespace"] as? String == "AWS/EC2" && m1?["MetricName"] as? String == "CPUUtilization")
        #expect((m1?["Dimensions"] as? [[String: String]]) == [["Name": "InstanceId", "Value": "i-0123456789abcdef0"]])
        #expect(metrics.last?["Expression"] as? String == "AVG(METRICS())")

        // Changed out of band: read reports the other target, update puts the stack's back.
        var cli = config["target_tracking_configuration"]!.mapValue!
        cli["target_value"] = .double(50)
        _ = try Balancing.cli(endpoint, ["autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "maif-us-east-1",
                                         "--policy-name", "maif-us-east-1-target_cpu_utilization", "--policy-type", "TargetTrackingScaling",
                                         "--target-tracking-configuration", try ASGView.cliJSON(.map(cli))])
        let drifted = try #require(try await aws.read(ctx, policy))
        #expect(drifted.attributes["target_tracking_configuration"]?.mapValue?["target_value"] == .double(50))
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == policy)
        spec = try ASGView.policy(endpoint, "maif-us-east-1-target_cpu_utilization")["TargetTrackingConfiguration"] as? [String: Any] ?? [:]
        #expect(spec["TargetValue"] as? Double == 70)

        config["target_tracking_configuration"] = tracking(60)
        let changed = try await aws.update(ctx, repaired, config)
        #expect(changed.id == policy.id)
        item = try ASGView.policy(endpoint, "maif-us-east-1-target_cpu_utilization")
        #expect((item["TargetTrackingConfiguration"] as? [String: Any])?["TargetValue"] as? Double == 60)
        try await Balancing.expectNoChange(aws, ctx, changed, config)

        try await aws.delete(ctx, changed)
        #expect(try await aws.read(ctx, changed) == nil)
        #expect((try Balancing.cli(endpoint, ["autoscaling", "describe-policies"])["ScalingPolicies"] as? [Any])?.isEmpty == true)
    }
}

/// What the AWS CLI shows of Auto Scaling objects, and groups made with it.
enum ASGView {
    static func group(_ endpoint: String, _ name: String) throws -> [String: Any] {
        let out = try Balancing.cli(endpoint, ["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name])
        return (out["AutoScalingGroups"] as? [[String: Any]])?.first ?? [:]
    }

    static func policy(_ endpoint: String, _ name: String) throws -> [String: Any] {
        let out = try Balancing.cli(endpoint, ["autoscaling", "describe-policies", "--policy-names", name])
        return (out["ScalingPolicies"] as? [[String: Any]])?.first ?? [:]
    }

    /// An empty group (no instances) on a launch template, in a fresh network.
    static func makeGroup(_ endpoint: String, _ name: String) throws {
        let net = try Balancing.network(endpoint)
        let template = try Balancing.launchTemplate(endpoint, name: name)
        _ = try Balancing.cli(endpoint, ["autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", name, "--min-size", "0",
                                         "--max-size", "3", "--launch-template", "LaunchTemplateId=\(template),Version=$Latest",
                                         "--vpc-zone-identifier", net.subnets.joined(separator: ",")])
    }

    /// A target tracking configuration in the AWS CLI's JSON form (PascalCase keys, dimensions as Name/Value lists).
    static func cliJSON(_ value: AttributeValue) throws -> String {
        func convert(_ value: AttributeValue, key: String?) -> Any {
            switch value {
            case .map(let m) where key == "dimensions":
                return m.keys.sorted().map { ["Name": $0, "Value": m[$0]!.text ?? ""] }
            case .map(let m):
                var out: [String: Any] = [:]
                for (k, v) in m { out[pascal(k)] = convert(v, key: k) }
                return out
            case .list(let l): return l.map { convert($0, key: nil) }
            case .bool(let b): return b
            case .int(let i): return i
            case .double(let d): return d
            default: return value.text ?? ""
            }
        }
        func pascal(_ snake: String) -> String {
            snake.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
        let data = try JSONSerialization.data(withJSONObject: convert(value, key: nil))
        return String(decoding: data, as: UTF8.self)
    }
}
