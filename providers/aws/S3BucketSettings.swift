/// The bucket's lifecycle rules and public access block, and `force_destroy`'s emptying of a bucket (every object
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
