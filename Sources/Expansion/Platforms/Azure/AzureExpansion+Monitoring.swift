/// Azure Monitor metric alerts for `monitoring.alert_rules`: a CPU condition watches the cluster's VMs (one alert over
/// all of them, each evaluated on its own) and, with auto-scaling, the scale set; `node_status == 'down'` watches the
/// load balancer's health probe (below 100 % of the backends answering). The window is the rule's `duration`, rounded
/// up to one Azure has (1, 5, 15, 30 minutes, 1, 6, 12 hours, 1 day); severities map critical → 0, warning → 2,
/// info → 3. Azure's platform metrics have nothing else the stacks name, so other conditions are warnings.
///
/// The metric alerts have no action group (the ARM stand-in's specs have no Microsoft.Insights/actionGroups to check one
/// against), so `monitoring.notifications` are reached as on premises: the Prometheus alert rules and the Alertmanager
/// route (Alerting) are files of the first node's cloud-config, /etc/maif/alerting/maif-rules.yml and alertmanager.yml.

import ProviderKit
import StackModel

extension AzureClusterExpansion {
    static let windows: [(minutes: Int, text: String)] = [
        (1, "PT1M"), (5, "PT5M"), (15, "PT15M"), (30, "PT30M"), (60, "PT1H"), (360, "PT6H"), (720, "PT12H"), (1440, "P1D"),
    ]

    /// The alert rules and the Alertmanager route the first node's cloud-config writes; nil without alert rules.
    var alerting: Alerting.Files? {
        Alerting.files(for: cluster, in: stack, platform: "Azure cluster '\(cluster.name)' (Alertmanager on its first node)")
    }

    func alerts() -> PlatformOutput {
        var out = PlatformOutput()
        guard let monitoring = stack.monitoring, monitoring.alertingEnabled else { return out }
        if let alerting, let first = cluster.nodes.first {
            out.diagnostics += alerting.diagnostics
            if !monitoring.notifications.isEmpty {
                out.diagnostics.append(.warning("azure-metric-alerts-without-action-group",
                    "the Azure Monitor metric alerts of cluster '\(cluster.name)' have no action group (the ARM stand-in has no Microsoft.Insights/actionGroups spec to check one against), so they notify nobody themselves; monitoring.notifications are routed by Alertmanager on the cluster's first node '\(first.id)', whose custom data writes the alert rules and the route to \(VMBootstrap.alertingPath(""))",
                    hint: "run Prometheus (rule_files: [\(VMBootstrap.alertingPath(Alerting.rulesFile))]) and Alertmanager (--config.file=\(VMBootstrap.alertingPath(Alerting.alertmanagerFile))) on node '\(first.id)', as on premises; the metric alerts still show in the Azure portal",
                    at: stack.location(of: "monitoring.notifications") ?? monitoring.location))
            }
        }
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
                 "alert rule '\(rule.name)': Azure Monitor has no platform metric for `\(rule.condition)`; cluster '\(cluster.name)' gets no metric alert for it"
                    + (alerting == nil || cluster.nodes.isEmpty ? "" : ", only the Prometheus rule its first node's custom data writes"),
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
