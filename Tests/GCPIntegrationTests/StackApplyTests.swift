/// The shipped stacks applied by the built `maifctl` as a user would run it: the gcp part of stacks/multi-cloud.yaml
/// against the local GCP servers, and all of stacks/production.yaml against moto (AWS) and the GCS server at once.
/// Checked with Google's own Python clients; a second plan is empty; versioning turned off by google-cloud-storage is
/// drift that apply repairs; destroy leaves nothing.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

struct GCPStackRun {
    let servers: GCPServers
    let work: String

    init(_ servers: GCPServers) throws {
        self.servers = servers
        work = FileManager.default.temporaryDirectory.appendingPathComponent("maif-gcp-stack-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work + "/.config/gcloud", withIntermediateDirectories: true)
        // production.yaml reads its key from ~/.config/gcloud/maif-production.json.
        try FileManager.default.copyItem(atPath: servers.serviceAccountKey, toPath: work + "/.config/gcloud/maif-production.json")
    }

    /// `maifctl VERB FILE --state WORK/state EXTRA…` with the front as the API endpoint and the stacks' credential variables.
    func maifctl(_ verb: String, _ file: String, _ extra: [String], environment extraEnvironment: [String: String] = [:]) throws -> ProcessOutput {
        var environment = ["MAIFCTL_GCP_ENDPOINT": servers.front, "GOOGLE_APPLICATION_CREDENTIALS": servers.serviceAccountKey, "HOME": work,
                           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AZURE_CLIENT_SECRET": "unused",
                           "MAIF_ONCALL_WEBHOOK": "https://127.0.0.1:9/maif-oncall"]
        environment.merge(extraEnvironment) { $1 }
        return try RunningProcess.run(try MaifctlBinary.locate(), [verb, file, "--state", work + "/state", "--no-color"] + extra,
                                      environment: environment, in: work, timeout: 300)
    }

    func stack(_ name: String) -> String { "\(GCPServers.repository)/stacks/\(name).yaml" }

    /// "Provider calls (plan and apply): gcp: 123 API calls" → the line.
    static func calls(_ output: ProcessOutput) -> String {
        output.all.split(separator: "\n").first { $0.hasPrefix("Provider calls") }.map(String.init) ?? "?"
    }

    func remove() { try? FileManager.default.removeItem(atPath: work) }
}

extension GCPIntegration {
    /// Everything of `project` Google's client lists, per collection (empty collections left out).
    func inventory(_ servers: GCPServers, project: String) throws -> [String: Int] {
        try inventory(servers, project: project, with: []).counts
    }

