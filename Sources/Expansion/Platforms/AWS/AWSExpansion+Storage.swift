/// An `s3` backup target of `disaster_recovery`: a private, versioned bucket, KMS-encrypted when the target
/// says `encryption`, whose old backups expire after `high_availability.retention_period`.

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
            config["server_side_encryption"] = .map(["sse_algorithm": "aws:kms", "bucket_key_enabled": true])
        }
        return PlatformOutput(resources: [DesiredResource(address: address, config: config, origin: target.location)])
    }
}
