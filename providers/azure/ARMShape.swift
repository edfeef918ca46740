/// How the provider's attributes map onto ARM documents and back. Attribute names are ARM's JSON names in lower_snake
/// form (`vmSize` is `vm_size`, `publicIPAddress` is `public_ip_address`, `diskSizeGB` is `disk_size_gb`), with ARM's
/// `properties` envelope flattened into the resource, and into each item of a list of sub-resources (security rules, ip
/// configurations, probes …), as the Azure SDKs do. `tags` and `metadata` keep their keys as written.
///
/// What `read` reports is cut to the shape of what the stack wrote (`shaped`): ARM adds its own defaults, computed
/// values and back-references everywhere, and those are not drift; what the stack wrote and ARM now says otherwise is.

import ProviderKit

enum ARMShape {
    // MARK: Names

    /// Whole names that do not follow the rule.
    static let irregular: [String: String] = ["odata_type": "odata.type"]
    /// Words ARM spells in capitals inside a name: `publicIPAddress`, `diskSizeGB`, `enableFloatingIP`.
    static let acronyms: Set<String> = ["ip", "gb"]

    /// `public_ip_address` → `publicIPAddress`.
    static func camel(_ snake: String) -> String {
        if let name = irregular[snake] { return name }
        let words = snake.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard let first = words.first else { return snake }
        return first + words.dropFirst().map { word in
            acronyms.contains(word) ? word.uppercased() : word.prefix(1).uppercased() + word.dropFirst()
        }.joined()
    }

    /// `publicIPAddress` → `public_ip_address`; a run of capitals is one word (`IP` in `IPAddress`).
    static func snake(_ camel: String) -> String {
        if let name = irregular.first(where: { $0.value == camel })?.key { return name }
        let chars = Array(camel)
        var words: [String] = []
        var current = ""
        for (i, c) in chars.enumerated() {
            let upper = c.isUppercase
            if upper, !current.isEmpty {
                let prev = chars[i - 1]
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if !prev.isUppercase || nextLower {
                    words.append(current)
                    current = ""
                }
            }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.lowercased() }.joined(separator: "_")
    }

    // MARK: Documents

    /// Keys of a sub-resource that stay outside its `properties`.
    static let subResourceKeys: Set<String> = ["name", "id", "type", "etag"]

    /// How one resource type's attributes sit in its ARM document.
    struct Layout: Sendable {
        /// Attributes at the top of the document (`location`, `tags`, `sku`, `kind`, `zones`); the rest go in `properties`.
        var topLevel: Set<String> = ["location", "tags"]
        /// Attribute paths (`a.b[]`) whose list items are sub-resources with a `properties` envelope of their own.
        var envelopes: Set<String> = []
        /// Attribute paths whose map keys are the user's own (tags, metadata).
        var opaque: Set<String> = ["tags", "metadata"]
    }

    /// An attribute value in ARM's form: names in camelCase, sub-resources enveloped. `path` is the attribute path.
    static func toARM(_ value: AttributeValue, path: String, layout: Layout) -> AttributeValue {
        switch value {
        case .map(let m):
            if layout.opaque.contains(path) { return value }
            var out: [String: AttributeValue] = [:]
            for (k, v) in m { out[camel(k)] = toARM(v, path: path + "." + k, layout: layout) }
            return .map(out)
        case .list(let items):
            let itemPath = path + "[]"
            return .list(items.map { item in
                let converted = toARM(item, path: itemPath, layout: layout)
                guard layout.envelopes.contains(itemPath), case .map(let m) = converted else { return converted }
                var outer: [String: AttributeValue] = [:]
                var properties: [String: AttributeValue] = [:]
                for (k, v) in m {
                    if subResourceKeys.contains(k) { outer[k] = v } else { properties[k] = v }
                }
                if !properties.isEmpty { outer["properties"] = .map(properties) }
                return .map(outer)
            })
        default:
            return value
        }
    }

    /// An ARM value in the attributes' form (the inverse of `toARM`).
    static func fromARM(_ value: AttributeValue, path: String, layout: Layout) -> AttributeValue {
        switch value {
        case .map(let m):
            if layout.opaque.contains(path) { return value }
            var out: [String: AttributeValue] = [:]
            for (k, v) in m {
                let name = snake(k)
                out[name] = fromARM(v, path: path + "." + name, layout: layout)
            }
            return .map(out)
        case .list(let items):
            let itemPath = path + "[]"
            return .list(items.map { item in
                guard layout.envelopes.contains(itemPath), case .map(var m) = item else {
                    return fromARM(item, path: itemPath, layout: layout)
                }
                if case .map(let properties)? = m.removeValue(forKey: "properties") {
                    for (k, v) in properties where m[k] == nil { m[k] = v }
                }
                return fromARM(.map(m), path: itemPath, layout: layout)
            })
        default:
            return value
        }
    }

