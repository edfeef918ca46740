/// `disaster_recovery.schedule` as jobs that run where the nodes are: which targets a cluster's nodes write to, the
/// URL of each, and the schedule as systemd timers (VMs, on-prem hosts) or cron expressions (Kubernetes CronJobs).

import StackModel

/// One kind of backup of the schedule, with the targets it writes to.
struct BackupJob: Equatable {
    enum Kind: String, CaseIterable {
        case full, incremental, transactionLog = "transaction-log"

        /// The key under `disaster_recovery.schedule`.
        var scheduleKey: String {
            switch self {
            case .full: return "full_backup"
            case .incremental: return "incremental_backup"
            case .transactionLog: return "transaction_log_backup"
            }
        }
    }

    var kind: Kind
    var frequency: BackupFrequency
    var targets: [BackupTarget]

    /// `maif-backup-full`, `maif-backup-transaction-log`: the name of its unit, CronJob or config.
    var name: String { "maif-backup-\(kind.rawValue)" }
    var keyPath: String { "disaster_recovery.schedule.\(kind.scheduleKey)" }
}

enum Backups {
    /// The environment file a host may hold credentials for targets its cloud's own identity cannot reach (a GCS
    /// bucket from AWS nodes, an S3 bucket from on-prem hosts); provisioned on the host, never by maifctl.
    static let environmentFile = "/etc/maif/backup.env"

    /// The schedule's jobs for one cluster: every kind the schedule names, each writing to the cluster's targets.
    static func jobs(for cluster: Cluster, in stack: Stack) -> [BackupJob] {
        guard let schedule = stack.disasterRecovery?.schedule else { return [] }
        let targets = targets(of: cluster, in: stack)
        guard !targets.isEmpty else { return [] }
        let frequencies: [(BackupJob.Kind, BackupFrequency?)] = [
            (.full, schedule.full), (.incremental, schedule.incremental), (.transactionLog, schedule.transactionLog),
        ]
        return frequencies.compactMap { kind, frequency in frequency.map { BackupJob(kind: kind, frequency: $0, targets: targets) } }
    }

    /// The targets a cluster's nodes write to: those every restricted class of data the cluster holds may go to
    /// (Placement), less the S3 buckets that cross-region replication fills from the primary region's.
    static func targets(of cluster: Cluster, in stack: Stack) -> [BackupTarget] {
        var targets = stack.disasterRecovery?.backupTargets ?? []
        for dataClass in Placement.dataClasses(heldBy: cluster, in: stack) {
            let allowed = Set(Placement.backupTargets(forDataClass: dataClass, in: stack).map(\.name))
            targets = targets.filter { allowed.contains($0.name) }
        }
        let replicas = Set(replication(in: stack).flatMap(\.destinations).map(\.name))
        if let crr = stack.disasterRecovery?.crossRegionReplication,
           Placement.region(of: cluster, in: stack).map(Placement.normalized) == Placement.normalized(crr.primaryRegion) {
            targets = targets.filter { !replicas.contains($0.name) }
        }
        return targets
    }

    /// What `cross_region_replication` copies with S3 replication: each S3 target of the primary region to every S3
    /// target of a secondary region.
    static func replication(in stack: Stack) -> [(source: BackupTarget, destinations: [BackupTarget])] {
        guard let dr = stack.disasterRecovery, let crr = dr.crossRegionReplication else { return [] }
        let s3 = dr.backupTargets.filter { $0.kind == .s3 }
        func region(_ t: BackupTarget) -> String? { Placement.site(of: t, in: stack).region.map(Placement.normalized) }
        let primary = Placement.normalized(crr.primaryRegion)
        let secondaries = Set(crr.secondaryRegions.map(Placement.normalized))
        let destinations = s3.filter { region($0).map(secondaries.contains) == true }
        guard !destinations.isEmpty else { return [] }
        return s3.filter { region($0) == primary }.map { ($0, destinations) }
    }

    /// Where a node's backups go in a target: `<scheme>://<bucket>/<stack>/<cluster>/<node>/` (without the node when the
    /// backup is taken for the whole cluster, as a Kubernetes CronJob does).
    static func url(_ target: BackupTarget, stack: Stack, cluster: Cluster, node: Node?) -> String {
        let prefix = "\(stack.meta.name)/\(cluster.name)/" + (node.map { "\($0.id)/" } ?? "")
        func trimmed(_ path: String) -> String { path.hasSuffix("/") ? String(path.dropLast()) : path }
        switch target.kind {
        case .s3: return "s3://\(target.bucket ?? target.name)/\(prefix)"
        case .gcs: return "gs://\(target.bucket ?? target.name)/\(prefix)"
        case .azureBlob: return "azure://\(target.container ?? target.bucket ?? target.name)/\(prefix)"
        case .onprem:
            let path = trimmed(target.path ?? "/var/backups/maif")
            if let host = target.host, host != node?.host { return "sftp://\(host)\(path)/\(prefix)" }
            return "file://\(path)/\(prefix)"
        case .local:
            return "file://\(trimmed(target.path ?? ".maif/backups/\(target.name)"))/\(prefix)"
        }
    }

