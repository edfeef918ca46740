/// Expansion onto the `onprem` provider's resource types: per node, the host reached over SSH, /etc/maif with the
/// guide's cluster.yaml and a file naming the TLS material (paths only: certificates are the site's PKI's business),
/// and a systemd unit running the node; per `onprem` backup target, its directory on the backup host.

import ProviderKit
import StackModel

enum OnPremExpansion {
    static let configDirectory = "/etc/maif"
    static let tlsDirectory = "/etc/maif/tls"
    static let binary = "/usr/local/bin/maif"
    /// The account the service runs as; configuration is readable by its group.
    static let serviceUser = "maif"

    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        let clusterYAML = ClusterConfig.render(stack: stack, cluster: cluster)
        if let image = cluster.image {
            let index = stack.clusters.firstIndex { $0.name == cluster.name } ?? 0
            out.diagnostics.append(.warning("onprem-image-unused",
                                            "on-prem cluster '\(cluster.name)' runs the MAIF binary installed at \(binary) on each host; its image '\(image)' is not pulled or run",
                                            hint: "install the release the image carries on the hosts, or remove `image` from the cluster",
                                            at: stack.location(of: "clusters[\(index)].image") ?? cluster.location))
        }
        if let h = stack.autoscaling?.horizontal {
            out.diagnostics.append(.warning("autoscaling-not-applied",
                                            "on-prem cluster '\(cluster.name)' runs on its \(cluster.nodes.count) listed hosts; autoscaling.horizontal cannot add or remove hosts",
                                            hint: "MAIF still reads the policies in cluster.yaml; add hosts to the cluster's nodes to grow it",
                                            at: h.location))
        }
        for node in cluster.nodes {
            guard let host = node.host else {
                out.diagnostics.append(.error("onprem-node-without-host", "node '\(node.id)' of on-prem cluster '\(cluster.name)' has no host",
                                              hint: "give it the address maifctl reaches it at over SSH, e.g. `host: 10.0.1.10`", at: node.location ?? cluster.location))
                continue
            }
            out.resources += OnPremNode(stack: stack, cluster: cluster, node: node, host: host).resources(clusterYAML: clusterYAML)
        }
        return out
    }

    /// An `onprem` backup target: a directory only root can enter, on the target's host (a node's host resource
    /// when the backups live on a node, otherwise a host resource of its own).
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        guard let hostName = target.host else {
            return PlatformOutput(diagnostics: [.error("onprem-backup-without-host", "backup target '\(target.name)' of type onprem has no host",
                                                       hint: "add `host: <address>` of the machine that keeps the backups", at: target.location)])
        }
        var out = PlatformOutput()
        let hostAddress: ResourceAddress
        if let owner = stack.allNodes.first(where: { $0.cluster.platform == .onprem && $0.node.host == hostName }) {
            hostAddress = OnPremNode.address("host", cluster: owner.cluster, node: owner.node)
        } else {
            hostAddress = ResourceAddress(provider: "onprem", kind: "host", name: target.name)
            out.resources.append(DesiredResource(address: hostAddress, config: hostConfig(hostName, stack: stack, address: hostAddress),
                                                 origin: target.location))
        }
        let address = ResourceAddress(provider: "onprem", kind: "directory", name: target.name)
        out.resources.append(DesiredResource(address: address, config: [
            "host": .string("${\(hostAddress).address}"),
            "path": .string(target.path ?? "/var/backups/maif"),
            "mode": "0700",
            "owner": "root:root",
        ], origin: target.location))
        return out
    }

    /// SSH settings from `clouds.onprem`; a user other than root makes its changes through sudo.
    static func hostConfig(_ host: String, stack: Stack, address: ResourceAddress) -> [String: AttributeValue] {
        let settings = stack.clouds["onprem"]
        var config: [String: AttributeValue] = [
            "address": .string(host),
            "port": .int(Int64(settings?.int("port") ?? 22)),
        ]
        if let user = settings?.string("user") {
            config["user"] = .string(user)
            config["become"] = .bool(user != "root")
        }
        if let jump = settings?.string("jump_host") { config["jump_host"] = .string(jump) }
        return config
    }
}

/// One node of an on-prem cluster and what maifctl puts on its host.
struct OnPremNode {
    let stack: Stack
    let cluster: Cluster
    let node: Node
    let host: String

