import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// The types issue 12 added, one lifecycle each against moto, checked with the AWS CLI: an IAM role with its inline
/// policy and instance profile, a KMS key, an SNS topic with an e-mail and a by-reference webhook subscription, and a
/// bucket replicating to another region's bucket. After each create a plan shows no change.
extension AWSIntegration {
    @Test func roleWithPolicyAndInstanceProfile() async throws {
        let (aws, endpoint) = try Moto.provider(stack: "production")
        let roleCtx = Moto.context("iam_role", "production-cluster.nodes", stack: "production")
        let trust = #"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}],"Version":"2012-10-17"}"#
        let roleConfig: [String: AttributeValue] = ["name": "maif-production-production-cluster", "assume_role_policy": .string(trust),
                                                    "description": "MAIF nodes", "tags": Moto.tags(roleCtx)]
        let role = try await aws.create(roleCtx, roleConfig)
        #expect(role.attributes["arn"]?.text?.hasSuffix(":role/maif-production-production-cluster") == true)
        try await NoChange.expect(aws, roleCtx, role, roleConfig)

        let policyCtx = Moto.context("iam_role_policy", "production-cluster.backups", stack: "production")
        // Written with its keys in another order than IAM's canonical form: still no change after apply.
        let document = #"{"Version":"2012-10-17","Statement":[{"Sid":"WriteBackups","Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::maif-backups-primary/production/*"]}]}"#
        let policyConfig: [String: AttributeValue] = ["role": "maif-production-production-cluster", "name": "maif-backups", "policy": .string(document)]
        let policy = try await aws.create(policyCtx, policyConfig)
        #expect(policy.id == "maif-production-production-cluster:maif-backups")
        try await NoChange.expect(aws, policyCtx, policy, policyConfig)
        let read = try #require(try Moto.cli(endpoint, ["iam", "get-role-policy", "--role-name", "maif-production-production-cluster",
                                                        "--policy-name", "maif-backups"]) as? [String: Any])
        let statement = ((read["PolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]])?.first
        #expect(statement?["Resource"] as? [String] == ["arn:aws:s3:::maif-backups-primary/production/*"])

        let profileCtx = Moto.context("iam_instance_profile", "production-cluster.nodes", stack: "production")
        let profileConfig: [String: AttributeValue] = ["name": "maif-production-production-cluster", "role": "maif-production-production-cluster",
                                                       "tags": Moto.tags(profileCtx)]
        let profile = try await aws.create(profileCtx, profileConfig)
        try await NoChange.expect(aws, profileCtx, profile, profileConfig)
        let listed = try #require(try Moto.cli(endpoint, ["iam", "get-instance-profile", "--instance-profile-name", "maif-production-production-cluster"]) as? [String: Any])
        #expect(((listed["InstanceProfile"] as? [String: Any])?["Roles"] as? [[String: Any]])?.first?["RoleName"] as? String == "maif-production-production-cluster")
        // An interrupted create is found by name and owner tags.
        #expect(try await aws.find(profileCtx, profileConfig)?.id == profile.id)

        // Destroyed in reverse order, as the graph does: profile (its role removed first), policy, role.
        try await aws.delete(profileCtx, profile)
        try await aws.delete(policyCtx, policy)
        try await aws.delete(roleCtx, role)
        #expect(((try Moto.cli(endpoint, ["iam", "list-roles"]) as? [String: Any])?["Roles"] as? [[String: Any]] ?? []).isEmpty)
    }

    @Test func keyTopicSubscriptionsAndReplication() async throws {
        var (aws, endpoint) = try Moto.provider(stack: "production")
        aws.environment = ["MAIF_ONCALL_WEBHOOK": "https://127.0.0.1:9/maif-oncall"]

        let keyCtx = Moto.context("kms_key", "backups.eu-west-1", stack: "production")
        let keyConfig: [String: AttributeValue] = ["description": "MAIF backups", "enable_key_rotation": true, "deletion_window_in_days": 30,
                                                   "region": "eu-west-1", "tags": Moto.tags(keyCtx)]
        let key = try await aws.create(keyCtx, keyConfig)
        #expect(key.attributes["arn"]?.text?.hasPrefix("arn:aws:kms:eu-west-1:") == true)
        try await NoChange.expect(aws, keyCtx, key, keyConfig)
        let rotation = try #require(try Moto.cli(endpoint, region: "eu-west-1", ["kms", "get-key-rotation-status", "--key-id", key.id]) as? [String: Any])
        #expect(rotation["KeyRotationEnabled"] as? Bool == true)

        let topicCtx = Moto.context("sns_topic", "oncall.us-east-1", stack: "production")
        let topicConfig: [String: AttributeValue] = ["name": "maif-production-oncall", "display_name": "MAIF production", "region": "us-east-1",
                                                     "tags": Moto.tags(topicCtx)]
        let topic = try await aws.create(topicCtx, topicConfig)
        try await NoChange.expect(aws, topicCtx, topic, topicConfig)
        let hookCtx = Moto.context("sns_topic_subscription", "oncall.us-east-1.webhook-1", stack: "production")
        let hookConfig: [String: AttributeValue] = ["topic_arn": .string(topic.id), "protocol": "https", "endpoint_from": "env:MAIF_ONCALL_WEBHOOK",
                                                    "region": "us-east-1"]
        let hook = try await aws.create(hookCtx, hookConfig)
        #expect(hook.attributes["endpoint"] == nil, "a webhook read by reference is not recorded")
        #expect(!hook.attributes.values.contains(.string("https://127.0.0.1:9/maif-oncall")))
        try await NoChange.expect(aws, hookCtx, hook, hookConfig)
        let subscriptions = try #require(try Moto.cli(endpoint, ["sns", "list-subscriptions-by-topic", "--topic-arn", topic.id]) as? [String: Any])
        #expect((subscriptions["Subscriptions"] as? [[String: Any]])?.first?["Endpoint"] as? String == "https://127.0.0.1:9/maif-oncall")

        // A plan whose webhook variable is unset fails before anything is made.
        var unset = aws
        unset.environment = [:]
        await #expect(throws: ProviderError.self) { _ = try await unset.plan(PlanRequest(context: hookCtx, prior: nil, desired: hookConfig)) }

        // Replication from a us-east-1 bucket to an eu-west-1 bucket, SSE-KMS objects included.
        let destination = try await aws.create(Moto.context("s3_bucket", "secondary", stack: "production"), [
            "bucket": "maif-repl-secondary", "region": "eu-west-1", "versioning": true,
            "tags": Moto.tags(Moto.context("s3_bucket", "secondary", stack: "production")),
        ])
        let sourceCtx = Moto.context("s3_bucket", "primary", stack: "production")
        let sourceConfig: [String: AttributeValue] = [
            "bucket": "maif-repl-primary", "region": "us-east-1", "versioning": true, "tags": Moto.tags(sourceCtx),
            "replication": .map(["role": "arn:aws:iam::123456789012:role/maif-production-replication", "rules": .list([.map([
                "id": "maif-to-secondary", "priority": 1, "status": "Enabled", "prefix": "",
                "destination_bucket": .string(destination.attributes["arn"]?.text ?? ""), "replica_kms_key_id": .string(key.attributes["arn"]?.text ?? ""),
            ])])]),
        ]
        let source = try await aws.create(sourceCtx, sourceConfig)
        try await NoChange.expect(aws, sourceCtx, source, sourceConfig)
        let replication = try #require(try Moto.cli(endpoint, ["s3api", "get-bucket-replication", "--bucket", "maif-repl-primary"]) as? [String: Any])
        let rule = ((replication["ReplicationConfiguration"] as? [String: Any])?["Rules"] as? [[String: Any]])?.first
        #expect((rule?["Destination"] as? [String: Any])?["Bucket"] as? String == "arn:aws:s3:::maif-repl-secondary")

        try await aws.delete(hookCtx, hook)
        try await aws.delete(topicCtx, topic)
        try await aws.delete(keyCtx, key)
        #expect(try await aws.read(keyCtx, key) == nil, "a key pending deletion is gone")
        #expect(((try Moto.cli(endpoint, ["sns", "list-topics"]) as? [String: Any])?["Topics"] as? [[String: Any]] ?? []).isEmpty)
    }
}
