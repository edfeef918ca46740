/// What one platform contributes to expansion. Each platform's folder implements this once; `Expander.platforms`
/// lists them, and is the one place a new platform is registered.

import StackModel

protocol PlatformExpansion: Sendable {
    /// Whether this platform expands the cluster (by its `platform` and `cloud`).
    static func expands(_ cluster: Cluster) -> Bool
    static func cluster(_ cluster: Cluster, in stack: Stack) -> PlatformOutput
    /// The backup target kinds this platform's provider stores.
    static var backupKinds: Set<BackupTargetKind> { get }
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput
    /// What the platform adds once per stack, whatever its clusters (geo routing records, say).
    static func stackWide(_ stack: Stack) -> PlatformOutput
}

extension PlatformExpansion {
    static var backupKinds: Set<BackupTargetKind> { [] }
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput { PlatformOutput() }
    static func stackWide(_ stack: Stack) -> PlatformOutput { PlatformOutput() }
}
