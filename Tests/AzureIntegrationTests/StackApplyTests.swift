/// The built `maifctl` applying the azure part of stacks/multi-cloud.yaml to the ARM stand-in, as a user would (an
/// overlay that points clouds.azure at the stand-in and names its service principal, the secret in the variable the
/// stack names), checked through the stand-in's own API: what is there, a second plan that is empty, drift made by
/// hand and repaired, throttling and a failed operation that end in clear errors with nothing lost from state, and a
/// destroy that leaves nothing.

import Foundation
import TestSupport
import Testing

struct AzureStackRun {
    let standIn: StandIn
    let work: String

    init(_ standIn: StandIn) throws {
        self.standIn = standIn
        work = FileManager.default.temporaryDirectory.appendingPathComponent("maif-azure-stack-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try """
            # Points the stack's azure cloud at the ARM stand-in (a test server, not Azure).
            clouds:
              azure:
                client_id: \(StandIn.clientID)
                endpoint: \(standIn.base)
                authority_host: \(standIn.base)
                ca_file: \(standIn.ca)
                admin_ssh_public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0c3RhbmRpbnRlc3RrZXlmb3JtYWlmY3Rs maif@test
                max_retries: 2
                operations_dir: \(work)/operations

            """.write(toFile: overlay, atomically: true, encoding: .utf8)
    }

    var overlay: String { work + "/standin.yaml" }

    /// The oncall webhook the stack names by reference (`{env: MAIF_ONCALL_WEBHOOK}`): a secret, to be found nowhere.
    static let webhook = "https://127.0.0.1:9/maif-oncall-secret-token"

    /// `maifctl VERB FILES… --target azure --state WORK/state`, with the client secret where the stack says it is.
    func maifctl(_ verb: String, _ files: [String] = ["\(StandIn.repository)/stacks/multi-cloud.yaml"], _ extra: [String] = []) throws -> ProcessOutput {
        try RunningProcess.run(try MaifctlBinary.locate(), [verb] + files + [overlay, "--target", "azure", "--state", work + "/state", "--no-color"] + extra,
                               environment: ["AZURE_CLIENT_SECRET": standIn.secret, "HOME": work, "AZURE_CLIENT_ID": "", "AZURE_TENANT_ID": "",
                                             "AZURE_CLIENT_CERTIFICATE_PATH": "", "ARM_ENDPOINT": "", "MAIF_ONCALL_WEBHOOK": Self.webhook],
                               in: work, timeout: 300)
    }

    /// The same, started in the background (to be killed).
    func start(_ verb: String, _ files: [String], _ extra: [String] = []) throws -> RunningProcess {
        try RunningProcess(try MaifctlBinary.locate(), [verb] + files + [overlay, "--target", "azure", "--state", work + "/state", "--no-color"] + extra,
                           environment: ["AZURE_CLIENT_SECRET": standIn.secret, "HOME": work, "AZURE_CLIENT_ID": "", "AZURE_TENANT_ID": "",
                                         "AZURE_CLIENT_CERTIFICATE_PATH": "", "ARM_ENDPOINT": "", "MAIF_ONCALL_WEBHOOK": Self.webhook],
                           in: work)
    }

    /// The recorded addresses, from the state files in git's work tree (`state/<stack>/resources/<provider>/<kind>/<name>.json`).
    func recorded(_ stack: String = "multi-cloud") -> Set<String> {
        let root = "\(work)/state/\(stack)/resources/azure"
        var out: Set<String> = []
        for kind in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(kind)")) ?? [] where file.hasSuffix(".json") {
                out.insert("azure.\(kind).\(file.dropLast(5))")
            }
        }
        return out
    }

    func remove() { try? FileManager.default.removeItem(atPath: work) }
}

extension AzureIntegration {
    static func counts(_ resources: [[String: Any]]) -> [String: Int] {
        Dictionary(resources.compactMap { ($0["type"] as? String)?.lowercased() }.map { ($0, 1) }, uniquingKeysWith: +)
    }

    static let multiCloudTypes: [String: Int] = [
        "microsoft.resources/resourcegroups": 1, "microsoft.network/virtualnetworks": 1, "microsoft.network/networksecuritygroups": 1,
        "microsoft.network/publicipaddresses": 1, "microsoft.network/loadbalancers": 1, "microsoft.network/networkinterfaces": 3,
        "microsoft.compute/virtualmachines": 3, "microsoft.compute/virtualmachinescalesets": 1, "microsoft.insights/autoscalesettings": 1,
        "microsoft.insights/metricalerts": 3,
    ]

    @Test func multiCloudAzurePartAppliesConvergesRepairsDriftAndDestroysClean() throws {
        let standIn = try StandIn.running()
        let run = try AzureStackRun(standIn)
        defer { run.remove() }

        let apply = try run.maifctl("apply", ["\(StandIn.repository)/stacks/multi-cloud.yaml"], ["--auto-approve"])
        try #require(apply.status == 0, "\(apply)")
        let calls = apply.all.split(separator: "\n").first { $0.hasPrefix("Provider calls") } ?? "?"
        print("multi-cloud.yaml (azure) → ARM stand-in: apply \(String(format: "%.1f", apply.seconds)) s; \(calls)")

        let resources = try standIn.resources()
        #expect(Self.counts(resources) == Self.multiCloudTypes, "\(Self.counts(resources))")
        func one(_ type: String) throws -> [String: Any] { try #require(try standIn.resources(ofType: type).first) }
        func props(_ r: [String: Any]) -> [String: Any] { r["properties"] as? [String: Any] ?? [:] }

        // Every VM on its own network interface, in the load balancer's pool, with the guide's size, its owner tags and
        // the cloud-init custom data that writes cluster.yaml.
        let vms = try standIn.resources(ofType: "Microsoft.Compute/virtualMachines")
        for vm in vms {
            let node = try #require((vm["name"] as? String)?.split(separator: "-").suffix(3).joined(separator: "-"))
            #expect((vm["tags"] as? [String: String])?["maif-stack"] == "multi-cloud")
            #expect((vm["tags"] as? [String: String])?["maif-address"] == "azure.vm.maif-azure.\(node)")
            #expect((props(vm)["hardwareProfile"] as? [String: Any])?["vmSize"] as? String == "Standard_D16s_v3")
            let storage = props(vm)["storageProfile"] as? [String: Any]
            #expect((storage?["dataDisks"] as? [[String: Any]])?.first?["diskSizeGB"] as? Int == 1024, "MAIF's data on a 1 TiB managed data disk")
            let custom = ((props(vm)["osProfile"] as? [String: Any])?["customData"] as? String).flatMap { Data(base64Encoded: $0) }
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
            // The shared VMBootstrap cloud-config: the data disk mounted, cluster.yaml, the node's unit, the backup timers.
            #expect(custom.hasPrefix("#cloud-config\n"))
            #expect(custom.contains("mounts:\n  - [\"/dev/disk/azure/scsi1/lun0-part1\", \"/var/lib/maif\""))
            #expect(custom.contains("path: /etc/maif/cluster.yaml") && custom.contains("name: maif-azure"))
            #expect(custom.contains("path: /etc/systemd/system/maif.service") && custom.contains("--node-id \(node) "))
            #expect(custom.contains("path: /etc/systemd/system/maif-backup-full.timer") && custom.contains("maif-backup-transaction-log.timer"))
            // The metric alerts have no action group: the first node carries the alert rules and the Alertmanager
            // route, each notification the receiver of its severities; the webhook by reference is not written.
            #expect(custom.contains("path: /etc/maif/alerting/maif-rules.yml") == (node == "azure-node-1"), "\(node)")
            #expect(custom.contains("path: /etc/maif/alerting/alertmanager.yml") == (node == "azure-node-1"), "\(node)")
            if node == "azure-node-1" {
                #expect(custom.contains("- alert: node_down\n") && custom.contains("- alert: high_cpu_usage\n"))
                #expect(custom.contains("- receiver: oncall\n") && custom.contains("- receiver: team\n"))
                #expect(custom.contains("- to: oncall@example.com\n") && custom.contains("- to: maif-team@example.com\n"))
            }
            #expect(!custom.contains(AzureStackRun.webhook) && !custom.contains("webhook_configs"))
        }
        #expect(!apply.all.contains(AzureStackRun.webhook), "the webhook by reference is in no output")
        #expect(apply.all.contains("azure-metric-alerts-without-action-group"), "\(apply)")
        let stateFiles = FileManager.default.enumerator(atPath: run.work + "/state")?.compactMap { $0 as? String } ?? []
        for file in stateFiles {
            let text = (try? String(contentsOfFile: run.work + "/state/" + file, encoding: .utf8)) ?? ""
            #expect(!text.contains(AzureStackRun.webhook), "the webhook by reference is not in the state: \(file)")
        }
        #expect(!stateFiles.isEmpty)
        for nic in try standIn.resources(ofType: "Microsoft.Network/networkInterfaces") {
            let config = (props(nic)["ipConfigurations"] as? [[String: Any]])?.first.map(props)
            #expect(((config?["loadBalancerBackendAddressPools"] as? [[String: Any]])?.first?["id"] as? String)?.hasSuffix("/backendAddressPools/nodes") == true)
            #expect((props(nic)["virtualMachine"] as? [String: Any])?["id"] != nil, "attached to its VM")
        }
        // The load balancer's probe is load_balancing's: /health over HTTPS every 30 s, 3 probes.
        let probe = try #require((props(try one("Microsoft.Network/loadBalancers"))["probes"] as? [[String: Any]])?.first.map(props))
        #expect(probe["requestPath"] as? String == "/health" && probe["protocol"] as? String == "Https")
        #expect(probe["intervalInSeconds"] as? Int == 30 && probe["numberOfProbes"] as? Int == 3)
        // Auto-scaling: the scale set adds 0–17 nodes to the 3 named ones, out above 70 % CPU (cooldown 5 min), in below 35 % (10 min).
        let profile = try #require((props(try one("Microsoft.Insights/autoscaleSettings"))["profiles"] as? [[String: Any]])?.first)
        #expect(profile["capacity"] as? [String: String] == ["minimum": "0", "maximum": "17", "default": "0"])
        let rules = profile["rules"] as? [[String: Any]] ?? []
        #expect(rules.count == 8, "one rule out and one in for each named VM and the scale set")
        let out = rules.filter { ($0["scaleAction"] as? [String: Any])?["direction"] as? String == "Increase" }
        #expect(out.allSatisfy { ($0["scaleAction"] as? [String: Any])?["cooldown"] as? String == "PT5M" && ($0["metricTrigger"] as? [String: Any])?["threshold"] as? Double == 70 })
        // Alerts: CPU over 90 % for 5 minutes on the VMs and on the scale set; a node down on the load balancer's probe.
        let alerts = Set(try standIn.resources(ofType: "Microsoft.Insights/metricAlerts").compactMap { $0["name"] as? String })
        #expect(alerts == ["multi-cloud-maif-azure-high-cpu-usage", "multi-cloud-maif-azure-high-cpu-usage-scaled", "multi-cloud-maif-azure-node-down"], "\(alerts)")

        // maifctl output: the load balancer's DNS name and each node's private address.
        let output = try RunningProcess.run(try MaifctlBinary.locate(), ["output", "--stack", "multi-cloud", "--state", run.work + "/state", "--json"],
                                            in: run.work, timeout: 60)
        let endpoints = (try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])?["endpoints"] as? [String: String] ?? [:]
        let fqdn = (props(try one("Microsoft.Network/publicIPAddresses"))["dnsSettings"] as? [String: Any])?["fqdn"] as? String ?? "?"
        #expect(endpoints["azure.load_balancer.maif-azure"] == "\(fqdn):8080", "\(endpoints)")
        for nic in try standIn.resources(ofType: "Microsoft.Network/networkInterfaces") {
            let ip = (props(nic)["ipConfigurations"] as? [[String: Any]])?.first.map(props)?["privateIPAddress"] as? String ?? "?"
            let node = (nic["name"] as? String ?? "").replacingOccurrences(of: "multi-cloud-maif-azure-", with: "").replacingOccurrences(of: "-nic", with: "")
            #expect(endpoints["azure.vm.maif-azure.\(node)"] == "\(ip):8080", "\(endpoints)")
        }

        // Converged: nothing to do.
        let noop = try run.maifctl("plan", ["\(StandIn.repository)/stacks/multi-cloud.yaml"], ["--detailed-exitcode"])
        #expect(noop.status == 0, "\(noop)")
        print("multi-cloud.yaml (azure) → ARM stand-in: no-op plan \(String(format: "%.1f", noop.seconds)) s")

        // Drift made through ARM by hand: the virtual network loses its address tag, an NSG rule is opened to everyone.
        let vnet = try one("Microsoft.Network/virtualNetworks")
        let vnetID = try #require(vnet["id"] as? String)
        #expect(try standIn.arm("PATCH", vnetID, api: "2024-05-01", ["tags": ["maif-stack": "multi-cloud"]]).status == 200)
        let nsgID = try #require(try one("Microsoft.Network/networkSecurityGroups")["id"] as? String)
        let (status, _) = try standIn.arm("PUT", nsgID + "/securityRules/allow-admin-ssh", api: "2024-05-01", ["properties": [
            "protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 110, "sourceAddressPrefix": "0.0.0.0/0",
            "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"]])
        #expect(status == 200)
        Thread.sleep(forTimeInterval: 0.5)
        let drift = try run.maifctl("plan", ["\(StandIn.repository)/stacks/multi-cloud.yaml"], ["--detailed-exitcode"])
        #expect(drift.status == 2, "\(drift)")
        #expect(drift.all.contains("azure.virtual_network.maif-azure") && drift.all.contains("azure.network_security_group.maif-azure"), "\(drift)")
        let repair = try run.maifctl("apply", ["\(StandIn.repository)/stacks/multi-cloud.yaml"], ["--auto-approve"])
        #expect(repair.status == 0, "\(repair)")
        #expect((try standIn.arm("GET", vnetID, api: "2024-05-01").body["tags"] as? [String: String])?["maif-address"] == "azure.virtual_network.maif-azure")
        let rule = try standIn.arm("GET", nsgID + "/securityRules/allow-admin-ssh", api: "2024-05-01").body
        #expect((rule["properties"] as? [String: Any])?["sourceAddressPrefix"] as? String == "10.0.0.0/8", "\(rule)")
        #expect(try standIn.resources(ofType: "Microsoft.Network/virtualNetworks").first.map { (props($0)["subnets"] as? [Any])?.count } == 1,
                "the subnet survived its virtual network's update")
        #expect(try run.maifctl("plan", ["\(StandIn.repository)/stacks/multi-cloud.yaml"], ["--detailed-exitcode"]).status == 0)

        // Destroy leaves nothing, deleting each resource (the group last, once empty).
        try standIn.control("DELETE", "/requests")
        let destroy = try run.maifctl("destroy", ["\(StandIn.repository)/stacks/multi-cloud.yaml"], ["--auto-approve"])
        try #require(destroy.status == 0, "\(destroy)")
        print("multi-cloud.yaml (azure) → ARM stand-in: destroy \(String(format: "%.1f", destroy.seconds)) s")
        let left = try standIn.resources()
        #expect(left.isEmpty, "\(left.map { $0["id"] ?? "?" })")
        let deletes = (try standIn.requests()["requests"] as? [[String: Any]] ?? []).filter { $0["method"] as? String == "DELETE" }
        // The subnet is a resource of its own to maifctl and to ARM, kept inside its virtual network's record by the stand-in.
        #expect(deletes.count == Self.multiCloudTypes.values.reduce(0, +) + 1, "one DELETE per resource: \(deletes.count)")
        #expect(run.recorded().isEmpty)
    }

    @Test func throttlingAndAFailedOperationEndInClearErrorsWithNothingLost() throws {
        let standIn = try StandIn.running()
        let run = try AzureStackRun(standIn)
        defer { run.remove() }
        let stack = ["\(StandIn.repository)/stacks/multi-cloud.yaml"]
        try standIn.inject(["method": "PUT", "path": "/metricAlerts/", "count": -1, "status": 429, "retry_after": 1])
        try standIn.inject(["kind": "async", "method": "PUT", "path": "/virtualMachineScaleSets/[^/]+$", "code": "AllocationFailed",
                            "message": "no capacity for Standard_D16s_v3 in eastus"])
        let failed = try run.maifctl("apply", stack, ["--auto-approve"])
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.all.contains("azure.metric_alert.maif-azure.node_down: PUT Microsoft.Insights/metricAlerts failed: TooManyRequests"), "\(failed)")
        #expect(failed.all.contains("(gave up after 3 attempts)"))
        #expect(failed.all.contains("azure.vm_scale_set.maif-azure: PUT Microsoft.Compute/virtualMachineScaleSets failed: AllocationFailed: no capacity for Standard_D16s_v3 in eastus (the operation ended Failed)"), "\(failed)")
        // Nothing lost: everything that was made is recorded; what failed, and what waited for it, is not.
        let recorded = run.recorded()
        #expect(recorded.isSuperset(of: ["azure.resource_group.maif-azure", "azure.load_balancer.maif-azure", "azure.vm.maif-azure.azure-node-1",
                                         "azure.vm.maif-azure.azure-node-2", "azure.vm.maif-azure.azure-node-3"]), "\(recorded)")
        #expect(!recorded.contains("azure.vm_scale_set.maif-azure") && !recorded.contains("azure.autoscale_setting.maif-azure"))
        #expect(!recorded.contains { $0.hasPrefix("azure.metric_alert.") })
        let status = try RunningProcess.run("/usr/bin/git", ["-C", run.work + "/state", "status", "--porcelain"])
        #expect(status.stdout.isEmpty, "the state is committed: \(status.stdout)")

        // Once ARM answers again, the next apply finishes the job.
        try standIn.clearFaults()
        let again = try run.maifctl("apply", stack, ["--auto-approve"])
        #expect(again.status == 0, "\(again)")
        #expect(Self.counts(try standIn.resources()) == Self.multiCloudTypes)
        #expect(try run.maifctl("plan", stack, ["--detailed-exitcode"]).status == 0)
    }

    /// The production checklist rules a one-node test stack does not meet (none of them is about Azure).
    static let extrasSkips = ["security.tls", "security.authentication", "monitoring.enabled", "lb.health-checks", "quorum.replicas-fit-nodes",
                              "backup.configured"].flatMap { ["--skip-check", $0] }

    @Test func geoRoutingAndABlobBackupTargetAndAKilledApplyResumed() throws {
        let standIn = try StandIn.running()
        let run = try AzureStackRun(standIn)
        defer { run.remove() }
        let file = run.work + "/extras.yaml"
        try """
            stack: {name: azure-extras}
            clouds:
              azure:
                subscription: \(StandIn.subscription)
                tenant: \(StandIn.tenant)
                region: West Europe
                client_secret: {env: AZURE_CLIENT_SECRET}
            clusters:
              - name: edge
                cloud: azure
                region: West Europe
                vm_size: Standard_D4s_v3
                nodes: [{id: edge-1, role: primary}]
            geo_routing:
              regions:
                westeurope: {cluster: edge, capacity: 100}
              routing: {compliance_aware: true}
            high_availability:
              replication: {retention_period: 14d}
            disaster_recovery:
              backup_targets:
                - {name: blobs, type: azure_blob, container: maif-backups, region: West Europe}

            """.write(toFile: file, atomically: true, encoding: .utf8)
        // The first apply is killed (SIGKILL) while it waits for its first long-running operations; the next one
        // recovers the journal and polls those operations to their end instead of writing the resources again.
        try standIn.control("POST", "/config", ["lro_delay": 2.0])
        let killed = try run.start("apply", [file], ["--auto-approve"] + Self.extrasSkips)
        let ledger = run.work + "/operations/azure-extras"
        var pending: [String: String] = [:]
        // A storage account is left out of the count: one cut before its blob service and lifecycle policy were written
        // reads as drift afterwards, and is (rightly) written again.
        func resumable() -> [String: String] { pending.filter { !$0.value.contains("/storageAccounts/") } }
        for _ in 0..<300 where resumable().isEmpty {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: ledger)) ?? [] where name.hasSuffix(".json") {
                let data = FileManager.default.contents(atPath: "\(ledger)/\(name)") ?? Data()
                if let resource = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["resource"] as? String { pending[name] = resource }
            }
            if resumable().isEmpty { Thread.sleep(forTimeInterval: 0.05) }
        }
        killed.kill()
        _ = killed.wait(timeout: 30)
        try #require(!resumable().isEmpty, "an operation was recorded before the first poll")
        print("azure-extras: apply killed while waiting for \(pending.keys.sorted().joined(separator: ", "))")
        try standIn.control("POST", "/config", ["lro_delay": 0.2])
        let apply = try run.maifctl("apply", [file], ["--auto-approve"] + Self.extrasSkips)
        try #require(apply.status == 0, "\(apply)")
        #expect(apply.all.contains("Recovered an interrupted run"), "\(apply)")
        let log = try standIn.requests()["requests"] as? [[String: Any]] ?? []
        for (name, resource) in resumable() {
            let puts = log.filter { $0["method"] as? String == "PUT" && ($0["path"] as? String)?.caseInsensitiveCompare(resource) == .orderedSame }
            #expect(puts.count == 1, "\(name): the killed run's operation was resumed, not written again (\(puts.count) PUTs)")
            #expect(!FileManager.default.fileExists(atPath: "\(ledger)/\(name)"))
        }
        let profile = try #require(try standIn.resources(ofType: "Microsoft.Network/trafficManagerProfiles").first)
        let p = profile["properties"] as? [String: Any] ?? [:]
        #expect(p["trafficRoutingMethod"] as? String == "Geographic")
        let endpoint = try #require((p["endpoints"] as? [[String: Any]])?.first)
        let ep = endpoint["properties"] as? [String: Any] ?? [:]
        #expect(ep["geoMapping"] as? [String] == ["GEO-EU", "WORLD"])
        #expect((ep["targetResourceId"] as? String)?.hasSuffix("/publicIPAddresses/azure-extras-edge-lb-ip") == true, "\(ep)")
        let account = try #require(try standIn.resources(ofType: "Microsoft.Storage/storageAccounts").first)
        let blobService = try standIn.arm("GET", (account["id"] as! String) + "/blobServices/default", api: "2023-05-01").body
        #expect((blobService["properties"] as? [String: Any])?["isVersioningEnabled"] as? Bool == true)
        let container = try #require(try standIn.resources(ofType: "Microsoft.Storage/storageAccounts/blobServices/containers").first)
        #expect(((container["properties"] as? [String: Any])?["metadata"] as? [String: String])?["maif_address"] == "azure.blob_container.blobs")
        #expect(try run.maifctl("plan", [file], ["--detailed-exitcode"] + Self.extrasSkips).status == 0)
        let destroy = try run.maifctl("destroy", [file], ["--auto-approve"])
        try #require(destroy.status == 0, "\(destroy)")
        let left = try standIn.resources()
        #expect(left.isEmpty, "\(left.map { $0["id"] ?? "?" })")
    }
}
