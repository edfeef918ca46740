/// Renders the MAIF cluster.yaml of the guide for one cluster: the file every node reads at start. Everything the stack
/// says that is MAIF's own runtime behaviour — replication, failure detection, partitions, adaptive balancing and node
/// weights, routing preferences, scaling and recovery policies, backups, data sync, placement, secure connectivity,
/// alerting, security — is written here, as docs/stack-reference.md lists key by key, so the nodes run with it.

import ProviderKit
import StackModel

enum ClusterConfig {
    /// `hosts` gives node id → the address a platform gives the node when it is not the stack's `host` (VMs).
    static func render(stack: Stack, cluster: Cluster, hosts: [String: String] = [:]) -> String {
        var sections: [(String, YAMLText?)] = [
            ("cluster", .object([
                ("name", .scalar(cluster.name)),
                ("stack", .scalar(stack.meta.name)),
                ("description", .string(stack.meta.description)),
                ("platform", .scalar(cluster.platform.rawValue)),
                ("region", .string(cluster.region)),
                ("replication_factor", .int(cluster.replicationFactor)),
                ("consistency_level", .scalar(cluster.consistencyLevel.rawValue)),
            ])),
            ("nodes", .list(cluster.nodes.map { n in
                .object([
                    ("id", .scalar(n.id)),
                    ("host", .string(hosts[n.id] ?? n.host)),
                    ("port", .int(n.port)),
                    ("role", .scalar(n.role.rawValue)),
                    ("zone", .string(n.zone)),
                    ("weight", weight(of: n, in: stack).map { .number($0) }),
                    ("resources", resources(n.resources)),
                ])
            })),
        ]
        if let lb = stack.loadBalancing {
            sections.append(("load_balancing", .object([
                ("strategy", .scalar(lb.strategy.rawValue)),
                ("health_check_interval", .scalar(lb.healthCheckInterval.description)),
                ("failure_threshold", .int(lb.failureThreshold)),
                ("recovery_threshold", .int(lb.recoveryThreshold)),
                ("health_check_path", .scalar(lb.healthCheckPath)),
                ("adaptive", lb.adaptive.map { a in .object([
                    ("primary", .scalar(a.primary.rawValue)),
                    ("fallback", .scalar(a.fallback.rawValue)),
                    ("switch_threshold", .scalar(a.switchThreshold.description)),
                ]) }),
            ])))
        }
        if let geo = stack.geoRouting { sections.append(("geo_routing", geoRouting(geo))) }
        if let ha = stack.highAvailability {
            sections.append(("high_availability", .object([
                ("replication_factor", .int(ha.replicationFactor)),
                ("quorum_size", .int(ha.quorumSize)),
                ("failure_detection_timeout", .scalar(ha.failureDetectionTimeout.description)),
                ("automatic_failover", .bool(ha.automaticFailover)),
                ("replication", .object([
                    ("mode", .scalar(ha.replicationMode.rawValue)),
                    ("consistency", .scalar(ha.replicationConsistency)),
                    ("backup_frequency", .scalar(ha.backupFrequency.description)),
                    ("retention_period", .scalar(ha.retentionPeriod.description)),
                ])),
                ("failure_detection", .object([
                    ("heartbeat_interval", .scalar(ha.heartbeatInterval.description)),
                    ("failure_threshold", .int(ha.failureThreshold)),
                    ("network_partition_detection", .bool(ha.networkPartitionDetection)),
                ])),
                ("recovery", .object([
                    ("auto_restart", .bool(ha.autoRestart)),
                    ("data_recovery", .bool(ha.dataRecovery)),
                    ("split_brain_protection", .bool(ha.splitBrainProtection)),
                ])),
                ("partition", .object([("minority_side", .scalar(ha.minoritySideReadOnly ? "read_only" : "available"))])),
            ])))
        }
        if let crr = stack.disasterRecovery?.crossRegionReplication {
            sections.append(("cross_region_replication", .object([
                ("primary_region", .scalar(crr.primaryRegion)),
                ("secondary_regions", .list(crr.secondaryRegions.map { .scalar($0) })),
                ("replication_lag_threshold", .scalar(crr.replicationLagThreshold.description)),
            ])))
        }
        if let h = stack.autoscaling?.horizontal {
            sections.append(("autoscaling", .object([
                ("min_nodes", .int(h.minNodes)),
                ("max_nodes", .int(h.maxNodes)),
                ("target_cpu_utilization", h.targetCPUUtilization.map { .number($0.value) }),
                ("target_memory_utilization", h.targetMemoryUtilization.map { .number($0.value) }),
                ("scale_up_cooldown", .scalar(h.scaleUpCooldown.description)),
                ("scale_down_cooldown", .scalar(h.scaleDownCooldown.description)),
                ("policies", h.policies.isEmpty ? nil : .list(h.policies.map { p in .object([
                    ("name", .scalar(p.name)),
                    ("metric", .scalar(p.metric)),
                    ("threshold", .number(p.threshold)),
                    ("action", .scalar(p.action.rawValue)),
                    ("adjustment", .int(p.adjustment)),
                    ("duration", p.duration.map { .scalar($0.description) }),
                ]) })),
            ])))
        }
        if let v = stack.autoscaling?.vertical { sections.append(("vertical_scaling", vertical(v))) }
        if let dr = stack.disasterRecovery { sections.append(("disaster_recovery", disasterRecovery(dr))) }
        if let mc = stack.multiCloud { sections.append(("multi_cloud", multiCloud(mc))) }
        if let hybrid = stack.hybrid { sections.append(("hybrid", self.hybrid(hybrid))) }
        if let m = stack.monitoring {
            sections.append(("monitoring", .object([
                ("interval", .scalar(m.interval.description)),
                ("retention", .scalar(m.retention.description)),
                ("node_metrics", m.nodeMetrics.isEmpty ? nil : .list(m.nodeMetrics.map { .scalar($0) })),
                ("cluster_metrics", m.clusterMetrics.isEmpty ? nil : .list(m.clusterMetrics.map { .scalar($0) })),
                ("alerting_enabled", .bool(m.alertingEnabled)),
                ("alert_rules", m.alertRules.isEmpty ? nil : .list(m.alertRules.map { r in .object([
                    ("name", .scalar(r.name)),
                    ("condition", .scalar(r.condition.description)),
                    ("duration", .scalar(r.duration.description)),
                    ("severity", .scalar(r.severity.rawValue)),
                ]) })),
                ("notifications", m.notifications.isEmpty ? nil : .list(m.notifications.map { n in .object([
                    ("name", .scalar(n.name)),
                    ("severities", .list(n.severities.map { .scalar($0.rawValue) })),
                    ("email", n.emails.isEmpty ? nil : .list(n.emails.map { .scalar($0) })),
                    // A webhook given by reference is named by where it is read, never by its value.
                    ("webhook", n.webhooks.isEmpty ? nil : .list(n.webhooks.map { w -> YAMLText in
                        switch w {
                        case .url(let url): return .scalar(url)
                        case .reference(let r): return .scalar("(\(r))")
                        }
                    })),
                ]) })),
            ])))
        }
        if let s = stack.security {
            sections.append(("security", .object([
                ("tls", .bool(s.tls)),
                ("authentication", .string(s.authentication)),
                ("audit_logging", .bool(s.auditLogging)),
                ("admin_cidrs", s.adminCIDRs.isEmpty ? nil : .list(s.adminCIDRs.map { .scalar($0) })),
            ])))
        }
        return "# Generated by maifctl from stack \(stack.meta.name); edits here are drift and will be reverted.\n"
            + YAMLText.object(sections).render()
    }

