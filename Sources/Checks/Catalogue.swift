/// The guide's production checklist and troubleshooting advice, as rules. Documented in docs/checks.md.

import StackModel

enum Catalogue {
    static let rules: [Rule] = quorum + security + reliability + scaling + placement + BackupRules.rules

    // MARK: Quorum and split brain

    static let quorum: [Rule] = [
        Rule("quorum.replicas-fit-nodes", .error, "replication_factor is at most the number of data-bearing nodes") { s in
            var out: [Finding] = []
            for (i, c) in s.clusters.enumerated() where c.replicationFactor > c.nodes.count {
                out.append(Finding(message: "cluster '\(c.name)' asks for replication_factor \(c.replicationFactor) but has \(c.nodes.count) node(s)",
                                   hint: "add nodes or lower replication_factor to \(c.nodes.count)",
                                   keyPath: "clusters[\(i)].replication_factor"))
            }
            if let ha = s.highAvailability, let smallest = s.clusters.min(by: { $0.nodes.count < $1.nodes.count }),
               ha.replicationFactor > smallest.nodes.count {
                out.append(Finding(message: "high_availability.replication_factor \(ha.replicationFactor) exceeds the \(smallest.nodes.count) node(s) of cluster '\(smallest.name)'",
                                   hint: "every cluster needs at least replication_factor nodes",
                                   keyPath: "high_availability.replication_factor"))
            }
            return out
        },
        Rule("quorum.majority", .error, "quorum_size is a strict majority of replication_factor") { s in
            guard let ha = s.highAvailability else { return [] }
            let majority = ha.replicationFactor / 2 + 1
            guard ha.quorumSize < majority || ha.quorumSize > ha.replicationFactor else { return [] }
            let why = ha.quorumSize < majority ? "two minorities could both make progress (split brain)" : "the quorum can never be reached"
            return [Finding(message: "quorum_size \(ha.quorumSize) is not a majority of replication_factor \(ha.replicationFactor): \(why)",
                            hint: "set quorum_size: \(majority)", keyPath: "high_availability.quorum_size")]
        },
        Rule("quorum.consistency-needs-three", .error, "consistency_level quorum needs replication_factor ≥ 3") { s in
            s.clusters.enumerated().compactMap { i, c in
                guard c.consistencyLevel == .quorum, c.replicationFactor < 3 else { return nil }
                return Finding(message: "cluster '\(c.name)' uses consistency_level quorum with replication_factor \(c.replicationFactor): one failure stops writes",
                               hint: "use replication_factor: 3 (or consistency_level: one)", keyPath: "clusters[\(i)].consistency_level")
            }
        },
        Rule("quorum.odd-voters", .warning, "an odd number of voters, so a partition cannot split them evenly") { s in
            var out: [Finding] = []
            if let ha = s.highAvailability, ha.replicationFactor > 1, ha.replicationFactor % 2 == 0 {
                out.append(Finding(message: "replication_factor \(ha.replicationFactor) is even: an even split leaves no majority (split-brain risk)",
                                   hint: "use \(ha.replicationFactor - 1) or \(ha.replicationFactor + 1) replicas",
                                   keyPath: "high_availability.replication_factor"))
            }
            // A cluster whose replicas do not even fit its nodes is reported by quorum.replicas-fit-nodes alone.
            for (i, c) in s.clusters.enumerated() where c.replicationFactor > 1 && c.replicationFactor % 2 == 0
                && s.highAvailability?.replicationFactor != c.replicationFactor && c.replicationFactor <= c.nodes.count {
                out.append(Finding(message: "cluster '\(c.name)' has an even replication_factor \(c.replicationFactor) (split-brain risk)",
                                   hint: "use an odd number of replicas", keyPath: "clusters[\(i)].replication_factor"))
            }
            return out
        },
        Rule("quorum.partition-protection", .error, "partition detection and split-brain protection are on when data is replicated") { s in
            guard let ha = s.highAvailability, ha.replicationFactor > 1 else { return [] }
            var out: [Finding] = []
            if !ha.networkPartitionDetection {
                out.append(Finding(message: "network_partition_detection is off on a replicated cluster",
                                   hint: "set failure_detection.network_partition_detection: true",
                                   keyPath: "high_availability.failure_detection.network_partition_detection"))
            }
            if !ha.splitBrainProtection {
                out.append(Finding(message: "split_brain_protection is off on a replicated cluster",
                                   hint: "set recovery.split_brain_protection: true", keyPath: "high_availability.recovery.split_brain_protection"))
            }
            if !ha.minoritySideReadOnly {
                out.append(Finding(message: "the minority side of a partition keeps accepting writes",
                                   hint: "set partition.minority_side: read_only", keyPath: "high_availability.partition.minority_side"))
            }
            return out
        },
    ]

