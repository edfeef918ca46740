/// What a cluster on GCP or Azure VMs and a gcs / azure_blob backup target expand to: resource counts per type,
/// the attributes that matter (sizes, disks, firewalls, owner labels), references and schema fit.

import BuiltinProviders
@testable import Expansion
import Foundation
import Planning
import ProviderKit
import StackModel
import XCTest

/// Helpers shared by the GCP and Azure expansion tests.
enum CloudExpansionCheck {
    static func counts(_ resources: [DesiredResource]) -> [String: Int] {
        Dictionary(resources.map { ($0.address.type, 1) }, uniquingKeysWith: +)
    }

    static func resource(_ resources: [DesiredResource], _ address: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: AttributeValue] {
        try XCTUnwrap(resources.first { $0.address.description == address }?.config, "no \(address) among \(resources.map(\.address.description))",
                      file: file, line: line)
    }

    static func schema(_ provider: String) throws -> ProviderSchema {
        try XCTUnwrap(BuiltinProviders.registry.descriptor(provider)).schema
    }

    /// Every configuration fits its type's schema and every reference names a resource of the same expansion.
    static func assertWellFormed(_ resources: [DesiredResource], file: StaticString = #filePath, line: UInt = #line) throws {
        let addresses = Set(resources.map(\.address))
        for r in resources {
            let schema = try XCTUnwrap(try Self.schema(r.address.provider).resources[r.address.type], "no schema for \(r.address.type)", file: file, line: line)
            XCTAssertEqual(schema.validate(r.config).map(\.message), [], "\(r.address)", file: file, line: line)
            for attribute in r.config.keys {
                XCTAssertFalse(schema.attributes[attribute]!.computed, "\(r.address) sets computed \(attribute)", file: file, line: line)
            }
            for ref in r.config.values.flatMap({ References.find(in: $0) }) {
                XCTAssertTrue(addresses.contains(ref.address), "\(r.address) refers to \(ref.address), which is not expanded", file: file, line: line)
                XCTAssertNotNil(try Self.schema(ref.address.provider).resources[ref.address.type]?.attributes[ref.attribute],
                                "\(r.address) refers to \(ref.address).\(ref.attribute), which its schema does not declare", file: file, line: line)
            }
            for (dep, _) in r.dependsOn { XCTAssertTrue(addresses.contains(dep), "\(r.address) depends on missing \(dep)", file: file, line: line) }
        }
    }

    static func string(_ v: AttributeValue?, _ path: String...) -> String? {
        var cur = v
        for key in path {
            if let i = Int(key) { cur = cur?.listValue.flatMap { i < $0.count ? $0[i] : nil } } else { cur = cur?.mapValue?[key] }
        }
        switch cur {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .bool(let b)?: return String(b)
        default: return nil
        }
    }
}

final class GCPExpansionTests: XCTestCase {
    func multiCloud() throws -> (Stack, Cluster, [DesiredResource]) {
        let stack = try PlacementFixture.shipped("stacks/multi-cloud.yaml")
        let cluster = try XCTUnwrap(stack.clusters.first { $0.cloud == .gcp })
        let out = GCPExpansion.cluster(cluster, in: stack)
        // What GCP cannot do, said at the stack keys: per-node weights and the adaptive strategy of the load balancer,
        // and a 1m node_down alert (Monitoring sees an absent metric after 120 s at the earliest). The schedule and the
        // notifications take effect (timers in the cloud-config, channels on the policies): no warning for them.
        XCTAssertEqual(out.diagnostics.map(\.code), ["gcp-lb-weights-ignored", "gcp-lb-strategy-unsupported", "gcp-alert-duration-raised"])
        XCTAssertEqual(out.diagnostics.map { $0.location?.line }, [89, 84, 139],
                       "weights.gcp-node-3, strategy, the node_down rule")
        XCTAssertTrue(out.diagnostics.allSatisfy { $0.severity == .warning })
        return (stack, cluster, out.resources)
    }

