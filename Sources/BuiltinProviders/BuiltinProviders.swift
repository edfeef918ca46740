/// Every provider that ships inside maifctl, registered by name.

import AWSProvider
import AzureProvider
import GCPProvider
import KubernetesProvider
import LocalProvider
import OnPremProvider
import ProviderKit
import SwarmProvider

public enum BuiltinProviders {
    public static let registry: ProviderRegistry = {
        var r = ProviderRegistry()
        LocalProvider.register(in: &r)
        AWSProvider.register(in: &r)
        GCPProvider.register(in: &r)
        AzureProvider.register(in: &r)
        KubernetesProvider.register(in: &r)
        SwarmProvider.register(in: &r)
        OnPremProvider.register(in: &r)
        return r
    }()
}
