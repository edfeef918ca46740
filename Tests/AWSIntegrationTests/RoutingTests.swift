import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

extension AWSIntegration {
    @Test func internetGatewayAttachesMovesAndDetaches() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let ctx = Moto.context("internet_gateway", "main")
        var config: [String: AttributeValue] = ["vpc_id": .string(net.vpc), "region": "us-east-1",
                                                "tags": Moto.tags(ctx, ["Name": "main"])]
        let created = try await aws.create(ctx, config)
        #expect(created.id.hasPrefix("igw-"))
        #expect(created.attributes["arn"]?.stringValue?.hasSuffix(":internet-gateway/\(created.id)") == true)
        try await ComputeFixture.expectNoChange(aws, ctx, created, config)
        func described() throws -> [String: Any]? {
            (try ComputeFixture.cli(endpoint, ["ec2", "describe-internet-gateways", "--internet-gateway-ids", created.id])["InternetGateways"]
                as? [[String: Any]])?.first
        }
        #expect((try described()?["Attachments"] as? [[String: Any]])?.first?["VpcId"] as? String == net.vpc)
        #expect(ComputeFixture.tags(try described()?["Tags"])["maif:address"] == "aws.internet_gateway.main")
        #expect(try await aws.find(ctx, config)?.id == created.id)

        // Detached and untagged out of band: read shows it, update attaches and tags it again.
        ComputeFixture.run(endpoint, ["ec2", "detach-internet-gateway", "--internet-gateway-id", created.id, "--vpc-id", net.vpc])
        ComputeFixture.run(endpoint, ["ec2", "delete-tags", "--resources", created.id, "--tags", "Key=Name"])
        let drifted = try #require(try await aws.read(ctx, created))
        #expect(drifted.attributes["vpc_id"] == .null)
        #expect(drifted.attributes["tags"]?.mapValue?["Name"] == nil)
        let repaired = try await aws.update(ctx, drifted, config)
        try await ComputeFixture.expectNoChange(aws, ctx, repaired, config)
        #expect((try described()?["Attachments"] as? [[String: Any]])?.first?["VpcId"] as? String == net.vpc)

        // Another VPC: detached from the first, attached to the second, same gateway.
        let otherCtx = Moto.context("vpc", "other")
        let other = try await aws.create(otherCtx, ["cidr_block": "10.30.0.0/16", "tags": Moto.tags(otherCtx)])
        config["vpc_id"] = .string(other.id)
        let moved = try await aws.update(ctx, repaired, config)
        #expect(moved.id == created.id && moved.attributes["vpc_id"] == .string(other.id))
        let attachments = try described()?["Attachments"] as? [[String: Any]] ?? []
        #expect(attachments.compactMap { $0["VpcId"] as? String } == [other.id])

