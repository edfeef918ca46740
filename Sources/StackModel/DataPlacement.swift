/// Where data may land: which sites and regions each class of data may live in, from `hybrid.data_placement` and
/// compliance-aware `geo_routing`. Pure functions of the stack; the checks report what would carry data outside
/// (Checks/PlacementRules.swift) and expansion places clusters and backups by them.
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

    public static func normalized(_ region: String) -> String {
        String(region.lowercased().filter { !$0.isWhitespace })
    }

    /// Region names plus, for a name that is a geo-routing region, the regions of its clusters.
    public static func expandRegions(_ names: [String], in stack: Stack) -> Set<String> {
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

    public static func specificRegionNames(for dataClass: String, in stack: Stack) -> [String] {
        let compliance = stack.geoRouting?.compliance ?? [:]
        if let own = compliance[dataClass] { return own }
        var seen = Set<String>()
        return compliance.keys.sorted().flatMap { compliance[$0]! }.filter { seen.insert($0).inserted }
    }
}
