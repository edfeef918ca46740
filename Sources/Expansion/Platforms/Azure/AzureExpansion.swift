/// Expansion onto the `azure` provider's resource types: a VM cluster becomes a resource group, a virtual network
/// with one subnet, a network security group (the MAIF port from the cluster and its peers, SSH from
/// `security.admin_cidrs`, both denied from anywhere else) and one Ubuntu VM per node whose cloud-init custom data
/// writes the guide's cluster.yaml and runs MAIF; an `azure_blob` backup target becomes a resource group, a storage
/// account (HTTPS only, versioned, lifecycle from the retention period) and a private blob container.
///
/// Every resource that ARM can tag carries `maif:stack` / `maif:address`; a subnet cannot be tagged (it is found
/// through its virtual network) and a blob container carries them as metadata `maif_stack` / `maif_address`.

import ProviderKit
import StackModel

enum AzureExpansion {
    /// The guide's Azure size and disk.
    static let defaultVMSize = "Standard_D16s_v3"
    static let defaultDiskType = "Premium_LRS"
    static let osDiskTypes = ["Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS"]
    static let maxOSDiskGiB: Int64 = 4095
    static let imageReference: AttributeValue = .map([
        "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest",
    ])
    static let adminUsername = "maif"
    static let defaultContainerImage = "maif/maif-enterprise:latest"
    /// The guide's per-node volume (1Ti) when neither the node nor vertical scaling gives a size.
    static let defaultDiskGiB: Int64 = 1024

    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        let deployment = stack.multiCloud?.deployments.first { $0.cloud == .azure }
        guard let basics = VMClusterBasics.check(cluster, in: stack, cloud: .azure, defaultDiskType: defaultDiskType, diskTypes: osDiskTypes,
                                                 diskTypeWhat: "a managed disk type an OS disk can use", into: &out) else { return out }
        let (region, range, diskType) = (basics.region, basics.range, basics.diskType)
        let location = armLocation(region)
        let base = resourceName(stack.meta.name, cluster.name)
        let soleAzureCluster = stack.clusters.filter { $0.cloud == .azure && $0.platform == .vm }.count == 1
        // multi_cloud names the virtual network (the guide's `vnet-prod`) when one cluster uses it.
        let vnetName = soleAzureCluster ? deployment?.networking.map { resourceName($0) } ?? "\(base)-vnet" : "\(base)-vnet"

        let group = ResourceAddress(provider: "azure", kind: "resource_group", name: cluster.name)
        let vnet = ResourceAddress(provider: "azure", kind: "virtual_network", name: cluster.name)
        let subnet = ResourceAddress(provider: "azure", kind: "subnet", name: cluster.name)
        let nsg = ResourceAddress(provider: "azure", kind: "network_security_group", name: cluster.name)
        let groupName = AttributeValue.string("${\(group).name}")

        out.resources.append(DesiredResource(address: group, config: [
            "name": .string("\(base)-rg"),
            "location": .string(location),
        ], origin: cluster.location))

        out.resources.append(DesiredResource(address: vnet, config: [
            "name": .string(vnetName),
            "resource_group_name": groupName,
            "location": .string(location),
            "address_space": .map(["address_prefixes": .list([.string(range)])]),
        ], origin: cluster.location))

        out.resources.append(DesiredResource(address: nsg, config: [
            "name": .string("\(base)-nsg"),
            "resource_group_name": groupName,
            "location": .string(location),
            "security_rules": .list(securityRules(cluster, range: range, stack: stack)),
        ], origin: stack.security?.location ?? cluster.location))

        out.resources.append(DesiredResource(address: subnet, config: [
            "name": "maif",
            "resource_group_name": groupName,
            "virtual_network_name": .string("${\(vnet).name}"),
            "address_prefix": .string(range),
            "network_security_group": .map(["id": .string("${\(nsg).id}")]),
        ], origin: cluster.location))

