/// Resource types of the `azure` provider. Attribute names are the Azure Resource Manager request fields in
/// lower_snake form (`vm_size` is `vmSize`), with ARM's `properties` envelope flattened into the resource as the
/// Azure SDKs do (x-ms-client-flatten) and the rest nested as ARM nests it, so that the API client maps them one
/// to one; `id` and the other computed attributes are what ARM returns.
///
/// Tags are `maif:stack` / `maif:address` (ARM tag names may contain ':'). A subnet cannot carry tags and is found
/// through its tagged virtual network; a blob container carries the owner in its metadata instead, whose names must
/// be C# identifiers (`maif_stack` / `maif_address`).

import ProviderKit

enum AzureProviderSchema {
    static let provider = ProviderSchema(provider: "azure", resources: network + compute + storage)

    // MARK: Shorthands

    private static let id = AttributeSchema(.string, computed: true, description: "the ARM resource id, /subscriptions/…")
    private static let location = AttributeSchema(.string, required: true, forceNew: true, description: "ARM location name, e.g. eastus")
    private static let resourceGroup = AttributeSchema(.string, required: true, forceNew: true, description: "name of the resource group it lives in")
    private static let tags = AttributeSchema.tags

    private static func name(_ rule: String) -> AttributeSchema {
        AttributeSchema(.string, required: true, forceNew: true, description: rule)
    }

    private static func type(_ kind: String, _ description: String, _ attributes: [String: AttributeSchema]) -> ResourceSchema {
        ResourceSchema(type: "azure.\(kind)", description: description, attributes: attributes)
    }

    // MARK: Resource groups and networking (Microsoft.Resources, Microsoft.Network)

    static let network: [ResourceSchema] = [
        type("resource_group", "A resource group (PUT Microsoft.Resources/resourceGroups).", [
            "name": name("1-90 letters, digits, '_', '-', '.', '(' and ')'"),
            "location": location, "tags": tags,
            "id": id,
            "provisioning_state": .computedString,
        ]),
        type("virtual_network", "A virtual network (PUT Microsoft.Network/virtualNetworks).", [
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
        type("network_security_group", "A network security group with its rules (PUT Microsoft.Network/networkSecurityGroups).", [
            "name": name("1-80 letters, digits, '_', '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "security_rules": .init(.list, description: "[{name, priority 100-4096, direction: Inbound|Outbound, access: Allow|Deny, protocol: Tcp|Udp|Icmp|*, source_address_prefix(es), source_port_range, destination_address_prefix, destination_port_range(s), description}]"),
            "tags": tags,
            "id": id,
        ]),
    ]

    // MARK: Virtual machines (Microsoft.Compute)

    static let compute: [ResourceSchema] = [
        type("vm", "A Linux virtual machine whose network interface ARM creates with it (PUT Microsoft.Compute/virtualMachines, networkApiVersion 2020-11-01).", [
            "name": name("1-64 letters, digits, '-' and '.'"),
            "resource_group_name": resourceGroup, "location": location,
            "zones": .init(.list, forceNew: true, description: "availability zone, e.g. [\"1\"]; none when not set"),
            "hardware_profile": .init(.map, required: true, description: "{vm_size}, e.g. Standard_D16s_v3; a resize may deallocate the VM"),
            "storage_profile": .init(.map, required: true, forceNew: true,
                                     description: "{image_reference: {publisher, offer, sku, version}, os_disk: {name, create_option: FromImage, caching, disk_size_gb, delete_option, managed_disk: {storage_account_type: Premium_LRS|StandardSSD_LRS|…}}}"),
            "os_profile": .init(.map, required: true, forceNew: true,
                                description: "{computer_name, admin_username, custom_data, linux_configuration: {disable_password_authentication, ssh: {public_keys: [{path, key_data}]}}}; custom_data is plain text, base64-encoded by the provider, and ARM cannot change it after creation"),
            "admin_password": .init(.string, forceNew: true, sensitive: true, description: "os_profile.admin_password, when password login is enabled"),
            "network_profile": .init(.map, required: true, forceNew: true,
                                     description: "{network_api_version, network_interface_configurations: [{name, primary, delete_option, ip_configurations: [{name, subnet: {id}, private_ip_address_version}]}]}"),
            "tags": tags,
            "id": id,
            "vm_id": .init(.string, computed: true, description: "the VM's unique id (properties.vmId)"),
            "private_ip_address": .init(.string, computed: true, description: "of the primary network interface ARM created"),
        ]),
    ]

    // MARK: Storage (Microsoft.Storage)

    static let storage: [ResourceSchema] = [
        type("storage_account", "A storage account (PUT Microsoft.Storage/storageAccounts), with its blob service and lifecycle policy.", [
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
            "primary_access_key": .init(.string, computed: true, sensitive: true, description: "key1 of listKeys"),
            "secondary_access_key": .init(.string, computed: true, sensitive: true, description: "key2 of listKeys"),
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
