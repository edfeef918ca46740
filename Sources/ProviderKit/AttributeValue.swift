/// Attribute values of resources, with an "unknown until apply" case, and their canonical JSON form.

public indirect enum AttributeValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([AttributeValue])
    case map([String: AttributeValue])
    /// A value only the provider will know once the resource exists (an id, an IP address).
    case unknown

    public var isKnown: Bool {
        switch self {
        case .unknown: return false
        case .list(let l): return l.allSatisfy(\.isKnown)
        case .map(let m): return m.values.allSatisfy(\.isKnown)
        default: return true
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int64(exactly: d)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        switch self {
        case .bool(let b): return b
        case .string("true"): return true
        case .string("false"): return false
        default: return nil
        }
    }

    public var mapValue: [String: AttributeValue]? {
        if case .map(let m) = self { return m }
        return nil
    }

    public var listValue: [AttributeValue]? {
        if case .list(let l) = self { return l }
        return nil
    }

    /// Text for interpolation into strings and for display of scalars.
    public var interpolationText: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return formatDouble(d)
        case .string(let s): return s
        case .unknown: return "(known after apply)"
        case .list, .map: return canonicalJSON(indent: nil)
        }
    }
}

extension AttributeValue {
    /// Numbers compare by value: JSON does not keep `1.0` apart from `1`, so neither may a diff.
    public static func == (a: AttributeValue, b: AttributeValue) -> Bool {
        switch (a, b) {
        case (.null, .null), (.unknown, .unknown): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .unknown: hasher.combine(1)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(Double(i))
        case .double(let d): hasher.combine(d)
        case .string(let s): hasher.combine(s)
        case .list(let l): hasher.combine(l)
        case .map(let m): hasher.combine(m)
        }
    }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension AttributeValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Most values are strings or maps; try those first, since every failed attempt costs an error.
        if c.decodeNil() { self = .null }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let m = try? c.decode([String: AttributeValue].self) {
            self = m.count == 1 && m["$unknown"] == .bool(true) ? .unknown : .map(m)
            return
        }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let l = try? c.decode([AttributeValue].self) { self = .list(l) }
        else {
            let map = try c.decode([String: AttributeValue].self)
            self = map.count == 1 && map["$unknown"] == .bool(true) ? .unknown : .map(map)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .list(let l): try c.encode(l)
        case .map(let m): try c.encode(m)
        case .unknown: try c.encode(["$unknown": true])
        }
    }
}

func formatDouble(_ d: Double) -> String {
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
    return "\(d)"
}

// MARK: Canonical JSON

extension AttributeValue {
    /// Sorted keys, two-space indentation (or none), stable numbers, no trailing newline:
    /// the same value always gives the same bytes, so unchanged resources never show in a git diff.
    public func canonicalJSON(indent: Int? = 2) -> String {
        var out = ""
        out.reserveCapacity(256)
        write(into: &out, indent: indent, level: 0)
        return out
    }

    func write(into out: inout String, indent: Int?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? formatDouble(d) : "null"
        case .string(let s): writeJSONString(s, into: &out)
        case .unknown: out += "{\"$unknown\": true}"
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                item.write(into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .map(let map):
            if map.isEmpty { out += "{}"; return }
            out += "{"
            for (i, key) in map.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                writeJSONString(key, into: &out)
                out += indent == nil ? ":" : ": "
                map[key]!.write(into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }
}

private func newline(_ out: inout String, _ indent: Int?, _ level: Int) {
    guard let indent else { return }
    out += "\n"
    out += String(repeating: " ", count: indent * level)
}

public func writeJSONString(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out += "\""
}
