/// Expansion onto the `azure` provider's resource types. A VM cluster becomes a resource group, a virtual network with
/// one subnet, a network security group, one network interface and one Ubuntu VM (managed OS and data disks, custom data
/// that is the shared VMBootstrap cloud-config: cluster.yaml, TLS settings, the node's unit, the backup timers) per node, a Standard load balancer with the health
/// probe of `load_balancing` (AzureExpansion+Balancing), a scale set and its autoscale setting for `autoscaling`
/// (+Scaling) and a metric alert per alert rule (+Monitoring). `geo_routing` over Azure clusters becomes a Traffic
/// Manager profile (+Routing); an `azure_blob` backup target a storage account and a blob container (+Storage).
///
/// What Azure cannot express of a stack value is a warning with a stable `azure-…` code at the stack key, and a line
/// in docs/platforms.md. The provider adds its owner tags (`maif-stack`, `maif-address`) when it plans.

import ProviderKit
import StackModel

enum AzureExpansion {
    /// The guide's Azure size and disk.
    static let defaultVMSize = "Standard_D16s_v3"
    static let defaultDiskType = "Premium_LRS"
    static let osDiskTypes = ["Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS"]
    /// The OS disk holds the system and Docker; MAIF's data lives on a data disk of the node's size.
    static let osDiskGiB: Int64 = 64
    static let maxDataDiskGiB: Int64 = 32_767
    static let imageReference: AttributeValue = .map([
        "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest",
    ])
    static let adminUsername = "maif"
    /// The guide's per-node volume (1Ti) when neither the node nor vertical scaling gives a size.
    static let defaultDiskGiB: Int64 = 1024

    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        guard let basics = VMClusterBasics.check(cluster, in: stack, cloud: .azure, defaultDiskType: defaultDiskType, diskTypes: osDiskTypes,
                                                 diskTypeWhat: "a managed disk type an OS disk can use", into: &out) else { return out }
        out += AzureClusterExpansion(stack: stack, cluster: cluster, basics: basics).expand()
        return out
    }

    static func reference(_ address: ResourceAddress, _ attribute: String) -> AttributeValue {
        .string("${\(address).\(attribute)}")
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
        return max(4, Int64(size.gibibytes.rounded(.up)))
    }

    static func retentionDays(_ stack: Stack) -> Int {
        let seconds = (stack.highAvailability?.retentionPeriod ?? .seconds(30 * 86_400)).seconds
        return max(1, Int((seconds / 86_400).rounded(.up)))
    }

    /// An ISO 8601 duration in whole minutes, at least `minimum`: PT5M.
    static func minutes(_ span: TimeSpan, minimum: Int = 1) -> String {
        "PT\(max(minimum, Int((span.seconds / 60).rounded(.up))))M"
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

    /// A name that must be unique beyond the subscription (a DNS label, a Traffic Manager name): `prefix` plus a hash of
    /// `seed`, lowercase letters, digits and '-', at most `limit` characters, starting with a letter.
    static func globalName(_ prefix: String, seed: String, limit: Int = 63) -> String {
        let hash = String(Networks.stableHash(seed), radix: 16)
        var head = resourceName(prefix)
        if let first = head.first, !first.isLetter { head = "m" + head }
        let suffix = "-" + String(repeating: "0", count: 8 - hash.count) + hash
        head = String(head.prefix(limit - suffix.count))
        while head.hasSuffix("-") { head.removeLast() }
        return head + suffix
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

/// One VM cluster on Azure: its location, names, addresses and the values its resources share.
struct AzureClusterExpansion {
    let stack: Stack
    let cluster: Cluster
    let region: String
    let range: String
    let diskType: String
    let location: String
    /// `<stack>-<cluster>`: the prefix of every ARM name.
    let base: String
    /// The cluster with each node's host filled in (see `withHosts`).
    let hosted: Cluster
    let clusterYAML: String
    let loadBalancing: LoadBalancing
    let deployment: CloudDeployment?

    init(stack: Stack, cluster: Cluster, basics: VMClusterBasics) {
        self.stack = stack
        self.cluster = cluster
        region = basics.region
        range = basics.range
        diskType = basics.diskType
        location = AzureExpansion.armLocation(basics.region)
        base = AzureExpansion.resourceName(stack.meta.name, cluster.name)
        hosted = Self.withHosts(cluster, base: base)
        clusterYAML = ClusterConfig.render(stack: stack, cluster: hosted)
        loadBalancing = stack.loadBalancing ?? LoadBalancing()
        deployment = stack.multiCloud?.deployments.first { $0.cloud == .azure }
    }

    /// The cluster with each node's host filled in: an IPv4 host stays (a static private address), otherwise the VM's
    /// computer name, which Azure's DNS resolves inside the virtual network.
    static func withHosts(_ cluster: Cluster, base: String) -> Cluster {
        var c = cluster
        for i in c.nodes.indices where c.nodes[i].host == nil { c.nodes[i].host = AzureExpansion.resourceName(base, c.nodes[i].id) }
        return c
    }

    func expand() -> PlatformOutput {
        var out = PlatformOutput()
        out.resources += network()
        out += loadBalancer()
        out += nodes()
        out += scaleSet()
        out += alerts()
        if stack.clouds["azure"]?["admin_ssh_public_key"] == nil {
            out.diagnostics.append(.warning("azure-vm-admin-key-missing",
                "Azure refuses a Linux VM without an SSH key or a password; the VMs of cluster '\(cluster.name)' get neither",
                hint: "set clouds.azure.admin_ssh_public_key, e.g. {file: ~/.ssh/id_ed25519.pub}",
                at: stack.clouds["azure"]?.location ?? cluster.location))
        }
        return out
    }

    // MARK: Addresses

    func address(_ kind: String, _ parts: String...) -> ResourceAddress {
        ResourceAddress(provider: "azure", kind: kind, name: ([cluster.name] + parts).joined(separator: "."))
    }

    var group: ResourceAddress { address("resource_group") }
    var vnet: ResourceAddress { address("virtual_network") }
    var subnet: ResourceAddress { address("subnet") }
    var nsg: ResourceAddress { address("network_security_group") }
    var balancerIP: ResourceAddress { address("public_ip", "lb") }
    var balancer: ResourceAddress { address("load_balancer") }
    func nic(_ node: Node) -> ResourceAddress { address("network_interface", node.id) }
    func vm(_ node: Node) -> ResourceAddress { address("vm", node.id) }
    var scaleSetAddress: ResourceAddress { address("vm_scale_set") }
    var autoscale: ResourceAddress { address("autoscale_setting") }

    func ref(_ address: ResourceAddress, _ attribute: String) -> AttributeValue { AzureExpansion.reference(address, attribute) }
    var groupName: AttributeValue { ref(group, "name") }

    /// A resource of the cluster's resource group and location.
    func resource(_ address: ResourceAddress, _ config: [String: AttributeValue], origin: SourceLocation?) -> DesiredResource {
        var config = config
        config["resource_group_name"] = groupName
        if config["location"] == nil { config["location"] = .string(location) }
        return DesiredResource(address: address, config: config, origin: origin)
    }

    /// The pool every node (and every scale set instance) joins.
    var backendPool: AttributeValue { .string("${\(balancer).id}/backendAddressPools/\(Self.poolName)") }
    static let poolName = "nodes"

    /// The MAIF ports the nodes listen on; the first is the load balancer's.
    var ports: [Int] {
        var seen: [Int] = []
        for node in cluster.nodes where !seen.contains(node.port) { seen.append(node.port) }
        return seen.isEmpty ? [8080] : seen
    }

    var tls: Bool { stack.security?.tls ?? false }

    /// Public unless the hybrid section registers this cluster on a private network.
    var internetFacing: Bool {
        stack.hybrid?.clusters.first { ($0.cluster ?? $0.name) == cluster.name }.map { $0.network != "private" } ?? true
    }

    // MARK: Network

    func network() -> [DesiredResource] {
        let soleAzureCluster = stack.clusters.filter { $0.cloud == .azure && $0.platform == .vm }.count == 1
        // multi_cloud names the virtual network (the guide's `vnet-prod`) when one cluster uses it.
        let vnetName = soleAzureCluster ? deployment?.networking.map { AzureExpansion.resourceName($0) } ?? "\(base)-vnet" : "\(base)-vnet"
        return [
            DesiredResource(address: group, config: ["name": .string("\(base)-rg"), "location": .string(location)], origin: cluster.location),
            resource(vnet, [
                "name": .string(vnetName),
                "address_space": .map(["address_prefixes": .list([.string(range)])]),
            ], origin: cluster.location),
            resource(nsg, [
                "name": .string("\(base)-nsg"),
                "security_rules": .list(securityRules()),
            ], origin: stack.security?.location ?? cluster.location),
            DesiredResource(address: subnet, config: [
                "name": "maif",
                "resource_group_name": groupName,
                "virtual_network_name": ref(vnet, "name"),
                "address_prefix": .string(range),
                "network_security_group": .map(["id": ref(nsg, "id")]),
            ], origin: cluster.location),
        ]
    }

    /// MAIF's ports from the cluster's network and its peers, from Azure's load balancer (its health probes), and — for
    /// an internet-facing cluster — from clients through the load balancer (the VMs have no public address of their
    /// own); SSH from the admin ranges; both denied from anywhere else (the default rules would let the whole virtual
    /// network and its VPN peers in).
    func securityRules() -> [AttributeValue] {
        let ports = ports.map { AttributeValue.string(String($0)) }
        func rule(_ name: String, _ description: String, _ priority: Int64, _ access: String, _ sources: [String],
                  destination: String, ports: [AttributeValue]) -> AttributeValue {
            var r: [String: AttributeValue] = [
                "name": .string(name), "description": .string(description), "priority": .int(priority),
                "direction": "Inbound", "access": .string(access), "protocol": "Tcp", "source_port_range": "*",
                "destination_address_prefix": .string(destination),
            ]
            if sources.count == 1 { r["source_address_prefix"] = .string(sources[0]) } else { r["source_address_prefixes"] = .list(sources.map { .string($0) }) }
            if ports.count == 1 { r["destination_port_range"] = ports[0] } else { r["destination_port_ranges"] = .list(ports) }
            return .map(r)
        }
        var rules = [
            rule("allow-maif", "MAIF from the cluster and its peers", 100, "Allow", [range] + Networks.peerRanges(of: cluster, in: stack),
                 destination: range, ports: ports),
            rule("allow-lb-probes", "the load balancer's health probes", 105, "Allow", ["AzureLoadBalancer"], destination: range, ports: ports),
        ]
        let adminCIDRs = stack.security?.adminCIDRs ?? []
        if !adminCIDRs.isEmpty {
            rules.append(rule("allow-admin-ssh", "SSH from security.admin_cidrs", 110, "Allow", adminCIDRs, destination: range, ports: ["22"]))
        }
        if internetFacing {
            rules.append(rule("allow-maif-clients", "MAIF clients through the load balancer (the VMs have no public address)", 120, "Allow",
                              ["Internet"], destination: range, ports: [.string(String(self.ports[0]))]))
        }
        rules.append(rule("deny-maif-and-ssh-elsewhere", "nobody else reaches MAIF or SSH", 4000, "Deny", ["*"], destination: "*",
                          ports: ports + ["22"]))
        return rules
    }

    // MARK: Nodes

    func nodes() -> PlatformOutput {
        var out = PlatformOutput()
        for node in hosted.nodes {
            let name = AzureExpansion.resourceName(base, node.id)
            let (vmSize, sizeProblem) = AzureExpansion.vmSize(for: node, cluster: cluster, deployment: deployment)
            if let sizeProblem { out.diagnostics.append(.error("no-vm-size", sizeProblem, hint: "set vm_size on the cluster", at: node.location)) }
            let diskGiB = AzureExpansion.diskGiB(node, stack)
            if diskGiB > AzureExpansion.maxDataDiskGiB {
                out.diagnostics.append(.error("disk-too-large", "node '\(node.id)' asks for \(diskGiB) GiB of storage; an Azure managed data disk holds at most \(AzureExpansion.maxDataDiskGiB) GiB",
                                              hint: "lower resources.storage", at: node.location))
            }
            var ipConfiguration: [String: AttributeValue] = [
                "name": "ipconfig1",
                "primary": true,
                "subnet": .map(["id": ref(subnet, "id")]),
                "private_ip_allocation_method": "Dynamic",
                "load_balancer_backend_address_pools": .list([.map(["id": backendPool])]),
            ]
            if let host = node.host, Networks.ipv4(host) != nil {
                ipConfiguration["private_ip_allocation_method"] = "Static"
                ipConfiguration["private_ip_address"] = .string(host)
            }
            out.resources.append(resource(nic(node), [
                "name": .string("\(name)-nic"),
                "ip_configurations": .list([.map(ipConfiguration)]),
            ], origin: node.location))

            var config: [String: AttributeValue] = [
                "name": .string(name),
                "hardware_profile": .map(["vm_size": .string(vmSize)]),
                "storage_profile": storageProfile(osDisk: "\(name)-os", dataDisk: "\(name)-data", dataGiB: diskGiB),
                "os_profile": .map([
                    "computer_name": .string(name),
                    "admin_username": .string(AzureExpansion.adminUsername),
                    "custom_data": .string(cloudConfig(node: node)),
                    "linux_configuration": .map(["disable_password_authentication": true]),
                ]),
                "network_profile": .map([
                    "network_interfaces": .list([.map(["id": ref(nic(node), "id"), "primary": true, "delete_option": "Detach"])]),
                ]),
                "tags": .map(["maif-cluster": .string(cluster.name), "maif-node": .string(node.id), "maif-role": .string(node.role.rawValue)]),
                // The node's private address and port, for `maifctl output` (recorded by the provider, never sent).
                "endpoint": .string(node.host.flatMap { Networks.ipv4($0) == nil ? nil : $0 }.map { "\($0):\(node.port)" }
                                    ?? "${\(nic(node)).private_ip_address}:\(node.port)"),
            ]
            if let zone = node.zone, ["1", "2", "3"].contains(zone) { config["zones"] = .list([.string(zone)]) }
            out.resources.append(resource(vm(node), config, origin: node.location))
        }
        return out
    }

    /// Ubuntu on a managed OS disk, MAIF's data on a managed data disk (LUN 0) that cloud-init formats and mounts.
    func storageProfile(osDisk: String?, dataDisk: String?, dataGiB: Int64) -> AttributeValue {
        var os: [String: AttributeValue] = [
            "create_option": "FromImage", "caching": "ReadWrite", "disk_size_gb": .int(AzureExpansion.osDiskGiB),
            "managed_disk": .map(["storage_account_type": .string(diskType)]),
        ]
        var data: [String: AttributeValue] = [
            "lun": 0, "create_option": "Empty", "caching": "ReadOnly", "disk_size_gb": .int(dataGiB),
            "managed_disk": .map(["storage_account_type": .string(diskType)]),
        ]
        if let osDisk { os["name"] = .string(osDisk); os["delete_option"] = "Delete" }
        if let dataDisk { data["name"] = .string(dataDisk); data["delete_option"] = "Delete" }
        return .map(["image_reference": AzureExpansion.imageReference, "os_disk": .map(os), "data_disks": .list([.map(data)])])
    }
}
