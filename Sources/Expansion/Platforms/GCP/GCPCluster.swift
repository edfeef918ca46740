/// One VM cluster on GCP: the region, zones, names and addresses its resources are built from, its network and its
/// instances. The load balancer, auto scaling and alert policies are in GCPExpansion+*.swift.

import ProviderKit
import StackModel

struct GCPCluster {
    let stack: Stack
    let cluster: Cluster
    let region: String
    let range: String
    let diskType: String
    let project: String?
    /// `<stack>-<cluster>`: the prefix of every name, and the network tag the firewalls match.
    let base: String
    let zones: [String]
    /// The cluster with every node's host filled in (the instance's internal DNS name when it has no address).
    let hosted: Cluster
    let deployment: CloudDeployment?

    init(stack: Stack, cluster: Cluster, basics: VMClusterBasics) {
        self.stack = stack
        self.cluster = cluster
        region = basics.region
        range = basics.range
        diskType = basics.diskType
        project = stack.clouds["gcp"]?.string("project")
        base = GCPExpansion.resourceName(stack.meta.name, cluster.name)
        zones = GCPExpansion.zones(in: region)
        hosted = GCPExpansion.withHosts(cluster, base: base, zones: zones, region: region, project: project)
        deployment = stack.multiCloud?.deployments.first { $0.cloud == .gcp }
    }

    // MARK: Addresses and shared values

    func address(_ kind: String, _ parts: String...) -> ResourceAddress {
        ResourceAddress(provider: "gcp", kind: kind, name: ([cluster.name] + parts).joined(separator: "."))
    }

    var networkAddress: ResourceAddress { address("network") }
    var subnetworkAddress: ResourceAddress { address("subnetwork") }
    func instance(_ node: Node) -> ResourceAddress { address("instance", node.id) }

    func ref(_ address: ResourceAddress, _ attribute: String) -> AttributeValue { .string("${\(address).\(attribute)}") }

    /// The configuration with the stack's project, when `clouds.gcp` names one.
    func withProject(_ config: [String: AttributeValue]) -> [String: AttributeValue] {
        var c = config
        if let project { c["project"] = .string(project) }
        return c
    }

    func resource(_ address: ResourceAddress, _ config: [String: AttributeValue], lifecycle: ResourceLifecycle = ResourceLifecycle(),
                  origin: SourceLocation?) -> DesiredResource {
        DesiredResource(address: address, config: withProject(config), lifecycle: lifecycle, origin: origin)
    }

    /// The owner in the description, for types without labels.
    func described(_ address: ResourceAddress) -> AttributeValue { .string(GCPExpansion.ownerDescription(stack, address)) }

    /// Owner labels plus the cluster's, which the alert policies' filters select instances by.
    func labels(_ address: ResourceAddress) -> AttributeValue {
        var m = GCPExpansion.labels(stack, address).mapValue ?? [:]
        m["maif-cluster"] = .string(GCPExpansion.labelValue(cluster.name))
        return .map(m)
    }

    /// The MAIF ports the nodes listen on; the first is the load balancer's.
    var ports: [Int] {
        var seen: [Int] = []
        for node in cluster.nodes where !seen.contains(node.port) { seen.append(node.port) }
        return seen.isEmpty ? [8080] : seen
    }

    var tls: Bool { stack.security?.tls ?? false }

    /// Public unless the hybrid section registers this cluster on a private network.
    var internetFacing: Bool {
        stack.hybrid?.clusters.first { ($0.cluster ?? $0.name) == cluster.name }.map { $0.network != "private" } ?? true
    }

    /// The zone of each named node, in node order.
    var nodeZones: [(node: Node, zone: String)] {
        hosted.nodes.enumerated().map { i, node in (node, GCPExpansion.zone(of: node, index: i, zones: zones, region: region)) }
    }

    /// The description is written once, at creation; a `moved:` must not replace the network for it.
    var createdOnce: ResourceLifecycle {
        var l = ResourceLifecycle()
        l.ignoreChanges = ["description"]
        return l
    }

    // MARK: Network

    /// Google's health checkers reach passthrough network load balancer backends from these ranges.
    static let healthCheckRanges = ["35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22"]

