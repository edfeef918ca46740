/// Compute Engine through the provider: networks, subnetworks, firewalls (gcplocal), disks and instances (the stand-in),
/// with their in-place changes, drift, adoption after an interrupted create, retries by structured reason, requestId,
/// failed and endless operations. Results are checked with Google's own Python client.

import Foundation
import ProviderKit
import Testing
@testable import GCPProvider

extension GCPIntegration {
    struct Net {
        var network: ResourceState
        var subnetwork: ResourceState
    }

    /// A network and a subnetwork in us-central1, as the expansion configures them.
    func makeNetwork(_ gcp: GCPProvider, _ servers: GCPServers, name: String = "net") async throws -> Net {
        let n = servers.context("network", name)
        let network = try await gcp.create(n, servers.marked(gcp, n, ["name": .string(name), "auto_create_subnetworks": false,
                                                                        "routing_config": .map(["routing_mode": "REGIONAL"])]))
        let s = servers.context("subnetwork", name)
        let subnetwork = try await gcp.create(s, servers.marked(gcp, s, [
            "name": .string("\(name)-us-central1"), "region": "us-central1", "network": network.attributes["self_link"]!,
            "ip_cidr_range": "10.42.0.0/20", "private_ip_google_access": false,
        ]))
        return Net(network: network, subnetwork: subnetwork)
    }

    @Test func networkSubnetworkAndFirewallLifecycle() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let net = try await makeNetwork(gcp, servers)
        #expect(net.network.id == "https://www.googleapis.com/compute/v1/projects/\(servers.project)/global/networks/net")
        #expect(net.network.attributes["description"] == .string("Managed by maifctl: maif:stack=prod maif:address=gcp.network.net"))
        #expect(net.subnetwork.attributes["gateway_address"]?.stringValue == "10.42.0.1")

        // What Google's client sees.
        let seen = try servers.google([
            ["call", "compute", "v1", "networks", "get", GCPServers.json(["project": servers.project, "network": "net"])],
            ["call", "compute", "v1", "subnetworks", "get", GCPServers.json(["project": servers.project, "region": "us-central1", "subnetwork": "net-us-central1"])],
        ]).compactMap { $0 as? [String: Any] }
        #expect(seen[0]["autoCreateSubnetworks"] as? Bool == false)
        #expect((seen[0]["subnetworks"] as? [String])?.count == 1)
        #expect(seen[1]["ipCidrRange"] as? String == "10.42.0.0/20")

        // In place: private Google access (setPrivateIpGoogleAccess).
        let s = servers.context("subnetwork", "net")
        var subConfig = servers.marked(gcp, s, ["name": "net-us-central1", "region": "us-central1", "network": net.network.attributes["self_link"]!,
                                                 "ip_cidr_range": "10.42.0.0/20", "private_ip_google_access": true])
        let sub2 = try await gcp.update(s, net.subnetwork, subConfig)
        #expect(sub2.attributes["private_ip_google_access"] == .bool(true))
        subConfig["private_ip_google_access"] = false

        // A firewall on gcplocal: patched in place, drift seen, repaired.
        let f = servers.context("firewall", "net.maif")
        var fw: [String: AttributeValue] = servers.marked(gcp, f, [
            "name": "net-allow-maif", "network": net.network.attributes["self_link"]!, "direction": "INGRESS", "priority": 1000,
            "allowed": .list([.map(["ip_protocol": "tcp", "ports": .list(["8080"])])]),
            "source_ranges": .list(["10.42.0.0/20"]), "target_tags": .list(["maif"]),
        ])
        let firewall = try await gcp.create(f, fw)
        #expect(StateForm.recorded(firewall, fw, "gcp.firewall").attributes["allowed"] == fw["allowed"])
        #expect(try await gcp.read(f, firewall) == firewall, "a read right after create is no change")
        fw["source_ranges"] = .list(["10.42.0.0/20", "10.91.0.0/16"])
        let patched = try await gcp.update(f, firewall, fw)
        #expect(patched.attributes["source_ranges"] == fw["source_ranges"])
        let rule = try servers.google(["call", "compute", "v1", "firewalls", "get", GCPServers.json(["project": servers.project, "firewall": "net-allow-maif"])])
        #expect(rule["sourceRanges"] as? [String] == ["10.42.0.0/20", "10.91.0.0/16"])
        #expect((rule["allowed"] as? [[String: Any]])?.first?["IPProtocol"] as? String == "tcp")

