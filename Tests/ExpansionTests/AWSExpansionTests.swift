import BuiltinProviders
import Expansion
import Foundation
import Planning
import ProviderKit
import StackLoader
import StackModel
import StateStore
import XCTest

/// The AWS expansion of the shipped stacks, read as its specification: which resources a VM cluster,
/// an s3 backup target and geo routing become, and the attributes that carry the stack's values.
final class AWSExpansionTests: XCTestCase {
    // MARK: Fixtures

    static func load(_ stackFile: String) throws -> Stack {
        let path = SnapshotTests.repoRoot.appendingPathComponent(stackFile).path
        let result = StackLoader.load(files: [path], options: LoadOptions(variables: [:], environment: [:]))
        return try XCTUnwrap(result.stack, "\(stackFile) does not load: \(result.diagnostics)")
    }

    static func load(yaml: String) throws -> Stack {
        let result = StackLoader.load(sources: [(name: "inline.yaml", text: yaml)], options: LoadOptions(variables: [:], environment: [:]))
        return try XCTUnwrap(result.stack, "inline stack does not load: \(result.diagnostics)")
    }

    /// The aws resources of a stack by address.
    static func resources(_ stack: Stack) -> [String: [String: AttributeValue]] {
        var out: [String: [String: AttributeValue]] = [:]
        for r in Expander.expand(stack).resources where r.address.provider == "aws" { out[r.address.description] = r.config }
        return out
    }

    static func counts(_ stack: Stack) -> [String: Int] {
        Expander.expand(stack).resources.filter { $0.address.provider == "aws" }.reduce(into: [:]) { $0[$1.address.type, default: 0] += 1 }
    }

    func resource(_ resources: [String: [String: AttributeValue]], _ address: String, file: StaticString = #filePath,
                  line: UInt = #line) throws -> [String: AttributeValue] {
        try XCTUnwrap(resources[address], "no \(address); have \(resources.keys.sorted())", file: file, line: line)
    }

    static var awsSchema: ProviderSchema {
        get throws {
            try XCTUnwrap(BuiltinProviders.registry.descriptor("aws")).schema
        }
    }

    // MARK: Resource counts

    func testProductionExpandsToTheseResourcesPerType() throws {
        // One cluster of three nodes in three zones, two s3 backup targets, one geo region (geolocation + default),
        // three scaling policies and two alert rules; plus the stack's raw access-log bucket and log group.
        XCTAssertEqual(Self.counts(try Self.load("stacks/production.yaml")), [
            "aws.vpc": 1, "aws.internet_gateway": 1, "aws.route_table": 1, "aws.route_table_association": 3, "aws.subnet": 3,
            "aws.security_group": 2, "aws.instance": 3,
            "aws.lb": 1, "aws.lb_target_group": 1, "aws.lb_listener": 1, "aws.lb_target_group_attachment": 3,
            "aws.launch_template": 1, "aws.autoscaling_group": 1, "aws.autoscaling_policy": 5,
            "aws.cloudwatch_alarm": 5, "aws.cloudwatch_log_group": 1,
            "aws.s3_bucket": 3,
            "aws.route53_zone": 1, "aws.route53_record": 2, "aws.route53_health_check": 1,
            // The nodes' role with its backup and agent-metrics policies, and profile; the replication role and policy;
            // a KMS key per backup region.
            "aws.iam_role": 2, "aws.iam_role_policy": 3, "aws.iam_instance_profile": 1, "aws.kms_key": 2,
            // A topic per notification (oncall, team) in the cluster's region, one subscription per address and webhook.
            "aws.sns_topic": 2, "aws.sns_topic_subscription": 3,
            // audit_logging: the trail, and the account its bucket and key policies name.
            "aws.cloudtrail_trail": 1, "aws.caller_identity": 1,
        ])
    }

