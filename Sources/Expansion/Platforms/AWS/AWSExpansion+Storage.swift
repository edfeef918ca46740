/// An `s3` backup target of `disaster_recovery`: a private, versioned bucket, encrypted with its region's backup KMS
/// key when the target says `encryption`, whose old backups expire after `high_availability.retention_period`, and
/// which replicates to the secondary regions' buckets when it is a primary of `cross_region_replication`.

import ProviderKit
import StackModel

extension AWSExpansion {
    static func backupTarget(_ target: BackupTarget, in stack: Stack) -> PlatformOutput {
        let address = ResourceAddress(provider: "aws", kind: "s3_bucket", name: target.name)
        guard let region = Placement.site(of: target, in: stack).region else {
            return PlatformOutput(diagnostics: [.error("aws-region-missing", "backup target '\(target.name)' (s3) has no region",
                                                       hint: "set region on the backup target, under stack, or under clouds.aws", at: target.location)])
        }
        let retention = stack.highAvailability?.retentionPeriod ?? HighAvailability().retentionPeriod
        let days = AttributeValue.int(max(1, Int64((retention.seconds / 86_400).rounded(.up))))
        var config: [String: AttributeValue] = [
            "bucket": .string(target.bucket ?? target.name),
            "region": .string(region),
            "versioning": true,
            "lifecycle_rules": .list([.map([
                "id": "maif-backup-retention",
                "status": "Enabled",
                "filter": .map(["prefix": ""]),
                "expiration": .map(["days": days]),
                "noncurrent_version_expiration": .map(["noncurrent_days": days]),
                "abort_incomplete_multipart_upload": .map(["days_after_initiation": 7]),
            ])]),
            "public_access_block": .map([
                "block_public_acls": true, "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true,
            ]),
            "tags": tags(["maif:backup_target": target.name]),
        ]
        if target.encryption {
            config["server_side_encryption"] = .map([
                "sse_algorithm": "aws:kms", "kms_master_key_id": reference(backupKey(region), "arn"), "bucket_key_enabled": true,
            ])
        }
        if let audit = AWSAuditTrail(stack), audit.target?.name == target.name {
            config["policy"] = .string(audit.bucketPolicy)
        }
        if let replication = Backups.replication(in: stack).first(where: { $0.source.name == target.name }) {
            config["replication"] = .map([
                "role": reference(replicationRole(stack), "arn"),
                "rules": .list(replication.destinations.enumerated().map { i, destination in
                    var rule: [String: AttributeValue] = [
                        "id": .string("maif-to-\(destination.name)"),
                        "priority": .int(Int64(i + 1)),
                        "status": "Enabled",
                        "prefix": "",
                        "destination_bucket": reference(bucketAddress(destination), "arn"),
                    ]
                    if destination.encryption, let region = Placement.site(of: destination, in: stack).region {
                        rule["replica_kms_key_id"] = reference(backupKey(region), "arn")
                    }
                    return .map(rule)
                }),
            ])
        }
        return PlatformOutput(resources: [DesiredResource(address: address, config: config, origin: target.location)])
    }

    static func bucketAddress(_ target: BackupTarget) -> ResourceAddress {
        ResourceAddress(provider: "aws", kind: "s3_bucket", name: target.name)
    }

    /// The customer-managed KMS key that encrypts a region's backup buckets, so that node and replication policies
    /// can name exactly it.
    static func backupKey(_ region: String) -> ResourceAddress {
        ResourceAddress(provider: "aws", kind: "kms_key", name: "backups.\(region)")
    }

    static func replicationRole(_ stack: Stack) -> ResourceAddress {
        ResourceAddress(provider: "aws", kind: "iam_role", name: "\(stack.meta.name).replication")
    }

    /// Per region with encrypted S3 targets a KMS key; for `cross_region_replication` the role S3 replicates as, with
    /// a policy naming exactly the primary buckets (read) and the secondary ones (replicate into), and their keys.
    static func backupEncryptionAndReplication(_ stack: Stack) -> PlatformOutput {
        var out = PlatformOutput()
        let targets = (stack.disasterRecovery?.backupTargets ?? []).filter { $0.kind == .s3 }
        var keyRegions: [String: BackupTarget] = [:]
        for target in targets where target.encryption {
            if let region = Placement.site(of: target, in: stack).region, keyRegions[region] == nil { keyRegions[region] = target }
        }
        let audit = AWSAuditTrail(stack)
        for (region, first) in keyRegions.sorted(by: { $0.key < $1.key }) {
            var config: [String: AttributeValue] = [
                "description": .string("MAIF backups of stack \(stack.meta.name) in \(region)"),
                "enable_key_rotation": true,
                "deletion_window_in_days": 30,
                "region": .string(region),
                "tags": tags(["maif:purpose": "backups"]),
            ]
            // The audit trail encrypts its log files with the key of the bucket it delivers to.
            if let audit, audit.key == backupKey(region) { config["policy"] = .string(audit.keyPolicy) }
            out.resources.append(DesiredResource(address: backupKey(region), config: config, origin: first.location))
        }
        let replication = Backups.replication(in: stack)
        guard !replication.isEmpty, let crr = stack.disasterRecovery?.crossRegionReplication else { return out }
        func arn(_ t: BackupTarget) -> String { "arn:aws:s3:::\(t.bucket ?? t.name)" }
        let sources = replication.map(\.source)
        var seen = Set<String>()
        let destinations = replication.flatMap(\.destinations).filter { seen.insert($0.name).inserted }
        var statements: [AttributeValue] = [
            statement("ReadSources", ["s3:GetReplicationConfiguration", "s3:ListBucket"], sources.map(arn)),
            statement("ReadSourceVersions", ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                      sources.map { arn($0) + "/*" }),
            statement("ReplicateIntoDestinations", ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                      destinations.map { arn($0) + "/*" }),
        ]
        func keys(_ ts: [BackupTarget]) -> [String] {
            Set(ts.filter(\.encryption).compactMap { Placement.site(of: $0, in: stack).region }).sorted().map { "${\(backupKey($0)).arn}" }
        }
        if !keys(sources).isEmpty { statements.append(statement("DecryptSources", ["kms:Decrypt"], keys(sources))) }
        if !keys(destinations).isEmpty { statements.append(statement("EncryptReplicas", ["kms:Encrypt", "kms:GenerateDataKey"], keys(destinations))) }
        let role = replicationRole(stack)
        out.resources.append(DesiredResource(address: role, config: [
            "name": .string(iamName("maif-\(stack.meta.name)-replication")),
            "description": .string("S3 replication of the MAIF backups of stack \(stack.meta.name)"),
            "assume_role_policy": .string(policy([.map([
                "Effect": "Allow", "Principal": .map(["Service": "s3.amazonaws.com"]), "Action": "sts:AssumeRole",
            ])])),
            "tags": tags(),
        ], origin: crr.location))
        out.resources.append(DesiredResource(address: ResourceAddress(provider: "aws", kind: "iam_role_policy", name: "\(stack.meta.name).replication"), config: [
            "role": reference(role, "name"),
            "name": "maif-replication",
            "policy": .string(policy(statements)),
        ], origin: crr.location))
        return out
    }
}