    /// The inventory and, in the same run of Google's client, the answers to `extra` calls.
    func inventory(_ servers: GCPServers, project: String, with extra: [[String]]) throws -> (counts: [String: Int], answers: [[String: Any]]) {
        let p = ["project": project], r = p.merging(["region": "us-central1"]) { $1 }
        var calls: [(String, [String])] = [
            ("networks", ["call", "compute", "v1", "networks", "list", GCPServers.json(p)]),
            ("firewalls", ["call", "compute", "v1", "firewalls", "list", GCPServers.json(p)]),
            ("subnetworks", ["call", "compute", "v1", "subnetworks", "list", GCPServers.json(r)]),
            ("instanceTemplates", ["call", "compute", "v1", "instanceTemplates", "list", GCPServers.json(p)]),
            ("regionInstanceGroupManagers", ["call", "compute", "v1", "regionInstanceGroupManagers", "list", GCPServers.json(r)]),
            ("regionAutoscalers", ["call", "compute", "v1", "regionAutoscalers", "list", GCPServers.json(r)]),
            ("regionHealthChecks", ["call", "compute", "v1", "regionHealthChecks", "list", GCPServers.json(r)]),
            ("regionBackendServices", ["call", "compute", "v1", "regionBackendServices", "list", GCPServers.json(r)]),
            ("forwardingRules", ["call", "compute", "v1", "forwardingRules", "list", GCPServers.json(r)]),
            ("alertPolicies", ["call", "monitoring", "v3", "projects.alertPolicies", "list", GCPServers.json(["name": "projects/\(project)"])]),
            ("notificationChannels", ["call", "monitoring", "v3", "projects.notificationChannels", "list", GCPServers.json(["name": "projects/\(project)"])]),
            ("managedZones", ["call", "dns", "v1", "managedZones", "list", GCPServers.json(p)]),
        ]
        for zone in ["us-central1-a", "us-central1-b", "us-central1-c"] {
            let z = p.merging(["zone": zone]) { $1 }
            calls.append(("instances", ["call", "compute", "v1", "instances", "list", GCPServers.json(z)]))
            calls.append(("disks", ["call", "compute", "v1", "disks", "list", GCPServers.json(z)]))
            calls.append(("instanceGroups", ["call", "compute", "v1", "instanceGroups", "list", GCPServers.json(z)]))
        }
        calls.append(("buckets", ["bucket", "list", project]))
        let all = try servers.google(calls.map(\.1) + extra)
        let answers = Array(all.prefix(calls.count))
        var out: [String: Int] = [:]
        for ((name, _), answer) in zip(calls, answers) {
            let count: Int
            if let names = answer as? [String] { count = names.count }
            else { count = ((answer as? [String: Any])?["items"] as? [Any] ?? (answer as? [String: Any])?["alertPolicies"] as? [Any]
                            ?? (answer as? [String: Any])?["notificationChannels"] as? [Any]
                            ?? (answer as? [String: Any])?["managedZones"] as? [Any] ?? []).count }
            if count > 0 { out[name, default: 0] += count }
        }
        return (out, all.dropFirst(calls.count).map { $0 as? [String: Any] ?? [:] })
    }

