/// The bucket's lifecycle rules, public access block, replication and policy, and `force_destroy`'s emptying of a bucket (every object
/// version and delete marker) before DeleteBucket.

import Crypto
import Foundation
import ProviderKit

extension S3 {
    /// A call with its own query (paging markers) and optional XML body, which gets the Content-MD5 S3 asks for.
    func send(_ call: String, _ method: String, bucket: String, query: [(String, String)], body: String? = nil) async throws -> AWSResponse {
        let bytes = Array((body ?? "").utf8)
        var headers: [String: String] = [:]
        if body != nil {
            headers["Content-Type"] = "application/xml"
            headers["Content-MD5"] = Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
        }
        return try await client.send("s3", call: call, method: method, path: "/\(bucket)", query: query, headers: headers, body: bytes)
    }
}

extension S3BucketResource {
    // MARK: Lifecycle rules

    /// A rule in the schema's shape: `{id, status, filter: {prefix}, expiration: {days}, noncurrent_version_expiration:
    /// {noncurrent_days}, abort_incomplete_multipart_upload: {days_after_initiation}}`. A rule without a filter applies to
    /// the whole bucket, which S3 reports as an empty prefix, so that is how both sides are written.
    static func lifecycleRule(_ value: AttributeValue) -> AttributeValue {
        let r = value.mapValue ?? [:]
        var out: [String: AttributeValue] = ["status": .string(r["status"]?.text ?? "Enabled"),
                                             "filter": .map(["prefix": .string(r["filter"]?.mapValue?["prefix"]?.text ?? "")])]
        if let id = r["id"]?.text { out["id"] = .string(id) }
        for (block, field) in [("expiration", "days"), ("noncurrent_version_expiration", "noncurrent_days"),
                               ("abort_incomplete_multipart_upload", "days_after_initiation")] {
            if let n = r[block]?.mapValue?[field]?.intValue_ { out[block] = .map([field: .int(n)]) }
        }
        return .map(out)
    }

    static func lifecycleXML(_ rules: [AttributeValue]) -> String {
        func days(_ rule: [String: AttributeValue], _ block: String, _ field: String, _ element: String, _ inner: String) -> String {
            rule[block]?.mapValue?[field]?.intValue_.map { "<\(element)><\(inner)>\($0)</\(inner)></\(element)>" } ?? ""
        }
        let body = rules.map { value -> String in
            let r = lifecycleRule(value).mapValue ?? [:]
            let prefix = XMLTree.escape(r["filter"]?.mapValue?["prefix"]?.text ?? "")
            // Elements in the order of S3's LifecycleRule schema.
            return "<Rule>" + days(r, "expiration", "days", "Expiration", "Days")
                + (r["id"]?.text.map { "<ID>\(XMLTree.escape($0))</ID>" } ?? "")
                + "<Filter><Prefix>\(prefix)</Prefix></Filter><Status>\(XMLTree.escape(r["status"]?.text ?? "Enabled"))</Status>"
                + days(r, "noncurrent_version_expiration", "noncurrent_days", "NoncurrentVersionExpiration", "NoncurrentDays")
                + days(r, "abort_incomplete_multipart_upload", "days_after_initiation", "AbortIncompleteMultipartUpload", "DaysAfterInitiation")
                + "</Rule>"
        }.joined()
        return "<LifecycleConfiguration xmlns=\"\(S3.namespace)\">\(body)</LifecycleConfiguration>"
    }

