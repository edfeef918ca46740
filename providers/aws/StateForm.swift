/// The two halves of "plan after apply shows no change": the planner compares the planned attributes (the desired ones
/// plus every computed one) with the recorded state key for key, so the state must hold exactly those keys, and the
/// desired values must be in the form `read` reports.

import ProviderKit

extension AWSProvider {
    /// The state to record after a create, update or adoption: the attributes the stack set and every computed one
    /// (null when AWS has none), not the defaults of settings the stack leaves to AWS, which would otherwise read as
    /// changes to undo.
    static func recorded(_ state: ResourceState, _ config: [String: AttributeValue], _ type: String) -> ResourceState {
        let computed = AWSProviderSchema.provider.resources[type]?.computedAttributes ?? []
        var out = state
        out.attributes = state.attributes.filter { config[$0.key] != nil || computed.contains($0.key) }
        for name in computed where out.attributes[name] == nil { out.attributes[name] = .null }
        // What AWS does not echo (force_destroy, export_bucket) keeps its configured value.
        for (name, value) in config where out.attributes[name] == nil && value.isKnown { out.attributes[name] = value }
        // Maps AWS fills with defaults and lists it treats as sets, in the stack's form.
        out.attributes = ResourceShape.aligned(out.attributes, to: config)
        return out
    }

    /// The desired attributes in the form `read` reports them, applied by `plan`, so that a configuration written another
    /// equivalent way (a DNS name with a trailing dot, a public access block naming only some flags) plans no change.
    static func readForm(_ kind: String, _ desired: [String: AttributeValue]) -> [String: AttributeValue] {
        var desired = desired
        switch kind {
        case "route53_record":
            desired = Route53RecordResource.normalized(desired)
        case "iam_role", "iam_role_policy", "kms_key":
            for key in ["assume_role_policy", "policy"] {
                if case .string(let text)? = desired[key], let canonical = IAM.canonicalPolicy(text) { desired[key] = .string(canonical) }
            }
        case "s3_bucket":
            if case .string(let text)? = desired["policy"], let canonical = IAM.canonicalPolicy(text) { desired["policy"] = .string(canonical) }
            // Unknown values (references not yet resolved) are left as they are.
            if case .list(let rules)? = desired["lifecycle_rules"], rules.allSatisfy(\.isKnown) {
                desired["lifecycle_rules"] = .list(rules.map(S3BucketResource.lifecycleRule))
            }
            if case .map(let flags)? = desired["public_access_block"], flags.values.allSatisfy(\.isKnown) {
                desired["public_access_block"] = S3BucketResource.publicAccessBlock(.map(flags))
            }
            if case .map(let replication)? = desired["replication"], replication.values.allSatisfy(\.isKnown) {
                desired["replication"] = S3BucketResource.replication(.map(replication))
            }
            if case .map(var sse)? = desired["server_side_encryption"], sse["bucket_key_enabled"]?.boolValue_ == false {
                sse["bucket_key_enabled"] = nil // S3's default, which read reports as absent
                desired["server_side_encryption"] = .map(sse)
            }
        default:
            break
        }
        return desired
    }
}