        let hosted = withHosts(cluster, base: base)
        let clusterYAML = ClusterConfig.render(stack: stack, cluster: hosted)
        for node in hosted.nodes {
            let address = ResourceAddress(provider: "azure", kind: "vm", name: "\(cluster.name).\(node.id)")
            let name = resourceName(base, node.id)
            let (vmSize, sizeProblem) = vmSize(for: node, cluster: cluster, deployment: deployment)
            if let sizeProblem { out.diagnostics.append(.error("no-vm-size", sizeProblem, hint: "set vm_size on the cluster", at: node.location)) }
            let diskGiB = diskGiB(node, stack)
            if diskGiB > maxOSDiskGiB {
                out.diagnostics.append(.error("disk-too-large", "node '\(node.id)' asks for \(diskGiB) GiB; an Azure OS disk holds at most \(maxOSDiskGiB) GiB",
                                              at: node.location))
            }
            var ipConfiguration: [String: AttributeValue] = [
                "name": "ipconfig1",
                "subnet": .map(["id": .string("${\(subnet).id}")]),
                "private_ip_address_version": "IPv4",
            ]
            if let host = node.host, Networks.ipv4(host) != nil {
                ipConfiguration["private_ip_allocation_method"] = "Static"
                ipConfiguration["private_ip_address"] = .string(host)
            }
            var config: [String: AttributeValue] = [
                "name": .string(name),
                "resource_group_name": groupName,
                "location": .string(location),
                "hardware_profile": .map(["vm_size": .string(vmSize)]),
                "storage_profile": .map([
                    "image_reference": imageReference,
                    "os_disk": .map([
                        "name": .string("\(name)-os"),
                        "create_option": "FromImage",
                        "caching": "ReadWrite",
                        "delete_option": "Delete",
                        "disk_size_gb": .int(diskGiB),
                        "managed_disk": .map(["storage_account_type": .string(diskType)]),
                    ]),
                ]),
                "os_profile": .map([
                    "computer_name": .string(name),
                    "admin_username": .string(adminUsername),
                    "custom_data": .string(cloudConfig(stack: stack, cluster: hosted, node: node, address: address, clusterYAML: clusterYAML)),
                    "linux_configuration": .map(["disable_password_authentication": true]),
                ]),
                "network_profile": .map([
                    "network_api_version": "2020-11-01",
                    "network_interface_configurations": .list([.map([
                        "name": .string("\(name)-nic"),
                        "primary": true,
                        "delete_option": "Delete",
                        "ip_configurations": .list([.map(ipConfiguration)]),
                    ])]),
                ]),
            ]
            if let zone = node.zone, ["1", "2", "3"].contains(zone) { config["zones"] = .list([.string(zone)]) }
            out.resources.append(DesiredResource(address: address, config: config, origin: node.location))
        }
        return out
    }

    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        guard let container = target.container else { return out }  // the loader already reported it
        if !isContainerName(container) {
            out.diagnostics.append(.error("invalid-container-name", "'\(container)' is not a valid blob container name",
                                          hint: "3-63 lowercase letters, digits and single hyphens, starting with a letter or digit", at: target.location))
        }
        let accountName = target.bucket ?? derivedAccountName(stack: stack, target: target)
        if !isStorageAccountName(accountName) {
            out.diagnostics.append(.error("invalid-storage-account-name", "'\(accountName)' is not a valid storage account name",
                                          hint: "3-24 lowercase letters and digits, unique across Azure; leave `bucket` out to have maifctl derive one",
                                          at: target.location))
        }
        guard let region = target.region ?? stack.clouds["azure"]?.string("region") else {
            out.diagnostics.append(.error("missing-region", "backup target '\(target.name)' (azure_blob) has no region",
                                          hint: "set region on the target or under clouds.azure", at: target.location))
            return out
        }
        if !target.encryption {
            out.diagnostics.append(.warning("encryption-always-on", "Azure Storage encrypts every blob at rest; encryption: false on '\(target.name)' has no effect",
                                            at: target.location))
        }
        let name = addressName(target.name)
        let group = ResourceAddress(provider: "azure", kind: "resource_group", name: "backups.\(name)")
        let account = ResourceAddress(provider: "azure", kind: "storage_account", name: name)
        let blobContainer = ResourceAddress(provider: "azure", kind: "blob_container", name: name)
        let days = Int64(min(365, retentionDays(stack)))

        out.resources.append(DesiredResource(address: group, config: [
            "name": .string(resourceName(stack.meta.name, "backups", target.name)),
            "location": .string(armLocation(region)),
        ], origin: target.location))

        out.resources.append(DesiredResource(address: account, config: [
            "name": .string(accountName),
            "resource_group_name": .string("${\(group).name}"),
            "location": .string(armLocation(region)),
            "kind": "StorageV2",
            // Zone-redundant inside the region: geo-redundant SKUs would copy backups to the paired region,
            // outside what placement and compliance rules allow.
            "sku": .map(["name": "Standard_ZRS"]),
            "access_tier": "Hot",
            "supports_https_traffic_only": true,
            "minimum_tls_version": "TLS1_2",
            "allow_blob_public_access": false,
            "encryption": .map([
                "key_source": "Microsoft.Storage",
                "services": .map(["blob": .map(["enabled": true, "key_type": "Account"])]),
            ]),
            "blob_properties": .map([
                "is_versioning_enabled": true,
                "delete_retention_policy": .map(["enabled": true, "days": .int(days)]),
                "container_delete_retention_policy": .map(["enabled": true, "days": .int(days)]),
            ]),
            "management_policy": .map(["rules": .list([.map([
                "name": "maif-backup-retention",
                "enabled": true,
                "type": "Lifecycle",
                "definition": .map([
                    "filters": .map(["blob_types": .list(["blockBlob"])]),
                    "actions": .map([
                        "base_blob": .map(["delete": .map(["days_after_modification_greater_than": .int(days)])]),
                        "version": .map(["delete": .map(["days_after_creation_greater_than": .int(days)])]),
                    ]),
                ]),
            ])])]),
        ], origin: target.location))

        out.resources.append(DesiredResource(address: blobContainer, config: [
            "name": .string(container),
            "resource_group_name": .string("${\(group).name}"),
            "storage_account_name": .string("${\(account).name}"),
            "public_access": "None",
            "metadata": .map(["maif_stack": .string(stack.meta.name), "maif_address": .string(blobContainer.description)]),
        ], origin: target.location))
        return out
    }

    // MARK: Network security

    /// MAIF's ports from the cluster's network and its peers, SSH from the admin ranges, and both denied from anywhere
    /// else (the default rules would let the whole virtual network and its VPN peers in).
    static func securityRules(_ cluster: Cluster, range: String, stack: Stack) -> [AttributeValue] {
        let ports = Set(cluster.nodes.map(\.port)).sorted().map { AttributeValue.string(String($0)) }
        var rules: [AttributeValue] = [
            .map([
                "name": "allow-maif",
                "description": "MAIF from the cluster and its peers",
                "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "source_address_prefixes": .list(([range] + Networks.peerRanges(of: cluster, in: stack)).map { .string($0) }),
                "source_port_range": "*",
                "destination_address_prefix": .string(range),
                "destination_port_ranges": .list(ports),
            ]),
        ]
        let adminCIDRs = stack.security?.adminCIDRs ?? []
        if !adminCIDRs.isEmpty {
            rules.append(.map([
                "name": "allow-admin-ssh",
                "description": "SSH from security.admin_cidrs",
                "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "source_address_prefixes": .list(adminCIDRs.map { .string($0) }),
                "source_port_range": "*",
                "destination_address_prefix": .string(range),
                "destination_port_range": "22",
            ]))
        }
        rules.append(.map([
            "name": "deny-maif-and-ssh-elsewhere",
            "description": "nobody else reaches MAIF or SSH",
            "priority": 4000, "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
            "source_address_prefix": "*",
            "source_port_range": "*",
            "destination_address_prefix": "*",
            "destination_port_ranges": .list(ports + ["22"]),
        ]))
        return rules
    }

    // MARK: Sizing

    /// The cluster's `vm_size`, else multi_cloud's, else the smallest Dsv3/Esv3 size that fits the node's resources,
    /// else the guide's Standard_D16s_v3.
    static func vmSize(for node: Node, cluster: Cluster, deployment: CloudDeployment?) -> (String, String?) {
        SizeCatalogue(sizes: vmSizes, family: "Dsv3 or Esv3 size")
            .size(for: node, configured: cluster.vmSize ?? deployment?.size, fallback: defaultVMSize)
    }

    /// Dsv3 has 4 GiB per vCPU, Esv3 8 (but E64s_v3 432 GiB).
    static let vmSizes: [(name: String, vcpus: Double, memoryGiB: Double)] = {
        var out: [(String, Double, Double)] = []
        for v in [2, 4, 8, 16, 32, 48, 64] { out.append(("Standard_D\(v)s_v3", Double(v), Double(v * 4))) }
        for v in [2, 4, 8, 16, 20, 32, 48, 64] { out.append(("Standard_E\(v)s_v3", Double(v), v == 64 ? 432 : Double(v * 8))) }
        return out
    }()

    /// The node's storage, else vertical scaling's minimum, else 1Ti; in GiB, rounded up.
    static func diskGiB(_ node: Node, _ stack: Stack) -> Int64 {
        let size = node.resources.storage ?? stack.autoscaling?.vertical?.storage.flatMap { ByteSize(parsing: $0.min) }
        guard let size else { return defaultDiskGiB }
        return max(30, Int64(size.gibibytes.rounded(.up)))
    }

    static func retentionDays(_ stack: Stack) -> Int {
        let seconds = (stack.highAvailability?.retentionPeriod ?? .seconds(30 * 86_400)).seconds
        return max(1, Int((seconds / 86_400).rounded(.up)))
    }

    // MARK: Hosts and custom data

    /// The cluster with each node's host filled in: an IPv4 host stays (a static private address), otherwise the VM's
    /// computer name, which Azure's DNS resolves inside the virtual network.
    static func withHosts(_ cluster: Cluster, base: String) -> Cluster {
        var c = cluster
        for i in c.nodes.indices where c.nodes[i].host == nil { c.nodes[i].host = resourceName(base, c.nodes[i].id) }
        return c
    }

    /// cloud-init for Ubuntu: installs Docker, writes cluster.yaml and node.yaml, starts the MAIF container (which
    /// Docker restarts at every boot).
    static func cloudConfig(stack: Stack, cluster: Cluster, node: Node, address: ResourceAddress, clusterYAML: String) -> String {
        let nodeYAML = ClusterConfig.nodeYAML(stack: stack, cluster: cluster, node: node, address: address, host: node.host)
        func block(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.isEmpty ? "" : "      " + $0 }
                .joined(separator: "\n")
        }
        let run = ["docker", "run", "-d", "--name", "maif", "--restart", "unless-stopped", "--network", "host",
                   "-v", "/etc/maif:/etc/maif:ro", "-v", "/var/lib/maif:/var/lib/maif",
                   "-e", "MAIF_NODE_ID=\(node.id)", "-e", "MAIF_CLUSTER_NAME=\(cluster.name)",
                   "-e", "MAIF_CLUSTER_CONFIG=/etc/maif/cluster.yaml", cluster.image ?? defaultContainerImage]
        let commands = [["systemctl", "enable", "--now", "docker"], ["mkdir", "-p", "/var/lib/maif"], run]
        return """
            #cloud-config
            # Generated by maifctl from stack \(stack.meta.name) for \(address); cloud-init applies it at first boot.
            package_update: true
            packages:
              - docker.io
            write_files:
              - path: /etc/maif/cluster.yaml
                permissions: "0644"
                content: |
            \(block(clusterYAML))
              - path: /etc/maif/node.yaml
                permissions: "0644"
                content: |
            \(block(nodeYAML))
            runcmd:
            \(commands.map { "  - [" + $0.map(YAMLText.quoted).joined(separator: ", ") + "]" }.joined(separator: "\n"))

            """
    }

    // MARK: Names

    /// "East US" → "eastus", the ARM location name.
    static func armLocation(_ region: String) -> String {
        String(region.lowercased().filter { !$0.isWhitespace })
    }

    /// An ARM resource name: letters, digits and '-', lowercase, at most 64 characters.
    static func resourceName(_ parts: String...) -> String {
        var s = String(parts.joined(separator: "-").lowercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber)) ? c : "-"
        })
        if s.count > 64 {
            let hash = String(Networks.stableHash(s), radix: 16)
            s = String(s.prefix(55)) + "-" + String(repeating: "0", count: 8 - hash.count) + hash
        }
        while s.hasSuffix("-") { s.removeLast() }
        return s
    }

    /// Storage account names are global: the stack and target in letters and digits, plus a hash of both.
    static func derivedAccountName(stack: Stack, target: BackupTarget) -> String {
        let letters = (stack.meta.name + target.name).lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        let hash = String(Networks.stableHash("\(stack.meta.name)/\(target.name)"), radix: 16)
        return String(letters.prefix(16)) + String(repeating: "0", count: 8 - hash.count) + hash
    }

    /// A resource address part from a free-form name: letters, digits, '-' and '_'.
    static func addressName(_ name: String) -> String {
        String(name.map { c -> Character in (c.isASCII && (c.isLetter || c.isNumber)) || c == "-" || c == "_" ? c : "-" })
    }

    static func isStorageAccountName(_ name: String) -> Bool {
        (3...24).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
    }

    static func isContainerName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let f = name.first, f.isASCII && (f.isLowercase || f.isNumber),
              !name.hasSuffix("-"), !name.contains("--") else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
}

extension AzureExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .vm && cluster.cloud == .azure }
    static var backupKinds: Set<BackupTargetKind> { [.azureBlob] }
}
