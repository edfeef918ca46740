/// The load balancer of an Azure cluster: a Standard load balancer passing TCP through to the MAIF port (so the nodes'
/// own TLS and mutual TLS reach clients unchanged) on a static public IP (or, for a cluster the hybrid section keeps on a
/// private network, an address in its subnet), one backend pool every node's network interface (and every scale set
/// instance) joins, and the health probe of `load_balancing`.
///
/// Azure's probe has one threshold for both directions and its rules spread connections by a hash of their 5-tuple:
/// a recovery threshold unlike the failure threshold, node weights and other strategies are warnings.

import ProviderKit
import StackModel

extension AzureClusterExpansion {
    func loadBalancer() -> PlatformOutput {
        var out = PlatformOutput()
        let lb = loadBalancing
        let origin = stack.loadBalancing?.location ?? cluster.location
        var frontend: [String: AttributeValue] = ["name": "frontend"]
        if internetFacing {
            out.resources.append(resource(balancerIP, [
                "name": .string("\(base)-lb-ip"),
                "sku": .map(["name": "Standard", "tier": "Regional"]),
                "public_ip_allocation_method": "Static",
                "public_ip_address_version": "IPv4",
                "dns_settings": .map(["domain_name_label": .string(AzureExpansion.globalName(base, seed: "\(stack.meta.name)/\(cluster.name)"))]),
            ], origin: origin))
            frontend["public_ip_address"] = .map(["id": ref(balancerIP, "id")])
        } else {
            frontend["subnet"] = .map(["id": ref(subnet, "id")])
            frontend["private_ip_allocation_method"] = "Dynamic"
        }
        // Azure probes every 5 seconds at least; one count of consecutive answers takes a node out and puts it back.
        let interval = Int64(max(5, lb.healthCheckInterval.seconds.rounded(.up)))
        let threshold = Int64(max(1, lb.failureThreshold))
        var balancerConfig: [String: AttributeValue] = [
            "name": .string("\(base)-lb"),
            "sku": .map(["name": "Standard", "tier": "Regional"]),
            "frontend_ip_configurations": .list([.map(frontend)]),
            "backend_address_pools": .list([.map(["name": .string(Self.poolName)])]),
            "probes": .list([.map([
                "name": "health",
                "protocol": tls ? "Https" : "Http",
                "port": .int(Int64(ports[0])),
                "request_path": .string(lb.healthCheckPath),
                "interval_in_seconds": .int(interval),
                "number_of_probes": .int(threshold),
                "probe_threshold": .int(threshold),
            ])]),
            "load_balancing_rules": .list([.map([
                "name": .string("maif-\(ports[0])"),
                "protocol": "Tcp",
                "frontend_port": .int(Int64(ports[0])),
                "backend_port": .int(Int64(ports[0])),
                "frontend_ip_configuration_name": "frontend",
                "backend_address_pool_name": .string(Self.poolName),
                "probe_name": "health",
                "idle_timeout_in_minutes": 4,
                "enable_floating_ip": false,
                "load_distribution": "Default",
                "disable_outbound_snat": false,
            ])]),
        ]
        // Where clients reach the cluster, for `maifctl output` (the provider records it, ARM never sees it).
        if internetFacing { balancerConfig["endpoint"] = .string("${\(balancerIP).fqdn}:\(ports[0])") }
        out.resources.append(resource(balancer, balancerConfig, origin: origin))

        guard let section = stack.loadBalancing else { return out }
        if section.recoveryThreshold != section.failureThreshold {
            out.diagnostics.append(.warning("azure-lb-recovery-threshold",
                "Azure's health probe takes a node out and puts it back after the same number of probes; cluster '\(cluster.name)' uses failure_threshold \(section.failureThreshold) for both, not recovery_threshold \(section.recoveryThreshold)",
                hint: "set recovery_threshold equal to failure_threshold to say what Azure does",
                at: stack.location(of: "load_balancing.recovery_threshold") ?? section.location))
        }
        let weighted = cluster.nodes.filter { (section.weights[$0.id] ?? $0.weight) != 1.0 }
        if !weighted.isEmpty {
            out.diagnostics.append(.warning("azure-lb-weights",
                "Azure Load Balancer has no per-node weight; \(weighted.map(\.id).joined(separator: ", ")) of cluster '\(cluster.name)' get\(weighted.count == 1 ? "s" : "") an equal share",
                hint: "the weights stay in cluster.yaml for MAIF's own routing",
                at: weighted.compactMap { section.weightLocations[$0.id] }.first ?? stack.location(of: "load_balancing.weights") ?? section.location))
        }
        if section.strategy != .roundRobin {
            out.diagnostics.append(.warning("azure-lb-strategy",
                "Azure Load Balancer spreads connections by a hash of their source and destination; strategy \(section.strategy.rawValue) is not applied to cluster '\(cluster.name)'",
                hint: "MAIF's own routing still reads the strategy from cluster.yaml",
                at: stack.location(of: "load_balancing.strategy") ?? section.location))
        }
        return out
    }
}
