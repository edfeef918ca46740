/// Azure Monitor metric alerts for `monitoring.alert_rules`: a CPU condition watches the cluster's VMs (one alert over
/// all of them, each evaluated on its own) and, with auto-scaling, the scale set; `node_status == 'down'` watches the
/// load balancer's health probe (below 100 % of the backends answering). The window is the rule's `duration`, rounded
/// up to one Azure has (1, 5, 15, 30 minutes, 1, 6, 12 hours, 1 day); severities map critical → 0, warning → 2,
/// info → 3. Azure's platform metrics have nothing else the stacks name, so other conditions are warnings.

import ProviderKit
import StackModel

extension AzureClusterExpansion {
    static let windows: [(minutes: Int, text: String)] = [
        (1, "PT1M"), (5, "PT5M"), (15, "PT15M"), (30, "PT30M"), (60, "PT1H"), (360, "PT6H"), (720, "PT12H"), (1440, "P1D"),
    ]

    func alerts() -> PlatformOutput {
        var out = PlatformOutput()
        guard let monitoring = stack.monitoring, monitoring.alertingEnabled else { return out }
        for rule in monitoring.alertRules {
            let minutes = Int((rule.duration.seconds / 60).rounded(.up))
            let window = Self.windows.first { $0.minutes >= minutes }?.text ?? "P1D"
            var common: [String: AttributeValue] = [
                "location": "global",
                "description": .string("MAIF alert rule \(rule.name) (\(rule.severity.rawValue)) of cluster \(cluster.name): \(rule.condition) for \(rule.duration)"),
                "severity": .int(Self.severity(rule.severity)),
                "enabled": true,
                "evaluation_frequency": "PT1M",
                "window_size": .string(window),
                "auto_mitigate": true,
                "actions": .list([]),
                "tags": .map(["maif-cluster": .string(cluster.name), "maif-severity": .string(rule.severity.rawValue)]),
            ]
            let condition = rule.condition
            let name = AzureExpansion.resourceName(base, rule.name)
            switch condition.threshold {
            case .string(let state):
                guard condition.metric == "node_status",
                      (condition.comparison == .equal && state == "down") || (condition.comparison == .notEqual && state == "up") else {
                    out.diagnostics.append(unmapped(rule))
                    continue
                }
                common["name"] = .string(name)
                common["scopes"] = .list([ref(balancer, "id")])
                common["criteria"] = criteria(single: true, rule.name, metric: "DipAvailability", namespace: "Microsoft.Network/loadBalancers",
                                            operator: "LessThan", threshold: 100)
                out.resources.append(resource(address("metric_alert", rule.name), common, origin: rule.location))
            case .number(let threshold):
                guard condition.metric == "cpu_utilization", let op = Self.comparison(condition.comparison) else {
                    out.diagnostics.append(unmapped(rule))
                    continue
                }
                var vms = common
                vms["name"] = .string(name)
                vms["scopes"] = .list(cluster.nodes.map { ref(vm($0), "id") })
                if cluster.nodes.count > 1 {
                    vms["target_resource_type"] = "Microsoft.Compute/virtualMachines"
                    vms["target_resource_region"] = .string(location)
                }
                vms["criteria"] = criteria(single: cluster.nodes.count == 1, rule.name, metric: "Percentage CPU",
                                           namespace: "Microsoft.Compute/virtualMachines", operator: op, threshold: threshold)
                out.resources.append(resource(address("metric_alert", rule.name), vms, origin: rule.location))
                if stack.autoscaling?.horizontal != nil {
                    var scaled = common
                    scaled["name"] = .string("\(name)-scaled")
                    scaled["scopes"] = .list([ref(scaleSetAddress, "id")])
                    scaled["criteria"] = criteria(single: true, rule.name, metric: "Percentage CPU",
                                                  namespace: "Microsoft.Compute/virtualMachineScaleSets", operator: op, threshold: threshold)
                    out.resources.append(resource(address("metric_alert", rule.name, "scaled"), scaled, origin: rule.location))
                }
            }
        }
        return out
    }

    private func criteria(single: Bool, _ name: String, metric: String, namespace: String, operator op: String, threshold: Double) -> AttributeValue {
        .map([
            "odata_type": .string(single ? "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
                                         : "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria"),
            "all_of": .list([.map([
                "criterion_type": "StaticThresholdCriterion",
                "name": .string(name),
                "metric_name": .string(metric),
                "metric_namespace": .string(namespace),
                "operator": .string(op),
                "threshold": .double(threshold),
                "time_aggregation": "Average",
            ])]),
        ])
    }

    private func unmapped(_ rule: AlertRule) -> Diagnostic {
        .warning("azure-alert-unmapped",
                 "alert rule '\(rule.name)': Azure Monitor has no platform metric for `\(rule.condition)`; cluster '\(cluster.name)' gets no alert for it",
                 hint: "cpu_utilization comparisons and node_status == 'down' become metric alerts on Azure", at: rule.location)
    }

    static func severity(_ s: AlertSeverity) -> Int64 {
        switch s {
        case .critical: return 0
        case .warning: return 2
        case .info: return 3
        }
    }

    static func comparison(_ c: Condition.Comparison) -> String? {
        switch c {
        case .greater: return "GreaterThan"
        case .greaterOrEqual: return "GreaterThanOrEqual"
        case .less: return "LessThan"
        case .lessOrEqual: return "LessThanOrEqual"
        case .equal, .notEqual: return nil
        }
    }
}
