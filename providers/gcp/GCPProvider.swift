/// The `gcp` provider: its resource types and their schemas (see GCPProviderSchema.swift).

import ProviderKit

public struct GCPProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { GCPProviderSchema.provider }
    public var missingCapability: String { "the gcp provider's API client" }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register("gcp") { GCPProvider(configuration: $0) }
    }
}