    /// A node's own node.yaml: who it is, where it listens, and which resource manages it.
    static func nodeYAML(stack: Stack, cluster: Cluster, node: Node, address: ResourceAddress, host: String?) -> String {
        YAMLText.object([
            ("id", .scalar(node.id)),
            ("cluster", .scalar(cluster.name)),
            ("role", .scalar(node.role.rawValue)),
            ("host", .string(host)),
            ("port", .int(node.port)),
            ("weight", .number(stack.loadBalancing?.weights[node.id] ?? node.weight)),
            ("resources", resources(node.resources)),
            ("managed_by", .scalar("maifctl stack \(stack.meta.name), \(address)")),
        ]).render()
    }

    /// A node's weight for MAIF's balancer: `load_balancing.weights` wins over the node's own; nil when neither says.
    static func weight(of node: Node, in stack: Stack) -> Double? {
        if let w = stack.loadBalancing?.weights[node.id] { return w }
        return node.weight == 1.0 ? nil : node.weight
    }

    static func geoRouting(_ geo: GeoRouting) -> YAMLText {
        .object([
            ("regions", geo.regions.isEmpty ? nil : .list(geo.regions.map { r in .object([
                ("name", .scalar(r.name)),
                ("cluster", .string(r.cluster)),
                ("nodes", r.nodes.isEmpty ? nil : .list(r.nodes.map { .scalar($0) })),
                ("location", r.location.map { l in .object([("lat", .number(l.latitude)), ("lon", .number(l.longitude))]) }),
                ("capacity", r.capacity.map { .int($0) }),
            ]) })),
            ("routing", .object([
                ("primary", .scalar(geo.primary.rawValue)),
                ("fallback", .scalar(geo.fallback.rawValue)),
                ("data_locality", .bool(geo.dataLocality)),
                ("compliance_aware", .bool(geo.complianceAware)),
            ])),
            ("compliance", geo.compliance.isEmpty ? nil : .object(geo.compliance.keys.sorted().map { k in
                (k, .list(geo.compliance[k]!.map { .scalar($0) }))
            })),
        ])
    }

