/// The halves of "a plan after apply shows no change", and the owner marks:
///
/// - `StateForm.recorded`: what is recorded after a create or update is the attributes the stack set plus the computed
///   ones, each in the shape the stack wrote it (a map GCP fills with defaults keeps only the keys the stack set);
/// - `StateForm.managed`: what `read` reports, limited the same way to what the prior state manages;
/// - `PlanForm.desired`: the configuration brought to the form `read` reports before it is compared;
/// - `Owner`: the `maif-stack` / `maif-address` labels, or the description, that let `find` tell what a stack made.

import ProviderKit

enum StateForm {
    /// Maps whose every key matters (extra labels added by hand are drift).
    static let freeForm: Set<String> = ["labels", "user_labels", "metadata"]
    /// Lists GCP keeps as sets and may answer in another order.
    static let unordered: Set<String> = ["source_ranges", "target_tags", "source_tags", "network_tags", "instances", "health_checks",
                                         "rrdatas", "ports", "notification_channels", "name_servers"]

    static func recorded(_ state: ResourceState, _ config: [String: AttributeValue], _ type: String) -> ResourceState {
        let computed = GCPProviderSchema.provider.resources[type]?.computedAttributes ?? []
        var out = state
        out.attributes = state.attributes.filter { config[$0.key] != nil || computed.contains($0.key) }
        for name in computed where out.attributes[name] == nil { out.attributes[name] = .null }
        // What the API does not echo (a create-only input) keeps its configured value.
        for (name, value) in config where out.attributes[name] == nil && value.isKnown { out.attributes[name] = value }
        out.attributes = aligned(out.attributes, to: config)
        return out
    }

    static func managed(_ state: ResourceState, prior: [String: AttributeValue], type: String) -> ResourceState {
        let computed = GCPProviderSchema.provider.resources[type]?.computedAttributes ?? []
        var out = state
        out.attributes = state.attributes.filter { prior[$0.key] != nil || computed.contains($0.key) }
        for (key, value) in prior where out.attributes[key] == nil { out.attributes[key] = value }
        out.attributes = aligned(out.attributes, to: prior)
        return out
    }

    static func aligned(_ attributes: [String: AttributeValue], to stack: [String: AttributeValue]) -> [String: AttributeValue] {
        var out = attributes
        for (key, value) in attributes {
            guard let wanted = stack[key], wanted.isKnown else { continue }
            if unordered.contains(key) { out[key] = ordered(value, like: wanted); continue }
            if freeForm.contains(key) { out[key] = scalarsLike(value, wanted); continue }
            out[key] = shaped(value, like: wanted)
        }
        return out
    }

    /// `value` with only the map keys `wanted` has, at any depth; lists of the same length item by item; a scalar that
    /// reads as the same text takes the stack's type ("8080" is the stack's 8080).
    static func shaped(_ value: AttributeValue, like wanted: AttributeValue, key: String? = nil) -> AttributeValue {
        switch (value, wanted) {
        case (.map(let have), .map(let want)):
            if let key, freeForm.contains(key) { return scalarsLike(value, wanted) }
            // Keys the stack did not set are GCP's defaults, not drift; keys GCP does not report keep the stack's value.
            var out: [String: AttributeValue] = [:]
            for (k, w) in want { out[k] = have[k].map { shaped($0, like: w, key: k) } ?? w }
            return .map(out)
        case (.list(let have), .list(let want)):
            if let key, unordered.contains(key) { return ordered(value, like: wanted) }
            guard have.count == want.count else { return value }
            return .list(zip(have, want).map { shaped($0, like: $1, key: key) })
        default:
            return scalarLike(value, wanted)
        }
    }

    static func scalarLike(_ value: AttributeValue, _ wanted: AttributeValue) -> AttributeValue {
        switch (value, wanted) {
        case (.string, .int), (.string, .double), (.string, .bool), (.int, .string), (.double, .string), (.bool, .string):
            return value.interpolationText == wanted.interpolationText ? wanted : value
        default:
            return value
        }
    }

    static func scalarsLike(_ value: AttributeValue, _ wanted: AttributeValue) -> AttributeValue {
        guard case .map(let have) = value, case .map(let want) = wanted else { return value }
        return .map(have.reduce(into: [:]) { out, item in out[item.key] = want[item.key].map { scalarLike(item.value, $0) } ?? item.value })
    }

    /// The stack's order when both lists hold the same items.
    static func ordered(_ value: AttributeValue, like wanted: AttributeValue) -> AttributeValue {
        guard case .list(let have) = value, case .list(let want) = wanted, have.count == want.count else { return value }
        let key = { (v: AttributeValue) in v.canonicalJSON(indent: nil) }
        return have.map(key).sorted() == want.map(key).sorted() ? wanted : value
    }
}

enum PlanForm {
    /// Attributes (at any depth) that hold references to other Compute resources.
    static let references: Set<String> = ["network", "subnetwork", "instance_template", "health_check", "health_checks", "target",
                                          "group", "instances", "backend_service"]

