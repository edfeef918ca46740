/// The `aws` provider: its resource types and their schemas (see AWSProviderSchema.swift).

import ProviderKit

public struct AWSProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) {}

    public var schema: ProviderSchema { AWSProviderSchema.provider }
    public var missingCapability: String { "the aws provider's API client" }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register("aws") { AWSProvider(configuration: $0) }
    }
}
