/// What a VM node needs to run MAIF, as the cloud-init `#cloud-config` its user data carries: /etc/maif/cluster.yaml
/// (and the TLS settings file the on-prem nodes get), the node's systemd unit running the stack's image in a container
/// (NodeUnit, the on-prem shape), the backup timers of the schedule, and the commands that install Docker when the
/// image lacks it and start everything. Shared by the VM clouds; each gives its own subnets and reserved addresses.

import StackModel

enum VMBootstrap {
    // MARK: Addresses

    /// A node's private address, known at plan time so that every cluster.yaml names its peers truly.
    struct NodeAddress: Equatable {
        var address: String
        /// The stack's `host` when it lay outside the node's subnet (the address then keeps its host part).
        var movedFrom: String?
    }

    /// Each node's address in its subnet: the stack's `host` when it lies in the subnet and is free, otherwise the same
    /// host part (the last octet, in a /24) moved into the subnet, otherwise the first free address from `.10` on.
    /// `reservedLow`/`reservedHigh` are the addresses the cloud keeps at the start and end of every subnet (AWS: 4, 1).
    static func addresses(of nodes: [Node], subnet: (Node) -> String, reservedLow: UInt32 = 4, reservedHigh: UInt32 = 1) -> [String: NodeAddress] {
        var taken: [String: Set<UInt32>] = [:]
        var out: [String: NodeAddress] = [:]
        func usable(_ ip: UInt32, in cidr: CIDR) -> Bool {
            cidr.contains(ip) && ip >= cidr.base + reservedLow && ip <= cidr.broadcast - reservedHigh && !(taken[cidr.text]?.contains(ip) ?? false)
        }
        // Nodes whose host already fits keep it first, so a moved address never takes a written one.
        let fits = nodes.filter { node in
            guard let cidr = CIDR(subnet(node)), let ip = node.host.flatMap(CIDR.parse) else { return false }
            return cidr.contains(ip)
        }
        for node in fits {
            let cidr = CIDR(subnet(node))!, ip = CIDR.parse(node.host!)!
            if usable(ip, in: cidr) {
                taken[cidr.text, default: []].insert(ip)
                out[node.id] = NodeAddress(address: node.host!, movedFrom: nil)
            }
        }
        for node in nodes where out[node.id] == nil {
            guard let cidr = CIDR(subnet(node)) else { continue }
            var candidate: UInt32
            if let ip = node.host.flatMap(CIDR.parse) {
                candidate = cidr.base | (ip & ~cidr.mask)
            } else {
                candidate = cidr.base + 10
            }
            var tries: UInt32 = 0
            while !usable(candidate, in: cidr), tries <= cidr.size {
                candidate = candidate >= cidr.broadcast - reservedHigh ? cidr.base + reservedLow : candidate + 1
                tries += 1
            }
            guard tries <= cidr.size else { continue }
            taken[cidr.text, default: []].insert(candidate)
            let moved = node.host.map { $0 != CIDR.format(candidate) } == true ? node.host : nil
            out[node.id] = NodeAddress(address: CIDR.format(candidate), movedFrom: moved)
        }
        return out
    }

    /// The warning for a node whose `host` could not be its address, pointing at that key.
    static func movedWarning(_ node: Node, address: NodeAddress, subnet: String, place: String, cluster: Cluster, in stack: Stack) -> Diagnostic? {
        guard let from = address.movedFrom else { return nil }
        let index = stack.clusters.firstIndex { $0.name == cluster.name }
        let nodeIndex = cluster.nodes.firstIndex { $0.id == node.id }
        let location = index.flatMap { i in nodeIndex.flatMap { stack.location(of: "clusters[\(i)].nodes[\($0)].host") } } ?? node.location
        return .warning("vm-node-host-outside-subnet",
                        "node '\(node.id)' has host \(from), which is not a free address of its subnet \(subnet) (\(place)); it gets \(address.address), and cluster.yaml names that address",
                        hint: "write host: \(address.address) (or put the node in the zone whose subnet holds \(from))", at: location)
    }

    // MARK: cloud-config

    /// The node's files and units, and the #cloud-config that writes and starts them.
    struct NodeConfig {
        let stack: Stack
        let cluster: Cluster
        let node: Node
        let clusterYAML: String
        /// The resource the user data belongs to, named in the generated files.
        let managedBy: String
        /// What a platform adds for its own agents: files written after the node's, commands run after MAIF starts.
        var platformFiles: [(path: String, mode: String, content: String)] = []
        var platformCommands: [[String]] = []
        /// Cloud-config sections a platform needs before the files are written (Azure: format and mount the data disk
        /// at the data directory); empty on AWS and GCP, whose boot disk holds the data.
        var storageSetup: String = ""

        var image: String { ContainerWorkload.image(cluster) }
        var configPath: String { NodeUnit.configDirectory + "/cluster.yaml" }
        var tlsPath: String? { NodeUnit.tlsSettings(stack: stack, node: node) == nil ? nil : NodeUnit.configDirectory + "/tls.yaml" }

        var unit: NodeUnit {
            NodeUnit(stack: stack, cluster: cluster, node: node, managedBy: managedBy, configPath: configPath, tlsPath: tlsPath,
                     runner: .container(image: image))
        }

        var backupJobs: [BackupJob] { Backups.jobs(for: cluster, in: stack) }

