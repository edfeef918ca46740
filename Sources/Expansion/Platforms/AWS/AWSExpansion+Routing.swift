/// Geo routing on Route 53: one hosted zone per stack and, per `geo_routing` region served by an AWS VM
/// cluster, an alias record to that cluster's load balancer with a health check. Records use latency
/// routing (`closest_region`) or weighted routing by capacity (`least_loaded_region`); with `compliance_aware`
/// they use geolocation (one continent per region, plus a default), so
/// that clients — and their data — stay in the region their continent maps to.

import ProviderKit
import StackModel

extension AWSExpansion {
    static func stackWide(_ stack: Stack) -> PlatformOutput {
        var out = notifications(stack)
        out += backupEncryptionAndReplication(stack)
        if let audit = AWSAuditTrail(stack) { out += audit.expand() }
        guard let geo = stack.geoRouting, !geo.regions.isEmpty else { return out }
        out += GeoRoutingExpansion(stack: stack, geo: geo).expand()
        return out
    }
}

struct GeoRoutingExpansion {
    let stack: Stack
    let geo: GeoRouting

    /// The hosted zone's domain; `geo_routing` has no key for it yet.
    var zoneName: String { "\(stack.meta.name).maif.internal" }
    var zone: ResourceAddress { ResourceAddress(provider: "aws", kind: "route53_zone", name: stack.meta.name) }

    struct Target {
        var region: GeoRegion
        var cluster: AWSClusterExpansion
    }

    func expand() -> PlatformOutput {
        var out = PlatformOutput()
        var targets: [Target] = []
        var elsewhere: [GeoRegion] = []
        for region in geo.regions {
            if let cluster = servingCluster(region), cluster.cloud == .aws, cluster.platform == .vm,
               let expansion = AWSClusterExpansion(stack: stack, cluster: cluster) {
                targets.append(Target(region: region, cluster: expansion))
            } else {
                elsewhere.append(region)
            }
        }
        // Geo routing over clusters of other platforms is theirs to expand.
        guard !targets.isEmpty else { return out }
        for region in elsewhere {
            out.diagnostics.append(.warning("aws-geo-region-unrouted", "geo_routing region '\(region.name)' is not served by an AWS VM cluster; Route 53 does not route to it",
                                            hint: "name an AWS cluster under geo_routing.regions.\(region.name).cluster", at: region.sourceLocation))
        }

        out.resources.append(DesiredResource(address: zone, config: [
            "name": .string(zoneName),
            "comment": .string("MAIF geo routing of stack \(stack.meta.name), managed by maifctl"),
            "tags": AWSExpansion.tags(),
        ], origin: geo.location))

        let continents = targets.map { Self.continent(ofRegion: $0.cluster.region) }
        var geolocation = geo.complianceAware
        if geolocation, continents.contains(nil) || Set(continents).count != continents.count {
            geolocation = false
            out.diagnostics.append(.warning("aws-geolocation-ambiguous", "geo_routing is compliance_aware, but its regions do not map to one continent each; Route 53 uses latency routing instead",
                                            hint: "geolocation routing sends each continent to one region", at: geo.location))
        }
        // least_loaded_region: answers shared by capacity (weighted records); closest_region: the region of least
        // latency. Either way, a record whose health check fails is left out, which is the fallback Route 53 has.
        let weighted = !geolocation && geo.primary == .leastLoadedRegion
        let largest = targets.compactMap(\.region.capacity).max() ?? 1
        for (target, continent) in zip(targets, continents) {
            let routing: (String, AttributeValue)
            if geolocation {
                routing = ("geo_location", .map(["continent_code": .string(continent!)]))
            } else if weighted {
                // Route 53 weighs 0–255; the largest region gets 255, the others their share of it (at least 1).
                let share = Double(target.region.capacity ?? largest) / Double(max(1, largest))
                routing = ("weight", .int(Int64(max(1, min(255, (255 * share).rounded())))))
            } else {
                routing = ("region", .string(target.cluster.region))
            }
            out.resources += record(target, name: target.region.name, routing: routing)
        }
        out.diagnostics += selectionWarnings(geolocation: geolocation)
        if geolocation, let fallback = targets.max(by: { ($0.region.capacity ?? 0) < ($1.region.capacity ?? 0) }) {
            // Clients outside every mapped continent go to the region with the most capacity.
            out.resources += record(fallback, name: "default", routing: ("geo_location", .map(["country_code": "*"])), healthCheck: false)
        }
        return out
    }