    func testMultiCloudGCPClusterCounts() throws {
        let (stack, _, resources) = try multiCloud()
        XCTAssertEqual(CloudExpansionCheck.counts(resources), [
            "gcp.network": 1, "gcp.subnetwork": 1, "gcp.firewall": 4, "gcp.instance": 3, "gcp.health_check": 1, "gcp.instance_group": 3,
            "gcp.backend_service": 1, "gcp.forwarding_rule": 1, "gcp.instance_template": 1, "gcp.instance_group_manager": 1,
            "gcp.autoscaler": 1, "gcp.alert_policy": 2,
        ])
        XCTAssertEqual(resources.map(\.address.description), [
            "gcp.network.maif-gcp", "gcp.subnetwork.maif-gcp", "gcp.firewall.maif-gcp.maif", "gcp.firewall.maif-gcp.admin",
            "gcp.firewall.maif-gcp.health", "gcp.firewall.maif-gcp.clients",
            "gcp.instance.maif-gcp.gcp-node-1", "gcp.instance.maif-gcp.gcp-node-2", "gcp.instance.maif-gcp.gcp-node-3",
            "gcp.health_check.maif-gcp", "gcp.instance_group.maif-gcp.us-central1-a", "gcp.instance_group.maif-gcp.us-central1-b",
            "gcp.instance_group.maif-gcp.us-central1-c", "gcp.backend_service.maif-gcp", "gcp.forwarding_rule.maif-gcp",
            "gcp.instance_template.maif-gcp", "gcp.instance_group_manager.maif-gcp", "gcp.autoscaler.maif-gcp",
            "gcp.alert_policy.maif-gcp.high_cpu_usage", "gcp.alert_policy.maif-gcp.node_down",
        ])
        // The policies name the stack's notification channels, made once for the project (stack-wide).
        let channels = GCPExpansion.notificationChannels(stack).resources
        XCTAssertEqual(channels.map(\.address.description), ["gcp.notification_channel.oncall.email-1", "gcp.notification_channel.oncall.webhook-1",
                                                         "gcp.notification_channel.team.email-1"])
        try CloudExpansionCheck.assertWellFormed(resources + channels)
    }

    func testLoadBalancerFollowsTheGuidesHealthCheck() throws {
        let (_, _, resources) = try multiCloud()
        let check = try CloudExpansionCheck.resource(resources, "gcp.health_check.maif-gcp")
        XCTAssertEqual(check["type"], "HTTPS", "security.tls")
        XCTAssertEqual(check["https_health_check"], .map(["port": 8080, "request_path": "/health"]))
        XCTAssertEqual(check["check_interval_sec"], 30)
        XCTAssertEqual(check["healthy_threshold"], 2)
        XCTAssertEqual(check["unhealthy_threshold"], 3)
        let group = try CloudExpansionCheck.resource(resources, "gcp.instance_group.maif-gcp.us-central1-c")
        XCTAssertEqual(group["instances"], .list(["${gcp.instance.maif-gcp.gcp-node-3.self_link}"]))
        let service = try CloudExpansionCheck.resource(resources, "gcp.backend_service.maif-gcp")
        XCTAssertEqual(service["load_balancing_scheme"], "EXTERNAL")
        XCTAssertEqual(service["health_checks"], .list(["${gcp.health_check.maif-gcp.self_link}"]))
        XCTAssertEqual(service["backends"]?.listValue?.compactMap { $0.mapValue?["group"] }, [
            "${gcp.instance_group.maif-gcp.us-central1-a.self_link}", "${gcp.instance_group.maif-gcp.us-central1-b.self_link}",
            "${gcp.instance_group.maif-gcp.us-central1-c.self_link}", "${gcp.instance_group_manager.maif-gcp.instance_group}",
        ])
        let rule = try CloudExpansionCheck.resource(resources, "gcp.forwarding_rule.maif-gcp")
        XCTAssertEqual(rule["ports"], .list(["8080"]))
        XCTAssertEqual(rule["backend_service"], "${gcp.backend_service.maif-gcp.self_link}")
        let health = try CloudExpansionCheck.resource(resources, "gcp.firewall.maif-gcp.health")
        XCTAssertEqual(health["source_ranges"], .list(["35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22"]))
        XCTAssertEqual(try CloudExpansionCheck.resource(resources, "gcp.firewall.maif-gcp.clients")["source_ranges"], .list(["0.0.0.0/0"]),
                       "a passthrough load balancer delivers the clients' own packets")
    }