    func testMultiRegionExpandsToTheseResourcesPerType() throws {
        // Three clusters of three nodes, each spread over its region's a/b/c zones, scaled by target tracking
        // (cpu and memory); two s3 backup targets; three geolocation records plus the default.
        XCTAssertEqual(Self.counts(try Self.load("stacks/multi-region.yaml")), [
            "aws.vpc": 3, "aws.internet_gateway": 3, "aws.route_table": 3, "aws.route_table_association": 9, "aws.subnet": 9,
            "aws.security_group": 6, "aws.instance": 9,
            "aws.lb": 3, "aws.lb_target_group": 3, "aws.lb_listener": 3, "aws.lb_target_group_attachment": 9,
            "aws.launch_template": 3, "aws.autoscaling_group": 3, "aws.autoscaling_policy": 6,
            "aws.cloudwatch_alarm": 6,
            "aws.s3_bucket": 3,
            "aws.route53_zone": 1, "aws.route53_record": 4, "aws.route53_health_check": 3,
            // Per cluster its role with backup and agent-metrics policies (memory is tracked) and profile, plus the
            // replication role and policy; a key per region.
            "aws.iam_role": 4, "aws.iam_role_policy": 7, "aws.iam_instance_profile": 3, "aws.kms_key": 3,
            // Both notifications in each of the three regions with alarms.
            "aws.sns_topic": 6, "aws.sns_topic_subscription": 9,
            // audit_logging: the trail, and the account its bucket and key policies name.
            "aws.cloudtrail_trail": 1, "aws.caller_identity": 1,
        ])
    }

    // MARK: Network

    func testOneSubnetPerZoneUsed() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        for (zone, cidr) in [("us-east-1a", "10.0.1.0/24"), ("us-east-1b", "10.0.2.0/24"), ("us-east-1c", "10.0.3.0/24")] {
            let subnet = try resource(production, "aws.subnet.production-cluster.\(zone)")
            XCTAssertEqual(subnet["availability_zone"], .string(zone))
            XCTAssertEqual(subnet["cidr_block"], .string(cidr))
            XCTAssertEqual(subnet["vpc_id"], "${aws.vpc.production-cluster.id}")
        }
        XCTAssertEqual(try resource(production, "aws.vpc.production-cluster")["cidr_block"], "10.0.0.0/16")