        /// The backup units: `docker run` of the image with the node's config and data, `maif backup …`.
        func backupUnits() -> [(name: String, content: String)] {
            let passed = ContainerWorkload.backupCredentials(stack).map(\.key)
            return backupJobs.flatMap { job in
                let exec = [NodeUnit.dockerBinary, "run", "--rm", "--network", "host",
                            "-v", "\(NodeUnit.configDirectory):\(NodeUnit.configDirectory):ro",
                            "-v", "\(NodeUnit.dataDirectory):\(ContainerWorkload.dataDirectory):ro"]
                    + passed.flatMap { ["-e", $0] } + [image, "maif"]
                    + Backups.arguments(job, stack: stack, cluster: cluster, node: node, configPath: configPath)
                return Backups.systemdUnits(job, stack: stack, cluster: cluster, node: node, managedBy: managedBy,
                                            execStart: exec, runsAsMAIF: false)
            }
        }

        /// Every file the node gets: path, mode, content.
        func files() -> [(path: String, mode: String, content: String)] {
            var files: [(String, String, String)] = [(configPath, "0640", clusterYAML)]
            if let tls = NodeUnit.tlsSettings(stack: stack, node: node), let tlsPath { files.append((tlsPath, "0640", tls)) }
            files.append(("/etc/systemd/system/maif.service", "0644", unit.render()))
            for unit in backupUnits() { files.append(("/etc/systemd/system/\(unit.name)", "0644", unit.content)) }
            files += platformFiles.map { ($0.path, $0.mode, $0.content) }
            return files
        }

        /// Docker from the distribution when the image has none (Amazon Linux: dnf; Debian and Ubuntu: apt).
        static let installRuntime = "command -v docker >/dev/null 2>&1 || dnf install -y docker || yum install -y docker || (apt-get update && apt-get install -y docker.io)"

        func cloudConfig() -> String {
            var out = "#cloud-config\n"
            out += "# MAIF node \(node.id) of cluster \(cluster.name), stack \(stack.meta.name) (\(managedBy)): generated by maifctl, run by cloud-init at first boot.\n"
            out += storageSetup
            out += "write_files:\n"
            for file in files() {
                out += "  - path: \(file.path)\n"
                out += "    owner: root:root\n"
                out += "    permissions: \"\(file.mode)\"\n"
                out += "    content: " + Self.block(file.content, indent: 6)
            }
            let timers = backupJobs.map { "\($0.name).timer" }
            let commands: [[String]] = [
                ["sh", "-c", Self.installRuntime],
                ["mkdir", "-p", NodeUnit.dataDirectory],
                ["systemctl", "daemon-reload"],
                ["systemctl", "enable", "--now", "docker.service"],
                ["systemctl", "enable", "--now", "maif.service"] + timers,
            ] + platformCommands
            out += "runcmd:\n"
            for command in commands {
                out += "  - [" + command.map { YAMLText.quoted($0) }.joined(separator: ", ") + "]\n"
            }
            return out
        }

        /// A literal block scalar (`|`, or `|-` without a final newline), each line indented.
        static func block(_ text: String, indent: Int) -> String {
            let pad = String(repeating: " ", count: indent)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let endsWithNewline = text.hasSuffix("\n")
            if endsWithNewline { lines.removeLast() }
            let indicator = (lines.first?.first == " " ? "2" : "") + (endsWithNewline ? "" : "-")
            return "|\(indicator)\n" + lines.map { $0.isEmpty ? "" : pad + $0 }.map { $0 + "\n" }.joined()
        }
    }
}

/// An IPv4 network in CIDR form, for the address arithmetic above.
struct CIDR {
    let base: UInt32
    let prefix: UInt32
    let text: String

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let ip = Self.parse(String(parts[0])), let prefix = UInt32(parts[1]), prefix <= 32 else { return nil }
        self.prefix = prefix
        self.base = ip & (prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix))
        self.text = text
    }

    var mask: UInt32 { prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix) }
    var size: UInt32 { prefix == 0 ? UInt32.max : (UInt32(1) << (32 - prefix)) - 1 }
    var broadcast: UInt32 { base | ~mask }
    func contains(_ ip: UInt32) -> Bool { ip & mask == base }

    static func parse(_ text: String) -> UInt32? {
        guard let octets = Networks.ipv4(text) else { return nil }
        return octets.reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func format(_ ip: UInt32) -> String {
        [24, 16, 8, 0].map { String((ip >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}

extension VMBootstrap {
    /// The node an auto-scaled instance runs: its id is its host name (systemd's `%H`, unique per instance), its port
    /// the cluster's first, its role secondary when the cluster has secondaries, its resources the largest named node's.
    static func scaledNode(of cluster: Cluster, port: Int) -> Node {
        let largest = cluster.nodes.max { ($0.resources.cpu ?? 0, $0.resources.memory?.bytes ?? 0) < ($1.resources.cpu ?? 0, $1.resources.memory?.bytes ?? 0) }
        return Node(id: "%H", port: port, role: cluster.nodes.contains { $0.role == .secondary } ? .secondary : (largest?.role ?? .secondary),
                    resources: largest?.resources ?? NodeResources())
    }

    // MARK: Alerting on the first node

    /// The alert rules and the Alertmanager route of a cluster on a VM cloud without a cloud alarm service that notifies
    /// (Azure: its metric alerts have no action group): the same files the on-prem provider writes on a cluster's first
    /// host (Alerting), as files of the first node's cloud-config, for the Prometheus and Alertmanager that load them there.
    static func alertingFiles(_ files: Alerting.Files) -> [(path: String, mode: String, content: String)] {
        [(alertingPath(Alerting.rulesFile), "0644", files.rules), (alertingPath(Alerting.alertmanagerFile), "0644", files.alertmanager)]
    }

    /// Where on a VM node an alerting file is written (`/etc/maif/alerting/<file>`); the directory itself for "".
    static func alertingPath(_ file: String) -> String {
        NodeUnit.configDirectory + "/" + Alerting.directoryName + "/" + file
    }
}
