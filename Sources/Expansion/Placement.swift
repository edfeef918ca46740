/// Where things may land. Data: which sites and regions each class of data may live in, from
/// `hybrid.data_placement` and compliance-aware `geo_routing`, and which backup targets and cross-region replicas
/// would carry it outside them. Networks: the private range of each cluster, so clusters on different clouds and
/// on premises never overlap and each firewall can admit exactly its peers. Pure functions of the stack.
///
/// The model, in four rules:
/// 1. A data class's rule: `on_premises` / `cloud` restrict the kind of site; `specific_region` restricts regions to
///    the class's `geo_routing.compliance` list (or every listed region when the class has none); with
///    `compliance_aware` routing each `geo_routing.compliance` class is restricted to its regions. A compliance region
///    that names a geo-routing region also allows the regions of that region's clusters. `nearest_cluster`: anywhere.
/// 2. Data is written only where its rule allows: a cluster holds a class when the cluster's site is allowed.
/// 3. Backups of a class go only to the backup targets its rule allows. When none is allowed the data would land
///    outside: an error at each target, unless `data_locality` keeps region-restricted data home (then a warning
///    that it is not backed up).
/// 4. Cross-region replication copies what the clusters of the primary region hold to each secondary region; a
///    secondary region a class does not allow is an error, unless `data_locality` keeps region-restricted data home.
/// Region names compare case- and space-insensitively (`East US` is `eastus`); names of different clouds for the same
/// place (`ap-southeast-1`, `asia-southeast1`) are different regions.

import StackModel

public enum Placement {
    public enum SiteKind: String, Sendable, Hashable, CaseIterable {
        case onPremises = "on_premises", cloud
    }

    /// Where a copy of data physically is: on premises or in the cloud, and in which region when known.
    public struct Site: Hashable, Sendable, CustomStringConvertible {
        /// nil when not known (a Kubernetes or Swarm cluster that hybrid does not locate).
        public var kind: SiteKind?
        public var region: String?

        public init(kind: SiteKind?, region: String?) {
            self.kind = kind
            self.region = region
        }

        public var description: String {
            switch (kind, region) {
            case (.onPremises?, let r?): return "on premises in \(r)"
            case (.onPremises?, nil): return "on premises"
            case (_, let r?): return r
            case (.cloud?, nil): return "in the cloud"
            case (nil, nil): return "in an unknown place"
            }
        }
    }

    /// Where one class of data may live.
    public struct DataRule: Sendable, Equatable {
        public var dataClass: String
        /// Allowed kinds of site; nil when any.
        public var kinds: Set<SiteKind>?
        /// Allowed regions, normalized; nil when any.
        public var regions: Set<String>?
        /// The regions as the stack wrote them, for messages.
        public var regionNames: [String] = []
        /// Where the rule is written, e.g. `hybrid.data_placement.sensitive_data`.
        public var keyPath: String

        public init(dataClass: String, kinds: Set<SiteKind>? = nil, regions: Set<String>? = nil, regionNames: [String] = [],
                    keyPath: String) {
            self.dataClass = dataClass
            self.kinds = kinds
            self.regions = regions
            self.regionNames = regionNames
            self.keyPath = keyPath
        }

        public var isRestricted: Bool { kinds != nil || regions != nil }

        public func allows(_ site: Site) -> Bool {
            if let kinds {
                guard let kind = site.kind, kinds.contains(kind) else { return false }
            }
            if let regions {
                guard let region = site.region, regions.contains(Placement.normalized(region)) else { return false }
            }
            return true
        }

        /// "on premises", "in eu-west-1", "in the cloud in us-east-1 or eu-west-1".
        public var allowedPlaces: String {
            var parts: [String] = []
            if let kinds {
                parts.append(kinds.sorted { $0.rawValue < $1.rawValue }.map { $0 == .onPremises ? "on premises" : "in the cloud" }
                    .joined(separator: " or "))
            }
            if regions != nil { parts.append("in " + regionNames.joined(separator: " or ")) }
            return parts.isEmpty ? "anywhere" : parts.joined(separator: " ")
        }
    }

    // MARK: Rules