    func readLifecycle(_ bucket: String) async throws -> AttributeValue {
        guard let xml = try await s3.optional("GetBucketLifecycleConfiguration", "GET", bucket: bucket, subresource: "lifecycle",
                                              notFound: ["NoSuchLifecycleConfiguration"])?.xml else { return .list([]) }
        return .list(xml.all("Rule").map { rule in
            var r: [String: AttributeValue] = ["status": .string(rule.value("Status") ?? "")]
            if let id = rule.value("ID") { r["id"] = .string(id) }
            // The filter's prefix, or the older rule-level Prefix.
            r["filter"] = .map(["prefix": .string(rule.value("Filter", "Prefix") ?? rule.value("Prefix") ?? "")])
            for (block, field, element, inner) in [("expiration", "days", "Expiration", "Days"),
                                                   ("noncurrent_version_expiration", "noncurrent_days", "NoncurrentVersionExpiration", "NoncurrentDays"),
                                                   ("abort_incomplete_multipart_upload", "days_after_initiation", "AbortIncompleteMultipartUpload", "DaysAfterInitiation")] {
                if let n = rule.value(element, inner).flatMap({ Int64($0) }) { r[block] = .map([field: .int(n)]) }
            }
            return .map(r)
        })
    }

    // MARK: Public access block

    static let publicAccessFlags = [("block_public_acls", "BlockPublicAcls"), ("ignore_public_acls", "IgnorePublicAcls"),
                                    ("block_public_policy", "BlockPublicPolicy"), ("restrict_public_buckets", "RestrictPublicBuckets")]

    /// All four flags, false where the stack leaves one out (as S3 reports it).
    static func publicAccessBlock(_ value: AttributeValue) -> AttributeValue {
        let m = value.mapValue ?? [:]
        return .map(Dictionary(uniqueKeysWithValues: publicAccessFlags.map { ($0.0, AttributeValue.bool(m[$0.0]?.boolValue_ ?? false)) }))
    }

    func readPublicAccessBlock(_ bucket: String) async throws -> AttributeValue {
        guard let xml = try await s3.optional("GetPublicAccessBlock", "GET", bucket: bucket, subresource: "publicAccessBlock",
                                              notFound: ["NoSuchPublicAccessBlockConfiguration"])?.xml else { return .null }
        return .map(Dictionary(uniqueKeysWithValues: Self.publicAccessFlags.map { ($0.0, AttributeValue.bool(xml.value($0.1) == "true")) }))
    }

    /// Puts or deletes the lifecycle rules and the public access block where the configuration (when it names them)
    /// differs from `current` (everything when nil).
    func applySettings(bucket: String, current: ResourceState?, _ config: [String: AttributeValue]) async throws {
        if let value = config["lifecycle_rules"] {
            let wanted = AttributeValue.list((value.listValue ?? []).map(Self.lifecycleRule))
            if current?.attributes["lifecycle_rules"] ?? .list([]) != wanted {
                if wanted.listValue?.isEmpty == false {
                    _ = try await s3.call("PutBucketLifecycleConfiguration", "PUT", bucket: bucket, subresource: "lifecycle",
                                          body: Self.lifecycleXML(wanted.listValue ?? []))
                } else {
                    _ = try await s3.call("DeleteBucketLifecycle", "DELETE", bucket: bucket, subresource: "lifecycle")
                }
            }
        }
        if let value = config["public_access_block"] {
            let wanted = value == .null ? AttributeValue.null : Self.publicAccessBlock(value)
            if current?.attributes["public_access_block"] ?? .null != wanted {
                if let flags = wanted.mapValue {
                    let body = Self.publicAccessFlags.map { "<\($0.1)>\(flags[$0.0]?.boolValue_ ?? false)</\($0.1)>" }.joined()
                    _ = try await s3.call("PutPublicAccessBlock", "PUT", bucket: bucket, subresource: "publicAccessBlock",
                                          body: "<PublicAccessBlockConfiguration xmlns=\"\(S3.namespace)\">\(body)</PublicAccessBlockConfiguration>")
                } else {
                    _ = try await s3.call("DeletePublicAccessBlock", "DELETE", bucket: bucket, subresource: "publicAccessBlock")
                }
            }
        }
        try await applyReplication(bucket: bucket, current: current, config)
        try await applyPolicy(bucket: bucket, current: current, config)
    }

    // MARK: Bucket policy

