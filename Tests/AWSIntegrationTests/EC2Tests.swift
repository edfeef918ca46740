import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// Every test resets the one moto server, so they run one at a time.
@Suite(.serialized) struct AWSIntegration {}

extension AWSIntegration {
    @Test func vpcLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let ctx = Moto.context("vpc", "main")
        var config: [String: AttributeValue] = ["cidr_block": .string("10.1.0.0/16"), "enable_dns_hostnames": .bool(true),
                                                "tags": Moto.tags(ctx, ["Name": "main"])]
        let created = try await aws.create(ctx, config)
        #expect(created.id.hasPrefix("vpc-"))
        #expect(created.attributes["enable_dns_hostnames"] == .bool(true))
        #expect(created.attributes["main_route_table_id"]?.stringValue?.hasPrefix("rtb-") == true)

        let vpcs = try Moto.cli(endpoint, ["ec2", "describe-vpcs", "--vpc-ids", created.id]) as? [String: Any]
        let vpc = (vpcs?["Vpcs"] as? [[String: Any]])?.first
        #expect(vpc?["CidrBlock"] as? String == "10.1.0.0/16")
        #expect(Moto.tagList(vpc?["Tags"]) == ["maif:stack": "prod", "maif:address": "aws.vpc.main", "Name": "main"])

        #expect(try await aws.find(ctx, config)?.id == created.id)
        #expect(try await aws.find(Moto.context("vpc", "other"), config) == nil)

        // Drift made out of band shows in read, and update repairs it.
        try Moto.run(["aws", "--endpoint-url", endpoint, "--region", "us-east-1", "ec2", "delete-tags", "--resources", created.id,
                      "--tags", "Key=Name"], environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"])
        let drifted = try await aws.read(ctx, created)
        #expect(drifted?.attributes["tags"]?.mapValue?["Name"] == nil)
        config["enable_dns_hostnames"] = .bool(false)
        let updated = try await aws.update(ctx, created, config)
        #expect(updated.attributes["tags"] == config["tags"])
        #expect(updated.attributes["enable_dns_hostnames"] == .bool(false))

        try await aws.delete(ctx, updated)
        #expect(try await aws.read(ctx, updated) == nil)
        let after = try Moto.cli(endpoint, ["ec2", "describe-vpcs", "--filters", "Name=tag:maif:stack,Values=prod"]) as? [String: Any]
        #expect((after?["Vpcs"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, updated) // already gone: not an error
    }

    @Test func subnetLifecycle() async throws {
        let (aws, endpoint) = try Moto.provider()
        let vpcCtx = Moto.context("vpc", "main")
        let vpc = try await aws.create(vpcCtx, ["cidr_block": .string("10.2.0.0/16"), "tags": Moto.tags(vpcCtx)])
        let ctx = Moto.context("subnet", "a")
        var config: [String: AttributeValue] = ["vpc_id": .string(vpc.id), "cidr_block": .string("10.2.1.0/24"),
                                                "availability_zone": .string("us-east-1a"), "tags": Moto.tags(ctx)]
        let subnet = try await aws.create(ctx, config)
        let listed = try Moto.cli(endpoint, ["ec2", "describe-subnets", "--filters", "Name=tag:maif:address,Values=aws.subnet.a"]) as? [String: Any]
        let item = (listed?["Subnets"] as? [[String: Any]])?.first
        #expect(item?["SubnetId"] as? String == subnet.id)
        #expect(item?["AvailabilityZone"] as? String == "us-east-1a")
        #expect(item?["MapPublicIpOnLaunch"] as? Bool == false)

        config["map_public_ip_on_launch"] = .bool(true)
        let updated = try await aws.update(ctx, subnet, config)
        #expect(updated.attributes["map_public_ip_on_launch"] == .bool(true))
        let again = try Moto.cli(endpoint, ["ec2", "describe-subnets", "--subnet-ids", subnet.id]) as? [String: Any]
        #expect((again?["Subnets"] as? [[String: Any]])?.first?["MapPublicIpOnLaunch"] as? Bool == true)
        #expect(try await aws.importResource(ctx, id: subnet.id).attributes["cidr_block"] == .string("10.2.1.0/24"))

        try await aws.delete(ctx, updated)
        try await aws.delete(vpcCtx, vpc)
        let gone = try Moto.cli(endpoint, ["ec2", "describe-subnets", "--filters", "Name=vpc-id,Values=\(vpc.id)"]) as? [String: Any]
        #expect((gone?["Subnets"] as? [Any])?.isEmpty == true)
    }

