/// The `k8s` provider: its resource types and their schemas (see KubernetesProviderSchema.swift).

import ProviderKit

public struct KubernetesProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { KubernetesProviderSchema.provider }
    public var missingCapability: String { "the k8s provider's API client" }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register("k8s") { KubernetesProvider(configuration: $0) }
    }
}