    // MARK: Security

    static let security: [Rule] = [
        Rule("security.tls", .error, "TLS/SSL encryption is enabled") { s in
            s.security?.tls == true ? [] : [Finding(message: "TLS is not enabled",
                                                    hint: "add `security: {tls: true}`", keyPath: s.security == nil ? "stack" : "security.tls")]
        },
        Rule("security.authentication", .error, "authentication and authorization are configured") { s in
            let auth = s.security?.authentication
            return auth != nil && auth != "none" ? [] : [Finding(message: auth == "none" ? "authentication is set to none" : "no authentication is configured",
                                                              hint: "set security.authentication (e.g. mutual_tls or oidc)",
                                                              keyPath: s.security == nil ? "stack" : "security.authentication")]
        },
        Rule("security.admin-not-public", .error, "no admin port is open to the world") { s in
            guard let sec = s.security else { return [] }
            return sec.adminCIDRs.enumerated().compactMap { i, cidr in
                ["0.0.0.0/0", "::/0"].contains(cidr)
                    ? Finding(message: "admin access is open to the whole internet (\(cidr))",
                              hint: "list your office or VPN ranges instead", keyPath: "security.admin_cidrs")
                    : nil
            }
        },
        Rule("security.audit-logging", .warning, "audit logging is on") { s in
            s.security?.auditLogging == true ? [] : [Finding(message: "audit logging is off", hint: "set security.audit_logging: true",
                                                             keyPath: s.security == nil ? "stack" : "security.audit_logging")]
        },
    ]

    // MARK: Reliability: monitoring, backups, DR, health checks