    @Test func securityGroupRulesAndDrift() async throws {
        let (aws, endpoint) = try Moto.provider()
        let vpcCtx = Moto.context("vpc", "main")
        let vpc = try await aws.create(vpcCtx, ["cidr_block": .string("10.3.0.0/16"), "tags": Moto.tags(vpcCtx)])
        let ctx = Moto.context("security_group", "web")
        let ingress: AttributeValue = .list([
            .map(["ip_protocol": .string("tcp"), "from_port": .int(443), "to_port": .int(443),
                  "ip_ranges": .list([.map(["cidr_ip": .string("0.0.0.0/0")]), .map(["cidr_ip": .string("10.0.0.0/8")])])]),
            .map(["ip_protocol": .string("tcp"), "from_port": .int(8080), "to_port": .int(8080),
                  "user_id_group_pairs": .list([.map(["self": .bool(true)])])]),
        ])
        let config: [String: AttributeValue] = ["group_name": .string("web"), "description": .string("web tier"),
                                                "vpc_id": .string(vpc.id), "ingress": ingress, "tags": Moto.tags(ctx)]
        let sg = try await aws.create(ctx, config)
        #expect(sg.attributes["ingress"]?.listValue?.count == 3)
        let plan = try await aws.plan(PlanRequest(context: ctx, prior: sg, desired: config))
        #expect(plan.planned["ingress"] == sg.attributes["ingress"], "the planned rules take the form read reports")

        let described = try Moto.cli(endpoint, ["ec2", "describe-security-groups", "--group-ids", sg.id]) as? [String: Any]
        let group = (described?["SecurityGroups"] as? [[String: Any]])?.first
        let permissions = group?["IpPermissions"] as? [[String: Any]] ?? []
        #expect(Set(permissions.compactMap { $0["FromPort"] as? Int }) == [443, 8080])
        #expect(Moto.tagList(group?["Tags"])["maif:address"] == "aws.security_group.web")

        // An extra rule added out of band: read shows it, update revokes it.
        try Moto.run(["aws", "--endpoint-url", endpoint, "--region", "us-east-1", "ec2", "authorize-security-group-ingress",
                      "--group-id", sg.id, "--protocol", "tcp", "--port", "22", "--cidr", "1.2.3.4/32"],
                     environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"])
        let drifted = try await aws.read(ctx, sg)
        #expect(drifted?.attributes["ingress"]?.listValue?.count == 4)
        #expect(drifted?.attributes["ingress"] != sg.attributes["ingress"])
        let repaired = try await aws.update(ctx, drifted!, config)
        #expect(repaired.attributes["ingress"] == sg.attributes["ingress"])
        let after = try Moto.cli(endpoint, ["ec2", "describe-security-groups", "--group-ids", sg.id]) as? [String: Any]
        let ports = ((after?["SecurityGroups"] as? [[String: Any]])?.first?["IpPermissions"] as? [[String: Any]] ?? []).compactMap { $0["FromPort"] as? Int }
        #expect(Set(ports) == [443, 8080])

        #expect(try await aws.find(ctx, config)?.id == sg.id)
        try await aws.delete(ctx, repaired)
        #expect(try await aws.read(ctx, repaired) == nil)
        try await aws.delete(vpcCtx, vpc)
    }

    @Test func awsErrorsNameServiceCallAndCode() async throws {
        let (aws, _) = try Moto.provider()
        let ctx = Moto.context("vpc", "bad")
        await #expect {
            _ = try await aws.create(ctx, ["cidr_block": .string("not-a-cidr"), "tags": Moto.tags(ctx)])
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("aws.vpc.bad: ec2 CreateVpc failed: InvalidParameterValue") && !text.contains("<")
        }
    }
}
