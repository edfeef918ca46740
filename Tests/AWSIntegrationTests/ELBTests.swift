import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// ELBv2 resources in the shapes expansion produces (production.plan.json, multi-region.plan.json).
extension AWSIntegration {
    @Test func loadBalancerLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try Balancing.network(endpoint)
        let ctx = Moto.context("lb", "production-cluster")
        var config: [String: AttributeValue] = [
            "name": "production-cluster", "type": "network", "scheme": "internet-facing", "ip_address_type": "ipv4",
            "attributes": .map(["load_balancing.cross_zone.enabled": "true"]),
            "security_groups": .list([.string(net.securityGroups[0])]),
            "subnets": .list(net.subnets.map { .string($0) }),
            "region": "us-east-1", "tags": Moto.tags(ctx, ["maif:cluster": "production-cluster"]),
        ]
        let lb = try await aws.create(ctx, config)
        #expect(lb.id.contains(":loadbalancer/") && lb.attributes["arn"] == .string(lb.id))
        let suffix = String(lb.id[lb.id.range(of: ":loadbalancer/")!.upperBound...])
        #expect(lb.attributes["arn_suffix"] == .string(suffix) && suffix.hasSuffix("/production-cluster/" + suffix.split(separator: "/").last!))
        #expect(lb.attributes["dns_name"]?.stringValue?.contains("production-cluster") == true)
        #expect(lb.attributes["canonical_hosted_zone_id"]?.stringValue?.isEmpty == false)
        #expect(lb.attributes["attributes"] == config["attributes"], "only the attributes the stack sets are recorded")
        try await Balancing.expectNoChange(aws, ctx, lb, config)

        let described = try Balancing.cli(endpoint, ["elbv2", "describe-load-balancers", "--names", "production-cluster"])
        let item = (described["LoadBalancers"] as? [[String: Any]])?.first ?? [:]
        #expect(item["Type"] as? String == "network" && item["Scheme"] as? String == "internet-facing")
        #expect(item["State"] as? [String: String] == ["Code": "active"])
        #expect(Set((item["AvailabilityZones"] as? [[String: Any]] ?? []).compactMap { $0["SubnetId"] as? String }) == Set(net.subnets))
        #expect(item["SecurityGroups"] as? [String] == [net.securityGroups[0]])
        #expect(try ELBView.attributes(endpoint, lb.id)["load_balancing.cross_zone.enabled"] == "true")
        #expect(try ELBView.tags(endpoint, lb.id) == ["maif:stack": "prod", "maif:address": "aws.lb.production-cluster", "maif:cluster": "production-cluster"])

