import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// What the instance, routing and launch template tests share: a VPC to put things in, the AWS CLI in any region,
/// and the check that a state read back plans as no change.
enum ComputeFixture {
    static let amazonLinux = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

    struct Network {
        var vpc: String
        var subnet: String
        var group: String
        var otherGroup: String
    }

    /// A VPC with one subnet and two security groups, made through the provider.
    static func network(_ aws: AWSProvider, cidr: String = "10.20") async throws -> Network {
        let vpcCtx = Moto.context("vpc", "net")
        let vpc = try await aws.create(vpcCtx, ["cidr_block": .string("\(cidr).0.0/16"), "tags": Moto.tags(vpcCtx)])
        let subnetCtx = Moto.context("subnet", "net-a")
        let subnet = try await aws.create(subnetCtx, ["vpc_id": .string(vpc.id), "cidr_block": .string("\(cidr).1.0/24"),
                                                     "availability_zone": "us-east-1a", "tags": Moto.tags(subnetCtx)])
        var groups: [String] = []
        for name in ["nodes", "other"] {
            let ctx = Moto.context("security_group", name)
            groups.append(try await aws.create(ctx, ["group_name": .string(name), "description": .string(name), "vpc_id": .string(vpc.id),
                                                     "tags": Moto.tags(ctx)]).id)
        }
        return Network(vpc: vpc.id, subnet: subnet.id, group: groups[0], otherGroup: groups[1])
    }

    /// The AWS CLI against moto in `region`, its JSON output parsed (an empty object for no output).
    @discardableResult
    static func cli(_ endpoint: String, _ arguments: [String], region: String = "us-east-1") throws -> [String: Any] {
        let out = try Moto.run(["aws", "--endpoint-url", endpoint, "--region", region, "--output", "json"] + arguments,
                               environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_PAGER": ""])
        guard !out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [:] }
        return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
    }

    /// The one instance `describe-instances` reports for an id.
    static func instance(_ endpoint: String, _ id: String, region: String = "us-east-1") throws -> [String: Any] {
        let out = try cli(endpoint, ["ec2", "describe-instances", "--instance-ids", id], region: region)
        let reservations = out["Reservations"] as? [[String: Any]] ?? []
        return (reservations.first?["Instances"] as? [[String: Any]])?.first ?? [:]
    }

    /// The value SSM holds for a parameter, as the CLI reads it.
    static func parameter(_ endpoint: String, _ name: String, region: String = "us-east-1") throws -> String {
        let out = try cli(endpoint, ["ssm", "get-parameter", "--name", name], region: region)
        return (out["Parameter"] as? [String: Any])?["Value"] as? String ?? ""
    }

    /// Refresh then plan, as the engine does after an apply: the state reads back unchanged and plans as no change.
    static func expectNoChange(_ aws: AWSProvider, _ ctx: ResourceContext, _ state: ResourceState, _ config: [String: AttributeValue],
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let now = try #require(try await aws.read(ctx, state), "\(ctx.address) is gone", sourceLocation: sourceLocation)
        let reread = differences(state.attributes, now.attributes)
        #expect(reread.isEmpty && now.id == state.id, "\(ctx.address) reads back differently: \(reread)", sourceLocation: sourceLocation)
        let plan = try await aws.plan(PlanRequest(context: ctx, prior: now, desired: config))
        #expect(plan.requiresReplace.isEmpty, "\(ctx.address) would be replaced because of \(plan.requiresReplace)",
                sourceLocation: sourceLocation)
        let planned = differences(now.attributes, plan.planned)
        #expect(planned.isEmpty, "\(ctx.address) would be updated: \(planned)", sourceLocation: sourceLocation)
    }

    /// The attributes whose values differ, as `name: before → after`.
    static func differences(_ a: [String: AttributeValue], _ b: [String: AttributeValue]) -> String {
        Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }.map { key in
            "\(key): \(a[key].map { $0.canonicalJSON(indent: nil) } ?? "(none)") → \(b[key].map { $0.canonicalJSON(indent: nil) } ?? "(none)")"
        }.joined(separator: "; ")
    }

    static func tags(_ value: Any?) -> [String: String] { Moto.tagList(value) }
}
