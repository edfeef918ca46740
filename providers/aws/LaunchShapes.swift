/// What an instance and a launch template describe alike (block devices, tags at launch, user data, metadata
/// options): the schema's shape to EC2 query parameters and back from EC2's XML.

import Foundation
import ProviderKit

enum LaunchShapes {
    /// User data goes to EC2 base64-encoded; the schema holds the plain text.
    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// The plain text of base64 user data; `.null` when there is none.
    static func userData(base64 text: String?) -> AttributeValue {
        guard let text, !text.isEmpty else { return .null }
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else { return .string(text) }
        return .string(String(decoding: data, as: UTF8.self))
    }

    /// The EBS settings the schema names, as (attribute, API member).
    static let ebsFields = [("volume_size", "VolumeSize"), ("volume_type", "VolumeType"), ("encrypted", "Encrypted"),
                            ("delete_on_termination", "DeleteOnTermination")]

    /// `<prefix>.N.DeviceName` and `<prefix>.N.Ebs.*` for `[{device_name, ebs: {…}}]`.
    static func blockDeviceParams(_ value: AttributeValue?, prefix: String) -> [String: String] {
        var params: [String: String] = [:]
        for (i, device) in (value?.listValue ?? []).enumerated() {
            let m = device.mapValue ?? [:]
            let p = "\(prefix).\(i + 1)."
            params[p + "DeviceName"] = m["device_name"]?.text
            for (attribute, member) in ebsFields {
                if let v = m["ebs"]?.mapValue?[attribute]?.text { params[p + "Ebs." + member] = v }
            }
        }
        return params
    }

    /// One block device in the schema's shape, from EBS settings AWS reports.
    static func blockDevice(_ name: String, size: String?, type: String?, encrypted: String?, deleteOnTermination: String?) -> AttributeValue {
        var ebs: [String: AttributeValue] = [:]
        if let size, let n = Int64(size) { ebs["volume_size"] = .int(n) }
        if let type, !type.isEmpty { ebs["volume_type"] = .string(type) }
        if let encrypted { ebs["encrypted"] = .bool(encrypted == "true") }
        if let deleteOnTermination { ebs["delete_on_termination"] = .bool(deleteOnTermination == "true") }
        return .map(["device_name": .string(name), "ebs": .map(ebs)])
    }

    /// `<prefix>.N.ResourceType` and `<prefix>.N.Tag.M.*`, one spec per resource type that has tags.
    static func tagSpecifications(_ specs: [(type: String, tags: [String: String])], prefix: String) -> [String: String] {
        var params: [String: String] = [:]
        for (i, spec) in specs.filter({ !$0.tags.isEmpty }).enumerated() {
            params["\(prefix).\(i + 1).ResourceType"] = spec.type
            for (j, key) in spec.tags.keys.sorted().enumerated() {
                params["\(prefix).\(i + 1).Tag.\(j + 1).Key"] = key
                params["\(prefix).\(i + 1).Tag.\(j + 1).Value"] = spec.tags[key]
            }
        }
        return params
    }

    /// The metadata options the schema names, as (attribute, API member).
    static let metadataFields = [("http_tokens", "HttpTokens"), ("http_endpoint", "HttpEndpoint"),
                                 ("http_put_response_hop_limit", "HttpPutResponseHopLimit")]

    static func metadataParams(_ value: AttributeValue?, prefix: String) -> [String: String] {
        var params: [String: String] = [:]
        for (attribute, member) in metadataFields {
            if let v = value?.mapValue?[attribute]?.text { params[prefix.isEmpty ? member : "\(prefix).\(member)"] = v }
        }
        return params
    }

    /// `{http_tokens, http_endpoint, http_put_response_hop_limit}` from a `metadataOptions` element, as far as it
    /// has them (an instance has all; `plan` takes the ones the stack leaves unset from the prior state).
    static func metadataOptions(_ node: XMLNode?) -> AttributeValue {
        guard let node else { return .null }
        var m: [String: AttributeValue] = [:]
        if let v = node.value("httpTokens"), !v.isEmpty { m["http_tokens"] = .string(v) }
        if let v = node.value("httpEndpoint"), !v.isEmpty { m["http_endpoint"] = .string(v) }
        if let v = node.value("httpPutResponseHopLimit").flatMap({ Int64($0) }) { m["http_put_response_hop_limit"] = .int(v) }
        return m.isEmpty ? .null : .map(m)
    }

    /// Security group ids in an element that lists them either as `<item>`s (with or without `<groupId>`) or as
    /// bare `<groupId>`s.
    static func groupIds(_ node: XMLNode?) -> [String] {
        guard let node else { return [] }
        var ids: [String] = []
        for child in node.children {
            let id = child.name == "item" ? (child.value("groupId") ?? child.text) : child.name == "groupId" ? child.text : ""
            let trimmed = id.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { ids.append(trimmed) }
        }
        return ids.sorted()
    }

    /// `name` from `arn:aws:iam::…:instance-profile/[path/]name`; anything else as it is.
    static func profileName(_ value: String) -> String {
        guard value.hasPrefix("arn:"), let range = value.range(of: ":instance-profile/") else { return value }
        return String(value[range.upperBound...].split(separator: "/").last ?? "")
    }

    /// Tags in a `tagSet`, as a string map.
    static func tags(_ node: XMLNode?) -> [String: String] {
        var m: [String: String] = [:]
        for tag in node?.all("item") ?? [] { if let k = tag.value("key") { m[k] = tag.value("value") ?? "" } }
        return m
    }
}

extension AttributeValue {
    /// A map of tags as `AttributeValue`.
    static func tags(_ tags: [String: String]) -> AttributeValue { .map(tags.mapValues { .string($0) }) }
}
