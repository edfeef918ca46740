/// The load balancer of a GCP cluster: an external passthrough network load balancer, so MAIF's own TLS and mutual TLS
/// reach clients unchanged — a regional health check with `load_balancing`'s interval, path and thresholds, a regional
/// backend service over one unmanaged instance group per zone of named nodes (and the managed group of auto scaling),
/// and a forwarding rule on the MAIF port.
///
/// Not expressible on GCP, and said so with a warning: per-node weights (a passthrough load balancer spreads connections
/// by a hash of the connection, evenly over healthy backends) and strategies other than that spread.

import ProviderKit
import StackModel

extension GCPCluster {
    var healthCheck: ResourceAddress { address("health_check") }
    var backendService: ResourceAddress { address("backend_service") }
    var forwardingRule: ResourceAddress { address("forwarding_rule") }
    func instanceGroup(_ zone: String) -> ResourceAddress { address("instance_group", zone) }

    var loadBalancingSettings: LoadBalancing { stack.loadBalancing ?? LoadBalancing() }

    func loadBalancer() -> PlatformOutput {
        var out = PlatformOutput()
        let lb = loadBalancingSettings
        let origin = stack.loadBalancing?.location ?? cluster.location
        let port = Int64(ports[0])

        // GCP takes 1-300 s between probes, a timeout no longer than that, and 1-10 probes either way.
        let interval = Int64(min(300, max(1, lb.healthCheckInterval.seconds.rounded(.up))))
        let probe: [String: AttributeValue] = ["port": .int(port), "request_path": .string(lb.healthCheckPath)]
        out.resources.append(resource(healthCheck, [
            "name": .string(GCPExpansion.resourceName(base)),
            "description": described(healthCheck),
            "region": .string(region),
            "type": .string(tls ? "HTTPS" : "HTTP"),
            tls ? "https_health_check" : "http_health_check": .map(probe),
            "check_interval_sec": .int(interval),
            "timeout_sec": .int(min(interval, 5)),
            "healthy_threshold": .int(Int64(min(10, max(1, lb.recoveryThreshold)))),
            "unhealthy_threshold": .int(Int64(min(10, max(1, lb.failureThreshold)))),
        ], origin: origin))

        // Named nodes join an unmanaged group of their zone: a backend service balances to groups, not to instances.
        var groups: [AttributeValue] = []
        let byZone = Dictionary(grouping: nodeZones, by: { $0.zone })
        for zone in byZone.keys.sorted() {
            let group = instanceGroup(zone)
            out.resources.append(resource(group, [
                "name": .string(GCPExpansion.resourceName(base, ComputeZone.suffix(zone))),
                "description": described(group),
                "zone": .string(zone),
                "network": ref(networkAddress, "self_link"),
                "instances": .list(byZone[zone]!.map { ref(instance($0.node), "self_link") }),
            ], lifecycle: createdOnce, origin: cluster.location))
            groups.append(.map(["group": ref(group, "self_link"), "balancing_mode": "CONNECTION"]))
        }
        if hasManagedGroup {
            groups.append(.map(["group": ref(instanceGroupManager, "instance_group"), "balancing_mode": "CONNECTION"]))
        }
        out.resources.append(resource(backendService, [
            "name": .string(GCPExpansion.resourceName(base)),
            "description": described(backendService),
            "region": .string(region),
            "load_balancing_scheme": "EXTERNAL",
            "protocol": "TCP",
            "health_checks": .list([ref(healthCheck, "self_link")]),
            "backends": .list(groups),
        ], origin: origin))

        out.resources.append(resource(forwardingRule, [
            "name": .string(GCPExpansion.resourceName(base)),
            "region": .string(region),
            "ip_protocol": "TCP",
            "ports": .list([.string(String(port))]),
            "backend_service": ref(backendService, "self_link"),
            "load_balancing_scheme": "EXTERNAL",
            "network_tier": "PREMIUM",
            "labels": labels(forwardingRule),
        ], origin: origin))

        out.diagnostics += balancingWarnings()
        return out
    }

    func balancingWarnings() -> [Diagnostic] {
        FlowHashBalancerWarnings(prefix: "gcp", noWeights: "GCP's passthrough network load balancer has no per-instance weights",
                                 balancer: "GCP's passthrough network load balancer, which spreads connections by a hash of each connection",
                                 weightsHint: "the weights still reach cluster.yaml; drop them for GCP clusters to silence this")
            .diagnostics(cluster: cluster, in: stack)
    }
}

enum ComputeZone {
    /// `us-central1-a` → `a`: what tells a cluster's per-zone resources apart.
    static func suffix(_ zone: String) -> String {
        String(zone.split(separator: "-").last ?? Substring(zone))
    }
}
