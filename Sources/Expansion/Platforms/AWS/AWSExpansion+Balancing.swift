/// The load balancer of an AWS cluster: a network load balancer passing TCP through to the MAIF port (so
/// the nodes' own TLS and mutual TLS reach the clients unchanged), its target group with the health check
/// of `load_balancing`, a listener, and one target attachment per node carrying the node's weight.

import ProviderKit
import StackModel

extension AWSClusterExpansion {
    func loadBalancer() -> [DesiredResource] {
        let lb = loadBalancing
        let origin = stack.loadBalancing?.location ?? cluster.location
        var out: [DesiredResource] = []
        out.append(resource(balancer, [
            "name": .string(AWSExpansion.elbName(cluster.name)),
            "type": "network",
            "scheme": internetFacing ? "internet-facing" : "internal",
            "subnets": .list(zones.map { ref(subnet($0), "id") }),
            "security_groups": .list([ref(balancerGroup, "id")]),
            "ip_address_type": "ipv4",
            "attributes": .map(["load_balancing.cross_zone.enabled": "true"]),
        ], origin: origin))

        out.append(resource(targetGroup, [
            "name": .string(AWSExpansion.elbName(cluster.name)),
            "protocol": "TCP",
            "port": .int(Int64(ports[0])),
            "vpc_id": vpcID,
            "target_type": "instance",
            "health_check_enabled": true,
            "health_check_protocol": tls ? "HTTPS" : "HTTP",
            "health_check_port": "traffic-port",
            "health_check_path": .string(lb.healthCheckPath),
            // ELBv2 accepts 5–300 seconds and 2–10 checks.
            "health_check_interval_seconds": .int(Int64(min(300, max(5, lb.healthCheckInterval.seconds.rounded(.up))))),
            "unhealthy_threshold_count": .int(Int64(min(10, max(2, lb.failureThreshold)))),
            "healthy_threshold_count": .int(Int64(min(10, max(2, lb.recoveryThreshold)))),
        ], origin: origin))

        out.append(resource(address("lb_listener"), [
            "load_balancer_arn": ref(balancer, "arn"),
            "protocol": "TCP",
            "port": .int(Int64(ports[0])),
            "default_actions": .list([.map(["type": "forward", "target_group_arn": ref(targetGroup, "arn")])]),
            "endpoint": .string("${\(balancer).dns_name}:\(ports[0])"),
        ], origin: origin))

        for node in cluster.nodes {
            out.append(untagged(address("lb_target_group_attachment", node.id), [
                "target_group_arn": ref(targetGroup, "arn"),
                "target_id": ref(instance(node), "id"),
                "port": .int(Int64(node.port)),
                "weight": .double(lb.weights[node.id] ?? node.weight),
            ], origin: node.location))
        }
        return out
    }

    /// What a network load balancer cannot do with `load_balancing`: it hashes each TCP flow to a healthy target
    /// (so TLS and mutual TLS pass through to the nodes), with no algorithm to choose and no per-target weights.
    /// An application load balancer could weigh targets, but it would end TLS at the balancer.
    func balancingWarnings() -> [Diagnostic] {
        FlowHashBalancerWarnings(prefix: "aws", noWeights: "an AWS network load balancer has no per-target weights",
                                 balancer: "an AWS network load balancer, which sends each connection to a target by a hash of the flow",
                                 weightsHint: "the weights still reach each node's cluster.yaml (MAIF's own routing uses them); drop them for AWS clusters to silence this")
            .diagnostics(cluster: cluster, in: stack)
    }
}
