/// Expansion onto the `swarm` provider's resource types: the guide's docker-compose.yml as Docker Engine API
/// objects — an overlay network, cluster.yaml as a config, the maif-data volume, the join token and backup
/// credentials as secrets, and the maif-manager and maif-worker services placed by node role.
///
/// Where this departs from the guide, and why: the join token is a generated swarm secret mounted into both
/// services, because a `local` volume exists once per node (a worker never sees the file the manager wrote
/// into its own maif-data), and swarm runs `command` without a shell, so `$(cat …)` is never expanded.
///
/// Configs and secrets cannot change in Swarm: the provider gives each a versioned Docker name (`versioned_name`,
/// which the services refer to), and a changed one is created beside the old one, the services moved onto it,
/// then the old one destroyed (create before destroy), as `docker stack deploy` with versioned names does.
///
/// `security` (TLS settings, certificate secrets by name) and what Swarm cannot express are in +Security.

import ProviderKit
import StackModel

enum SwarmExpansion {
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        let swarmClusters = stack.clusters.filter { $0.platform == .swarm }
        if swarmClusters.count > 1, swarmClusters.first?.name != cluster.name {
            return PlatformOutput(diagnostics: [.error(
                "swarm-cluster-shares-swarm",
                "cluster '\(cluster.name)' would share the swarm of clouds.swarm, and the services \(SwarmCluster.managerName) and \(SwarmCluster.workerName), with cluster '\(swarmClusters[0].name)'",
                hint: "one swarm cluster per stack: put cluster '\(cluster.name)' in a stack of its own", at: cluster.location)])
        }
        return SwarmCluster(stack: stack, cluster: cluster).output()
    }
}

/// One MAIF cluster as swarm objects, named as in the guide's compose file.
struct SwarmCluster {
    let stack: Stack
    let cluster: Cluster

    static let networkName = "maif-net"
    static let volumeName = "maif-data"
    static let volumeDriver = "local"
    static let managerName = "maif-manager"
    static let workerName = "maif-worker"
    static let joinTokenName = "maif-join-token"
    static let configName = "maif-config"
    static let joinTokenLength: Int64 = 48

    var network: ResourceAddress { address("network") }
    var config: ResourceAddress { address("config") }
    var volume: ResourceAddress { address("volume") }
    var joinToken: ResourceAddress { address("secret", "join-token") }

    func output() -> PlatformOutput {
        var out = PlatformOutput()
        let managers = cluster.nodes.filter { $0.role == .manager }
        let workers = cluster.nodes.filter { $0.role == .worker }
        guard !managers.isEmpty else {
            out.diagnostics.append(.error("swarm-without-manager", "swarm cluster '\(cluster.name)' has no node with role manager",
                                          hint: "add a node `{id: maif-manager, role: manager}`", at: cluster.location))
            return out
        }
        if let h = stack.autoscaling?.horizontal {
            out.diagnostics.append(.warning("autoscaling-not-applied", "Docker Swarm has no autoscaler: cluster '\(cluster.name)' keeps \(workers.count) worker replicas whatever autoscaling.horizontal says",
                                            hint: "scale the workers by changing the number of worker nodes in the stack", at: h.location))
        }

        let clusterYAML = ClusterConfig.render(stack: stack, cluster: cluster)
        let credentials = ContainerWorkload.backupCredentials(stack)
        out.resources = [
            DesiredResource(address: network, config: [
                "name": .string(Self.networkName), "driver": "overlay", "attachable": true, "labels": labels(network),
            ], origin: cluster.location),
            configResource(clusterYAML),
        ] + [tlsConfigResource()].compactMap { $0 } + [
            DesiredResource(address: volume, config: ["name": .string(Self.volumeName), "driver": .string(Self.volumeDriver), "labels": labels(volume)],
                            origin: cluster.location),
            DesiredResource(address: joinToken, config: [
                "name": .string(Self.joinTokenName), "generate_length": .int(Self.joinTokenLength), "labels": labels(joinToken),
            ], lifecycle: Self.createBeforeDestroy, origin: cluster.location),
        ]
        for credential in credentials {
            let a = credentialAddress(credential)
            out.resources.append(DesiredResource(address: a, config: [
                "name": .string(credentialName(credential)), "data_from": .string(credential.source.description), "labels": labels(a),
            ], lifecycle: Self.createBeforeDestroy, origin: stack.disasterRecovery?.location ?? cluster.location))
        }

        let (managerID, managerWarning) = nodeID(managers, service: Self.managerName)
        out.resources.append(service(.manager, name: Self.managerName, nodes: managers, nodeID: managerID, credentials: credentials,
                                     args: ["maif", "--role", "manager", "--join-token-file", "/run/secrets/\(Self.joinTokenName)"] + tlsArgs))
        var warnings = [managerWarning]
        if !workers.isEmpty {
            let (workerID, workerWarning) = nodeID(workers, service: Self.workerName)
            warnings.append(workerWarning)
            out.resources.append(service(.worker, name: Self.workerName, nodes: workers, nodeID: workerID, credentials: credentials,
                                         args: ["maif", "--role", "worker", "--join-token-file", "/run/secrets/\(Self.joinTokenName)"] + tlsArgs))
        }
        out.diagnostics += warnings.compactMap { $0 } + securityAndScalingWarnings()
        out += operations()
        return out
    }

