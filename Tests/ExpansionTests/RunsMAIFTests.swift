import Engine
@testable import Expansion
import Foundation
import ProviderKit
import StackLoader
import StackModel
import XCTest

/// What the shipped stacks deploy really runs (issue 12): VM nodes boot MAIF from a cloud-config cloud-init accepts and
/// executes, the backup schedule becomes timers and CronJobs, and alerts reach the stack's notifications. Every
/// generated file goes through its real validator (scripts/validate-manifests.sh: cloud-init, promtool, amtool,
/// kubernetes-validate).
final class RunsMAIFTests: XCTestCase {
    override func setUpWithError() throws {
        try PlatformFixture.requireValidators()
    }

    /// The resources of one stack (all providers), by address.
    func expand(_ stackFile: String) throws -> (resources: [String: DesiredResource], diagnostics: [Diagnostic], stack: Stack) {
        let stack = try PlatformFixture.load(stackFile)
        let result = Expander.expand(stack)
        return (Dictionary(uniqueKeysWithValues: result.resources.map { ($0.address.description, $0) }), result.diagnostics, stack)
    }

    func temporaryFile(_ content: String, _ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-runs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func validate(_ kind: String, _ content: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try temporaryFile(content, name)
        let run = try PlatformFixture.runValidator([kind, path])
        XCTAssertEqual(run.status, 0, "\(kind) rejects \(name):\n\(run.output)\n---\n\(content)", file: file, line: line)
    }

    /// Runs cloud-init's own write_files module on `cloudConfig`, its paths moved under a temporary root (removed when
    /// the test ends); returns that root and what the module printed.
    func writeFiles(of cloudConfig: String, file: StaticString = #filePath, line: UInt = #line) throws -> (root: String, output: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-root-\(UUID().uuidString.prefix(8))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let written = try PlatformFixture.runValidator(["cloud-config-write", try temporaryFile(cloudConfig, "user-data"), root])
        XCTAssertEqual(written.status, 0, written.output, file: file, line: line)
        return (root, written.output)
    }

    // MARK: VMs

    func testProductionNodesBootFromACloudConfigThatCloudInitAcceptsAndRuns() throws {
        let (resources, diagnostics, _) = try expand("stacks/production.yaml")
        XCTAssertEqual(diagnostics.filter { $0.code == "vm-node-host-outside-subnet" }, [], "every production host lies in its zone's subnet")
        let hosts = ["node-1": "10.0.1.10", "node-2": "10.0.2.11", "node-3": "10.0.3.12"]
        for (node, host) in hosts.sorted(by: { $0.key < $1.key }) {
            let instance = try XCTUnwrap(resources["aws.instance.production-cluster.\(node)"])
            XCTAssertEqual(instance.config["private_ip_address"], .string(host))
            XCTAssertEqual(instance.config["iam_instance_profile"], "${aws.iam_instance_profile.production-cluster.nodes.name}")
            let userData = try XCTUnwrap(instance.config["user_data"]?.stringValue)
            XCTAssertTrue(userData.hasPrefix("#cloud-config\n"), userData)
            try validate("cloud-config", userData, "\(node).yaml")

            let (root, written) = try writeFiles(of: userData)
            let clusterYAML = try String(contentsOfFile: root + "/etc/maif/cluster.yaml", encoding: .utf8)
            for peer in hosts.values { XCTAssertTrue(clusterYAML.contains("host: \(peer)"), "cluster.yaml names \(peer):\n\(clusterYAML)") }
            let unit = try String(contentsOfFile: root + "/etc/systemd/system/maif.service", encoding: .utf8)
            XCTAssertTrue(unit.contains("ExecStart=/usr/bin/docker run --rm --name maif --network host -v /etc/maif:/etc/maif:ro -v /var/lib/maif:/data"), unit)
            XCTAssertTrue(unit.contains("maif/maif-enterprise:latest maif --role \(node == "node-1" ? "primary" : node == "node-2" ? "secondary" : "cache") --node-id \(node) --port 8080 --config /etc/maif/cluster.yaml --tls-config /etc/maif/tls.yaml"), unit)
            XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/etc/maif/tls.yaml"))
            let timer = try String(contentsOfFile: root + "/etc/systemd/system/maif-backup-transaction-log.timer", encoding: .utf8)
            XCTAssertTrue(timer.contains("OnCalendar=*-*-* *:0/5:00"), timer)
            let service = try String(contentsOfFile: root + "/etc/systemd/system/maif-backup-full.service", encoding: .utf8)
            XCTAssertTrue(service.contains("--target s3://maif-backups-primary/production/production-cluster/\(node)/"), service)
            // The cluster holds compliance data, which `specific_region` keeps out of asia-southeast1 (Placement).
            XCTAssertFalse(service.contains("maif-backups-tertiary"), service)
            XCTAssertFalse(service.contains("maif-backups-secondary"), "the secondary bucket is filled by S3 replication")
            let attributes = try FileManager.default.attributesOfItem(atPath: root + "/etc/maif/cluster.yaml")
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o640)
            XCTAssertTrue(written.contains("systemctl"), written)
        }
        let template = try XCTUnwrap(resources["aws.launch_template.production-cluster"]?.config["user_data"]?.stringValue)
        try validate("cloud-config", template, "scaled.yaml")
        XCTAssertTrue(template.contains("--node-id %H"), "scaled nodes are named by their host name")
    }