        // Deleting the network while the firewall uses it is refused (the stand-in asks gcplocal), by its reason.
        await #expect {
            try await gcp.delete(servers.context("network", "net"), net.network)
        } throws: { "\($0)".contains("resourceInUseByAnotherResource") }

        try await gcp.delete(f, patched)
        try await gcp.delete(s, sub2)
        try await gcp.delete(servers.context("network", "net"), net.network)
        #expect(try await gcp.read(servers.context("network", "net"), net.network) == nil)
        try servers.expectNoViolations()
    }

    @Test func instanceLabelsMetadataTagsAndMachineTypeInPlace() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let net = try await makeNetwork(gcp, servers)
        let i = servers.context("instance", "c.node-1")
        var config = servers.marked(gcp, i, [
            "name": "c-node-1", "zone": "us-central1-a", "machine_type": "e2-standard-4",
            "disks": .list([.map(["boot": true, "auto_delete": true, "device_name": "boot", "initialize_params": .map([
                "disk_type": "pd-ssd", "disk_size_gb": 50, "source_image": "projects/cos-cloud/global/images/family/cos-stable"])])]),
            "network_interfaces": .list([.map(["network": net.network.attributes["self_link"]!, "subnetwork": net.subnetwork.attributes["self_link"]!,
                                               "access_configs": .list([.map(["type": "ONE_TO_ONE_NAT", "network_tier": "PREMIUM"])])])]),
            "metadata": .map(["startup-script": "#!/bin/bash\necho hi\n", "maif-address": "gcp.instance.c.node-1"]),
            "network_tags": .list(["maif"]),
            "labels": .map(["team": "platform"]),
        ])
        let created = try await gcp.create(i, config)
        #expect(created.attributes["network_ip"]?.stringValue?.hasPrefix("10.42.0.") == true)
        #expect(created.attributes["labels"] == .map(["team": "platform", "maif-stack": "prod", "maif-address": "gcp_instance_c_node-1"]))
        #expect(try await gcp.read(i, created) == created, "a read right after create is no change")
        #expect(try await gcp.find(i, config)?.id == created.id, "find adopts it by name and owner labels")
        #expect(try await gcp.find(servers.context("instance", "other"), config) == nil, "not another address's")

        // Changes made with Google's client are drift.
        let instanceArgs = GCPServers.json(["project": servers.project, "zone": "us-central1-a", "instance": "c-node-1"])
        let live = try servers.google(["call", "compute", "v1", "instances", "get", instanceArgs])
        _ = try servers.google(["call", "compute", "v1", "instances", "setLabels", instanceArgs,
                                GCPServers.json(["labels": ["team": "other"], "labelFingerprint": live["labelFingerprint"] ?? ""])])
        try await Task.sleep(nanoseconds: 300_000_000)
        let drifted = try #require(try await gcp.read(i, created))
        #expect(drifted.attributes["labels"] == .map(["team": "other"]))

        // Labels (setLabels with the fingerprint), metadata, tags and the machine type (stop → setMachineType → start).
        config["labels"] = .map(["team": "platform", "tier": "db", "maif-stack": "prod", "maif-address": "gcp_instance_c_node-1"])
        config["metadata"] = .map(["startup-script": "#!/bin/bash\necho hello\n", "maif-address": "gcp.instance.c.node-1"])
        config["network_tags"] = .list(["maif", "db"])
        config["machine_type"] = "e2-standard-8"
        let before = try servers.stats()
        let updated = try await gcp.update(i, drifted, config)
        #expect(updated.attributes["labels"] == config["labels"])
        #expect(updated.attributes["metadata"] == config["metadata"])
        #expect(updated.attributes["network_tags"] == config["network_tags"])
        #expect(updated.attributes["machine_type"] == "e2-standard-8")
        let calls = try servers.stats()
        for verb in ["setLabels", "setMetadata", "setTags", "stop", "setMachineType", "start"] {
            #expect((calls["compute.instances.\(verb)"] ?? 0) - (before["compute.instances.\(verb)"] ?? 0) == 1, "\(verb): \(calls)")
        }
        let after = try servers.google(["call", "compute", "v1", "instances", "get", instanceArgs])
        #expect((after["machineType"] as? String)?.hasSuffix("/machineTypes/e2-standard-8") == true)
        #expect(after["status"] as? String == "RUNNING", "started again")
        #expect((after.at("tags.items") as? [String]) == ["maif", "db"])
        #expect(try await gcp.read(i, updated) == updated)

        try await gcp.delete(i, updated)
        #expect(try await gcp.read(i, updated) == nil)
        let disks = try servers.google(["call", "compute", "v1", "disks", "list", GCPServers.json(["project": servers.project, "zone": "us-central1-a"])])
        #expect((disks["items"] as? [Any] ?? []).isEmpty, "the boot disk went with it (auto_delete)")
        try servers.expectNoViolations()
    }

    @Test func diskGrowsInPlaceAndRefusesToShrink() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let d = servers.context("disk", "data")
        var config = servers.marked(gcp, d, ["name": "data", "zone": "us-central1-b", "type": "pd-balanced", "size_gb": 100])
        let disk = try await gcp.create(d, config)
        #expect(disk.attributes["type"] == "pd-balanced")
        #expect(disk.attributes["size_gb"] == .int(100))
        let seen = try servers.google(["call", "compute", "v1", "disks", "get", GCPServers.json(["project": servers.project, "zone": "us-central1-b", "disk": "data"])])
        #expect(seen["sizeGb"] as? String == "100")
        #expect((seen["labels"] as? [String: String])?["maif-address"] == "gcp_disk_data")
        config["size_gb"] = 200
        config["labels"] = .map(["maif-stack": "prod", "maif-address": "gcp_disk_data", "purpose": "backups"])
        let grown = try await gcp.update(d, disk, config)
        #expect(grown.attributes["size_gb"] == .int(200))
        #expect(grown.attributes["labels"]?.mapValue?["purpose"] == "backups")
        config["size_gb"] = 50
        await #expect { try await gcp.update(d, grown, config) } throws: { "\($0)".contains("cannot shrink") }
        try await gcp.delete(d, grown)
        try servers.expectNoViolations()
    }

    @Test func retriesByReasonReuseTheRequestIdAndCreateOnce() async throws {
        let servers = try GCPServers.start()
        var gcp = try servers.provider()
        gcp = GCPProvider(client: GCPClient(settings: gcp.client.settings, retry: GCPRetryPolicy(maxAttempts: 6, baseDelay: 0.01, maxDelay: 0.05)),
                          stack: "prod")
        // Two throttled answers, then a backend error: the third try goes through.
        try servers.fault("compute.networks.insert", reason: "rateLimitExceeded", count: 2)
        try servers.fault("compute.globalOperations.wait", reason: "backendError", count: 1)
        let n = servers.context("network", "r")
        let network = try await gcp.create(n, servers.marked(gcp, n, ["name": "r", "auto_create_subnetworks": false]))
        #expect(network.attributes["name"] == "r")
        #expect(try servers.stats()["compute.networks.insert"] == 3)
        // resourceNotReady (400) is retried too, by its reason, not by its status.
        try servers.fault("compute.networks.get", reason: "resourceNotReady", count: 1)
        #expect(try await gcp.read(n, network) != nil)

        // A repeated requestId is answered with the first call's operation: nothing is created twice.
        let id = UUID().uuidString.lowercased()
        let body: [String: AttributeValue] = ["name": "twice", "autoCreateSubnetworks": false]
        let first = try await gcp.client.call(.compute, .POST, "projects/\(servers.project)/global/networks", query: [("requestId", id)], body: body,
                                              name: "compute.networks.insert")
        let second = try await gcp.client.call(.compute, .POST, "projects/\(servers.project)/global/networks", query: [("requestId", id)], body: body,
                                               name: "compute.networks.insert")
        #expect(first["name"] == second["name"])

        // alreadyExists is not retried: a second create of the same name by another address is refused at once.
        let other = servers.context("network", "someone-else")
        let calls = try servers.stats()["compute.networks.insert"] ?? 0
        await #expect { _ = try await gcp.create(other, servers.marked(gcp, other, ["name": "r", "auto_create_subnetworks": false])) }
            throws: { "\($0)".contains("alreadyExists") }
        #expect(try servers.stats()["compute.networks.insert"] == calls + 1)
        try servers.expectNoViolations()
    }

    @Test func anInterruptedCreateIsAdoptedAndAFailedOperationSaysWhy() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let n = servers.context("network", "adopted")
        let config = servers.marked(gcp, n, ["name": "adopted", "auto_create_subnetworks": false])
        // An apply that died after the insert: the network exists with the owner's description, its operation unfinished.
        try servers.post("/_standin/config", ["opPendingSeconds": 0.5, "opRunningSeconds": 0.5])
        _ = try await gcp.client.call(.compute, .POST, "projects/\(servers.project)/global/networks", query: [("requestId", UUID().uuidString.lowercased())],
                                      body: APIForm.body(config, ["name", "description", "auto_create_subnetworks"]), name: "compute.networks.insert")
        let found = try #require(try await gcp.find(n, config), "find adopts it")
        #expect(found.attributes["self_link"]?.stringValue?.hasSuffix("/global/networks/adopted") == true)
        let pending = try await gcp.client.pendingOperations(project: servers.project, scope: "global", targetLink: found.id)
        #expect(pending.isEmpty, "find waited for the insert to finish")
        // A create that meets it (the journal replayed) adopts it too, instead of failing.
        #expect(try await gcp.create(n, config).id == found.id)
        try servers.post("/_standin/config", ["opPendingSeconds": 0.03, "opRunningSeconds": 0.07])

        // An operation that ends DONE with an error fails with the operation's own code and message.
        try servers.post("/_standin/op-faults", ["methodId": "compute.networks.insert", "count": 1, "httpErrorStatusCode": 403,
                                                  "errors": [["code": "QUOTA_EXCEEDED", "message": "Quota 'NETWORKS' exceeded. Limit: 15.0 globally."]]])
        let q = servers.context("network", "quota")
        await #expect { _ = try await gcp.create(q, servers.marked(gcp, q, ["name": "quota", "auto_create_subnetworks": false])) }
            throws: { error in
                let text = "\(error)"
                return text.hasPrefix("gcp.network.quota: ") && text.contains("QUOTA_EXCEEDED") && text.contains("Quota 'NETWORKS' exceeded")
            }

        // An operation that never ends: the per-resource timeout, with what is known.
        let quick = try servers.provider(settings: ["operation_timeout": .double(1.5)])
        try servers.post("/_standin/config", ["waitSeconds": 0.3])
        try servers.post("/_standin/op-faults", ["methodId": "compute.networks.insert", "count": 1, "hang": true])
        let h = servers.context("network", "hangs")
        let started = Date()
        await #expect { _ = try await quick.create(h, servers.marked(quick, h, ["name": "hangs", "auto_create_subnetworks": false])) }
            throws: { "\($0)".contains("still RUNNING after 1 s") || "\($0)".contains("after 1 s") }
        #expect(Date().timeIntervalSince(started) < 10)
        _ = try servers.http("DELETE", "/_standin/op-faults", nil)
        try servers.expectNoViolations()
    }
}
