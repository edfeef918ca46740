/// The one mapping between maifctl's attribute form (the API's field names in lower_snake form, nested as the API nests
/// them) and the JSON Google's REST APIs take and return (lowerCamel names, 64-bit integers as strings).
///
/// Free-form maps (labels, metadata) keep their keys as written. A few fields do not follow the camel rule
/// (`IPProtocol`, `IPAddress`, `networkIP`) and are listed once here.

import ProviderKit

enum APIForm {
    /// snake → API names that the camel rule gets wrong.
    static let irregular: [String: String] = [
        "ip_protocol": "IPProtocol", "ip_address": "IPAddress", "network_ip": "networkIP", "gateway_ipv4": "gatewayIPv4",
    ]
    static let irregularBack: [String: String] = Dictionary(uniqueKeysWithValues: irregular.map { ($0.value, $0.key) })

    /// Fields whose discovery type is `string` with `format: int64` (or uint64): sent as JSON strings of digits.
    static let int64Fields: Set<String> = ["sizeGb", "diskSizeGb", "retentionPeriod", "provisionedIops", "provisionedThroughput"]

    /// Maps whose keys are data, not field names.
    static let freeFormKeys: Set<String> = ["labels", "user_labels", "userLabels"]

    static func apiName(_ snake: String) -> String {
        if let name = irregular[snake] { return name }
        var out = ""
        var upper = false
        for c in snake {
            if c == "_" { upper = true; continue }
            out.append(upper ? Character(c.uppercased()) : c)
            upper = false
        }
        return out
    }

    static func snakeName(_ api: String) -> String {
        if let name = irregularBack[api] { return name }
        var out = ""
        let chars = Array(api)
        for (i, c) in chars.enumerated() {
            if c.isUppercase {
                let prevLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                let prevUpper = i > 0 && chars[i - 1].isUppercase
                if i > 0 && (prevLower || (prevUpper && nextLower)) { out.append("_") }
                out.append(Character(c.lowercased()))
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// An attribute value in the API's form: map keys camel-cased (except inside free-form maps), int64 fields as text.
    static func toAPI(_ value: AttributeValue, field: String? = nil) -> AttributeValue {
        switch value {
        case .map(let m):
            if let field, freeFormKeys.contains(field) { return .map(m) }
            var out: [String: AttributeValue] = [:]
            for (k, v) in m {
                let name = apiName(k)
                out[name] = toAPI(v, field: name)
            }
            return .map(out)
        case .list(let items):
            return .list(items.map { toAPI($0, field: field) })
        case .int(let i) where field.map(int64Fields.contains) == true:
            return .string(String(i))
        case .double(let d) where field.map(int64Fields.contains) == true && d == d.rounded():
            return .string(String(Int64(d)))
        default:
            return value
        }
    }

    /// An API body from attributes: each listed attribute that is set (not null) under its API name.
    static func body(_ config: [String: AttributeValue], _ keys: [String]) -> [String: AttributeValue] {
        var out: [String: AttributeValue] = [:]
        for key in keys {
            guard let v = config[key], v != .null else { continue }
            let name = apiName(key)
            out[name] = toAPI(v, field: name)
        }
        return out
    }

    /// An API answer in attribute form: keys snake-cased (except inside free-form maps), int64 text as integers.
    static func fromAPI(_ value: AttributeValue, field: String? = nil) -> AttributeValue {
        switch value {
        case .map(let m):
            if let field, freeFormKeys.contains(field) { return .map(m) }
            var out: [String: AttributeValue] = [:]
            for (k, v) in m { out[snakeName(k)] = fromAPI(v, field: k) }
            return .map(out)
        case .list(let items):
            return .list(items.map { fromAPI($0, field: field) })
        case .string(let s) where field.map(int64Fields.contains) == true:
            return Int64(s).map(AttributeValue.int) ?? value
        default:
            return value
        }
    }

    /// Every field of an API object in attribute form.
    static func attributes(_ object: [String: AttributeValue]) -> [String: AttributeValue] {
        fromAPI(.map(object)).mapValue ?? [:]
    }
}

/// Self links and partial references, in the one form Compute Engine answers with.
enum ComputeURL {
    static let base = "https://www.googleapis.com/compute/v1/"

    /// `https://www.googleapis.com/compute/v1/projects/P/…` for a full URL (any host), `projects/P/…`, or a path relative
    /// to the project (`global/networks/n`, `zones/z/machineTypes/t`).
    static func full(_ reference: String, project: String) -> String {
        var path = reference
        if let range = path.range(of: "/compute/v1/") { path = String(path[range.upperBound...]) }
        else if path.hasPrefix("https://") || path.hasPrefix("http://") { return reference }
        if path.hasPrefix("/") { path.removeFirst() }
        if !path.hasPrefix("projects/") { path = "projects/\(project)/" + path }
        return base + path
    }

    /// The last path segment: the name of what a URL refers to.
    static func name(_ url: String) -> String {
        String(url.split(separator: "/").last ?? Substring(url))
    }

    /// `zones/Z`, `regions/R` or `global` of a URL (`…/zones/us-central1-a/instances/x` → `zones/us-central1-a`).
    static func scope(_ url: String) -> String? {
        let parts = url.split(separator: "/").map(String.init)
        for (i, p) in parts.enumerated() where (p == "zones" || p == "regions") && i + 1 < parts.count { return "\(p)/\(parts[i + 1])" }
        return parts.contains("global") ? "global" : nil
    }
}
