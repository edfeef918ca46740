import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// The backup buckets of the production stack: versioned, KMS-encrypted with a bucket key, lifecycle rules, public access
/// blocked; and force_destroy emptying a bucket of every version before deleting it.
extension AWSIntegration {
    static func backupBucketConfig(_ ctx: ResourceContext, bucket: String, region: String) -> [String: AttributeValue] {
        [
            "bucket": .string(bucket), "region": .string(region), "versioning": true,
            "server_side_encryption": .map(["bucket_key_enabled": true, "sse_algorithm": "aws:kms"]),
            "lifecycle_rules": .list([.map([
                "id": "maif-backup-retention", "status": "Enabled", "filter": .map(["prefix": ""]),
                "expiration": .map(["days": 30]), "noncurrent_version_expiration": .map(["noncurrent_days": 30]),
                "abort_incomplete_multipart_upload": .map(["days_after_initiation": 7]),
            ])]),
            "public_access_block": .map(["block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true,
                                         "restrict_public_buckets": true]),
            "tags": Moto.tags(ctx, ["maif:backup_target": bucket]),
        ]
    }

    @Test func backupBucketSettingsAndDrift() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("s3_bucket", "maif-backups-secondary", stack: "production")
        let config = Self.backupBucketConfig(ctx, bucket: "maif-backups-secondary", region: "eu-west-1")
        let bucket = try await aws.create(ctx, config)
        for key in config.keys { #expect(bucket.attributes[key] == AWSProvider.readForm("s3_bucket", config)[key], "\(key)") }
        try await NoChange.expect(aws, ctx, bucket, config)

        func s3api(_ arguments: [String]) throws -> [String: Any]? {
            try Moto.cli(endpoint, region: "eu-west-1", ["s3api"] + arguments + ["--bucket", "maif-backups-secondary"]) as? [String: Any]
        }
        #expect(try s3api(["get-bucket-location"])?["LocationConstraint"] as? String == "eu-west-1")
        let rule = ((try s3api(["get-bucket-encryption"])?["ServerSideEncryptionConfiguration"] as? [String: Any])?["Rules"] as? [[String: Any]])?.first
        #expect((rule?["ApplyServerSideEncryptionByDefault"] as? [String: Any])?["SSEAlgorithm"] as? String == "aws:kms")
        #expect(rule?["BucketKeyEnabled"] as? Bool == true)
        let lifecycle = (try s3api(["get-bucket-lifecycle-configuration"])?["Rules"] as? [[String: Any]])?.first
        #expect(lifecycle?["ID"] as? String == "maif-backup-retention")
        #expect(lifecycle?["Status"] as? String == "Enabled")
        #expect((lifecycle?["Expiration"] as? [String: Any])?["Days"] as? Int == 30)
        #expect((lifecycle?["NoncurrentVersionExpiration"] as? [String: Any])?["NoncurrentDays"] as? Int == 30)
        #expect((lifecycle?["AbortIncompleteMultipartUpload"] as? [String: Any])?["DaysAfterInitiation"] as? Int == 7)
        let block = try s3api(["get-public-access-block"])?["PublicAccessBlockConfiguration"] as? [String: Any]
        #expect(block?.values.allSatisfy { $0 as? Bool == true } == true && block?.count == 4)
        #expect(try s3api(["get-bucket-versioning"])?["Status"] as? String == "Enabled")

        // Drift: lifecycle deleted, public access opened, encryption switched to AES256 — all by hand.
        _ = try s3api(["delete-bucket-lifecycle"])
        _ = try s3api(["put-public-access-block", "--public-access-block-configuration",
                       "BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false"])
        _ = try s3api(["put-bucket-encryption", "--server-side-encryption-configuration",
                       #"{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}"#])
        let drifted = try #require(try await aws.read(ctx, bucket))
        #expect(drifted.attributes["lifecycle_rules"] == .list([]))
        #expect(drifted.attributes["public_access_block"]?.mapValue?["block_public_acls"] == false)
        #expect(drifted.attributes["server_side_encryption"] == .map(["sse_algorithm": "AES256"]))
        let repaired = try await aws.update(ctx, drifted, config)
        #expect(repaired == bucket)
        #expect((try s3api(["get-bucket-lifecycle-configuration"])?["Rules"] as? [Any])?.count == 1)
        #expect((try s3api(["get-public-access-block"])?["PublicAccessBlockConfiguration"] as? [String: Any])?["BlockPublicAcls"] as? Bool == true)

        // The stack drops its public access block and lifecycle rules: both are deleted.
        var relaxed = config
        relaxed["public_access_block"] = .null
        relaxed["lifecycle_rules"] = .list([])
        let updated = try await aws.update(ctx, repaired, relaxed)
        #expect(updated.attributes["public_access_block"] == .null)
        #expect(Moto.cliFailure(endpoint, ["--region", "eu-west-1", "s3api", "get-public-access-block", "--bucket", "maif-backups-secondary"])?
            .contains("NoSuchPublicAccessBlockConfiguration") == true)
        #expect(Moto.cliFailure(endpoint, ["--region", "eu-west-1", "s3api", "get-bucket-lifecycle-configuration", "--bucket", "maif-backups-secondary"])?
            .contains("NoSuchLifecycleConfiguration") == true)
        try await NoChange.expect(aws, ctx, updated, relaxed)

        try await aws.delete(ctx, updated)
        #expect(try await aws.read(ctx, updated) == nil)
    }

    @Test func forceDestroyDeletesEveryVersionFirst() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let ctx = Moto.context("s3_bucket", "maif-backups-primary", stack: "production")
        var config = Self.backupBucketConfig(ctx, bucket: "maif-backups-primary", region: "us-east-1")
        let bucket = try await aws.create(ctx, config)
        // Two versions of one object, a delete marker on top, and a second object.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("maif-s3-\(UUID().uuidString)")
        try Data("backup".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        for key in ["db/1.dump", "db/1.dump", "db/2.dump"] {
            _ = try Moto.cli(endpoint, ["s3api", "put-object", "--bucket", "maif-backups-primary", "--key", key, "--body", file.path])
        }
        _ = try Moto.cli(endpoint, ["s3api", "delete-object", "--bucket", "maif-backups-primary", "--key", "db/1.dump"])
        let versions = try Moto.cli(endpoint, ["s3api", "list-object-versions", "--bucket", "maif-backups-primary"]) as? [String: Any]
        #expect((versions?["Versions"] as? [Any])?.count == 3)
        #expect((versions?["DeleteMarkers"] as? [Any])?.count == 1)

        // Without force_destroy the bucket stays, and the error says why.
        await #expect {
            try await aws.delete(ctx, bucket)
        } throws: { error in "\(error)".contains("s3 DeleteBucket") && "\(error)".contains("BucketNotEmpty") }
        config["force_destroy"] = true
        let forced = try await aws.update(ctx, bucket, config)
        #expect(forced.attributes["force_destroy"] == true)
        try await NoChange.expect(aws, ctx, forced, config)
        try await aws.delete(ctx, forced)
        #expect(try await aws.read(ctx, forced) == nil)
        let buckets = try Moto.cli(endpoint, ["s3api", "list-buckets"]) as? [String: Any]
        #expect((buckets?["Buckets"] as? [Any])?.isEmpty ?? true)
    }
}
