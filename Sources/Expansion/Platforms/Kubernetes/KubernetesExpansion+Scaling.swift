/// `autoscaling` on Kubernetes: the HorizontalPodAutoscaler (targets as metrics, the guide's scaling policies as its
/// `behavior`) and, for `autoscaling.vertical`, a VerticalPodAutoscaler (autoscaling.k8s.io/v1, the kind the VPA
/// project's CRD brings) bounded by the stack's minimums and maximums.
///
/// What neither autoscaler has a field for — a policy's own threshold beside the HPA's one target per metric, vertical
/// scaling's target utilisation, growth threshold, scaling factor, adjustment interval and safety margin, the storage
/// bounds — stays MAIF's runtime setting in cluster.yaml; a threshold the HPA cannot honour is a warning.

import ProviderKit
import StackModel

extension KubernetesCluster {
    /// The HPA's metric for a policy's metric name, when it is one of the pod resources.
    static func resourceMetric(_ metric: String) -> String? {
        switch metric.lowercased() {
        case "cpu", "cpu_utilization", "cpu_usage": return "cpu"
        case "memory", "memory_utilization", "memory_usage": return "memory"
        default: return nil
        }
    }

    /// The HorizontalPodAutoscaler, and warnings for what its API cannot say.
    func autoscaler(_ h: HorizontalScaling, setName: String) -> (DesiredResource, [Diagnostic]) {
        let address = address("horizontal_pod_autoscaler")
        var diagnostics: [Diagnostic] = []
        let targets: [String: Percentage?] = ["cpu": h.targetCPUUtilization, "memory": h.targetMemoryUtilization]
        var metrics: [AttributeValue] = []
        var resourceTargets: [(String, Int64)] = []
        for resource in ["cpu", "memory"] {
            if let target = targets[resource] ?? nil { resourceTargets.append((resource, Int64(target.value.rounded()))) }
        }
        var customMetrics: [(String, Double)] = []
        for (i, p) in h.policies.enumerated() {
            let at = stack.location(of: "autoscaling.horizontal.policies[\(i)].threshold") ?? p.location ?? h.location
            if let resource = Self.resourceMetric(p.metric) {
                if let target = resourceTargets.first(where: { $0.0 == resource }) {
                    if Double(target.1) != p.threshold {
                        diagnostics.append(.warning("kubernetes-hpa-policy-threshold",
                            "autoscaling.horizontal.policies[\(i)].threshold: the HorizontalPodAutoscaler of cluster '\(cluster.name)' has one target per metric and scales \(resource) toward \(target.1)%; policy '\(p.name)' (\(p.action.rawValue) at \(Self.number(p.threshold))) sets only how many pods a step adds or removes and for how long the need must hold",
                            hint: "set target_\(resource)_utilization to the utilisation you want held; MAIF reads the policy's threshold from cluster.yaml", at: at))
                    }
                } else if p.action == .scaleUp {
                    // No target for this resource: the scale-up threshold is the utilisation the HPA holds.
                    resourceTargets.append((resource, Int64(p.threshold.rounded())))
                } else {
                    diagnostics.append(.warning("kubernetes-hpa-policy-threshold",
                        "autoscaling.horizontal.policies[\(i)].threshold: the HorizontalPodAutoscaler of cluster '\(cluster.name)' has no target for \(resource) and cannot scale down on a threshold alone; policy '\(p.name)' sets only how many pods a step removes",
                        hint: "set target_\(resource)_utilization", at: at))
                }
            } else if p.action == .scaleUp {
                // Another metric: a per-pod average the custom metrics API serves (e.g. prometheus-adapter).
                if !customMetrics.contains(where: { $0.0 == p.metric }) { customMetrics.append((p.metric, p.threshold)) }
            } else {
                diagnostics.append(.warning("kubernetes-hpa-policy-threshold",
                    "autoscaling.horizontal.policies[\(i)].threshold: the HorizontalPodAutoscaler of cluster '\(cluster.name)' scales down when its metrics fall below their targets; policy '\(p.name)' (scale_down when \(p.metric) is below \(Self.number(p.threshold))) sets only how many pods a step removes",
                    hint: "a scale_up policy on \(p.metric) gives the HPA its target; MAIF reads this threshold from cluster.yaml", at: at))
            }
        }
        for (resource, target) in resourceTargets.sorted(by: { $0.0 < $1.0 }) {
            metrics.append(.map(["type": "Resource", "resource": .map([
                "name": .string(resource),
                "target": .map(["type": "Utilization", "averageUtilization": .int(target)]),
            ])]))
        }
        for (metric, threshold) in customMetrics {
            metrics.append(.map(["type": "Pods", "pods": .map([
                "metric": .map(["name": .string(metric)]),
                "target": .map(["type": "AverageValue", "averageValue": .string(Self.number(threshold))]),
            ])]))
        }

        let spec: [String: AttributeValue] = [
            "scaleTargetRef": .map(["apiVersion": "apps/v1", "kind": "StatefulSet", "name": ref(statefulSet)]),
            "minReplicas": .int(Int64(h.minNodes)),
            "maxReplicas": .int(Int64(h.maxNodes)),
            "metrics": .list(metrics),
            "behavior": .map([
                "scaleUp": .map(behavior(h.policies.filter { $0.action == .scaleUp }, cooldown: h.scaleUpCooldown)),
                "scaleDown": .map(behavior(h.policies.filter { $0.action == .scaleDown }, cooldown: h.scaleDownCooldown)),
            ]),
        ]
        let resource = DesiredResource(address: address, config: object(address, "autoscaling/v2", "HorizontalPodAutoscaler", name: setName,
                                                                        ["spec": .map(spec)]),
                                       origin: h.location ?? cluster.location)
        return (resource, diagnostics)
    }

