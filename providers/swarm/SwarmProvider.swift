/// The `swarm` provider: its resource types and their schemas (see SwarmProviderSchema.swift).

import ProviderKit

public struct SwarmProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { SwarmProviderSchema.provider }
    public var missingCapability: String { "the swarm provider's API client" }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register("swarm") { SwarmProvider(configuration: $0) }
    }
}
