/// Horizontal auto-scaling on Azure: the named nodes run as VMs of their own; a scale set adds the rest (its instances
/// join the same backend pool), so the cluster as a whole stays within `min_nodes…max_nodes`. Its autoscale setting
/// holds the bounds and one rule per watched resource — each named VM and the scale set — so that any node above
/// the target adds a node, and only all of them below it removes one (Azure scales out when any rule says so, in when
/// every rule does); cooldowns are the guide's `scale_up_cooldown` / `scale_down_cooldown`.
///
/// Without explicit policies the CPU target drives it: out above `target_cpu_utilization`, in below half of it. Azure's
/// host metrics have no memory percentage, so `target_memory_utilization` is a warning.

import ProviderKit
import StackModel

extension AzureClusterExpansion {
    /// Azure allows ten rules per autoscale profile.
    static let maxRules = 10

    func scaleSet() -> PlatformOutput {
        var out = PlatformOutput()
        guard let h = stack.autoscaling?.horizontal else { return out }
        let origin = h.location ?? cluster.location
        let fixed = cluster.nodes.count
        let minimum = max(0, h.minNodes - fixed), maximum = max(0, h.maxNodes - fixed)
        let largest = cluster.nodes.max { a, b in
            (a.resources.cpu ?? 0, a.resources.memory?.bytes ?? 0) < (b.resources.cpu ?? 0, b.resources.memory?.bytes ?? 0)
        }
        let size = largest.map { AzureExpansion.vmSize(for: $0, cluster: cluster, deployment: deployment).0 } ?? AzureExpansion.defaultVMSize
        let dataGiB = cluster.nodes.map { AzureExpansion.diskGiB($0, stack) }.max() ?? AzureExpansion.defaultDiskGiB
        out.resources.append(resource(scaleSetAddress, [
            "name": .string("\(base)-scaled"),
            "sku": .map(["name": .string(size), "tier": "Standard", "capacity": .int(Int64(minimum))]),
            "upgrade_policy": .map(["mode": "Manual"]),
            "overprovision": false,
            "virtual_machine_profile": .map([
                "storage_profile": storageProfile(osDisk: nil, dataDisk: nil, dataGiB: dataGiB),
                "os_profile": .map([
                    "computer_name_prefix": .string(String(AzureExpansion.resourceName(cluster.name).prefix(15))),
                    "admin_username": .string(AzureExpansion.adminUsername),
                    "custom_data": .string(scaledCloudConfig()),
                    "linux_configuration": .map(["disable_password_authentication": true]),
                ]),
                "network_profile": .map([
                    "network_interface_configurations": .list([.map([
                        "name": "nic",
                        "primary": true,
                        "ip_configurations": .list([.map([
                            "name": "ipconfig1",
                            "subnet": .map(["id": ref(subnet, "id")]),
                            "load_balancer_backend_address_pools": .list([.map(["id": backendPool])]),
                        ])]),
                    ])]),
                ]),
            ]),
            "tags": .map(["maif-cluster": .string(cluster.name)]),
        ], origin: origin))

        var rules: [AttributeValue] = []
        let sources: [(AttributeValue, String)] = cluster.nodes.map { (ref(vm($0), "id"), "microsoft.compute/virtualmachines") }
            + [(ref(scaleSetAddress, "id"), "microsoft.compute/virtualmachinescalesets")]
        func add(metric: String, namespace: String?, up: Bool, threshold: Double, adjustment: Int, window: TimeSpan) {
            for (resourceURI, platformNamespace) in sources {
                let trigger: [String: AttributeValue] = [
                    "metric_name": .string(metric), "metric_namespace": .string(namespace ?? platformNamespace),
                    "metric_resource_uri": resourceURI, "time_grain": "PT1M", "statistic": "Average",
                    "time_window": .string(AzureExpansion.minutes(window, minimum: 5)), "time_aggregation": "Average",
                    "operator": up ? "GreaterThan" : "LessThan", "threshold": .double(threshold),
                ]
                rules.append(.map([
                    "metric_trigger": .map(trigger),
                    "scale_action": .map([
                        "direction": up ? "Increase" : "Decrease", "type": "ChangeCount", "value": .string(String(max(1, abs(adjustment)))),
                        "cooldown": .string(AzureExpansion.minutes(up ? h.scaleUpCooldown : h.scaleDownCooldown)),
                    ]),
                ]))
            }
        }
        if h.policies.isEmpty {
            if let cpu = h.targetCPUUtilization {
                add(metric: "Percentage CPU", namespace: nil, up: true, threshold: cpu.value, adjustment: 1, window: .seconds(300))
                add(metric: "Percentage CPU", namespace: nil, up: false, threshold: cpu.value / 2, adjustment: 1, window: .seconds(600))
            }
            if h.targetMemoryUtilization != nil {
                out.diagnostics.append(.warning("azure-autoscale-memory",
                    "Azure's host metrics give available memory in bytes, not a percentage of it; target_memory_utilization does not scale cluster '\(cluster.name)'",
                    hint: "scale on CPU, or add a policy on a metric MAIF publishes",
                    at: stack.location(of: "autoscaling.horizontal.target_memory_utilization") ?? origin))
            }
        }
        for policy in h.policies {
            let (metric, namespace) = Self.autoscaleMetric(policy.metric)
            add(metric: metric, namespace: namespace, up: policy.action == .scaleUp, threshold: policy.threshold,
                adjustment: policy.adjustment, window: policy.duration ?? .seconds(300))
        }
        if rules.count > Self.maxRules {
            out.diagnostics.append(.warning("azure-autoscale-rule-limit",
                "an Azure autoscale profile holds at most \(Self.maxRules) rules; cluster '\(cluster.name)' would need \(rules.count) (one per policy and watched node), and the last \(rules.count - Self.maxRules) are left out",
                hint: "fewer policies or fewer named nodes", at: origin))
            rules = Array(rules.prefix(Self.maxRules))
        }
        out.resources.append(resource(autoscale, [
            "name": .string("\(base)-autoscale"),
            "enabled": true,
            "target_resource_uri": ref(scaleSetAddress, "id"),
            "profiles": .list([.map([
                "name": "maif",
                "capacity": .map(["minimum": .string(String(minimum)), "maximum": .string(String(maximum)), "default": .string(String(minimum))]),
                "rules": .list(rules),
            ])]),
        ], origin: origin))
        return out
    }

    /// A stack metric as Azure Monitor names it: CPU is a platform metric; anything else is one MAIF publishes itself.
    static func autoscaleMetric(_ metric: String) -> (String, String?) {
        metric == "cpu_utilization" ? ("Percentage CPU", nil) : (metric, "MAIF")
    }
}