    /// What Route 53 does not take from `geo_routing`: coordinates (latency and weighted routing do not use them;
    /// geoproximity routing would, and is not built yet), `primary_region`, and a fallback other than its own.
    private func selectionWarnings(geolocation: Bool) -> [Diagnostic] {
        var out: [Diagnostic] = []
        if let first = geo.regions.first(where: { $0.location != nil }) {
            let names = geo.regions.filter { $0.location != nil }.map(\.name).joined(separator: ", ")
            let how = geolocation ? "geolocation (by the client's continent)" : geo.primary == .leastLoadedRegion ? "weight (by capacity)" : "measured latency"
            out.append(.warning("aws-geo-coordinates-unused",
                                "geo_routing regions \(names): Route 53 routes by \(how) here; the regions' coordinates reach only cluster.yaml",
                                hint: "maifctl does not make geoproximity records yet; drop `location` to silence this",
                                at: stack.location(of: "geo_routing.regions.\(first.name).location") ?? first.sourceLocation))
        }
        if !geolocation, geo.primary == .primaryRegion {
            out.append(.warning("aws-geo-selection-unsupported",
                                "geo_routing.routing.primary primary_region: Route 53 has no single-primary policy over \(geo.regions.count) regions; records use latency routing",
                                hint: "closest_region (latency) or least_loaded_region (weighted by capacity) map onto Route 53",
                                at: stack.location(of: "geo_routing.routing.primary") ?? geo.location))
        }
        return out
    }

    /// An alias A record to the cluster's load balancer, and (for a public one) its Route 53 health check.
    private func record(_ target: Target, name: String, routing: (key: String, value: AttributeValue), healthCheck: Bool = true) -> [DesiredResource] {
        let cluster = target.cluster
        let lb = cluster.balancer
        var out: [DesiredResource] = []
        var config: [String: AttributeValue] = [
            "hosted_zone_id": AWSExpansion.reference(zone, "id"),
            "name": .string(zoneName),
            "type": "A",
            "set_identifier": .string(name),
            "alias_target": .map([
                "hosted_zone_id": AWSExpansion.reference(lb, "canonical_hosted_zone_id"),
                "dns_name": AWSExpansion.reference(lb, "dns_name"),
                "evaluate_target_health": true,
            ]),
            routing.key: routing.value,
        ]
        let check = ResourceAddress(provider: "aws", kind: "route53_health_check", name: "\(stack.meta.name).\(target.region.name)")
        if cluster.internetFacing {
            if healthCheck {
                let lbSettings = cluster.loadBalancing
                out.append(DesiredResource(address: check, config: [
                    "type": cluster.tls ? "HTTPS" : "HTTP",
                    "fully_qualified_domain_name": AWSExpansion.reference(lb, "dns_name"),
                    "port": .int(Int64(cluster.ports[0])),
                    "resource_path": .string(lbSettings.healthCheckPath),
                    "request_interval": .int(lbSettings.healthCheckInterval >= .seconds(30) ? 30 : 10),
                    "failure_threshold": .int(Int64(min(10, max(1, lbSettings.failureThreshold)))),
                    "tags": AWSExpansion.tags(["maif:cluster": cluster.cluster.name]),
                ], origin: target.region.sourceLocation))
            }
            config["health_check_id"] = AWSExpansion.reference(check, "id")
        }
        let address = ResourceAddress(provider: "aws", kind: "route53_record", name: "\(stack.meta.name).\(name)")
        out.append(DesiredResource(address: address, config: config, origin: target.region.sourceLocation))
        return out
    }

    /// The region's `cluster`, else the cluster holding its nodes, else the cluster in a region of that name.
    private func servingCluster(_ region: GeoRegion) -> Cluster? {
        if let name = region.cluster { return stack.clusters.first { $0.name == name } }
        if !region.nodes.isEmpty, let c = stack.clusters.first(where: { c in c.nodes.contains { region.nodes.contains($0.id) } }) { return c }
        return stack.clusters.first { Placement.region(of: $0, in: stack) == region.name }
    }

    /// Route 53's continent code for an AWS region.
    static func continent(ofRegion region: String) -> String? {
        if ["ap-southeast-2", "ap-southeast-4", "ap-southeast-6"].contains(region) { return "OC" }
        let prefixes: [(String, String)] = [
            ("us-", "NA"), ("ca-", "NA"), ("mx-", "NA"), ("sa-", "SA"), ("eu-", "EU"), ("af-", "AF"),
            ("ap-", "AS"), ("me-", "AS"), ("il-", "AS"), ("cn-", "AS"),
        ]
        return prefixes.first { region.hasPrefix($0.0) }?.1
    }
}
