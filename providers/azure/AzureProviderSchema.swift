/// Resource types of the `azure` provider. Attribute names are the Azure Resource Manager request fields in
/// lower_snake form (`vm_size` is `vmSize`, `public_ip_address` is `publicIPAddress`), with ARM's `properties` envelope
/// flattened into the resource — and into each item of a list of sub-resources (security rules, ip configurations,
/// probes, endpoints) — as the Azure SDKs do, and the rest nested as ARM nests it, so the provider maps them one to
/// one (ARMShape). `id` and the other computed attributes are what ARM returns.
///
/// Owner tags are `maif-stack` / `maif-address`: Microsoft lists ':' among the characters some resource types refuse in
/// tag names (Traffic Manager among them), and one spelling for every type keeps `find` simple. A subnet cannot carry
/// tags (its virtual network does); a blob container carries the owner in its metadata, whose names must be C#
/// identifiers (`maif_stack` / `maif_address`).

import ProviderKit

enum AzureProviderSchema {
    static let provider = ProviderSchema(provider: "azure", resources: network + compute + monitoring + storage)

    // MARK: Shorthands

    private static let id = AttributeSchema(.string, computed: true, description: "the ARM resource id, /subscriptions/…")
    private static let location = AttributeSchema(.string, required: true, forceNew: true, description: "ARM location name, e.g. eastus")
    private static let globalLocation = AttributeSchema(.string, required: true, forceNew: true, description: "global")
    private static let resourceGroup = AttributeSchema(.string, required: true, forceNew: true, description: "name of the resource group it lives in")
    private static let tags = AttributeSchema(.map, description: "tags; maif-stack and maif-address name the owner")

    private static func name(_ rule: String) -> AttributeSchema {
        AttributeSchema(.string, required: true, forceNew: true, description: rule)
    }

    private static func type(_ kind: String, _ description: String, _ attributes: [String: AttributeSchema]) -> ResourceSchema {
        ResourceSchema(type: "azure.\(kind)", description: description, attributes: attributes)
    }

    // MARK: Resource groups and networking (Microsoft.Resources 2022-09-01, Microsoft.Network 2024-05-01)

