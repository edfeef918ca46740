import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

extension AWSIntegration {
    /// An instance in the shape expansion gives every VM node (production.plan.json).
    static func nodeConfig(_ ctx: ResourceContext, _ net: ComputeFixture.Network, userData: String) -> [String: AttributeValue] {
        [
            "image_id": .string("resolve:ssm:" + ComputeFixture.amazonLinux),
            "instance_type": "c5.4xlarge",
            "subnet_id": .string(net.subnet),
            "security_group_ids": .list([.string(net.group)]),
            "associate_public_ip_address": true,
            "user_data": .string(userData),
            "block_device_mappings": .list([.map(["device_name": "/dev/xvda",
                                                  "ebs": .map(["delete_on_termination": true, "encrypted": true,
                                                               "volume_size": 932, "volume_type": "gp3"])])]),
            "metadata_options": .map(["http_endpoint": "enabled", "http_tokens": "required"]),
            "monitoring": .map(["enabled": true]),
            "region": "us-east-1",
            "tags": Moto.tags(ctx, ["Name": "node-1", "maif:role": "primary"]),
        ]
    }

    @Test func instanceLaunchesFromTheSSMImageAndReadsBackUnchanged() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("instance", "node-1")
        let userData = "cluster:\n  name: test\n  nodes: [node-1]\n"
        let config = Self.nodeConfig(ctx, net, userData: userData)
        let created = try await aws.create(ctx, config)
        #expect(created.id.hasPrefix("i-"))
        #expect(created.attributes["instance_state"] == "running")
        #expect(created.attributes["image_id"] == config["image_id"], "the configured resolve:ssm: string stays in state")
        #expect(created.attributes["public_ip_address"]?.stringValue?.isEmpty == false)
        #expect(created.attributes["availability_zone"] == "us-east-1a")
        try await ComputeFixture.expectNoChange(aws, ctx, created, config)

        let ami = try ComputeFixture.parameter(endpoint, ComputeFixture.amazonLinux)
        let instance = try ComputeFixture.instance(endpoint, created.id)
        #expect(!ami.isEmpty && instance["ImageId"] as? String == ami, "launched from the AMI the SSM parameter holds")
        #expect(instance["InstanceType"] as? String == "c5.4xlarge")
        #expect((instance["State"] as? [String: Any])?["Name"] as? String == "running")
        #expect((instance["Monitoring"] as? [String: Any])?["State"] as? String == "enabled")
        #expect((instance["MetadataOptions"] as? [String: Any])?["HttpTokens"] as? String == "required")
        #expect(instance["PublicIpAddress"] as? String == created.attributes["public_ip_address"]?.stringValue)
        #expect(instance["SubnetId"] as? String == net.subnet)
        let interfaceGroups = ((instance["NetworkInterfaces"] as? [[String: Any]])?.first?["Groups"] as? [[String: Any]])?.compactMap { $0["GroupId"] as? String }
        #expect(interfaceGroups == [net.group])
        let tags = ComputeFixture.tags(instance["Tags"])
        #expect(tags["maif:address"] == "aws.instance.node-1" && tags["maif:stack"] == "prod" && tags["Name"] == "node-1")
        #expect(tags[InstanceResource.imageTag] == "resolve:ssm:" + ComputeFixture.amazonLinux)

        let encoded = try ComputeFixture.cli(endpoint, ["ec2", "describe-instance-attribute", "--instance-id", created.id, "--attribute", "userData"])
        let base64 = (encoded["UserData"] as? [String: Any])?["Value"] as? String ?? ""
        #expect(Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) } == userData, "user data went base64-encoded")

        let mapping = (instance["BlockDeviceMappings"] as? [[String: Any]])?.first
        #expect(mapping?["DeviceName"] as? String == "/dev/xvda")
        let volumeId = (mapping?["Ebs"] as? [String: Any])?["VolumeId"] as? String ?? ""
        let volume = (try ComputeFixture.cli(endpoint, ["ec2", "describe-volumes", "--volume-ids", volumeId])["Volumes"] as? [[String: Any]])?.first
        #expect(volume?["Size"] as? Int == 932)
        #expect(volume?["VolumeType"] as? String == "gp3")
        #expect(volume?["Encrypted"] as? Bool == true)
        #expect(ComputeFixture.tags(volume?["Tags"])["maif:address"] == "aws.instance.node-1", "the root volume is tagged too")

