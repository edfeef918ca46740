/// A one-screen summary of what a stack describes.

import StackModel

enum StackSummaryView {
    static func render(_ s: Stack) -> String {
        var lines: [String] = []
        let title = "stack \(s.meta.name)" + (s.meta.description.map { " — \($0)" } ?? "")
        lines.append(title)
        let nodeCount = s.clusters.reduce(0) { $0 + $1.nodes.count }
        lines.append("  clusters: \(s.clusters.count), nodes: \(nodeCount)")
        for c in s.clusters {
            var roles: [String: Int] = [:]
            for n in c.nodes { roles[n.role.rawValue, default: 0] += 1 }
            let byRole = NodeRole.allCases.compactMap { r in roles[r.rawValue].map { "\($0) \(r.rawValue)" } }.joined(separator: ", ")
            let place = [c.cloud.rawValue, c.region].compactMap { $0 }.joined(separator: " ")
            lines.append("    \(c.name) (\(c.platform.rawValue) on \(place)): \(byRole); rf=\(c.replicationFactor), \(c.consistencyLevel.rawValue)")
        }
        var regions = Set(s.clusters.compactMap(\.region))
        s.geoRouting?.regions.forEach { regions.insert($0.name) }
        if !regions.isEmpty { lines.append("  regions: \(regions.sorted().joined(separator: ", "))") }
        if let dr = s.disasterRecovery {
            let targets = dr.backupTargets.map { t in "\(t.name) (\(t.kind.rawValue)\(t.region.map { " \($0)" } ?? ""))" }
            lines.append("  backup targets: \(targets.isEmpty ? "none" : targets.joined(separator: ", "))")
            let objectives = [dr.rto.map { "RTO \($0)" }, dr.rpo.map { "RPO \($0)" }].compactMap { $0 }
            if !objectives.isEmpty { lines.append("  recovery: \(objectives.joined(separator: ", ")), \(dr.backupStrategy.rawValue) backups") }
        }
        var policies: [String] = []
        if let lb = s.loadBalancing { policies.append("load balancing \(lb.strategy.rawValue) (health every \(lb.healthCheckInterval))") }
        if let h = s.autoscaling?.horizontal {
            policies.append("autoscaling \(h.minNodes)–\(h.maxNodes) nodes, \(h.policies.count) polic\(h.policies.count == 1 ? "y" : "ies")")
        }
        if s.autoscaling?.vertical != nil { policies.append("vertical scaling") }
        if let ha = s.highAvailability {
            policies.append("HA rf=\(ha.replicationFactor) quorum=\(ha.quorumSize)\(ha.automaticFailover ? " auto-failover" : "")")
        }
        if let g = s.geoRouting { policies.append("geo routing \(g.primary.rawValue) → \(g.fallback.rawValue)") }
        if let m = s.multiCloud { policies.append("multi-cloud \(m.deployments.map(\.cloud.rawValue).joined(separator: "+"))") }
        if let h = s.hybrid { policies.append("hybrid \(h.clusters.count) clusters") }
        if let m = s.monitoring { policies.append("monitoring every \(m.interval), \(m.alertRules.count) alert rules") }
        if !s.resources.isEmpty { policies.append("\(s.resources.count) raw resources") }
        lines.append("  policies: \(policies.isEmpty ? "none" : "")")
        for p in policies { lines.append("    - \(p)") }
        return lines.joined(separator: "\n")
    }
}
