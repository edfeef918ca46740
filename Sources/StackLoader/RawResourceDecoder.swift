/// Reads `resources:` entries: `{type, name, properties, depends_on, lifecycle}`.

import StackModel

struct RawResourceDecoder {
    let context: DecodeContext

    func decode(_ r: ObjectReader) -> RawResource? {
        let type = r.requiredString("type", example: "local.null")
        let name = r.requiredString("name", example: "r1")
        if let type, !isResourceType(type) {
            context.error("invalid-resource-type", "resource type '\(type)' is not of the form <provider>.<kind>",
                          hint: "e.g. local.null, local.file, aws.s3_bucket", at: r.raw("type")?.location)
        }
        if let name, !isValidName(name) {
            context.error("invalid-name", "resource name '\(name)' may only contain letters, digits, '-' and '_'",
                          hint: "the name is the last part of the address <type>.<name>", at: r.raw("name")?.location)
        }
        var resource = RawResource(type: type ?? "", name: name ?? "", location: r.location)
        if let props = r.raw("properties") {
            if case .mapping(let entries) = props.kind {
                for e in entries {
                    resource.properties[e.key] = value(e.value, key: e.key)
                    resource.propertyLocations[e.key] = e.value.location
                }
            } else {
                context.error("expected-mapping", "expected a mapping for properties, got \(props.kindName)", at: props.location)
            }
        }
        if let deps = r.raw("depends_on") {
            if case .sequence(let items) = deps.kind {
                for item in items {
                    guard let address = r.text(item, expected: "a resource address") else { continue }
                    if !isAddress(address) {
                        context.error("invalid-address", "'\(address)' is not a resource address",
                                      hint: "an address is <provider>.<kind>.<name>, e.g. local.null.r0", at: item.location)
                        continue
                    }
                    resource.dependsOn.append((address, item.location))
                }
            } else {
                context.error("expected-list", "expected a list of resource addresses for depends_on, got \(deps.kindName)",
                              hint: "depends_on: [local.null.r0]", at: deps.location)
            }
        }
        resource.lifecycle = r.object("lifecycle", "lifecycle") { l in
            var lc = Lifecycle()
            lc.preventDestroy = l.bool("prevent_destroy") ?? false
            lc.createBeforeDestroy = l.bool("create_before_destroy") ?? false
            lc.ignoreChanges = l.stringList("ignore_changes") ?? []
            return lc
        } ?? Lifecycle()
        guard type != nil, name != nil else { return nil }
        return resource
    }

    private func value(_ node: SourceNode, key: String) -> StackValue {
        switch node.kind {
        case .null: return .null
        case .scalar(let raw, let quoted):
            if looksLikeInlineSecret(key: key, value: raw) {
                context.error("inline-secret", "property '\(key)' looks like a secret written inline",
                              hint: "pass it as ${env.NAME} or ${var.NAME}; secrets never belong in a stack file",
                              at: node.location)
                return .string("(redacted)")
            }
            let text = context.interpolate(raw, at: node.location)
            if quoted || text != raw { return .string(text) }
            switch text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let i = Int64(text) { return .int(i) }
            if let d = Double(text), d.isFinite, text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .double(d) }
            return .string(text)
        case .sequence(let items):
            return .list(items.map { value($0, key: key) })
        case .mapping(let entries):
            var map: [String: StackValue] = [:]
            for e in entries { map[e.key] = value(e.value, key: e.key) }
            return .map(map)
        }
    }
}

private let secretKeyWords: [StaticString] = ["password", "passwd", "secret", "token", "private_key", "access_key", "api_key", "credential"]

/// A value is an inline secret when its key names a secret and it is not a `${…}` reference,
/// or when it has the shape of a well-known credential whatever its key.
func looksLikeInlineSecret(key: String, value: String) -> Bool {
    // This runs for every scalar of every raw resource: byte searches, not Foundation's `contains` (which goes through
    // NSString and was 7% of planning 10,000 resources). The needles are ASCII, so the answers are the same.
    let v = value.trimmingWhitespace()
    if containsBytes(v, "-----BEGIN") && containsBytes(v, "PRIVATE KEY") { return true }
    if v.hasPrefix("AKIA") || v.hasPrefix("ASIA"), v.count == 20, v.allSatisfy({ $0.isUppercase || $0.isNumber }) { return true }
    let k = key.lowercased()
    guard secretKeyWords.contains(where: { containsBytes(k, $0) }) else { return false }
    if v.isEmpty || (v.hasPrefix("${") && v.hasSuffix("}")) { return false }
    return true
}

/// Whether the bytes of `needle` occur in `haystack`'s UTF-8.
private func containsBytes(_ haystack: String, _ needle: StaticString) -> Bool {
    var haystack = haystack
    return haystack.withUTF8 { h in
        needle.withUTF8Buffer { n in
            guard let first = n.first else { return true }
            guard n.count <= h.count else { return false }
            outer: for i in 0...(h.count - n.count) where h[i] == first {
                for j in 1..<n.count where h[i + j] != n[j] { continue outer }
                return true
            }
            return false
        }
    }
}

func isResourceType(_ s: String) -> Bool {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 2 && parts.allSatisfy { isValidName(String($0)) }
}

/// `<provider>.<kind>.<name>`; names may themselves contain dots for expanded resources (cluster.node).
func isAddress(_ s: String) -> Bool {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count >= 3 && parts.allSatisfy { isValidName(String($0)) }
}