    /// The request body for `attributes` (path attributes already left out).
    static func body(_ attributes: [String: AttributeValue], layout: Layout) -> [String: AttributeValue] {
        var body: [String: AttributeValue] = [:]
        var properties: [String: AttributeValue] = [:]
        for (key, value) in attributes {
            let converted = toARM(value, path: key, layout: layout)
            if layout.topLevel.contains(key) { body[camel(key)] = converted } else { properties[camel(key)] = converted }
        }
        if !properties.isEmpty { body["properties"] = .map(properties) }
        return body
    }

    /// A resource document as flat attributes: the top-level members and those of `properties`, in snake form.
    static func attributes(_ document: [String: AttributeValue], layout: Layout) -> [String: AttributeValue] {
        var out: [String: AttributeValue] = [:]
        for (k, v) in document where k != "properties" {
            let name = snake(k)
            out[name] = fromARM(v, path: name, layout: layout)
        }
        if case .map(let properties)? = document["properties"] {
            for (k, v) in properties {
                let name = snake(k)
                if out[name] == nil { out[name] = fromARM(v, path: name, layout: layout) }
            }
        }
        return out
    }

    // MARK: Comparing with the stack

    /// `value` as read, cut to the shape of `wanted` (what the stack wrote): only the map keys it has, list items
    /// matched by `name` where they have one (unmatched items kept, in the keys the stack's items use), ARM ids and
    /// ids compared as ARM does (ignoring case). `opaque` maps are kept whole.
    static func shaped(_ value: AttributeValue, like wanted: AttributeValue, opaque: Bool = false) -> AttributeValue {
        switch (value, wanted) {
        case (.map, .map) where opaque:
            return value
        case (.map(let have), .map(let want)):
            var out: [String: AttributeValue] = [:]
            for (key, item) in have { if let w = want[key] { out[key] = shaped(item, like: w) } }
            return .map(out)
        case (.list(let have), .list(let want)):
            let names = want.compactMap { $0.mapValue?["name"]?.stringValue }
            if !names.isEmpty, names.count == want.count,
               have.allSatisfy({ $0.mapValue?["name"]?.stringValue != nil }) {
                var byName: [String: AttributeValue] = [:]
                for item in have { byName[item.mapValue!["name"]!.stringValue!.lowercased()] = item }
                var out: [AttributeValue] = []
                var used: Set<String> = []
                for w in want {
                    let key = w.mapValue!["name"]!.stringValue!.lowercased()
                    if let item = byName[key] {
                        out.append(shaped(item, like: w))
                        used.insert(key)
                    }
                }
                // What someone added out of band: shown in the keys the stack's items use, so a plan can name it.
                var union: [String: AttributeValue] = [:]
                for w in want { for (k, v) in w.mapValue ?? [:] { union[k] = union[k] ?? v } }
                for item in have where !used.contains(item.mapValue!["name"]!.stringValue!.lowercased()) {
                    out.append(shaped(item, like: .map(union)))
                }
                return .list(out)
            }
            if have.count == want.count { return .list(zip(have, want).map { shaped($0, like: $1) }) }
            if let template = want.first { return .list(have.map { shaped($0, like: template) }) }
            return value
        case (.string(let have), .string(let want)):
            // ARM ids keep the spec's casing (`resourcegroups` is `resourceGroups`): the same id either way.
            if have != want, have.hasPrefix("/"), have.caseInsensitiveCompare(want) == .orderedSame { return wanted }
            return value
        default:
            return value
        }
    }

    /// "East US" → "eastus", ARM's location name.
    static func normalizedLocation(_ text: String) -> String {
        String(text.lowercased().filter { !$0.isWhitespace })
    }

    /// The value at a dotted attribute path (`os_profile.custom_data`), if any.
    static func value(at path: String, in attributes: [String: AttributeValue]) -> AttributeValue? {
        let parts = path.split(separator: ".").map(String.init)
        var current: AttributeValue? = attributes[parts[0]]
        for part in parts.dropFirst() { current = current?.mapValue?[part] }
        return current
    }

    /// `attributes` with the value at `path` set (maps on the way created).
    static func setting(_ value: AttributeValue?, at path: String, in attributes: [String: AttributeValue]) -> [String: AttributeValue] {
        let parts = path.split(separator: ".").map(String.init)
        func set(_ node: AttributeValue?, _ rest: ArraySlice<String>) -> AttributeValue? {
            guard let key = rest.first else { return value }
            var m = node?.mapValue ?? [:]
            m[key] = set(m[key], rest.dropFirst())
            return .map(m)
        }
        var out = attributes
        if parts.count == 1 {
            out[parts[0]] = value
        } else {
            out[parts[0]] = set(out[parts[0]], parts.dropFirst())
        }
        return out
    }
}
