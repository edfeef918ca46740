/// Resource types of the `k8s` provider. Every type carries the whole object as `manifest`, exactly as it is
/// server-side applied (apiVersion, kind, metadata, spec), plus its identity, which cannot change in place.

import ProviderKit

enum KubernetesProviderSchema {
    static let provider = ProviderSchema(provider: "k8s", resources: [
        object("k8s.namespace", "A Namespace (v1).", namespaced: false, extra: [
            "retain_on_destroy": .init(.bool, description: "leave the namespace in the cluster on destroy (built-in namespaces such as default cannot be deleted)"),
        ]),
        object("k8s.config_map", "A ConfigMap (v1): MAIF's cluster.yaml."),
        object("k8s.stateful_set", "A StatefulSet (apps/v1): one pod per MAIF node, each with its own volume claim."),
        object("k8s.service", "A Service (v1): the headless service of the StatefulSet, or the client service.", extra: [
            "endpoint": .init(.string, description: "the service's cluster DNS name and port; recorded for `maifctl output`"),
        ]),
        object("k8s.horizontal_pod_autoscaler", "A HorizontalPodAutoscaler (autoscaling/v2) scaling the StatefulSet."),
        object("k8s.pod_disruption_budget", "A PodDisruptionBudget (policy/v1) keeping a quorum of pods up."),
        object("k8s.cron_job", "A CronJob (batch/v1): one kind of backup of the schedule."),
        object("k8s.prometheus_rule", "A PrometheusRule (monitoring.coreos.com/v1) of the Prometheus operator: the stack's alert rules."),
        object("k8s.secret", "A Secret (v1). The manifest holds no data; values come from `data` or are read at apply from `data_from`.", extra: [
            "data": .init(.map, sensitive: true, description: "key → value; never shown or stored in clear text"),
            "data_from": .init(.map, description: "key → `env:NAME` or `file:PATH`, read by the provider when it applies the secret"),
        ]),
    ])

    /// The attributes every Kubernetes object has; `extra` adds the type's own.
    static func object(_ type: String, _ description: String, namespaced: Bool = true,
                       extra: [String: AttributeSchema] = [:]) -> ResourceSchema {
        var attributes: [String: AttributeSchema] = [
            "manifest": .init(.map, required: true, description: "the full object as server-side applied: apiVersion, kind, metadata, spec"),
            "name": .init(.string, required: true, forceNew: true, description: "metadata.name"),
            "uid": .init(.string, computed: true, description: "metadata.uid, set by the API server"),
            "resource_version": .init(.string, computed: true, description: "metadata.resourceVersion, set by the API server"),
        ]
        if namespaced {
            attributes["namespace"] = .init(.string, required: true, forceNew: true, description: "metadata.namespace")
        }
        attributes.merge(extra) { _, new in new }
        return ResourceSchema(type: type, description: description, attributes: attributes)
    }
}