    static func address(_ kind: String, cluster: Cluster, node: Node, _ suffix: String? = nil) -> ResourceAddress {
        ResourceAddress(provider: "onprem", kind: kind, name: ([cluster.name, node.id] + (suffix.map { [$0] } ?? [])).joined(separator: "."))
    }

    func address(_ kind: String, _ suffix: String? = nil) -> ResourceAddress { Self.address(kind, cluster: cluster, node: node, suffix) }

    func resources(clusterYAML: String) -> [DesiredResource] {
        let hostAddress = address("host"), directory = address("directory", "etc-maif")
        let hostRef = AttributeValue.string("${\(hostAddress).address}")
        var out = [
            DesiredResource(address: hostAddress, config: OnPremExpansion.hostConfig(host, stack: stack, address: hostAddress), origin: node.location),
            DesiredResource(address: directory, config: [
                "host": hostRef, "path": .string(OnPremExpansion.configDirectory), "mode": "0750",
                "owner": .string("root:\(OnPremExpansion.serviceUser)"),
            ], origin: node.location),
        ]
        // Files and the unit depend on what they need through references, so the graph orders them.
        var files: [(name: String, address: ResourceAddress, content: String)] = [("cluster.yaml", address("file", "cluster-yaml"), clusterYAML)]
        if let tls = tlsReferences() { files.append(("tls.yaml", address("file", "tls-yaml"), tls)) }
        for file in files {
            out.append(DesiredResource(address: file.address, config: [
                "host": hostRef, "path": .string("${\(directory).path}/\(file.name)"), "content": .string(file.content),
                "mode": "0640", "owner": .string("root:\(OnPremExpansion.serviceUser)"),
            ], origin: node.location))
        }

        let unit = address("systemd_unit", "maif")
        let paths = Dictionary(uniqueKeysWithValues: files.map { ($0.name, "${\($0.address).path}") })
        out.append(DesiredResource(address: unit, config: [
            "host": hostRef,
            "name": "maif.service",
            "content": .string(unitFile(configPath: paths["cluster.yaml"]!, tlsPath: paths["tls.yaml"])),
            "enabled": true,
            "state": "started",
            // The node reads its files only at start: a new version of one restarts it.
            "restart_triggers": .map(Dictionary(uniqueKeysWithValues: files.map { ($0.name, .string(Digest.sha256($0.content))) })),
        ], origin: node.location))
        return out
    }

    /// Where the node finds its certificate, key and CA: provisioned on the host, never carried by maifctl.
    func tlsReferences() -> String? {
        guard let security = stack.security, security.tls else { return nil }
        let dir = OnPremExpansion.tlsDirectory
        return "# Generated by maifctl from stack \(stack.meta.name); TLS material is provisioned on the host, not by maifctl.\n"
            + YAMLText.object([
                ("tls", .object([
                    ("enabled", .bool(true)),
                    ("cert_file", .scalar("\(dir)/\(node.id).crt")),
                    ("key_file", .scalar("\(dir)/\(node.id).key")),
                    ("ca_file", .scalar("\(dir)/ca.crt")),
                    ("client_authentication", YAMLText.string(security.authentication)),
                ])),
            ]).render()
    }

    func unitFile(configPath: String, tlsPath: String?) -> String {
        var command = [OnPremExpansion.binary, "--role", node.role.rawValue, "--node-id", node.id, "--port", String(node.port),
                       "--config", configPath]
        if let tlsPath { command += ["--tls-config", tlsPath] }
        let restart = (stack.highAvailability?.autoRestart ?? true) ? "always" : "no"
        return """
            # Generated by maifctl from stack \(stack.meta.name) (\(address("systemd_unit", "maif"))); edits here are drift and will be reverted.
            [Unit]
            Description=MAIF node \(node.id) of cluster \(cluster.name)
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=simple
            User=\(OnPremExpansion.serviceUser)
            Group=\(OnPremExpansion.serviceUser)
            Environment=MAIF_NODE_ID=\(node.id)
            Environment=MAIF_CLUSTER_CONFIG=\(configPath)
            StateDirectory=maif
            ExecStart=\(command.joined(separator: " "))
            Restart=\(restart)
            RestartSec=5s
            LimitNOFILE=65536

            [Install]
            WantedBy=multi-user.target

            """
    }

}

extension OnPremExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .onprem }
    static var backupKinds: Set<BackupTargetKind> { [.onprem] }
}
