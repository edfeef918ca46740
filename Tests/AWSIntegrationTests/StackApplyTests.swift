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
                                                    "AWS_SECRET_ACCESS_KEY": "testing", "HOME": work],
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
                == ["production-cluster-cpu_scaling", "production-cluster-memory_scaling", "production-cluster-low_usage_scaling"])

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

        // Converged: nothing to do.
        let noop = try run.maifctl("plan", "production", ["--detailed-exitcode"])
        #expect(noop.status == 0, "\(noop.all.split(separator: "\n").filter { $0.contains("#") || $0.contains("~") || $0.contains("->") }.joined(separator: "\n"))")
        print("production.yaml → moto: no-op plan \(String(format: "%.1f", noop.seconds)) s")

        // Drift made with the AWS CLI: versioning suspended, an extra ingress rule. Plan shows both; apply repairs them.
        _ = try run.aws(["s3api", "put-bucket-versioning", "--bucket", "maif-backups-primary", "--versioning-configuration", "Status=Suspended"])
        let sgs = try run.aws(["ec2", "describe-security-groups", "--filters", "Name=tag:maif:address,Values=aws.security_group.production-cluster.nodes"])
        let nodesGroup = try #require((sgs["SecurityGroups"] as? [[String: Any]])?.first?["GroupId"] as? String)
        _ = try run.aws(["ec2", "authorize-security-group-ingress", "--group-id", nodesGroup, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
        let drift = try run.maifctl("plan", "production", ["--detailed-exitcode"])
        #expect(drift.status == 2, "\(drift)")
        #expect(drift.all.contains("aws.s3_bucket.maif-backups-primary") && drift.all.contains("aws.security_group.production-cluster.nodes"), "\(drift)")
        let repair = try run.maifctl("apply", "production", ["--auto-approve"])
        #expect(repair.status == 0, "\(repair)")
        #expect(try run.aws(["s3api", "get-bucket-versioning", "--bucket", "maif-backups-primary"])["Status"] as? String == "Enabled")
        let rules = try run.aws(["ec2", "describe-security-groups", "--group-ids", nodesGroup])
        let open22 = ((rules["SecurityGroups"] as? [[String: Any]])?.first?["IpPermissions"] as? [[String: Any]] ?? []).contains {
            $0["FromPort"] as? Int == 22 && (($0["IpRanges"] as? [[String: Any]]) ?? []).contains { $0["CidrIp"] as? String == "0.0.0.0/0" }
        }
        #expect(!open22, "the out-of-band ingress rule was removed")
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
