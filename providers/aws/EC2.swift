/// EC2 over the query protocol, and the VPC and subnet resources.

import Foundation
import ProviderKit

struct EC2: Sendable {
    let client: AWSClient
    static let version = "2016-11-15"

    func call(_ action: String, _ params: [String: String] = [:]) async throws -> XMLNode {
        try await client.query("ec2", version: Self.version, action, params)
    }

    var region: String { client.settings.region }

    /// `TagSpecification.1.*` for a create call.
    static func tagSpecification(_ resourceType: String, _ tags: [String: String]) -> [String: String] {
        var params = ["TagSpecification.1.ResourceType": resourceType]
        for (i, key) in tags.keys.sorted().enumerated() {
            params["TagSpecification.1.Tag.\(i + 1).Key"] = key
            params["TagSpecification.1.Tag.\(i + 1).Value"] = tags[key]
        }
        return tags.isEmpty ? [:] : params
    }

    static func tags(_ item: XMLNode) -> AttributeValue {
        var m: [String: AttributeValue] = [:]
        for tag in item.items("tagSet") { if let k = tag.value("key") { m[k] = .string(tag.value("value") ?? "") } }
        return .map(m)
    }

    /// Filters selecting what this stack created for this address.
    static func ownerFilters(_ context: ResourceContext) -> [String: String] {
        ["Filter.1.Name": "tag:maif:stack", "Filter.1.Value.1": context.stack,
         "Filter.2.Name": "tag:maif:address", "Filter.2.Value.1": context.address.description]
    }

    /// What a create for this address left behind: the first object `action` lists (in `set`, id under `idKey`) that
    /// carries the stack's and address's tags, read back with `read`; nil when there is none.
    func findOwned(_ context: ResourceContext, _ action: String, set: String, idKey: String,
                   read: (String) async throws -> ResourceState?) async throws -> ResourceState? {
        let xml = try await call(action, Self.ownerFilters(context))
        guard let id = xml.items(set).first?.value(idKey) else { return nil }
        return try await read(id)
    }

    /// Brings a resource's tags to `wanted` (CreateTags for new or changed, DeleteTags for removed).
    func syncTags(_ id: String, from current: [String: String], to wanted: [String: String]) async throws {
        let changed = wanted.filter { current[$0.key] != $0.value }
        if !changed.isEmpty {
            var params = ["ResourceId.1": id]
            for (i, key) in changed.keys.sorted().enumerated() {
                params["Tag.\(i + 1).Key"] = key
                params["Tag.\(i + 1).Value"] = changed[key]
            }
            _ = try await call("CreateTags", params)
        }
        let removed = current.keys.filter { wanted[$0] == nil }.sorted()
        if !removed.isEmpty {
            var params = ["ResourceId.1": id]
            for (i, key) in removed.enumerated() { params["Tag.\(i + 1).Key"] = key }
            _ = try await call("DeleteTags", params)
        }
    }

    /// nil when AWS answers with a `*.NotFound` code.
    func describe(_ action: String, _ params: [String: String]) async throws -> XMLNode? {
        do { return try await call(action, params) } catch let error as AWSError where error.code.hasSuffix("NotFound") { return nil }
    }

    /// Deletes, treating NotFound as already deleted.
    func delete(_ action: String, _ params: [String: String]) async throws {
        do { _ = try await call(action, params) } catch let error as AWSError where error.code.hasSuffix("NotFound") {}
    }
}

func stringMap(_ value: AttributeValue?) -> [String: String] {
    value?.mapValue?.compactMapValues(\.text) ?? [:]
}

