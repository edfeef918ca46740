/// Expansion onto the `aws` provider's resource types.

import ProviderKit
import StackModel

enum AWSExpansion {
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput {
        .notYet("cluster '\(cluster.name)' on platform \(cluster.platform.rawValue) (\(cluster.cloud.rawValue))", at: cluster.location)
    }

    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        .notYet("backup target '\(target.name)' (\(target.kind.rawValue))", at: target.location)
    }

    /// Once per stack: geo routing (Route 53) and other stack-wide AWS resources.
    static func stackWide(_ stack: Stack) -> PlatformOutput { PlatformOutput() }
}
