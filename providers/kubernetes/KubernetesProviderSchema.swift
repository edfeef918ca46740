/// Resource types of the `k8s` provider.

import ProviderKit

enum KubernetesProviderSchema {
    static let provider = ProviderSchema(provider: "k8s", resources: [
    ])
}