    static let network: [ResourceSchema] = [
        type("resource_group", "A resource group (PUT Microsoft.Resources/resourceGroups). Deleted only once it holds nothing maifctl did not delete itself.", [
            "name": name("1-90 letters, digits, '_', '-', '.', '(' and ')'"),
            "location": location, "tags": tags,
            "id": id,
        ]),
        type("virtual_network", "A virtual network (PUT Microsoft.Network/virtualNetworks); its subnets are resources of their own and survive its updates.", [
            "name": name("2-64 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "address_space": .init(.map, required: true, description: "{address_prefixes: [CIDR]}"),
            "tags": tags,
            "id": id,
            "resource_guid": .computedString,
        ]),
        type("subnet", "A subnet of a virtual network (PUT …/virtualNetworks/{vnet}/subnets). ARM has no tags for it.", [
            "name": name("1-80 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup,
            "virtual_network_name": .init(.string, required: true, forceNew: true),
            "address_prefix": .init(.string, required: true, description: "CIDR inside the virtual network's address space"),
            "network_security_group": .init(.map, description: "{id}: the security group applied to the subnet"),
            "id": id,
        ]),
        type("network_security_group", "A network security group with its rules (PUT Microsoft.Network/networkSecurityGroups); the rules are the group's whole list: one added or changed by hand is drift.", [
            "name": name("1-80 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "security_rules": .init(.list, description: "[{name, priority 100-4096, direction: Inbound|Outbound, access: Allow|Deny, protocol: Tcp|Udp|Icmp|*, source_address_prefix(es), source_port_range(s), destination_address_prefix(es), destination_port_range(s), description}]"),
            "tags": tags,
            "id": id,
        ]),
        type("public_ip", "A public IP address (PUT Microsoft.Network/publicIPAddresses).", [
            "name": name("1-80 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "sku": .init(.map, forceNew: true, description: "{name: Standard|Basic, tier: Regional|Global}"),
            "zones": .init(.list, forceNew: true, description: "availability zones, e.g. [\"1\", \"2\", \"3\"]"),
            "public_ip_allocation_method": .init(.string, description: "Static or Dynamic (Standard needs Static)"),
            "public_ip_address_version": .init(.string, forceNew: true, description: "IPv4 or IPv6"),
            "idle_timeout_in_minutes": .optionalInt,
            "dns_settings": .init(.map, description: "{domain_name_label}: <label>.<location>.cloudapp.azure.com (what Traffic Manager's Azure endpoints need)"),
            "tags": tags,
            "id": id,
            "ip_address": .init(.string, computed: true, description: "the address ARM allocated"),
            "fqdn": .init(.string, computed: true, description: "dns_settings.fqdn"),
        ]),
        type("network_interface", "A network interface (PUT Microsoft.Network/networkInterfaces): what a VM is attached to.", [
            "name": name("1-80 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "ip_configurations": .init(.list, required: true, description: "[{name, primary, subnet: {id}, private_ip_allocation_method: Dynamic|Static, private_ip_address, public_ip_address: {id}, load_balancer_backend_address_pools: [{id}]}]"),
            "network_security_group": .init(.map, description: "{id}"),
            "enable_accelerated_networking": .optionalBool,
            "tags": tags,
            "id": id,
            "private_ip_address": .init(.string, computed: true, description: "of the primary ip configuration"),
        ]),
        type("load_balancer", "A load balancer with its frontends, backend pools, health probes and rules (PUT Microsoft.Network/loadBalancers).", [
            "name": name("1-80 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "sku": .init(.map, forceNew: true, description: "{name: Standard, tier: Regional}"),
            "frontend_ip_configurations": .init(.list, required: true, description: "[{name, public_ip_address: {id}} or {name, subnet: {id}, private_ip_allocation_method}]"),
            "backend_address_pools": .init(.list, description: "[{name}]; network interfaces join a pool by its id, <id>/backendAddressPools/<name>"),
            "probes": .init(.list, description: "[{name, protocol: Tcp|Http|Https, port, request_path, interval_in_seconds, number_of_probes, probe_threshold}]"),
            "load_balancing_rules": .init(.list, description: "[{name, protocol, frontend_port, backend_port, frontend_ip_configuration_name, backend_address_pool_name, probe_name, idle_timeout_in_minutes, enable_floating_ip, load_distribution, disable_outbound_snat}]; the *_name keys name this balancer's own parts (ARM's {id} references)"),
            "tags": tags,
            "id": id,
            "endpoint": .init(.string, description: "dns name:port clients use; recorded for `maifctl output`, never sent to ARM"),
        ]),
        type("traffic_manager_profile", "A Traffic Manager profile with its endpoints (PUT Microsoft.Network/trafficmanagerprofiles): DNS-based geo routing.", [
            "name": name("1-63 letters, digits, '-' and '.'"),
            "resource_group_name": resourceGroup, "location": globalLocation,
            "profile_status": .init(.string, description: "Enabled or Disabled"),
            "traffic_routing_method": .init(.string, required: true, description: "Geographic, Performance, Priority, Weighted, …"),
            "dns_config": .init(.map, required: true, description: "{relative_name (unique in trafficmanager.net), ttl}"),
            "monitor_config": .init(.map, required: true, description: "{protocol: HTTP|HTTPS|TCP, port, path, interval_in_seconds: 10|30, timeout_in_seconds, tolerated_number_of_failures}"),
            "endpoints": .init(.list, description: "[{name, type: Microsoft.Network/trafficManagerProfiles/azureEndpoints|externalEndpoints, target_resource_id | target, endpoint_status, geo_mapping: [GEO-NA, …, WORLD], endpoint_location, weight, priority}]"),
            "tags": tags,
            "id": id,
            "fqdn": .init(.string, computed: true, description: "<relative_name>.trafficmanager.net"),
        ]),
    ]

    // MARK: Virtual machines and scale sets (Microsoft.Compute 2024-07-01)

    static let compute: [ResourceSchema] = [
        type("vm", "A Linux virtual machine on a network interface of its own, with managed OS and data disks (PUT Microsoft.Compute/virtualMachines). A size ARM cannot change on a running VM is changed by deallocate → update → start.", [
            "name": name("1-64 letters, digits, '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "zones": .init(.list, forceNew: true, description: "availability zone, e.g. [\"1\"]; none when not set"),
            "hardware_profile": .init(.map, required: true, description: "{vm_size}, e.g. Standard_D16s_v3"),
            "storage_profile": .init(.map, required: true, forceNew: true,
                                     description: "{image_reference: {publisher, offer, sku, version}, os_disk: {name, create_option: FromImage, caching, disk_size_gb, delete_option, managed_disk: {storage_account_type}}, data_disks: [{lun, name, create_option: Empty, disk_size_gb, caching, delete_option, managed_disk: {storage_account_type}}]}"),
            "os_profile": .init(.map, required: true, forceNew: true,
                                description: "{computer_name, admin_username, custom_data, linux_configuration: {disable_password_authentication, ssh: {public_keys: [{path, key_data}]}}}; custom_data is plain text, base64-encoded by the provider, and ARM cannot change it after creation; the key of clouds.azure.admin_ssh_public_key is added when no key is given"),
            "admin_password": .init(.string, forceNew: true, sensitive: true, description: "os_profile.admin_password, when password login is enabled"),
            "network_profile": .init(.map, required: true, forceNew: true,
                                     description: "{network_interfaces: [{id, primary, delete_option: Detach|Delete}]}"),
            "tags": tags,
            "id": id,
            "vm_id": .init(.string, computed: true, description: "the VM's unique id (properties.vmId)"),
            "endpoint": .init(.string, description: "private address:port the node serves on; recorded for `maifctl output`, never sent to ARM"),
        ]),
        type("vm_scale_set", "A virtual machine scale set (PUT Microsoft.Compute/virtualMachineScaleSets): the nodes auto-scaling adds. Its capacity belongs to its autoscale setting once created: a capacity ARM reports otherwise is not drift.", [
            "name": name("1-64 letters, digits, '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "zones": .init(.list, forceNew: true),
            "sku": .init(.map, required: true, description: "{name: the VM size, tier: Standard, capacity}"),
            "upgrade_policy": .init(.map, description: "{mode: Manual|Automatic|Rolling}"),
            "overprovision": .optionalBool,
            "virtual_machine_profile": .init(.map, required: true,
                                             description: "{storage_profile, os_profile: {computer_name_prefix, admin_username, custom_data, linux_configuration}, network_profile: {network_interface_configurations: [{name, primary, ip_configurations: [{name, subnet: {id}, load_balancer_backend_address_pools: [{id}]}]}]}}"),
            "admin_password": .init(.string, sensitive: true, description: "virtual_machine_profile.os_profile.admin_password"),
            "tags": tags,
            "id": id,
            "unique_id": .init(.string, computed: true, description: "properties.uniqueId"),
        ]),
    ]

    // MARK: Auto-scaling and alerts (Microsoft.Insights autoscale 2022-10-01, metric alerts 2018-03-01)

    static let monitoring: [ResourceSchema] = [
        type("autoscale_setting", "An autoscale setting for a scale set (PUT Microsoft.Insights/autoscalesettings): capacity bounds and metric rules with cooldowns.", [
            "name": name("1-260 characters"),
            "resource_group_name": resourceGroup, "location": location,
            "enabled": .optionalBool,
            "target_resource_uri": .init(.string, required: true, description: "the scale set's id"),
            "profiles": .init(.list, required: true, description: "[{name, capacity: {minimum, maximum, default} (strings), rules: [{metric_trigger: {metric_name, metric_resource_uri, time_grain, statistic, time_window, time_aggregation, operator, threshold}, scale_action: {direction, type, value, cooldown}}]}]"),
            "notifications": .optionalList,
            "tags": tags,
            "id": id,
        ]),
        type("metric_alert", "A metric alert rule (PUT Microsoft.Insights/metricAlerts).", [
            "name": name("1-260 characters"),
            "resource_group_name": resourceGroup, "location": globalLocation,
            "description": .optionalString,
            "severity": .init(.int, required: true, description: "0 (critical) to 4 (verbose)"),
            "enabled": .optionalBool,
            "scopes": .init(.list, required: true, description: "ids of the resources watched (one type, one region)"),
            "evaluation_frequency": .init(.string, description: "ISO 8601: PT1M, PT5M, PT15M, PT30M, PT1H"),
            "window_size": .init(.string, description: "ISO 8601: PT1M … P1D"),
            "target_resource_type": .init(.string, description: "for several scopes, e.g. Microsoft.Compute/virtualMachines"),
            "target_resource_region": .init(.string, description: "for several scopes"),
            "criteria": .init(.map, required: true, description: "{odata_type: Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria|MultipleResourceMultipleMetricCriteria, all_of: [{criterion_type: StaticThresholdCriterion, name, metric_name, metric_namespace, operator, threshold, time_aggregation, dimensions, skip_metric_validation}]}"),
            "auto_mitigate": .optionalBool,
            "actions": .init(.list, description: "[{action_group_id}]"),
            "tags": tags,
            "id": id,
        ]),
    ]

    // MARK: Storage (Microsoft.Storage 2023-05-01)

    static let storage: [ResourceSchema] = [
        type("storage_account", "A storage account (PUT Microsoft.Storage/storageAccounts), with its blob service (versioning, soft delete) and lifecycle policy.", [
            "name": name("globally unique; 3-24 lowercase letters and digits"),
            "resource_group_name": resourceGroup, "location": location,
            "kind": .init(.string, forceNew: true, description: "StorageV2, BlobStorage, …"),
            "sku": .init(.map, required: true, description: "{name: Standard_LRS|Standard_ZRS|Standard_GRS|Premium_LRS|…}"),
            "access_tier": .init(.string, description: "Hot or Cool"),
            "supports_https_traffic_only": .init(.bool, description: "refuse plain HTTP"),
            "minimum_tls_version": .init(.string, description: "TLS1_2"),
            "allow_blob_public_access": .optionalBool,
            "encryption": .init(.map, description: "{key_source: Microsoft.Storage|Microsoft.Keyvault, services: {blob: {enabled, key_type}}}; encryption at rest cannot be turned off"),
            "blob_properties": .init(.map, description: "the blob service (PUT …/blobServices/default): {is_versioning_enabled, delete_retention_policy: {enabled, days}, container_delete_retention_policy: {enabled, days}}"),
            "management_policy": .init(.map, description: "lifecycle rules (PUT …/managementPolicies/default): {rules: [{name, enabled, type: Lifecycle, definition: {filters, actions}}]}"),
            "tags": tags,
            "id": id,
            "primary_endpoints": .init(.map, computed: true, description: "{blob, …}: service URLs"),
        ]),
        type("blob_container", "A blob container (PUT …/storageAccounts/{account}/blobServices/default/containers). ARM has no tags for it: the owner is in its metadata.", [
            "name": name("3-63 lowercase letters, digits and '-'"),
            "resource_group_name": resourceGroup,
            "storage_account_name": .init(.string, required: true, forceNew: true),
            "public_access": .init(.string, description: "None, Blob or Container"),
            "metadata": .init(.map, description: "name → value; maif_stack and maif_address name the owner"),
            "id": id,
        ]),
    ]
}
