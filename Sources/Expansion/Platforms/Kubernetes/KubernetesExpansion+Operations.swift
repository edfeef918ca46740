/// What keeps a Kubernetes cluster safe and watched: a CronJob per kind of backup of the schedule (taken from the
/// cluster through its headless service, written to the stack's targets), and the alert rules — a `PrometheusRule`
/// when `monitoring.prometheus_operator` says the operator runs, otherwise a rule file in the ConfigMap
/// `maif-alerting` beside the Alertmanager route, as the node config is delivered.

import ProviderKit
import StackModel

extension KubernetesCluster {
    static let alertingName = "maif-alerting"
    static let ruleName = "maif-alert-rules"

    func operations() -> PlatformOutput {
        var out = backupCronJobs()
        out += alerting()
        return out
    }

    func backupCronJobs() -> PlatformOutput {
        var out = PlatformOutput()
        let port = ContainerWorkload.port(cluster.nodes)
        let withSecret = !ContainerWorkload.backupCredentials(stack).isEmpty
        for job in Backups.jobs(for: cluster, in: stack) {
            let (schedule, exact) = Backups.cron(job.frequency.interval)
            if !exact {
                out.diagnostics.append(.warning("kubernetes-backup-schedule-rounded",
                                                "the \(job.kind.rawValue) backup every \(job.frequency.text) cannot be a cron schedule; the CronJob runs `\(schedule)`, more often",
                                                hint: "use an interval that divides an hour or a day (5m, 15m, 1h, 6h, daily)",
                                                at: stack.location(of: job.keyPath) ?? stack.disasterRecovery?.location))
            }
            var container: [String: AttributeValue] = [
                "name": "backup",
                "image": .string(ContainerWorkload.image(cluster)),
                "args": .list((["maif"] + Backups.arguments(job, stack: stack, cluster: cluster, node: nil, configPath: ContainerWorkload.configPath)
                               + ["--peers", "$(MAIF_PEER_DOMAIN):\(port)"]).map { .string($0) }),
                "env": .list([
                    .map(["name": "MAIF_CLUSTER_NAME", "value": .string(cluster.name)]),
                    .map(["name": "MAIF_PEER_DOMAIN", "value": .string("${\(headless).name}.${\(namespace).name}.svc.cluster.local")]),
                ]),
                "volumeMounts": .list([
                    .map(["name": "config", "mountPath": .string(ContainerWorkload.configDirectory), "readOnly": true]),
                    .map(["name": "tmp", "mountPath": "/tmp"]),
                ]),
                // As least-privileged as the nodes (checkov's CKV_K8S_20/22/23/28/30/37/40), with bounds of its own:
                // a backup streams to its targets, it holds no data set in memory.
                "securityContext": .map([
                    "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                    "runAsUser": .int(Self.runAsUser), "runAsGroup": .int(Self.runAsUser),
                    "capabilities": .map(["drop": .list(["ALL"])]),
                ]),
                "resources": .map([
                    "requests": .map(["cpu": "250m", "memory": "256Mi"]),
                    "limits": .map(["cpu": "2", "memory": "2Gi"]),
                ]),
            ]
            if withSecret { container["envFrom"] = .list([.map(["secretRef": .map(["name": ref(secret)])])]) }
            let address = address("cron_job", job.kind.rawValue)
            let seconds = Int64(job.frequency.interval.seconds)
            let spec: [String: AttributeValue] = [
                "schedule": .string(schedule),
                // One backup of a kind at a time; a missed run is started late only while it is still useful.
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": .int(max(60, seconds / 2)),
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": .map(["spec": .map([
                    "backoffLimit": 2,
                    "template": .map([
                        // Not the StatefulSet's selector: a backup pod is no MAIF node to its services and budget.
                        "metadata": .map(["labels": .map(["app": "maif-backup", "maif/cluster": .string(KubernetesValues.labelValue(cluster.name))])]),
                        "spec": .map([
                            "restartPolicy": "OnFailure",
                            "containers": .list([.map(container)]),
                            "volumes": .list([
                                .map(["name": "config", "configMap": .map(["name": ref(configMap)])]),
                                .map(["name": "tmp", "emptyDir": .map([:])]),
                            ]),
                            "automountServiceAccountToken": false,
                            "securityContext": .map([
                                "runAsNonRoot": true, "runAsUser": .int(Self.runAsUser), "runAsGroup": .int(Self.runAsUser),
                                "seccompProfile": .map(["type": "RuntimeDefault"]),
                            ]),
                        ]),
                    ]),
                ])]),
            ]
            out.resources.append(DesiredResource(address: address, config: object(address, "batch/v1", "CronJob", name: job.name, ["spec": .map(spec)]),
                                                 origin: stack.location(of: job.keyPath) ?? stack.disasterRecovery?.location))
        }
        return out
    }

    func alerting() -> PlatformOutput {
        guard let files = Alerting.files(for: cluster, in: stack, platform: "kubernetes cluster '\(cluster.name)'"),
              let monitoring = stack.monitoring else { return PlatformOutput() }
        var out = PlatformOutput(diagnostics: files.diagnostics)
        var data: [String: AttributeValue] = [Alerting.alertmanagerFile: .string(files.alertmanager)]
        if monitoring.prometheusOperator {
            let address = address("prometheus_rule")
            let groups = Alerting.ruleGroups(for: cluster, in: stack).attributeValue
            out.resources.append(DesiredResource(address: address, config: object(address, "monitoring.coreos.com/v1", "PrometheusRule", name: Self.ruleName,
                                                                                   ["spec": .map(["groups": groups])]),
                                                 origin: monitoring.location))
        } else {
            data[Alerting.rulesFile] = .string(files.rules)
        }
        let address = address("config_map", "alerting")
        out.resources.append(DesiredResource(address: address, config: object(address, "v1", "ConfigMap", name: Self.alertingName, ["data": .map(data)]),
                                             origin: monitoring.location))
        return out
    }
}