    /// Configs and secrets cannot change: the replacement exists before the old one goes, so no task is ever without.
    static let createBeforeDestroy: ResourceLifecycle = {
        var lifecycle = ResourceLifecycle()
        lifecycle.createBeforeDestroy = true
        return lifecycle
    }()

    /// cluster.yaml; its Docker name carries a digest of the data (`maif-config-<12 hex>`, from the provider).
    func configResource(_ clusterYAML: String) -> DesiredResource {
        DesiredResource(address: config, config: [
            "name": .string(Self.configName),
            "data": .string(clusterYAML),
            "labels": labels(config),
        ], lifecycle: Self.createBeforeDestroy, origin: cluster.location)
    }

    func service(_ role: NodeRole, name: String, nodes: [Node], nodeID: String, credentials: [ContainerWorkload.Credential],
                 args: [String]) -> DesiredResource {
        let address = address("service", role.rawValue)
        var env = [
            "MAIF_CLUSTER_NAME=\(cluster.name)",
            "MAIF_REPLICATION_FACTOR=\(cluster.replicationFactor)",
            "MAIF_CLUSTER_CONFIG=\(ContainerWorkload.configPath)",
            "MAIF_NODE_ID=\(nodeID)",
        ]
        var secrets: [AttributeValue] = [secretMount(joinToken, file: Self.joinTokenName)]
        for credential in credentials {
            // A secret is a file in the task; `<KEY>_FILE` tells the node where to read it.
            env.append("\(credential.key)_FILE=/run/secrets/\(credentialName(credential))")
            secrets.append(secretMount(credentialAddress(credential), file: credentialName(credential)))
        }
        secrets += tlsSecretMounts
        let containerSpec: [String: AttributeValue] = [
            "Image": .string(ContainerWorkload.image(cluster)),
            "Args": .list(args.map { .string($0) }),
            "Env": .list(env.map { .string($0) }),
            // A node without the volume makes its own copy when a task needs it: with these labels, so it is known as ours.
            "Mounts": .list([.map([
                "Type": "volume", "Source": ref(volume), "Target": .string(ContainerWorkload.dataDirectory),
                "VolumeOptions": .map(["Labels": labels(volume), "DriverConfig": .map(["Name": .string(Self.volumeDriver)])]),
            ])]),
            "Configs": .list([.map([
                "ConfigID": ref(config, "id"), "ConfigName": ref(config, "versioned_name"),
                "File": .map(["Name": .string(ContainerWorkload.configPath), "UID": "0", "GID": "0", "Mode": .int(0o444)]),
            ])] + tlsConfigMounts),
            "Secrets": .list(secrets),
        ]
        var taskTemplate: [String: AttributeValue] = [
            "ContainerSpec": .map(containerSpec),
            "Placement": .map(["Constraints": .list([.string("node.role == \(role.rawValue)")])]),
            "Networks": .list([.map(["Target": ref(network, "id"), "Aliases": .list([.string(name)])])]),
        ]
        let resources = taskResources(nodes)
        if !resources.isEmpty { taskTemplate["Resources"] = .map(resources) }
        if let restartPolicy { taskTemplate["RestartPolicy"] = restartPolicy }
        var spec: [String: AttributeValue] = [
            "Name": .string(name),
            "Labels": labels(address),
            "TaskTemplate": .map(taskTemplate),
            "Mode": .map(["Replicated": .map(["Replicas": .int(Int64(nodes.count))])]),
            // One task at a time, so a rolling update never takes more than one replica out of the quorum.
            "UpdateConfig": .map(["Parallelism": 1, "FailureAction": "rollback", "Order": "stop-first"]),
        ]
        if role == .manager {
            let port = Int64(ContainerWorkload.port(nodes))
            spec["EndpointSpec"] = .map(["Mode": "vip", "Ports": .list([.map([
                "Protocol": "tcp", "TargetPort": .int(port), "PublishedPort": .int(port), "PublishMode": "ingress",
            ])])])
        }
        var config: [String: AttributeValue] = ["name": .string(name), "spec": .map(spec)]
        if role == .manager { config["endpoint"] = .string("\(publishedHost):\(ContainerWorkload.port(nodes))") }
        return DesiredResource(address: address, config: config, origin: nodes.first?.location ?? cluster.location)
    }

