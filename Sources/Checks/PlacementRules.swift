/// Placement rules: backup targets and replicas that would carry a class of data where its rule does not allow, and rules
/// no cluster can meet. `plan`, `apply` and `check` all run them (through `Checker.run`); an error blocks apply.

import StackModel

extension Placement {
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

}
