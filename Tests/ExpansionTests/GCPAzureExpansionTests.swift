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
        XCTAssertEqual(out.diagnostics, [])
        return (stack, cluster, out.resources)
    }

    func testMultiCloudGCPClusterCounts() throws {
        let (_, _, resources) = try multiCloud()
        XCTAssertEqual(CloudExpansionCheck.counts(resources), [
            "gcp.network": 1, "gcp.subnetwork": 1, "gcp.firewall": 2, "gcp.instance": 3,
        ])
        XCTAssertEqual(resources.map(\.address.description), [
            "gcp.network.maif-gcp", "gcp.subnetwork.maif-gcp", "gcp.firewall.maif-gcp.maif", "gcp.firewall.maif-gcp.admin",
            "gcp.instance.maif-gcp.gcp-node-1", "gcp.instance.maif-gcp.gcp-node-2", "gcp.instance.maif-gcp.gcp-node-3",
        ])
        try CloudExpansionCheck.assertWellFormed(resources)
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
            let script = try XCTUnwrap(CloudExpansionCheck.string(instance["metadata"], "startup-script"))
            XCTAssertTrue(script.hasPrefix("#!/bin/bash\n"))
            XCTAssertTrue(script.contains("-e MAIF_NODE_ID=gcp-node-\(i) "), script)
            XCTAssertTrue(script.contains("cluster:\n  name: maif-gcp\n  stack: multi-cloud\n"), "the guide's cluster.yaml")
            XCTAssertTrue(script.contains("host: multi-cloud-maif-gcp-gcp-node-3.us-central1-c.c.maif-multi-cloud.internal"),
                          "every node's cluster.yaml names its peers by internal DNS")
            XCTAssertTrue(script.hasSuffix("maif/maif-enterprise:latest\n"), "the stack's image")
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
            if let labels = r.config["labels"]?.mapValue {
                XCTAssertEqual(labels["maif-stack"], "multi-cloud", "\(r.address)")
                XCTAssertEqual(labels["maif-address"]?.stringValue, r.address.description.replacingOccurrences(of: ".", with: "_"), "\(r.address)")
            } else {
                XCTAssertEqual(r.config["description"]?.stringValue, "Managed by maifctl: maif:stack=multi-cloud maif:address=\(r.address)",
                               "\(r.address) has no labels in GCP: its description names the owner")
            }
        }
        XCTAssertEqual(resources.filter { $0.config["labels"] != nil }.map(\.address.type), Array(repeating: "gcp.instance", count: 3))
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
            for target in stack.disasterRecovery?.backupTargets ?? [] {
                if target.kind == .gcs { out += GCPExpansion.backupTarget(target, in: stack) }
                if target.kind == .azureBlob { out += AzureExpansion.backupTarget(target, in: stack) }
            }
            // What Azure cannot express is a documented warning (azure-…, see AzureExpansionTests), not a problem.
            XCTAssertEqual(out.diagnostics.filter { !($0.severity == .warning && $0.code.hasPrefix("azure-")) }.map(\.description), [], file)
            try CloudExpansionCheck.assertWellFormed(out.resources)
            gcpOrAzure += out.resources.count
        }
        XCTAssertGreaterThan(gcpOrAzure, 0)
    }

    func testHybridGCPClusterAdmitsTheOnPremisesHosts() throws {
        let stack = try PlacementFixture.shipped("stacks/hybrid.yaml")
        let cluster = try XCTUnwrap(stack.clusters.first { $0.cloud == .gcp })
        let out = GCPExpansion.cluster(cluster, in: stack)
        XCTAssertEqual(CloudExpansionCheck.counts(out.resources), ["gcp.network": 1, "gcp.subnetwork": 1, "gcp.firewall": 2, "gcp.instance": 3])
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
                       ["gcp.bucket", "gcp.firewall", "gcp.instance", "gcp.network", "gcp.subnetwork"])
    }

    func testIdentityIsForceNewAndSecretsAreSensitive() throws {
        for provider in ["gcp", "azure"] {
            for (type, schema) in try CloudExpansionCheck.schema(provider).resources {
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
