/// The network of an AWS cluster: VPC, one subnet per availability zone routed to an internet gateway,
/// and two security groups — the load balancer's (MAIF port from clients) and the nodes' (MAIF port only
/// from the load balancer, each other and, with `multi_cloud.cross_cloud_networking`, the stack's other clusters;
/// SSH only from `security.admin_cidrs`). With `multi_cloud.deployments.aws.networking: vpc-…` the cluster lives in that
/// existing VPC: maifctl makes only its subnets (routed by the VPC's main route table) and security groups there.

import ProviderKit
import StackModel

extension AWSClusterExpansion {
    /// The id of the VPC the cluster's subnets and groups are in: the stack's existing one, or the one made here.
    var vpcID: AttributeValue { existingVPC.map(AttributeValue.string) ?? ref(vpc, "id") }

    /// `multi_cloud.deployments.aws.networking` when it names a VPC (`vpc-…`).
    var existingVPC: String? { deployment?.networking.flatMap { $0.hasPrefix("vpc-") ? $0 : nil } }

    func network() -> [DesiredResource] {
        var out: [DesiredResource] = []
        if existingVPC == nil {
            out.append(resource(vpc, [
                "cidr_block": .string(vpcCIDR),
                "enable_dns_support": true,
                "enable_dns_hostnames": true,
            ], tags: ["Name": cluster.name], origin: cluster.location))

            out.append(resource(internetGateway, ["vpc_id": ref(vpc, "id")], tags: ["Name": cluster.name], origin: cluster.location))
            out.append(resource(routeTable, [
                "vpc_id": ref(vpc, "id"),
                "routes": .list([.map(["destination_cidr_block": "0.0.0.0/0", "gateway_id": ref(internetGateway, "id")])]),
            ], tags: ["Name": "\(cluster.name)-public"], origin: cluster.location))
        }

        for zone in zones {
            out.append(resource(subnet(zone), [
                "vpc_id": vpcID,
                "cidr_block": .string(subnetCIDR(zone)),
                "availability_zone": .string(zone),
                "map_public_ip_on_launch": false,
            ], tags: ["Name": "\(cluster.name)-\(zone)"], origin: cluster.location))
            if existingVPC == nil {
                out.append(untagged(address("route_table_association", zone), [
                    "route_table_id": ref(routeTable, "id"),
                    "subnet_id": ref(subnet(zone), "id"),
                ], origin: cluster.location))
            }
        }

        let clients = internetFacing ? "0.0.0.0/0" : vpcCIDR
        out.append(resource(balancerGroup, [
            "group_name": .string("\(cluster.name)-lb"),
            "description": .string("MAIF load balancer of cluster \(cluster.name), stack \(stack.meta.name)"),
            "vpc_id": vpcID,
            "ingress": .list([Self.rule(port: ports[0], cidrs: [clients], "MAIF clients")]),
            "egress": .list(ports.map { Self.rule(port: $0, cidrs: [vpcCIDR], "to the MAIF nodes") }),
        ], tags: ["Name": "\(cluster.name)-lb"], origin: stack.loadBalancing?.location ?? cluster.location))

        var ingress: [AttributeValue] = ports.map { port in
            Self.rule(port: port, from: ["group_id": ref(balancerGroup, "id"), "description": "MAIF port from the load balancer"])
        }
        // The group itself as the source: `self` stands for its own id, which a reference cannot name without a cycle.
        ingress += ports.map { Self.rule(port: $0, from: ["self": true, "description": "replication between the nodes"]) }
        let peers = stack.multiCloud?.crossCloudNetworking == false ? [] : Networks.peerRanges(of: cluster, in: stack)
        if !peers.isEmpty {
            ingress += ports.map { Self.rule(port: $0, cidrs: peers, "replication from the stack's other clusters") }
        }
        let admin = stack.security?.adminCIDRs ?? []
        if !admin.isEmpty {
            ingress.append(Self.rule(port: 22, cidrs: admin, "admin (security.admin_cidrs)"))
        }
        out.append(resource(nodesGroup, [
            "group_name": .string("\(cluster.name)-nodes"),
            "description": .string("MAIF nodes of cluster \(cluster.name), stack \(stack.meta.name)"),
            "vpc_id": vpcID,
            "ingress": .list(ingress),
            "egress": .list([.map(["ip_protocol": "-1", "ip_ranges": .list([.map(["cidr_ip": "0.0.0.0/0", "description": "all outbound"])])])]),
        ], tags: ["Name": "\(cluster.name)-nodes"], origin: stack.security?.location ?? cluster.location))
        return out
    }

    /// A TCP IpPermission for one port, from CIDR ranges or from a security group (`from`: a UserIdGroupPair).
    static func rule(port: Int, cidrs: [String] = [], _ description: String = "", from group: [String: AttributeValue]? = nil) -> AttributeValue {
        var rule: [String: AttributeValue] = ["ip_protocol": "tcp", "from_port": .int(Int64(port)), "to_port": .int(Int64(port))]
        if !cidrs.isEmpty {
            rule["ip_ranges"] = .list(cidrs.map { .map(["cidr_ip": .string($0), "description": .string(description)]) })
        }
        if let group { rule["user_id_group_pairs"] = .list([.map(group)]) }
        return .map(rule)
    }

    /// The cluster's private /16, shared with the other platforms' expansions so that clusters never overlap.
    var vpcCIDR: String { Networks.networkRange(of: cluster, in: stack) ?? "10.0.0.0/16" }

    /// A /24 per zone, numbered by the zone's letter (a → .1.0/24) so that adding a zone never moves another.
    func subnetCIDR(_ zone: String) -> String {
        let letters = zones.compactMap { $0.last?.asciiValue }
        let index: Int
        if Set(letters).count == zones.count, let letter = zone.last?.asciiValue, letter >= 97, letter <= 122 {
            index = Int(letter - 97) + 1
        } else {
            index = (zones.firstIndex(of: zone) ?? 0) + 1
        }
        let prefix = vpcCIDR.split(separator: ".").prefix(2).joined(separator: ".")
        return "\(prefix).\(index).0/24"
    }
}
