/// High availability, disaster recovery, multi-cloud, hybrid, monitoring and security sections.

import StackModel

extension StackDecoder {
    func decodeHighAvailability(_ r: ObjectReader) -> HighAvailability {
        var ha = HighAvailability()
        ha.location = r.location
        ha.replicationFactor = r.int("replication_factor", in: 1...99) ?? ha.replicationFactor
        ha.quorumSize = r.int("quorum_size", in: 1...99) ?? ha.quorumSize
        ha.failureDetectionTimeout = r.duration("failure_detection_timeout") ?? ha.failureDetectionTimeout
        ha.automaticFailover = r.bool("automatic_failover") ?? ha.automaticFailover
        _ = r.object("replication", "high_availability.replication") { p -> Void in
            ha.replicationMode = p.enumeration("mode", ReplicationMode.self) ?? ha.replicationMode
            ha.replicationConsistency = p.string("consistency") ?? ha.replicationConsistency
            ha.backupFrequency = p.duration("backup_frequency") ?? ha.backupFrequency
            ha.retentionPeriod = p.duration("retention_period") ?? ha.retentionPeriod
        }
        _ = r.object("failure_detection", "high_availability.failure_detection") { p -> Void in
            ha.heartbeatInterval = p.duration("heartbeat_interval") ?? ha.heartbeatInterval
            ha.failureThreshold = p.int("failure_threshold", in: 1...100) ?? ha.failureThreshold
            ha.networkPartitionDetection = p.bool("network_partition_detection") ?? ha.networkPartitionDetection
        }
        _ = r.object("recovery", "high_availability.recovery") { p -> Void in
            ha.autoRestart = p.bool("auto_restart") ?? ha.autoRestart
            ha.dataRecovery = p.bool("data_recovery") ?? ha.dataRecovery
            ha.splitBrainProtection = p.bool("split_brain_protection") ?? ha.splitBrainProtection
        }
        _ = r.object("partition", "high_availability.partition") { p -> Void in
            if let n = p.raw("minority_side"), let t = p.text(n, expected: "read_only or available") {
                switch t {
                case "read_only": ha.minoritySideReadOnly = true
                case "available": ha.minoritySideReadOnly = false
                default:
                    context.error("invalid-value", "expected one of read_only, available for minority_side, got \"\(t)\"",
                                  hint: "read_only keeps the minority side of a partition from accepting writes", at: n.location)
                }
            }
        }
        return ha
    }

    func decodeDisasterRecovery(_ r: ObjectReader) -> DisasterRecovery {
        var dr = DisasterRecovery()
        dr.location = r.location
        dr.backupStrategy = r.enumeration("backup_strategy", BackupStrategy.self) ?? dr.backupStrategy
        dr.rto = r.duration("rto")
        dr.rpo = r.duration("rpo")
        var index = 0
        dr.backupTargets = r.objects("backup_targets", "backup target") { t -> BackupTarget? in
            index += 1
            let kind = t.enumeration("type", BackupTargetKind.self)
            if !t.has("type") { t.missing("type", example: "s3") }
            let name = t.string("name"), bucket = t.string("bucket"), container = t.string("container")
            let path = t.string("path"), region = t.string("region"), host = t.string("host")
            let encryption = t.bool("encryption")
            guard let kind else { return nil }
            var target = BackupTarget(name: name ?? "", kind: kind)
            target.location = t.location
            target.bucket = bucket
            target.container = container
            target.path = path
            target.region = region
            target.host = host
            target.encryption = encryption ?? true
            switch kind {
            case .s3, .gcs:
                if target.bucket == nil { t.missing("bucket", example: "maif-backups-primary") }
            case .azureBlob:
                if target.container == nil { t.missing("container", example: "maif-backups") }
            case .onprem, .local:
                if target.path == nil { t.missing("path", example: "/var/backups/maif") }
            }
            if target.name.isEmpty {
                target.name = target.bucket ?? target.container ?? "\(kind.rawValue)-\(index)"
            }
            return target
        } ?? []
        dr.schedule = r.object("schedule", "disaster_recovery.schedule") { s in
            var sched = BackupSchedule()
            sched.full = s.frequency("full_backup")
            sched.incremental = s.frequency("incremental_backup")
            sched.transactionLog = s.frequency("transaction_log_backup")
            return sched
        }
        dr.crossRegionReplication = r.object("cross_region_replication", "cross_region_replication") { c in
            let primary = c.requiredString("primary_region", example: "us-east-1")
            let secondaries = c.stringList("secondary_regions"), lag = c.duration("replication_lag_threshold")
            guard let primary else { return nil }
            var crr = CrossRegionReplication(primaryRegion: primary)
            crr.location = c.location
            crr.secondaryRegions = secondaries ?? []
            crr.replicationLagThreshold = lag ?? crr.replicationLagThreshold
            return crr
        }
        _ = r.object("recovery_procedures", "recovery_procedures") { p -> Void in
            dr.automatedFailover = p.bool("automated_failover") ?? dr.automatedFailover
            dr.dataValidation = p.bool("data_validation") ?? dr.dataValidation
            dr.rollbackCapability = p.bool("rollback_capability") ?? dr.rollbackCapability
            dr.lastTested = p.string("last_tested")
        }
        return dr
    }