    func testAutoscalerKeepsTheClusterWithinMinAndMaxNodes() throws {
        let (_, _, resources) = try multiCloud()
        let template = try CloudExpansionCheck.resource(resources, "gcp.instance_template.maif-gcp")
        let name = try XCTUnwrap(template["name"]?.stringValue)
        XCTAssertTrue(name.hasPrefix("multi-cloud-maif-gcp-t") && name.count == "multi-cloud-maif-gcp-t".count + 8, name)
        XCTAssertEqual(template["machine_type"], "c2-standard-16")
        XCTAssertTrue(CloudExpansionCheck.string(template["metadata"], "user-data")?.contains("--node-id %H ") == true)
        let mig = try CloudExpansionCheck.resource(resources, "gcp.instance_group_manager.maif-gcp")
        XCTAssertEqual(mig["instance_template"], "${gcp.instance_template.maif-gcp.self_link}")
        XCTAssertEqual(mig["target_size"], 0)
        XCTAssertEqual(CloudExpansionCheck.string(mig["auto_healing_policies"], "0", "initial_delay_sec"), "300")
        let scaler = try CloudExpansionCheck.resource(resources, "gcp.autoscaler.maif-gcp")
        let policy = scaler["autoscaling_policy"]
        XCTAssertEqual(CloudExpansionCheck.string(policy, "min_num_replicas"), "0", "3 named nodes already meet min_nodes 3")
        XCTAssertEqual(CloudExpansionCheck.string(policy, "max_num_replicas"), "17", "max_nodes 20 less the 3 named")
        XCTAssertEqual(policy?.mapValue?["cpu_utilization"], .map(["utilization_target": .double(0.7)]))
        XCTAssertEqual(CloudExpansionCheck.string(policy, "custom_metric_utilizations", "0", "metric"), "agent.googleapis.com/memory/percent_used")
        XCTAssertEqual(CloudExpansionCheck.string(policy, "cool_down_period_sec"), "300")
        XCTAssertEqual(CloudExpansionCheck.string(policy, "scale_in_control", "time_window_sec"), "600")
    }