    /// GCP (instance metadata `user-data`) and Azure (custom data, after the data disk's sections) boot from the same
    /// cloud-config as AWS: cluster.yaml, the unit running the stack's image, the backup timers with their targets.
    func testGCPAndAzureNodesBootFromTheSharedCloudConfig() throws {
        let (resources, diagnostics, _) = try expand("stacks/multi-cloud.yaml")
        let codes = Set(diagnostics.map(\.code))
        for gone in ["gcp-backups-not-scheduled", "azure-backups-not-scheduled", "gcp-alerts-notify-nobody"] {
            XCTAssertFalse(codes.contains(gone), "\(gone) no longer applies: \(diagnostics.filter { $0.code == gone })")
        }
        let configs: [(node: String, text: String)] = try [
            ("gcp-node-1", XCTUnwrap(resources["gcp.instance.maif-gcp.gcp-node-1"]?.config["metadata"]?[path: "user-data"]?.stringValue)),
            ("azure-node-2", XCTUnwrap(resources["azure.vm.maif-azure.azure-node-2"]?.config["os_profile"]?[path: "custom_data"]?.stringValue)),
        ]
        XCTAssertNil(resources["gcp.instance.maif-gcp.gcp-node-1"]?.config["metadata"]?[path: "startup-script"])
        for (node, text) in configs {
            XCTAssertTrue(text.hasPrefix("#cloud-config\n"), text)
            try validate("cloud-config", text, "\(node).yaml")
            let root = try writeFiles(of: text).root
            let unit = try String(contentsOfFile: root + "/etc/systemd/system/maif.service", encoding: .utf8)
            XCTAssertTrue(unit.contains("--node-id \(node) --port 8080 --config /etc/maif/cluster.yaml"), unit)
            let clusterYAML = try String(contentsOfFile: root + "/etc/maif/cluster.yaml", encoding: .utf8)
            XCTAssertTrue(clusterYAML.contains(node), clusterYAML)
            let timer = try String(contentsOfFile: root + "/etc/systemd/system/maif-backup-transaction-log.timer", encoding: .utf8)
            XCTAssertTrue(timer.contains("OnCalendar=*-*-* *:0/5:00"), timer)
            let full = try String(contentsOfFile: root + "/etc/systemd/system/maif-backup-full.service", encoding: .utf8)
            XCTAssertTrue(full.contains("maif backup --type full"), full)
            XCTAssertTrue(full.contains("--target "), full)
            XCTAssertTrue(text.contains("[systemctl, enable, \"--now\", maif.service, maif-backup-full.timer, "), "the timers are started")
        }
        // Azure: the data disk is formatted and mounted where the unit keeps the node's data.
        XCTAssertTrue(configs[1].text.contains("mounts:\n  - [\"/dev/disk/azure/scsi1/lun0-part1\", \"/var/lib/maif\""), configs[1].text)
        let scaled = try XCTUnwrap(resources["gcp.instance_template.maif-gcp"]?.config["metadata"]?[path: "user-data"]?.stringValue
                                   ?? resources["azure.vm_scale_set.maif-azure"]?.config["virtual_machine_profile"]?[path: "os_profile"]?[path: "custom_data"]?.stringValue)
        try validate("cloud-config", scaled, "scaled.yaml")
        XCTAssertTrue(scaled.contains("--node-id %H"), "scaled nodes are named by their host name")
    }