    /// Every data class the stack places, restricted or not, by class name.
    public static func rules(in stack: Stack) -> [DataRule] {
        var byClass: [String: DataRule] = [:]
        let geo = stack.geoRouting
        if let geo, geo.complianceAware {
            for (dataClass, names) in geo.compliance {
                byClass[dataClass] = DataRule(dataClass: dataClass, regions: expandRegions(names, in: stack), regionNames: names,
                                              keyPath: "geo_routing.compliance.\(dataClass)")
            }
        }
        for (dataClass, placement) in stack.hybrid?.dataPlacement ?? [:] {
            var rule = byClass[dataClass] ?? DataRule(dataClass: dataClass, keyPath: "hybrid.data_placement.\(dataClass)")
            rule.keyPath = "hybrid.data_placement.\(dataClass)"
            switch placement {
            case "on_premises": rule.kinds = [.onPremises]
            case "cloud": rule.kinds = [.cloud]
            case "specific_region" where rule.regions == nil:
                let names = specificRegionNames(for: dataClass, in: stack)
                if !names.isEmpty {
                    rule.regions = expandRegions(names, in: stack)
                    rule.regionNames = names
                }
            default: break
            }
            byClass[dataClass] = rule
        }
        return byClass.values.sorted { $0.dataClass < $1.dataClass }
    }

    public static func rule(forDataClass dataClass: String, in stack: Stack) -> DataRule? {
        rules(in: stack).first { $0.dataClass == dataClass }
    }

    /// The regions (normalized) data of this class may live in; nil when its regions are not restricted.
    public static func allowedRegions(forDataClass dataClass: String, in stack: Stack) -> Set<String>? {
        rule(forDataClass: dataClass, in: stack)?.regions
    }

    /// The restricted classes a cluster holds: those whose rule allows the cluster's site.
    public static func dataClasses(heldBy cluster: Cluster, in stack: Stack) -> [String] {
        let site = site(of: cluster, in: stack)
        return rules(in: stack).filter { $0.isRestricted && $0.allows(site) }.map(\.dataClass)
    }

    /// The backup targets that may receive backups of this class of data.
    public static func backupTargets(forDataClass dataClass: String, in stack: Stack) -> [BackupTarget] {
        let targets = stack.disasterRecovery?.backupTargets ?? []
        guard let rule = rule(forDataClass: dataClass, in: stack) else { return targets }
        return targets.filter { rule.allows(site(of: $0, in: stack)) }
    }

    // MARK: Sites

    public static func site(of cluster: Cluster, in stack: Stack) -> Site {
        let region = region(of: cluster, in: stack)
        if let registered = stack.hybrid?.clusters.first(where: { ($0.cluster ?? $0.name) == cluster.name }) {
            return registered.isOnPremises ? Site(kind: .onPremises, region: nil) : Site(kind: .cloud, region: region)
        }
        switch cluster.cloud {
        case .onprem, .local: return Site(kind: .onPremises, region: nil)
        case .aws, .gcp, .azure: return Site(kind: .cloud, region: region)
        case .kubernetes, .swarm: return Site(kind: nil, region: region)
        }
    }

    public static func site(of target: BackupTarget, in stack: Stack) -> Site {
        switch target.kind {
        case .s3: return Site(kind: .cloud, region: target.region ?? stack.clouds["aws"]?.string("region") ?? stack.meta.region)
        case .gcs: return Site(kind: .cloud, region: target.region ?? stack.clouds["gcp"]?.string("region"))
        case .azureBlob: return Site(kind: .cloud, region: target.region ?? stack.clouds["azure"]?.string("region"))
        case .onprem, .local: return Site(kind: .onPremises, region: target.region)
        }
    }

    /// A cluster's region: its own, else its cloud's `multi_cloud` deployment's, else the cloud's, else the stack's.
    public static func region(of cluster: Cluster, in stack: Stack) -> String? {
        if let r = cluster.region { return r }
        if let r = stack.multiCloud?.deployments.first(where: { $0.cloud == cluster.cloud })?.region { return r }
        switch cluster.cloud {
        case .aws: return stack.clouds["aws"]?.string("region") ?? stack.meta.region
        case .gcp: return stack.clouds["gcp"]?.string("region") ?? stack.meta.region
        case .azure: return stack.clouds["azure"]?.string("region") ?? stack.meta.region
        case .kubernetes, .swarm, .onprem, .local: return nil
        }
    }

    static func normalized(_ region: String) -> String {
        String(region.lowercased().filter { !$0.isWhitespace })
    }