    func testAlertPoliciesOverTheClustersInstances() throws {
        let (_, _, resources) = try multiCloud()
        let cpu = try CloudExpansionCheck.resource(resources, "gcp.alert_policy.maif-gcp.high_cpu_usage")
        let threshold = cpu["conditions"]?.listValue?.first?.mapValue?["condition_threshold"]
        XCTAssertEqual(CloudExpansionCheck.string(threshold, "comparison"), "COMPARISON_GT")
        XCTAssertEqual(threshold?.mapValue?["threshold_value"], .double(0.9), "90% as the fraction GCE reports")
        XCTAssertEqual(CloudExpansionCheck.string(threshold, "duration"), "300s")
        XCTAssertTrue(CloudExpansionCheck.string(threshold, "filter")?.contains(#"metadata.user_labels."maif-cluster" = "maif-gcp""#) == true)
        XCTAssertEqual(cpu["severity"], "WARNING")
        let down = try CloudExpansionCheck.resource(resources, "gcp.alert_policy.maif-gcp.node_down")
        XCTAssertEqual(CloudExpansionCheck.string(down["conditions"], "0", "condition_absent", "duration"), "120s")
        XCTAssertEqual(down["severity"], "CRITICAL")
    }

    func testInstancesTakeTheGuidesMachineTypeAndSSD() throws {
        let (_, _, resources) = try multiCloud()
        let zones = try (1...3).map { i -> String in
            let instance = try CloudExpansionCheck.resource(resources, "gcp.instance.maif-gcp.gcp-node-\(i)")
            XCTAssertEqual(instance["machine_type"], "c2-standard-16")
            XCTAssertEqual(CloudExpansionCheck.string(instance["disks"], "0", "initialize_params", "disk_type"), "pd-ssd")
            XCTAssertEqual(CloudExpansionCheck.string(instance["disks"], "0", "initialize_params", "disk_size_gb"), "1024")
            XCTAssertEqual(CloudExpansionCheck.string(instance["disks"], "0", "boot"), "true")
            XCTAssertEqual(instance["name"], .string("multi-cloud-maif-gcp-gcp-node-\(i)"))
            XCTAssertEqual(instance["project"], "maif-multi-cloud")
            XCTAssertEqual(CloudExpansionCheck.string(instance["network_interfaces"], "0", "subnetwork"), "${gcp.subnetwork.maif-gcp.self_link}")
            XCTAssertEqual(instance["network_tags"], .list(["multi-cloud-maif-gcp"]), "what the firewalls' target_tags match")
            XCTAssertNil(instance["tags"], "GCP has no owner tags; labels carry the owner")
            let script = try XCTUnwrap(CloudExpansionCheck.string(instance["metadata"], "user-data"))
            XCTAssertTrue(script.hasPrefix("#cloud-config\n"))
            XCTAssertTrue(script.contains("--node-id gcp-node-\(i) "), script)
            XCTAssertTrue(script.contains("cluster:\n        name: maif-gcp\n        stack: multi-cloud\n"), "the guide's cluster.yaml")
            XCTAssertTrue(script.contains("host: multi-cloud-maif-gcp-gcp-node-3.us-central1-c.c.maif-multi-cloud.internal"),
                          "every node's cluster.yaml names its peers by internal DNS")
            XCTAssertTrue(script.contains(" maif/maif-enterprise:latest maif --role "), "the stack's image")
            XCTAssertEqual(instance["endpoint"], .string("multi-cloud-maif-gcp-gcp-node-\(i).\(instance["zone"]?.stringValue ?? "").c.maif-multi-cloud.internal:8080"))
            XCTAssertEqual(CloudExpansionCheck.string(instance["metadata"], "maif-address"), "gcp.instance.maif-gcp.gcp-node-\(i)")
            return try XCTUnwrap(instance["zone"]?.stringValue)
        }
        XCTAssertEqual(zones, ["us-central1-a", "us-central1-b", "us-central1-c"], "nodes spread over three zones")
    }

    func testNetworkSubnetworkAndFirewalls() throws {
        let (stack, cluster, resources) = try multiCloud()
        let range = try XCTUnwrap(Networks.networkRange(of: cluster, in: stack))
        let network = try CloudExpansionCheck.resource(resources, "gcp.network.maif-gcp")
        XCTAssertEqual(network["name"], "vpc-network", "multi_cloud.deployments.gcp.networking names it")
        XCTAssertEqual(network["auto_create_subnetworks"], false)
        let subnetwork = try CloudExpansionCheck.resource(resources, "gcp.subnetwork.maif-gcp")
        XCTAssertEqual(subnetwork["region"], "us-central1")
        XCTAssertEqual(subnetwork["ip_cidr_range"], .string(range))
        XCTAssertEqual(subnetwork["network"], "${gcp.network.maif-gcp.self_link}")

        let maif = try CloudExpansionCheck.resource(resources, "gcp.firewall.maif-gcp.maif")
        XCTAssertEqual(maif["allowed"], .list([.map(["ip_protocol": "tcp", "ports": .list(["8080"])])]))
        let sources = try XCTUnwrap(maif["source_ranges"]?.listValue?.compactMap(\.stringValue))
        XCTAssertEqual(sources.first, range)
        XCTAssertEqual(Set(sources.dropFirst()), Set(Networks.peerRanges(of: cluster, in: stack)), "the AWS and Azure clusters' networks")
        XCTAssertEqual(sources.count, 3)
        XCTAssertFalse(sources.contains("0.0.0.0/0"))

        let admin = try CloudExpansionCheck.resource(resources, "gcp.firewall.maif-gcp.admin")
        XCTAssertEqual(admin["source_ranges"], .list(["10.0.0.0/8"]), "security.admin_cidrs")
        XCTAssertEqual(admin["allowed"], .list([.map(["ip_protocol": "tcp", "ports": .list(["22"])])]))
        XCTAssertEqual(admin["target_tags"], maif["target_tags"])
    }

    func testOwnerOnEveryResource() throws {
        let (_, _, resources) = try multiCloud()
        for r in resources {
            // As the planner hands it to the provider: the owner marks added where the expansion did not write them.
            let config = try OwnerMarks.marked(r, stack: "multi-cloud")
            XCTAssertEqual(config, r.config, "\(r.address): the expansion already wrote the marks the provider adds")
            if let labels = (config["labels"] ?? config["user_labels"])?.mapValue, r.address.type != "gcp.instance_template" {
                XCTAssertEqual(labels["maif-stack"], "multi-cloud", "\(r.address)")
                XCTAssertEqual(labels["maif-address"]?.stringValue, r.address.description.replacingOccurrences(of: ".", with: "_"), "\(r.address)")
            } else {
                XCTAssertEqual(config["description"]?.stringValue, "Managed by maifctl: maif:stack=multi-cloud maif:address=\(r.address)",
                               "\(r.address) has no labels in GCP: its description names the owner")
            }
        }
        XCTAssertEqual(Set(resources.filter { $0.config["labels"] != nil }.map(\.address.type)),
                       ["gcp.instance", "gcp.forwarding_rule", "gcp.instance_template"])
    }

    func testProductionTertiaryBucket() throws {
        let stack = try PlacementFixture.shipped("stacks/production.yaml")
        let target = try XCTUnwrap(stack.disasterRecovery?.backupTargets.first { $0.kind == .gcs })
        let out = GCPExpansion.backupTarget(target, in: stack)
        XCTAssertEqual(out.diagnostics, [])
        XCTAssertEqual(CloudExpansionCheck.counts(out.resources), ["gcp.bucket": 1])
        try CloudExpansionCheck.assertWellFormed(out.resources)
        let bucket = try CloudExpansionCheck.resource(out.resources, "gcp.bucket.maif-backups-tertiary")
        XCTAssertEqual(bucket["name"], "maif-backups-tertiary")
        XCTAssertEqual(bucket["project"], "maif-production")
        XCTAssertEqual(bucket["location"], "ASIA-SOUTHEAST1")
        XCTAssertEqual(bucket["versioning"], .map(["enabled": true]))
        XCTAssertEqual(CloudExpansionCheck.string(bucket["lifecycle"], "rule", "0", "condition", "age"), "30", "high_availability's 30d retention")
        XCTAssertEqual(CloudExpansionCheck.string(bucket["lifecycle"], "rule", "1", "condition", "days_since_noncurrent_time"), "30")
        XCTAssertEqual(CloudExpansionCheck.string(bucket["iam_configuration"], "public_access_prevention"), "enforced")
        XCTAssertEqual(bucket["labels"], .map(["maif-stack": "production", "maif-address": "gcp_bucket_maif-backups-tertiary"]))
    }

    func testSizesFromNodeResources() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: sized}
            clouds: {gcp: {region: europe-west1}}
            clusters:
              - name: g
                cloud: gcp
                storage_class: pd-balanced
                nodes:
                  - {id: n-1, role: primary, resources: {cpu: 8, memory: 32GB, storage: 1TB}}
                  - {id: n-2, role: cache, resources: {cpu: 4, memory: 64GB, storage: 500GB}, zone: europe-west1-d}
            """)
        let out = GCPExpansion.cluster(stack.clusters[0], in: stack)
        XCTAssertEqual(out.diagnostics, [])
        let n1 = try CloudExpansionCheck.resource(out.resources, "gcp.instance.g.n-1")
        let n2 = try CloudExpansionCheck.resource(out.resources, "gcp.instance.g.n-2")
        XCTAssertEqual(n1["machine_type"], "n2-standard-8")
        XCTAssertEqual(n2["machine_type"], "n2-highmem-8", "64GB needs more than 4 GiB per vCPU")
        XCTAssertEqual(CloudExpansionCheck.string(n1["disks"], "0", "initialize_params", "disk_size_gb"), "932", "1TB in GiB, rounded up")
        XCTAssertEqual(CloudExpansionCheck.string(n2["disks"], "0", "initialize_params", "disk_size_gb"), "466")
        XCTAssertEqual(CloudExpansionCheck.string(n1["disks"], "0", "initialize_params", "disk_type"), "pd-balanced", "the cluster's storage_class")
        XCTAssertEqual(n1["zone"], "europe-west1-b", "europe-west1 has no zone a")
        XCTAssertEqual(n2["zone"], "europe-west1-d", "the node's own zone")
        XCTAssertNil(n1["project"], "no project configured: the provider's")
        XCTAssertNil(out.resources.first { $0.address.description == "gcp.firewall.g.admin" }, "no admin_cidrs, no admin firewall")
    }

    func testProblemsAreReportedAtTheCluster() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: bad}
            clusters:
              - {name: nowhere, cloud: gcp, nodes: [{id: n-1, role: primary}]}
              - {name: g, cloud: gcp, region: us-central1, storage_class: gp3, nodes: [{id: g-1, host: 10.1.0.5, role: primary}, {id: g-2, host: 10.2.0.5, role: primary}]}
            """)
        XCTAssertEqual(GCPExpansion.cluster(stack.clusters[0], in: stack).diagnostics.map(\.code), ["missing-region"])
        let d = GCPExpansion.cluster(stack.clusters[1], in: stack).diagnostics
        XCTAssertEqual(d.map(\.code), ["invalid-disk-type", "node-outside-network"])
        XCTAssertEqual(d.map { $0.location?.line }, [4, 4])
        let out = GCPExpansion.cluster(stack.clusters[1], in: stack)
        XCTAssertEqual(CloudExpansionCheck.string(try CloudExpansionCheck.resource(out.resources, "gcp.instance.g.g-1")["network_interfaces"], "0", "network_ip"),
                       "10.1.0.5", "an IPv4 host becomes the instance's address")
    }

    func testNamesAndLabelsFitGCPRules() {
        XCTAssertEqual(GCPExpansion.resourceName("Multi Cloud", "1st_Cluster"), "multi-cloud-1st-cluster")
        XCTAssertEqual(GCPExpansion.resourceName("9lives"), "m-9lives", "names start with a letter")
        let long = GCPExpansion.resourceName(String(repeating: "x", count: 80))
        XCTAssertEqual(long.count, 63)
        XCTAssertNotEqual(long, GCPExpansion.resourceName(String(repeating: "x", count: 81)), "a hash keeps cut names apart")
        XCTAssertEqual(GCPExpansion.labelValue("gcp.instance.Maif.Node:1"), "gcp_instance_maif_node-1")
        XCTAssertEqual(GCPExpansion.labelValue(String(repeating: "a.", count: 40)).count, 63)
        XCTAssertTrue(GCPExpansion.isBucketName("maif-backups-tertiary"))
        XCTAssertFalse(GCPExpansion.isBucketName("Maif_Backups"))
    }

    func testExpansionIsDeterministic() throws {
        let (stack, cluster, first) = try multiCloud()
        let second = GCPExpansion.cluster(cluster, in: stack).resources
        XCTAssertEqual(first.map { AttributeValue.map($0.config).canonicalJSON() }, second.map { AttributeValue.map($0.config).canonicalJSON() })
    }
}

