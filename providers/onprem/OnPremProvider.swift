/// The `onprem` provider: its resource types and their schemas (see OnPremProviderSchema.swift).

import ProviderKit

public struct OnPremProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { OnPremProviderSchema.provider }
    public var missingCapability: String { "the onprem provider's API client" }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register("onprem") { OnPremProvider(configuration: $0) }
    }
}
