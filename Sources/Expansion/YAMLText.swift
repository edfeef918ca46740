import ProviderKit

/// A tiny, deterministic YAML writer for the config files that expansion renders (cluster.yaml, node.yaml).
/// Keys keep the order they are given in, so generated files read like the guide's examples.

public indirect enum YAMLText: Sendable, Equatable {
    case scalar(String)
    case number(Double)
    case bool(Bool)
    case map([(String, YAMLText)])
    case list([YAMLText])

    public static func == (a: YAMLText, b: YAMLText) -> Bool { a.render() == b.render() }

    public static func int(_ i: Int) -> YAMLText { .number(Double(i)) }
    public static func string(_ s: String?) -> YAMLText? { s.map { .scalar($0) } }

    /// Builds a map, dropping nil values.
    public static func object(_ pairs: [(String, YAMLText?)]) -> YAMLText {
        .map(pairs.compactMap { k, v in v.map { (k, $0) } })
    }

    public func render() -> String {
        var out = ""
        emit(into: &out, indent: 0, inline: false)
        return out
    }

    private func emit(into out: inout String, indent: Int, inline: Bool) {
        let pad = String(repeating: "  ", count: indent)
        switch self {
        case .scalar, .number, .bool:
            out += scalarText + "\n"
        case .map(let pairs):
            if pairs.isEmpty { out += "{}\n"; return }
            var first = true
            for (key, value) in pairs {
                out += (first && inline) ? "" : pad
                first = false
                out += Self.quoted(key) + ":"
                value.emitValue(into: &out, indent: indent + 1)
            }
        case .list(let items):
            if items.isEmpty { out += "[]\n"; return }
            for item in items {
                out += pad + "- "
                switch item {
                case .map(let p) where !p.isEmpty: item.emit(into: &out, indent: indent + 1, inline: true)
                default: item.emitValue(into: &out, indent: indent + 1, afterDash: true)
                }
            }
        }
    }

    private func emitValue(into out: inout String, indent: Int, afterDash: Bool = false) {
        switch self {
        case .scalar, .number, .bool:
            out += (afterDash ? "" : " ") + scalarText + "\n"
        case .map(let p) where p.isEmpty:
            out += (afterDash ? "" : " ") + "{}\n"
        case .list(let l) where l.isEmpty:
            out += (afterDash ? "" : " ") + "[]\n"
        case .map:
            out += "\n"
            emit(into: &out, indent: indent, inline: false)
        case .list:
            out += "\n"
            emit(into: &out, indent: indent, inline: false)
        }
    }

    private var scalarText: String {
        switch self {
        case .scalar(let s): return Self.quoted(s)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        default: return ""
        }
    }

    /// Plain when unambiguous, double-quoted otherwise.
    static func quoted(_ s: String) -> String {
        let reserved: Set<String> = ["", "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        let plainSafe = s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./@".unicodeScalars.contains(c)
        }
        if plainSafe, !reserved.contains(s.lowercased()), Double(s) == nil, let f = s.unicodeScalars.first, f != "-" && f != "." {
            return s
        }
        var out = ""
        writeJSONString(s, into: &out)
        return out
    }
}

extension YAMLText {
    /// The same value as an attribute (for a manifest that carries it as an object, e.g. a PrometheusRule's groups).
    public var attributeValue: AttributeValue {
        switch self {
        case .scalar(let s): return .string(s)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? .int(Int64(d)) : .double(d)
        case .bool(let b): return .bool(b)
        case .map(let pairs): return .map(Dictionary(pairs.map { ($0.0, $0.1.attributeValue) }, uniquingKeysWith: { _, b in b }))
        case .list(let items): return .list(items.map(\.attributeValue))
        }
    }
}