    static let reliability: [Rule] = [
        Rule("monitoring.enabled", .error, "monitoring and alerting are set up") { s in
            guard let m = s.monitoring else {
                return [Finding(message: "no monitoring section", hint: "add monitoring with alert_rules", keyPath: "stack")]
            }
            return m.alertingEnabled ? [] : [Finding(message: "alerting is disabled", hint: "set monitoring.alerting_enabled: true",
                                                     keyPath: "monitoring.alerting_enabled")]
        },
        Rule("monitoring.essential-alerts", .warning, "there is a node-down alert and a high-CPU alert") { s in
            guard let m = s.monitoring else { return [] }
            var out: [Finding] = []
            if !m.alertRules.contains(where: { $0.condition.metric.hasPrefix("node_status") || $0.condition.metric == "up" }) {
                out.append(Finding(message: "no alert fires when a node goes down",
                                   hint: "add {name: node_down, condition: \"node_status == 'down'\", duration: 1m, severity: critical}",
                                   keyPath: "monitoring.alert_rules"))
            }
            if !m.alertRules.contains(where: { $0.condition.metric == "cpu_utilization" }) {
                out.append(Finding(message: "no alert on high CPU",
                                   hint: "add {name: high_cpu_usage, condition: cpu_utilization > 90, duration: 5m, severity: warning}",
                                   keyPath: "monitoring.alert_rules"))
            }
            return out
        },
        Rule("monitoring.notified", .warning, "every alert reaches someone: monitoring.notifications covers each severity the rules use") { s in
            guard let m = s.monitoring, m.alertingEnabled, !m.alertRules.isEmpty else { return [] }
            let unheard = AlertSeverity.allCases.filter { severity in
                m.alertRules.contains { $0.severity == severity } && m.recipients(of: severity).isEmpty
            }
            guard !unheard.isEmpty else { return [] }
            let names = unheard.map(\.rawValue).joined(separator: ", ")
            return [Finding(message: "alerts of severity \(names) reach nobody: no notification is for \(unheard.count == 1 ? "it" : "them")",
                            hint: "add monitoring.notifications: [{name: oncall, severities: [\(names)], email: [oncall@example.com]}]",
                            keyPath: m.notifications.isEmpty ? "monitoring.alert_rules" : "monitoring.notifications")]
        },
        Rule("backup.configured", .error, "automated backups are configured") { s in
            guard let dr = s.disasterRecovery, !dr.backupTargets.isEmpty else {
                return [Finding(message: "no backup targets", hint: "add disaster_recovery.backup_targets",
                                keyPath: s.disasterRecovery == nil ? "stack" : "disaster_recovery")]
            }
            return dr.schedule == nil ? [Finding(message: "backups have no schedule",
                                                 hint: "add disaster_recovery.schedule (full_backup, incremental_backup, transaction_log_backup)",
                                                 keyPath: "disaster_recovery")] : []
        },
        Rule("backup.encrypted", .error, "every backup target is encrypted") { s in
            (s.disasterRecovery?.backupTargets ?? []).enumerated().compactMap { i, t in
                t.encryption ? nil : Finding(message: "backup target '\(t.name)' is not encrypted", hint: "set encryption: true",
                                             keyPath: "disaster_recovery.backup_targets[\(i)].encryption")
            }
        },
        Rule("backup.two-regions", .error, "with cross-region replication, backups live in at least two regions") { s in
            guard let dr = s.disasterRecovery, dr.crossRegionReplication != nil else { return [] }
            let regions = Set(dr.backupTargets.compactMap(\.region))
            return regions.count >= 2 ? [] : [Finding(message: "cross-region replication is on but backups are in \(regions.count) region(s)",
                                                      hint: "add a backup target in one of the secondary regions",
                                                      keyPath: "disaster_recovery.backup_targets")]
        },
        Rule("backup.rpo-achievable", .error, "the RPO is not shorter than the most frequent backup") { s in
            guard let dr = s.disasterRecovery, let rpo = dr.rpo, let interval = dr.schedule?.shortestInterval, rpo < interval else { return [] }
            return [Finding(message: "rpo \(rpo) is shorter than the most frequent backup (every \(interval)): up to \(interval) of data could be lost",
                            hint: "raise rpo to \(interval) or back up the transaction log every \(rpo)", keyPath: "disaster_recovery.rpo")]
        },
        Rule("dr.procedures", .warning, "disaster recovery procedures are declared and tested") { s in
            guard s.disasterRecovery != nil else { return [] }
            if s.sourceMap["disaster_recovery.recovery_procedures"] == nil {
                return [Finding(message: "no recovery procedures are declared",
                                hint: "add disaster_recovery.recovery_procedures {automated_failover, data_validation, rollback_capability}",
                                keyPath: "disaster_recovery")]
            }
            return []
        },
        Rule("lb.health-checks", .error, "load balancing with health checks is set up") { s in
            s.loadBalancing != nil ? [] : [Finding(message: "no load balancing or health checks",
                                                   hint: "add load_balancing with health_check_interval and failure_threshold",
                                                   keyPath: "stack")]
        },
        Rule("lb.detects-before-failover", .error, "the health-check interval is not longer than the failure-detection timeout") { s in
            guard let lb = s.loadBalancing, let ha = s.highAvailability, lb.healthCheckInterval > ha.failureDetectionTimeout else { return [] }
            return [Finding(message: "health checks every \(lb.healthCheckInterval) are slower than failure detection (\(ha.failureDetectionTimeout)): the balancer keeps sending traffic to a node the cluster has failed over",
                            hint: "set health_check_interval to \(ha.failureDetectionTimeout) or less", keyPath: "load_balancing.health_check_interval")]
        },
    ]

