import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

extension AWSIntegration {
    /// A launch template in the shape expansion gives a cluster's Auto Scaling group (production.plan.json).
    static func templateConfig(_ ctx: ResourceContext, _ net: ComputeFixture.Network) -> [String: AttributeValue] {
        let launched: AttributeValue = .map(["Name": "cluster-scaled", "maif:stack": "prod", "maif:launched_by": "aws.autoscaling_group.cluster"])
        return [
            "launch_template_name": "cluster",
            "image_id": .string("resolve:ssm:" + ComputeFixture.amazonLinux),
            "instance_type": "c5.4xlarge",
            "user_data": "cluster:\n  name: cluster\n",
            "block_device_mappings": .list([.map(["device_name": "/dev/xvda",
                                                  "ebs": .map(["delete_on_termination": true, "encrypted": true,
                                                               "volume_size": 932, "volume_type": "gp3"])])]),
            "metadata_options": .map(["http_endpoint": "enabled", "http_tokens": "required"]),
            "monitoring": .map(["enabled": true]),
            "network_interfaces": .list([.map(["associate_public_ip_address": true, "device_index": 0,
                                               "groups": .list([.string(net.group)])])]),
            "tag_specifications": .list([.map(["resource_type": "instance", "tags": launched]),
                                         .map(["resource_type": "volume", "tags": launched])]),
            "update_default_version": true,
            "region": "us-east-1",
            "tags": Moto.tags(ctx, ["maif:cluster": "cluster"]),
        ]
    }

    /// The launch template data of one version, as the CLI reads it.
    static func templateData(_ endpoint: String, _ id: String, version: String) throws -> [String: Any] {
        let out = try ComputeFixture.cli(endpoint, ["ec2", "describe-launch-template-versions", "--launch-template-id", id, "--versions", version])
        return (out["LaunchTemplateVersions"] as? [[String: Any]])?.first?["LaunchTemplateData"] as? [String: Any] ?? [:]
    }

    @Test func launchTemplateVersionsFollowTheConfiguration() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("launch_template", "cluster")
        var config = Self.templateConfig(ctx, net)
        let created = try await aws.create(ctx, config)
        #expect(created.id.hasPrefix("lt-"))
        #expect(created.attributes["default_version"] == 1 && created.attributes["latest_version"] == 1)
        #expect(created.attributes["image_id"] == config["image_id"])
        try await ComputeFixture.expectNoChange(aws, ctx, created, config)

        let data = try Self.templateData(endpoint, created.id, version: "$Default")
        #expect(data["ImageId"] as? String == "resolve:ssm:" + ComputeFixture.amazonLinux, "EC2 resolves the parameter at each launch")
        #expect(data["InstanceType"] as? String == "c5.4xlarge")
        #expect(Data(base64Encoded: data["UserData"] as? String ?? "").map { String(decoding: $0, as: UTF8.self) } == "cluster:\n  name: cluster\n")
        let nic = (data["NetworkInterfaces"] as? [[String: Any]])?.first
        #expect(nic?["AssociatePublicIpAddress"] as? Bool == true && nic?["Groups"] as? [String] == [net.group])
        let ebs = (data["BlockDeviceMappings"] as? [[String: Any]])?.first?["Ebs"] as? [String: Any]
        #expect(ebs?["VolumeSize"] as? Int == 932 && ebs?["VolumeType"] as? String == "gp3" && ebs?["Encrypted"] as? Bool == true)
        #expect((data["MetadataOptions"] as? [String: Any])?["HttpTokens"] as? String == "required")
        #expect((data["Monitoring"] as? [String: Any])?["Enabled"] as? Bool == true)
        let specs = data["TagSpecifications"] as? [[String: Any]] ?? []
        let instanceTags = ComputeFixture.tags(specs.first { $0["ResourceType"] as? String == "instance" }?["Tags"])
        #expect(instanceTags["maif:launched_by"] == "aws.autoscaling_group.cluster")
        let templates = try ComputeFixture.cli(endpoint, ["ec2", "describe-launch-templates", "--launch-template-ids", created.id])
        let template = (templates["LaunchTemplates"] as? [[String: Any]])?.first
        #expect(ComputeFixture.tags(template?["Tags"])["maif:address"] == "aws.launch_template.cluster")
        #expect(try await aws.find(ctx, config)?.id == created.id)

        // Out of band: a version with a smaller type made the default. Read reports the default version.
        ComputeFixture.run(endpoint, ["ec2", "create-launch-template-version", "--launch-template-id", created.id, "--source-version", "1",
                                      "--launch-template-data", "{\"InstanceType\": \"t3.micro\"}"])
        ComputeFixture.run(endpoint, ["ec2", "modify-launch-template", "--launch-template-id", created.id, "--default-version", "2"])
        let drifted = try #require(try await aws.read(ctx, created))
        #expect(drifted.attributes["instance_type"] == "t3.micro")
        #expect(drifted.attributes["default_version"] == 2)
        #expect(try await aws.plan(PlanRequest(context: ctx, prior: drifted, desired: config)).planned != drifted.attributes)
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired.attributes["default_version"] == 3 && repaired.attributes["latest_version"] == 3)
        try await ComputeFixture.expectNoChange(aws, ctx, repaired, config)
        #expect(try Self.templateData(endpoint, created.id, version: "$Default")["InstanceType"] as? String == "c5.4xlarge")

        // A configuration change is a new version, made the default.
        config["instance_type"] = "c5.2xlarge"
        config["user_data"] = "cluster:\n  name: cluster\n  size: 2\n"
        let changed = try await aws.update(ctx, repaired, config)
        #expect(changed.id == created.id && changed.attributes["default_version"] == 4)
        try await ComputeFixture.expectNoChange(aws, ctx, changed, config)
        let latest = try Self.templateData(endpoint, created.id, version: "$Default")
        #expect(latest["InstanceType"] as? String == "c5.2xlarge")
        #expect(Data(base64Encoded: latest["UserData"] as? String ?? "").map { String(decoding: $0, as: UTF8.self) } == "cluster:\n  name: cluster\n  size: 2\n")
        // Nothing changed: no new version.
        #expect(try await aws.update(ctx, changed, config).attributes["latest_version"] == 4)

        try await aws.delete(ctx, changed)
        #expect(try await aws.read(ctx, changed) == nil)
        let left = try ComputeFixture.cli(endpoint, ["ec2", "describe-launch-templates", "--filters", "Name=tag:maif:stack,Values=prod"])
        #expect((left["LaunchTemplates"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, changed)
    }

    @Test func launchTemplateWithoutDefaultUpdatesKeepsTheDefault() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("launch_template", "pinned")
        var config = Self.templateConfig(ctx, net)
        config["launch_template_name"] = "pinned"
        config["update_default_version"] = false
        let created = try await aws.create(ctx, config)
        config["instance_type"] = "c5.large"
        let updated = try await aws.update(ctx, created, config)
        #expect(updated.attributes["latest_version"] == 2 && updated.attributes["default_version"] == 1)
        #expect(try Self.templateData(endpoint, created.id, version: "$Latest")["InstanceType"] as? String == "c5.large")
        #expect(try Self.templateData(endpoint, created.id, version: "$Default")["InstanceType"] as? String == "c5.4xlarge")
        // Applying again makes no third version: the latest already is what the stack wants.
        #expect(try await aws.update(ctx, updated, config).attributes["latest_version"] == 2)
        try await aws.delete(ctx, updated)
    }
}
