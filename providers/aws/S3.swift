/// S3 over REST-XML (path-style addressing) and the bucket resource: versioning, default encryption, tags; lifecycle
/// rules, public access block and force_destroy are in S3BucketSettings.swift.

import Crypto
import Foundation
import ProviderKit

struct S3: Sendable {
    let client: AWSClient
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    func call(_ call: String, _ method: String, bucket: String, subresource: String? = nil, body: String? = nil) async throws -> AWSResponse {
        var headers: [String: String] = [:]
        let bytes = Array((body ?? "").utf8)
        if body != nil {
            headers["Content-Type"] = "application/xml"
            // PutBucketEncryption, PutBucketTagging and PutBucketLifecycle require an integrity header.
            headers["Content-MD5"] = Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
        }
        return try await client.send("s3", call: call, method: method, path: "/\(bucket)",
                                     query: subresource.map { [($0, "")] } ?? [], headers: headers, body: bytes)
    }

    /// nil when S3 answers 404 with one of the given codes (or any code for a HEAD).
    func optional(_ name: String, _ method: String, bucket: String, subresource: String? = nil, notFound: Set<String>) async throws -> AWSResponse? {
        do { return try await call(name, method, bucket: bucket, subresource: subresource) } catch let error as AWSError
            where error.status == 404 && (notFound.contains(error.code) || method == "HEAD") {
            return nil
        }
    }
}