    // MARK: Scaling

    static let scaling: [Rule] = [
        Rule("scaling.configured", .warning, "auto-scaling is configured") { s in
            s.autoscaling?.horizontal != nil ? [] : [Finding(message: "no horizontal auto-scaling", hint: "add autoscaling.horizontal",
                                                              keyPath: s.autoscaling == nil ? "stack" : "autoscaling")]
        },
        Rule("scaling.min-keeps-quorum", .error, "auto-scaling never goes below the quorum's voters") { s in
            guard let h = s.autoscaling?.horizontal else { return [] }
            let voters = s.highAvailability?.replicationFactor ?? s.clusters.map(\.replicationFactor).max() ?? 1
            guard h.minNodes < voters else { return [] }
            return [Finding(message: "min_nodes \(h.minNodes) is below the \(voters) replicas the quorum needs",
                            hint: "set min_nodes: \(voters)", keyPath: "autoscaling.horizontal.min_nodes")]
        },
        Rule("scaling.cooldowns", .warning, "scale-down cooldown is at least the scale-up cooldown") { s in
            guard let h = s.autoscaling?.horizontal, h.scaleDownCooldown < h.scaleUpCooldown else { return [] }
            return [Finding(message: "scale_down_cooldown \(h.scaleDownCooldown) is shorter than scale_up_cooldown \(h.scaleUpCooldown): the cluster will flap",
                            hint: "make scale_down_cooldown at least \(h.scaleUpCooldown)", keyPath: "autoscaling.horizontal.scale_down_cooldown")]
        },
    ]

    // MARK: Placement and consistency

    static let placement: [Rule] = [
        Rule("compliance.allowed-regions", .error, "compliance data stays in its allowed regions") { s in
            guard let geo = s.geoRouting, geo.complianceAware, !geo.compliance.isEmpty, !geo.dataLocality else { return [] }
            var regions = Set(s.disasterRecovery?.backupTargets.compactMap(\.region) ?? [])
            if let crr = s.disasterRecovery?.crossRegionReplication {
                regions.insert(crr.primaryRegion)
                regions.formUnion(crr.secondaryRegions)
            }
            var out: [Finding] = []
            for (dataClass, allowed) in geo.compliance.sorted(by: { $0.key < $1.key }) {
                let outside = regions.subtracting(allowed).sorted()
                if !outside.isEmpty {
                    out.append(Finding(message: "\(dataClass) data may only live in \(allowed.joined(separator: ", ")), but without data_locality it is replicated or backed up to \(outside.joined(separator: ", "))",
                                       hint: "set geo_routing.routing.data_locality: true, or restrict replication and backups to allowed regions",
                                       keyPath: "geo_routing.compliance.\(dataClass)"))
                }
            }
            return out
        },
        Rule("geo.capacity-positive", .error, "every geo-routing region has a positive capacity") { s in
            (s.geoRouting?.regions ?? []).compactMap { r in
                guard let c = r.capacity, c <= 0 else { return nil }
                return Finding(message: "region '\(r.name)' has capacity \(c): it can never receive traffic",
                               hint: "give it a positive capacity or remove it", keyPath: "geo_routing.regions.\(r.name).capacity")
            }
        },
        Rule("consistency.sync-matches", .warning, "eventually consistent data sync is not combined with strong consistency") { s in
            guard let sync = s.multiCloud?.dataSync, sync.strategy == "eventual_consistency", sync.conflictResolution == "last_write_wins",
                  s.highAvailability?.replicationConsistency == "strong" else { return [] }
            return [Finding(message: "multi-cloud sync is eventual with last_write_wins, but high_availability declares strong consistency: concurrent writes in two clouds lose one silently",
                            hint: "route writes to one cloud, or use a conflict resolution that keeps both versions",
                            keyPath: "multi_cloud.data_sync.conflict_resolution")]
        },
    ]
}
