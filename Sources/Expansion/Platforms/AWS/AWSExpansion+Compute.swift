/// The compute of an AWS cluster: one instance per node (its #cloud-config as user data), and a
/// launch template + Auto Scaling group + scaling policies for the nodes `autoscaling.horizontal` adds.

import ProviderKit
import StackModel

extension AWSClusterExpansion {
    /// Amazon Linux 2023, resolved by EC2 at launch, when the cluster's `image` is a container image, not an AMI.
    static let defaultImage = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

    var imageID: String {
        if let image = cluster.image, image.hasPrefix("ami-") || image.hasPrefix("resolve:ssm:") { return image }
        return Self.defaultImage
    }

    /// What the instances and the launch template share: image, sizing, user data, backup access, hardening.
    private func launchSettings(cpu: Double?, memory: ByteSize?, storage: ByteSize?, userData: String) -> [String: AttributeValue] {
        var settings: [String: AttributeValue] = [
            "image_id": .string(imageID),
            "instance_type": .string(instanceType(cpu: cpu, memory: memory)),
            "user_data": .string(userData),
            "block_device_mappings": .list([.map([
                "device_name": "/dev/xvda",
                "ebs": .map([
                    "volume_size": .int(Self.volumeGiB(storage)),
                    "volume_type": .string(deployment?.storageType ?? cluster.storageClass ?? "gp3"),
                    "encrypted": true,
                    "delete_on_termination": true,
                ]),
            ])]),
            "monitoring": .map(["enabled": true]),
            "metadata_options": .map(["http_tokens": "required", "http_endpoint": "enabled"]),
        ]
        if hasInstanceRole { settings["iam_instance_profile"] = ref(nodesProfile, "name") }
        return settings
    }

    /// Which container image runs MAIF, for the node's bootstrap and for operators.
    private var runtimeTags: [String: String] {
        cluster.image.map { ["maif:image": $0] } ?? [:]
    }

    func instances() -> [DesiredResource] {
        let addresses = nodeAddresses
        return cluster.nodes.map { node in
            var config = launchSettings(cpu: node.resources.cpu, memory: node.resources.memory, storage: node.resources.storage,
                                        userData: userData(node, managedBy: instance(node)))
            config["subnet_id"] = ref(subnet(zoneOfNode[node.id]!), "id")
            if let address = addresses[node.id] {
                config["private_ip_address"] = .string(address.address)
                config["endpoint"] = .string("\(address.address):\(node.port)")
            }
            // cloud-init writes the node's files at first boot only: new ones take a new instance.
            config["user_data_replace_on_change"] = true
            config["security_group_ids"] = .list([ref(nodesGroup, "id")])
            // A public address for egress (image pulls, S3, peers in other regions); the security group keeps ingress closed.
            config["associate_public_ip_address"] = true
            let tags = runtimeTags.merging(["Name": "\(cluster.name)-\(node.id)", "maif:node": node.id, "maif:role": node.role.rawValue]) { _, b in b }
            return resource(instance(node), config, tags: tags, origin: node.location)
        }
    }

    // MARK: Auto Scaling