final class ShippedStacksOnGCPAndAzureTests: XCTestCase {
    /// Every shipped stack's GCP and Azure clusters and backup targets expand without a diagnostic and fit the schemas.
    func testShippedStacksExpandCleanly() throws {
        let dir = SnapshotTests.repoRoot.appendingPathComponent("stacks")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var gcpOrAzure = 0
        for file in files {
            let stack = try PlacementFixture.shipped("stacks/\(file)")
            var out = PlatformOutput()
            for cluster in stack.clusters where cluster.platform == .vm {
                if cluster.cloud == .gcp { out += GCPExpansion.cluster(cluster, in: stack) }
                if cluster.cloud == .azure { out += AzureExpansion.cluster(cluster, in: stack) }
            }
            // The notification channels the GCP alert policies name are the stack's, made once (stack-wide).
            out += GCPExpansion.notificationChannels(stack)
            for target in stack.disasterRecovery?.backupTargets ?? [] {
                if target.kind == .gcs { out += GCPExpansion.backupTarget(target, in: stack) }
                if target.kind == .azureBlob { out += AzureExpansion.backupTarget(target, in: stack) }
            }
            // What GCP and Azure cannot express is a documented warning (gcp-…, azure-…; docs/platforms.md), not a problem;
            // so are the shared Alerting warnings of the Alertmanager files on an Azure cluster's first node.
            let documented = ["gcp-", "azure-", "alertmanager-", "prometheus-alert-"]
            let unexpected = out.diagnostics.filter { d in !(d.severity == .warning && documented.contains { d.code.hasPrefix($0) }) }
            XCTAssertEqual(unexpected.map(\.description), [], file)
            try CloudExpansionCheck.assertWellFormed(out.resources)
            gcpOrAzure += out.resources.count
        }
        XCTAssertGreaterThan(gcpOrAzure, 0)
    }

