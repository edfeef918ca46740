/// The `azure` provider: its resource types and their schemas (see AzureProviderSchema.swift).

import ProviderKit

public struct AzureProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { AzureProviderSchema.provider }
    public var missingCapability: String { "the azure provider's API client" }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register("azure") { AzureProvider(configuration: $0) }
    }
}
