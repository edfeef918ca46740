/// The shipped stacks applied to moto by the built `maifctl`, as a user would run it (`AWS_ENDPOINT_URL` pointing at
/// moto, keys in the environment the stack names), then checked with the AWS CLI: what AWS would show a reviewer.

import Foundation
import TestSupport
import Testing

/// `maifctl` run as a process against moto, in a temporary working directory with its own state.
struct StackRun {
    let endpoint: String
    let work: String
    let repository = Moto.repository

    init() throws {
        endpoint = try Moto.endpoint()
        try Moto.run(["curl", "-fsS", "-X", "POST", "\(endpoint)/moto-api/reset"])
        work = FileManager.default.temporaryDirectory.appendingPathComponent("maif-aws-stack-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    /// `maifctl VERB stacks/STACK.yaml (or the absolute path STACK) --target aws --state WORK/state EXTRA…`, pointed at moto
    /// with keys in the environment the stack names, and no profile of this machine's.
    func maifctl(_ verb: String, _ stack: String, _ extra: [String] = []) throws -> ProcessOutput {
        let file = stack.hasPrefix("/") ? stack : "\(repository)/stacks/\(stack).yaml"
        return try RunningProcess.run(try MaifctlBinary.locate(),
                                      [verb, file, "--target", "aws", "--state", work + "/state", "--no-color"] + extra,
                                      environment: ["AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                                                    "AWS_SECRET_ACCESS_KEY": "testing", "HOME": work,
                                                    // The stacks' on-call webhook, by reference; on loopback (moto posts only on publish).
                                                    "MAIF_ONCALL_WEBHOOK": StackRun.webhook],
                                      in: work, timeout: 600)
    }

    /// The AWS CLI against moto in `region`, its JSON output parsed.
    func aws(_ arguments: [String], region: String = "us-east-1") throws -> [String: Any] {
        let out = try Moto.run(["aws", "--endpoint-url", endpoint, "--region", region, "--output", "json"] + arguments,
                               environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_PAGER": ""])
        return out.isEmpty ? [:] : try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
    }

    /// Instances that are not terminated, with the stack's tag.
    func instances(stack: String, region: String = "us-east-1") throws -> [[String: Any]] {
        let out = try aws(["ec2", "describe-instances", "--filters", "Name=tag:maif:stack,Values=\(stack)",
                           "Name=instance-state-name,Values=pending,running,stopping,stopped"], region: region)
        return (out["Reservations"] as? [[String: Any]] ?? []).flatMap { $0["Instances"] as? [[String: Any]] ?? [] }
    }

    func removeWork() { try? FileManager.default.removeItem(atPath: work) }

    static let webhook = "https://127.0.0.1:9/maif-oncall"
}

extension AWSIntegration {
    @Test func productionStackAppliesToMotoConvergesRepairsDriftAndDestroysClean() throws {
        let run = try StackRun()
        defer { run.removeWork() }

        let apply = try run.maifctl("apply", "production", ["--auto-approve"])
        try #require(apply.status == 0, "\(apply)")
        let calls = apply.all.split(separator: "\n").first { $0.hasPrefix("Provider calls") } ?? "?"
        print("production.yaml → moto: apply \(String(format: "%.1f", apply.seconds)) s; \(calls)")

        // Instances: one per node, with the cluster's type, in the stack's subnets, tagged with their owner.
        let instances = try run.instances(stack: "production")
        #expect(instances.count == 3)
        let byNode = Dictionary(instances.map { (Moto.tagList($0["Tags"])["maif:node"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(byNode.keys) == ["node-1", "node-2", "node-3"])
        for (node, instance) in byNode {
            #expect(instance["InstanceType"] as? String == "c5.4xlarge")
            #expect((instance["State"] as? [String: Any])?["Name"] as? String == "running")
            #expect(Moto.tagList(instance["Tags"])["maif:address"] == "aws.instance.production-cluster.\(node)")
        }

        // Backup buckets: versioning and default encryption on.
        for bucket in ["maif-backups-primary", "maif-backups-secondary"] {
            #expect(try run.aws(["s3api", "get-bucket-versioning", "--bucket", bucket])["Status"] as? String == "Enabled")
            let sse = try run.aws(["s3api", "get-bucket-encryption", "--bucket", bucket])
            let rule = ((sse["ServerSideEncryptionConfiguration"] as? [String: Any])?["Rules"] as? [[String: Any]])?.first
            #expect((rule?["ApplyServerSideEncryptionByDefault"] as? [String: Any])?["SSEAlgorithm"] as? String == "aws:kms")
        }

        // The load balancer, its target group's health check and the three registered nodes.
        let lbs = try run.aws(["elbv2", "describe-load-balancers", "--names", "production-cluster"])["LoadBalancers"] as? [[String: Any]]
        #expect(lbs?.count == 1)
        let groups = try run.aws(["elbv2", "describe-target-groups", "--names", "production-cluster"])["TargetGroups"] as? [[String: Any]] ?? []
        let group = try #require(groups.first)
        #expect(group["HealthCheckPath"] as? String == "/health")
        #expect(group["HealthCheckProtocol"] as? String == "HTTPS")
        #expect(group["HealthCheckIntervalSeconds"] as? Int == 30)
        let health = try run.aws(["elbv2", "describe-target-health", "--target-group-arn", group["TargetGroupArn"] as? String ?? ""])
        let targets = Set((health["TargetHealthDescriptions"] as? [[String: Any]] ?? []).compactMap { ($0["Target"] as? [String: Any])?["Id"] as? String })
        #expect(targets == Set(instances.compactMap { $0["InstanceId"] as? String }))

        // The auto scaling group and its policies.
        let asgs = try run.aws(["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "production-cluster"])
        #expect((asgs["AutoScalingGroups"] as? [[String: Any]])?.count == 1)
        let policies = try run.aws(["autoscaling", "describe-policies", "--auto-scaling-group-name", "production-cluster"])
        #expect(Set((policies["ScalingPolicies"] as? [[String: Any]] ?? []).compactMap { $0["PolicyName"] as? String })
                == ["production-cluster-cpu_scaling", "production-cluster-memory_scaling", "production-cluster-low_usage_scaling",
                    // the utilization targets, tracked beside the explicit policies
                    "production-cluster-target_cpu_utilization", "production-cluster-target_memory_utilization"])

        // Route 53: the zone and its geolocation records (a continent and the default).
        let zones = try run.aws(["route53", "list-hosted-zones"])["HostedZones"] as? [[String: Any]] ?? []
        let zone = try #require(zones.first { ($0["Name"] as? String)?.hasPrefix("production.maif.internal") == true || zones.count == 1 })
        let records = try run.aws(["route53", "list-resource-record-sets", "--hosted-zone-id", zone["Id"] as? String ?? ""])["ResourceRecordSets"] as? [[String: Any]] ?? []
        let routed = records.filter { $0["SetIdentifier"] != nil }
        #expect(routed.count == 2, "records: \(records)")
        #expect(routed.contains { ($0["GeoLocation"] as? [String: Any])?["ContinentCode"] as? String == "NA" })
        #expect(routed.contains { ($0["GeoLocation"] as? [String: Any])?["CountryCode"] as? String == "*" })

        // CloudWatch: one alarm per alert rule of the stack (and the scaling alarms).
        let alarms = Set((try run.aws(["cloudwatch", "describe-alarms"])["MetricAlarms"] as? [[String: Any]] ?? []).compactMap { $0["AlarmName"] as? String })
        #expect(alarms.isSuperset(of: ["production-cluster-high_cpu_usage", "production-cluster-node_down"]), "alarms: \(alarms)")

        try checkProductionRunsMAIF(run, byNode)

        // Converged: nothing to do.
        let noop = try run.maifctl("plan", "production", ["--detailed-exitcode"])
        #expect(noop.status == 0, "\(noop.all.split(separator: "\n").filter { $0.contains("#") || $0.contains("~") || $0.contains("->") }.joined(separator: "\n"))")
        print("production.yaml → moto: no-op plan \(String(format: "%.1f", noop.seconds)) s")

        // Drift made with the AWS CLI: versioning suspended, an extra ingress rule. Plan shows both; apply repairs them.
        _ = try run.aws(["s3api", "put-bucket-versioning", "--bucket", "maif-backups-primary", "--versioning-configuration", "Status=Suspended"])
        let sgs = try run.aws(["ec2", "describe-security-groups", "--filters", "Name=tag:maif:address,Values=aws.security_group.production-cluster.nodes"])
        let nodesGroup = try #require((sgs["SecurityGroups"] as? [[String: Any]])?.first?["GroupId"] as? String)
        _ = try run.aws(["ec2", "authorize-security-group-ingress", "--group-id", nodesGroup, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
        _ = try run.aws(["cloudtrail", "stop-logging", "--name", "maif-production-audit"])
        let drift = try run.maifctl("plan", "production", ["--detailed-exitcode"])
        #expect(drift.status == 2, "\(drift)")
        #expect(drift.all.contains("aws.s3_bucket.maif-backups-primary") && drift.all.contains("aws.security_group.production-cluster.nodes"), "\(drift)")
        #expect(drift.all.contains("aws.cloudtrail_trail.production"), "the stopped trail shows as drift: \(drift)")
        let repair = try run.maifctl("apply", "production", ["--auto-approve"])
        #expect(repair.status == 0, "\(repair)")
        #expect(try run.aws(["s3api", "get-bucket-versioning", "--bucket", "maif-backups-primary"])["Status"] as? String == "Enabled")
        let rules = try run.aws(["ec2", "describe-security-groups", "--group-ids", nodesGroup])
        let open22 = ((rules["SecurityGroups"] as? [[String: Any]])?.first?["IpPermissions"] as? [[String: Any]] ?? []).contains {
            $0["FromPort"] as? Int == 22 && (($0["IpRanges"] as? [[String: Any]]) ?? []).contains { $0["CidrIp"] as? String == "0.0.0.0/0" }
        }
        #expect(!open22, "the out-of-band ingress rule was removed")
        #expect(try run.aws(["cloudtrail", "get-trail-status", "--name", "maif-production-audit"])["IsLogging"] as? Bool == true, "logging again")
        #expect(try run.maifctl("plan", "production", ["--detailed-exitcode"]).status == 0)

        // The access-log bucket is protected by `prevent_destroy`: destroy refuses, and deletes nothing.
        let refused = try run.maifctl("destroy", "production", ["--auto-approve"])
        #expect(refused.status == 1 && refused.all.contains("prevent_destroy"), "\(refused)")
        #expect(try run.instances(stack: "production").count == 3)

        // With the protection lifted in the stack, destroy leaves nothing behind.
        let unprotected = run.work + "/production.yaml"
        try String(contentsOfFile: "\(run.repository)/stacks/production.yaml", encoding: .utf8)
            .replacingOccurrences(of: "prevent_destroy: true", with: "prevent_destroy: false")
            .write(toFile: unprotected, atomically: true, encoding: .utf8)
        let destroy = try run.maifctl("destroy", unprotected, ["--auto-approve"])
        try #require(destroy.status == 0, "\(destroy)")
        print("production.yaml → moto: destroy \(String(format: "%.1f", destroy.seconds)) s")
        #expect(try run.instances(stack: "production").isEmpty)
        #expect((try run.aws(["s3api", "list-buckets"])["Buckets"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["elbv2", "describe-load-balancers"])["LoadBalancers"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["elbv2", "describe-target-groups"])["TargetGroups"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["autoscaling", "describe-auto-scaling-groups"])["AutoScalingGroups"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["autoscaling", "describe-launch-configurations"])["LaunchConfigurations"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["ec2", "describe-launch-templates"])["LaunchTemplates"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["route53", "list-hosted-zones"])["HostedZones"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["route53", "list-health-checks"])["HealthChecks"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["cloudwatch", "describe-alarms"])["MetricAlarms"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["logs", "describe-log-groups"])["logGroups"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["ec2", "describe-vpcs", "--filters", "Name=tag:maif:stack,Values=production"])["Vpcs"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["ec2", "describe-security-groups", "--filters", "Name=tag:maif:stack,Values=production"])["SecurityGroups"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["ec2", "describe-internet-gateways", "--filters", "Name=tag:maif:stack,Values=production"])["InternetGateways"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["iam", "list-roles"])["Roles"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["iam", "list-instance-profiles"])["InstanceProfiles"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["sns", "list-topics"])["Topics"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["cloudtrail", "describe-trails"])["trailList"] as? [[String: Any]] ?? []).isEmpty)
        let keys = (try run.aws(["kms", "list-keys"])["Keys"] as? [[String: Any]] ?? []).compactMap { $0["KeyId"] as? String }
        var ours = 0
        for key in keys {
            // moto makes an aws/ebs default key for the encrypted volumes: only the stack's own keys are checked.
            let tags = (try run.aws(["kms", "list-resource-tags", "--key-id", key])["Tags"] as? [[String: Any]] ?? [])
            guard tags.contains(where: { $0["TagKey"] as? String == "maif:stack" && $0["TagValue"] as? String == "production" }) else { continue }
            ours += 1
            let state = (try run.aws(["kms", "describe-key", "--key-id", key])["KeyMetadata"] as? [String: Any])?["KeyState"] as? String
            #expect(state == "PendingDeletion", "key \(key) is \(state ?? "?")")
        }
        #expect(ours == 1, "the backup key of us-east-1 was made, and its deletion scheduled")
    }

    /// An instance the Auto Scaling group launches: the agent's own DescribeTags call (the instance, key
    /// aws:autoscaling:groupName) answers the group's name, the AutoScalingGroupName the memory scaling alarm queries.
    func checkScaledNodesGroupNameReachesTheAlarm(_ run: StackRun) throws {
        _ = try run.aws(["autoscaling", "set-desired-capacity", "--auto-scaling-group-name", "production-cluster", "--desired-capacity", "1"])
        defer { _ = try? run.aws(["autoscaling", "set-desired-capacity", "--auto-scaling-group-name", "production-cluster", "--desired-capacity", "0"]) }
        let group = (try run.aws(["autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "production-cluster"])["AutoScalingGroups"]
            as? [[String: Any]])?.first
        let scaled = try #require((group?["Instances"] as? [[String: Any]])?.first?["InstanceId"] as? String, "\(group ?? [:])")
        let tags = try run.aws(["ec2", "describe-tags", "--filters", "Name=resource-type,Values=instance", "Name=resource-id,Values=\(scaled)",
                                "Name=key,Values=aws:autoscaling:groupName"])["Tags"] as? [[String: Any]] ?? []
        let groupName = try #require(tags.first?["Value"] as? String, "\(tags)")
        let alarm = (try run.aws(["cloudwatch", "describe-alarms", "--alarm-names", "production-cluster-scaling-memory_scaling"])["MetricAlarms"] as? [[String: Any]])?.first
        let queried = (alarm?["Metrics"] as? [[String: Any]] ?? []).compactMap { (($0["MetricStat"] as? [String: Any])?["Metric"] as? [String: Any])?["Dimensions"] as? [[String: Any]] }
            .flatMap { $0 }.filter { $0["Name"] as? String == "AutoScalingGroupName" }.compactMap { $0["Value"] as? String }
        #expect(queried == [groupName], "the memory scaling alarm queries \(queried); the scaled node's agent appends \(groupName)")
    }

    /// Issue 12's proof, read with the AWS CLI: each instance at its stack host, carrying a cloud-config that cloud-init
    /// accepts and that writes the node's own cluster.yaml and unit; an instance profile allowing exactly the backup
    /// buckets; SNS topics with the stack's subscriptions, every alert alarm pointing at them; S3 replication.
    func checkProductionRunsMAIF(_ run: StackRun, _ byNode: [String: [String: Any]]) throws {
        let hosts = ["node-1": "10.0.1.10", "node-2": "10.0.2.11", "node-3": "10.0.3.12"]
        var profiles = Set<String>()
        for (node, instance) in byNode {
            #expect(instance["PrivateIpAddress"] as? String == hosts[node], "\(node)")
            let id = instance["InstanceId"] as? String ?? ""
            let attribute = try run.aws(["ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "userData"])
            let encoded = (attribute["UserData"] as? [String: Any])?["Value"] as? String ?? ""
            let userData = String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self)
            let file = run.work + "/\(node)-user-data"
            try userData.write(toFile: file, atomically: true, encoding: .utf8)
            let schema = try RunningProcess.run("/bin/bash", ["\(run.repository)/scripts/validate-manifests.sh", "cloud-config", file], timeout: 60)
            #expect(schema.status == 0, "\(schema)")
            let root = run.work + "/\(node)-root"
            let written = try RunningProcess.run("/bin/bash", ["\(run.repository)/scripts/validate-manifests.sh", "cloud-config-write", file, root], timeout: 60)
            #expect(written.status == 0, "\(written)")
            let clusterYAML = (try? String(contentsOfFile: root + "/etc/maif/cluster.yaml", encoding: .utf8)) ?? ""
            #expect(hosts.values.allSatisfy { clusterYAML.contains("host: \($0)") }, "\(clusterYAML)")
            let unit = (try? String(contentsOfFile: root + "/etc/systemd/system/maif.service", encoding: .utf8)) ?? ""
            #expect(unit.contains("--node-id \(node) --port 8080 --config /etc/maif/cluster.yaml"), "\(unit)")
            // The CloudWatch agent publishes what the memory alarms and scaling policies watch, as they query it.
            let agentText = (try? String(contentsOfFile: root + "/opt/aws/amazon-cloudwatch-agent/etc/maif-agent.json", encoding: .utf8)) ?? ""
            let agent = (try? JSONSerialization.jsonObject(with: Data(agentText.utf8))) as? [String: Any]
            let metrics = agent?["metrics"] as? [String: Any]
            #expect(metrics?["namespace"] as? String == "CWAgent", "\(agentText)")
            #expect(((metrics?["metrics_collected"] as? [String: Any])?["mem"] as? [String: Any])?["measurement"] as? [String] == ["mem_used_percent"])
            #expect(((metrics?["metrics_collected"] as? [String: Any])?["disk"] as? [String: Any])?["measurement"] as? [String] == ["used_percent"])
            #expect(metrics?["append_dimensions"] as? [String: String] == ["InstanceId": "${aws:InstanceId}", "AutoScalingGroupName": "${aws:AutoScalingGroupName}"])
            #expect(metrics?["aggregation_dimensions"] as? [[String]] == [["InstanceId"], ["AutoScalingGroupName"]])
            #expect(userData.contains(#"amazon-cloudwatch-agent-ctl, "-a", fetch-config, "-m", ec2, "-s", "-c", "file:/opt/aws/amazon-cloudwatch-agent/etc/maif-agent.json"]"#),
                    "the agent starts with that configuration: \(userData)")
            if let arn = (instance["IamInstanceProfile"] as? [String: Any])?["Arn"] as? String { profiles.insert(arn) }
        }
        #expect(profiles.count == 1, "every node runs with the cluster's instance profile: \(profiles)")
        let profileName = String(profiles.first?.split(separator: "/").last ?? "")
        let profile = try run.aws(["iam", "get-instance-profile", "--instance-profile-name", profileName])["InstanceProfile"] as? [String: Any]
        let role = ((profile?["Roles"] as? [[String: Any]])?.first?["RoleName"] as? String) ?? ""
        let policy = try run.aws(["iam", "get-role-policy", "--role-name", role, "--policy-name", "maif-backups"])["PolicyDocument"] as? [String: Any]
        let statements = policy?["Statement"] as? [[String: Any]] ?? []
        let s3Resources = Set(statements.filter { ($0["Action"] as? [String] ?? []).contains { $0.hasPrefix("s3:") } }
            .flatMap { $0["Resource"] as? [String] ?? [] })
        #expect(s3Resources == ["arn:aws:s3:::maif-backups-primary", "arn:aws:s3:::maif-backups-secondary",
                                "arn:aws:s3:::maif-backups-primary/production/production-cluster/*",
                                "arn:aws:s3:::maif-backups-secondary/production/production-cluster/*"], "\(statements)")
        let keyResources = statements.filter { ($0["Action"] as? [String] ?? []).contains { $0.hasPrefix("kms:") } }.flatMap { $0["Resource"] as? [String] ?? [] }
        let primaryKey = ((try run.aws(["s3api", "get-bucket-encryption", "--bucket", "maif-backups-primary"])["ServerSideEncryptionConfiguration"]
            as? [String: Any])?["Rules"] as? [[String: Any]])?.first.flatMap { ($0["ApplyServerSideEncryptionByDefault"] as? [String: Any])?["KMSMasterKeyID"] as? String }
        #expect(primaryKey != nil && keyResources.contains(primaryKey!), "the policy names the primary bucket's key: \(keyResources), \(primaryKey ?? "none")")
        // The agent's two permissions: PutMetricData, into CWAgent only; DescribeTags (no resource-level scoping), by
        // which it resolves ${aws:AutoScalingGroupName} and without which it publishes nothing.
        let agentPolicy = try run.aws(["iam", "get-role-policy", "--role-name", role, "--policy-name", "maif-agent-metrics"])["PolicyDocument"] as? [String: Any]
        let agentStatements = Dictionary(uniqueKeysWithValues: (agentPolicy?["Statement"] as? [[String: Any]] ?? []).map { ($0["Sid"] as? String ?? "", $0) })
        #expect(Set(agentStatements.keys) == ["PublishAgentMetrics", "ReadGroupNameTag"], "\(agentStatements)")
        #expect(agentStatements["PublishAgentMetrics"]?["Action"] as? [String] == ["cloudwatch:PutMetricData"], "\(agentStatements)")
        #expect(((agentStatements["PublishAgentMetrics"]?["Condition"] as? [String: Any])?["StringEquals"] as? [String: String])?["cloudwatch:namespace"] == "CWAgent")
        #expect(agentStatements["ReadGroupNameTag"]?["Action"] as? [String] == ["ec2:DescribeTags"], "\(agentStatements)")
        #expect(agentStatements["ReadGroupNameTag"]?["Resource"] as? [String] == ["*"] && agentStatements["ReadGroupNameTag"]?["Condition"] == nil, "\(agentStatements)")
        try checkScaledNodesGroupNameReachesTheAlarm(run)

        try checkProductionAuditTrail(run, key: primaryKey ?? "")

        // SNS: the stack's topics and subscriptions; every alert alarm notifies its severity's topic.
        let topics = (try run.aws(["sns", "list-topics"])["Topics"] as? [[String: Any]] ?? []).compactMap { $0["TopicArn"] as? String }
        let oncall = try #require(topics.first { $0.hasSuffix(":maif-production-oncall") }, "\(topics)")
        let team = try #require(topics.first { $0.hasSuffix(":maif-production-team") }, "\(topics)")
        func endpoints(_ topic: String) throws -> Set<String> {
            Set((try run.aws(["sns", "list-subscriptions-by-topic", "--topic-arn", topic])["Subscriptions"] as? [[String: Any]] ?? [])
                .map { "\($0["Protocol"] as? String ?? ""):\($0["Endpoint"] as? String ?? "")" })
        }
        #expect(try endpoints(oncall) == ["email:oncall@example.com", "https:\(StackRun.webhook)"])
        #expect(try endpoints(team) == ["email:maif-team@example.com"])
        let alarms = try run.aws(["cloudwatch", "describe-alarms"])["MetricAlarms"] as? [[String: Any]] ?? []
        for (name, topic) in [("production-cluster-node_down", oncall), ("production-cluster-high_cpu_usage", team)] {
            let alarm = alarms.first { $0["AlarmName"] as? String == name }
            #expect(alarm?["AlarmActions"] as? [String] == [topic], "\(name): \(alarm ?? [:])")
            #expect(alarm?["OKActions"] as? [String] == [topic], "\(name)")
        }

        // Cross-region replication: primary → secondary, as the replication role, SSE-KMS objects included.
        let replication = try run.aws(["s3api", "get-bucket-replication", "--bucket", "maif-backups-primary"])["ReplicationConfiguration"] as? [String: Any]
        #expect((replication?["Role"] as? String)?.hasSuffix(":role/maif-production-replication") == true, "\(replication ?? [:])")
        let destination = ((replication?["Rules"] as? [[String: Any]])?.first?["Destination"] as? [String: Any])
        #expect(destination?["Bucket"] as? String == "arn:aws:s3:::maif-backups-secondary")
        #expect((destination?["EncryptionConfiguration"] as? [String: Any])?["ReplicaKmsKeyID"] as? String != nil)

        // maifctl output: the load balancer's DNS name and each node's address.
        let output = try RunningProcess.run(try MaifctlBinary.locate(), ["output", "--stack", "production", "--state", run.work + "/state", "--json"],
                                            in: run.work, timeout: 60)
        let outputs = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let endpoints = outputs?["endpoints"] as? [String: String] ?? [:]
        for (node, host) in hosts { #expect(endpoints["aws.instance.production-cluster.\(node)"] == "\(host):8080", "\(endpoints)") }
        #expect(!endpoints.keys.contains { $0.hasPrefix("aws.sns_topic_subscription.") }, "an e-mail address is no endpoint: \(endpoints)")
        let lbName = ((try run.aws(["elbv2", "describe-load-balancers", "--names", "production-cluster"])["LoadBalancers"] as? [[String: Any]])?.first?["DNSName"] as? String) ?? "?"
        #expect(endpoints["aws.lb_listener.production-cluster"] == "\(lbName):8080", "\(endpoints)")
    }

    /// security.audit_logging: a multi-region trail, logging, into the primary backup bucket under audit-logs/,
    /// encrypted with that bucket's key; the bucket and key policies let exactly this trail deliver.
    func checkProductionAuditTrail(_ run: StackRun, key: String) throws {
        let trails = try run.aws(["cloudtrail", "describe-trails"])["trailList"] as? [[String: Any]] ?? []
        #expect(trails.count == 1, "\(trails)")
        let trail = try #require(trails.first)
        #expect(trail["Name"] as? String == "maif-production-audit")
        #expect(trail["S3BucketName"] as? String == "maif-backups-primary")
        #expect(trail["S3KeyPrefix"] as? String == "audit-logs")
        #expect(trail["IsMultiRegionTrail"] as? Bool == true)
        #expect(trail["IncludeGlobalServiceEvents"] as? Bool == true)
        #expect(trail["LogFileValidationEnabled"] as? Bool == true)
        #expect(trail["KmsKeyId"] as? String == key, "\(trail)")
        #expect(try run.aws(["cloudtrail", "get-trail-status", "--name", "maif-production-audit"])["IsLogging"] as? Bool == true)
        let trailARN = trail["TrailARN"] as? String ?? ""
        let account = trailARN.split(separator: ":").dropFirst(4).first.map(String.init) ?? ""
        #expect(!account.isEmpty && trailARN == "arn:aws:cloudtrail:us-east-1:\(account):trail/maif-production-audit")

        let policyText = try run.aws(["s3api", "get-bucket-policy", "--bucket", "maif-backups-primary"])["Policy"] as? String ?? ""
        let statements = ((try? JSONSerialization.jsonObject(with: Data(policyText.utf8))) as? [String: Any])?["Statement"] as? [[String: Any]] ?? []
        let bySid = Dictionary(statements.map { ($0["Sid"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(bySid.keys) == ["AWSCloudTrailAclCheck", "AWSCloudTrailWrite"], "\(policyText)")
        #expect(bySid["AWSCloudTrailAclCheck"]?["Action"] as? String == "s3:GetBucketAcl")
        #expect(bySid["AWSCloudTrailWrite"]?["Action"] as? String == "s3:PutObject")
        #expect(bySid["AWSCloudTrailWrite"]?["Resource"] as? String == "arn:aws:s3:::maif-backups-primary/audit-logs/AWSLogs/\(account)/*")
        for statement in bySid.values {
            #expect((statement["Principal"] as? [String: String])?["Service"] == "cloudtrail.amazonaws.com")
            #expect(((statement["Condition"] as? [String: Any])?["StringEquals"] as? [String: String])?["aws:SourceArn"] == trailARN, "\(statement)")
        }

        let keyPolicyText = try run.aws(["kms", "get-key-policy", "--key-id", key, "--policy-name", "default"])["Policy"] as? String ?? ""
        let keyStatements = ((try? JSONSerialization.jsonObject(with: Data(keyPolicyText.utf8))) as? [String: Any])?["Statement"] as? [[String: Any]] ?? []
        let encrypts = keyStatements.first { $0["Sid"] as? String == "CloudTrailEncryptsLogs" }
        #expect(encrypts?["Action"] as? String == "kms:GenerateDataKey*", "\(keyPolicyText)")
        #expect(keyStatements.contains { ($0["Principal"] as? [String: String])?["AWS"] == "arn:aws:iam::\(account):root" }, "the account keeps administering the key")
    }

    @Test func multiRegionStackSpansThreeRegionsWithGeoRouting() throws {
        let run = try StackRun()
        defer { run.removeWork() }

        let apply = try run.maifctl("apply", "multi-region", ["--auto-approve"])
        try #require(apply.status == 0, "\(apply)")
        let calls = apply.all.split(separator: "\n").first { $0.hasPrefix("Provider calls") } ?? "?"
        print("multi-region.yaml → moto: apply \(String(format: "%.1f", apply.seconds)) s; \(calls)")

        // Each cluster is in its own region: its VPC, three instances and its load balancer are there, not elsewhere.
        for (region, prefix) in [("us-east-1", "node-us-"), ("eu-west-1", "node-eu-"), ("ap-southeast-1", "node-ap-")] {
            let instances = try run.instances(stack: "multi-region", region: region)
            #expect(instances.count == 3, "\(region)")
            #expect(instances.allSatisfy { Moto.tagList($0["Tags"])["maif:node"]?.hasPrefix(prefix) == true }, "\(region)")
            let lbs = try run.aws(["elbv2", "describe-load-balancers", "--names", "maif-\(region)"], region: region)["LoadBalancers"] as? [[String: Any]]
            #expect(lbs?.count == 1, "\(region)")
            let policies = try run.aws(["autoscaling", "describe-policies", "--auto-scaling-group-name", "maif-\(region)"], region: region)
            #expect((policies["ScalingPolicies"] as? [[String: Any]] ?? []).allSatisfy { $0["PolicyType"] as? String == "TargetTrackingScaling" })
            #expect((policies["ScalingPolicies"] as? [[String: Any]] ?? []).count == 2, "\(region)")
        }

        // Geo routing: one record per region, told apart by set identifier and continent, plus the default record.
        let zones = try run.aws(["route53", "list-hosted-zones"])["HostedZones"] as? [[String: Any]] ?? []
        let zone = try #require(zones.first)
        let records = try run.aws(["route53", "list-resource-record-sets", "--hosted-zone-id", zone["Id"] as? String ?? ""])["ResourceRecordSets"] as? [[String: Any]] ?? []
        var continents: [String: String] = [:]
        for record in records {
            guard let id = record["SetIdentifier"] as? String, let geo = record["GeoLocation"] as? [String: Any] else { continue }
            continents[id] = geo["ContinentCode"] as? String ?? geo["CountryCode"] as? String
            #expect((record["AliasTarget"] as? [String: Any])?["DNSName"] as? String != nil, "\(id) points at a load balancer")
        }
        #expect(continents == ["us-east-1": "NA", "eu-west-1": "EU", "ap-southeast-1": "AS", "default": "*"], "records: \(records)")

        #expect(try run.maifctl("plan", "multi-region", ["--detailed-exitcode"]).status == 0)

        let destroy = try run.maifctl("destroy", "multi-region", ["--auto-approve"])
        try #require(destroy.status == 0, "\(destroy)")
        for region in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
            #expect(try run.instances(stack: "multi-region", region: region).isEmpty, "\(region)")
            #expect((try run.aws(["ec2", "describe-vpcs", "--filters", "Name=tag:maif:stack,Values=multi-region"], region: region)["Vpcs"] as? [[String: Any]] ?? []).isEmpty)
            #expect((try run.aws(["elbv2", "describe-load-balancers"], region: region)["LoadBalancers"] as? [[String: Any]] ?? []).isEmpty)
        }
        #expect((try run.aws(["route53", "list-hosted-zones"])["HostedZones"] as? [[String: Any]] ?? []).isEmpty)
        #expect((try run.aws(["s3api", "list-buckets"])["Buckets"] as? [[String: Any]] ?? []).isEmpty)
    }
}
