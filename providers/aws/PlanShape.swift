/// One form for values AWS treats as sets or fills in itself, shared by `plan` (the configuration) and `read`
/// (what AWS reports), so the two compare equal when nothing changed.

import ProviderKit

enum PlanShape {
    /// The configuration in the form `read` reports, for comparing with the prior state.
    static func desired(_ request: PlanRequest, schema: ResourceSchema?) -> [String: AttributeValue] {
        var desired = request.desired
        let prior = request.prior?.attributes ?? [:]
        switch request.context.address.kind {
        case "instance":
            desired["metadata_options"] = fillUnset(desired["metadata_options"], from: prior["metadata_options"])
            desired["block_device_mappings"] = blockDevices(desired["block_device_mappings"], prior: prior["block_device_mappings"])
            desired["security_group_ids"] = sortedList(desired["security_group_ids"])
            if let profile = desired["iam_instance_profile"]?.text { desired["iam_instance_profile"] = .string(LaunchShapes.profileName(profile)) }
        case "launch_template":
            desired["block_device_mappings"] = blockDevices(desired["block_device_mappings"], prior: nil)
            desired["security_group_ids"] = sortedList(desired["security_group_ids"])
            desired["network_interfaces"] = networkInterfaces(desired["network_interfaces"])
            desired["tag_specifications"] = sortedList(desired["tag_specifications"], by: "resource_type")
        case "route_table":
            desired["routes"] = sortedList(desired["routes"], by: "destination_cidr_block")
        default:
            break
        }
        return desired
    }

    /// A list in a stable order: by `key` for maps, by value otherwise. Unknown values keep a stable place too.
    static func sortedList(_ value: AttributeValue?, by key: String? = nil) -> AttributeValue? {
        guard case .list(let items)? = value else { return value }
        return .list(items.sorted { sortKey($0, key) < sortKey($1, key) })
    }

    private static func sortKey(_ value: AttributeValue, _ key: String?) -> String {
        let part = key.flatMap { value.mapValue?[$0] } ?? value
        return part.text ?? part.canonicalJSON(indent: nil)
    }

    /// Block devices by device name; for an instance, EBS settings the stack leaves unset take what AWS chose.
    static func blockDevices(_ value: AttributeValue?, prior: AttributeValue?) -> AttributeValue? {
        guard let sorted = sortedList(value, by: "device_name"), case .list(let items) = sorted else { return value }
        let before = Dictionary((prior?.listValue ?? []).compactMap { d in d.mapValue?["device_name"]?.text.map { ($0, d) } },
                                uniquingKeysWith: { a, _ in a })
        return .list(items.map { item in
            guard var device = item.mapValue, let name = device["device_name"]?.text, let old = before[name]?.mapValue else { return item }
            device["ebs"] = fillUnset(device["ebs"], from: old["ebs"])
            return .map(device)
        })
    }

    /// Network interfaces by device index, each one's security groups sorted.
    static func networkInterfaces(_ value: AttributeValue?) -> AttributeValue? {
        guard case .list(let items)? = sortedList(value, by: "device_index") else { return value }
        return .list(items.map { item in
            guard var m = item.mapValue else { return item }
            if let groups = m["groups"] { m["groups"] = sortedList(groups) }
            return .map(m)
        })
    }

    /// A map with the keys it leaves out taken from `prior` (AWS's defaults, as read last time).
    static func fillUnset(_ value: AttributeValue?, from prior: AttributeValue?) -> AttributeValue? {
        guard case .map(var m)? = value, case .map(let old)? = prior else { return value }
        for (key, v) in old where m[key] == nil { m[key] = v }
        return .map(m)
    }
}