    func decodeMultiCloud(_ r: ObjectReader) -> MultiCloud {
        var mc = MultiCloud()
        mc.location = r.location
        mc.clusterSize = r.int("cluster_size", in: 1...1000) ?? mc.clusterSize
        mc.crossCloudNetworking = r.bool("cross_cloud_networking") ?? mc.crossCloudNetworking
        mc.deployments = r.entries("deployments", "cloud deployments") { e -> CloudDeployment? in
            guard let cloud = CloudKind(rawValue: e.key), [.aws, .gcp, .azure].contains(cloud) else {
                context.error("invalid-value", "expected aws, gcp or azure as a multi_cloud deployment, got \"\(e.key)\"",
                              hint: suggestion(for: e.key, among: ["aws", "gcp", "azure"]).map { "did you mean '\($0)'?" },
                              at: e.keyLocation)
                return nil
            }
            guard let d = ObjectReader(e.value, "multi_cloud.deployments.\(e.key)", context, path: "multi_cloud.deployments.\(e.key)") else { return nil }
            var dep = CloudDeployment(cloud: cloud)
            dep.region = d.string("region")
            let sizeKey = ["aws": "instance_type", "gcp": "machine_type", "azure": "vm_size"][e.key]!
            dep.size = d.string(sizeKey)
            dep.storageType = d.string("storage_type")
            dep.networking = d.string("networking")
            d.finish()
            return dep
        } ?? []
        mc.dataSync = r.object("data_sync", "multi_cloud.data_sync") { s in
            var ds = DataSync()
            ds.strategy = s.string("strategy") ?? ds.strategy
            ds.conflictResolution = s.string("conflict_resolution") ?? ds.conflictResolution
            ds.syncInterval = s.duration("sync_interval") ?? ds.syncInterval
            return ds
        }
        return mc
    }

    func decodeHybrid(_ r: ObjectReader) -> Hybrid {
        var h = Hybrid()
        h.location = r.location
        h.clusters = r.entries("clusters", "hybrid clusters") { e -> HybridCluster? in
            guard let c = ObjectReader(e.value, "hybrid cluster '\(e.key)'", context, path: "hybrid.clusters.\(e.key)") else { return nil }
            defer { c.finish() }
            var hc = HybridCluster(name: e.key, location: c.requiredString("location", example: "on_premises") ?? "")
            hc.sourceLocation = e.keyLocation
            hc.cluster = c.string("cluster")
            hc.nodes = c.stringList("nodes") ?? []
            hc.endpoint = c.string("endpoint")
            hc.network = c.string("network") ?? hc.network
            hc.capacity = c.object("capacity", "capacity") { cap in
                var cp = Capacity()
                cp.cpu = cap.double("cpu", in: 0...1_000_000)
                cp.memory = cap.size("memory")
                cp.storage = cap.size("storage")
                return cp
            }
            return hc.location.isEmpty ? nil : hc
        } ?? []
        let placements = ["on_premises", "cloud", "nearest_cluster", "specific_region"]
        for (dataClass, placement) in r.entries("data_placement", "data placement rules", { e -> (String, String)? in
            guard let t = r.text(e.value, expected: "a placement") else { return nil }
            guard placements.contains(t) else {
                context.error("invalid-value", "expected one of \(placements.joined(separator: ", ")) for \(e.key), got \"\(t)\"",
                              hint: suggestion(for: t, among: placements).map { "did you mean '\($0)'?" }, at: e.value.location)
                return nil
            }
            return (e.key, t)
        }) ?? [] {
            h.dataPlacement[dataClass] = placement
        }
        h.secureConnectivity = r.object("secure_connectivity", "hybrid.secure_connectivity") { s in
            var sc = SecureConnectivity()
            sc.vpnTunnels = s.bool("vpn_tunnels") ?? sc.vpnTunnels
            sc.encryption = s.string("encryption") ?? sc.encryption
            sc.authentication = s.string("authentication") ?? sc.authentication
            return sc
        }
        return h
    }

