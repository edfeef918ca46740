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
        out += alerting(cluster, in: stack)
        return out
    }


    /// The alert rules and the Alertmanager route as files on the cluster's first host, for the site's Prometheus
    /// (`rule_files: [/etc/maif/alerting/maif-rules.yml]`) and Alertmanager (`--config.file`).
    static func alerting(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        guard let first = cluster.nodes.first(where: { $0.host != nil }),
              let files = Alerting.files(for: cluster, in: stack, platform: "on-prem cluster '\(cluster.name)'") else { return PlatformOutput() }
        let hostRef = AttributeValue.string("${\(OnPremNode.address("host", cluster: cluster, node: first)).address}")
        let origin = stack.monitoring?.location ?? cluster.location
        var out = PlatformOutput(diagnostics: files.diagnostics)
        // A directory of its own inside the node's /etc/maif (referenced, so it is made after and removed before that
        // one), so that destroy leaves /etc/maif empty.
        let configDirectory = OnPremNode.address("directory", cluster: cluster, node: first, "etc-maif")
        let directory = ResourceAddress(provider: "onprem", kind: "directory", name: "\(cluster.name).alerting")
        out.resources.append(DesiredResource(address: directory, config: [
            "host": hostRef, "path": .string("${\(configDirectory).path}/\(Alerting.directoryName)"), "mode": "0755", "owner": "root:root",
        ], origin: origin))
        for (name, content) in [(Alerting.rulesFile, files.rules), (Alerting.alertmanagerFile, files.alertmanager)] {
            let address = ResourceAddress(provider: "onprem", kind: "file", name: "\(cluster.name).alerting.\(name.split(separator: ".")[0])")
            out.resources.append(DesiredResource(address: address, config: [
                "host": hostRef, "path": .string("${\(directory).path}/\(name)"), "content": .string(content),
                "mode": "0644", "owner": "root:root",
            ], origin: origin))
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
            "endpoint": .string("\(host):\(node.port)"),
            // The node reads its files only at start: a new version of one restarts it.
            "restart_triggers": .map(Dictionary(uniqueKeysWithValues: files.map { ($0.name, .string(Digest.sha256($0.content))) })),
        ], origin: node.location))
        out += backupUnits(hostRef: hostRef, configPath: paths["cluster.yaml"]!)
        return out
    }

    /// Where the node finds its certificate, key and CA: provisioned on the host, never carried by maifctl.
    func tlsReferences() -> String? { NodeUnit.tlsSettings(stack: stack, node: node) }

    func unitFile(configPath: String, tlsPath: String?) -> String {
        NodeUnit(stack: stack, cluster: cluster, node: node, managedBy: address("systemd_unit", "maif").description, configPath: configPath,
                 tlsPath: tlsPath, runner: .binary(OnPremExpansion.binary)).render()
    }

    /// The schedule of `disaster_recovery` on this host: per kind of backup a oneshot service running `maif backup`
    /// and the timer that starts it (enabled and started; the service itself is only ever started by its timer).
    func backupUnits(hostRef: AttributeValue, configPath: String) -> [DesiredResource] {
        let origin = stack.disasterRecovery?.location ?? node.location
        return Backups.jobs(for: cluster, in: stack).flatMap { job -> [DesiredResource] in
            let exec = [OnPremExpansion.binary] + Backups.arguments(job, stack: stack, cluster: cluster, node: node, configPath: configPath)
            let serviceAddress = address("systemd_unit", "\(job.name)-service"), timerAddress = address("systemd_unit", "\(job.name)-timer")
            let units = Backups.systemdUnits(job, stack: stack, cluster: cluster, node: node, managedBy: timerAddress.description,
                                             execStart: exec, runsAsMAIF: false)
            return [
                DesiredResource(address: serviceAddress, config: [
                    "host": hostRef, "name": .string(units[0].name), "content": .string(units[0].content), "enabled": false, "state": "stopped",
                ], origin: stack.location(of: job.keyPath) ?? origin),
                DesiredResource(address: timerAddress, config: [
                    "host": hostRef, "name": .string(units[1].name), "content": .string(units[1].content), "enabled": true, "state": "started",
                    // The timer starts the service by name: it is written (and systemd reloaded) first.
                    "restart_triggers": .map(["service": .string("${\(serviceAddress).name}"), "service_sha256": .string(Digest.sha256(units[0].content))]),
                ], origin: stack.location(of: job.keyPath) ?? origin),
            ]
        }
    }
}

extension OnPremExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .onprem }
    static var backupKinds: Set<BackupTargetKind> { [.onprem] }
}
