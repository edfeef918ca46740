import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

extension AWSIntegration {
    @Test func bucketVersioningEncryptionAndDrift() async throws {
        let (aws, endpoint) = try Moto.provider()
        let ctx = Moto.context("s3_bucket", "backups")
        let config: [String: AttributeValue] = [
            "bucket": .string("maif-prod-backups"), "versioning": .bool(true),
            "server_side_encryption": .map(["sse_algorithm": .string("AES256")]), "tags": Moto.tags(ctx),
        ]
        let created = try await aws.create(ctx, config)
        #expect(created.id == "maif-prod-backups")
        #expect(created.attributes["versioning"] == .bool(true))
        #expect(created.attributes["server_side_encryption"] == .map(["sse_algorithm": .string("AES256")]))

        let versioning = try Moto.cli(endpoint, ["s3api", "get-bucket-versioning", "--bucket", "maif-prod-backups"]) as? [String: Any]
        #expect(versioning?["Status"] as? String == "Enabled")
        let encryption = try Moto.cli(endpoint, ["s3api", "get-bucket-encryption", "--bucket", "maif-prod-backups"]) as? [String: Any]
        let rules = (encryption?["ServerSideEncryptionConfiguration"] as? [String: Any])?["Rules"] as? [[String: Any]]
        #expect((rules?.first?["ApplyServerSideEncryptionByDefault"] as? [String: Any])?["SSEAlgorithm"] as? String == "AES256")
        let tagging = try Moto.cli(endpoint, ["s3api", "get-bucket-tagging", "--bucket", "maif-prod-backups"]) as? [String: Any]
        #expect(Moto.tagList(tagging?["TagSet"]) == ["maif:stack": "prod", "maif:address": "aws.s3_bucket.backups"])

        // Versioning suspended out of band: read shows it, update repairs it.
        try Moto.run(["aws", "--endpoint-url", endpoint, "--region", "us-east-1", "s3api", "put-bucket-versioning", "--bucket",
                      "maif-prod-backups", "--versioning-configuration", "Status=Suspended"],
                     environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"])
        let drifted = try await aws.read(ctx, created)
        #expect(drifted?.attributes["versioning"] == .bool(false))
        let repaired = try await aws.update(ctx, drifted!, config)
        #expect(repaired.attributes["versioning"] == .bool(true))
        let again = try Moto.cli(endpoint, ["s3api", "get-bucket-versioning", "--bucket", "maif-prod-backups"]) as? [String: Any]
        #expect(again?["Status"] as? String == "Enabled")

        #expect(try await aws.find(ctx, config)?.id == "maif-prod-backups")
        #expect(try await aws.find(Moto.context("s3_bucket", "someone-else"), config) == nil)

        try await aws.delete(ctx, repaired)
        #expect(try await aws.read(ctx, repaired) == nil)
        let buckets = try Moto.cli(endpoint, ["s3api", "list-buckets"]) as? [String: Any]
        #expect((buckets?["Buckets"] as? [Any])?.isEmpty ?? true)
    }
}
