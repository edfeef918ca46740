/// Geo routing on Cloud DNS: one public managed zone per stack (`<stack>.maif.internal.`, the name the AWS expansion
/// uses too) and one A record set with a geo routing policy, an item per GCP region that serves a `geo_routing`
/// region, answering with that region's load balancer address. Cloud DNS answers each client with the item of the
/// nearest listed region.
///
/// Not expressible on Cloud DNS, and said so with a warning: `compliance_aware` (Route 53's geolocation keeps a
/// continent on one region; Cloud DNS geo routing always picks the nearest listed region, so it cannot fence clients in).

import ProviderKit
import StackModel

struct GCPGeoRouting {
    let stack: Stack

    var zoneAddress: ResourceAddress { ResourceAddress(provider: "gcp", kind: "dns_managed_zone", name: stack.meta.name) }
    var recordAddress: ResourceAddress { ResourceAddress(provider: "gcp", kind: "dns_record_set", name: stack.meta.name) }
    var domain: String { "\(stack.meta.name).maif.internal." }

    func expand() -> PlatformOutput {
        var out = PlatformOutput()
        guard let geo = stack.geoRouting, !geo.regions.isEmpty else { return out }
        var served: [(region: GeoRegion, cluster: GCPCluster)] = []
        var elsewhere: [GeoRegion] = []
        for region in geo.regions {
            var scratch = PlatformOutput()
            if let cluster = servingCluster(region), GCPExpansion.expands(cluster),
               let basics = VMClusterBasics.check(cluster, in: stack, cloud: .gcp, defaultDiskType: GCPExpansion.defaultDiskType,
                                                  diskTypes: GCPExpansion.diskTypes, diskTypeWhat: "a Compute Engine disk type", into: &scratch) {
                served.append((region, GCPCluster(stack: stack, cluster: cluster, basics: basics)))
            } else {
                elsewhere.append(region)
            }
        }
        // Geo routing over clusters of other platforms is theirs to expand.
        guard !served.isEmpty else { return out }
        for region in elsewhere {
            out.diagnostics.append(.warning("gcp-geo-region-unrouted", "geo_routing region '\(region.name)' is not served by a GCP VM cluster; Cloud DNS does not route to it",
                                            hint: "name a GCP cluster under geo_routing.regions.\(region.name).cluster", at: region.sourceLocation))
        }
        if geo.complianceAware {
            out.diagnostics.append(.warning("gcp-geo-compliance-unsupported",
                                            "geo_routing is compliance_aware, but Cloud DNS geo routing answers every client with the nearest listed region; it cannot keep a continent's clients on one region",
                                            hint: "keep restricted data in place with geo_routing.compliance and hybrid.data_placement, which maifctl checks at plan time",
                                            at: stack.location(of: "geo_routing.routing.compliance_aware") ?? geo.location))
        }

        var zone: [String: AttributeValue] = [
            "name": .string(GCPExpansion.resourceName(stack.meta.name, "maif")),
            "dns_name": .string(domain),
            "description": .string("MAIF geo routing of stack \(stack.meta.name), managed by maifctl"),
            "visibility": "public",
            "labels": GCPExpansion.labels(stack, zoneAddress),
        ]
        if let project = stack.clouds["gcp"]?.string("project") { zone["project"] = .string(project) }
        out.resources.append(DesiredResource(address: zoneAddress, config: zone, origin: geo.location))

        // One item per GCP region; several geo regions served from one GCP region share it.
        var items: [(location: String, rrdatas: [AttributeValue])] = []
        for (_, cluster) in served {
            let address = AttributeValue.string("${\(cluster.forwardingRule).ip_address}")
            if let i = items.firstIndex(where: { $0.location == cluster.region }) {
                if !items[i].rrdatas.contains(address) { items[i].rrdatas.append(address) }
            } else {
                items.append((cluster.region, [address]))
            }
        }
        var record: [String: AttributeValue] = [
            "managed_zone": .string("${\(zoneAddress).name}"),
            "name": .string(domain),
            "type": "A",
            "ttl": 60,
            "routing_policy": .map(["geo": .map(["items": .list(items.map { .map(["location": .string($0.location), "rrdatas": .list($0.rrdatas)]) })])]),
        ]
        if let project = stack.clouds["gcp"]?.string("project") { record["project"] = .string(project) }
        out.resources.append(DesiredResource(address: recordAddress, config: record, origin: geo.location))
        return out
    }

    /// The region's `cluster`, else the cluster holding its nodes, else the cluster in a region of that name.
    func servingCluster(_ region: GeoRegion) -> Cluster? {
        if let name = region.cluster { return stack.clusters.first { $0.name == name } }
        if !region.nodes.isEmpty, let c = stack.clusters.first(where: { c in c.nodes.contains { region.nodes.contains($0.id) } }) { return c }
        return stack.clusters.first { Placement.region(of: $0, in: stack) == region.name }
    }
}
