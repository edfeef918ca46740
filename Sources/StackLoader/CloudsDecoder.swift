/// Reads the `clouds` section: each provider's settings, checked against that provider's settings schema when it is
/// known (unknown keys with suggestions, types, ranges, credentials only by reference), and kept as written otherwise.

import ProviderKit
import StackModel

struct CloudsDecoder {
    let context: DecodeContext
    let schemas: [String: SettingsSchema]?

    func decode(_ r: ObjectReader) -> Clouds {
        var clouds = Clouds()
        guard let schemas else {
            for section in r.keys {
                clouds[section] = r.object(section, "clouds.\(section)") { unchecked($0, section: section) }
            }
            return clouds
        }
        // In the order of the built-in sections, so "known keys here" reads as the documentation does.
        for section in schemas.keys.sorted(by: { Self.order($0) < Self.order($1) }) {
            clouds[section] = r.object(section, "clouds.\(section)") { checked($0, section: section, schema: schemas[section]!) }
        }
        return clouds
    }

    private static let builtinOrder = ["aws", "gcp", "azure", "kubernetes", "swarm", "onprem", "local"]
    private static func order(_ section: String) -> (Int, String) {
        (builtinOrder.firstIndex(of: section) ?? builtinOrder.count, section)
    }

    private func checked(_ r: ObjectReader, section: String, schema: SettingsSchema) -> CloudSettings {
        var settings = CloudSettings(section: section, location: r.location)
        for setting in schema.settings {
            let key = setting.key
            let at = r.raw(key)?.location
            if let value = read(setting, from: r) {
                settings.entries[key] = CloudSetting(value, location: at)
            } else if !r.has(key), let fallback = setting.defaultValue {
                settings.entries[key] = CloudSetting(.value(Self.stackValue(fallback)))
            }
            if setting.required, !r.has(key) { r.missing(key, example: Self.example(setting)) }
        }
        return settings
    }

    private func read(_ setting: SettingSchema, from r: ObjectReader) -> CloudSetting.Value? {
        let key = setting.key
        guard let node = r.raw(key) else { return nil }
        switch setting.references {
        case .required:
            return r.secret(key).map(CloudSetting.Value.reference)
        case .allowed:
            if case .mapping = node.kind { return r.secret(key).map(CloudSetting.Value.reference) }
            if case .scalar(let s, _) = node.kind, Self.isEnvReference(s) { return r.secret(key).map(CloudSetting.Value.reference) }
        case .never:
            break
        }
        switch setting.type {
        case .string, .path: return r.string(key).map { .value(.string($0)) }
        case .int(let range): return r.int(key, in: range).map { .value(.int(Int64($0))) }
        case .number: return r.double(key).map { .value(.double($0)) }
        case .bool: return r.bool(key).map { .value(.bool($0)) }
        case .duration: return r.duration(key).map { .value(.double($0.seconds)) }
        case .stringList: return r.stringList(key).map { .value(.list($0.map(StackValue.string))) }
        case .oneOf(let values):
            guard let text = r.string(key) else { return nil }
            guard values.contains(text) else {
                context.error("invalid-value", "expected one of \(values.joined(separator: ", ")) for \(key), got \"\(text)\"",
                              hint: suggestion(for: text, among: values).map { "did you mean '\($0)'?" }, at: node.location)
                return nil
            }
            return .value(.string(text))
        }
    }

    /// A section no provider reads is kept as written: references stay references, plain scalars are typed as YAML types them.
    private func unchecked(_ r: ObjectReader, section: String) -> CloudSettings {
        var settings = CloudSettings(section: section, location: r.location)
        for key in r.keys {
            guard let node = r.raw(key) else { continue }
            switch node.kind {
            case .mapping:
                if let reference = r.secret(key) { settings.entries[key] = CloudSetting(.reference(reference), location: node.location) }
            case .scalar(let s, let quoted):
                if Self.isEnvReference(s), let reference = r.secret(key) {
                    settings.entries[key] = CloudSetting(.reference(reference), location: node.location)
                } else if let text = r.text(node, expected: "a value") {
                    settings.entries[key] = CloudSetting(.value(Self.typed(text, quoted: quoted || text != s)), location: node.location)
                }
            case .sequence:
                settings.entries[key] = CloudSetting(.value(.list((r.stringList(node) ?? []).map(StackValue.string))), location: node.location)
            case .null:
                break
            }
        }
        return settings
    }

    /// What the "add `key: …`" hint of a missing setting shows.
    static func example(_ setting: SettingSchema) -> String {
        if setting.references == .required { return "{env: NAME}" }
        switch setting.type {
        case .string: return "VALUE"
        case .path: return "PATH"
        case .int(let range): return String(range?.lowerBound ?? 1)
        case .number: return "1.0"
        case .bool: return "true"
        case .duration: return "30s"
        case .oneOf(let values): return values.first ?? "VALUE"
        case .stringList: return "[VALUE]"
        }
    }

    static func isEnvReference(_ text: String) -> Bool {
        let t = text.trimmingWhitespace()
        return t.hasPrefix("${env.") && t.hasSuffix("}") && !t.dropFirst(6).dropLast().contains("}")
    }

    static func typed(_ text: String, quoted: Bool) -> StackValue {
        if quoted { return .string(text) }
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let i = Int64(text) { return .int(i) }
        return .string(text)
    }

    static func stackValue(_ value: AttributeValue) -> StackValue {
        switch value {
        case .null, .unknown: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let l): return .list(l.map(stackValue))
        case .map(let m): return .map(m.mapValues(stackValue))
        }
    }
}
