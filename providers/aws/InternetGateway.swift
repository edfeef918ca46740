/// The internet gateway resource: created, attached to its VPC, moved when the VPC changes, detached before delete.

import Foundation
import ProviderKit

struct InternetGatewayResource: AWSProvider.Resource {
    let ec2: EC2
    static let type = "aws.internet_gateway"

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let xml = try await ec2.call("CreateInternetGateway", EC2.tagSpecification("internet-gateway", tagMap(config)))
        guard let id = xml.value("internetGateway", "internetGatewayId"), !id.isEmpty else {
            throw ProviderError(address: context.address, call: "ec2 CreateInternetGateway", message: "the response named no gateway")
        }
        if let vpc = config["vpc_id"]?.text { try await attach(id, vpc) }
        return try await readOrFail(context, id)
    }

    func attach(_ id: String, _ vpc: String) async throws {
        _ = try await ec2.call("AttachInternetGateway", ["InternetGatewayId": id, "VpcId": vpc])
    }

    /// Detaching fails while instances in the VPC still hold public addresses (they may be terminating in
    /// parallel): retried, bounded.
    func detach(_ id: String, _ vpc: String) async throws {
        for attempt in 0... {
            do {
                _ = try await ec2.call("DetachInternetGateway", ["InternetGatewayId": id, "VpcId": vpc])
                return
            } catch let error as AWSError where error.code == "Gateway.NotAttached" || error.code.hasSuffix("NotFound") {
                return
            } catch let error as AWSError where error.code == "DependencyViolation" && attempt < 12 {
                try await Task.sleep(nanoseconds: UInt64(min(0.5 * pow(2, Double(attempt)), 30) * 1e9))
            }
        }
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let xml = try await ec2.describe("DescribeInternetGateways", ["InternetGatewayId.1": id]),
              let item = xml.items("internetGatewaySet").first else { return nil }
        let owner = item.value("ownerId") ?? ""
        // "available" is what EC2 reports for a gateway attached to a VPC; "attached" is accepted too.
        let vpc = item.items("attachmentSet").first { ["available", "attached"].contains($0.value("state") ?? "") }?.value("vpcId")
        return ResourceState(id: id, attributes: [
            "id": .string(id), "arn": .string("arn:aws:ec2:\(ec2.region):\(owner):internet-gateway/\(id)"),
            "vpc_id": vpc.map { .string($0) } ?? .null,
            "tags": EC2.tags(item), "region": .string(ec2.region),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        let have = current.attributes["vpc_id"]?.text, wanted = config["vpc_id"]?.text
        if have != wanted {
            if let have { try await detach(prior.id, have) }
            if let wanted { try await attach(prior.id, wanted) }
        }
        try await ec2.syncTags(prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        guard let current = try await read(context, id: prior.id) else { return }
        if let vpc = current.attributes["vpc_id"]?.text { try await detach(prior.id, vpc) }
        try await ec2.delete("DeleteInternetGateway", ["InternetGatewayId": prior.id])
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await ec2.findOwned(context, "DescribeInternetGateways", set: "internetGatewaySet", idKey: "internetGatewayId") { try await read(context, id: $0) }
    }
}
