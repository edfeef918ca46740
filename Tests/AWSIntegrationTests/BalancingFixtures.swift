import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// What the ELB and Auto Scaling tests stand on, made with the AWS CLI so they do not depend on the provider
/// code for other types: a VPC with subnets in three zones, security groups, a launch template, instances.
enum Balancing {
    struct Network {
        var vpc: String
        var subnets: [String]
        var securityGroups: [String]
    }

    /// The AWS CLI against moto in `region`, its JSON output parsed into a dictionary.
    static func cli(_ endpoint: String, _ region: String, _ arguments: [String]) throws -> [String: Any] {
        try Moto.cli(endpoint, ["--region", region] + arguments) as? [String: Any] ?? [:]
    }

    static func cli(_ endpoint: String, _ arguments: [String]) throws -> [String: Any] {
        try cli(endpoint, "us-east-1", arguments)
    }

    /// A VPC with one subnet in each of zones a, b and c, and two security groups.
    static func network(_ endpoint: String, region: String = "us-east-1", cidr: String = "10.8") throws -> Network {
        let vpc = try string(cli(endpoint, region, ["ec2", "create-vpc", "--cidr-block", "\(cidr).0.0/16"]), "Vpc", "VpcId")
        var subnets: [String] = []
        for (i, zone) in ["a", "b", "c"].enumerated() {
            subnets.append(try string(cli(endpoint, region, ["ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "\(cidr).\(i + 1).0/24",
                                                               "--availability-zone", region + zone]), "Subnet", "SubnetId"))
        }
        var groups: [String] = []
        for name in ["lb", "other"] {
            groups.append(try string(cli(endpoint, region, ["ec2", "create-security-group", "--group-name", name, "--description", name,
                                                              "--vpc-id", vpc]), "GroupId"))
        }
        return Network(vpc: vpc, subnets: subnets, securityGroups: groups)
    }

    /// A launch template for Auto Scaling groups; returns its id.
    static func launchTemplate(_ endpoint: String, name: String = "production-cluster") throws -> String {
        try string(cli(endpoint, "us-east-1", ["ec2", "create-launch-template", "--launch-template-name", name, "--launch-template-data",
                                               #"{"ImageId":"ami-12c6146b","InstanceType":"t3.micro"}"#]), "LaunchTemplate", "LaunchTemplateId")
    }

    /// A running instance in `subnet`; returns its id.
    static func instance(_ endpoint: String, subnet: String) throws -> String {
        let out = try cli(endpoint, "us-east-1", ["ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", "t3.micro",
                                                  "--subnet-id", subnet, "--count", "1"])
        guard let id = (out["Instances"] as? [[String: Any]])?.first?["InstanceId"] as? String else { throw Failure("run-instances: \(out)") }
        return id
    }

    /// A TCP target group on port 8080; returns its ARN.
    static func targetGroup(_ endpoint: String, name: String, vpc: String) throws -> String {
        let out = try cli(endpoint, "us-east-1", ["elbv2", "create-target-group", "--name", name, "--protocol", "TCP", "--port", "8080",
                                                  "--vpc-id", vpc])
        guard let arn = (out["TargetGroups"] as? [[String: Any]])?.first?["TargetGroupArn"] as? String else { throw Failure("create-target-group: \(out)") }
        return arn
    }

    static func string(_ object: [String: Any], _ path: String...) throws -> String {
        var node: Any? = object
        for key in path { node = (node as? [String: Any])?[key] }
        guard let text = node as? String else { throw Failure("no \(path.joined(separator: ".")) in \(object)") }
        return text
    }

    /// Plan right after apply shows no change, and read finds no drift.
    static func expectNoChange(_ aws: AWSProvider, _ ctx: ResourceContext, _ state: ResourceState, _ config: [String: AttributeValue],
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let plan = try await aws.plan(PlanRequest(context: ctx, prior: state, desired: config))
        #expect(plan.planned == state.attributes, "plan after apply changes nothing", sourceLocation: sourceLocation)
        #expect(plan.requiresReplace.isEmpty, sourceLocation: sourceLocation)
        let read = try await aws.read(ctx, state)
        #expect(read == state, "read after apply finds no drift", sourceLocation: sourceLocation)
    }
}
