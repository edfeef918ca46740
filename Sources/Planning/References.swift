/// `${<address>.<attribute>}` references inside configuration strings: finding them (graph edges)
/// and resolving them (against planned values during plan, against fresh state during apply).

import Foundation
import ProviderKit

public struct Reference: Hashable, Sendable {
    public var address: ResourceAddress
    public var attribute: String
}

public enum References {
    /// Every reference in a value, in order of appearance. Expressions that are not references are ignored.
    public static func find(in value: AttributeValue) -> [Reference] {
        var out: [Reference] = []
        collect(value, into: &out)
        return out
    }

    private static func collect(_ value: AttributeValue, into out: inout [Reference]) {
        switch value {
        case .string(let s) where s.contains("${"):
            for expression in expressions(in: s) {
                if let r = parse(expression) { out.append(r) }
            }
        case .list(let l): for v in l { collect(v, into: &out) }
        case .map(let m): for k in m.keys.sorted() { collect(m[k]!, into: &out) }
        default: break
        }
    }

    static func expressions(in s: String) -> [String] {
        var out: [String] = []
        var rest = Substring(s)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            out.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return out
    }

    /// `local.node.c.n1.endpoint` → address `local.node.c.n1`, attribute `endpoint`.
    public static func parse(_ expression: String) -> Reference? {
        guard let dot = expression.lastIndex(of: "."),
              let address = ResourceAddress(parsing: String(expression[..<dot])) else { return nil }
        let attribute = String(expression[expression.index(after: dot)...])
        guard !attribute.isEmpty else { return nil }
        return Reference(address: address, attribute: attribute)
    }

    /// Replaces references with values from `lookup`; nil from lookup means "not known yet".
    /// A string that is exactly one reference takes the referenced value's type.
    public static func resolve(_ value: AttributeValue, _ lookup: (Reference) -> AttributeValue?) -> AttributeValue {
        switch value {
        case .string(let s) where s.contains("${"):
            let exprs = expressions(in: s)
            if exprs.count == 1, s == "${\(exprs[0])}", let r = parse(exprs[0]) {
                return lookup(r) ?? .unknown
            }
            var out = s
            for e in exprs {
                guard let r = parse(e) else { continue }
                guard let v = lookup(r), v.isKnown else { return .unknown }
                out = out.replacingFirst("${\(e)}", with: v.interpolationText)
            }
            return .string(out)
        case .list(let l): return .list(l.map { resolve($0, lookup) })
        case .map(let m): return .map(m.mapValues { resolve($0, lookup) })
        default: return value
        }
    }

    public static func resolve(_ config: [String: AttributeValue], _ lookup: (Reference) -> AttributeValue?) -> [String: AttributeValue] {
        config.mapValues { resolve($0, lookup) }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}