    func readPolicy(_ bucket: String) async throws -> AttributeValue {
        guard let response = try await s3.optional("GetBucketPolicy", "GET", bucket: bucket, subresource: "policy",
                                                   notFound: ["NoSuchBucketPolicy"]) else { return .null }
        return IAM.policyAttribute(String(decoding: response.body, as: UTF8.self))
    }

    /// PutBucketPolicy (the document as JSON) or DeleteBucketPolicy where the configuration's differs from `current`.
    func applyPolicy(bucket: String, current: ResourceState?, _ config: [String: AttributeValue]) async throws {
        guard let value = config["policy"] else { return }
        let wanted = value.text.map { IAM.policyAttribute($0) } ?? .null
        guard (current?.attributes["policy"] ?? .null) != wanted else { return }
        if let document = wanted.text {
            _ = try await s3.call("PutBucketPolicy", "PUT", bucket: bucket, subresource: "policy", body: document)
        } else if current != nil {
            _ = try await s3.call("DeleteBucketPolicy", "DELETE", bucket: bucket, subresource: "policy")
        }
    }

    // MARK: Replication

    /// The schema's form: `{role, rules: [{id, priority, status, prefix, destination_bucket, storage_class,
    /// replica_kms_key_id}]}`, keys present only where they have a value, rules in priority order.
    static func replication(_ value: AttributeValue) -> AttributeValue {
        guard let m = value.mapValue else { return .null }
        let rules = (m["rules"]?.listValue ?? []).enumerated().map { i, rule -> AttributeValue in
            let r = rule.mapValue ?? [:]
            var out: [String: AttributeValue] = [
                "id": .string(r["id"]?.text ?? "rule-\(i + 1)"),
                "priority": .int(r["priority"]?.intValue_ ?? Int64(i + 1)),
                "status": .string(r["status"]?.text ?? "Enabled"),
                "prefix": .string(r["prefix"]?.text ?? ""),
                "destination_bucket": .string(r["destination_bucket"]?.text ?? ""),
            ]
            if let v = r["storage_class"]?.text { out["storage_class"] = .string(v) }
            if let v = r["replica_kms_key_id"]?.text { out["replica_kms_key_id"] = .string(v) }
            return .map(out)
        }.sorted { ($0.mapValue?["priority"]?.intValue_ ?? 0) < ($1.mapValue?["priority"]?.intValue_ ?? 0) }
        return .map(["role": .string(m["role"]?.text ?? ""), "rules": .list(rules)])
    }

    /// A ReplicationConfiguration (V2 rules: Filter, Priority, DeleteMarkerReplication). A rule with a replica KMS key
    /// replicates the SSE-KMS objects too, which S3 otherwise skips.
    static func replicationXML(_ value: AttributeValue) -> String {
        let m = replication(value).mapValue ?? [:]
        let rules = (m["rules"]?.listValue ?? []).map { rule -> String in
            let r = rule.mapValue ?? [:]
            func text(_ key: String) -> String { XMLTree.escape(r[key]?.text ?? "") }
            var xml = "<Rule><ID>\(text("id"))</ID><Priority>\(text("priority"))</Priority><Status>\(text("status"))</Status>"
                + "<Filter><Prefix>\(text("prefix"))</Prefix></Filter>"
            if r["replica_kms_key_id"] != nil {
                xml += "<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>"
            }
            xml += "<Destination><Bucket>\(text("destination_bucket"))</Bucket>"
            if r["storage_class"] != nil { xml += "<StorageClass>\(text("storage_class"))</StorageClass>" }
            if r["replica_kms_key_id"] != nil {
                xml += "<EncryptionConfiguration><ReplicaKmsKeyID>\(text("replica_kms_key_id"))</ReplicaKmsKeyID></EncryptionConfiguration>"
            }
            return xml + "</Destination><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>"
        }.joined()
        return "<ReplicationConfiguration xmlns=\"\(S3.namespace)\"><Role>\(XMLTree.escape(m["role"]?.text ?? ""))</Role>\(rules)</ReplicationConfiguration>"
    }

