/// Expansion onto the `aws` provider's resource types. A VM cluster becomes its network, one instance per
/// node booting MAIF from its cloud-config with an instance profile for its backups, a load balancer, auto scaling
/// and CloudWatch alarms notifying SNS topics (AWSExpansion+*.swift); an s3 backup target becomes a bucket
/// (KMS-encrypted, replicated across regions when the stack says so); geo routing becomes a Route 53 zone with one
/// record per region.
///
/// Addresses name the cluster first (`aws.instance.<cluster>.<node>`, `aws.subnet.<cluster>.<az>`), and every
/// dependency is a `${<address>.<attribute>}` reference, so the graph orders creation and deletion.

import ProviderKit
import StackModel

enum AWSExpansion {
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        guard let expansion = AWSClusterExpansion(stack: stack, cluster: cluster) else {
            return PlatformOutput(diagnostics: [.error("aws-region-missing", "cluster '\(cluster.name)' on aws has no region",
                                                       hint: "set region on the cluster, under stack, or under clouds.aws",
                                                       at: cluster.location)])
        }
        return expansion.expand()
    }

    static func reference(_ address: ResourceAddress, _ attribute: String) -> AttributeValue {
        .string("${\(address).\(attribute)}")
    }

    /// Descriptive tags; the aws provider adds its owner tags (`maif:stack`, `maif:address`) when it plans.
    static func tags(_ extra: [String: String] = [:]) -> AttributeValue {
        .map(extra.mapValues { .string($0) })
    }

    /// ELBv2 names are at most 32 letters, digits and hyphens; longer names keep a stable hash suffix.
    static func elbName(_ name: String) -> String {
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
        guard cleaned.count > 32 else { return cleaned }
        let hex = String(Networks.stableHash(name), radix: 16)
        return String(cleaned.prefix(23)) + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// One VM cluster on AWS: the region, zones, addresses and shared values its resources are built from.
struct AWSClusterExpansion {
    let stack: Stack
    let cluster: Cluster
    let region: String
    /// Node id → availability zone: the node's `zone`, or spread over `<region>a/b/c` in node order.
    let zoneOfNode: [String: String]
    /// The availability zones used, sorted: one subnet each.
    let zones: [String]
    let loadBalancing: LoadBalancing

    init?(stack: Stack, cluster: Cluster) {
        guard let region = Placement.region(of: cluster, in: stack) else { return nil }
        self.stack = stack
        self.cluster = cluster
        self.region = region
        var zoneOfNode: [String: String] = [:]
        for (i, node) in cluster.nodes.enumerated() {
            zoneOfNode[node.id] = node.zone ?? region + ["a", "b", "c"][i % 3]
        }
        self.zoneOfNode = zoneOfNode
        zones = Set(zoneOfNode.values).sorted()
        loadBalancing = stack.loadBalancing ?? LoadBalancing()
    }

    func expand() -> PlatformOutput {
        var out = PlatformOutput(diagnostics: zoneDiagnostics() + addressDiagnostics() + userDataDiagnostics())
        out.resources += network()
        out.resources += backupAccess()
        out.resources += instances()
        out.resources += loadBalancer()
        out.diagnostics += balancingWarnings()
        out.resources += autoScaling()
        out += alarms()
        return out
    }

    private func zoneDiagnostics() -> [Diagnostic] {
        var out: [Diagnostic] = []
        if let networking = deployment?.networking, existingVPC == nil {
            out.append(.warning("aws-networking-not-a-vpc", "multi_cloud.deployments.aws.networking '\(networking)' is not a VPC id, so cluster '\(cluster.name)' gets a VPC of its own",
                                hint: "name an existing VPC (vpc-0123…) to put the cluster's subnets and security groups in it",
                                at: stack.location(of: "multi_cloud.deployments.aws.networking")))
        }
        return out + cluster.nodes.compactMap { node in
            guard let zone = node.zone, !zone.hasPrefix(region) else { return nil }
            return .warning("aws-zone-outside-region", "node '\(node.id)' is in zone \(zone), outside the region \(region) of cluster '\(cluster.name)'",
                            hint: "availability zones of \(region) are named \(region)a, \(region)b, …", at: node.location)
        }
    }

    // MARK: Addresses

    func address(_ kind: String, _ parts: String...) -> ResourceAddress {
        ResourceAddress(provider: "aws", kind: kind, name: ([cluster.name] + parts).joined(separator: "."))
    }

    var vpc: ResourceAddress { address("vpc") }
    func subnet(_ zone: String) -> ResourceAddress { address("subnet", zone) }
    var internetGateway: ResourceAddress { address("internet_gateway") }
    var routeTable: ResourceAddress { address("route_table") }
    var nodesGroup: ResourceAddress { address("security_group", "nodes") }
    var balancerGroup: ResourceAddress { address("security_group", "lb") }
    func instance(_ node: Node) -> ResourceAddress { address("instance", node.id) }
    var balancer: ResourceAddress { address("lb") }
    var targetGroup: ResourceAddress { address("lb_target_group") }
    var launchTemplate: ResourceAddress { address("launch_template") }
    var autoScalingGroup: ResourceAddress { address("autoscaling_group") }

    func ref(_ address: ResourceAddress, _ attribute: String) -> AttributeValue {
        AWSExpansion.reference(address, attribute)
    }

    // MARK: Shared values

    /// A regional resource: its region and tags (owner, cluster and `extra`) filled in.
    func resource(_ address: ResourceAddress, _ config: [String: AttributeValue], tags extra: [String: String] = [:],
                  origin: SourceLocation?) -> DesiredResource {
        var config = config
        config["tags"] = AWSExpansion.tags(extra.merging(["maif:cluster": cluster.name]) { a, _ in a })
        return untagged(address, config, origin: origin)
    }

    /// A regional resource of a type AWS cannot tag (attachments, associations, scaling policies).
    func untagged(_ address: ResourceAddress, _ config: [String: AttributeValue], origin: SourceLocation?) -> DesiredResource {
        var config = config
        config["region"] = .string(region)
        return DesiredResource(address: address, config: config, origin: origin)
    }

    /// The MAIF ports the nodes listen on; the first is the load balancer's.
    var ports: [Int] {
        var seen: [Int] = []
        for node in cluster.nodes where !seen.contains(node.port) { seen.append(node.port) }
        return seen.isEmpty ? [8080] : seen
    }

    var tls: Bool { stack.security?.tls ?? false }

    /// The AWS entry of `multi_cloud.deployments`: instance type, EBS type for every AWS cluster.
    var deployment: CloudDeployment? { stack.multiCloud?.deployments.first { $0.cloud == .aws } }

    /// Public unless the hybrid section registers this cluster on a private network.
    var internetFacing: Bool {
        stack.hybrid?.clusters.first { ($0.cluster ?? $0.name) == cluster.name }.map { $0.network != "private" } ?? true
    }
}

extension AWSExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .vm && cluster.cloud == .aws }
    static var backupKinds: Set<BackupTargetKind> { [.s3] }
}