    /// One direction of the HPA's behavior. The stabilization window is the longer of the cooldown and the longest
    /// `duration` a policy asks the need to hold (the API allows at most an hour); each policy becomes a `Pods` step of
    /// its adjustment per cooldown (at most 30 minutes), and the largest step wins.
    func behavior(_ policies: [ScalingPolicy], cooldown: TimeSpan) -> [String: AttributeValue] {
        let held = policies.compactMap(\.duration).map(KubernetesValues.seconds).max() ?? 0
        var out: [String: AttributeValue] = [
            "stabilizationWindowSeconds": .int(min(3600, max(KubernetesValues.seconds(cooldown), held))),
        ]
        if !policies.isEmpty {
            let period = min(1800, KubernetesValues.seconds(cooldown))
            var steps: [AttributeValue] = []
            for p in policies {
                let step: AttributeValue = .map(["type": "Pods", "value": .int(Int64(max(1, abs(p.adjustment)))), "periodSeconds": .int(period)])
                if !steps.contains(step) { steps.append(step) }
            }
            out["policies"] = .list(steps)
            out["selectPolicy"] = "Max"
        }
        return out
    }

    /// The VerticalPodAutoscaler of the StatefulSet: cpu and memory between the stack's minimums and maximums.
    /// With a HorizontalPodAutoscaler on cpu or memory as well, the VPA only sets requests when a pod starts
    /// (`Initial`), so the two do not fight over the same pods; otherwise it evicts and resizes (`Auto`).
    func verticalAutoscaler(_ v: VerticalScaling, setName: String) -> (DesiredResource, [Diagnostic])? {
        var minAllowed: [String: AttributeValue] = [:], maxAllowed: [String: AttributeValue] = [:]
        var controlled: [AttributeValue] = []
        if let cpu = v.cpu {
            controlled.append("cpu")
            if let c = Double(cpu.min) { minAllowed["cpu"] = .string(KubernetesValues.cpu(c)) }
            if let c = Double(cpu.max) { maxAllowed["cpu"] = .string(KubernetesValues.cpu(c)) }
        }
        if let memory = v.memory {
            controlled.append("memory")
            if let m = ByteSize(parsing: memory.min) { minAllowed["memory"] = .string(KubernetesValues.quantity(m)) }
            if let m = ByteSize(parsing: memory.max) { maxAllowed["memory"] = .string(KubernetesValues.quantity(m)) }
        }
        guard !controlled.isEmpty else { return nil }
        var diagnostics: [Diagnostic] = []
        let h = stack.autoscaling?.horizontal
        let horizontalOnResources = h.map { h in
            h.targetCPUUtilization != nil || h.targetMemoryUtilization != nil || h.policies.contains { Self.resourceMetric($0.metric) != nil }
        } ?? false
        if horizontalOnResources {
            diagnostics.append(.warning("kubernetes-vpa-initial-only",
                "autoscaling.vertical: cluster '\(cluster.name)' also scales horizontally on cpu/memory, so its VerticalPodAutoscaler sets the pods' requests only when they start (updateMode Initial) and never evicts a running pod to resize it",
                hint: "scale horizontally on another metric, or leave autoscaling.horizontal out, for the VPA to resize running pods",
                at: stack.location(of: "autoscaling.vertical") ?? h?.location ?? cluster.location))
        }
        var policy: [String: AttributeValue] = [
            "containerName": "maif",
            "controlledResources": .list(controlled),
            "controlledValues": "RequestsAndLimits",
        ]
        if !minAllowed.isEmpty { policy["minAllowed"] = .map(minAllowed) }
        if !maxAllowed.isEmpty { policy["maxAllowed"] = .map(maxAllowed) }
        let address = address("manifest", "vertical-pod-autoscaler")
        let spec: [String: AttributeValue] = [
            "targetRef": .map(["apiVersion": "apps/v1", "kind": "StatefulSet", "name": ref(statefulSet)]),
            "updatePolicy": .map(["updateMode": horizontalOnResources ? "Initial" : "Auto"]),
            "resourcePolicy": .map(["containerPolicies": .list([.map(policy)])]),
        ]
        let resource = DesiredResource(address: address, config: object(address, "autoscaling.k8s.io/v1", "VerticalPodAutoscaler", name: setName,
                                                                        ["spec": .map(spec)]),
                                       origin: stack.location(of: "autoscaling.vertical") ?? cluster.location)
        return (resource, diagnostics)
    }

    /// A number as the guide writes it: `80`, `12.5`.
    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }
}