    func readReplication(_ bucket: String) async throws -> AttributeValue {
        guard let xml = try await s3.optional("GetBucketReplication", "GET", bucket: bucket, subresource: "replication",
                                              notFound: ["ReplicationConfigurationNotFoundError"])?.xml else { return .null }
        let rules: [AttributeValue] = xml.all("Rule").map { rule in
            var r: [String: AttributeValue] = [
                "id": .string(rule.value("ID") ?? ""), "priority": .int(Int64(rule.value("Priority") ?? "") ?? 0),
                "status": .string(rule.value("Status") ?? ""),
                "prefix": .string(rule.value("Filter", "Prefix") ?? rule.value("Prefix") ?? ""),
                "destination_bucket": .string(rule.value("Destination", "Bucket") ?? ""),
            ]
            if let v = rule.value("Destination", "StorageClass"), !v.isEmpty { r["storage_class"] = .string(v) }
            if let v = rule.value("Destination", "EncryptionConfiguration", "ReplicaKmsKeyID"), !v.isEmpty { r["replica_kms_key_id"] = .string(v) }
            return .map(r)
        }
        return Self.replication(.map(["role": .string(xml.value("Role") ?? ""), "rules": .list(rules)]))
    }

    func applyReplication(bucket: String, current: ResourceState?, _ config: [String: AttributeValue]) async throws {
        guard let value = config["replication"] else { return }
        let wanted = value == .null ? AttributeValue.null : Self.replication(value)
        guard (current?.attributes["replication"] ?? .null) != wanted else { return }
        if wanted == .null {
            if current != nil { _ = try await s3.call("DeleteBucketReplication", "DELETE", bucket: bucket, subresource: "replication") }
        } else {
            _ = try await s3.call("PutBucketReplication", "PUT", bucket: bucket, subresource: "replication", body: Self.replicationXML(wanted))
        }
    }

    // MARK: force_destroy

    /// Deletes every object version and delete marker (ListObjectVersions, DeleteObjects a thousand at a time), so that
    /// DeleteBucket can succeed.
    func empty(_ bucket: String) async throws {
        var query: [(String, String)] = [("versions", "")]
        while true {
            guard let xml = try await s3.send("ListObjectVersions", "GET", bucket: bucket, query: query).xml else { return }
            let entries = (xml.all("Version") + xml.all("DeleteMarker")).compactMap { node in
                node.value("Key").map { ($0, node.value("VersionId")) }
            }
            for start in stride(from: 0, to: entries.count, by: 1000) {
                let objects = entries[start..<min(start + 1000, entries.count)].map { key, version in
                    "<Object><Key>\(XMLTree.escape(key))</Key>" + (version.map { "<VersionId>\(XMLTree.escape($0))</VersionId>" } ?? "") + "</Object>"
                }.joined()
                let answer = try await s3.send("DeleteObjects", "POST", bucket: bucket, query: [("delete", "")],
                                               body: "<Delete xmlns=\"\(S3.namespace)\"><Quiet>true</Quiet>\(objects)</Delete>").xml
                // DeleteObjects answers 200 even when some keys fail; those are errors all the same.
                if let failed = answer?.all("Error").first {
                    throw AWSError(service: "s3", call: "DeleteObjects", status: 200, code: failed.value("Code") ?? "Error",
                                   message: "\(failed.value("Key") ?? ""): \(failed.value("Message") ?? "")",
                                   credentialSource: "")
                }
            }
            guard xml.value("IsTruncated") == "true" else { return }
            query = [("versions", "")] + (xml.value("NextKeyMarker").map { [("key-marker", $0)] } ?? [])
                + (xml.value("NextVersionIdMarker").map { [("version-id-marker", $0)] } ?? [])
        }
    }
}
