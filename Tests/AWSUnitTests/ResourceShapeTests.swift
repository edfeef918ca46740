import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// How the ELB and Auto Scaling resources shape what they read, and the ids and names they parse.
@Suite struct ResourceShapeTests {
    @Test func mapsAWSFillsShowOnlyTheKeysTheStackSets() {
        let read: [String: AttributeValue] = [
            "attributes": .map(["load_balancing.cross_zone.enabled": "true", "deletion_protection.enabled": "false"]),
            "target_tracking_configuration": .map(["target_value": .double(70), "disable_scale_in": false,
                                                   "customized_metric_specification": .map(["metrics": .list([.map(["id": "m1", "return_data": true])])])]),
            "tags": .map(["a": "1", "b": "2"]),
        ]
        let stack: [String: AttributeValue] = [
            "attributes": .map(["load_balancing.cross_zone.enabled": "true"]),
            "target_tracking_configuration": .map(["target_value": .int(70),
                                                   "customized_metric_specification": .map(["metrics": .list([.map(["id": "m1"])])])]),
            "tags": .map(["a": "1"]),
        ]
        let aligned = ResourceShape.aligned(read, to: stack)
        #expect(aligned["attributes"] == stack["attributes"])
        #expect(aligned["target_tracking_configuration"] == stack["target_tracking_configuration"])
        #expect(aligned["tags"] == read["tags"], "an extra tag is drift: tags are not shaped")
    }

    @Test func textAWSKeepsTakesTheStacksTypeWhenItSaysTheSame() {
        let stack: [String: AttributeValue] = ["attributes": .map(["a": true, "b": 60, "c": true]),
                                               "launch_template": .map(["version": "3"])]
        let read: [String: AttributeValue] = ["attributes": .map(["a": "true", "b": "60", "c": "false"]),
                                              "launch_template": .map(["version": 3])]
        let aligned = ResourceShape.aligned(read, to: stack)
        #expect(aligned["attributes"] == .map(["a": true, "b": 60, "c": "false"]))
        #expect(aligned["launch_template"] == stack["launch_template"])
    }

    @Test func aKeyTheStackSetsThatAWSLacksStillShows() {
        let read: [String: AttributeValue] = ["attributes": .map(["deletion_protection.enabled": "false"])]
        let stack: [String: AttributeValue] = ["attributes": .map(["load_balancing.cross_zone.enabled": "true"])]
        #expect(ResourceShape.aligned(read, to: stack)["attributes"] == .map([:]))
    }

    @Test func setsKeepTheStacksOrderButNotOtherItems() {
        let stack: [String: AttributeValue] = ["subnets": .list(["subnet-b", "subnet-a"]), "termination_policies": .list(["A", "B"])]
        let same = ResourceShape.aligned(["subnets": .list(["subnet-a", "subnet-b"]), "termination_policies": .list(["B", "A"])], to: stack)
        #expect(same["subnets"] == stack["subnets"])
        #expect(same["termination_policies"] == .list(["B", "A"]), "termination policies are ordered")
        let other = ResourceShape.aligned(["subnets": .list(["subnet-a", "subnet-c"])], to: stack)
        #expect(other["subnets"] == .list(["subnet-a", "subnet-c"]))
    }

    @Test func recordedKeepsWhatTheStackSetAndTheComputedAttributes() {
        let state = ResourceState(id: "arn:x", attributes: ["id": "arn:x", "arn": "arn:x", "arn_suffix": "net/a/1", "dns_name": "a.elb",
                                                            "canonical_hosted_zone_id": "Z", "name": "a", "ip_address_type": "ipv4",
                                                            "subnets": .list(["s-2", "s-1"]), "region": "us-east-1"])
        let config: [String: AttributeValue] = ["name": "a", "subnets": .list(["s-1", "s-2"]), "region": "us-east-1"]
        let recorded = AWSProvider.recorded(state, config, "aws.lb")
        #expect(Set(recorded.attributes.keys) == ["id", "arn", "arn_suffix", "dns_name", "canonical_hosted_zone_id", "name", "subnets", "region"])
        #expect(recorded.attributes["subnets"] == config["subnets"])
    }

