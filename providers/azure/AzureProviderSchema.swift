/// Resource types of the `azure` provider.

import ProviderKit

enum AzureProviderSchema {
    static let provider = ProviderSchema(provider: "azure", resources: [
    ])
}
