/// Horizontal auto scaling of a GCP cluster: an instance template (the cluster's machine type, disk, network and a
/// cloud-config that joins the node to the cluster under its own hostname), a regional managed instance group that
/// spreads the added nodes over the region's zones and recreates those failing the load balancer's health check, and a
/// regional autoscaler with the guide's targets: CPU, memory (the Ops Agent's metric), the scale-up cooldown as the
/// initialization period, the scale-down cooldown as a scale-in window of one node.
///
/// As on AWS, the named nodes run as instances of their own; the group adds the rest, so the cluster as a whole stays
/// within `min_nodes…max_nodes`. Step policies (`autoscaling.horizontal.policies`) have no equivalent: the GCP
/// autoscaler tracks utilization targets, so each policy gets a warning and the targets drive the group.

import ProviderKit
import StackModel

extension GCPCluster {
    var instanceTemplate: ResourceAddress { address("instance_template") }
    var instanceGroupManager: ResourceAddress { address("instance_group_manager") }
    var autoscaler: ResourceAddress { address("autoscaler") }

    /// Nodes the group may add: `max_nodes` less the named ones.
    var scalingRoom: (min: Int64, max: Int64)? {
        guard let h = stack.autoscaling?.horizontal else { return nil }
        let fixed = cluster.nodes.count
        return (Int64(max(0, h.minNodes - fixed)), Int64(max(0, h.maxNodes - fixed)))
    }

    var hasManagedGroup: Bool { (scalingRoom?.max ?? 0) >= 1 }

    /// The memory metric of the Ops Agent, which the autoscaler tracks as a gauge.
    static let memoryMetric = "agent.googleapis.com/memory/percent_used"