    static func vertical(_ v: VerticalScaling) -> YAMLText {
        func bounds(_ b: VerticalBounds?) -> YAMLText? {
            b.map { b in .object([
                ("min", .scalar(b.min)), ("max", .scalar(b.max)),
                ("target_utilization", b.targetUtilization.map { .number($0.value) }),
                ("growth_threshold", b.growthThreshold.map { .number($0.value) }),
                ("scaling_factor", .number(b.scalingFactor)),
            ]) }
        }
        return .object([
            ("cpu", bounds(v.cpu)), ("memory", bounds(v.memory)), ("storage", bounds(v.storage)),
            ("adjustment_interval", .scalar(v.adjustmentInterval.description)),
            ("safety_margin", .number(v.safetyMargin)),
        ])
    }

    static func disasterRecovery(_ dr: DisasterRecovery) -> YAMLText {
        .object([
            ("backup_strategy", .scalar(dr.backupStrategy.rawValue)),
            ("rto", dr.rto.map { .scalar($0.description) }),
            ("rpo", dr.rpo.map { .scalar($0.description) }),
            ("backup_targets", dr.backupTargets.isEmpty ? nil : .list(dr.backupTargets.map { t in .object([
                ("name", .scalar(t.name)),
                ("type", .scalar(t.kind.rawValue)),
                ("bucket", .string(t.bucket)),
                ("container", .string(t.container)),
                ("path", .string(t.path)),
                ("host", .string(t.host)),
                ("region", .string(t.region)),
                ("encryption", .bool(t.encryption)),
            ]) })),
            ("schedule", dr.schedule.map { s in .object([
                ("full_backup", s.full.map { .scalar($0.text) }),
                ("incremental_backup", s.incremental.map { .scalar($0.text) }),
                ("transaction_log_backup", s.transactionLog.map { .scalar($0.text) }),
            ]) }),
            ("recovery_procedures", .object([
                ("automated_failover", .bool(dr.automatedFailover)),
                ("data_validation", .bool(dr.dataValidation)),
                ("rollback_capability", .bool(dr.rollbackCapability)),
                ("last_tested", .string(dr.lastTested)),
            ])),
        ])
    }

    static func multiCloud(_ mc: MultiCloud) -> YAMLText {
        .object([
            ("cluster_size", .int(mc.clusterSize)),
            ("cross_cloud_networking", .bool(mc.crossCloudNetworking)),
            ("data_sync", mc.dataSync.map { d in .object([
                ("strategy", .scalar(d.strategy)),
                ("conflict_resolution", .scalar(d.conflictResolution)),
                ("sync_interval", .scalar(d.syncInterval.description)),
            ]) }),
        ])
    }

    static func hybrid(_ h: Hybrid) -> YAMLText {
        .object([
            ("clusters", h.clusters.isEmpty ? nil : .list(h.clusters.map { c in .object([
                ("name", .scalar(c.name)),
                ("location", .scalar(c.location)),
                ("cluster", .string(c.cluster)),
                ("nodes", c.nodes.isEmpty ? nil : .list(c.nodes.map { .scalar($0) })),
                ("endpoint", .string(c.endpoint)),
                ("capacity", c.capacity.map { cap in .object([
                    ("cpu", cap.cpu.map { .number($0) }),
                    ("memory", cap.memory.map { .scalar($0.text) }),
                    ("storage", cap.storage.map { .scalar($0.text) }),
                ]) }),
                ("network", .scalar(c.network)),
            ]) })),
            ("data_placement", h.dataPlacement.isEmpty ? nil : .object(h.dataPlacement.keys.sorted().map { ($0, .scalar(h.dataPlacement[$0]!)) })),
            ("secure_connectivity", h.secureConnectivity.map { s in .object([
                ("vpn_tunnels", .bool(s.vpnTunnels)),
                ("encryption", .scalar(s.encryption)),
                ("authentication", .scalar(s.authentication)),
            ]) }),
        ])
    }

    static func resources(_ r: NodeResources) -> YAMLText {
        .object([
            ("cpu", r.cpu.map { .number($0) }),
            ("memory", r.memory.map { .scalar($0.text) }),
            ("storage", r.storage.map { .scalar($0.text) }),
        ])
    }
}