        // Drift made out of band: read reports it, update puts it back.
        _ = try Balancing.cli(endpoint, ["elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb.id,
                                         "--attributes", "Key=load_balancing.cross_zone.enabled,Value=false"])
        _ = try Balancing.cli(endpoint, ["elbv2", "remove-tags", "--resource-arns", lb.id, "--tag-keys", "maif:cluster"])
        _ = try Balancing.cli(endpoint, ["elbv2", "set-security-groups", "--load-balancer-arn", lb.id, "--security-groups", net.securityGroups[1]])
        let drifted = try #require(try await aws.read(ctx, lb))
        #expect(drifted.attributes["attributes"] == .map(["load_balancing.cross_zone.enabled": "false"]))
        #expect(drifted.attributes["security_groups"] == .list([.string(net.securityGroups[1])]))
        #expect(drifted.attributes["tags"]?.mapValue?["maif:cluster"] == nil)
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == lb)
        #expect(try ELBView.attributes(endpoint, lb.id)["load_balancing.cross_zone.enabled"] == "true")
        #expect(try ELBView.tags(endpoint, lb.id)["maif:cluster"] == "production-cluster")

        // A change of subnets is made in place (SetSubnets).
        config["subnets"] = .list(net.subnets.prefix(2).map { .string($0) })
        let moved = try await aws.update(ctx, repaired, config)
        #expect(moved.id == lb.id && moved.attributes["subnets"] == config["subnets"])
        let after = try Balancing.cli(endpoint, ["elbv2", "describe-load-balancers", "--load-balancer-arns", lb.id])
        let zones = ((after["LoadBalancers"] as? [[String: Any]])?.first?["AvailabilityZones"] as? [[String: Any]] ?? []).compactMap { $0["SubnetId"] as? String }
        #expect(Set(zones) == Set(net.subnets.prefix(2)))
        try await Balancing.expectNoChange(aws, ctx, moved, config)

        #expect(try await aws.find(ctx, config)?.id == lb.id)
        #expect(try await aws.find(Moto.context("lb", "other"), config) == nil, "a load balancer another address owns is not adopted")

        try await aws.delete(ctx, moved)
        #expect(try await aws.read(ctx, moved) == nil)
        #expect((try Balancing.cli(endpoint, ["elbv2", "describe-load-balancers"])["LoadBalancers"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, moved) // already gone: not an error
    }

    /// In eu-west-1, as multi-region.plan.json puts it: the region attribute picks where it is made.
    @Test func targetGroupLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try Balancing.network(endpoint, region: "eu-west-1")
        let ctx = Moto.context("lb_target_group", "maif-eu-west-1")
        var config: [String: AttributeValue] = [
            "name": "maif-eu-west-1", "protocol": "TCP", "port": 8080, "vpc_id": .string(net.vpc), "target_type": "instance",
            "health_check_enabled": true, "health_check_interval_seconds": 30, "health_check_path": "/health",
            "health_check_port": "traffic-port", "health_check_protocol": "HTTPS", "healthy_threshold_count": 2, "unhealthy_threshold_count": 3,
            "attributes": .map(["deregistration_delay.timeout_seconds": "60"]),
            "region": "eu-west-1", "tags": Moto.tags(ctx, ["maif:cluster": "maif-eu-west-1"]),
        ]
        let tg = try await aws.create(ctx, config)
        #expect(tg.id.hasPrefix("arn:aws:elasticloadbalancing:eu-west-1:"))
        #expect(tg.attributes["arn_suffix"]?.stringValue?.hasPrefix("targetgroup/maif-eu-west-1/") == true)
        #expect(tg.id.hasSuffix(":" + (tg.attributes["arn_suffix"]?.stringValue ?? "?")))
        try await Balancing.expectNoChange(aws, ctx, tg, config)

        let item = try ELBView.describeTargetGroup(endpoint, "eu-west-1", tg.id)
        #expect(item["HealthCheckProtocol"] as? String == "HTTPS" && item["HealthCheckPath"] as? String == "/health")
        #expect(item["HealthCheckPort"] as? String == "traffic-port" && item["Protocol"] as? String == "TCP" && item["Port"] as? Int == 8080)
        #expect(item["HealthyThresholdCount"] as? Int == 2 && item["UnhealthyThresholdCount"] as? Int == 3)
        #expect(try ELBView.targetGroupAttributes(endpoint, "eu-west-1", tg.id)["deregistration_delay.timeout_seconds"] == "60")
        #expect(try ELBView.tags(endpoint, tg.id, region: "eu-west-1")["maif:address"] == "aws.lb_target_group.maif-eu-west-1")
        #expect((try Balancing.cli(endpoint, ["elbv2", "describe-target-groups"])["TargetGroups"] as? [Any])?.isEmpty == true,
                "nothing in the provider's own region")

        _ = try Balancing.cli(endpoint, "eu-west-1", ["elbv2", "modify-target-group", "--target-group-arn", tg.id, "--health-check-path", "/other",
                                                      "--healthy-threshold-count", "5"])
        _ = try Balancing.cli(endpoint, "eu-west-1", ["elbv2", "modify-target-group-attributes", "--target-group-arn", tg.id,
                                                      "--attributes", "Key=deregistration_delay.timeout_seconds,Value=300"])
        _ = try Balancing.cli(endpoint, "eu-west-1", ["elbv2", "add-tags", "--resource-arns", tg.id, "--tags", "Key=extra,Value=1"])
        let drifted = try #require(try await aws.read(ctx, tg))
        #expect(drifted.attributes["health_check_path"] == "/other")
        #expect(drifted.attributes["healthy_threshold_count"] == 5)
        #expect(drifted.attributes["attributes"] == .map(["deregistration_delay.timeout_seconds": "300"]))
        #expect(drifted.attributes["tags"]?.mapValue?["extra"] == "1")
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == tg)
        let again = try ELBView.describeTargetGroup(endpoint, "eu-west-1", tg.id)
        #expect(again["HealthCheckPath"] as? String == "/health" && again["HealthyThresholdCount"] as? Int == 2)
        #expect(try ELBView.tags(endpoint, tg.id, region: "eu-west-1")["extra"] == nil)

        config["unhealthy_threshold_count"] = 4
        let changed = try await aws.update(ctx, repaired, config)
        #expect(changed.id == tg.id && changed.attributes["unhealthy_threshold_count"] == 4)
        #expect(try ELBView.describeTargetGroup(endpoint, "eu-west-1", tg.id)["UnhealthyThresholdCount"] as? Int == 4)

        #expect(try await aws.find(ctx, config)?.id == tg.id)
        #expect(try await aws.find(Moto.context("lb_target_group", "other"), config) == nil)
        try await aws.delete(ctx, changed)
        #expect(try await aws.read(ctx, changed) == nil)
        #expect((try Balancing.cli(endpoint, "eu-west-1", ["elbv2", "describe-target-groups"])["TargetGroups"] as? [Any])?.isEmpty == true)
    }

    @Test func listenerLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try Balancing.network(endpoint)
        let created = try Balancing.cli(endpoint, ["elbv2", "create-load-balancer", "--name", "production-cluster", "--type", "network",
                                                   "--subnets"] + net.subnets)
        let lb = try #require((created["LoadBalancers"] as? [[String: Any]])?.first?["LoadBalancerArn"] as? String)
        let tg1 = try Balancing.targetGroup(endpoint, name: "tg-one", vpc: net.vpc)
        let tg2 = try Balancing.targetGroup(endpoint, name: "tg-two", vpc: net.vpc)
        let ctx = Moto.context("lb_listener", "production-cluster")
        var config: [String: AttributeValue] = [
            "load_balancer_arn": .string(lb), "protocol": "TCP", "port": 8080,
            "default_actions": .list([.map(["type": "forward", "target_group_arn": .string(tg1)])]),
            "region": "us-east-1", "tags": Moto.tags(ctx, ["maif:cluster": "production-cluster"]),
        ]
        let listener = try await aws.create(ctx, config)
        #expect(listener.id.contains(":listener/") && listener.attributes["arn"] == .string(listener.id))
        try await Balancing.expectNoChange(aws, ctx, listener, config)
        var item = try ELBView.describeListener(endpoint, lb)
        #expect(item["Port"] as? Int == 8080 && item["Protocol"] as? String == "TCP")
        #expect((item["DefaultActions"] as? [[String: Any]])?.first?["TargetGroupArn"] as? String == tg1)
        #expect(try ELBView.tags(endpoint, listener.id)["maif:address"] == "aws.lb_listener.production-cluster")

        _ = try Balancing.cli(endpoint, ["elbv2", "modify-listener", "--listener-arn", listener.id,
                                         "--default-actions", "Type=forward,TargetGroupArn=\(tg2)"])
        let drifted = try #require(try await aws.read(ctx, listener))
        #expect(drifted.attributes["default_actions"] == .list([.map(["type": "forward", "target_group_arn": .string(tg2)])]))
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == listener)
        item = try ELBView.describeListener(endpoint, lb)
        #expect((item["DefaultActions"] as? [[String: Any]])?.first?["TargetGroupArn"] as? String == tg1)

        config["port"] = 9090
        let moved = try await aws.update(ctx, repaired, config)
        #expect(moved.id == listener.id && moved.attributes["port"] == 9090)
        #expect(try ELBView.describeListener(endpoint, lb)["Port"] as? Int == 9090)
        try await Balancing.expectNoChange(aws, ctx, moved, config)

        #expect(try await aws.find(ctx, config)?.id == listener.id)
        #expect(try await aws.find(Moto.context("lb_listener", "other"), config) == nil)
        try await aws.delete(ctx, moved)
        #expect(try await aws.read(ctx, moved) == nil)
        let left = try Balancing.cli(endpoint, ["elbv2", "describe-listeners", "--load-balancer-arn", lb])
        #expect((left["Listeners"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, moved)
    }

    @Test func elbErrorsNameServiceCallAndCode() async throws {
        let (aws, _) = try Moto.provider()
        let ctx = Moto.context("lb", "broken")
        await #expect {
            _ = try await aws.create(ctx, ["name": "broken", "type": "network", "subnets": .list(["subnet-0000000000000000"]),
                                           "tags": Moto.tags(ctx)])
        } throws: { error in
            let text = "\(error)"
            // AWS answers SubnetNotFound, moto InvalidSubnetID.NotFound: either way the code, status and message are named.
            return text.hasPrefix("aws.lb.broken: elasticloadbalancing CreateLoadBalancer failed: ") && text.contains("NotFound (HTTP 400)")
                && text.contains("subnet-0000000000000000") && !text.contains("<")
        }
    }

    @Test func targetGroupAttachmentLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try Balancing.network(endpoint)
        let tg = try Balancing.targetGroup(endpoint, name: "production-cluster", vpc: net.vpc)
        let node1 = try Balancing.instance(endpoint, subnet: net.subnets[0])
        let node2 = try Balancing.instance(endpoint, subnet: net.subnets[1])
        let ctx = Moto.context("lb_target_group_attachment", "production-cluster.node-1")
        var config: [String: AttributeValue] = ["target_group_arn": .string(tg), "target_id": .string(node1), "port": 8080, "weight": .double(0.5),
                                                "region": "us-east-1"]
        let attachment = try await aws.create(ctx, config)
        #expect(attachment.id == "\(tg)/\(node1)/8080" && attachment.attributes["id"] == .string(attachment.id))
        #expect(attachment.attributes["weight"] == .double(0.5), "the weight is recorded though AWS keeps none")
        try await Balancing.expectNoChange(aws, ctx, attachment, config)
        #expect(try ELBView.registered(endpoint, tg) == [node1: 8080])

        // Only the weight changes in place.
        config["weight"] = .double(1.0)
        let reweighted = try await aws.update(ctx, attachment, config)
        #expect(reweighted.id == attachment.id && reweighted.attributes["weight"] == .double(1))

        // Deregistered out of band: read says it is gone, and update registers it again.
        _ = try Balancing.cli(endpoint, ["elbv2", "deregister-targets", "--target-group-arn", tg, "--targets", "Id=\(node1),Port=8080"])
        #expect(try await aws.read(ctx, reweighted) == nil)
        #expect(try ELBView.registered(endpoint, tg).isEmpty)
        let repaired = try await aws.update(ctx, reweighted, config)
        #expect(repaired == reweighted)
        #expect(try ELBView.registered(endpoint, tg) == [node1: 8080])

        #expect(try await aws.find(ctx, config) == repaired)
        var other = config
        other["target_id"] = .string(node2)
        #expect(try await aws.find(ctx, other) == nil)

        // Without a port, the target group's port is used and the id names it.
        let ctx2 = Moto.context("lb_target_group_attachment", "production-cluster.node-2")
        other["port"] = nil
        let second = try await aws.create(ctx2, other)
        #expect(second.id == "\(tg)/\(node2)/8080")
        #expect(try await aws.read(ctx2, second) != nil)

        try await aws.delete(ctx, repaired)
        try await aws.delete(ctx2, second)
        #expect(try await aws.read(ctx, repaired) == nil)
        #expect(try ELBView.registered(endpoint, tg).isEmpty)
        try await aws.delete(ctx, repaired)
    }
}

