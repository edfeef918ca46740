/// Expansion onto the `k8s` provider's resource types: the guide's maif-cluster.yaml (Namespace, ConfigMap with
/// cluster.yaml, StatefulSet with volume claim templates, headless and client Services), a HorizontalPodAutoscaler
/// from `autoscaling.horizontal` and a VerticalPodAutoscaler from `autoscaling.vertical` (+Scaling), a
/// PodDisruptionBudget keeping a quorum up, a Secret with the backup credentials when the nodes write to a cloud
/// bucket, and `security`'s TLS settings and NetworkPolicy (+Security). Each resource's `manifest` is the object
/// exactly as it is server-side applied.

import ProviderKit
import StackModel

enum KubernetesExpansion {
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        let kubernetesClusters = stack.clusters.filter { $0.platform == .kubernetes }
        if kubernetesClusters.count > 1, kubernetesClusters.first?.name != cluster.name {
            return PlatformOutput(diagnostics: [.error(
                "kubernetes-cluster-shares-namespace",
                "cluster '\(cluster.name)' would share the namespace of clouds.kubernetes, and the objects \(KubernetesCluster.configMapName), \(KubernetesCluster.headlessName) and \(KubernetesCluster.clientName), with cluster '\(kubernetesClusters[0].name)'",
                hint: "one kubernetes cluster per stack: put cluster '\(cluster.name)' in a stack of its own", at: cluster.location)])
        }
        return KubernetesCluster(stack: stack, cluster: cluster).output()
    }
}

/// One MAIF cluster as Kubernetes objects. Object names are the guide's, so the result reads like maif-cluster.yaml.
struct KubernetesCluster {
    let stack: Stack
    let cluster: Cluster

    static let configMapName = "maif-config"
    static let headlessName = "maif-headless"
    static let clientName = "maif"
    static let secretName = "maif-backup-credentials"
    /// The UID and GID MAIF's pods run as (above 10000, clear of the node's own users).
    static let runAsUser: Int64 = 10001

    var namespaceName: String { stack.clouds["kubernetes"]?.string("namespace") ?? "default" }
    var namespace: ResourceAddress { address("namespace") }
    var configMap: ResourceAddress { address("config_map") }
    var headless: ResourceAddress { address("service", "headless") }
    var client: ResourceAddress { address("service", "client") }
    var statefulSet: ResourceAddress { address("stateful_set") }
    var secret: ResourceAddress { address("secret", "backup-credentials") }

    func output() -> PlatformOutput {
        var out = PlatformOutput()
        guard KubernetesValues.isDNSLabel(namespaceName) else {
            out.diagnostics.append(.error("invalid-kubernetes-name", "namespace '\(namespaceName)' is not a valid Kubernetes name",
                                          hint: "lower-case letters, digits and '-', at most 63 characters", at: stack.location(of: "clouds.kubernetes.namespace")))
            return out
        }
        // StatefulSet pods are named <set>-0, <set>-1, …; MAIF_NODE_ID is the pod name, so the set is named after the node ids.
        let ids = cluster.nodes.map(\.id)
        let setName = ContainerWorkload.ordinalPrefix(ids, first: 0) ?? cluster.name
        if ContainerWorkload.ordinalPrefix(ids, first: 0) == nil {
            out.diagnostics.append(.warning("node-ids-not-pod-names",
                                            "the pods of cluster '\(cluster.name)' will be \(setName)-0 … \(setName)-\(max(ids.count - 1, 0)), but its node ids are \(ids.joined(separator: ", ")); MAIF_NODE_ID will not match cluster.yaml",
                                            hint: "name the nodes <name>-0, <name>-1, … (e.g. maif-cluster-0)", at: cluster.location))
        }
        guard KubernetesValues.isDNSLabel(setName, maxLength: 52) else {
            out.diagnostics.append(.error("invalid-kubernetes-name", "'\(setName)' cannot name a StatefulSet",
                                          hint: "lower-case letters, digits and '-', at most 52 characters", at: cluster.location))
            return out
        }
        if ContainerWorkload.resourcesDiffer(cluster.nodes) {
            out.diagnostics.append(.warning("node-resources-differ", "the nodes of cluster '\(cluster.name)' ask for different resources; the StatefulSet's one pod template requests the largest",
                                            hint: "give every node of a kubernetes cluster the same resources", at: cluster.location))
        }

        let clusterYAML = ClusterConfig.render(stack: stack, cluster: cluster)
        let credentials = ContainerWorkload.backupCredentials(stack)
        var resources = [namespaceResource(), configMapResource(clusterYAML, tlsYAML: tlsYAML)]
        if !credentials.isEmpty { resources.append(secretResource(credentials)) }
        resources += [serviceResource(headless: true), serviceResource(headless: false),
                      statefulSetResource(name: setName, clusterYAML: clusterYAML, withSecret: !credentials.isEmpty)]
        if let horizontal = stack.autoscaling?.horizontal {
            let (hpa, warnings) = autoscaler(horizontal, setName: setName)
            resources.append(hpa)
            out.diagnostics += warnings
        }
        if let vertical = stack.autoscaling?.vertical, let vpa = verticalAutoscaler(vertical, setName: setName) {
            resources.append(vpa.0)
            out.diagnostics += vpa.1
        }
        resources.append(disruptionBudgetResource(name: setName))
        if let policy = networkPolicyResource() { resources.append(policy) }
        if let warning = mutualTLSWarning { out.diagnostics.append(warning) }
        out.resources = resources
        out += operations()
        return out
    }

