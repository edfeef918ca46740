/// Resource types of the `k8s` provider. Every type carries the whole object as `manifest`, exactly as it is
/// server-side applied (apiVersion, kind, metadata, spec), plus its identity, which cannot change in place, and how
/// apply treats it (force_conflicts, waiting). `k8s.manifest` takes any kind, custom resources included.

import ProviderKit

enum KubernetesProviderSchema {
    /// The kind each typed resource must carry (`k8s.manifest` takes any).
    static let kinds: [String: (apiVersion: String, kind: String)] = [
        "k8s.namespace": ("v1", "Namespace"),
        "k8s.config_map": ("v1", "ConfigMap"),
        "k8s.secret": ("v1", "Secret"),
        "k8s.service": ("v1", "Service"),
        "k8s.persistent_volume_claim": ("v1", "PersistentVolumeClaim"),
        "k8s.stateful_set": ("apps/v1", "StatefulSet"),
        "k8s.deployment": ("apps/v1", "Deployment"),
        "k8s.horizontal_pod_autoscaler": ("autoscaling/v2", "HorizontalPodAutoscaler"),
        "k8s.pod_disruption_budget": ("policy/v1", "PodDisruptionBudget"),
        "k8s.custom_resource_definition": ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        "k8s.cron_job": ("batch/v1", "CronJob"),
        "k8s.prometheus_rule": ("monitoring.coreos.com/v1", "PrometheusRule"),
    ]

    static let provider = ProviderSchema(provider: "k8s", resources: [
        object("k8s.namespace", "A Namespace (v1).", namespaced: false, extra: [
            "retain_on_destroy": .init(.bool, description: "leave the namespace in the cluster on destroy (built-in namespaces such as default cannot be deleted)"),
        ]),
        object("k8s.config_map", "A ConfigMap (v1): MAIF's cluster.yaml."),
        object("k8s.stateful_set", "A StatefulSet (apps/v1): one pod per MAIF node, each with its own volume claim. Apply waits for its rollout."),
        object("k8s.deployment", "A Deployment (apps/v1). Apply waits for its rollout."),
        object("k8s.service", "A Service (v1): the headless service of the StatefulSet, or the client service.", extra: [
            "endpoint": .init(.string, description: "the service's cluster DNS name and port; recorded for `maifctl output`"),
        ]),
        object("k8s.persistent_volume_claim", "A PersistentVolumeClaim (v1). With `wait: true`, apply waits until it is Bound."),
        object("k8s.horizontal_pod_autoscaler", "A HorizontalPodAutoscaler (autoscaling/v2) scaling the StatefulSet."),
        object("k8s.pod_disruption_budget", "A PodDisruptionBudget (policy/v1) keeping a quorum of pods up."),
        object("k8s.cron_job", "A CronJob (batch/v1): one kind of backup of the schedule."),
        object("k8s.prometheus_rule", "A PrometheusRule (monitoring.coreos.com/v1) of the Prometheus operator: the stack's alert rules."),
        object("k8s.secret", "A Secret (v1). The manifest holds no data; values come from `data` or are read at plan and apply from `data_from`.", extra: [
            "data": .init(.map, sensitive: true, description: "key → value; never shown or stored in clear text"),
            "data_from": .init(.map, description: "key → `env:NAME` or `file:PATH`, read by the provider when it plans and applies the secret"),
            "data_from_values": .init(.map, computed: true, sensitive: true, description: "the values data_from read (base64), kept only as a keyed hash: a rotated credential is a change"),
        ]),
        object("k8s.custom_resource_definition", "A CustomResourceDefinition (apiextensions.k8s.io/v1). Apply waits until it is Established, so objects of its kinds can follow.",
               namespaced: false),
        object("k8s.manifest", "Any Kubernetes object, custom resources included: kind and scope come from the API server's discovery.", extra: [
            "namespace": .init(.string, forceNew: true, description: "metadata.namespace of a namespaced kind; default: the manifest's, else clouds.kubernetes.namespace, the context's, or default"),
        ]),
    ])

    /// The attributes every Kubernetes object has; `extra` adds the type's own.
    static func object(_ type: String, _ description: String, namespaced: Bool = true,
                       extra: [String: AttributeSchema] = [:]) -> ResourceSchema {
        var attributes: [String: AttributeSchema] = [
            "manifest": .init(.map, required: true, description: "the full object as server-side applied: apiVersion, kind, metadata, spec"),
            "name": .init(.string, forceNew: true, description: "metadata.name (default: the manifest's)"),
            "uid": .init(.string, computed: true, description: "metadata.uid, set by the API server"),
            "path": .init(.string, computed: true, description: "the object's API path, from discovery (for a kind a CRD of the same apply brings: known after the CRD is applied)"),
            "force_conflicts": .init(.bool, description: "take over fields another field manager owns (server-side apply force); default clouds.kubernetes.force_conflicts"),
            "wait": .init(.bool, description: "wait until the object is ready: rollouts and CRDs by default, a volume claim's Bound only when true"),
            "timeout": .init(.string, description: "how long to wait for readiness, e.g. 90s or 10m (default clouds.kubernetes.wait_timeout)"),
            "delete_timeout": .init(.string, description: "how long destroy waits for the object (and its finalizers) to be gone (default clouds.kubernetes.delete_timeout)"),
        ]
        if namespaced {
            attributes["namespace"] = .init(.string, forceNew: true, description: "metadata.namespace (default: the manifest's, else clouds.kubernetes.namespace, the context's, or default)")
        }
        attributes.merge(extra) { _, new in new }
        return ResourceSchema(type: type, description: description, attributes: attributes)
    }
}