    @Test func multiCloudGCPPartAppliesConvergesRepairsDriftAndDestroysClean() throws {
        let servers = try GCPServers.start()
        let run = try GCPStackRun(servers)
        defer { run.remove() }
        let project = "maif-multi-cloud"

        let apply = try run.maifctl("apply", run.stack("multi-cloud"), ["--target", "gcp", "--auto-approve"])
        try #require(apply.status == 0, "\(apply)")
        let applyCalls = try servers.stats().values.reduce(0, +)
        print("multi-cloud.yaml (gcp) → local GCP servers: apply \(String(format: "%.1f", apply.seconds)) s; \(GCPStackRun.calls(apply)); front counted \(applyCalls)")
        try servers.expectNoViolations()

        // What Google's clients see.
        let p = ["project": project], r = p.merging(["region": "us-central1"]) { $1 }
        let (counts, details) = try inventory(servers, project: project, with: [
            ["call", "compute", "v1", "instances", "get", GCPServers.json(p.merging(["zone": "us-central1-c", "instance": "multi-cloud-maif-gcp-gcp-node-3"]) { $1 })],
            ["call", "compute", "v1", "regionHealthChecks", "get", GCPServers.json(r.merging(["healthCheck": "multi-cloud-maif-gcp"]) { $1 })],
            ["call", "compute", "v1", "regionAutoscalers", "get", GCPServers.json(r.merging(["autoscaler": "multi-cloud-maif-gcp"]) { $1 })],
            ["call", "compute", "v1", "regionBackendServices", "get", GCPServers.json(r.merging(["backendService": "multi-cloud-maif-gcp"]) { $1 })],
            ["call", "compute", "v1", "networks", "get", GCPServers.json(p.merging(["network": "vpc-network"]) { $1 })],
            ["bucket", "get", "maif-backups-tertiary"],
            ["call", "monitoring", "v3", "projects.alertPolicies", "list", GCPServers.json(["name": "projects/\(project)"])],
            ["call", "monitoring", "v3", "projects.notificationChannels", "list", GCPServers.json(["name": "projects/\(project)"])],
            ["call", "compute", "v1", "forwardingRules", "get", GCPServers.json(r.merging(["forwardingRule": "multi-cloud-maif-gcp"]) { $1 })],
        ])
        #expect(counts == [
            "networks": 1, "subnetworks": 1, "firewalls": 4, "instances": 3, "disks": 3, "instanceGroups": 3,
            "instanceTemplates": 1, "regionInstanceGroupManagers": 1, "regionAutoscalers": 1, "regionHealthChecks": 1,
            "regionBackendServices": 1, "forwardingRules": 1, "alertPolicies": 2, "notificationChannels": 3, "buckets": 1,
        ])
        let node = details[0]
        #expect((node["machineType"] as? String)?.hasSuffix("/machineTypes/c2-standard-16") == true)
        #expect((node["labels"] as? [String: String])?["maif-address"] == "gcp_instance_maif-gcp_gcp-node-3")
        // The shared VMBootstrap cloud-config as instance metadata `user-data`: cluster.yaml, the unit, the backup timers.
        let items = (node.at("metadata.items") as? [[String: Any]]) ?? []
        let userData = items.first { $0["key"] as? String == "user-data" }?["value"] as? String ?? ""
        #expect(userData.hasPrefix("#cloud-config\n"), "\(userData.prefix(200))")
        #expect(userData.contains("path: /etc/maif/cluster.yaml") && userData.contains("name: maif-gcp"), "the guide's cluster.yaml reaches the node")
        #expect(userData.contains("path: /etc/systemd/system/maif.service") && userData.contains("--node-id gcp-node-3"))
        #expect(userData.contains("path: /etc/systemd/system/maif-backup-full.timer") && userData.contains("maif-backup-transaction-log.timer"))
        #expect(!items.contains { $0["key"] as? String == "startup-script" })
        // Every alert policy notifies the channels of its severity: critical → oncall's e-mail, warning → the team's.
        // The oncall webhook, named by reference (MAIF_ONCALL_WEBHOOK), is a webhook_tokenauth channel with its URL.
        let channels = (details[7]["notificationChannels"] as? [[String: Any]]) ?? []
        let channelByTarget = Dictionary(uniqueKeysWithValues: channels.compactMap { c -> (String, String)? in
            guard let target = (c.at("labels.email_address") ?? c.at("labels.url")) as? String, let name = c["name"] as? String else { return nil }
            return (target, name)
        })
        let webhook = "https://127.0.0.1:9/maif-oncall"
        #expect(Set(channelByTarget.keys) == ["oncall@example.com", "maif-team@example.com", webhook], "\(channels)")
        #expect(channels.first { $0.at("labels.url") != nil }?["type"] as? String == "webhook_tokenauth")
        let policies = (details[6]["alertPolicies"] as? [[String: Any]]) ?? []
        #expect(policies.count == 2)
        for policy in policies {
            let targets = (policy.at("userLabels.maif-severity") as? String) == "critical" ? ["oncall@example.com", webhook] : ["maif-team@example.com"]
            #expect(Set(policy["notificationChannels"] as? [String] ?? []) == Set(targets.compactMap { channelByTarget[$0] }), "\(policy)")
        }
        // The webhook URL is a credential: it is in no state file and in no output of maifctl.
        let stateFiles = FileManager.default.enumerator(atPath: run.work + "/state")?.compactMap { $0 as? String } ?? []
        for file in stateFiles where file.hasSuffix(".json") {
            let text = (try? String(contentsOfFile: run.work + "/state/" + file, encoding: .utf8)) ?? ""
            #expect(!text.contains("maif-oncall"), "\(file) holds the webhook URL")
        }
        #expect(!apply.all.contains("maif-oncall"))
        #expect(details[1]["type"] as? String == "HTTPS")
        #expect(details[1]["checkIntervalSec"] as? Int == 30)
        #expect(details[1].at("httpsHealthCheck.requestPath") as? String == "/health")
        #expect(details[1]["unhealthyThreshold"] as? Int == 3)
        #expect(details[2].at("autoscalingPolicy.minNumReplicas") as? Int == 0)
        #expect(details[2].at("autoscalingPolicy.maxNumReplicas") as? Int == 17, "3 named nodes + up to 17 scaled = max_nodes 20")
        #expect(details[2].at("autoscalingPolicy.cpuUtilization.utilizationTarget") as? Double == 0.7)
        #expect((details[3]["backends"] as? [Any])?.count == 4, "one group per zone of named nodes, and the managed group")
        #expect(details[4]["name"] as? String == "vpc-network")
        #expect(details[5].at("versioning.enabled") as? Bool == true)
        #expect(details[5]["location"] as? String == "ASIA-SOUTHEAST1")