    /// The named nodes run as instances of their own; the group adds the rest, so the cluster as a whole
    /// stays within `min_nodes…max_nodes`.
    func autoScaling() -> [DesiredResource] {
        guard let h = stack.autoscaling?.horizontal else { return [] }
        var out: [DesiredResource] = []
        let largest = cluster.nodes.max { a, b in
            (a.resources.cpu ?? 0, a.resources.memory?.bytes ?? 0) < (b.resources.cpu ?? 0, b.resources.memory?.bytes ?? 0)
        }
        var template = launchSettings(cpu: largest?.resources.cpu, memory: largest?.resources.memory,
                                      storage: cluster.nodes.compactMap(\.resources.storage).max(), userData: scaledUserData())
        template["launch_template_name"] = .string(cluster.name)
        template["network_interfaces"] = .list([.map([
            "device_index": 0, "associate_public_ip_address": true, "groups": .list([ref(nodesGroup, "id")]),
        ])])
        var launchedTags: [String: AttributeValue] = [
            "maif:stack": .string(stack.meta.name), "maif:cluster": .string(cluster.name),
            "maif:launched_by": .string(autoScalingGroup.description), "Name": .string("\(cluster.name)-scaled"),
        ]
        for (key, value) in runtimeTags { launchedTags[key] = .string(value) }
        template["tag_specifications"] = .list(["instance", "volume"].map { .map(["resource_type": .string($0), "tags": .map(launchedTags)]) })
        template["update_default_version"] = true
        out.append(resource(launchTemplate, template, origin: h.location ?? cluster.location))

        let fixed = cluster.nodes.count
        out.append(resource(autoScalingGroup, [
            "auto_scaling_group_name": .string(cluster.name),
            "min_size": .int(Int64(max(0, h.minNodes - fixed))),
            "max_size": .int(Int64(max(0, h.maxNodes - fixed))),
            "default_cooldown": .int(Int64(h.scaleUpCooldown.seconds)),
            "health_check_type": "ELB",
            "health_check_grace_period": .int(Int64(max(300, stack.highAvailability?.failureDetectionTimeout.seconds ?? 0))),
            "vpc_zone_identifier": .list(zones.map { ref(subnet($0), "id") }),
            "launch_template": .map(["launch_template_id": ref(launchTemplate, "id"), "version": "$Latest"]),
            "target_group_arns": .list([ref(targetGroup, "arn")]),
        ], origin: h.location ?? cluster.location))

        let groupName = ref(autoScalingGroup, "auto_scaling_group_name")
        for policy in h.policies {
            let down = policy.action == .scaleDown
            out.append(untagged(scalingPolicy(policy.name), [
                "auto_scaling_group_name": groupName,
                "policy_name": .string("\(cluster.name)-\(policy.name)"),
                "policy_type": "SimpleScaling",
                "adjustment_type": "ChangeInCapacity",
                "scaling_adjustment": .int(Int64(down ? -abs(policy.adjustment) : abs(policy.adjustment))),
                "cooldown": .int(Int64((down ? h.scaleDownCooldown : h.scaleUpCooldown).seconds)),
            ], origin: policy.location ?? h.location))
        }
        // The guide's utilization targets drive the group beside its explicit policies: target tracking on the
        // cluster's average, named instances included, since the group alone may have no instances to measure.
        // With both, Auto Scaling follows whichever policy asks for the larger group.
        do {
            let targets: [(String, String, Percentage?)] = [
                ("target_cpu_utilization", "cpu_utilization", h.targetCPUUtilization),
                ("target_memory_utilization", "memory_utilization", h.targetMemoryUtilization),
            ]
            for case let (name, metric, target?) in targets {
                let queries = clusterMetricQueries(.named(metric), aggregate: "AVG", label: "average \(metric) of \(cluster.name)", period: nil)
                out.append(untagged(scalingPolicy(name), [
                    "auto_scaling_group_name": groupName,
                    "policy_name": .string("\(cluster.name)-\(name)"),
                    "policy_type": "TargetTrackingScaling",
                    "estimated_instance_warmup": .int(Int64(h.scaleUpCooldown.seconds)),
                    "target_tracking_configuration": .map([
                        "customized_metric_specification": .map(["metrics": .list(queries)]),
                        "target_value": .double(target.value),
                    ]),
                ], origin: h.location))
            }
        }
        return out
    }

    func scalingPolicy(_ name: String) -> ResourceAddress { address("autoscaling_policy", name) }

    // MARK: Sizing

    /// The cluster's `instance_type`, else `multi_cloud.deployments.aws`, else the smallest current
    /// general-purpose type that fits the node's cpu and memory.
    func instanceType(cpu: Double?, memory: ByteSize?) -> String {
        cluster.instanceType ?? deployment?.size ?? Self.fittingInstanceType(cpu: cpu, memory: memory)
    }

    /// c5 (2 GiB per vCPU), m5 (4) or r5 (8), smallest vCPU count first, then the least memory.
    static func fittingInstanceType(cpu: Double?, memory: ByteSize?) -> String {
        let sizes: [(name: String, vcpus: Int)] = [
            ("large", 2), ("xlarge", 4), ("2xlarge", 8), ("4xlarge", 16), ("8xlarge", 32), ("12xlarge", 48), ("16xlarge", 64), ("24xlarge", 96),
        ]
        let families: [(name: String, gibPerVCPU: Double)] = [("c5", 2), ("m5", 4), ("r5", 8)]
        let wantCPU = cpu ?? 2, wantGiB = memory?.gibibytes ?? 0
        for size in sizes where Double(size.vcpus) >= wantCPU {
            for family in families where Double(size.vcpus) * family.gibPerVCPU >= wantGiB {
                return "\(family.name).\(size.name)"
            }
        }
        return "r5.24xlarge"
    }

    /// Root EBS volume in GiB: the node's storage rounded up, 100 GiB when it does not say.
    static func volumeGiB(_ storage: ByteSize?) -> Int64 {
        guard let storage else { return 100 }
        return max(8, Int64(storage.gibibytes.rounded(.up)))
    }
}
