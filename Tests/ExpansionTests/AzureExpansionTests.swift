/// What a cluster on Azure VMs, geo routing over it and an azure_blob backup target expand to: resource counts per
/// type, the attributes that matter (sizes, disks, rules, probe, scaling, alerts, routing), owner tags, references and
/// schema fit, and the warnings for what Azure cannot express, at the stack key that asks for it.

import BuiltinProviders
@testable import Expansion
import Foundation
import Planning
import ProviderKit
import StackModel
import XCTest

enum AzureProviderSchemaCheck {
    static func attributes(_ type: String) throws -> [String: AttributeSchema] {
        try XCTUnwrap(try CloudExpansionCheck.schema("azure").resources[type]).attributes
    }
}

final class AzureExpansionTests: XCTestCase {
    /// The warnings multi-cloud.yaml gets on Azure: each a value Azure has no equivalent for, or one not wired yet.
    static let multiCloudWarnings = ["azure-lb-recovery-threshold", "azure-lb-weights", "azure-lb-strategy", "azure-autoscale-memory",
                                     "azure-metric-alerts-without-action-group", "alertmanager-webhook-by-reference"]

    func multiCloud() throws -> (Stack, Cluster, [DesiredResource]) {
        let stack = try PlacementFixture.shipped("stacks/multi-cloud.yaml")
        let cluster = try XCTUnwrap(stack.clusters.first { $0.cloud == .azure })
        let out = AzureExpansion.cluster(cluster, in: stack)
        XCTAssertEqual(Set(out.diagnostics.map(\.code)), Set(Self.multiCloudWarnings))
        XCTAssertTrue(out.diagnostics.allSatisfy { $0.severity == .warning })
        return (stack, cluster, out.resources)
    }

    func testMultiCloudAzureClusterCounts() throws {
        let (_, _, resources) = try multiCloud()
        XCTAssertEqual(CloudExpansionCheck.counts(resources), [
            "azure.resource_group": 1, "azure.virtual_network": 1, "azure.subnet": 1, "azure.network_security_group": 1,
            "azure.public_ip": 1, "azure.load_balancer": 1, "azure.network_interface": 3, "azure.vm": 3,
            "azure.vm_scale_set": 1, "azure.autoscale_setting": 1, "azure.metric_alert": 3,
        ])
        try CloudExpansionCheck.assertWellFormed(resources)
    }