    // MARK: Objects

    func namespaceResource() -> DesiredResource {
        var config = object(namespace, "v1", "Namespace", name: namespaceName, namespaced: false, [:])
        // Kubernetes refuses to delete its own namespaces; destroying the stack must leave them.
        if ["default", "kube-system", "kube-public", "kube-node-lease"].contains(namespaceName) {
            config["retain_on_destroy"] = .bool(true)
        }
        return DesiredResource(address: namespace, config: config, origin: stack.location(of: "clouds.kubernetes") ?? cluster.location)
    }

    func configMapResource(_ clusterYAML: String, tlsYAML: String?) -> DesiredResource {
        var data: [String: AttributeValue] = ["cluster.yaml": .string(clusterYAML)]
        if let tlsYAML { data[Self.tlsConfigKey] = .string(tlsYAML) }
        return DesiredResource(address: configMap, config: object(configMap, "v1", "ConfigMap", name: Self.configMapName, [
            "data": .map(data),
        ]), origin: cluster.location)
    }

    func secretResource(_ credentials: [ContainerWorkload.Credential]) -> DesiredResource {
        var config = object(secret, "v1", "Secret", name: Self.secretName, ["type": "Opaque"])
        config["data_from"] = .map(Dictionary(uniqueKeysWithValues: credentials.map { ($0.key, .string($0.source.description)) }))
        return DesiredResource(address: secret, config: config, origin: stack.disasterRecovery?.location ?? cluster.location)
    }

    func serviceResource(headless isHeadless: Bool) -> DesiredResource {
        let address = isHeadless ? headless : client
        let port = Int64(ContainerWorkload.port(cluster.nodes))
        var spec: [String: AttributeValue] = [
            "selector": .map(selector),
            "ports": .list([.map(["name": "http", "port": .int(port), "targetPort": "http", "protocol": "TCP"])]),
        ]
        if isHeadless {
            // Peers find each other before they are ready, so the headless records include unready pods.
            spec["clusterIP"] = "None"
            spec["publishNotReadyAddresses"] = true
        } else {
            spec["type"] = "ClusterIP"
        }
        var config = object(address, "v1", "Service", name: isHeadless ? Self.headlessName : Self.clientName, ["spec": .map(spec)])
        if !isHeadless { config["endpoint"] = .string("\(Self.clientName).\(namespaceName).svc.cluster.local:\(port)") }
        return DesiredResource(address: address, config: config,
                               origin: isHeadless ? cluster.location : (stack.loadBalancing?.location ?? cluster.location))
    }