    /// GCP alert policies name the notification channels of their severity.
    func testGCPAlertPoliciesNotifyTheChannelsOfTheirSeverity() throws {
        let (resources, diagnostics, _) = try expand("stacks/multi-cloud.yaml")
        let email = try XCTUnwrap(resources["gcp.notification_channel.oncall.email-1"]?.config)
        XCTAssertEqual(email["type"], "email")
        XCTAssertEqual(email["labels"]?[path: "email_address"], "oncall@example.com")
        XCTAssertEqual(resources["gcp.notification_channel.team.email-1"]?.config["labels"]?[path: "email_address"], "maif-team@example.com")
        let webhook = try XCTUnwrap(resources["gcp.notification_channel.oncall.webhook-1"]?.config)
        XCTAssertEqual(webhook["type"], "webhook_tokenauth")
        XCTAssertEqual(webhook["url_from"], "env:MAIF_ONCALL_WEBHOOK")
        XCTAssertNil(webhook["labels"], "a webhook by reference is read at apply, never written into the plan")
        let policies = resources.values.filter { $0.address.type == "gcp.alert_policy" }
        XCTAssertFalse(policies.isEmpty)
        for policy in policies {
            let severity = policy.config["user_labels"]?[path: "maif-severity"]?.stringValue
            let want: [AttributeValue] = severity == "critical"
                ? ["${gcp.notification_channel.oncall.email-1.name}", "${gcp.notification_channel.oncall.webhook-1.name}"]
                : ["${gcp.notification_channel.team.email-1.name}"]
            XCTAssertEqual(policy.config["notification_channels"], .list(want), "\(policy.address)")
        }
        XCTAssertEqual(resources["azure.load_balancer.maif-azure"]?.config["endpoint"], "${azure.public_ip.maif-azure.lb.fqdn}:8080")
        XCTAssertEqual(resources["azure.vm.maif-azure.azure-node-1"]?.config["endpoint"], "${azure.network_interface.maif-azure.azure-node-1.private_ip_address}:8080")
    }

