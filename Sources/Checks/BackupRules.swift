/// Backups that can be taken: every backup target a cluster's nodes write to is one they can reach from where they run.

import StackModel

enum BackupRules {
    static let rules: [Rule] = [
        Rule("backup.target-reachable", .error, "every backup target is reachable from the nodes that write to it") { s in
            var out: [Finding] = []
            let targets = s.disasterRecovery?.backupTargets ?? []
            for (i, target) in targets.enumerated() {
                for cluster in s.clusters where writes(cluster, to: target, in: s) {
                    guard let why = unreachable(target, from: cluster, in: s) else { continue }
                    out.append(Finding(message: "backup target '\(target.name)' (\(target.kind.rawValue)) cannot be reached from cluster '\(cluster.name)' (\(where_(cluster, in: s))): \(why.message)",
                                       hint: why.hint, keyPath: "disaster_recovery.backup_targets[\(i)]"))
                }
            }
            return out
        },
    ]

    /// Whether the cluster's nodes write to the target: every target its restricted data may go to (Placement), less
    /// the S3 buckets of secondary regions that replication fills from a cluster in the primary region.
    static func writes(_ cluster: Cluster, to target: BackupTarget, in stack: Stack) -> Bool {
        for dataClass in Placement.dataClasses(heldBy: cluster, in: stack)
        where !Placement.backupTargets(forDataClass: dataClass, in: stack).contains(where: { $0.name == target.name }) {
            return false
        }
        if let crr = stack.disasterRecovery?.crossRegionReplication, target.kind == .s3,
           let region = Placement.site(of: target, in: stack).region.map(Placement.normalized),
           crr.secondaryRegions.map(Placement.normalized).contains(region),
           Placement.region(of: cluster, in: stack).map(Placement.normalized) == Placement.normalized(crr.primaryRegion),
           (stack.disasterRecovery?.backupTargets ?? []).contains(where: {
               $0.kind == .s3 && Placement.site(of: $0, in: stack).region.map(Placement.normalized) == Placement.normalized(crr.primaryRegion)
           }) {
            return false
        }
        return true
    }

    static func where_(_ cluster: Cluster, in stack: Stack) -> String {
        let region = Placement.region(of: cluster, in: stack)
        return cluster.platform.rawValue + (cluster.platform == .vm ? " on \(cluster.cloud.rawValue)" : "") + (region.map { " in \($0)" } ?? "")
    }

    /// Why the target cannot be reached, or nil when it can.
    static func unreachable(_ target: BackupTarget, from cluster: Cluster, in stack: Stack) -> (message: String, hint: String)? {
        switch target.kind {
        case .local:
            guard cluster.platform != .local else { return nil }
            return ("a local target is a directory on the machine running maifctl", "use a bucket or an onprem target the nodes can reach")
        case .onprem:
            if cluster.platform == .onprem || cluster.platform == .local { return nil }
            if stack.hybrid?.secureConnectivity?.vpnTunnels == true { return nil }
            return ("an on-premises host is reached from the cloud only through the hybrid VPN, and hybrid.secure_connectivity.vpn_tunnels is not on",
                    "set hybrid.secure_connectivity.vpn_tunnels: true, or back this cluster up to a bucket")
        case .s3, .gcs, .azureBlob:
            let (cloud, keys): (CloudKind, [String]) = switch target.kind {
            case .s3: (.aws, ["access_key_id"])
            case .gcs: (.gcp, ["credentials"])
            default: (.azure, ["client_secret"])
            }
            if Placement.site(of: target, in: stack).region == nil {
                return ("the bucket has no region", "set region on the backup target (or under clouds.\(cloud.rawValue))")
            }
            // The cloud's own VMs reach its buckets through their identity (an instance profile on AWS).
            if cluster.platform == .vm, cluster.cloud == cloud { return nil }
            let settings = stack.clouds[cloud.rawValue]
            if keys.contains(where: { settings?.reference($0) != nil }) { return nil }
            return ("its nodes run outside \(cloud.rawValue) and clouds.\(cloud.rawValue) names no credential for them (\(keys.joined(separator: ", ")) by reference)",
                    "add clouds.\(cloud.rawValue).\(keys[0]): {env: NAME} (or {file: PATH}), or back this cluster up to a target of its own cloud")
        }
    }
}
