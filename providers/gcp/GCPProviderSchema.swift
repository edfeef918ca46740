/// Resource types of the `gcp` provider.

import ProviderKit

enum GCPProviderSchema {
    static let provider = ProviderSchema(provider: "gcp", resources: [
    ])
}