    @Test func managedReadsAreShapedLikeThePrior() {
        let prior: [String: AttributeValue] = ["attributes": .map(["k": "v"]), "subnets": .list(["b", "a"]), "id": "x"]
        let now = ResourceState(id: "x", attributes: ["attributes": .map(["k": "v", "other": "1"]), "subnets": .list(["a", "b"]), "id": "x",
                                                      "type": "network"])
        #expect(AWSProvider.managed(now, prior: prior).attributes == prior)
    }

    @Test func attachmentIdsParseFromTheEnd() throws {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
        let key = try #require(TargetGroupAttachmentResource.Key(id: "\(arn)/i-0abc/8080"))
        #expect(key == .init(targetGroupArn: arn, targetId: "i-0abc", port: 8080))
        #expect(key.id(port: 8080) == "\(arn)/i-0abc/8080")
        #expect(TargetGroupAttachmentResource.Key(id: "\(arn)/i-0abc") == nil)
    }

    @Test func arnSuffixesAreTheCloudWatchDimensions() {
        let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188"
        #expect(ELBv2.arnSuffix(lb, after: ":loadbalancer/", keepMarker: false) == "net/web/50dc6c495c0c9188")
        let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
        #expect(ELBv2.arnSuffix(tg, after: "targetgroup/", keepMarker: true) == "targetgroup/web/73e2d6bc24d8a067")
    }

    @Test func policyArnsNameGroupAndPolicy() throws {
        let arn = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:c322761b-3172-4d56-9a21-0ed9d6161d67:autoScalingGroupName/maif-eu-west-1:policyName/maif-eu-west-1-target_cpu_utilization"
        let names = try #require(ScalingPolicyResource.names(arn))
        #expect(names.group == "maif-eu-west-1" && names.policy == "maif-eu-west-1-target_cpu_utilization")
        #expect(ScalingPolicyResource.names("arn:aws:autoscaling:eu-west-1:1:something") == nil)
    }

    @Test func targetTrackingParametersFollowTheAPIShape() {
        let config: AttributeValue = .map([
            "target_value": .double(70), "disable_scale_in": false,
            "customized_metric_specification": .map(["metrics": .list([
                .map(["id": "m1", "return_data": false, "metric_stat": .map([
                    "metric": .map(["namespace": "AWS/EC2", "metric_name": "CPUUtilization", "dimensions": .map(["InstanceId": "i-1"])]),
                    "stat": "Average"])]),
                .map(["id": "cluster", "expression": "AVG(METRICS())", "return_data": true]),
            ])]),
        ])
        let p = ScalingPolicyResource.targetTrackingParams(config)
        let m = "TargetTrackingConfiguration.CustomizedMetricSpecification.Metrics.member."
        #expect(p["TargetTrackingConfiguration.TargetValue"] == "70.0")
        #expect(p["TargetTrackingConfiguration.DisableScaleIn"] == "false")
        #expect(p[m + "1.MetricStat.Metric.Dimensions.member.1.Name"] == "InstanceId")
        #expect(p[m + "1.MetricStat.Metric.Dimensions.member.1.Value"] == "i-1")
        #expect(p[m + "1.MetricStat.Stat"] == "Average" && p[m + "1.ReturnData"] == "false")
        #expect(p[m + "2.Expression"] == "AVG(METRICS())" && p[m + "2.MetricStat.Stat"] == nil)
        let predefined = ScalingPolicyResource.targetTrackingParams(.map([
            "target_value": 50, "predefined_metric_specification": .map(["predefined_metric_type": "ASGAverageCPUUtilization"])]))
        #expect(predefined["TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType"] == "ASGAverageCPUUtilization")
    }
}