    /// Where the published port is reached: any swarm node (the routing mesh); the one `clouds.swarm.host` names, or this
    /// machine for a local socket.
    var publishedHost: String {
        guard let host = stack.clouds["swarm"]?.string("host"), host.hasPrefix("tcp://") else { return "127.0.0.1" }
        let rest = host.dropFirst("tcp://".count)
        return String(rest.prefix { $0 != ":" && $0 != "/" })
    }

    /// MAIF_NODE_ID of a service's tasks: the node id itself for a single replica, otherwise a template on the task
    /// slot (which counts from 1), so that each task finds its entry in cluster.yaml.
    func nodeID(_ nodes: [Node], service: String) -> (String, Diagnostic?) {
        if nodes.count == 1 { return (nodes[0].id, nil) }
        if let prefix = ContainerWorkload.ordinalPrefix(nodes.map(\.id), first: 1) { return ("\(prefix)-{{.Task.Slot}}", nil) }
        let warning = Diagnostic.warning("node-ids-not-task-slots",
                                         "the tasks of \(service) in cluster '\(cluster.name)' will call themselves \(service)-1 … \(service)-\(nodes.count), but the node ids are \(nodes.map(\.id).joined(separator: ", ")); MAIF_NODE_ID will not match cluster.yaml",
                                         hint: "name the nodes <name>-1, <name>-2, … (e.g. maif-worker-1)", at: nodes[0].location ?? cluster.location)
        return ("\(service)-{{.Task.Slot}}", warning)
    }

    /// Reservations from the nodes; limits from vertical autoscaling's maximums, never below the reservations.
    func taskResources(_ nodes: [Node]) -> [String: AttributeValue] {
        let wanted = ContainerWorkload.largest(nodes), floor = ContainerWorkload.minimums(stack), ceiling = ContainerWorkload.limits(stack)
        let cpu = wanted.cpu ?? floor.cpu, memory = wanted.memory ?? floor.memory
        var reservations: [String: AttributeValue] = [:], limits: [String: AttributeValue] = [:]
        if let cpu { reservations["NanoCPUs"] = .int(Int64((cpu * 1e9).rounded())) }
        if let memory { reservations["MemoryBytes"] = .int(Int64(memory.bytes)) }
        if let limit = ceiling.cpu { limits["NanoCPUs"] = .int(Int64((max(limit, cpu ?? 0) * 1e9).rounded())) }
        if let limit = ceiling.memory { limits["MemoryBytes"] = .int(Int64(max(limit.bytes, memory?.bytes ?? 0))) }
        var out: [String: AttributeValue] = [:]
        if !reservations.isEmpty { out["Reservations"] = .map(reservations) }
        if !limits.isEmpty { out["Limits"] = .map(limits) }
        return out
    }

    func secretMount(_ secret: ResourceAddress, file: String) -> AttributeValue {
        .map([
            "SecretID": ref(secret, "id"), "SecretName": ref(secret, "versioned_name"),
            "File": .map(["Name": .string(file), "UID": "0", "GID": "0", "Mode": .int(0o444)]),
        ])
    }

    func credentialName(_ credential: ContainerWorkload.Credential) -> String {
        "maif-" + credential.key.lowercased().replacingUnderscores
    }

    func credentialAddress(_ credential: ContainerWorkload.Credential) -> ResourceAddress {
        address("secret", credential.key.lowercased().replacingUnderscores)
    }

    /// `maif.stack` and `maif.address` name the owner (Docker's label convention is dotted).
    func labels(_ address: ResourceAddress) -> AttributeValue {
        .map(["maif.stack": .string(stack.meta.name), "maif.address": .string(address.description), "maif.cluster": .string(cluster.name)])
    }

    func address(_ kind: String, _ suffix: String? = nil) -> ResourceAddress {
        ResourceAddress(provider: "swarm", kind: kind, name: suffix.map { "\(cluster.name).\($0)" } ?? cluster.name)
    }

    func ref(_ address: ResourceAddress, _ attribute: String = "name") -> AttributeValue {
        .string("${\(address).\(attribute)}")
    }
}

private extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}

extension SwarmExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .swarm }
}