    func decodeMonitoring(_ r: ObjectReader) -> Monitoring {
        var m = Monitoring()
        m.location = r.location
        m.interval = r.duration("interval") ?? m.interval
        m.retention = r.duration("retention") ?? m.retention
        m.alertingEnabled = r.bool("alerting_enabled") ?? m.alertingEnabled
        m.nodeMetrics = r.stringList("node_metrics") ?? []
        m.clusterMetrics = r.stringList("cluster_metrics") ?? []
        m.alertRules = r.objects("alert_rules", "alert rule") { a -> AlertRule? in
            let name = a.requiredString("name", example: "high_cpu_usage")
            let condition = a.condition("condition")
            if !a.has("condition") { a.missing("condition", example: "cpu_utilization > 90") }
            let duration = a.duration("duration") ?? .seconds(60)
            let severity = a.enumeration("severity", AlertSeverity.self) ?? .warning
            guard let name, let condition else { return nil }
            var rule = AlertRule(name: name, condition: condition, duration: duration, severity: severity)
            rule.location = a.location
            return rule
        } ?? []
        m.notifications = r.objects("notifications", "notification") { decodeNotification($0) } ?? []
        m.prometheusOperator = r.bool("prometheus_operator") ?? false
        return m
    }

    private func decodeNotification(_ n: ObjectReader) -> Notification? {
        guard let name = n.requiredString("name", example: "oncall") else { return nil }
        var notification = Notification(name: name)
        notification.location = n.location
        if let severities = n.list("severities", "severities", { item -> AlertSeverity? in
            guard let text = n.text(item, expected: "a severity") else { return nil }
            guard let severity = AlertSeverity(rawValue: text) else {
                let names = AlertSeverity.allCases.map(\.rawValue)
                context.error("invalid-value", "expected one of \(names.joined(separator: ", ")) for severities, got \"\(text)\"",
                              hint: suggestion(for: text, among: names).map { "did you mean '\($0)'?" }, at: item.location)
                return nil
            }
            return severity
        }) {
            notification.severities = severities
        }
        notification.emails = n.stringList("email") ?? []
        for (address, location) in zip(notification.emails, n.raw("email").flatMap(listLocations) ?? []) where !isEmailAddress(address) {
            context.error("invalid-email", "'\(address)' is not an e-mail address", hint: "e.g. oncall@example.com", at: location)
        }
        notification.webhooks = n.list("webhook", "webhooks") { item -> Notification.Webhook? in
            if case .mapping = item.kind {
                guard let r = ObjectReader(item, "webhook reference", context) else { return nil }
                let env = r.string("env"), file = r.string("file")
                r.finish()
                switch (env, file) {
                case let (e?, nil): return .reference(.env(e))
                case let (nil, f?): return .reference(.file(f))
                default:
                    context.error("invalid-secret-reference", "a webhook reference needs exactly one of 'env' or 'file'",
                                  hint: "e.g. `- {env: SLACK_WEBHOOK_URL}`", at: item.location)
                    return nil
                }
            }
            guard let url = n.text(item, expected: "a webhook URL") else { return nil }
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                context.error("invalid-url", "'\(url)' is not an http(s) URL", hint: "a webhook is an https:// URL, or {env: NAME} when it holds a token",
                              at: item.location)
                return nil
            }
            return .url(url)
        } ?? []
        if notification.emails.isEmpty && notification.webhooks.isEmpty && !n.has("email") && !n.has("webhook") {
            context.error("empty-notification", "notification '\(name)' reaches nobody: it has no email and no webhook",
                          hint: "add `email: [oncall@example.com]` or `webhook: [https://…]`", at: n.location)
        }
        return notification
    }

    private func listLocations(_ node: SourceNode) -> [SourceLocation]? {
        if case .sequence(let items) = node.kind { return items.map(\.location) }
        return nil
    }

    private func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: \.isWhitespace)
    }

    func decodeSecurity(_ r: ObjectReader) -> Security {
        var s = Security()
        s.location = r.location
        s.tls = r.bool("tls") ?? s.tls
        s.authentication = r.string("authentication")
        s.auditLogging = r.bool("audit_logging") ?? s.auditLogging
        s.adminCIDRs = r.stringList("admin_cidrs") ?? []
        return s
    }
}