    func testVMsTakeTheGuidesSizeOnTheirOwnInterfacesWithManagedDisks() throws {
        let (_, _, resources) = try multiCloud()
        for i in 1...3 {
            let vm = try CloudExpansionCheck.resource(resources, "azure.vm.maif-azure.azure-node-\(i)")
            XCTAssertEqual(CloudExpansionCheck.string(vm["hardware_profile"], "vm_size"), "Standard_D16s_v3")
            XCTAssertEqual(CloudExpansionCheck.string(vm["storage_profile"], "os_disk", "managed_disk", "storage_account_type"), "Premium_LRS")
            XCTAssertEqual(CloudExpansionCheck.string(vm["storage_profile"], "os_disk", "disk_size_gb"), "64")
            XCTAssertEqual(CloudExpansionCheck.string(vm["storage_profile"], "data_disks", "0", "disk_size_gb"), "1024", "the guide's 1Ti on a data disk")
            XCTAssertEqual(CloudExpansionCheck.string(vm["storage_profile"], "data_disks", "0", "managed_disk", "storage_account_type"), "Premium_LRS")
            XCTAssertEqual(vm["location"], "eastus", "East US as an ARM location")
            XCTAssertEqual(vm["resource_group_name"], "${azure.resource_group.maif-azure.name}")
            XCTAssertEqual(CloudExpansionCheck.string(vm["network_profile"], "network_interfaces", "0", "id"),
                           "${azure.network_interface.maif-azure.azure-node-\(i).id}", "an ARM VM needs a network interface")
            let nic = try CloudExpansionCheck.resource(resources, "azure.network_interface.maif-azure.azure-node-\(i)")
            XCTAssertEqual(CloudExpansionCheck.string(nic["ip_configurations"], "0", "subnet", "id"), "${azure.subnet.maif-azure.id}")
            XCTAssertEqual(CloudExpansionCheck.string(nic["ip_configurations"], "0", "load_balancer_backend_address_pools", "0", "id"),
                           "${azure.load_balancer.maif-azure.id}/backendAddressPools/nodes")
            let customData = try XCTUnwrap(CloudExpansionCheck.string(vm["os_profile"], "custom_data"))
            XCTAssertTrue(customData.hasPrefix("#cloud-config\n"))
            XCTAssertTrue(customData.contains("      cluster:\n        name: maif-azure\n"), "cluster.yaml as a block scalar")
            XCTAssertTrue(customData.contains("--node-id azure-node-\(i) "), customData)
            XCTAssertTrue(customData.contains("        host: multi-cloud-maif-azure-azure-node-2\n"), "peers by computer name")
            XCTAssertTrue(customData.contains("device: /dev/disk/azure/scsi1/lun0"), "the data disk is formatted")
            XCTAssertTrue(customData.contains(#"["/dev/disk/azure/scsi1/lun0-part1", "/var/lib/maif", "#), "and mounted where MAIF keeps its data")
            XCTAssertEqual(CloudExpansionCheck.string(vm["os_profile"], "computer_name"), "multi-cloud-maif-azure-azure-node-\(i)")
            XCTAssertEqual(vm["tags"], .map(["maif-cluster": "maif-azure", "maif-node": .string("azure-node-\(i)"),
                                             "maif-role": .string(["primary", "secondary", "cache"][i - 1])]))
        }
    }

    func testNetworkAndSecurityRules() throws {
        let (stack, cluster, resources) = try multiCloud()
        let range = try XCTUnwrap(Networks.networkRange(of: cluster, in: stack))
        let vnet = try CloudExpansionCheck.resource(resources, "azure.virtual_network.maif-azure")
        XCTAssertEqual(vnet["name"], "vnet-prod", "multi_cloud.deployments.azure.networking names it")
        XCTAssertEqual(vnet["address_space"], .map(["address_prefixes": .list([.string(range)])]))
        let subnet = try CloudExpansionCheck.resource(resources, "azure.subnet.maif-azure")
        XCTAssertEqual(subnet["virtual_network_name"], "${azure.virtual_network.maif-azure.name}")
        XCTAssertEqual(subnet["network_security_group"], .map(["id": "${azure.network_security_group.maif-azure.id}"]))

        let rules = try XCTUnwrap(try CloudExpansionCheck.resource(resources, "azure.network_security_group.maif-azure")["security_rules"]?.listValue)
        XCTAssertEqual(rules.compactMap { CloudExpansionCheck.string($0, "name") },
                       ["allow-maif", "allow-lb-probes", "allow-admin-ssh", "allow-maif-clients", "deny-maif-and-ssh-elsewhere"])
        let byName = Dictionary(uniqueKeysWithValues: rules.map { (CloudExpansionCheck.string($0, "name")!, $0.mapValue!) })
        XCTAssertEqual(byName["allow-maif"]?["destination_port_range"], "8080")
        XCTAssertEqual(byName["allow-maif"]?["source_address_prefixes"]?.listValue?.first, .string(range))
        XCTAssertEqual(byName["allow-lb-probes"]?["source_address_prefix"], "AzureLoadBalancer", "the probes get through the deny rule")
        XCTAssertEqual(byName["allow-admin-ssh"]?["source_address_prefix"], "10.0.0.0/8")
        XCTAssertEqual(byName["allow-maif-clients"]?["source_address_prefix"], "Internet")
        XCTAssertEqual(byName["deny-maif-and-ssh-elsewhere"]?["access"], "Deny")
        XCTAssertEqual(byName["deny-maif-and-ssh-elsewhere"]?["destination_port_ranges"], .list(["8080", "22"]))
    }

    func testLoadBalancerProbeIsTheGuides() throws {
        let (_, _, resources) = try multiCloud()
        let ip = try CloudExpansionCheck.resource(resources, "azure.public_ip.maif-azure.lb")
        XCTAssertEqual(ip["sku"], .map(["name": "Standard", "tier": "Regional"]))
        let label = try XCTUnwrap(CloudExpansionCheck.string(ip["dns_settings"], "domain_name_label"))
        XCTAssertTrue(label.hasPrefix("multi-cloud-maif-azure-") && label.count <= 63, label)
        let lb = try CloudExpansionCheck.resource(resources, "azure.load_balancer.maif-azure")
        XCTAssertEqual(CloudExpansionCheck.string(lb["frontend_ip_configurations"], "0", "public_ip_address", "id"), "${azure.public_ip.maif-azure.lb.id}")
        XCTAssertEqual(lb["probes"], .list([.map([
            "name": "health", "protocol": "Https", "port": 8080, "request_path": "/health",
            "interval_in_seconds": 30, "number_of_probes": 3, "probe_threshold": 3,
        ])]), "load_balancing: 30s interval, /health, 3 failures; TLS on, so HTTPS")
        XCTAssertEqual(CloudExpansionCheck.string(lb["load_balancing_rules"], "0", "probe_name"), "health")
        XCTAssertEqual(CloudExpansionCheck.string(lb["load_balancing_rules"], "0", "backend_address_pool_name"), "nodes")
    }

    func testScaleSetAndAutoscaleSettingFollowTheGuide() throws {
        let (_, _, resources) = try multiCloud()
        let vmss = try CloudExpansionCheck.resource(resources, "azure.vm_scale_set.maif-azure")
        XCTAssertEqual(vmss["sku"], .map(["name": "Standard_D16s_v3", "tier": "Standard", "capacity": 0]))
        XCTAssertEqual(CloudExpansionCheck.string(vmss["virtual_machine_profile"], "network_profile", "network_interface_configurations", "0",
                                                  "ip_configurations", "0", "load_balancer_backend_address_pools", "0", "id"),
                       "${azure.load_balancer.maif-azure.id}/backendAddressPools/nodes")
        let scaledData = try XCTUnwrap(CloudExpansionCheck.string(vmss["virtual_machine_profile"], "os_profile", "custom_data"))
        XCTAssertTrue(scaledData.contains("--node-id %H "), "a scaled node is named by its host name")
        let autoscale = try CloudExpansionCheck.resource(resources, "azure.autoscale_setting.maif-azure")
        XCTAssertEqual(autoscale["target_resource_uri"], "${azure.vm_scale_set.maif-azure.id}")
        let profile = try XCTUnwrap(autoscale["profiles"]?.listValue?.first?.mapValue)
        XCTAssertEqual(profile["capacity"], .map(["minimum": "0", "maximum": "17", "default": "0"]), "3 named + 0–17 = the guide's 3–20")
        let rules = try XCTUnwrap(profile["rules"]?.listValue)
        XCTAssertEqual(rules.count, 8)
        let up = rules.filter { CloudExpansionCheck.string($0, "scale_action", "direction") == "Increase" }
        let down = rules.filter { CloudExpansionCheck.string($0, "scale_action", "direction") == "Decrease" }
        XCTAssertEqual(up.map { CloudExpansionCheck.string($0, "metric_trigger", "metric_resource_uri") }, [
            "${azure.vm.maif-azure.azure-node-1.id}", "${azure.vm.maif-azure.azure-node-2.id}", "${azure.vm.maif-azure.azure-node-3.id}",
            "${azure.vm_scale_set.maif-azure.id}",
        ])
        XCTAssertTrue(up.allSatisfy { CloudExpansionCheck.string($0, "scale_action", "cooldown") == "PT5M"
                                      && $0.mapValue?["metric_trigger"]?.mapValue?["threshold"] == .double(70) })
        XCTAssertTrue(down.allSatisfy { CloudExpansionCheck.string($0, "scale_action", "cooldown") == "PT10M"
                                        && $0.mapValue?["metric_trigger"]?.mapValue?["threshold"] == .double(35) })
    }

    func testAlertsWatchTheVMsTheScaleSetAndTheProbe() throws {
        let (_, _, resources) = try multiCloud()
        let cpu = try CloudExpansionCheck.resource(resources, "azure.metric_alert.maif-azure.high_cpu_usage")
        XCTAssertEqual(cpu["name"], "multi-cloud-maif-azure-high-cpu-usage")
        XCTAssertEqual(cpu["severity"], 2, "warning")
        XCTAssertEqual(cpu["window_size"], "PT5M")
        XCTAssertEqual(cpu["scopes"]?.listValue?.count, 3)
        XCTAssertEqual(cpu["target_resource_type"], "Microsoft.Compute/virtualMachines")
        XCTAssertEqual(CloudExpansionCheck.string(cpu["criteria"], "odata_type"), "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria")
        XCTAssertEqual(CloudExpansionCheck.string(cpu["criteria"], "all_of", "0", "metric_name"), "Percentage CPU")
        XCTAssertEqual(cpu["criteria"]?.mapValue?["all_of"]?.listValue?.first?.mapValue?["threshold"], .double(90))
        let scaled = try CloudExpansionCheck.resource(resources, "azure.metric_alert.maif-azure.high_cpu_usage.scaled")
        XCTAssertEqual(scaled["scopes"], .list(["${azure.vm_scale_set.maif-azure.id}"]))
        let down = try CloudExpansionCheck.resource(resources, "azure.metric_alert.maif-azure.node_down")
        XCTAssertEqual(down["severity"], 0, "critical")
        XCTAssertEqual(down["window_size"], "PT1M")
        XCTAssertEqual(down["scopes"], .list(["${azure.load_balancer.maif-azure.id}"]))
        XCTAssertEqual(CloudExpansionCheck.string(down["criteria"], "all_of", "0", "metric_name"), "DipAvailability")
    }

    func testWhatAzureCannotExpressIsAWarningAtItsKey() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: gaps}
            clouds: {azure: {region: eastus}}
            clusters:
              - name: a
                cloud: azure
                nodes: [{id: n-1, role: primary}, {id: n-2, role: primary}]
            load_balancing:
              strategy: least_connections
              failure_threshold: 3
              recovery_threshold: 2
              weights: {n-2: 0.5}
            autoscaling:
              horizontal: {min_nodes: 2, max_nodes: 4, target_memory_utilization: 80}
            monitoring:
              alert_rules:
                - {name: lag, condition: replication_lag > 5, duration: 1m, severity: warning}
            """)
        let out = AzureExpansion.cluster(stack.clusters[0], in: stack)
        let byCode = Dictionary(out.diagnostics.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(byCode.keys), ["azure-vm-admin-key-missing", "azure-lb-strategy", "azure-lb-recovery-threshold", "azure-lb-weights",
                                          "azure-autoscale-memory", "azure-alert-unmapped"])
        XCTAssertTrue(out.diagnostics.allSatisfy { $0.severity == .warning })
        XCTAssertEqual(byCode["azure-vm-admin-key-missing"]?.location?.line, 2)
        XCTAssertEqual(byCode["azure-lb-strategy"]?.location?.line, 8)
        XCTAssertEqual(byCode["azure-lb-recovery-threshold"]?.location?.line, 10)
        XCTAssertEqual(byCode["azure-lb-weights"]?.location?.line, 11)
        XCTAssertEqual(byCode["azure-autoscale-memory"]?.location?.line, 13)
        XCTAssertEqual(byCode["azure-alert-unmapped"]?.location?.line, 16)
        XCTAssertNil(out.resources.first { $0.address.type == "azure.metric_alert" })
    }

    func testGeoRoutingBecomesATrafficManagerProfile() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: geo}
            clouds: {azure: {region: eastus}}
            clusters:
              - {name: us, cloud: azure, region: East US, nodes: [{id: us-1, role: primary}]}
              - {name: eu, cloud: azure, region: West Europe, nodes: [{id: eu-1, role: primary}]}
            geo_routing:
              regions:
                eastus: {cluster: us, capacity: 100}
                westeurope: {cluster: eu, capacity: 300}
              routing: {compliance_aware: true}
            """)
        let out = AzureExpansion.stackWide(stack)
        XCTAssertEqual(out.diagnostics, [])
        let profile = try CloudExpansionCheck.resource(out.resources, "azure.traffic_manager_profile.geo")
        XCTAssertEqual(profile["traffic_routing_method"], "Geographic")
        XCTAssertEqual(profile["location"], "global")
        XCTAssertEqual(profile["resource_group_name"], "${azure.resource_group.us.name}")
        let endpoints = try XCTUnwrap(profile["endpoints"]?.listValue)
        XCTAssertEqual(endpoints.map { $0.mapValue?["geo_mapping"] }, [.list(["GEO-NA"]), .list(["GEO-EU", "WORLD"])],
                       "each continent to its region, everyone else to the one with the most capacity")
        XCTAssertEqual(CloudExpansionCheck.string(endpoints[0], "target_resource_id"), "${azure.public_ip.us.lb.id}")
        XCTAssertEqual(CloudExpansionCheck.string(profile["monitor_config"], "path"), "/health")
        XCTAssertEqual(CloudExpansionCheck.string(profile["monitor_config"], "interval_in_seconds"), "30")
        var all = PlatformOutput()
        for c in stack.clusters { all += AzureExpansion.cluster(c, in: stack) }
        try CloudExpansionCheck.assertWellFormed(all.resources + out.resources)
    }

    func testOwnerTagsOnEveryResourceThatCanCarryThem() throws {
        let (_, _, resources) = try multiCloud()
        for r in resources where r.address.type != "azure.subnet" {
            let tags = try XCTUnwrap(try OwnerMarks.marked(r, stack: "multi-cloud")["tags"]?.mapValue, "\(r.address)")
            XCTAssertEqual(tags["maif-stack"], "multi-cloud", "\(r.address)")
            XCTAssertEqual(tags["maif-address"], .string(r.address.description), "\(r.address)")
            XCTAssertFalse(tags.keys.contains { $0.contains(":") }, "ARM tag names without ':' (\(r.address))")
        }
        XCTAssertNil(try AzureProviderSchemaCheck.attributes("azure.subnet")["tags"], "ARM has no tags for subnets")
    }

    func testBlobTargetBecomesGroupAccountAndContainer() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: blobs}
            clouds: {azure: {region: West Europe}}
            high_availability: {replication: {retention_period: 14d}}
            disaster_recovery:
              backup_targets:
                - {type: azure_blob, container: maif-backups}
                - {name: named, type: azure_blob, bucket: maifbackupsacct, container: dr-backups, region: North Europe}
            """)
        let targets = try XCTUnwrap(stack.disasterRecovery?.backupTargets)
        let out = targets.map { AzureExpansion.backupTarget($0, in: stack) }
        XCTAssertEqual(out.flatMap(\.diagnostics), [])
        let resources = out.flatMap(\.resources)
        XCTAssertEqual(CloudExpansionCheck.counts(resources), ["azure.resource_group": 2, "azure.storage_account": 2, "azure.blob_container": 2])
        try CloudExpansionCheck.assertWellFormed(resources)

        let account = try CloudExpansionCheck.resource(resources, "azure.storage_account.maif-backups")
        let name = try XCTUnwrap(account["name"]?.stringValue)
        XCTAssertTrue(AzureExpansion.isStorageAccountName(name), name)
        XCTAssertTrue(name.hasPrefix("blobsmaifbackups"), name)
        XCTAssertEqual(account["location"], "westeurope")
        XCTAssertEqual(account["supports_https_traffic_only"], true)
        XCTAssertEqual(account["minimum_tls_version"], "TLS1_2")
        XCTAssertEqual(account["allow_blob_public_access"], false)
        XCTAssertEqual(CloudExpansionCheck.string(account["encryption"], "services", "blob", "enabled"), "true")
        XCTAssertEqual(CloudExpansionCheck.string(account["blob_properties"], "is_versioning_enabled"), "true")
        XCTAssertEqual(CloudExpansionCheck.string(account["blob_properties"], "delete_retention_policy", "days"), "14")
        XCTAssertEqual(CloudExpansionCheck.string(account["sku"], "name"), "Standard_ZRS", "no copy outside the region")
        XCTAssertEqual(account["resource_group_name"], "${azure.resource_group.backups.maif-backups.name}")

        let container = try CloudExpansionCheck.resource(resources, "azure.blob_container.maif-backups")
        XCTAssertEqual(container["storage_account_name"], "${azure.storage_account.maif-backups.name}")
        XCTAssertEqual(container["public_access"], "None")
        XCTAssertEqual(container["metadata"], .map(["maif_stack": "blobs", "maif_address": "azure.blob_container.maif-backups"]))

        let named = try CloudExpansionCheck.resource(resources, "azure.storage_account.named")
        XCTAssertEqual(named["name"], "maifbackupsacct", "bucket names the storage account")
        XCTAssertEqual(named["location"], "northeurope")
    }

    func testInvalidBlobNamesAreReported() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: blobs}
            clouds: {azure: {region: eastus}}
            disaster_recovery:
              backup_targets: [{type: azure_blob, bucket: Not_Valid, container: Bad--Name}]
            """)
        let d = AzureExpansion.backupTarget(stack.disasterRecovery!.backupTargets[0], in: stack).diagnostics
        XCTAssertEqual(d.map(\.code), ["invalid-container-name", "invalid-storage-account-name"])
        XCTAssertEqual(d.map { $0.location?.line }, [4, 4])
    }

    func testSizesFromNodeResources() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: sized}
            clouds: {azure: {region: eastus, admin_ssh_public_key: ssh-ed25519 AAAA test}}
            clusters:
              - name: a
                cloud: azure
                nodes:
                  - {id: n-1, role: primary, resources: {cpu: 8, memory: 32GB, storage: 1TB}, zone: "2"}
                  - {id: n-2, role: cache, resources: {cpu: 4, memory: 64GB, storage: 8TB}}
                  - {id: n-3, role: cache, resources: {storage: 40TB}}
            """)
        let out = AzureExpansion.cluster(stack.clusters[0], in: stack)
        XCTAssertEqual(out.diagnostics.map(\.code), ["disk-too-large"])
        XCTAssertEqual(out.diagnostics.first?.location?.line, 9)
        let n1 = try CloudExpansionCheck.resource(out.resources, "azure.vm.a.n-1")
        let n2 = try CloudExpansionCheck.resource(out.resources, "azure.vm.a.n-2")
        XCTAssertEqual(CloudExpansionCheck.string(n1["hardware_profile"], "vm_size"), "Standard_D8s_v3")
        XCTAssertEqual(CloudExpansionCheck.string(n2["hardware_profile"], "vm_size"), "Standard_E8s_v3")
        XCTAssertEqual(CloudExpansionCheck.string(n2["storage_profile"], "data_disks", "0", "disk_size_gb"), "7451", "8TB in GiB, rounded up")
        XCTAssertEqual(n1["zones"], .list(["2"]))
        XCTAssertNil(n2["zones"])
        XCTAssertNil(out.resources.first { $0.address.type == "azure.network_security_group" }?.config["security_rules"]?.listValue?
            .first { CloudExpansionCheck.string($0, "name") == "allow-admin-ssh" }, "no admin_cidrs, no SSH rule")
        XCTAssertNil(out.resources.first { $0.address.type == "azure.vm_scale_set" }, "no autoscaling, no scale set")
    }

    func testDeclaredTypesAndWhatChangesInPlace() throws {
        XCTAssertEqual(try CloudExpansionCheck.schema("azure").resources.keys.sorted(), [
            "azure.autoscale_setting", "azure.blob_container", "azure.load_balancer", "azure.metric_alert", "azure.network_interface",
            "azure.network_security_group", "azure.public_ip", "azure.resource_group", "azure.storage_account", "azure.subnet",
            "azure.traffic_manager_profile", "azure.virtual_network", "azure.vm", "azure.vm_scale_set",
        ])
        XCTAssertEqual(try AzureProviderSchemaCheck.attributes("azure.vm")["os_profile"]?.forceNew, true, "ARM cannot change custom data")
        XCTAssertEqual(try AzureProviderSchemaCheck.attributes("azure.vm")["hardware_profile"]?.forceNew, false, "a resize is in place")
        XCTAssertEqual(try AzureProviderSchemaCheck.attributes("azure.vm")["admin_password"]?.sensitive, true)
        XCTAssertEqual(try AzureProviderSchemaCheck.attributes("azure.vm_scale_set")["virtual_machine_profile"]?.forceNew, false)
    }
}
