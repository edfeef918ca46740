/// Backups and alerts on a swarm. Swarm has no job scheduler, so the backup schedule is said not to run (a plan warning
/// at `disaster_recovery.schedule`); the alert rules and the Alertmanager route become configs, versioned like
/// cluster.yaml, for the swarm's Prometheus and Alertmanager services to mount.

import ProviderKit
import StackModel

extension SwarmCluster {
    static let rulesConfigName = "maif-alert-rules"
    static let alertmanagerConfigName = "maif-alertmanager"

    func operations() -> PlatformOutput {
        var out = PlatformOutput()
        let jobs = Backups.jobs(for: cluster, in: stack)
        if !jobs.isEmpty {
            let schedule = jobs.map { "\($0.kind.rawValue) every \($0.frequency.text)" }.joined(separator: ", ")
            out.diagnostics.append(.warning("swarm-backups-not-scheduled",
                                            "Docker Swarm has no job scheduler: the backups of cluster '\(cluster.name)' (\(schedule)) are not run by the platform",
                                            hint: "run `maif backup --type <kind> --target <url>` from a scheduler outside the swarm (cron or systemd timers on a manager, a CI schedule)",
                                            at: stack.location(of: "disaster_recovery.schedule") ?? stack.disasterRecovery?.location))
        }
        guard let files = Alerting.files(for: cluster, in: stack, platform: "swarm cluster '\(cluster.name)'") else { return out }
        out.diagnostics += files.diagnostics
        let origin = stack.monitoring?.location ?? cluster.location
        for (suffix, name, data) in [("alert-rules", Self.rulesConfigName, files.rules), ("alertmanager", Self.alertmanagerConfigName, files.alertmanager)] {
            let address = address("config", suffix)
            out.resources.append(DesiredResource(address: address, config: [
                "name": .string(name), "data": .string(data), "labels": labels(address),
            ], lifecycle: Self.createBeforeDestroy, origin: origin))
        }
        return out
    }
}