    /// `maif backup --type KIND [--node-id ID] --config FILE --target URL…` (no node id for a whole-cluster backup).
    static func arguments(_ job: BackupJob, stack: Stack, cluster: Cluster, node: Node?, configPath: String) -> [String] {
        ["backup", "--type", job.kind.rawValue] + (node.map { ["--node-id", $0.id] } ?? []) + ["--config", configPath]
            + job.targets.flatMap { ["--target", url($0, stack: stack, cluster: cluster, node: node)] }
    }

    // MARK: systemd

    /// A systemd calendar expression for an interval, when one exists (`daily`, `hourly`, `*-*-* *:0/5:00`);
    /// nil when the interval does not divide a day or an hour evenly (then the timer counts from its last run).
    static func onCalendar(_ interval: TimeSpan) -> String? {
        let seconds = interval.milliseconds / 1000
        guard seconds > 0, interval.milliseconds % 1000 == 0 else { return nil }
        switch seconds {
        case 604_800: return "weekly"
        case 86_400: return "daily"
        case 3600: return "hourly"
        default: break
        }
        if seconds % 3600 == 0, 86_400 % seconds == 0 { return "*-*-* 0/\(seconds / 3600):00:00" }
        if seconds % 60 == 0, 3600 % seconds == 0 { return "*-*-* *:0/\(seconds / 60):00" }
        if 60 % seconds == 0 { return "*-*-* *:*:0/\(seconds)" }
        return nil
    }

    /// systemd's spelling of a span, e.g. `90min`, `2h`, `45s`.
    static func systemdSpan(_ span: TimeSpan) -> String {
        let s = max(1, (span.milliseconds + 999) / 1000)
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)min" }
        return "\(s)s"
    }

    /// The service that takes one backup and the timer that starts it, as `(name, content)` pairs.
    static func systemdUnits(_ job: BackupJob, stack: Stack, cluster: Cluster, node: Node, managedBy: String,
                             execStart: [String], runsAsMAIF: Bool) -> [(name: String, content: String)] {
        let header = "# Generated by maifctl from stack \(stack.meta.name) (\(managedBy)); edits here are drift and will be reverted."
        let targets = job.targets.map(\.name).joined(separator: ", ")
        var service = [
            header, "[Unit]",
            "Description=MAIF \(job.kind.rawValue) backup of node \(node.id) (cluster \(cluster.name)) to \(targets)",
            "Wants=network-online.target", "After=network-online.target maif.service",
            "", "[Service]", "Type=oneshot",
        ]
        if runsAsMAIF { service += ["User=\(NodeUnit.serviceUser)", "Group=\(NodeUnit.serviceUser)"] }
        service += ["EnvironmentFile=-\(environmentFile)", "ExecStart=\(execStart.joined(separator: " "))"]
        var timer = [header, "[Unit]", "Description=MAIF \(job.kind.rawValue) backup of node \(node.id) (\(job.keyPath): \(job.frequency.text))", "", "[Timer]"]
        if let calendar = onCalendar(job.frequency.interval) {
            timer += ["OnCalendar=\(calendar)", "Persistent=true"]
        } else {
            let span = systemdSpan(job.frequency.interval)
            timer += ["OnBootSec=\(span)", "OnUnitActiveSec=\(span)"]
        }
        timer += ["AccuracySec=1s", "Unit=\(job.name).service", "", "[Install]", "WantedBy=timers.target"]
        return [("\(job.name).service", service.joined(separator: "\n") + "\n"), ("\(job.name).timer", timer.joined(separator: "\n") + "\n")]
    }

    // MARK: cron

    /// A cron expression for an interval: exact when the interval divides an hour or a day evenly (or is a week);
    /// otherwise the longest expressible interval shorter than it, so the schedule never falls behind (`exact` false).
    static func cron(_ interval: TimeSpan) -> (expression: String, exact: Bool) {
        let minutes = interval.milliseconds / 60_000
        let exactMinutes = interval.milliseconds % 60_000 == 0
        if exactMinutes {
            if minutes == 10_080 { return ("0 0 * * 0", true) }
            if minutes == 1440 { return ("0 0 * * *", true) }
            if minutes % 60 == 0, 1440 % minutes == 0 { return (minutes == 60 ? "0 * * * *" : "0 */\(minutes / 60) * * *", true) }
            if minutes > 0, 60 % minutes == 0 { return (minutes == 1 ? "* * * * *" : "*/\(minutes) * * * *", true) }
        }
        if minutes >= 1440 { return ("0 0 * * *", false) }
        if minutes >= 60 {
            let hours: Int64 = [12, 8, 6, 4, 3, 2, 1].first(where: { $0 * 60 <= minutes }) ?? 1
            return (hours == 1 ? "0 * * * *" : "0 */\(hours) * * *", false)
        }
        let step: Int64 = [30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1].first(where: { $0 <= max(1, minutes) }) ?? 1
        return (step == 1 ? "* * * * *" : "*/\(step) * * * *", false)
    }
}
