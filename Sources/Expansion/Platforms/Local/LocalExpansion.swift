/// Expansion for the `local` platform: a cluster becomes its nodes (each with the guide's cluster.yaml),
/// a load balancer whose targets reference the nodes, alert rules, and backup targets.

import ProviderKit
import StackModel

struct LocalExpansion {
    let stack: Stack
    let cluster: Cluster

    func resources() -> [DesiredResource] {
        let clusterConfig = ClusterConfig.render(stack: stack, cluster: cluster)
        var out: [DesiredResource] = []
        for node in cluster.nodes {
            let address = ResourceAddress(provider: "local", kind: "node", name: "\(cluster.name).\(node.id)")
            let host = node.host ?? "127.0.0.1"
            let nodeYAML = ClusterConfig.nodeYAML(stack: stack, cluster: cluster, node: node, address: address, host: host)
            out.append(DesiredResource(address: address, config: [
                "cluster": .string(cluster.name),
                "node_id": .string(node.id),
                "role": .string(node.role.rawValue),
                "host": .string(host),
                "port": .int(Int64(node.port)),
                "path": .string("\(cluster.name)/\(node.id)"),
                "files": .map(["cluster.yaml": .string(clusterConfig), "node.yaml": .string(nodeYAML)]),
            ], origin: node.location))
        }

        if let lb = stack.loadBalancing {
            let address = ResourceAddress(provider: "local", kind: "load_balancer", name: cluster.name)
            let targets: [AttributeValue] = cluster.nodes.map { node in
                let nodeAddress = "local.node.\(cluster.name).\(node.id)"
                return .map([
                    "node": .string(node.id),
                    "endpoint": .string("${\(nodeAddress).endpoint}"),
                    "weight": .double(weight(node)),
                ])
            }
            var config: [String: AttributeValue] = [
                "cluster": .string(cluster.name),
                "path": .string("\(cluster.name)/load-balancer"),
                "strategy": .string(lb.strategy.rawValue),
                "health_check": .map([
                    "interval": .string(lb.healthCheckInterval.description),
                    "path": .string(lb.healthCheckPath),
                    "failure_threshold": .int(Int64(lb.failureThreshold)),
                    "recovery_threshold": .int(Int64(lb.recoveryThreshold)),
                ]),
                "targets": .list(targets),
            ]
            if let a = lb.adaptive {
                config["adaptive"] = .map([
                    "primary": .string(a.primary.rawValue), "fallback": .string(a.fallback.rawValue),
                    "switch_threshold": .string(a.switchThreshold.description),
                ])
            }
            out.append(DesiredResource(address: address, config: config, origin: lb.location))
        }

        for rule in stack.monitoring?.alertRules ?? [] where stack.monitoring?.alertingEnabled ?? true {
            let address = ResourceAddress(provider: "local", kind: "alert_rule", name: "\(cluster.name).\(rule.name)")
            out.append(DesiredResource(address: address, config: [
                "cluster": .string(cluster.name),
                "name": .string(rule.name),
                "path": .string("\(cluster.name)/alerts/\(rule.name)"),
                "condition": .string(rule.condition.description),
                "duration": .string(rule.duration.description),
                "severity": .string(rule.severity.rawValue),
            ], origin: rule.location))
        }
        return out
    }

    private func weight(_ node: Node) -> Double {
        stack.loadBalancing?.weights[node.id] ?? node.weight
    }

    /// A backup target of type `local`: a directory with a manifest of schedule and encryption.
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> [DesiredResource] {
        guard let dr = stack.disasterRecovery else { return [] }
        let address = ResourceAddress(provider: "local", kind: "backup_target", name: target.name)
        var schedule: [String: AttributeValue] = [:]
        if let s = dr.schedule {
            if let f = s.full { schedule["full_backup"] = .string(f.text) }
            if let f = s.incremental { schedule["incremental_backup"] = .string(f.text) }
            if let f = s.transactionLog { schedule["transaction_log_backup"] = .string(f.text) }
        }
        var config: [String: AttributeValue] = [
            "name": .string(target.name),
            "path": .string(target.path ?? ".maif/backups/\(target.name)"),
            "encryption": .bool(target.encryption),
            "strategy": .string(dr.backupStrategy.rawValue),
            "schedule": .map(schedule),
            "retention": .string((stack.highAvailability?.retentionPeriod ?? .seconds(30 * 86_400)).description),
        ]
        if let rpo = dr.rpo { config["rpo"] = .string(rpo.description) }
        if let rto = dr.rto { config["rto"] = .string(rto.description) }
        return [DesiredResource(address: address, config: config, origin: target.location)]
    }
}

extension LocalExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .local }
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        PlatformOutput(resources: LocalExpansion(stack: stack, cluster: cluster).resources())
    }
    static var backupKinds: Set<BackupTargetKind> { [.local] }
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        PlatformOutput(resources: backupTarget(target, in: stack) as [DesiredResource])
    }
}