        #expect(try await aws.find(ctx, config)?.id == created.id)
        #expect(try await aws.find(Moto.context("instance", "node-2"), config) == nil)
        #expect(try await aws.importResource(ctx, id: created.id).attributes["image_id"] == config["image_id"])

        try await aws.delete(ctx, created)
        let gone = try ComputeFixture.instance(endpoint, created.id)
        #expect((gone["State"] as? [String: Any])?["Name"] as? String == "terminated")
        #expect(try await aws.read(ctx, created) == nil, "a terminated instance is gone")
        #expect(try await aws.find(ctx, config) == nil)
        try await aws.delete(ctx, created) // already terminated: not an error
    }

    @Test func instanceDriftIsReportedAndRepairedInPlace() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("instance", "node-1")
        var config = Self.nodeConfig(ctx, net, userData: "first\n")
        let created = try await aws.create(ctx, config)

        // Out of band: a smaller type (stop, modify, start), another security group, a tag gone, IMDSv1 allowed.
        ComputeFixture.run(endpoint, ["ec2", "stop-instances", "--instance-ids", created.id])
        ComputeFixture.run(endpoint, ["ec2", "modify-instance-attribute", "--instance-id", created.id, "--instance-type", "{\"Value\": \"c5.xlarge\"}"])
        ComputeFixture.run(endpoint, ["ec2", "start-instances", "--instance-ids", created.id])
        ComputeFixture.run(endpoint, ["ec2", "modify-instance-attribute", "--instance-id", created.id, "--groups", net.otherGroup])
        ComputeFixture.run(endpoint, ["ec2", "delete-tags", "--resources", created.id, "--tags", "Key=Name"])
        ComputeFixture.run(endpoint, ["ec2", "modify-instance-metadata-options", "--instance-id", created.id, "--http-tokens", "optional"])

        let drifted = try #require(try await aws.read(ctx, created))
        #expect(drifted.attributes["instance_type"] == "c5.xlarge")
        #expect(drifted.attributes["security_group_ids"] == .list([.string(net.otherGroup)]))
        #expect(drifted.attributes["tags"]?.mapValue?["Name"] == nil)
        #expect(drifted.attributes["metadata_options"]?.mapValue?["http_tokens"] == "optional")
        let plan = try await aws.plan(PlanRequest(context: ctx, prior: drifted, desired: config))
        #expect(plan.requiresReplace.isEmpty, "all of it changes in place")
        #expect(plan.planned != drifted.attributes)

        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired.id == created.id)
        try await ComputeFixture.expectNoChange(aws, ctx, repaired, config)
        let instance = try ComputeFixture.instance(endpoint, created.id)
        #expect(instance["InstanceType"] as? String == "c5.4xlarge")
        #expect((instance["State"] as? [String: Any])?["Name"] as? String == "running", "started again after the type change")
        #expect((instance["SecurityGroups"] as? [[String: Any]])?.compactMap { $0["GroupId"] as? String } == [net.group])
        #expect(ComputeFixture.tags(instance["Tags"])["Name"] == "node-1")
        #expect((instance["MetadataOptions"] as? [String: Any])?["HttpTokens"] as? String == "required")

        // A configuration change: new user data (stop, modify, start) and a bigger root volume (ModifyVolume).
        config["user_data"] = "second\n"
        config["block_device_mappings"] = .list([.map(["device_name": "/dev/xvda",
                                                       "ebs": .map(["delete_on_termination": true, "encrypted": true,
                                                                    "volume_size": 1000, "volume_type": "gp3"])])])
        let changed = try await aws.update(ctx, repaired, config)
        #expect(changed.id == created.id)
        try await ComputeFixture.expectNoChange(aws, ctx, changed, config)
        let encoded = try ComputeFixture.cli(endpoint, ["ec2", "describe-instance-attribute", "--instance-id", created.id, "--attribute", "userData"])
        let base64 = (encoded["UserData"] as? [String: Any])?["Value"] as? String ?? ""
        #expect(Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) } == "second\n")
        let volumeId = (((try ComputeFixture.instance(endpoint, created.id))["BlockDeviceMappings"] as? [[String: Any]])?.first?["Ebs"] as? [String: Any])?["VolumeId"] as? String ?? ""
        let volume = (try ComputeFixture.cli(endpoint, ["ec2", "describe-volumes", "--volume-ids", volumeId])["Volumes"] as? [[String: Any]])?.first
        #expect(volume?["Size"] as? Int == 1000)

        // Encryption cannot change on a running instance: a clear error rather than a silent no-op.
        var encryption = config
        encryption["block_device_mappings"] = .list([.map(["device_name": "/dev/xvda",
                                                           "ebs": .map(["delete_on_termination": true, "encrypted": false,
                                                                        "volume_size": 1000, "volume_type": "gp3"])])])
        await #expect { _ = try await aws.update(ctx, changed, encryption) } throws: { "\($0)".contains("cannot change in place") }

        try await aws.delete(ctx, changed)
        #expect(try await aws.read(ctx, changed) == nil)
    }

    @Test func instanceWithoutPublicAddressUsesTheSubnetAndPlainAMI() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("instance", "plain")
        let ami = try ComputeFixture.parameter(endpoint, ComputeFixture.amazonLinux)
        for profile in ["web", "db"] { ComputeFixture.run(endpoint, ["iam", "create-instance-profile", "--instance-profile-name", profile]) }
        var config: [String: AttributeValue] = [
            "image_id": .string(ami), "instance_type": "t3.micro", "subnet_id": .string(net.subnet),
            "security_group_ids": .list([.string(net.otherGroup), .string(net.group)]),
            "private_ip_address": "10.20.1.50", "iam_instance_profile": "web", "ebs_optimized": true, "tags": Moto.tags(ctx),
        ]
        let created = try await aws.create(ctx, config)
        #expect(created.attributes["private_ip_address"] == "10.20.1.50")
        #expect(created.attributes["public_ip_address"] == "")
        try await ComputeFixture.expectNoChange(aws, ctx, created, config)
        let instance = try ComputeFixture.instance(endpoint, created.id)
        #expect(instance["ImageId"] as? String == ami)
        #expect(instance["PrivateIpAddress"] as? String == "10.20.1.50")
        #expect(instance["PublicIpAddress"] == nil)
        #expect(ComputeFixture.tags(instance["Tags"])[InstanceResource.imageTag] == nil, "a plain AMI id needs no record")
        #expect(instance["EbsOptimized"] as? Bool == true)
        func profile() throws -> String? {
            let out = try ComputeFixture.cli(endpoint, ["ec2", "describe-iam-instance-profile-associations", "--filters",
                                                        "Name=instance-id,Values=\(created.id)", "Name=state,Values=associated"])
            let arn = ((out["IamInstanceProfileAssociations"] as? [[String: Any]])?.first?["IamInstanceProfile"] as? [String: Any])?["Arn"] as? String
            return arn.map(LaunchShapes.profileName)
        }
        #expect(try profile() == "web")

        // Another instance profile (ReplaceIamInstanceProfileAssociation), then none (DisassociateIamInstanceProfile).
        config["iam_instance_profile"] = "db"
        let replaced = try await aws.update(ctx, created, config)
        #expect(try profile() == "db")
        try await ComputeFixture.expectNoChange(aws, ctx, replaced, config)
        config["iam_instance_profile"] = .null
        let removed = try await aws.update(ctx, replaced, config)
        #expect(try profile() == nil)
        #expect(removed.attributes["iam_instance_profile"] == .null)

        // Left unset, the private address AWS chose is no reason to replace the instance.
        var unset = config
        unset["private_ip_address"] = nil
        let plan = try await aws.plan(PlanRequest(context: ctx, prior: removed, desired: unset))
        #expect(plan.requiresReplace.isEmpty)
        try await aws.delete(ctx, removed)
    }

    @Test func instanceWithAMissingSSMParameterFailsNamingIt() async throws {
        let (aws, _) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("instance", "bad")
        var config = Self.nodeConfig(ctx, net, userData: "x")
        config["image_id"] = "resolve:ssm:/maif/no-such-parameter"
        await #expect { _ = try await aws.create(ctx, config) } throws: { error in
            let text = "\(error)"
            return text.contains("ssm GetParameter") && text.contains("ParameterNotFound")
        }
    }
}

extension ComputeFixture {
    /// An AWS CLI call made only for its effect (drift made out of band); a failure fails the test.
    static func run(_ endpoint: String, _ arguments: [String], region: String = "us-east-1",
                    sourceLocation: SourceLocation = #_sourceLocation) {
        do { try cli(endpoint, arguments, region: region) } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }
}
