import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

extension AWSIntegration {
    /// A second, fresh moto (`MOTO_AUTH_ENDPOINT`) started with `INITIAL_NO_AUTH_ACTION_COUNT=3`: IAM and SigV4 checks
    /// are on after the three setup calls below (create the user, its key, its policy).
    @Test func motoWithSignatureChecksAcceptsOursAndNamesTheSourceOfAWrongKey() async throws {
        _ = try Moto.endpoint()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moto-auth-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard let endpoint = ProcessInfo.processInfo.environment["MOTO_AUTH_ENDPOINT"] else {
            throw Failure("MOTO_AUTH_ENDPOINT is not set: start a fresh moto with `scripts/moto.sh start /tmp/moto-auth.port "
                          + "/tmp/moto-auth.pid INITIAL_NO_AUTH_ACTION_COUNT=3` and export MOTO_AUTH_ENDPOINT=http://127.0.0.1:$(cat /tmp/moto-auth.port)")
        }

        _ = try Moto.cli(endpoint, ["iam", "create-user", "--user-name", "maifctl"])
        let key = (try Moto.cli(endpoint, ["iam", "create-access-key", "--user-name", "maifctl"]) as? [String: Any])?["AccessKey"] as? [String: Any]
        _ = try Moto.cli(endpoint, ["iam", "put-user-policy", "--user-name", "maifctl", "--policy-name", "all",
                                   "--policy-document", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#])
        let id = try #require(key?["AccessKeyId"] as? String), secret = try #require(key?["SecretAccessKey"] as? String)

        // The real key, through the credentials file: signed EC2 and S3 calls are accepted.
        let home = "\(dir)/home"
        try FileManager.default.createDirectory(atPath: "\(home)/.aws", withIntermediateDirectories: true)
        try "[ci]\naws_access_key_id = \(id)\naws_secret_access_key = \(secret)\n[wrong]\naws_access_key_id = \(id)\naws_secret_access_key = not-the-secret\n"
            .write(toFile: "\(home)/.aws/credentials", atomically: true, encoding: .utf8)
        func provider(_ profile: String) throws -> AWSProvider {
            try AWSProvider(configuration: ProviderConfiguration(stack: "prod", settings: ["profile": .string(profile), "endpoint": .string(endpoint),
                                                                                       "region": .string("us-east-1")],
                                                             workingDirectory: dir, environment: ["HOME": home]))
        }
        let vpcCtx = Moto.context("vpc", "signed")
        let vpc = try await provider("ci").create(vpcCtx, ["cidr_block": .string("10.9.0.0/16"), "tags": Moto.tags(vpcCtx)])
        #expect(vpc.id.hasPrefix("vpc-"))
        let bucketCtx = Moto.context("s3_bucket", "signed")
        let bucket = try await provider("ci").create(bucketCtx, ["bucket": .string("maif-signed"), "versioning": .bool(true), "tags": Moto.tags(bucketCtx)])
        #expect(bucket.attributes["versioning"] == .bool(true))

        // The wrong secret: a clear authentication error naming where the key came from.
        await #expect {
            _ = try await provider("wrong").create(vpcCtx, ["cidr_block": .string("10.8.0.0/16"), "tags": Moto.tags(vpcCtx)])
        } throws: { error in
            let text = "\(error)"
            return (text.contains("ec2 CreateVpc failed: SignatureDoesNotMatch") || text.contains("ec2 CreateVpc failed: AuthFailure")) && text.contains("profile 'wrong' in \(home)/.aws/credentials")
                && !text.contains("<")
        }
    }
}