        try await aws.delete(ctx, moved)
        #expect(try await aws.read(ctx, moved) == nil)
        let left = try ComputeFixture.cli(endpoint, ["ec2", "describe-internet-gateways", "--filters", "Name=tag:maif:stack,Values=prod"])
        #expect((left["InternetGateways"] as? [Any])?.isEmpty == true)
        try await aws.delete(ctx, moved)
    }

    @Test func routeTableRoutesConvergeOneDestinationAtATime() async throws {
        let (aws, endpoint) = try Moto.provider()
        let net = try await ComputeFixture.network(aws)
        let igwCtx = Moto.context("internet_gateway", "main")
        let igw = try await aws.create(igwCtx, ["vpc_id": .string(net.vpc), "tags": Moto.tags(igwCtx)])
        let ctx = Moto.context("route_table", "public")
        let config: [String: AttributeValue] = [
            "vpc_id": .string(net.vpc), "region": "us-east-1", "tags": Moto.tags(ctx, ["Name": "public"]),
            "routes": .list([.map(["destination_cidr_block": "0.0.0.0/0", "gateway_id": .string(igw.id)])]),
        ]
        let created = try await aws.create(ctx, config)
        #expect(created.id.hasPrefix("rtb-"))
        #expect(created.attributes["routes"] == config["routes"], "the local route is not the stack's")
        try await ComputeFixture.expectNoChange(aws, ctx, created, config)
        func routes() throws -> [String: String] {
            let table = (try ComputeFixture.cli(endpoint, ["ec2", "describe-route-tables", "--route-table-ids", created.id])["RouteTables"]
                as? [[String: Any]])?.first
            var out: [String: String] = [:]
            for r in table?["Routes"] as? [[String: Any]] ?? [] {
                out[r["DestinationCidrBlock"] as? String ?? ""] = (r["GatewayId"] ?? r["NatGatewayId"] ?? r["InstanceId"]) as? String
            }
            return out
        }
        #expect(try routes() == ["10.20.0.0/16": "local", "0.0.0.0/0": igw.id])

        // Out of band: the default route sent to a NAT gateway, and an extra route added.
        let allocation = try ComputeFixture.cli(endpoint, ["ec2", "allocate-address", "--domain", "vpc"])["AllocationId"] as? String ?? ""
        let nat = (try ComputeFixture.cli(endpoint, ["ec2", "create-nat-gateway", "--subnet-id", net.subnet, "--allocation-id", allocation])["NatGateway"]
            as? [String: Any])?["NatGatewayId"] as? String ?? ""
        ComputeFixture.run(endpoint, ["ec2", "replace-route", "--route-table-id", created.id, "--destination-cidr-block", "0.0.0.0/0",
                                      "--nat-gateway-id", nat])
        ComputeFixture.run(endpoint, ["ec2", "create-route", "--route-table-id", created.id, "--destination-cidr-block", "192.168.0.0/16",
                                      "--gateway-id", igw.id])
        let drifted = try #require(try await aws.read(ctx, created))
        #expect(drifted.attributes["routes"] == .list([
            .map(["destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": .string(nat)]),
            .map(["destination_cidr_block": "192.168.0.0/16", "gateway_id": .string(igw.id)]),
        ]))
        let repaired = try await aws.update(ctx, drifted, config)
        try await ComputeFixture.expectNoChange(aws, ctx, repaired, config)
        #expect(try routes() == ["10.20.0.0/16": "local", "0.0.0.0/0": igw.id])
        #expect(try await aws.find(ctx, config)?.id == created.id)

        // The subnet's association: made, found by route table and subnet, moved back when moved away.
        let assocCtx = Moto.context("route_table_association", "public.a")
        let assocConfig: [String: AttributeValue] = ["route_table_id": .string(created.id), "subnet_id": .string(net.subnet), "region": "us-east-1"]
        let association = try await aws.create(assocCtx, assocConfig)
        #expect(association.id.hasPrefix("rtbassoc-"))
        try await ComputeFixture.expectNoChange(aws, assocCtx, association, assocConfig)
        #expect(try await aws.find(assocCtx, assocConfig)?.id == association.id)
        func associatedTable() throws -> String? {
            let tables = try ComputeFixture.cli(endpoint, ["ec2", "describe-route-tables", "--filters", "Name=association.subnet-id,Values=\(net.subnet)"])
            return ((tables["RouteTables"] as? [[String: Any]])?.first)?["RouteTableId"] as? String
        }
        #expect(try associatedTable() == created.id)

        let mains = try ComputeFixture.cli(endpoint, ["ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values=\(net.vpc)",
                                                      "Name=association.main,Values=true"])
        let main = try #require((mains["RouteTables"] as? [[String: Any]])?.first?["RouteTableId"] as? String)
        ComputeFixture.run(endpoint, ["ec2", "replace-route-table-association", "--association-id", association.id, "--route-table-id", main])
        #expect(try await aws.read(assocCtx, association) == nil, "the association the stack made is gone")
        let again = try await aws.create(assocCtx, assocConfig)
        #expect(try associatedTable() == created.id, "the subnet is back with the stack's table")
        try await ComputeFixture.expectNoChange(aws, assocCtx, again, assocConfig)

        try await aws.delete(assocCtx, again)
        #expect(try await aws.read(assocCtx, again) == nil)
        #expect(try associatedTable() == nil)
        try await aws.delete(assocCtx, again)
        try await aws.delete(ctx, repaired)
        #expect(try await aws.read(ctx, repaired) == nil)
        let left = try ComputeFixture.cli(endpoint, ["ec2", "describe-route-tables", "--filters", "Name=tag:maif:stack,Values=prod"])
        #expect((left["RouteTables"] as? [Any])?.isEmpty == true)
    }
}