    func testAHostOutsideItsSubnetMovesIntoItWithAWarningAtTheHostKey() throws {
        let text = try String(contentsOf: ShippedStackPlans.repoRoot.appendingPathComponent("stacks/production.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "host: 10.0.2.11", with: "host: 10.0.1.11")
        let path = try temporaryFile(text, "production.yaml")
        let loaded = ShippedStackPlans.engine.load(StackSource(files: [path]))
        let stack = try XCTUnwrap(loaded.stack, "\(loaded.diagnostics)")
        let result = Expander.expand(stack)
        let warning = try XCTUnwrap(result.diagnostics.first { $0.code == "vm-node-host-outside-subnet" })
        XCTAssertEqual(warning.severity, .warning)
        XCTAssertEqual(warning.location?.line, text.components(separatedBy: "\n").firstIndex { $0.contains("host: 10.0.1.11") }.map { $0 + 1 })
        XCTAssertTrue(warning.message.contains("it gets 10.0.2.11"), warning.message)
        let instance = try XCTUnwrap(result.resources.first { $0.address.description == "aws.instance.production-cluster.node-2" })
        XCTAssertEqual(instance.config["private_ip_address"], "10.0.2.11")
        XCTAssertTrue(instance.config["user_data"]?.stringValue?.contains("host: 10.0.2.11") == true, "cluster.yaml names the moved address")
    }

    func testTheInstanceProfileAllowsExactlyTheBackupBucketsAndTheirKeys() throws {
        let (resources, _, _) = try expand("stacks/production.yaml")
        let policy = try XCTUnwrap(resources["aws.iam_role_policy.production-cluster.backups"]?.config["policy"]?.stringValue)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(policy.utf8)) as? [String: Any])
        let statements = try XCTUnwrap(document["Statement"] as? [[String: Any]])
        let bySid = Dictionary(uniqueKeysWithValues: statements.map { ($0["Sid"] as? String ?? "", $0) })
        XCTAssertEqual(bySid["WriteBackups"]?["Resource"] as? [String], ["arn:aws:s3:::maif-backups-primary/production/production-cluster/*"])
        XCTAssertEqual(bySid["ReadReplicas"]?["Resource"] as? [String], ["arn:aws:s3:::maif-backups-secondary/production/production-cluster/*"])
        XCTAssertEqual(Set(bySid["ListBackupBuckets"]?["Resource"] as? [String] ?? []), ["arn:aws:s3:::maif-backups-primary", "arn:aws:s3:::maif-backups-secondary"])
        XCTAssertEqual(Set(bySid["BackupKeys"]?["Resource"] as? [String] ?? []), ["${aws.kms_key.backups.us-east-1.arn}", "${aws.kms_key.backups.eu-west-1.arn}"])
        XCTAssertEqual(resources["aws.iam_instance_profile.production-cluster.nodes"]?.config["role"], "${aws.iam_role.production-cluster.nodes.name}")

        let primary = try XCTUnwrap(resources["aws.s3_bucket.maif-backups-primary"]?.config)
        XCTAssertEqual(primary["server_side_encryption"]?[path: "kms_master_key_id"], "${aws.kms_key.backups.us-east-1.arn}")
        XCTAssertEqual(primary["replication"]?[path: "role"], "${aws.iam_role.production.replication.arn}")
        let rule = try XCTUnwrap(primary["replication"]?[path: "rules"]?.listValue?.first)
        XCTAssertEqual(rule[path: "destination_bucket"], "${aws.s3_bucket.maif-backups-secondary.arn}")
        XCTAssertEqual(rule[path: "replica_kms_key_id"], "${aws.kms_key.backups.eu-west-1.arn}")
        XCTAssertNil(resources["aws.s3_bucket.maif-backups-secondary"]?.config["replication"])
    }

    func testEveryAlarmNotifiesTheTopicsOfItsSeverity() throws {
        let (resources, _, _) = try expand("stacks/production.yaml")
        XCTAssertEqual(resources["aws.cloudwatch_alarm.production-cluster.node_down"]?.config["alarm_actions"],
                       .list(["${aws.sns_topic.oncall.us-east-1.arn}"]))
        XCTAssertEqual(resources["aws.cloudwatch_alarm.production-cluster.high_cpu_usage"]?.config["ok_actions"],
                       .list(["${aws.sns_topic.team.us-east-1.arn}"]))
        XCTAssertEqual(resources["aws.sns_topic_subscription.oncall.us-east-1.email-1"]?.config["endpoint"], "oncall@example.com")
        let webhook = try XCTUnwrap(resources["aws.sns_topic_subscription.oncall.us-east-1.webhook-1"]?.config)
        XCTAssertEqual(webhook["endpoint_from"], "env:MAIF_ONCALL_WEBHOOK")
        XCTAssertNil(webhook["endpoint"], "a webhook by reference is read at apply, never written into the plan")
        XCTAssertEqual(resources["aws.sns_topic_subscription.team.us-east-1.email-1"]?.config["endpoint"], "maif-team@example.com")
    }

