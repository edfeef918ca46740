/// The route table resource with its routes, and a subnet's association with a route table. Routes converge one
/// destination at a time (CreateRoute, ReplaceRoute, DeleteRoute); the VPC's own local route is not the stack's.

import Foundation
import ProviderKit

/// One route: a destination and where it goes.
struct Route: Equatable {
    var destination: String
    /// Target attribute (gateway_id, nat_gateway_id, instance_id, …) and value.
    var target: [String: String]

    /// Target attributes the schema offers, as (attribute, query member, XML element).
    static let targets = [("gateway_id", "GatewayId", "gatewayId"), ("nat_gateway_id", "NatGatewayId", "natGatewayId"),
                          ("instance_id", "InstanceId", "instanceId"), ("network_interface_id", "NetworkInterfaceId", "networkInterfaceId"),
                          ("vpc_peering_connection_id", "VpcPeeringConnectionId", "vpcPeeringConnectionId"),
                          ("transit_gateway_id", "TransitGatewayId", "transitGatewayId")]

    static func from(_ value: AttributeValue?) -> [Route] {
        (value?.listValue ?? []).compactMap { item in
            guard let m = item.mapValue, let destination = m["destination_cidr_block"]?.text else { return nil }
            var target: [String: String] = [:]
            for (attribute, _, _) in targets { if let v = m[attribute]?.text, !v.isEmpty { target[attribute] = v } }
            return Route(destination: destination, target: target)
        }
    }

    /// Routes in a DescribeRouteTables `routeSet`, without the local route.
    static func parse(_ items: [XMLNode]) -> [Route] {
        items.compactMap { item in
            guard let destination = item.value("destinationCidrBlock"), item.value("gatewayId") != "local" else { return nil }
            var target: [String: String] = [:]
            for (attribute, _, element) in targets { if let v = item.value(element), !v.isEmpty { target[attribute] = v } }
            // A route to an instance goes to its network interface too; the stack names only the instance.
            if target["instance_id"] != nil { target["network_interface_id"] = nil }
            return Route(destination: destination, target: target)
        }
    }

    static func attribute(_ routes: [Route]) -> AttributeValue {
        .list(routes.sorted { $0.destination < $1.destination }.map { r in
            .map(r.target.mapValues { .string($0) }.merging(["destination_cidr_block": .string(r.destination)]) { $1 })
        })
    }

    func params(_ routeTable: String) -> [String: String] {
        var params = ["RouteTableId": routeTable, "DestinationCidrBlock": destination]
        for (attribute, member, _) in Self.targets { if let v = target[attribute] { params[member] = v } }
        return params
    }
}

struct RouteTableResource: AWSProvider.Resource {
    let ec2: EC2
    static let type = "aws.route_table"

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = EC2.tagSpecification("route-table", tagMap(config))
        params["VpcId"] = config["vpc_id"]?.text
        let xml = try await ec2.call("CreateRouteTable", params.compactMapValues { $0 })
        guard let id = xml.value("routeTable", "routeTableId"), !id.isEmpty else {
            throw ProviderError(address: context.address, call: "ec2 CreateRouteTable", message: "the response named no route table")
        }
        let state = try await readOrFail(context, id)
        try await syncRoutes(id, have: Route.from(state.attributes["routes"]), config)
        return try await readOrFail(context, id)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let xml = try await ec2.describe("DescribeRouteTables", ["RouteTableId.1": id]),
              let item = xml.items("routeTableSet").first else { return nil }
        return ResourceState(id: id, attributes: [
            "id": .string(id), "vpc_id": .string(item.value("vpcId") ?? ""),
            "routes": Route.attribute(Route.parse(item.items("routeSet"))),
            "tags": EC2.tags(item), "region": .string(ec2.region),
        ])
    }

    /// Creates missing routes, repoints changed ones and deletes the ones the stack does not have; only when the
    /// stack manages routes at all.
    func syncRoutes(_ id: String, have: [Route], _ config: [String: AttributeValue]) async throws {
        guard config["routes"] != nil else { return }
        let wanted = Route.from(config["routes"])
        let current = Dictionary(have.map { ($0.destination, $0) }, uniquingKeysWith: { a, _ in a })
        let wantedDestinations = Set(wanted.map(\.destination))
        for route in have where !wantedDestinations.contains(route.destination) {
            try await ec2.delete("DeleteRoute", ["RouteTableId": id, "DestinationCidrBlock": route.destination])
        }
        for route in wanted {
            switch current[route.destination] {
            case nil: _ = try await ec2.call("CreateRoute", route.params(id))
            case let old? where old.target != route.target: _ = try await ec2.call("ReplaceRoute", route.params(id))
            default: break
            }
        }
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        try await syncRoutes(prior.id, have: Route.from(current.attributes["routes"]), config)
        try await ec2.syncTags(prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        // Associations made outside the stack would block the delete; the stack's own are deleted before this.
        try await ec2.delete("DeleteRouteTable", ["RouteTableId": prior.id])
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await ec2.findOwned(context, "DescribeRouteTables", set: "routeTableSet", idKey: "routeTableId") { try await read(context, id: $0) }
    }
}

