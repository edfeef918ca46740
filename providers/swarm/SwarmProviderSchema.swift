/// Resource types of the `swarm` provider.

import ProviderKit

enum SwarmProviderSchema {
    static let provider = ProviderSchema(provider: "swarm", resources: [
    ])
}