    func autoScaling() -> PlatformOutput {
        var out = PlatformOutput()
        guard let h = stack.autoscaling?.horizontal, let room = scalingRoom else { return out }
        let origin = h.location ?? cluster.location
        for policy in h.policies {
            out.diagnostics.append(.warning("gcp-step-scaling-unsupported",
                                            "scaling policy '\(policy.name)' (\(policy.action.rawValue) by \(abs(policy.adjustment)) when \(policy.metric) crosses \(Condition.Operand.number(policy.threshold))): the GCP autoscaler tracks utilization targets and has no step policies; cluster '\(cluster.name)' scales on target_cpu_utilization and target_memory_utilization instead",
                                            hint: "set target_cpu_utilization / target_memory_utilization under autoscaling.horizontal", at: policy.location ?? origin))
        }
        guard hasManagedGroup else {
            out.diagnostics.append(.warning("gcp-autoscaling-no-room",
                                            "cluster '\(cluster.name)' has \(cluster.nodes.count) named nodes and max_nodes \(h.maxNodes): no room for an autoscaled group on GCP",
                                            hint: "raise autoscaling.horizontal.max_nodes above the number of named nodes", at: origin))
            return out
        }
        // The largest named node is the model of the added ones.
        let largest = cluster.nodes.max { a, b in
            (a.resources.cpu ?? 0, a.resources.memory?.bytes ?? 0) < (b.resources.cpu ?? 0, b.resources.memory?.bytes ?? 0)
        }
        let machineType = largest.map { GCPExpansion.machineType(for: $0, cluster: cluster, deployment: deployment, stack: stack).0 }
            ?? cluster.machineType ?? deployment?.size ?? GCPExpansion.defaultMachineType
        let diskGiB = cluster.nodes.map { GCPExpansion.diskGiB($0, stack) }.max() ?? GCPExpansion.defaultDiskGiB
        var properties: [String: AttributeValue] = [
            "machine_type": .string(machineType),
            "disks": .list([bootDisk(diskType: diskType, sizeGiB: diskGiB)]),
            "network_interfaces": .list([.map([
                "network": ref(networkAddress, "self_link"), "subnetwork": ref(subnetworkAddress, "self_link"),
                "access_configs": Self.externalAccess,
            ])]),
            "metadata": .map([
                "user-data": .string(scaledCloudConfig()),
                "maif-stack": .string(stack.meta.name),
                "maif-launched-by": .string(instanceGroupManager.description),
            ]),
            "network_tags": .list([.string(base)]),
            "labels": .map([
                "maif-stack": .string(GCPExpansion.labelValue(stack.meta.name)),
                "maif-cluster": .string(GCPExpansion.labelValue(cluster.name)),
                "maif-launched-by": .string(GCPExpansion.labelValue(instanceGroupManager.description)),
            ]),
        ]
        // Templates cannot change: the name carries a digest of what it holds, and a new one is made before the old goes.
        let digest = Networks.stableHash(AttributeValue.map(properties).canonicalJSON(indent: nil))
        let hex = String(digest, radix: 16)
        properties["name"] = .string(GCPExpansion.resourceName(base, "t" + String(repeating: "0", count: 8 - hex.count) + hex))
        properties["description"] = described(instanceTemplate)
        var replaceFirst = ResourceLifecycle()
        replaceFirst.createBeforeDestroy = true
        out.resources.append(resource(instanceTemplate, properties, lifecycle: replaceFirst, origin: origin))

        let initialDelay = Int64(max(300, stack.highAvailability?.failureDetectionTimeout.seconds ?? 0))
        out.resources.append(resource(instanceGroupManager, [
            "name": .string(GCPExpansion.resourceName(base)),
            "description": described(instanceGroupManager),
            "region": .string(region),
            "base_instance_name": .string(String(GCPExpansion.resourceName(base, "scaled").prefix(58))),
            "instance_template": ref(instanceTemplate, "self_link"),
            "target_size": .int(room.min),
            "auto_healing_policies": .list([.map(["health_check": ref(healthCheck, "self_link"), "initial_delay_sec": .int(initialDelay)])]),
        ], origin: origin))

        var policy: [String: AttributeValue] = [
            "min_num_replicas": .int(room.min),
            "max_num_replicas": .int(room.max),
            // How long a new VM takes before its metrics count: the guide's scale-up cooldown, within GCP's 0-3600 s.
            "cool_down_period_sec": .int(Int64(min(3600, max(0, h.scaleUpCooldown.seconds)))),
            // At most one VM removed per scale-down cooldown (GCP takes 60-3600 s).
            "scale_in_control": .map([
                "max_scaled_in_replicas": .map(["fixed": 1]),
                "time_window_sec": .int(Int64(min(3600, max(60, h.scaleDownCooldown.seconds)))),
            ]),
            "mode": "ON",
        ]
        if let cpu = h.targetCPUUtilization {
            policy["cpu_utilization"] = .map(["utilization_target": .double(min(1, max(0.01, cpu.value / 100)))])
        }
        if let memory = h.targetMemoryUtilization {
            policy["custom_metric_utilizations"] = .list([.map([
                "metric": .string(Self.memoryMetric), "utilization_target": .double(memory.value), "utilization_target_type": "GAUGE",
            ])])
        }
        out.resources.append(resource(autoscaler, [
            "name": .string(GCPExpansion.resourceName(base)),
            "description": described(autoscaler),
            "region": .string(region),
            "target": ref(instanceGroupManager, "self_link"),
            "autoscaling_policy": .map(policy),
        ], origin: origin))
        return out
    }

    /// The cloud-config of the nodes the group adds: a node whose id is its host name, with the named nodes' cluster.yaml.
    func scaledCloudConfig() -> String {
        VMBootstrap.NodeConfig(stack: stack, cluster: hosted, node: VMBootstrap.scaledNode(of: cluster, port: ports[0]),
                               clusterYAML: ClusterConfig.render(stack: stack, cluster: hosted),
                               managedBy: instanceGroupManager.description).cloudConfig()
    }
}