    func statefulSetResource(name: String, clusterYAML: String, withSecret: Bool) -> DesiredResource {
        let port = Int64(ContainerWorkload.port(cluster.nodes))
        let env: [AttributeValue] = [
            .map(["name": "MAIF_NODE_ID", "valueFrom": .map(["fieldRef": .map(["fieldPath": "metadata.name"])])]),
            .map(["name": "MAIF_CLUSTER_CONFIG", "value": .string(ContainerWorkload.configPath)]),
            .map(["name": "MAIF_CLUSTER_NAME", "value": .string(cluster.name)]),
            .map(["name": "MAIF_PEER_DOMAIN", "value": .string("${\(headless).name}.${\(namespace).name}.svc.cluster.local")]),
        ]
        var container: [String: AttributeValue] = [
            "name": "maif",
            "image": .string(ContainerWorkload.image(cluster)),
            "ports": .list([.map(["name": "http", "containerPort": .int(port), "protocol": "TCP"])]),
            "env": .list(env),
            "volumeMounts": .list([
                .map(["name": "config", "mountPath": .string(ContainerWorkload.configDirectory), "readOnly": true]),
                .map(["name": "data", "mountPath": .string(ContainerWorkload.dataDirectory)]),
                .map(["name": "tmp", "mountPath": "/tmp"]),
            ]),
            // Least privilege (checkov CKV_K8S_20/22/23/28/30/37/40): no escalation, no capabilities, a read-only root
            // filesystem (the node writes only /data and /tmp), a non-root high UID.
            "securityContext": .map([
                "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                "runAsUser": .int(Self.runAsUser), "runAsGroup": .int(Self.runAsUser),
                "capabilities": .map(["drop": .list(["ALL"])]),
            ]),
        ]
        if withSecret {
            container["envFrom"] = .list([.map(["secretRef": .map(["name": ref(secret)])])])
        }
        let resources = containerResources()
        if !resources.isEmpty { container["resources"] = .map(resources) }
        if let lb = stack.loadBalancing {
            container["readinessProbe"] = .map([
                "httpGet": .map(["path": .string(lb.healthCheckPath), "port": "http"]),
                "periodSeconds": .int(KubernetesValues.seconds(lb.healthCheckInterval)),
                "failureThreshold": .int(Int64(max(1, lb.failureThreshold))),
                "successThreshold": .int(Int64(max(1, lb.recoveryThreshold))),
            ])
        }
        if let ha = stack.highAvailability, ha.autoRestart {
            // auto_restart: the kubelet restarts a node that misses `failure_threshold` heartbeats.
            container["livenessProbe"] = .map([
                "httpGet": .map(["path": .string(stack.loadBalancing?.healthCheckPath ?? "/health"), "port": "http"]),
                "initialDelaySeconds": .int(KubernetesValues.seconds(ha.failureDetectionTimeout)),
                "periodSeconds": .int(KubernetesValues.seconds(ha.heartbeatInterval)),
                "failureThreshold": .int(Int64(max(1, ha.failureThreshold))),
            ])
        }
        container = securing(container)

        var claimSpec: [String: AttributeValue] = [
            "accessModes": .list(["ReadWriteOnce"]),
            "resources": .map(["requests": .map(["storage": .string(KubernetesValues.quantity(storage))])]),
        ]
        if let storageClass = cluster.storageClass { claimSpec["storageClassName"] = .string(storageClass) }

        var annotations: [String: AttributeValue] = ["maif/config-sha256": .string(Digest.sha256(clusterYAML))]
        if let tlsYAML { annotations["maif/tls-config-sha256"] = .string(Digest.sha256(tlsYAML)) }
        var podLabels = selector
        podLabels["maif/stack"] = .string(KubernetesValues.labelValue(stack.meta.name))
        let spec: [String: AttributeValue] = [
            "serviceName": ref(headless),
            "replicas": .int(Int64(cluster.nodes.count)),
            "selector": .map(["matchLabels": .map(selector)]),
            "template": .map([
                "metadata": .map([
                    "labels": .map(podLabels),
                    // A new cluster.yaml rolls the pods, which read it only at start.
                    "annotations": .map(annotations),
                ]),
                "spec": .map([
                    "containers": .list([.map(container)]),
                    "volumes": .list([
                        .map(["name": "config", "configMap": .map(["name": ref(configMap)])]),
                        .map(["name": "tmp", "emptyDir": .map([:])]),
                    ] + tlsVolumes),
                    // MAIF never calls the Kubernetes API: no service account token in its pods (CKV_K8S_38).
                    "automountServiceAccountToken": false,
                    // The volumes belong to the node's group; the runtime's default seccomp profile (CKV_K8S_29/31).
                    "securityContext": .map([
                        "runAsNonRoot": true, "runAsUser": .int(Self.runAsUser), "runAsGroup": .int(Self.runAsUser),
                        "fsGroup": .int(Self.runAsUser), "seccompProfile": .map(["type": "RuntimeDefault"]),
                    ]),
                ]),
            ]),
            "volumeClaimTemplates": .list([.map([
                "metadata": .map(["name": "data", "labels": .map(selector)]),
                "spec": .map(claimSpec),
            ])]),
        ]
        return DesiredResource(address: statefulSet, config: object(statefulSet, "apps/v1", "StatefulSet", name: name, ["spec": .map(spec)]),
                               origin: cluster.location)
    }

