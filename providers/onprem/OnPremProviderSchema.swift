/// Resource types of the `onprem` provider.

import ProviderKit

enum OnPremProviderSchema {
    static let provider = ProviderSchema(provider: "onprem", resources: [
    ])
}
