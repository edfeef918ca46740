/// Checks that need the whole stack: duplicates and references between sections.

import StackModel

enum SemanticChecks {
    static func run(_ stack: Stack) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func duplicates<T>(_ items: [T], what: String, code: String, name: (T) -> String, at: (T) -> SourceLocation?) {
            var seen: [String: SourceLocation?] = [:]
            for item in items {
                let n = name(item)
                if let first = seen[n] {
                    out.append(.error(code, "duplicate \(what) '\(n)'",
                                      hint: "first defined at \(first.map(\.description) ?? "?"); \(what)s must be unique",
                                      at: at(item)))
                } else {
                    seen[n] = at(item)
                }
            }
        }

        duplicates(stack.clusters, what: "cluster name", code: "duplicate-cluster", name: \.name, at: \.location)
        let nodes = stack.allNodes.map(\.node)
        duplicates(nodes, what: "node id", code: "duplicate-node-id", name: \.id, at: \.location)
        duplicates(stack.resources, what: "resource address", code: "duplicate-address", name: \.address, at: \.location)
        duplicates(stack.disasterRecovery?.backupTargets ?? [], what: "backup target", code: "duplicate-backup-target",
                   name: \.name, at: \.location)
        duplicates(stack.monitoring?.alertRules ?? [], what: "alert rule", code: "duplicate-alert-rule", name: \.name, at: \.location)
        duplicates(stack.monitoring?.notifications ?? [], what: "notification", code: "duplicate-notification", name: \.name, at: \.location)
        duplicates(stack.autoscaling?.horizontal?.policies ?? [], what: "scaling policy", code: "duplicate-policy",
                   name: \.name, at: \.location)

        let nodeIDs = nodes.map(\.id), nodeIDSet = Set(nodeIDs)
        let clusterNames = stack.clusters.map(\.name), clusterNameSet = Set(clusterNames)

        for cluster in stack.clusters {
            if !stack.clouds.isConfigured(cluster.cloud) {
                out.append(.warning("unconfigured-cloud", "cluster '\(cluster.name)' runs on \(cluster.cloud.rawValue), which has no settings under clouds",
                                    hint: "add clouds.\(cluster.cloud.rawValue) (defaults and the environment are used meanwhile)",
                                    at: cluster.location))
            }
        }

        if let lb = stack.loadBalancing {
            for id in lb.weights.keys.sorted() where !nodeIDSet.contains(id) {
                out.append(unknown("node", id, among: nodeIDs, at: lb.weightLocations[id] ?? lb.location))
            }
        }

        if let geo = stack.geoRouting {
            for region in geo.regions {
                if let c = region.cluster, !clusterNameSet.contains(c) {
                    out.append(unknown("cluster", c, among: clusterNames, at: region.sourceLocation))
                }
                for n in region.nodes where !nodeIDSet.contains(n) {
                    out.append(unknown("node", n, among: nodeIDs, at: region.sourceLocation))
                }
            }
            let regionNames = geo.regions.map(\.name)
            if !regionNames.isEmpty {
                for (dataClass, regions) in geo.compliance.sorted(by: { $0.key < $1.key }) {
                    for (i, r) in regions.enumerated() where !regionNames.contains(r) {
                        out.append(.error("unknown-region", "compliance class '\(dataClass)' allows region '\(r)', which geo_routing does not declare",
                                          hint: suggestion(for: r, among: regionNames).map { "did you mean '\($0)'?" }
                                            ?? "declared regions: \(regionNames.joined(separator: ", "))",
                                          at: geo.complianceLocations[dataClass]?[safe: i] ?? geo.location))
                    }
                }
            }
        }

        if let hybrid = stack.hybrid {
            for hc in hybrid.clusters {
                var known = nodeIDs + stack.allNodes.compactMap(\.node.host)
                if let c = hc.cluster {
                    if let cluster = stack.clusters.first(where: { $0.name == c }) {
                        known = cluster.nodes.map(\.id) + cluster.nodes.compactMap(\.host)
                    } else {
                        out.append(unknown("cluster", c, among: clusterNames, at: hc.sourceLocation))
                    }
                }
                let knownSet = Set(known)
                for n in hc.nodes where !knownSet.contains(n) {
                    out.append(unknown("node", n, among: known, at: hc.sourceLocation))
                }
            }
        }

        for move in stack.moved where move.from == move.to {
            out.append(.error("invalid-move", "moved from and to are the same address '\(move.from)'",
                              hint: "remove this entry", at: move.location))
        }
        return out
    }

    private static func unknown(_ what: String, _ name: String, among names: [String], at location: SourceLocation?) -> Diagnostic {
        let code = "unknown-\(what)"
        let hint = suggestion(for: name, among: names).map { "did you mean '\($0)'?" }
            ?? (names.isEmpty ? "no \(what)s are defined" : "known \(what)s: \(names.prefix(10).joined(separator: ", "))")
        return .error(code, "\(what) '\(name)' is not defined in this stack", hint: hint, at: location)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
