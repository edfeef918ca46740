/// What the VM clouds share: the checks every VM cluster passes before it is expanded, and the choice of a machine size.

import StackModel

/// What every VM cloud checks before it expands a cluster: a region, a disk type the cloud has, and
/// nodes whose addresses fall inside the cluster's network.
struct VMClusterBasics {
    var region: String
    var range: String
    var diskType: String

    /// Nil (with the reason in `out`) when the cluster has no region; other problems are reported and expansion goes on.
    static func check(_ cluster: Cluster, in stack: Stack, cloud: CloudKind, defaultDiskType: String, diskTypes: [String],
                      diskTypeWhat: String, into out: inout PlatformOutput) -> VMClusterBasics? {
        let deployment = stack.multiCloud?.deployments.first { $0.cloud == cloud }
        guard let region = Placement.region(of: cluster, in: stack) else {
            out.diagnostics.append(.error("missing-region", "cluster '\(cluster.name)' on \(cloud.rawValue) has no region",
                                          hint: "set region on the cluster, under multi_cloud.deployments.\(cloud.rawValue) or clouds.\(cloud.rawValue)",
                                          at: cluster.location))
            return nil
        }
        let diskType = cluster.storageClass ?? deployment?.storageType ?? defaultDiskType
        if !diskTypes.contains(diskType) {
            out.diagnostics.append(.error("invalid-disk-type", "cluster '\(cluster.name)': '\(diskType)' is not \(diskTypeWhat)",
                                          hint: "use one of \(diskTypes.joined(separator: ", "))", at: cluster.location))
        }
        let range = Networks.networkRange(of: cluster, in: stack)!
        for node in Networks.nodesOutsideRange(cluster, in: stack) {
            out.diagnostics.append(.error("node-outside-network", "node '\(node.id)' has host \(node.host!), outside the cluster's network \(range)",
                                          hint: "give every node of a cluster an address in the same /16", at: node.location))
        }
        return VMClusterBasics(region: region, range: range, diskType: diskType)
    }
}

/// A cloud's catalogue of machine sizes, and the smallest one that fits a node's cpu and memory.
struct SizeCatalogue {
    var sizes: [(name: String, vcpus: Double, memoryGiB: Double)]
    /// Named in the warning when nothing fits, e.g. "Dsv3 or Esv3 size".
    var family: String

    /// The configured size if any; else the smallest fit; else `fallback`, with a warning when the node asked for more.
    func size(for node: Node, configured: String?, fallback: String) -> (String, String?) {
        if let configured { return (configured, nil) }
        let cpu = node.resources.cpu, memory = node.resources.memory
        guard cpu != nil || memory != nil else { return (fallback, nil) }
        let gib = memory.map { $0.gibibytes } ?? 0
        let fits = sizes.filter { $0.vcpus >= cpu ?? 0 && $0.memoryGiB >= gib }
        guard let best = fits.min(by: { ($0.vcpus, $0.memoryGiB) < ($1.vcpus, $1.memoryGiB) }) else {
            return (fallback, "node '\(node.id)' asks for \(cpu.map { "\($0) vCPUs" } ?? "") \(memory?.text ?? ""), more than any \(family) has")
        }
        return (best.name, nil)
    }
}