struct S3BucketResource: AWSProvider.Resource {
    let s3: S3
    var region: String { s3.client.settings.region }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let bucket = config["bucket"]?.text ?? ""
        let location = region == "us-east-1" ? nil :
            "<CreateBucketConfiguration xmlns=\"\(S3.namespace)\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
        do {
            _ = try await s3.call("CreateBucket", "PUT", bucket: bucket, body: location)
        } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" {
            // Ours already (a create interrupted by a crash): adopt it and bring it to the configuration.
        }
        return try await apply(context, bucket: bucket, current: nil, config)
    }

    /// Puts versioning, encryption and tags where they differ from `current` (all of them when nil).
    func apply(_ context: ResourceContext, bucket: String, current: ResourceState?, _ config: [String: AttributeValue]) async throws -> ResourceState {
        if let wanted = config["versioning"]?.boolValue_, current?.attributes["versioning"] != .bool(wanted) {
            let status = wanted ? "Enabled" : "Suspended"
            // A bucket never versioned needs no "Suspended".
            if wanted || current != nil {
                _ = try await s3.call("PutBucketVersioning", "PUT", bucket: bucket, subresource: "versioning",
                                      body: "<VersioningConfiguration xmlns=\"\(S3.namespace)\"><Status>\(status)</Status></VersioningConfiguration>")
            }
        }
        if let wanted = config["server_side_encryption"], wanted != .null, current?.attributes["server_side_encryption"] != encryption(wanted) {
            let m = wanted.mapValue ?? [:]
            var rule = "<SSEAlgorithm>\(XMLTree.escape(m["sse_algorithm"]?.text ?? "AES256"))</SSEAlgorithm>"
            if let key = m["kms_master_key_id"]?.text { rule += "<KMSMasterKeyID>\(XMLTree.escape(key))</KMSMasterKeyID>" }
            var body = "<ServerSideEncryptionConfiguration xmlns=\"\(S3.namespace)\"><Rule><ApplyServerSideEncryptionByDefault>\(rule)</ApplyServerSideEncryptionByDefault>"
            if let bucketKey = m["bucket_key_enabled"]?.boolValue_ { body += "<BucketKeyEnabled>\(bucketKey)</BucketKeyEnabled>" }
            body += "</Rule></ServerSideEncryptionConfiguration>"
            _ = try await s3.call("PutBucketEncryption", "PUT", bucket: bucket, subresource: "encryption", body: body)
        }
        let tags = tagMap(config)
        if current.map({ stringMap($0.attributes["tags"]) != tags }) ?? !tags.isEmpty {
            if tags.isEmpty {
                _ = try await s3.call("DeleteBucketTagging", "DELETE", bucket: bucket, subresource: "tagging")
            } else {
                let set = tags.keys.sorted().map { "<Tag><Key>\(XMLTree.escape($0))</Key><Value>\(XMLTree.escape(tags[$0]!))</Value></Tag>" }.joined()
                _ = try await s3.call("PutBucketTagging", "PUT", bucket: bucket, subresource: "tagging",
                                      body: "<Tagging xmlns=\"\(S3.namespace)\"><TagSet>\(set)</TagSet></Tagging>")
            }
        }
        try await applySettings(bucket: bucket, current: current, config)
        guard let state = try await read(context, id: bucket) else {
            throw ProviderError(address: context.address, call: "read", message: "bucket \(bucket) was created but is not there")
        }
        // force_destroy lives only in the state (S3 has no such setting); recorded keeps it.
        return state
    }

    /// The encryption attribute as read back: only the keys S3 reports.
    func encryption(_ value: AttributeValue) -> AttributeValue {
        let m = value.mapValue ?? [:]
        var out: [String: AttributeValue] = ["sse_algorithm": .string(m["sse_algorithm"]?.text ?? "AES256")]
        if let key = m["kms_master_key_id"]?.text { out["kms_master_key_id"] = .string(key) }
        if m["bucket_key_enabled"]?.boolValue_ == true { out["bucket_key_enabled"] = .bool(true) }
        return .map(out)
    }

    func read(_ context: ResourceContext, id bucket: String) async throws -> ResourceState? {
        guard try await s3.optional("HeadBucket", "HEAD", bucket: bucket, notFound: ["NoSuchBucket"]) != nil else { return nil }
        var a: [String: AttributeValue] = [
            "id": .string(bucket), "bucket": .string(bucket), "arn": .string("arn:aws:s3:::\(bucket)"), "region": .string(region),
            "bucket_domain_name": .string("\(bucket).s3.amazonaws.com"),
            "bucket_regional_domain_name": .string("\(bucket).s3.\(region).amazonaws.com"),
        ]
        let versioning = try await s3.call("GetBucketVersioning", "GET", bucket: bucket, subresource: "versioning").xml
        a["versioning"] = .bool(versioning?.value("Status") == "Enabled")
        if let sse = try await s3.optional("GetBucketEncryption", "GET", bucket: bucket, subresource: "encryption",
                                           notFound: ["ServerSideEncryptionConfigurationNotFoundError"])?.xml,
           let rule = sse.find("Rule") {
            var m: [String: AttributeValue] = ["sse_algorithm": .string(rule.find("SSEAlgorithm")?.text ?? "")]
            if let key = rule.find("KMSMasterKeyID")?.text { m["kms_master_key_id"] = .string(key) }
            // false is S3's default: reported as absent so a configuration that does not mention it shows no drift.
            if rule.value("BucketKeyEnabled") == "true" { m["bucket_key_enabled"] = .bool(true) }
            a["server_side_encryption"] = .map(m)
        } else {
            a["server_side_encryption"] = .null
        }
        var tags: [String: AttributeValue] = [:]
        if let tagging = try await s3.optional("GetBucketTagging", "GET", bucket: bucket, subresource: "tagging", notFound: ["NoSuchTagSet"])?.xml {
            for tag in tagging["TagSet"]?.all("Tag") ?? [] { if let k = tag.value("Key") { tags[k] = .string(tag.value("Value") ?? "") } }
        }
        a["tags"] = .map(tags)
        a["lifecycle_rules"] = try await readLifecycle(bucket)
        a["public_access_block"] = try await readPublicAccessBlock(bucket)
        a["replication"] = try await readReplication(bucket)
        a["policy"] = try await readPolicy(bucket)
        return ResourceState(id: bucket, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await read(context, id: prior.id) else {
            throw ProviderError(address: context.address, call: "update", message: "bucket \(prior.id) no longer exists")
        }
        return try await apply(context, bucket: prior.id, current: current, config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        let force = prior.attributes["force_destroy"]?.boolValue_ == true
        // Emptied again when an object lands between the emptying and DeleteBucket; bounded.
        for attempt in 0..<3 {
            do {
                if force { try await empty(prior.id) }
                _ = try await s3.call("DeleteBucket", "DELETE", bucket: prior.id)
                return
            } catch let error as AWSError where error.code == "NoSuchBucket" {
                return
            } catch let error as AWSError where error.code == "BucketNotEmpty" && force && attempt < 2 {}
        }
    }

    /// Bucket names are fixed by the stack, so the lookup is by name, checked against the owner tags.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let bucket = config["bucket"]?.text, let state = try await read(context, id: bucket) else { return nil }
        let tags = stringMap(state.attributes["tags"])
        return tags["maif:address"] == context.address.description && tags["maif:stack"] == context.stack ? state : nil
    }
}