        // Nodes without a zone are spread over the region's a/b/c zones.
        let multiRegion = Self.resources(try Self.load("stacks/multi-region.yaml"))
        XCTAssertEqual(try resource(multiRegion, "aws.instance.maif-eu-west-1.node-eu-2")["subnet_id"], "${aws.subnet.maif-eu-west-1.eu-west-1b.id}")
        XCTAssertEqual(try resource(multiRegion, "aws.subnet.maif-ap-southeast-1.ap-southeast-1c")["region"], "ap-southeast-1")
    }

    func testMAIFPortOnlyFromTheLoadBalancerAndAdminOnlyFromAdminCIDRs() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        let nodes = try resource(production, "aws.security_group.production-cluster.nodes")
        let ingress = try XCTUnwrap(nodes["ingress"]?.listValue).compactMap(\.mapValue)
        XCTAssertEqual(ingress.count, 3)

        let fromBalancer = ingress.filter { $0["user_id_group_pairs"]?.listValue?.first?.mapValue?["group_id"] == "${aws.security_group.production-cluster.lb.id}" }
        XCTAssertEqual(fromBalancer.map { $0["from_port"] }, [.int(8080)])
        let admin = try XCTUnwrap(ingress.first { $0["from_port"] == .int(22) })
        XCTAssertEqual(admin["ip_ranges"]?.listValue?.compactMap { $0.mapValue?["cidr_ip"] }, ["10.0.0.0/16"])
        let selfRule = try XCTUnwrap(ingress.first { $0["user_id_group_pairs"]?.listValue?.first?.mapValue?["self"] == true })
        XCTAssertEqual(selfRule["to_port"], .int(8080))
        for rule in ingress {
            XCTAssertNotEqual(rule["ip_ranges"]?.listValue?.first?.mapValue?["cidr_ip"], "0.0.0.0/0", "nothing reaches the nodes from anywhere")
        }

        let balancer = try resource(production, "aws.security_group.production-cluster.lb")
        XCTAssertEqual(balancer["ingress"]?.listValue?.first?.mapValue?["from_port"], .int(8080))
    }

    // MARK: Instances

    func testOneInstancePerNodeWithItsCloudConfigAsUserData() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        for (node, zone, volume) in [("node-1", "us-east-1a", 932), ("node-2", "us-east-1b", 932), ("node-3", "us-east-1c", 466)] {
            let instance = try resource(production, "aws.instance.production-cluster.\(node)")
            XCTAssertEqual(instance["instance_type"], "c5.4xlarge")
            XCTAssertEqual(instance["subnet_id"], .string("${aws.subnet.production-cluster.\(zone).id}"))
            XCTAssertEqual(instance["security_group_ids"], .list(["${aws.security_group.production-cluster.nodes.id}"]))
            let userData = try XCTUnwrap(instance["user_data"]?.stringValue)
            for expected in ["name: production-cluster", "id: node-1", "id: node-2", "id: node-3", "replication_factor: 3", "secondary_regions:"] {
                XCTAssertTrue(userData.contains(expected), "user data of \(node) lacks `\(expected)`:\n\(userData)")
            }
            let root = instance["block_device_mappings"]?.listValue?.first?.mapValue?["ebs"]?.mapValue
            XCTAssertEqual(root?["volume_size"], .int(Int64(volume)), "1TB is 932 GiB, 500GB is 466 GiB")
            XCTAssertEqual(root?["volume_type"], "gp3")
            XCTAssertEqual(root?["encrypted"], true)
            XCTAssertEqual(instance["tags"]?.mapValue?["maif:node"], .string(node))
        }
    }

    func testInstanceTypeComesFromTheClusterThenMultiCloudThenTheNodesResources() throws {
        let yaml = """
        stack: {name: sizing, cloud: aws, region: us-west-2}
        clusters:
          - name: sized
            nodes:
              - {id: small, role: primary, resources: {cpu: 2, memory: 4GB}}
              - {id: balanced, role: secondary, resources: {cpu: 8, memory: 32GB}}
              - {id: memory-heavy, role: cache, resources: {cpu: 4, memory: 64GB}}
        """
        let derived = Self.resources(try Self.load(yaml: yaml))
        XCTAssertEqual(derived["aws.instance.sized.small"]?["instance_type"], "c5.large")
        XCTAssertEqual(derived["aws.instance.sized.balanced"]?["instance_type"], "m5.2xlarge")
        XCTAssertEqual(derived["aws.instance.sized.memory-heavy"]?["instance_type"], "r5.2xlarge")

        let fromMultiCloud = Self.resources(try Self.load(yaml: yaml + "\nmulti_cloud:\n  deployments:\n    aws: {instance_type: m6i.xlarge}\n"))
        XCTAssertEqual(fromMultiCloud["aws.instance.sized.small"]?["instance_type"], "m6i.xlarge")
    }

    // MARK: Load balancing

    func testTargetGroupHealthCheckComesFromLoadBalancing() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        let group = try resource(production, "aws.lb_target_group.production-cluster")
        XCTAssertEqual(group["health_check_interval_seconds"], .int(30))
        XCTAssertEqual(group["health_check_path"], "/health")
        XCTAssertEqual(group["unhealthy_threshold_count"], .int(3))
        XCTAssertEqual(group["healthy_threshold_count"], .int(2))
        XCTAssertEqual(group["health_check_protocol"], "HTTPS", "security.tls: the nodes serve TLS")
        XCTAssertEqual(group["vpc_id"], "${aws.vpc.production-cluster.id}")

        let listener = try resource(production, "aws.lb_listener.production-cluster")
        XCTAssertEqual(listener["load_balancer_arn"], "${aws.lb.production-cluster.arn}")
        XCTAssertEqual(listener["default_actions"]?.listValue?.first?.mapValue?["target_group_arn"], "${aws.lb_target_group.production-cluster.arn}")
        let balancer = try resource(production, "aws.lb.production-cluster")
        XCTAssertEqual(balancer["subnets"]?.listValue?.count, 3)
        XCTAssertEqual(balancer["scheme"], "internet-facing")
    }

    func testOneAttachmentPerNodeWithItsWeight() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        for (node, weight) in [("node-1", 1.0), ("node-2", 1.0), ("node-3", 0.5)] {
            let attachment = try resource(production, "aws.lb_target_group_attachment.production-cluster.\(node)")
            XCTAssertEqual(attachment["weight"], .double(weight))
            XCTAssertEqual(attachment["target_id"], .string("${aws.instance.production-cluster.\(node).id}"))
            XCTAssertEqual(attachment["target_group_arn"], "${aws.lb_target_group.production-cluster.arn}")
            XCTAssertEqual(attachment["port"], .int(8080))
        }
    }

    // MARK: Auto scaling

    func testAutoScalingGroupKeepsTheWholeClusterWithinMinAndMaxNodes() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        let group = try resource(production, "aws.autoscaling_group.production-cluster")
        // min_nodes 3 / max_nodes 20 count the whole cluster: the three named nodes run as instances of their own.
        XCTAssertEqual(group["min_size"], .int(0))
        XCTAssertEqual(group["max_size"], .int(17))
        XCTAssertEqual(group["default_cooldown"], .int(300))
        XCTAssertEqual(group["launch_template"]?.mapValue?["launch_template_id"], "${aws.launch_template.production-cluster.id}")
        XCTAssertEqual(group["target_group_arns"], .list(["${aws.lb_target_group.production-cluster.arn}"]))
        XCTAssertEqual(group["vpc_zone_identifier"]?.listValue?.count, 3)

        let template = try resource(production, "aws.launch_template.production-cluster")
        XCTAssertEqual(template["instance_type"], "c5.4xlarge")
        XCTAssertTrue(template["user_data"]?.stringValue?.contains("name: production-cluster") ?? false)
    }

    func testWhatANetworkLoadBalancerCannotDoIsAWarningAtTheKey() throws {
        let expansion = Expander.expand(try Self.load("stacks/production.yaml"))
        let warnings = expansion.diagnostics.filter { $0.code.hasPrefix("aws-lb-") }
        XCTAssertEqual(warnings.map(\.code), ["aws-lb-weights-ignored", "aws-lb-strategy-unsupported"])
        XCTAssertEqual(warnings.map { $0.location?.line }, [78, 66], "load_balancing.weights.node-3, load_balancing.strategy")
        XCTAssertTrue(warnings[0].message.contains("node-3"), warnings[0].message)
        XCTAssertTrue(warnings[1].message.contains("adaptive"), warnings[1].message)

        let plain = Expander.expand(try Self.load(yaml: """
            stack: {name: s, cloud: aws, region: us-east-1}
            clusters:
              - name: c
                nodes: [{id: n1, role: primary}]
            load_balancing: {strategy: round_robin}
            """))
        XCTAssertEqual(plain.diagnostics.filter { $0.code.hasPrefix("aws-lb-") }, [], "round robin and even weights are what an NLB does")
    }

    func testOneScalingPolicyPerPolicyWithItsCooldownAndAlarm() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        for (name, adjustment, cooldown, comparison, threshold, periods) in [
            ("cpu_scaling", 2, 300, "GreaterThanThreshold", 80.0, 3), ("memory_scaling", 1, 300, "GreaterThanThreshold", 85.0, 3),
            ("low_usage_scaling", -1, 600, "LessThanThreshold", 30.0, 10),
        ] {
            let policy = try resource(production, "aws.autoscaling_policy.production-cluster.\(name)")
            XCTAssertEqual(policy["policy_type"], "SimpleScaling")
            XCTAssertEqual(policy["scaling_adjustment"], .int(Int64(adjustment)))
            XCTAssertEqual(policy["cooldown"], .int(Int64(cooldown)))
            XCTAssertEqual(policy["auto_scaling_group_name"], "${aws.autoscaling_group.production-cluster.auto_scaling_group_name}")

            let alarm = try resource(production, "aws.cloudwatch_alarm.production-cluster.scaling.\(name)")
            XCTAssertEqual(alarm["comparison_operator"], .string(comparison))
            XCTAssertEqual(alarm["threshold"], .double(threshold))
            XCTAssertEqual(alarm["evaluation_periods"], .int(Int64(periods)))
            XCTAssertEqual(alarm["alarm_actions"], .list([.string("${aws.autoscaling_policy.production-cluster.\(name).arn}")]))
        }
        // The utilization targets track beside the explicit policies (Auto Scaling follows whichever asks for more).
        for (name, target) in [("target_cpu_utilization", 70.0), ("target_memory_utilization", 80.0)] {
            let tracking = try resource(production, "aws.autoscaling_policy.production-cluster.\(name)")
            XCTAssertEqual(tracking["policy_type"], "TargetTrackingScaling")
            XCTAssertEqual(tracking["target_tracking_configuration"]?.mapValue?["target_value"], .double(target))
        }
    }

    func testWithoutPoliciesTheUtilizationTargetsTrackTheClusterAverage() throws {
        let multiRegion = Self.resources(try Self.load("stacks/multi-region.yaml"))
        let cpu = try resource(multiRegion, "aws.autoscaling_policy.maif-us-east-1.target_cpu_utilization")
        XCTAssertEqual(cpu["policy_type"], "TargetTrackingScaling")
        let tracking = try XCTUnwrap(cpu["target_tracking_configuration"]?.mapValue)
        XCTAssertEqual(tracking["target_value"], .double(70))
        let queries = try XCTUnwrap(tracking["customized_metric_specification"]?.mapValue?["metrics"]?.listValue).compactMap(\.mapValue)
        XCTAssertEqual(queries.last?["expression"], "AVG(METRICS())")
        XCTAssertEqual(queries.count, 5, "three named instances, the group, the expression")
        let memory = try resource(multiRegion, "aws.autoscaling_policy.maif-us-east-1.target_memory_utilization")
        XCTAssertEqual(memory["target_tracking_configuration"]?.mapValue?["target_value"], .double(80))
    }

    /// The agent's `maif-agent.json`, as a node's cloud-config writes it.
    static func agentConfig(_ userData: String) throws -> [String: Any] {
        let lines = userData.components(separatedBy: "\n")
        let path = try XCTUnwrap(lines.firstIndex(of: "  - path: /opt/aws/amazon-cloudwatch-agent/etc/maif-agent.json"), "no agent configuration in \(userData)")
        let content = try XCTUnwrap(lines[path...].firstIndex(of: "    content: |"))
        let text = lines[(content + 1)...].prefix { $0.hasPrefix("      ") }.map { $0.dropFirst(6) }.joined(separator: "\n")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// Every CWAgent metric an alarm or a scaling policy queries is a dimension set the agent rolls up to: the named
    /// instances by InstanceId, the group by AutoScalingGroupName; and the agent may read the group name it appends.
    func testTheCloudWatchAgentPublishesWhatTheAlarmsAndScalingPoliciesQuery() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        for address in ["aws.launch_template.production-cluster", "aws.instance.production-cluster.node-1"] {
            let metrics = try XCTUnwrap(Self.agentConfig(try XCTUnwrap(resource(production, address)["user_data"]?.stringValue))["metrics"] as? [String: Any])
            XCTAssertEqual(metrics["namespace"] as? String, "CWAgent")
            XCTAssertEqual(metrics["append_dimensions"] as? [String: String], ["InstanceId": "${aws:InstanceId}", "AutoScalingGroupName": "${aws:AutoScalingGroupName}"], address)
            XCTAssertEqual(metrics["aggregation_dimensions"] as? [[String]], [["InstanceId"], ["AutoScalingGroupName"]], address)
        }
        var queried: [String: Set<String>] = [:]
        for (address, config) in production {
            let queries = config["metrics"]?.listValue
                ?? config["target_tracking_configuration"]?.mapValue?["customized_metric_specification"]?.mapValue?["metrics"]?.listValue ?? []
            for query in queries.compactMap(\.mapValue) {
                guard let metric = query["metric_stat"]?.mapValue?["metric"]?.mapValue, metric["namespace"] == "CWAgent" else { continue }
                let dimensions = try XCTUnwrap(metric["dimensions"]?.mapValue)
                switch Array(dimensions.keys) {
                case ["InstanceId"]:
                    XCTAssertTrue(dimensions["InstanceId"]?.stringValue?.hasPrefix("${aws.instance.production-cluster.") == true, "\(address): \(dimensions)")
                case ["AutoScalingGroupName"]:
                    XCTAssertEqual(dimensions["AutoScalingGroupName"], "${aws.autoscaling_group.production-cluster.auto_scaling_group_name}", address)
                default:
                    XCTFail("\(address) queries \(dimensions.keys.sorted()), which the agent does not publish")
                }
                queried[address, default: []].insert(dimensions.keys.sorted().joined())
            }
        }
        // The memory scaling policy's alarm and the memory target, each over the three named nodes and the group.
        XCTAssertEqual(queried, ["aws.cloudwatch_alarm.production-cluster.scaling.memory_scaling": ["InstanceId", "AutoScalingGroupName"],
                                 "aws.autoscaling_policy.production-cluster.target_memory_utilization": ["InstanceId", "AutoScalingGroupName"]])

        let policy = try XCTUnwrap(resource(production, "aws.iam_role_policy.production-cluster.metrics")["policy"]?.stringValue)
        let statements = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(policy.utf8)) as? [String: Any])?["Statement"] as? [[String: Any]])
        let bySid = Dictionary(uniqueKeysWithValues: statements.map { ($0["Sid"] as? String ?? "", $0) })
        XCTAssertEqual(Set(bySid.keys), ["PublishAgentMetrics", "ReadGroupNameTag"])
        XCTAssertEqual(bySid["PublishAgentMetrics"]?["Action"] as? [String], ["cloudwatch:PutMetricData"])
        XCTAssertEqual((bySid["PublishAgentMetrics"]?["Condition"] as? [String: [String: String]])?["StringEquals"], ["cloudwatch:namespace": "CWAgent"])
        // Without it the agent cannot resolve ${aws:AutoScalingGroupName}; DescribeTags takes no resource but "*".
        XCTAssertEqual(bySid["ReadGroupNameTag"]?["Action"] as? [String], ["ec2:DescribeTags"])
        XCTAssertEqual(bySid["ReadGroupNameTag"]?["Resource"] as? [String], ["*"])
        XCTAssertNil(bySid["ReadGroupNameTag"]?["Condition"])
    }

    // MARK: Alarms

    func testOneAlarmPerAlertRule() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        let alertAlarms = production.keys.filter { $0.hasPrefix("aws.cloudwatch_alarm.") && !$0.contains(".scaling.") }.sorted()
        XCTAssertEqual(alertAlarms, ["aws.cloudwatch_alarm.production-cluster.high_cpu_usage", "aws.cloudwatch_alarm.production-cluster.node_down"])

        let cpu = try resource(production, "aws.cloudwatch_alarm.production-cluster.high_cpu_usage")
        XCTAssertEqual(cpu["comparison_operator"], "GreaterThanThreshold")
        XCTAssertEqual(cpu["threshold"], .double(90))
        XCTAssertEqual(cpu["evaluation_periods"], .int(5), "5m in 1-minute periods")
        XCTAssertEqual(cpu["tags"]?.mapValue?["maif:severity"], "warning")
        let queries = try XCTUnwrap(cpu["metrics"]?.listValue).compactMap(\.mapValue)
        let metric = queries.first?["metric_stat"]?.mapValue?["metric"]?.mapValue
        XCTAssertEqual(metric?["namespace"], "AWS/EC2")
        XCTAssertEqual(metric?["metric_name"], "CPUUtilization")
        XCTAssertEqual(metric?["dimensions"], .map(["InstanceId": "${aws.instance.production-cluster.node-1.id}"]))
        XCTAssertEqual(queries.last?["expression"], "MAX(METRICS())")
        XCTAssertEqual(queries.last?["return_data"], true)

        let down = try resource(production, "aws.cloudwatch_alarm.production-cluster.node_down")
        XCTAssertEqual(down["metric_name"], "UnHealthyHostCount")
        XCTAssertEqual(down["comparison_operator"], "GreaterThanOrEqualToThreshold")
        XCTAssertEqual(down["evaluation_periods"], .int(1))
        XCTAssertEqual(down["dimensions"]?.mapValue?["TargetGroup"], "${aws.lb_target_group.production-cluster.arn_suffix}")
    }

    func testAnAlertRuleCloudWatchCannotWatchIsAWarningNotAnAlarm() throws {
        let stack = try Self.load(yaml: """
        stack: {name: alerts, cloud: aws, region: us-east-1}
        clusters:
          - name: c
            nodes: [{id: n1, role: primary}]
        monitoring:
          alert_rules:
            - {name: degraded, condition: "cluster_health == 'degraded'", duration: 1m, severity: warning}
            - {name: lagging, condition: replication_lag > 30, duration: 2m, severity: critical}
        """)
        let expansion = Expander.expand(stack)
        XCTAssertEqual(expansion.diagnostics.map(\.code), ["aws-alert-unmapped"])
        XCTAssertEqual(expansion.diagnostics.first?.severity, .warning)
        let lagging = try XCTUnwrap(expansion.resources.first { $0.address.description == "aws.cloudwatch_alarm.c.lagging" }?.config)
        XCTAssertEqual(lagging["namespace"], "MAIF", "MAIF publishes its own metrics per cluster")
        XCTAssertEqual(lagging["dimensions"], .map(["Cluster": "c"]))
        XCTAssertEqual(lagging["evaluation_periods"], .int(2))
    }

    // MARK: Backups

    func testBucketPerS3BackupTargetVersionedEncryptedWithRetention() throws {
        let production = Self.resources(try Self.load("stacks/production.yaml"))
        for (name, region) in [("maif-backups-primary", "us-east-1"), ("maif-backups-secondary", "eu-west-1")] {
            let bucket = try resource(production, "aws.s3_bucket.\(name)")
            XCTAssertEqual(bucket["bucket"], .string(name))
            XCTAssertEqual(bucket["region"], .string(region))
            XCTAssertEqual(bucket["versioning"], true)
            XCTAssertEqual(bucket["server_side_encryption"]?.mapValue?["sse_algorithm"], "aws:kms")
            let rule = try XCTUnwrap(bucket["lifecycle_rules"]?.listValue?.first?.mapValue)
            XCTAssertEqual(rule["expiration"], .map(["days": 30]), "high_availability.retention_period: 30d")
            XCTAssertEqual(rule["status"], "Enabled")
            XCTAssertEqual(bucket["public_access_block"]?.mapValue?["block_public_acls"], true)
        }
        XCTAssertNil(production["aws.s3_bucket.maif-backups-tertiary"], "the gcs target is not AWS's")
    }

    func testAnUnencryptedTargetGetsNoEncryptionConfiguration() throws {
        let stack = try Self.load(yaml: """
        stack: {name: plain, cloud: aws, region: us-east-1}
        clusters: [{name: c, nodes: [{id: n1, role: primary}]}]
        disaster_recovery:
          backup_targets: [{type: s3, bucket: plain-backups, encryption: false}]
        """)
        let bucket = try resource(Self.resources(stack), "aws.s3_bucket.plain-backups")
        XCTAssertNil(bucket["server_side_encryption"])
        XCTAssertEqual(bucket["region"], "us-east-1", "the stack's region when the target has none")
    }

    // MARK: Geo routing

    func testGeolocationRecordPerRegionWhenComplianceAware() throws {
        let multiRegion = Self.resources(try Self.load("stacks/multi-region.yaml"))
        XCTAssertEqual(try resource(multiRegion, "aws.route53_zone.multi-region")["name"], "multi-region.maif.internal")
        for (region, continent) in [("us-east-1", "NA"), ("eu-west-1", "EU"), ("ap-southeast-1", "AS")] {
            let record = try resource(multiRegion, "aws.route53_record.multi-region.\(region)")
            XCTAssertEqual(record["set_identifier"], .string(region))
            XCTAssertEqual(record["geo_location"], .map(["continent_code": .string(continent)]))
            XCTAssertNil(record["region"])
            XCTAssertEqual(record["hosted_zone_id"], "${aws.route53_zone.multi-region.id}")
            XCTAssertEqual(record["alias_target"]?.mapValue?["dns_name"], .string("${aws.lb.maif-\(region).dns_name}"))
            XCTAssertEqual(record["health_check_id"], .string("${aws.route53_health_check.multi-region.\(region).id}"))
            let check = try resource(multiRegion, "aws.route53_health_check.multi-region.\(region)")
            XCTAssertEqual(check["resource_path"], "/health")
            XCTAssertEqual(check["request_interval"], .int(30))
        }
        // Clients outside the three continents go to the region with the most capacity.
        let fallback = try resource(multiRegion, "aws.route53_record.multi-region.default")
        XCTAssertEqual(fallback["geo_location"], .map(["country_code": "*"]))
        XCTAssertEqual(fallback["alias_target"]?.mapValue?["dns_name"], "${aws.lb.maif-us-east-1.dns_name}")

        let production = Self.resources(try Self.load("stacks/production.yaml"))
        XCTAssertEqual(try resource(production, "aws.route53_record.production.us-east-1")["geo_location"], .map(["continent_code": "NA"]))
        XCTAssertEqual(try resource(production, "aws.route53_record.production.us-east-1")["alias_target"]?.mapValue?["dns_name"],
                       "${aws.lb.production-cluster.dns_name}")
    }

    func testLatencyRecordPerRegionByDefault() throws {
        var stack = try Self.load("stacks/multi-region.yaml")
        stack.geoRouting?.complianceAware = false
        let resources = Self.resources(stack)
        for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
            let record = try resource(resources, "aws.route53_record.multi-region.\(region)")
            XCTAssertEqual(record["region"], .string(region))
            XCTAssertEqual(record["set_identifier"], .string(region))
            XCTAssertNil(record["geo_location"])
        }
        XCTAssertNil(resources["aws.route53_record.multi-region.default"])
    }

    func testLeastLoadedRegionSharesTheAnswersByCapacity() throws {
        var stack = try Self.load("stacks/multi-region.yaml")
        stack.geoRouting?.complianceAware = false
        stack.geoRouting?.primary = .leastLoadedRegion
        let capacities = Dictionary(uniqueKeysWithValues: (stack.geoRouting?.regions ?? []).map { ($0.name, $0.capacity ?? 0) })
        let largest = try XCTUnwrap(capacities.values.max())
        let expansion = Expander.expand(stack)
        let resources = Dictionary(uniqueKeysWithValues: expansion.resources.map { ($0.address.description, $0.config) })
        for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
            let record = try resource(resources, "aws.route53_record.multi-region.\(region)")
            let expected = Int64((255 * Double(capacities[region]!) / Double(largest)).rounded())
            XCTAssertEqual(record["weight"], .int(expected), region)
            XCTAssertNil(record["region"]); XCTAssertNil(record["geo_location"])
            XCTAssertNotNil(record["health_check_id"], "an unhealthy region drops out of the answers")
        }
        let warning = try XCTUnwrap(expansion.diagnostics.first { $0.code == "aws-geo-coordinates-unused" })
        XCTAssertTrue(warning.message.contains("weight (by capacity)"), warning.message)
        XCTAssertEqual(warning.location?.line, 59, "the first region's location")
    }

    func testNoRoute53WithoutGeoRouting() throws {
        var stack = try Self.load("stacks/production.yaml")
        stack.geoRouting = nil
        XCTAssertTrue(Self.resources(stack).keys.allSatisfy { !$0.hasPrefix("aws.route53") })
    }

    // MARK: Cross-cutting

    func testEveryTaggableResourceCarriesItsStackAndAddress() throws {
        let schema = try Self.awsSchema
        // AWS has no tags for these; their parents carry them.
        let untaggable: Set = ["aws.route_table_association", "aws.lb_target_group_attachment", "aws.autoscaling_policy", "aws.route53_record",
                             "aws.iam_role_policy", "aws.sns_topic_subscription",
                             // nothing is created: it only reads the account
                             "aws.caller_identity"]
        for file in ["stacks/production.yaml", "stacks/multi-region.yaml"] {
            let stack = try Self.load(file)
            let raw = Set(stack.resources.map { "\($0.type).\($0.name)" })
            for r in Expander.expand(stack).resources where r.address.provider == "aws" && !raw.contains(r.address.description) {
                let type = try XCTUnwrap(schema.resources[r.address.type], "\(r.address.type) is not declared")
                if untaggable.contains(r.address.type) {
                    XCTAssertNil(type.attributes["tags"], "\(r.address.type) has tags after all")
                    continue
                }
                XCTAssertNotNil(type.attributes["tags"], "\(r.address.type) declares no tags")
                let tags = try OwnerMarks.marked(r, stack: stack.meta.name)["tags"]?.mapValue
                XCTAssertEqual(tags?["maif:stack"], .string(stack.meta.name), "\(r.address)")
                XCTAssertEqual(tags?["maif:address"], .string(r.address.description), "\(r.address)")
            }
        }
    }

    func testEveryAWSTypeOfTheIssueIsDeclaredWithComputedForceNewAndSensitiveAttributes() throws {
        let schema = try Self.awsSchema
        for type in ["vpc", "subnet", "security_group", "instance", "lb", "lb_target_group", "lb_listener", "lb_target_group_attachment",
                     "launch_template", "autoscaling_group", "autoscaling_policy", "s3_bucket", "route53_zone", "route53_record",
                     "route53_health_check", "cloudwatch_alarm"] {
            XCTAssertNotNil(schema.resources["aws.\(type)"], "aws.\(type)")
        }
        func attribute(_ type: String, _ name: String) throws -> AttributeSchema {
            try XCTUnwrap(schema.resources["aws.\(type)"]?.attributes[name], "aws.\(type).\(name)")
        }
        for (type, name) in [("vpc", "cidr_block"), ("subnet", "cidr_block"), ("subnet", "availability_zone"), ("instance", "image_id"),
                             ("instance", "subnet_id"), ("s3_bucket", "bucket"), ("route53_zone", "name"), ("lb", "name")] {
            XCTAssertTrue(try attribute(type, name).forceNew, "aws.\(type).\(name) is force-new")
        }
        for (type, name) in [("vpc", "id"), ("instance", "private_ip_address"), ("instance", "arn"), ("lb", "dns_name"), ("lb", "arn"),
                             ("lb_target_group", "arn"), ("s3_bucket", "arn"), ("route53_zone", "name_servers")] {
            XCTAssertTrue(try attribute(type, name).computed, "aws.\(type).\(name) is computed")
        }
        XCTAssertTrue(try attribute("instance", "password_data").sensitive)
        XCTAssertFalse(try attribute("instance", "instance_type").forceNew, "resized by stop, modify, start")
    }

    func testExpansionFitsTheSchemaAndPlansOnEmptyStateWithoutErrors() async throws {
        for file in ["stacks/production.yaml", "stacks/multi-region.yaml"] {
            let stack = try Self.load(file)
            let expansion = Expander.expand(stack)
            XCTAssertEqual(expansion.diagnostics.filter { $0.severity == .error }.map(\.description), [], file)
            let plan = try await SnapshotTests.plan(stackFile: file)
            XCTAssertEqual(plan.changes.filter { $0.action != .create }.map(\.address.description), [], "everything is created on empty state")
            XCTAssertEqual(plan.changes.count, expansion.resources.count)
        }
    }

    func testExpansionIsDeterministic() throws {
        let stack = try Self.load("stacks/multi-region.yaml")
        func text() -> String {
            let resources = Expander.expand(stack).resources
            return resources.map { "\($0.address) \(AttributeValue.map($0.config).canonicalJSON(indent: nil))" }.joined(separator: "\n")
        }
        XCTAssertEqual(text(), text())
    }
}