/// A subnet's association with a route table. AWS gives it no tags: it is found by route table and subnet.
struct RouteTableAssociationResource: AWSProvider.Resource {
    let ec2: EC2
    static let type = "aws.route_table_association"

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let table = config["route_table_id"]?.text ?? "", subnet = config["subnet_id"]?.text ?? ""
        var id: String
        do {
            id = try await ec2.call("AssociateRouteTable", ["RouteTableId": table, "SubnetId": subnet]).value("associationId") ?? ""
        } catch let error as AWSError where error.code == "Resource.AlreadyAssociated" {
            guard let existing = try await association(subnet: subnet) else { throw error }
            id = existing.id
        }
        // The subnet was moved to another table out of band (AWS answers Resource.AlreadyAssociated, moto that
        // table's association): move it back, which gives a new association id.
        if try await readOrFail(context, id).attributes["route_table_id"]?.text != table {
            id = try await ec2.call("ReplaceRouteTableAssociation", ["AssociationId": id, "RouteTableId": table]).value("newAssociationId") ?? ""
        }
        return try await readOrFail(context, id)
    }

    /// The explicit association of a subnet, whichever table it is with.
    func association(subnet: String) async throws -> (id: String, table: String)? {
        let xml = try await ec2.call("DescribeRouteTables", ["Filter.1.Name": "association.subnet-id", "Filter.1.Value.1": subnet])
        for table in xml.items("routeTableSet") {
            for a in table.items("associationSet") where a.value("subnetId") == subnet && a.value("associationState", "state") != "disassociated" {
                if let id = a.value("routeTableAssociationId") { return (id, table.value("routeTableId") ?? "") }
            }
        }
        return nil
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        let xml = try await ec2.call("DescribeRouteTables", ["Filter.1.Name": "association.route-table-association-id", "Filter.1.Value.1": id])
        for table in xml.items("routeTableSet") {
            for a in table.items("associationSet") where a.value("routeTableAssociationId") == id {
                guard a.value("associationState", "state") != "disassociated", let subnet = a.value("subnetId") else { return nil }
                return ResourceState(id: id, attributes: [
                    "id": .string(id), "route_table_id": .string(table.value("routeTableId") ?? ""),
                    "subnet_id": .string(subnet), "region": .string(ec2.region),
                ])
            }
        }
        return nil
    }

    /// Both attributes force a new association; only the region is left, and it cannot change either.
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await ec2.delete("DisassociateRouteTable", ["AssociationId": prior.id])
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let subnet = config["subnet_id"]?.text, let existing = try await association(subnet: subnet),
              existing.table == config["route_table_id"]?.text else { return nil }
        return try await read(context, id: existing.id)
    }
}