    /// Region names plus, for a name that is a geo-routing region, the regions of its clusters.
    static func expandRegions(_ names: [String], in stack: Stack) -> Set<String> {
        var out = Set(names.map(normalized))
        for name in names {
            guard let geoRegion = stack.geoRouting?.regions.first(where: { $0.name == name }) else { continue }
            var clusterNames = Set(geoRegion.cluster.map { [$0] } ?? [])
            for (cluster, node) in stack.allNodes where geoRegion.nodes.contains(node.id) { clusterNames.insert(cluster.name) }
            for cluster in stack.clusters where clusterNames.contains(cluster.name) {
                if let r = region(of: cluster, in: stack) { out.insert(normalized(r)) }
            }
        }
        return out
    }

    static func specificRegionNames(for dataClass: String, in stack: Stack) -> [String] {
        let compliance = stack.geoRouting?.compliance ?? [:]
        if let own = compliance[dataClass] { return own }
        var seen = Set<String>()
        return compliance.keys.sorted().flatMap { compliance[$0]! }.filter { seen.insert($0).inserted }
    }

    // MARK: Violations

    /// Backup targets and replicas that would carry data where its rule does not allow, and rules no cluster can meet.
    public static func violations(_ stack: Stack) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let rules = rules(in: stack)
        let locality = stack.geoRouting?.dataLocality ?? false
        let targets = stack.disasterRecovery?.backupTargets ?? []

        for (dataClass, placement) in (stack.hybrid?.dataPlacement ?? [:]).sorted(by: { $0.key < $1.key })
        where placement == "specific_region" && rules.first(where: { $0.dataClass == dataClass })?.regions == nil {
            out.append(.warning("placement-region-unspecified",
                                "\(dataClass) is placed in a specific region, but geo_routing.compliance names no region, so maifctl cannot check where it lands",
                                hint: "list its regions under geo_routing.compliance.\(dataClass)",
                                at: stack.location(of: "hybrid.data_placement.\(dataClass)")))
        }

