/// The `gcp` provider: its resource types and their schemas (see GCPProviderSchema.swift).

import ProviderKit

public struct GCPProvider: SchemaOnlyProvider {
    public init(configuration: ProviderConfiguration) throws {
        _ = try configuration.secret("credentials")
    }

    public var schema: ProviderSchema { GCPProviderSchema.provider }
    public var missingCapability: String { "the gcp provider's API client" }

    public static let settings = SettingsSchema([
        SettingSchema("project", .string, description: "the project resources are created in"),
        SettingSchema("region", .string, description: "the default region for regional resources"),
        SettingSchema("endpoint", .string, description: "a root URL that replaces https://www.googleapis.com (local test servers)"),
        SettingSchema("credentials", .string, references: .required,
                      description: "a service-account or authorized-user JSON key, by reference; else GOOGLE_APPLICATION_CREDENTIALS"),
    ])

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "gcp", version: "0.1.0", summary: "Google Cloud: Compute Engine, Cloud Storage",
                                             applies: false, settings: settings, schema: GCPProviderSchema.provider) {
            try GCPProvider(configuration: $0)
        })
    }
}