    static func desired(_ kind: String, _ desired: [String: AttributeValue], project: String?) -> [String: AttributeValue] {
        var out = desired
        let project = desired["project"]?.stringValue ?? project
        if ComputeKinds.all[kind] != nil, let project {
            for (key, value) in desired { out[key] = fullReferences(value, key: key, project: project) }
        }
        switch kind {
        case "instance", "instance_template":
            if let type = out["machine_type"]?.stringValue, !type.contains("${") { out["machine_type"] = .string(ComputeURL.name(type)) }
            if case .list(let disks)? = out["disks"] { out["disks"] = .list(disks.map(bareDiskType)) }
        case "disk":
            if let type = out["type"]?.stringValue, !type.contains("${") { out["type"] = .string(ComputeURL.name(type)) }
        case "bucket":
            if let location = out["location"]?.stringValue { out["location"] = .string(location.uppercased()) }
        case "dns_managed_zone":
            if let name = out["dns_name"]?.stringValue, !name.isEmpty, !name.hasSuffix(".") { out["dns_name"] = .string(name + ".") }
        case "dns_record_set":
            if let name = out["name"]?.stringValue, !name.isEmpty, !name.hasSuffix("."), !name.contains("${") { out["name"] = .string(name + ".") }
        default:
            break
        }
        return out
    }

    static func fullReferences(_ value: AttributeValue, key: String, project: String) -> AttributeValue {
        switch value {
        case .string(let s) where references.contains(key) && !s.isEmpty && !s.contains("${"):
            return .string(ComputeURL.full(s, project: project))
        case .list(let items):
            return .list(items.map { fullReferences($0, key: key, project: project) })
        case .map(let m) where !StateForm.freeForm.contains(key):
            return .map(m.reduce(into: [:]) { out, item in out[item.key] = fullReferences(item.value, key: item.key, project: project) })
        default:
            return value
        }
    }

    static func bareDiskType(_ disk: AttributeValue) -> AttributeValue {
        guard case .map(var d) = disk, case .map(var params)? = d["initialize_params"],
              let type = params["disk_type"]?.stringValue, !type.contains("${") else { return disk }
        params["disk_type"] = .string(ComputeURL.name(type))
        d["initialize_params"] = .map(params)
        return .map(d)
    }
}

/// The owner marks. GCP labels allow only lowercase letters, digits, `_` and `-` (at most 63 characters), so the
/// labels are `maif-stack` / `maif-address` with sanitized values (`gcp.instance.c.n` → `gcp_instance_c_n`); types
/// without labels carry `maif:stack=… maif:address=…` in their description, exactly.
enum Owner {
    static func labelValue(_ text: String) -> String {
        let s = String(text.lowercased().map { c -> Character in
            if c == "." { return "_" }
            return (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == "-" ? c : "-"
        })
        guard s.count > 63 else { return s }
        var h: UInt32 = 2_166_136_261
        for byte in s.utf8 { h ^= UInt32(byte); h = h &* 16_777_619 }
        let hex = String(h, radix: 16)
        return String(s.prefix(54)) + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    static func labels(_ context: ResourceContext) -> [String: AttributeValue] {
        ["maif-stack": .string(labelValue(context.stack)), "maif-address": .string(labelValue(context.address.description))]
    }

    static func description(_ context: ResourceContext) -> String {
        "Managed by maifctl: maif:stack=\(context.stack) maif:address=\(context.address)"
    }

    /// The attribute that carries the owner for a type: its labels, else its description.
    static func attribute(_ type: String) -> String? {
        guard let attributes = GCPProviderSchema.provider.resources[type]?.attributes else { return nil }
        // A template's labels are its instances'; the template itself has none.
        if type == "gcp.instance_template" { return "description" }
        if attributes["user_labels"] != nil { return "user_labels" }
        if attributes["labels"] != nil { return "labels" }
        if attributes["description"] != nil { return "description" }
        return nil
    }

    static func mark(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        var config = config
        switch attribute(context.address.type) {
        case "labels"?, "user_labels"?:
            let key = attribute(context.address.type)!
            guard config[key] == nil || config[key]?.mapValue != nil else { return config }
            var labels = config[key]?.mapValue ?? [:]
            labels.merge(Self.labels(context)) { _, owner in owner }
            config[key] = .map(labels)
        case "description"?:
            let mark = description(context)
            switch config["description"] {
            case nil, .null?: config["description"] = .string(mark)
            case .string(let text)? where !text.contains("maif:address=") && !text.contains("${"):
                config["description"] = .string(text.isEmpty ? mark : "\(text) (\(mark))")
            default: break
            }
        default:
            break
        }
        return config
    }

    /// Whether what GCP reports names this stack and address as its owner.
    static func owns(_ attributes: [String: AttributeValue], _ context: ResourceContext) -> Bool {
        switch attribute(context.address.type) {
        case let key? where key.hasSuffix("labels"):
            let labels = attributes[key]?.mapValue ?? [:]
            return labels["maif-stack"]?.stringValue == labelValue(context.stack)
                && labels["maif-address"]?.stringValue == labelValue(context.address.description)
        case "description"?:
            guard let text = attributes["description"]?.stringValue else { return false }
            let mark = "maif:stack=\(context.stack) maif:address=\(context.address)"
            return text.hasSuffix(mark) || text.contains(mark + ")") || text.contains(mark + " ")
        default:
            return true
        }
    }
}