    func testHybridGCPClusterAdmitsTheOnPremisesHosts() throws {
        let stack = try PlacementFixture.shipped("stacks/hybrid.yaml")
        let cluster = try XCTUnwrap(stack.clusters.first { $0.cloud == .gcp })
        let out = GCPExpansion.cluster(cluster, in: stack)
        XCTAssertEqual(CloudExpansionCheck.counts(out.resources).filter { ["gcp.network", "gcp.subnetwork", "gcp.firewall", "gcp.instance"].contains($0.key) },
                       ["gcp.network": 1, "gcp.subnetwork": 1, "gcp.firewall": 4, "gcp.instance": 3])
        let sources = try CloudExpansionCheck.resource(out.resources, "gcp.firewall.gcp-secondary.maif")["source_ranges"]?.listValue ?? []
        for host in ["10.0.1.10/32", "10.0.1.11/32", "10.0.1.12/32"] {
            XCTAssertTrue(sources.contains(.string(host)), "the on-premises node \(host) replicates over the VPN")
        }
        let instance = try CloudExpansionCheck.resource(out.resources, "gcp.instance.gcp-secondary.gcp-node-1")
        XCTAssertEqual(instance["machine_type"], "c2-standard-16", "the cluster's machine_type")
    }
}

final class GCPAzureSchemaTests: XCTestCase {
    func testDeclaredTypes() throws {
        XCTAssertEqual(try CloudExpansionCheck.schema("gcp").resources.keys.sorted(),
                       ["gcp.alert_policy", "gcp.autoscaler", "gcp.backend_service", "gcp.bucket", "gcp.disk", "gcp.dns_managed_zone",
                        "gcp.dns_record_set", "gcp.firewall", "gcp.forwarding_rule", "gcp.health_check", "gcp.instance", "gcp.instance_group",
                        "gcp.instance_group_manager", "gcp.instance_template", "gcp.network", "gcp.notification_channel", "gcp.subnetwork"])
    }