    /// Azure's metric alerts have no action group, so its first node's custom data carries the alert rules and the
    /// Alertmanager route the on-prem provider writes on a first host: cloud-init writes them where they belong, promtool
    /// and amtool accept them, each notification is the receiver of its severities, and the webhook given by reference
    /// is not in the custom data (e-mail still goes out; the warning says so). The other nodes carry no alerting files.
    func testAzureFirstNodeRoutesTheNotificationsThroughAlertmanager() throws {
        let (resources, diagnostics, stack) = try expand("stacks/multi-cloud.yaml")
        XCTAssertFalse(diagnostics.contains { $0.code == "azure-alerts-notify-nobody" }, "the notifications are routed by Alertmanager")
        let narrower = try XCTUnwrap(diagnostics.first { $0.code == "azure-metric-alerts-without-action-group" })
        XCTAssertEqual(narrower.location?.line, stack.location(of: "monitoring.notifications")?.line)
        XCTAssertTrue(narrower.message.contains("first node 'azure-node-1'"), narrower.message)
        let byReference = try XCTUnwrap(diagnostics.first { $0.code == "alertmanager-webhook-by-reference" && $0.message.contains("Azure") })
        XCTAssertTrue(byReference.message.contains("oncall"), byReference.message)

        func customData(_ node: String) throws -> String {
            try XCTUnwrap(resources["azure.vm.maif-azure.\(node)"]?.config["os_profile"]?[path: "custom_data"]?.stringValue)
        }
        let first = try customData("azure-node-1")
        try validate("cloud-config", first, "azure-node-1.yaml")
        let root = try writeFiles(of: first).root
        let rules = try String(contentsOfFile: root + "/etc/maif/alerting/maif-rules.yml", encoding: .utf8)
        let alertmanager = try String(contentsOfFile: root + "/etc/maif/alerting/alertmanager.yml", encoding: .utf8)
        try validate("rules", rules, "maif-rules.yml")
        try validate("alertmanager", alertmanager, "alertmanager.yml")
        // The same files the on-prem provider writes (Alerting), here for cluster maif-azure.
        let cluster = try XCTUnwrap(stack.clusters.first { $0.name == "maif-azure" })
        let files = try XCTUnwrap(Alerting.files(for: cluster, in: stack, platform: "x"))
        XCTAssertEqual(rules, files.rules)
        XCTAssertEqual(alertmanager, files.alertmanager)
        XCTAssertTrue(rules.contains("- alert: high_cpu_usage\n") && rules.contains("- alert: node_down\n"), rules)
        XCTAssertTrue(rules.contains(#"expr: "up{job=\"maif\", cluster=\"maif-azure\"} == 0""#), rules)
        // Each alert, with the labels its rule gives it, is routed by amtool to the notification of its severity:
        // node_down (critical) to oncall, high_cpu_usage (warning) to team; each receiver mails its addresses.
        let amFile = try temporaryFile(alertmanager, "alertmanager.yml")
        for (alert, severity, receiver) in [("node_down", "critical", "oncall"), ("high_cpu_usage", "warning", "team"), ("any", "info", "team")] {
            let routed = try PlatformFixture.runValidator(["alertmanager-route", amFile, "alertname=\(alert)", "severity=\(severity)",
                                                           "cluster=maif-azure", "stack=multi-cloud"])
            XCTAssertEqual(routed.status, 0, routed.output)
            XCTAssertEqual(routed.stdout.trimmingCharacters(in: .whitespacesAndNewlines), receiver, "\(alert) (\(severity)): \(routed.output)")
        }
        for (receiver, mail) in [("oncall", "oncall@example.com"), ("team", "maif-team@example.com")] {
            XCTAssertTrue(alertmanager.contains("  - name: \(receiver)\n    email_configs:\n      - to: \(mail)\n"), alertmanager)
        }
        XCTAssertFalse(alertmanager.contains("webhook_configs"), "the webhook by reference is not written into the custom data")
        XCTAssertFalse(alertmanager.contains("MAIF_ONCALL_WEBHOOK"), alertmanager)
        for node in ["azure-node-2", "azure-node-3"] {
            XCTAssertFalse(try customData(node).contains("/etc/maif/alerting/"), "only the first node runs the cluster's alerting")
        }
        let scaled = try XCTUnwrap(resources["azure.vm_scale_set.maif-azure"]?.config["virtual_machine_profile"]?[path: "os_profile"]?[path: "custom_data"]?.stringValue)
        XCTAssertFalse(scaled.contains("/etc/maif/alerting/"), "scale set instances come and go: no alerting there")
    }

    // MARK: On premises

    func testOnPremHostsGetBackupTimersAndAlertingFiles() throws {
        let (resources, _, _) = try expand("stacks/hybrid.yaml")
        for node in ["node-1", "node-2", "node-3"] {
            let timer = try XCTUnwrap(resources["onprem.systemd_unit.on-prem.\(node).maif-backup-full-timer"]?.config)
            XCTAssertEqual(timer["name"], "maif-backup-full.timer")
            XCTAssertEqual(timer["enabled"], true)
            XCTAssertTrue(timer["content"]?.stringValue?.contains("OnCalendar=daily") == true)
            let service = try XCTUnwrap(resources["onprem.systemd_unit.on-prem.\(node).maif-backup-transaction-log-service"]?.config)
            XCTAssertEqual(service["enabled"], false, "started by its timer only")
            let exec = service["content"]?.stringValue ?? ""
            XCTAssertTrue(exec.contains("ExecStart=/usr/local/bin/maif backup --type transaction-log --node-id \(node)"), exec)
            XCTAssertTrue(exec.contains("--target sftp://10.0.1.20/var/backups/maif/hybrid/on-prem/\(node)/"), exec)
            XCTAssertFalse(exec.contains("s3://"), "sensitive data stays on premises, backups included")
        }
        let rules = try XCTUnwrap(resources["onprem.file.on-prem.alerting.maif-rules"]?.config)
        XCTAssertEqual(rules["path"], "${onprem.directory.on-prem.alerting.path}/maif-rules.yml")
        // A directory of its own, inside node-1's /etc/maif, so destroy can empty that one.
        XCTAssertEqual(resources["onprem.directory.on-prem.alerting"]?.config["path"], "${onprem.directory.on-prem.node-1.etc-maif.path}/alerting")
        XCTAssertEqual(rules["host"], "${onprem.host.on-prem.node-1.address}")
        try validate("rules", rules["content"]?.stringValue ?? "", "maif-rules.yml")
        let alertmanager = try XCTUnwrap(resources["onprem.file.on-prem.alerting.alertmanager"]?.config["content"]?.stringValue)
        try validate("alertmanager", alertmanager, "alertmanager.yml")
        XCTAssertTrue(alertmanager.contains("to: oncall@example.com"), alertmanager)
    }

    // MARK: Kubernetes and Swarm

    func testKubernetesBackupsAreCronJobsAndAlertsAreRules() throws {
        let (resources, diagnostics, stack) = try expand("stacks/kubernetes.yaml")
        let jobs = resources.values.filter { $0.address.type == "k8s.cron_job" }.sorted { $0.address.description < $1.address.description }
        XCTAssertEqual(jobs.map { $0.config["name"] }, ["maif-backup-full", "maif-backup-incremental", "maif-backup-transaction-log"])
        let schedules = jobs.map { $0.config["manifest"]?[path: "spec.schedule"] }
        XCTAssertEqual(schedules, ["0 0 * * *", "0 * * * *", "*/5 * * * *"])
        XCTAssertFalse(diagnostics.contains { $0.code == "kubernetes-backup-schedule-rounded" })
        // kubernetes-validate on the CronJobs, references replaced by what they resolve to.
        let manifests = try jobs.map { job -> String in
            let json = (job.config["manifest"] ?? .null).canonicalJSON()
                .replacingOccurrences(of: "${k8s.namespace.k8s-maif-cluster.name}", with: "default")
                .replacingOccurrences(of: "${k8s.config_map.k8s-maif-cluster.name}", with: "maif-config")
                .replacingOccurrences(of: "${k8s.service.k8s-maif-cluster.headless.name}", with: "maif-headless")
                .replacingOccurrences(of: "${k8s.secret.k8s-maif-cluster.backup-credentials.name}", with: "maif-backup-credentials")
            XCTAssertFalse(json.contains("${"), json)
            return try temporaryFile(json, "\(job.config["name"]?.stringValue ?? "job").json")
        }
        let run = try PlatformFixture.runValidator(["k8s"] + manifests)
        XCTAssertEqual(run.status, 0, run.output)

        let alerting = try XCTUnwrap(resources["k8s.config_map.k8s-maif-cluster.alerting"]?.config["manifest"]?[path: "data"])
        try validate("rules", alerting.mapValue?["maif-rules.yml"]?.stringValue ?? "", "maif-rules.yml")
        try validate("alertmanager", alerting.mapValue?["alertmanager.yml"]?.stringValue ?? "", "alertmanager.yml")
        XCTAssertNil(resources["k8s.prometheus_rule.k8s-maif-cluster"])

        // With the Prometheus operator: a PrometheusRule whose groups promtool accepts.
        var withOperator = stack
        withOperator.monitoring?.prometheusOperator = true
        let rule = try XCTUnwrap(Expander.expand(withOperator).resources.first { $0.address.type == "k8s.prometheus_rule" })
        XCTAssertEqual(rule.config["manifest"]?[path: "kind"], "PrometheusRule")
        let groups = try XCTUnwrap(rule.config["manifest"]?[path: "spec.groups"])
        try validate("rules", AttributeValue.map(["groups": groups]).canonicalJSON(), "prometheus-rule-groups.json")
    }

    func testSwarmSaysItCannotScheduleBackupsAndShipsAlertingAsConfigs() throws {
        let (resources, diagnostics, _) = try expand("stacks/swarm.yaml")
        let warning = try XCTUnwrap(diagnostics.first { $0.code == "swarm-backups-not-scheduled" })
        XCTAssertEqual(warning.severity, .warning)
        XCTAssertNotNil(warning.location)
        try validate("rules", resources["swarm.config.swarm-cluster.alert-rules"]?.config["data"]?.stringValue ?? "", "maif-rules.yml")
        try validate("alertmanager", resources["swarm.config.swarm-cluster.alertmanager"]?.config["data"]?.stringValue ?? "", "alertmanager.yml")
        XCTAssertTrue(diagnostics.contains { $0.code == "alertmanager-webhook-by-reference" }, "the on-call webhook by reference is said not to reach Alertmanager")
    }

    // MARK: Schedules

    func testSchedulesAsSystemdCalendarsAndCron() {
        XCTAssertEqual(Backups_onCalendar("5m"), "*-*-* *:0/5:00")
        XCTAssertEqual(Backups_onCalendar("hourly"), "hourly")
        XCTAssertEqual(Backups_onCalendar("6h"), "*-*-* 0/6:00:00")
        XCTAssertNil(Backups_onCalendar("90m"), "not a divisor of a day: the timer counts from its last run")
    }

    func Backups_onCalendar(_ text: String) -> String? {
        var stack = Stack(meta: StackMeta(name: "s", cloud: .onprem))
        stack.clusters = [Cluster(name: "c", cloud: .onprem, platform: .onprem, nodes: [Node(id: "n1", host: "10.9.0.1", role: .primary)])]
        var dr = DisasterRecovery()
        var target = BackupTarget(name: "t", kind: .onprem)
        target.host = "10.9.0.1"
        dr.backupTargets = [target]
        var schedule = BackupSchedule()
        schedule.full = BackupFrequency(parsing: text)
        dr.schedule = schedule
        stack.disasterRecovery = dr
        let timer = Expander.expand(stack).resources.first { $0.address.description == "onprem.systemd_unit.c.n1.maif-backup-full-timer" }
        let content = timer?.config["content"]?.stringValue ?? ""
        return content.split(separator: "\n").first { $0.hasPrefix("OnCalendar=") }.map { String($0.dropFirst("OnCalendar=".count)) }
    }
}