    func network() -> [DesiredResource] {
        var out: [DesiredResource] = []
        let soleGCPCluster = stack.clusters.filter { $0.cloud == .gcp && $0.platform == .vm }.count == 1
        // multi_cloud names the network (the guide's `vpc-network`) when one cluster uses it.
        let networkName = soleGCPCluster ? deployment?.networking.map { GCPExpansion.resourceName($0) } ?? base : base
        out.append(resource(networkAddress, [
            "name": .string(networkName),
            "description": described(networkAddress),
            "auto_create_subnetworks": false,
            "routing_config": .map(["routing_mode": "REGIONAL"]),
        ], lifecycle: createdOnce, origin: cluster.location))

        out.append(resource(subnetworkAddress, [
            "name": .string(GCPExpansion.resourceName(base, region)),
            "description": described(subnetworkAddress),
            "network": ref(networkAddress, "self_link"),
            "region": .string(region),
            "ip_cidr_range": .string(range),
            "private_ip_google_access": true,
        ], lifecycle: createdOnce, origin: cluster.location))

        let maifPorts = ports.map { AttributeValue.string(String($0)) }
        func firewall(_ name: String, _ label: String, ports: [AttributeValue], sources: [String], origin: SourceLocation?) {
            let a = address("firewall", name)
            out.append(resource(a, [
                "name": .string(GCPExpansion.resourceName(base, label)),
                "description": described(a),
                "network": ref(networkAddress, "self_link"),
                "direction": "INGRESS",
                "priority": 1000,
                "allowed": .list([.map(["ip_protocol": "tcp", "ports": .list(ports)])]),
                "source_ranges": .list(sources.map { .string($0) }),
                "target_tags": .list([.string(base)]),
            ], origin: origin))
        }
        firewall("maif", "allow-maif", ports: maifPorts, sources: [range] + Networks.peerRanges(of: cluster, in: stack), origin: cluster.location)
        let adminCIDRs = stack.security?.adminCIDRs ?? []
        if !adminCIDRs.isEmpty {
            firewall("admin", "allow-admin", ports: ["22"], sources: adminCIDRs, origin: stack.security?.location ?? cluster.location)
        }
        let lbOrigin = stack.loadBalancing?.location ?? cluster.location
        firewall("health", "allow-health-checks", ports: [.string(String(ports[0]))], sources: Self.healthCheckRanges, origin: lbOrigin)
        if internetFacing {
            // A passthrough load balancer delivers the clients' own packets: the nodes see their addresses.
            firewall("clients", "allow-clients", ports: [.string(String(ports[0]))], sources: ["0.0.0.0/0"], origin: lbOrigin)
        }
        return out
    }

    // MARK: Instances

    /// An ephemeral external address for egress (image pulls, peers in other clouds); the firewalls keep ingress closed.
    static let externalAccess: AttributeValue = .list([.map(["type": "ONE_TO_ONE_NAT", "network_tier": "PREMIUM"])])

    func instances(_ diagnostics: inout [Diagnostic]) -> [DesiredResource] {
        let clusterYAML = ClusterConfig.render(stack: stack, cluster: hosted)
        var out: [DesiredResource] = []
        for (node, zone) in nodeZones {
            let a = instance(node)
            let (machineType, sizeProblem) = GCPExpansion.machineType(for: node, cluster: cluster, deployment: deployment, stack: stack)
            if let sizeProblem { diagnostics.append(.error("no-machine-type", sizeProblem, hint: "set machine_type on the cluster", at: node.location)) }
            var interface: [String: AttributeValue] = [
                "network": ref(networkAddress, "self_link"),
                "subnetwork": ref(subnetworkAddress, "self_link"),
                "access_configs": Self.externalAccess,
            ]
            if let host = node.host, Networks.ipv4(host) != nil { interface["network_ip"] = .string(host) }
            out.append(resource(a, [
                "name": .string(GCPExpansion.resourceName(base, node.id)),
                "zone": .string(zone),
                "machine_type": .string(machineType),
                "disks": .list([bootDisk(diskType: diskType, sizeGiB: GCPExpansion.diskGiB(node, stack))]),
                "network_interfaces": .list([.map(interface)]),
                "metadata": .map([
                    // Container-Optimized OS runs the cloud-config of `user-data` at boot (write_files, runcmd).
                    "user-data": .string(VMBootstrap.NodeConfig(stack: stack, cluster: hosted, node: node, clusterYAML: clusterYAML,
                                                                managedBy: a.description).cloudConfig()),
                    "maif-stack": .string(stack.meta.name),
                    "maif-address": .string(a.description),
                ]),
                "network_tags": .list([.string(base)]),
                "labels": labels(a),
                "endpoint": .string("\(node.host ?? GCPExpansion.resourceName(base, node.id)):\(node.port)"),
            ], origin: node.location))
        }
        return out
    }

    func bootDisk(diskType: String, sizeGiB: Int64) -> AttributeValue {
        .map([
            "boot": true,
            "auto_delete": true,
            "device_name": "boot",
            "initialize_params": .map([
                "disk_type": .string(diskType),
                "disk_size_gb": .int(sizeGiB),
                "source_image": .string(GCPExpansion.image),
            ]),
        ])
    }
}