    func testIdentityIsForceNewAndSecretsAreSensitive() throws {
        for provider in ["gcp", "azure"] {
            for (type, schema) in try CloudExpansionCheck.schema(provider).resources {
                if type == "gcp.dns_record_set" {
                    // Identified by zone, name and type, all of which replace it.
                    XCTAssertEqual(["managed_zone", "name", "type"].map { schema.attributes[$0]?.forceNew }, [true, true, true])
                    continue
                }
                if type == "gcp.alert_policy" || type == "gcp.notification_channel" {
                    XCTAssertEqual(schema.attributes["name"]?.computed, true, "Monitoring names alert policies and notification channels")
                    continue
                }
                XCTAssertTrue(schema.attributes["name"]?.forceNew ?? false, "\(type).name replaces")
                XCTAssertTrue(schema.attributes["id"]?.computed ?? false, "\(type).id is computed")
                for (name, a) in schema.attributes where a.sensitive { XCTAssertFalse(a.required, "\(type).\(name)") }
            }
        }
        let instance = try XCTUnwrap(try CloudExpansionCheck.schema("gcp").resources["gcp.instance"]).attributes
        XCTAssertEqual(instance["machine_type"]?.forceNew, false)
        XCTAssertEqual(instance["disks"]?.forceNew, true)
        XCTAssertEqual(instance["metadata"]?.forceNew, false, "a new startup script is set in place")
        XCTAssertEqual(instance["self_link"]?.computed, true)
    }
}
