/// The `azure` provider: its resource types and their schemas (see AzureProviderSchema.swift).

import ProviderKit

public struct AzureProvider: SchemaOnlyProvider {
    let schemaValue = AzureProviderSchema.provider

    public init(configuration: ProviderConfiguration) throws {
        _ = try configuration.secret("client_secret")
    }

    public var schema: ProviderSchema { schemaValue }
    public var missingCapability: String { "the azure provider's API client" }

    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        OwnerTags.add(to: config, context, schema: schemaValue)
    }

    public static let settings = SettingsSchema([
        SettingSchema("subscription", .string, description: "the subscription id resources are created in"),
        SettingSchema("region", .string, description: "the default location, e.g. East US"),
        SettingSchema("endpoint", .string, description: "the Azure Resource Manager endpoint (sovereign clouds, local test servers)"),
        SettingSchema("tenant", .string, description: "the Microsoft Entra tenant of the service principal"),
        SettingSchema("client_id", .string, description: "the service principal's application (client) id"),
        SettingSchema("client_secret", .string, references: .required, description: "the service principal's secret, by reference"),
    ])

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "azure", version: "0.1.0", summary: "Microsoft Azure Resource Manager",
                                             applies: false, settings: settings, schema: AzureProviderSchema.provider) {
            try AzureProvider(configuration: $0)
        })
    }
}