    /// Voluntary disruptions (drains, upgrades) keep at least a quorum of pods: `quorum_size`, or a majority of the replicas.
    func disruptionBudgetResource(name: String) -> DesiredResource {
        let address = address("pod_disruption_budget")
        let ha = stack.highAvailability
        let quorum = ha?.quorumSize ?? ((ha?.replicationFactor ?? cluster.replicationFactor) / 2 + 1)
        return DesiredResource(address: address, config: object(address, "policy/v1", "PodDisruptionBudget", name: name, [
            "spec": .map(["minAvailable": .int(Int64(quorum)), "selector": .map(["matchLabels": .map(selector)])]),
        ]), origin: ha?.location ?? cluster.location)
    }

    // MARK: Helpers

    /// Requests from the nodes (or vertical autoscaling's minimums); limits from vertical autoscaling's maximums,
    /// never below the requests.
    func containerResources() -> [String: AttributeValue] {
        let nodes = ContainerWorkload.largest(cluster.nodes), floor = ContainerWorkload.minimums(stack)
        let ceiling = ContainerWorkload.limits(stack)
        let cpu = nodes.cpu ?? floor.cpu, memory = nodes.memory ?? floor.memory
        var requests: [String: AttributeValue] = [:], limits: [String: AttributeValue] = [:]
        if let cpu { requests["cpu"] = .string(KubernetesValues.cpu(cpu)) }
        if let memory { requests["memory"] = .string(KubernetesValues.quantity(memory)) }
        if let limit = ceiling.cpu ?? cpu { limits["cpu"] = .string(KubernetesValues.cpu(max(limit, cpu ?? 0))) }
        if let limit = ceiling.memory ?? memory {
            limits["memory"] = .string(KubernetesValues.quantity(memory.map { $0 > limit ? $0 : limit } ?? limit))
        }
        var out: [String: AttributeValue] = [:]
        if !requests.isEmpty { out["requests"] = .map(requests) }
        if !limits.isEmpty { out["limits"] = .map(limits) }
        return out
    }

    /// The per-pod volume: the largest node storage, vertical autoscaling's minimum, or the guide's 1Ti.
    var storage: ByteSize {
        ContainerWorkload.largest(cluster.nodes).storage ?? ContainerWorkload.minimums(stack).storage ?? ByteSize(bytes: 1 << 40, text: "1Ti")
    }

    /// Selects this cluster's pods; `maif/cluster` keeps two clusters' pods apart.
    var selector: [String: AttributeValue] {
        ["app": "maif", "maif/cluster": .string(KubernetesValues.labelValue(cluster.name))]
    }

    /// `maif/stack` and `maif/address` name the owner (label keys may not contain ':').
    func labels(_ address: ResourceAddress) -> [String: AttributeValue] {
        var labels = selector
        labels["maif/stack"] = .string(KubernetesValues.labelValue(stack.meta.name))
        labels["maif/address"] = .string(KubernetesValues.labelValue(address.description))
        return labels
    }

    func address(_ kind: String, _ suffix: String? = nil) -> ResourceAddress {
        ResourceAddress(provider: "k8s", kind: kind, name: suffix.map { "\(cluster.name).\($0)" } ?? cluster.name)
    }

    func ref(_ address: ResourceAddress, _ attribute: String = "name") -> AttributeValue {
        .string("${\(address).\(attribute)}")
    }

    /// The attributes of a `k8s.*` resource: identity plus the manifest built from `body` (spec, data, …).
    func object(_ address: ResourceAddress, _ apiVersion: String, _ kind: String, name: String, namespaced: Bool = true,
                _ body: [String: AttributeValue]) -> [String: AttributeValue] {
        var metadata: [String: AttributeValue] = ["name": .string(name), "labels": .map(labels(address))]
        if !KubernetesValues.isLabelValue(address.description) {
            metadata["annotations"] = .map(["maif/address": .string(address.description)])
        }
        var config: [String: AttributeValue] = ["name": .string(name)]
        if namespaced {
            metadata["namespace"] = ref(namespace)
            config["namespace"] = ref(namespace)
        }
        var manifest = body
        manifest["apiVersion"] = .string(apiVersion)
        manifest["kind"] = .string(kind)
        manifest["metadata"] = .map(metadata)
        config["manifest"] = .map(manifest)
        return config
    }
}

extension KubernetesExpansion: PlatformExpansion {
    static func expands(_ cluster: Cluster) -> Bool { cluster.platform == .kubernetes }
}