/// What the AWS CLI shows of ELBv2 objects.
enum ELBView {

    static func attributes(_ endpoint: String, _ lb: String) throws -> [String: String] {
        let out = try Balancing.cli(endpoint, ["elbv2", "describe-load-balancer-attributes", "--load-balancer-arn", lb])
        return Moto.tagList(out["Attributes"])
    }

    static func targetGroupAttributes(_ endpoint: String, _ region: String, _ tg: String) throws -> [String: String] {
        let out = try Balancing.cli(endpoint, region, ["elbv2", "describe-target-group-attributes", "--target-group-arn", tg])
        return Moto.tagList(out["Attributes"])
    }

    static func tags(_ endpoint: String, _ arn: String, region: String = "us-east-1") throws -> [String: String] {
        let out = try Balancing.cli(endpoint, region, ["elbv2", "describe-tags", "--resource-arns", arn])
        return Moto.tagList((out["TagDescriptions"] as? [[String: Any]])?.first?["Tags"])
    }

    static func describeTargetGroup(_ endpoint: String, _ region: String, _ arn: String) throws -> [String: Any] {
        let out = try Balancing.cli(endpoint, region, ["elbv2", "describe-target-groups", "--target-group-arns", arn])
        return (out["TargetGroups"] as? [[String: Any]])?.first ?? [:]
    }

    static func describeListener(_ endpoint: String, _ lb: String) throws -> [String: Any] {
        let out = try Balancing.cli(endpoint, ["elbv2", "describe-listeners", "--load-balancer-arn", lb])
        return (out["Listeners"] as? [[String: Any]])?.first ?? [:]
    }

    /// Registered targets (instance id → port), as DescribeTargetHealth lists them.
    static func registered(_ endpoint: String, _ tg: String) throws -> [String: Int] {
        let out = try Balancing.cli(endpoint, ["elbv2", "describe-target-health", "--target-group-arn", tg])
        var targets: [String: Int] = [:]
        for d in out["TargetHealthDescriptions"] as? [[String: Any]] ?? [] {
            guard let target = d["Target"] as? [String: Any], let id = target["Id"] as? String,
                  (d["TargetHealth"] as? [String: Any])?["Reason"] as? String != "Target.NotRegistered" else { continue }
            targets[id] = target["Port"] as? Int
        }
        return targets
    }
}