        // maifctl output: the balancer's address and each node's.
        let output = try RunningProcess.run(try MaifctlBinary.locate(), ["output", "--stack", "multi-cloud", "--state", run.work + "/state", "--json"],
                                            in: run.work, timeout: 60)
        let endpoints = (try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])?["endpoints"] as? [String: String] ?? [:]
        let address = details[8]["IPAddress"] as? String ?? "?"
        #expect(endpoints["gcp.forwarding_rule.maif-gcp"] == "\(address):8080", "\(endpoints)")
        #expect(endpoints["gcp.instance.maif-gcp.gcp-node-3"] == "multi-cloud-maif-gcp-gcp-node-3.us-central1-c.c.\(project).internal:8080", "\(endpoints)")

        // Converged: nothing to do.
        let noop = try run.maifctl("plan", run.stack("multi-cloud"), ["--target", "gcp", "--detailed-exitcode"])
        #expect(noop.status == 0, "\(noop)")
        print("multi-cloud.yaml (gcp): no-op plan \(String(format: "%.1f", noop.seconds)) s; \(GCPStackRun.calls(noop))")

        // Versioning turned off with google-cloud-storage is drift; apply repairs it.
        _ = try servers.google([["bucket", "versioning", "maif-backups-tertiary", "off"]])
        let drift = try run.maifctl("plan", run.stack("multi-cloud"), ["--target", "gcp", "--detailed-exitcode"])
        #expect(drift.status == 2 && drift.all.contains("gcp.bucket.maif-backups-tertiary"), "\(drift)")
        let repair = try run.maifctl("apply", run.stack("multi-cloud"), ["--target", "gcp", "--auto-approve"])
        #expect(repair.status == 0, "\(repair)")

        // A new machine type: the nodes change in place (stop → setMachineType → start), the template is replaced, the
        // new one made before the old goes, and the managed group moves onto it.
        let resized = run.work + "/multi-cloud.yaml"
        try String(contentsOfFile: run.stack("multi-cloud"), encoding: .utf8)
            .replacingOccurrences(of: "machine_type: c2-standard-16", with: "machine_type: c2-standard-8")
            .write(toFile: resized, atomically: true, encoding: .utf8)
        let resize = try run.maifctl("apply", resized, ["--target", "gcp", "--auto-approve"])
        #expect(resize.status == 0 && resize.all.contains("1 to add, 4 to change, 1 to destroy"), "\(resize)")
        let after = try servers.google([
            ["call", "compute", "v1", "instances", "get", GCPServers.json(p.merging(["zone": "us-central1-a", "instance": "multi-cloud-maif-gcp-gcp-node-1"]) { $1 })],
            ["call", "compute", "v1", "instanceTemplates", "list", GCPServers.json(p)],
            ["call", "compute", "v1", "regionInstanceGroupManagers", "get", GCPServers.json(r.merging(["instanceGroupManager": "multi-cloud-maif-gcp"]) { $1 })],
            ["bucket", "get", "maif-backups-tertiary"],
        ]).map { $0 as? [String: Any] ?? [:] }
        #expect(after[3].at("versioning.enabled") as? Bool == true, "the earlier apply turned versioning back on")
        #expect((after[0]["machineType"] as? String)?.hasSuffix("/c2-standard-8") == true && after[0]["status"] as? String == "RUNNING")
        let templates = (after[1]["items"] as? [[String: Any]] ?? [])
        #expect(templates.count == 1 && templates.first?.at("properties.machineType") as? String == "c2-standard-8", "the old template is gone")
        #expect(after[2]["instanceTemplate"] as? String == templates.first?["selfLink"] as? String)
        #expect(try run.maifctl("plan", resized, ["--target", "gcp", "--detailed-exitcode"]).status == 0)

        let before = try servers.stats().values.reduce(0, +)
        let destroy = try run.maifctl("destroy", resized, ["--target", "gcp", "--auto-approve"])
        try #require(destroy.status == 0, "\(destroy)")
        print("multi-cloud.yaml (gcp): destroy \(String(format: "%.1f", destroy.seconds)) s; \(GCPStackRun.calls(destroy)); front counted \(try servers.stats().values.reduce(0, +) - before)")
        #expect(try inventory(servers, project: project) == [:], "destroy leaves nothing")
        try servers.expectNoViolations()
    }

    @Test func anApplyKilledMidwayIsFinishedByTheNextWithoutDuplicates() throws {
        let servers = try GCPServers.start()
        let run = try GCPStackRun(servers)
        defer { run.remove() }
        // Slower operations (0.6 s each) so the kill lands while GCP is still creating things.
        try servers.post("/_standin/config", ["opPendingSeconds": 0.2, "opRunningSeconds": 0.4])
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in ["MAIFCTL_GCP_ENDPOINT": servers.front, "GOOGLE_APPLICATION_CREDENTIALS": servers.serviceAccountKey, "HOME": run.work,
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AZURE_CLIENT_SECRET": "unused",
                           "MAIF_ONCALL_WEBHOOK": "https://127.0.0.1:9/maif-oncall"] { environment[k] = v }
        let apply = try RunningProcess(try MaifctlBinary.locate(),
                                       [ "apply", run.stack("multi-cloud"), "--target", "gcp", "--state", run.work + "/state", "--no-color", "--auto-approve"],
                                       environment: environment, in: run.work)
        // Killed once the instances are being made: some resources are done, some mid-operation, some not begun.
        let deadline = Date().addingTimeInterval(60)
        while apply.isRunning, (try servers.stats()["compute.instances.insert"] ?? 0) < 2, Date() < deadline { usleep(20_000) }
        #expect(apply.kill(SIGKILL), "the apply ended before it could be killed")
        _ = apply.wait(timeout: 10)
        try servers.post("/_standin/config", ["opPendingSeconds": 0.03, "opRunningSeconds": 0.07])

        let again = try run.maifctl("apply", run.stack("multi-cloud"), ["--target", "gcp", "--auto-approve"])
        try #require(again.status == 0, "\(again)")
        #expect(try inventory(servers, project: "maif-multi-cloud") == [
            "networks": 1, "subnetworks": 1, "firewalls": 4, "instances": 3, "disks": 3, "instanceGroups": 3,
            "instanceTemplates": 1, "regionInstanceGroupManagers": 1, "regionAutoscalers": 1, "regionHealthChecks": 1,
            "regionBackendServices": 1, "forwardingRules": 1, "alertPolicies": 2, "notificationChannels": 3, "buckets": 1,
        ], "everything once: what the killed run made was adopted, not made again")
        #expect(try run.maifctl("plan", run.stack("multi-cloud"), ["--target", "gcp", "--detailed-exitcode"]).status == 0)
        try servers.expectNoViolations()
    }

    @Test func productionStackAppliesToMotoAndGCSAtOnce() throws {
        let servers = try GCPServers.start()
        // A moto of its own: the AWS suite resets its moto while this suite runs beside it.
        guard let moto = ProcessInfo.processInfo.environment["GCP_MOTO_ENDPOINT"], !moto.isEmpty else {
            throw Failure("GCP_MOTO_ENDPOINT is not set: production.yaml needs a moto for its AWS part. Start one with "
                          + "`scripts/moto.sh start /tmp/moto-gcp.port /tmp/moto-gcp.pid` and set GCP_MOTO_ENDPOINT=http://127.0.0.1:$(cat /tmp/moto-gcp.port) "
                          + "(scripts/test.sh does)")
        }
        try GCPServers.run(["curl", "-fsS", "-X", "POST", "\(moto)/moto-api/reset"])
        let run = try GCPStackRun(servers)
        defer { run.remove() }
        let unprotected = run.work + "/production.yaml"
        try String(contentsOfFile: run.stack("production"), encoding: .utf8)
            .replacingOccurrences(of: "prevent_destroy: true", with: "prevent_destroy: false")
            .write(toFile: unprotected, atomically: true, encoding: .utf8)
        // The stack's on-call webhook is named by reference; the aws provider reads it at plan (moto posts to it only when a
        // message is published).
        let aws = ["AWS_ENDPOINT_URL": moto, "MAIF_ONCALL_WEBHOOK": "https://127.0.0.1:9/maif-oncall"]

        let apply = try run.maifctl("apply", unprotected, ["--auto-approve"], environment: aws)
        try #require(apply.status == 0, "\(apply)")
        print("production.yaml → moto + local GCS: apply \(String(format: "%.1f", apply.seconds)) s; \(GCPStackRun.calls(apply))")
        #expect(apply.all.contains("gcp:") && apply.all.contains("aws:"), "both providers were called: \(GCPStackRun.calls(apply))")

        // The guide's tertiary backup bucket, as google-cloud-storage reads it.
        let bucket = try #require(try servers.google([["bucket", "get", "maif-backups-tertiary"]]).first as? [String: Any])
        #expect(bucket["location"] as? String == "ASIA-SOUTHEAST1")
        #expect(bucket.at("versioning.enabled") as? Bool == true)
        #expect(bucket.at("iamConfiguration.uniformBucketLevelAccess.enabled") as? Bool == true)
        #expect((bucket.at("lifecycle.rule") as? [Any])?.count == 2)
        #expect((bucket["labels"] as? [String: String]) == ["maif-stack": "production", "maif-address": "gcp_bucket_maif-backups-tertiary"])
        // The AWS side (checked in detail by the AWS suite) is in moto too: its running instances, asked of EC2 directly
        // (moto picks the service from the credential scope and does not check signatures).
        let ec2 = try GCPServers.run(["curl", "-fsS", "-X", "POST", "\(moto)/",
                                      "-H", "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
                                      "-d", "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag:maif:stack&Filter.1.Value.1=production"
                                          + "&Filter.2.Name=instance-state-name&Filter.2.Value.1=running"])
        #expect(ec2.components(separatedBy: "<instanceId>").count - 1 == 3, "the three AWS nodes run in moto")

        let noop = try run.maifctl("plan", unprotected, ["--detailed-exitcode"], environment: aws)
        #expect(noop.status == 0, "\(noop)")

        // Versioning turned off with google-cloud-storage: the apply's refresh sees it and repairs exactly that.
        _ = try servers.google([["bucket", "versioning", "maif-backups-tertiary", "off"]])
        let repair = try run.maifctl("apply", unprotected, ["--auto-approve"], environment: aws)
        #expect(repair.status == 0 && repair.all.contains("gcp.bucket.maif-backups-tertiary") && repair.all.contains("0 to add, 1 to change, 0 to destroy"),
                "\(repair)")
        #expect((try servers.google([["bucket", "get", "maif-backups-tertiary"]]).first as? [String: Any])?.at("versioning.enabled") as? Bool == true)

        let destroy = try run.maifctl("destroy", unprotected, ["--auto-approve"], environment: aws)
        try #require(destroy.status == 0, "\(destroy)")
        #expect(try inventory(servers, project: "maif-production") == [:], "destroy leaves nothing on GCP")
        try servers.expectNoViolations()
    }
}
