/// `security.audit_logging` on a stack with AWS clusters: a CloudTrail trail of every region (and the global services, with log file
/// validation) delivering to the stack's first s3 backup bucket under `audit-logs/` — or to a bucket of its own when
/// the stack backs up nowhere on S3 — with the bucket policy CloudTrail needs (AWSCloudTrailAclCheck,
/// AWSCloudTrailWrite, both bound to this trail by `aws:SourceArn`). When that bucket is KMS-encrypted, the log files
/// are encrypted with the same key, whose policy then lets CloudTrail (this account's trails) use it. The policies
/// name the account, so they reference `aws.caller_identity.<stack>`.

import ProviderKit
import StackModel

struct AWSAuditTrail {
    let stack: Stack
    /// The s3 backup target the trail delivers to; nil for a bucket of its own.
    let target: BackupTarget?
    let region: String
    let location: SourceLocation?

    static let prefix = "audit-logs"

    /// nil when the stack does not ask for audit logging or runs no cluster on AWS (a stack that only keeps backups
    /// in S3 audits on its own platform, through cluster.yaml).
    init?(_ stack: Stack) {
        guard let security = stack.security, security.auditLogging,
              let cluster = stack.clusters.first(where: AWSExpansion.expands), let clusterRegion = Placement.region(of: cluster, in: stack)
        else { return nil }
        self.stack = stack
        location = stack.location(of: "security.audit_logging") ?? security.location
        let s3 = (stack.disasterRecovery?.backupTargets ?? []).filter { $0.kind == .s3 }
        if let target = s3.first(where: { Placement.site(of: $0, in: stack).region != nil }),
           let region = Placement.site(of: target, in: stack).region {
            self.target = target
            self.region = region
        } else {
            target = nil
            region = clusterRegion
        }
    }

    var identity: ResourceAddress { ResourceAddress(provider: "aws", kind: "caller_identity", name: stack.meta.name) }
    var trail: ResourceAddress { ResourceAddress(provider: "aws", kind: "cloudtrail_trail", name: stack.meta.name) }
    var ownBucket: ResourceAddress { ResourceAddress(provider: "aws", kind: "s3_bucket", name: "\(stack.meta.name).audit") }
    var bucket: ResourceAddress { target.map(AWSExpansion.bucketAddress) ?? ownBucket }
    var bucketName: String { target.map { $0.bucket ?? $0.name } ?? "\(stack.meta.name)-maif-audit".lowercased() }
    /// The backup key that encrypts the bucket, when it is encrypted.
    var key: ResourceAddress? { target?.encryption == true ? AWSExpansion.backupKey(region) : nil }

    var trailName: String {
        let cleaned = String("maif-\(stack.meta.name)-audit".map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" })
        return String(cleaned.prefix(128))
    }

    var account: String { "${\(identity).account_id}" }
    var trailARN: String { "arn:aws:cloudtrail:\(region):\(account):trail/\(trailName)" }
    static let cloudTrail: AttributeValue = .map(["Service": "cloudtrail.amazonaws.com"])

    /// What CloudTrail checks before it delivers: the bucket's ACL readable, `AWSLogs/<account>/` writable with the
    /// owner in full control, by this trail only.
    var bucketPolicy: String {
        let arn = "arn:aws:s3:::\(bucketName)"
        return AWSExpansion.policy([
            .map(["Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": Self.cloudTrail, "Action": "s3:GetBucketAcl",
                  "Resource": .string(arn), "Condition": .map(["StringEquals": .map(["aws:SourceArn": .string(trailARN)])])]),
            .map(["Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": Self.cloudTrail, "Action": "s3:PutObject",
                  "Resource": .string("\(arn)/\(Self.prefix)/AWSLogs/\(account)/*"),
                  "Condition": .map(["StringEquals": .map(["aws:SourceArn": .string(trailARN), "s3:x-amz-acl": "bucket-owner-full-control"])])]),
        ])
    }

    /// The key policy when the trail encrypts with the backup key: the account administers it through IAM (as KMS's
    /// default policy says), and CloudTrail may make data keys for this account's trails and describe the key.
    var keyPolicy: String {
        AWSExpansion.policy([
            .map(["Sid": "AccountAdministers", "Effect": "Allow", "Principal": .map(["AWS": .string("arn:aws:iam::\(account):root")]),
                  "Action": "kms:*", "Resource": "*"]),
            .map(["Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": Self.cloudTrail, "Action": "kms:GenerateDataKey*",
                  "Resource": "*", "Condition": .map([
                      "StringEquals": .map(["aws:SourceArn": .string(trailARN)]),
                      "StringLike": .map(["kms:EncryptionContext:aws:cloudtrail:arn": .string("arn:aws:cloudtrail:*:\(account):trail/*")]),
                  ])]),
            .map(["Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": Self.cloudTrail, "Action": "kms:DescribeKey", "Resource": "*"]),
        ])
    }

    /// The identity, the trail, and the bucket of its own when there is no backup bucket; the backup bucket's policy
    /// and key policy are set where those are made (AWSExpansion+Storage.swift).
    func expand() -> PlatformOutput {
        var out = PlatformOutput()
        out.resources.append(DesiredResource(address: identity, config: [:], origin: location))
        if target == nil {
            out.resources.append(DesiredResource(address: ownBucket, config: [
                "bucket": .string(bucketName),
                "region": .string(region),
                "versioning": true,
                "public_access_block": .map([
                    "block_public_acls": true, "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true,
                ]),
                "policy": .string(bucketPolicy),
                "tags": AWSExpansion.tags(["maif:purpose": "audit"]),
            ], origin: location))
        }
        var config: [String: AttributeValue] = [
            "name": .string(trailName),
            // The bucket's name through its resource, so the trail is made after the bucket and its policy.
            "s3_bucket_name": AWSExpansion.reference(bucket, "bucket"),
            "s3_key_prefix": .string(Self.prefix),
            "is_multi_region_trail": true,
            "include_global_service_events": true,
            "enable_log_file_validation": true,
            "enable_logging": true,
            "region": .string(region),
            "tags": AWSExpansion.tags(["maif:purpose": "audit"]),
        ]
        if let key { config["kms_key_id"] = AWSExpansion.reference(key, "arn") }
        out.resources.append(DesiredResource(address: trail, config: config, origin: location))
        return out
    }
}