struct VPCResource: AWSProvider.Resource {
    let ec2: EC2

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = EC2.tagSpecification("vpc", tagMap(config))
        params["CidrBlock"] = config["cidr_block"]?.text
        params["InstanceTenancy"] = config["instance_tenancy"]?.text
        let id = try await ec2.call("CreateVpc", params.compactMapValues { $0 }).value("vpc", "vpcId") ?? ""
        try await setAttributes(id, config)
        return try await readOrFail(context, id)
    }

    func setAttributes(_ id: String, _ config: [String: AttributeValue], current: ResourceState? = nil) async throws {
        for (attribute, api) in [("enable_dns_support", "EnableDnsSupport"), ("enable_dns_hostnames", "EnableDnsHostnames")] {
            guard let wanted = config[attribute]?.boolValue_, current?.attributes[attribute]?.boolValue_ != wanted else { continue }
            _ = try await ec2.call("ModifyVpcAttribute", ["VpcId": id, "\(api).Value": String(wanted)])
        }
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let xml = try await ec2.describe("DescribeVpcs", ["VpcId.1": id]), let item = xml.items("vpcSet").first else { return nil }
        var a: [String: AttributeValue] = [
            "id": .string(id), "cidr_block": .string(item.value("cidrBlock") ?? ""),
            "instance_tenancy": .string(item.value("instanceTenancy") ?? "default"),
            "owner_id": .string(item.value("ownerId") ?? ""), "tags": EC2.tags(item), "region": .string(ec2.region),
        ]
        a["arn"] = .string("arn:aws:ec2:\(ec2.region):\(item.value("ownerId") ?? ""):vpc/\(id)")
        for (attribute, api) in [("enable_dns_support", "enableDnsSupport"), ("enable_dns_hostnames", "enableDnsHostnames")] {
            let xml = try await ec2.call("DescribeVpcAttribute", ["VpcId": id, "Attribute": api])
            a[attribute] = .bool(xml.value(api, "value") == "true")
        }
        let routes = try await ec2.call("DescribeRouteTables", ["Filter.1.Name": "vpc-id", "Filter.1.Value.1": id,
                                                                "Filter.2.Name": "association.main", "Filter.2.Value.1": "true"])
        a["main_route_table_id"] = .string(routes.items("routeTableSet").first?.value("routeTableId") ?? "")
        let groups = try await ec2.call("DescribeSecurityGroups", ["Filter.1.Name": "vpc-id", "Filter.1.Value.1": id,
                                                                   "Filter.2.Name": "group-name", "Filter.2.Value.1": "default"])
        a["default_security_group_id"] = .string(groups.items("securityGroupInfo").first?.value("groupId") ?? "")
        return ResourceState(id: id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        try await setAttributes(prior.id, config, current: current)
        try await ec2.syncTags(prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await ec2.delete("DeleteVpc", ["VpcId": prior.id])
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await ec2.findOwned(context, "DescribeVpcs", set: "vpcSet", idKey: "vpcId") { try await read(context, id: $0) }
    }
}

struct SubnetResource: AWSProvider.Resource {
    let ec2: EC2

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = EC2.tagSpecification("subnet", tagMap(config))
        params["VpcId"] = config["vpc_id"]?.text
        params["CidrBlock"] = config["cidr_block"]?.text
        params["AvailabilityZone"] = config["availability_zone"]?.text
        let id = try await ec2.call("CreateSubnet", params.compactMapValues { $0 }).value("subnet", "subnetId") ?? ""
        if config["map_public_ip_on_launch"]?.boolValue_ == true { try await setPublicIP(id, true) }
        return try await readOrFail(context, id)
    }

    func setPublicIP(_ id: String, _ on: Bool) async throws {
        _ = try await ec2.call("ModifySubnetAttribute", ["SubnetId": id, "MapPublicIpOnLaunch.Value": String(on)])
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let xml = try await ec2.describe("DescribeSubnets", ["SubnetId.1": id]), let item = xml.items("subnetSet").first else { return nil }
        return ResourceState(id: id, attributes: [
            "id": .string(id), "vpc_id": .string(item.value("vpcId") ?? ""), "cidr_block": .string(item.value("cidrBlock") ?? ""),
            "availability_zone": .string(item.value("availabilityZone") ?? ""),
            "map_public_ip_on_launch": .bool(item.value("mapPublicIpOnLaunch") == "true"),
            "arn": .string(item.value("subnetArn") ?? "arn:aws:ec2:\(ec2.region):\(item.value("ownerId") ?? ""):subnet/\(id)"),
            "tags": EC2.tags(item), "region": .string(ec2.region),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        if let wanted = config["map_public_ip_on_launch"]?.boolValue_, current.attributes["map_public_ip_on_launch"]?.boolValue_ != wanted {
            try await setPublicIP(prior.id, wanted)
        }
        try await ec2.syncTags(prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await ec2.delete("DeleteSubnet", ["SubnetId": prior.id])
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await ec2.findOwned(context, "DescribeSubnets", set: "subnetSet", idKey: "subnetId") { try await read(context, id: $0) }
    }
}