        for rule in rules where rule.isRestricted {
            let at = stack.location(of: rule.keyPath)
            let holders = stack.clusters.filter { rule.allows(site(of: $0, in: stack)) }
            guard !holders.isEmpty else {
                if !stack.clusters.isEmpty {
                    out.append(.error("placement-no-cluster", "\(rule.dataClass) data may only live \(rule.allowedPlaces), but no cluster of the stack is there",
                                      hint: "add a cluster \(rule.allowedPlaces), or change \(rule.keyPath)", at: at))
                }
                continue
            }
            let holderNames = holders.map { "'\($0.name)'" }.joined(separator: ", ")
            let keepsHome = locality && rule.kinds == nil

            if !targets.isEmpty, !targets.contains(where: { rule.allows(site(of: $0, in: stack)) }) {
                if keepsHome {
                    out.append(.warning("placement-not-backed-up",
                                        "\(rule.dataClass) data of cluster \(holderNames) may only live \(rule.allowedPlaces); data locality keeps it out of every backup target (\(targets.map { describe($0, in: stack) }.joined(separator: "; "))), so it is not backed up",
                                        hint: "add a backup target \(rule.allowedPlaces)", at: at))
                } else {
                    for target in targets {
                        out.append(.error("placement-violation",
                                          "backup target \(describe(target, in: stack)) would hold \(rule.dataClass) data of cluster \(holderNames), which may only live \(rule.allowedPlaces) (\(rule.keyPath))",
                                          hint: "add a backup target \(rule.allowedPlaces); \(rule.dataClass) is then backed up only there",
                                          at: target.location ?? at))
                    }
                }
            }

            if let crr = stack.disasterRecovery?.crossRegionReplication, !keepsHome {
                let primary = normalized(crr.primaryRegion)
                let sources = holders.filter { site(of: $0, in: stack).region.map(normalized) == primary }
                guard !sources.isEmpty else { continue }
                for secondary in crr.secondaryRegions where !rule.allows(replicaSite(secondary, in: stack)) {
                    out.append(.error("placement-violation",
                                      "cross-region replication copies \(rule.dataClass) data of cluster \(sources.map { "'\($0.name)'" }.joined(separator: ", ")) from \(crr.primaryRegion) to \(secondary), but it may only live \(rule.allowedPlaces) (\(rule.keyPath))",
                                      hint: "remove \(secondary) from secondary_regions, or set geo_routing.routing.data_locality: true to keep region-restricted data home",
                                      at: stack.location(of: "disaster_recovery.cross_region_replication.secondary_regions") ?? crr.location ?? at))
                }
            }
        }
        return out
    }

    /// A replica region is where the stack's clusters in that region are; a region without clusters is cloud.
    static func replicaSite(_ region: String, in stack: Stack) -> Site {
        let there = stack.clusters.first { Placement.region(of: $0, in: stack).map(normalized) == normalized(region) }
        return Site(kind: there.flatMap { site(of: $0, in: stack).kind } ?? .cloud, region: region)
    }

    static func describe(_ target: BackupTarget, in stack: Stack) -> String {
        "'\(target.name)' (\(target.kind.rawValue), \(site(of: target, in: stack)))"
    }

    // MARK: Network ranges

    /// Each VM cluster's private IPv4 range, a /16: the one holding its nodes' addresses when they are written as
    /// IPv4, otherwise 10.X.0.0/16 with X from a hash of the cluster's name (16-239, the next free one on a clash,
    /// clusters taken in name order), so adding, removing or reordering clusters does not move the others.
    /// The /16s of on-premises and other hosts written as IPv4 are never handed out.
    public static func networkRanges(in stack: Stack) -> [String: String] {
        var ranges: [String: String] = [:]
        var taken = Set<[Int]>()
        for cluster in stack.clusters {
            for node in cluster.nodes {
                if let ip = node.host.flatMap(ipv4) { taken.insert([ip[0], ip[1]]) }
            }
            if cluster.platform == .vm, let first = cluster.nodes.lazy.compactMap({ $0.host.flatMap(ipv4) }).first {
                ranges[cluster.name] = "\(first[0]).\(first[1]).0.0/16"
            }
        }
        for cluster in stack.clusters.filter({ $0.platform == .vm && ranges[$0.name] == nil }).sorted(by: { $0.name < $1.name }) {
            var octet = 16 + Int(stableHash(cluster.name) % 224)
            while taken.contains([10, octet]) { octet = octet == 239 ? 16 : octet + 1 }
            taken.insert([10, octet])
            ranges[cluster.name] = "10.\(octet).0.0/16"
        }
        return ranges
    }

    public static func networkRange(of cluster: Cluster, in stack: Stack) -> String? {
        networkRanges(in: stack)[cluster.name]
    }

    /// The ranges a cluster's nodes accept MAIF traffic from besides their own network: the other VM clusters'
    /// ranges and the IPv4 hosts of the other clusters (as /32), for replication and cross-cloud sync over the
    /// stack's private connectivity.
    public static func peerRanges(of cluster: Cluster, in stack: Stack) -> [String] {
        let ranges = networkRanges(in: stack)
        let own = ranges[cluster.name]
        var out = Set<String>()
        for other in stack.clusters where other.name != cluster.name {
            if let r = ranges[other.name] {
                out.insert(r)
            } else {
                for node in other.nodes where node.host.flatMap(ipv4) != nil { out.insert("\(node.host!)/32") }
            }
        }
        if let own { out.remove(own) }
        return out.sorted()
    }

    /// Nodes whose host is an IPv4 address outside the cluster's range.
    public static func nodesOutsideRange(_ cluster: Cluster, in stack: Stack) -> [Node] {
        guard let range = networkRange(of: cluster, in: stack), let base = ipv4(String(range.prefix { $0 != "/" })) else { return [] }
        return cluster.nodes.filter { node in
            guard let ip = node.host.flatMap(ipv4) else { return false }
            return ip[0] != base[0] || ip[1] != base[1]
        }
    }

    /// The four octets of a dotted IPv4 address, or nil.
    static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { p -> Int? in
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), p.allSatisfy(\.isNumber) else { return nil }
            return Int(p).flatMap { $0 <= 255 ? $0 : nil }
        }
        return octets.count == 4 ? octets : nil
    }

    /// FNV-1a: the same on every machine and run, unlike `Hasher`.
    static func stableHash(_ text: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            h ^= UInt32(byte)
            h = h &* 16_777_619
        }
        return h
    }
}

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
        let range = Placement.networkRange(of: cluster, in: stack)!
        for node in Placement.nodesOutsideRange(cluster, in: stack) {
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
