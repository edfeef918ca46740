/// Expansion onto the `kubernetes` provider's resource types.

import ProviderKit
import StackModel

enum KubernetesExpansion {
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        .notYet("cluster '\(cluster.name)' on platform \(cluster.platform.rawValue) (\(cluster.cloud.rawValue))", at: cluster.location)
    }

    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        .notYet("backup target '\(target.name)' (\(target.kind.rawValue))", at: target.location)
    }
}
