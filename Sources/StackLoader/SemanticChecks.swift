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

        out += overriddenValues(stack)

        for move in stack.moved where move.from == move.to {
            out.append(.error("invalid-move", "moved from and to are the same address '\(move.from)'",
                              hint: "remove this entry", at: move.location))
        }
        return out
    }

    /// Values another, more specific one always wins over: said at the value that has no effect, never dropped silently.
    static func overriddenValues(_ stack: Stack) -> [Diagnostic] {
        var out: [Diagnostic] = []
        if let weights = stack.loadBalancing?.weights {
            for (ci, cluster) in stack.clusters.enumerated() {
                for (ni, node) in cluster.nodes.enumerated() {
                    let path = "clusters[\(ci)].nodes[\(ni)].weight"
                    guard let at = stack.sourceMap[path], let wins = weights[node.id], wins != node.weight else { continue }
                    out.append(.warning("node-weight-overridden", "node '\(node.id)' has weight \(node.weight), but load_balancing.weights gives it \(wins), which wins",
                                        hint: "keep one of the two", at: at))
                }
            }
        }
        for d in stack.multiCloud?.deployments ?? [] {
            let clusters = stack.clusters.filter { $0.cloud == d.cloud && $0.platform == .vm }
            let base = "multi_cloud.deployments.\(d.cloud.rawValue)"
            guard !clusters.isEmpty else {
                out.append(.warning("deployment-without-cluster", "no cluster of the stack runs on \(d.cloud.rawValue), so \(base) has no effect",
                                    hint: "remove it, or add a cluster with cloud: \(d.cloud.rawValue)", at: stack.location(of: base)))
                continue
            }
            let sizeKey = ["aws": "instance_type", "gcp": "machine_type", "azure": "vm_size"][d.cloud.rawValue] ?? "size"
            let overridden: [(String, Bool, Bool)] = [
                ("region", d.region != nil, clusters.allSatisfy { c in stack.sourceMap["clusters[\(stack.clusters.firstIndex { $0.name == c.name }!)].region"] != nil }),
                (sizeKey, d.size != nil, clusters.allSatisfy { [$0.instanceType, $0.machineType, $0.vmSize][["aws": 0, "gcp": 1, "azure": 2][d.cloud.rawValue] ?? 0] != nil }),
                ("storage_type", d.storageType != nil, clusters.allSatisfy { $0.storageClass != nil }),
            ]
            for (key, set, ownEverywhere) in overridden where set && ownEverywhere {
                let names = clusters.map { "'\($0.name)'" }.joined(separator: ", ")
                out.append(.warning("deployment-setting-overridden", "\(base).\(key) has no effect: cluster \(names) sets its own \(key == "storage_type" ? "storage_class" : key)",
                                    hint: "remove one of the two", at: stack.location(of: "\(base).\(key)")))
            }
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
