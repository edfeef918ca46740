/// The `k8s` provider: its resource types and their schemas (see KubernetesProviderSchema.swift).

import ProviderKit

public struct KubernetesProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { KubernetesProviderSchema.provider }
    public var missingCapability: String { "the k8s provider's API client" }

    public static let settings = SettingsSchema([
        SettingSchema("kubeconfig", .path, description: "the kubeconfig file; else KUBECONFIG, else ~/.kube/config"),
        SettingSchema("context", .string, description: "the kubeconfig context; else its current-context"),
        SettingSchema("namespace", .string, description: "the namespace the stack's objects live in (default: default)"),
    ])

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "k8s", section: "kubernetes", version: "0.1.0", summary: "Kubernetes API objects",
                                             applies: false, settings: settings, schema: KubernetesProviderSchema.provider) {
            KubernetesProvider(configuration: $0)
        })
    }
}
