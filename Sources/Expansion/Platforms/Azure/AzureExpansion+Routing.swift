/// Geo routing on Azure: one Traffic Manager profile per stack whose endpoints are the public IPs of the load balancers
/// of the Azure VM clusters serving `geo_routing` regions, probed like `load_balancing` says. With `compliance_aware` it
/// routes geographically — each region gets the continent its Azure location is on (GEO-NA, GEO-EU, …) and the region
/// with the most capacity also takes WORLD, everyone else — so clients, and their data, stay where their continent
/// maps to; otherwise it routes by performance (the closest region). Traffic Manager's probe runs every 10 or 30
/// seconds and tolerates at most 9 failures.

import ProviderKit
import StackModel

extension AzureExpansion {
    static func stackWide(_ stack: Stack) -> PlatformOutput {
        guard let geo = stack.geoRouting, !geo.regions.isEmpty else { return PlatformOutput() }
        return AzureGeoRouting(stack: stack, geo: geo).expand()
    }

    /// Traffic Manager's geographic code of the continent an Azure location is on.
    static func geography(of location: String) -> String? {
        let l = armLocation(location)
        let table: [(String, [String])] = [
            ("GEO-SA", ["brazil", "chile"]),
            ("GEO-NA", ["eastus", "westus", "centralus", "northcentralus", "southcentralus", "westcentralus", "canada", "mexico"]),
            ("GEO-EU", ["europe", "uk", "france", "germany", "norway", "switzerland", "sweden", "poland", "italy", "spain", "austria", "belgium", "denmark", "finland", "greece"]),
            ("GEO-AP", ["australia", "newzealand"]),
            ("GEO-ME", ["uae", "qatar", "israel", "saudi"]),
            ("GEO-AF", ["southafrica"]),
            ("GEO-AS", ["asia", "japan", "korea", "india", "indonesia", "malaysia", "taiwan", "china"]),
        ]
        return table.first { _, prefixes in prefixes.contains { l.contains($0) } }?.0
    }
}

struct AzureGeoRouting {
    let stack: Stack
    let geo: GeoRouting

    struct Target {
        var region: GeoRegion
        var cluster: AzureClusterExpansion
    }

    var profile: ResourceAddress { ResourceAddress(provider: "azure", kind: "traffic_manager_profile", name: stack.meta.name) }

    func expand() -> PlatformOutput {
        var out = PlatformOutput()
        var targets: [Target] = []
        var elsewhere: [GeoRegion] = []
        for region in geo.regions {
            if let cluster = servingCluster(region), AzureExpansion.expands(cluster) {
                var scratch = PlatformOutput()
                if let basics = VMClusterBasics.check(cluster, in: stack, cloud: .azure, defaultDiskType: AzureExpansion.defaultDiskType,
                                                      diskTypes: AzureExpansion.osDiskTypes, diskTypeWhat: "", into: &scratch) {
                    let expansion = AzureClusterExpansion(stack: stack, cluster: cluster, basics: basics)
                    if expansion.internetFacing {
                        targets.append(Target(region: region, cluster: expansion))
                        continue
                    }
                }
            }
            elsewhere.append(region)
        }
        // Geo routing over clusters of other platforms is theirs to expand.
        guard let first = targets.first else { return out }
        for region in elsewhere {
            out.diagnostics.append(.warning("azure-geo-region-unrouted",
                "geo_routing region '\(region.name)' is not served by an internet-facing Azure VM cluster; Traffic Manager does not route to it",
                hint: "name an Azure cluster under geo_routing.regions.\(region.name).cluster", at: region.sourceLocation))
        }
        let codes = targets.map { AzureExpansion.geography(of: $0.cluster.location) }
        var geographic = geo.complianceAware
        if geographic, codes.contains(nil) || Set(codes).count != codes.count {
            geographic = false
            out.diagnostics.append(.warning("azure-geographic-ambiguous",
                "geo_routing is compliance_aware, but its Azure regions do not map to one continent each; Traffic Manager routes by performance instead",
                hint: "geographic routing sends each continent to one region", at: geo.location))
        }
        let fallback = targets.indices.max { (targets[$0].region.capacity ?? 0) < (targets[$1].region.capacity ?? 0) }
        var endpoints: [AttributeValue] = []
        for (i, target) in targets.enumerated() {
            var endpoint: [String: AttributeValue] = [
                "name": .string(AzureExpansion.resourceName(target.region.name)),
                "type": "Microsoft.Network/trafficManagerProfiles/azureEndpoints",
                "target_resource_id": target.cluster.ref(target.cluster.balancerIP, "id"),
                "endpoint_status": "Enabled",
            ]
            if geographic { endpoint["geo_mapping"] = .list([.string(codes[i]!)] + (i == fallback ? ["WORLD"] : [])) }
            endpoints.append(.map(endpoint))
        }
        let lb = first.cluster.loadBalancing
        let interval: Int64 = lb.healthCheckInterval >= .seconds(30) ? 30 : 10
        out.resources.append(DesiredResource(address: profile, config: [
            "name": .string(AzureExpansion.resourceName(stack.meta.name, "geo")),
            "resource_group_name": first.cluster.groupName,
            "location": "global",
            "profile_status": "Enabled",
            "traffic_routing_method": geographic ? "Geographic" : "Performance",
            "dns_config": .map([
                "relative_name": .string(AzureExpansion.globalName("\(stack.meta.name)-maif", seed: stack.meta.name)),
                "ttl": 30,
            ]),
            "monitor_config": .map([
                "protocol": first.cluster.tls ? "HTTPS" : "HTTP",
                "port": .int(Int64(first.cluster.ports[0])),
                "path": .string(lb.healthCheckPath),
                "interval_in_seconds": .int(interval),
                "timeout_in_seconds": .int(interval == 30 ? 10 : 5),
                "tolerated_number_of_failures": .int(Int64(min(9, max(0, lb.failureThreshold)))),
            ]),
            "endpoints": .list(endpoints),
        ], origin: geo.location))
        return out
    }

    /// The region's `cluster`, else the cluster holding its nodes, else the cluster in a region of that name.
    private func servingCluster(_ region: GeoRegion) -> Cluster? {
        if let name = region.cluster { return stack.clusters.first { $0.name == name } }
        if !region.nodes.isEmpty, let c = stack.clusters.first(where: { c in c.nodes.contains { region.nodes.contains($0.id) } }) { return c }
        return stack.clusters.first { Placement.region(of: $0, in: stack) == region.name }
    }
}
