/// What maifctl owns in a live object, and what of it has changed.
///
/// Server-side apply records, per field manager, the fields it set (`metadata.managedFields`, FieldsV1: `f:name` for a
/// field, `k:{"name":"maif"}` for an item of a list keyed by some of its fields, `v:"x"` for an item of a set, `.`
/// for the item itself). Drift is read only on what maifctl applied: the live object is seen through the shape of the
/// manifest maifctl last applied — its keys, its list items found by the keys its managedFields entry names — so
/// defaults the server filled in and fields other managers set never show; a value someone changed (kubectl
/// edit/scale/patch) on a field maifctl set does, and the next apply puts it back.

import Foundation
import ProviderKit

/// A FieldsV1 set as a tree: `f:spec` → `f:replicas` → (leaf).
struct FieldSet: Sendable, Equatable {
    var children: [String: FieldSet] = [:]

    init(children: [String: FieldSet] = [:]) { self.children = children }

    init(_ value: AttributeValue?) {
        for (k, v) in value?.mapValue ?? [:] { children[k] = FieldSet(v) }
    }

    var isLeaf: Bool { children.isEmpty || (children.count == 1 && children["."] != nil) }
    subscript(field name: String) -> FieldSet? { children["f:" + name] }

    /// Key fields of the `k:{…}` items, e.g. ["containerPort", "protocol"].
    var listKeys: [String]? {
        var keys: Set<String> = []
        for k in children.keys where k.hasPrefix("k:") {
            guard let m = try? JSONDecoder().decode(AttributeValue.self, from: Data(k.dropFirst(2).utf8)).mapValue else { continue }
            keys.formUnion(m.keys)
        }
        return keys.isEmpty ? nil : keys.sorted()
    }

    var isSet: Bool { children.keys.contains { $0.hasPrefix("v:") } }

    /// The child for the list item with these key values.
    func item(matching item: [String: AttributeValue]) -> FieldSet? {
        for (k, v) in children where k.hasPrefix("k:") {
            guard let m = try? JSONDecoder().decode(AttributeValue.self, from: Data(k.dropFirst(2).utf8)).mapValue else { continue }
            if m.allSatisfy({ k, want in item[k].map { Projection.same($0, want) } ?? false }) { return v }
        }
        return nil
    }
}

/// One entry of `metadata.managedFields`.
struct ManagedFieldsEntry: Sendable, Equatable {
    var manager: String
    var operation: String
    var subresource: String
    var apiVersion: String
    var fields: FieldSet

    static func entries(of object: AttributeValue) -> [ManagedFieldsEntry] {
        (object.mapValue?["metadata"]?.mapValue?["managedFields"]?.listValue ?? []).compactMap { e in
            guard let m = e.mapValue, let manager = m["manager"]?.stringValue else { return nil }
            return ManagedFieldsEntry(manager: manager, operation: m["operation"]?.stringValue ?? "",
                                      subresource: m["subresource"]?.stringValue ?? "", apiVersion: m["apiVersion"]?.stringValue ?? "",
                                      fields: FieldSet(m["fieldsV1"]))
        }
    }

    /// maifctl's own apply entry.
    static func applied(by manager: String, in object: AttributeValue) -> ManagedFieldsEntry? {
        entries(of: object).first { $0.manager == manager && $0.operation == "Apply" && $0.subresource.isEmpty }
    }

    /// How the API server names a manager in conflict messages: `"kubectl" with subresource "scale" using apps/v1`.
    var described: String {
        var text = "\"\(manager)\""
        if !subresource.isEmpty { text += " with subresource \"\(subresource)\"" }
        if operation == "Update" { text += " using \(apiVersion)" }
        return text
    }
}

enum Projection {
    /// The live object seen through `recorded` (the manifest maifctl applied): only the keys it has, list items found
    /// by the keys maifctl's entry (`owned`) names, scalars that mean the same (quantities `1Gi` and `1024Mi`) kept in
    /// the recorded spelling. Equal to `recorded` exactly when nothing maifctl set has changed.
    static func project(_ live: AttributeValue, like recorded: AttributeValue, owned: FieldSet?) -> AttributeValue {
        switch (live, recorded) {
        case (.map(let l), .map(let r)):
            var out: [String: AttributeValue] = [:]
            for (key, want) in r {
                guard let have = l[key] else { continue }
                out[key] = project(have, like: want, owned: owned?[field: key])
            }
            return .map(out)
        case (.list(let l), .list(let r)):
            return .list(projectList(l, like: r, owned: owned))
        default:
            return same(live, recorded) ? recorded : live
        }
    }

    static func projectList(_ live: [AttributeValue], like recorded: [AttributeValue], owned: FieldSet?) -> [AttributeValue] {
        if let owned, owned.isSet {
            // A set: the recorded items still there; items others added are theirs.
            return recorded.filter { want in live.contains { same($0, want) } }
        }
        let keys = owned?.listKeys ?? (recorded.allSatisfy { $0.mapValue?["name"] != nil } && !recorded.isEmpty ? ["name"] : nil)
        if let keys, recorded.allSatisfy({ $0.mapValue != nil }) {
            // An associative list: each recorded item is found by its key fields, wherever it is; others' items are ignored.
            var out: [AttributeValue] = []
            for want in recorded {
                let w = want.mapValue!
                let present = keys.filter { w[$0] != nil }
                guard !present.isEmpty else { continue }
                guard let have = live.first(where: { item in present.allSatisfy { k in item.mapValue?[k].map { same($0, w[k]!) } ?? false } }) else {
                    continue
                }
                out.append(project(have, like: want, owned: owned?.item(matching: w)))
            }
            return out
        }
        // An atomic list: item by item; a different length is a different value.
        var out: [AttributeValue] = []
        for (i, have) in live.enumerated() {
            out.append(i < recorded.count ? project(have, like: recorded[i], owned: nil) : have)
        }
        return out
    }

    /// Scalars that mean the same to the API server: equal values, or equal quantities (`1000m` and `1`).
    static func same(_ a: AttributeValue, _ b: AttributeValue) -> Bool {
        if a == b { return true }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            guard let qx = Quantity(x), let qy = Quantity(y) else { return false }
            return qx == qy
        case (.string(let s), .int(let i)), (.int(let i), .string(let s)):
            return Quantity(s) == Quantity(String(i))
        default:
            return false
        }
    }

    /// The fields of `live` a FieldSet names (what a manager owns), for an object maifctl has no record of.
    static func extract(_ live: AttributeValue, _ fields: FieldSet) -> AttributeValue? {
        if fields.isLeaf { return live }
        switch live {
        case .map(let m):
            var out: [String: AttributeValue] = [:]
            for (key, sub) in fields.children where key.hasPrefix("f:") {
                let name = String(key.dropFirst(2))
                if let v = m[name], let x = extract(v, sub) { out[name] = x }
            }
            return .map(out)
        case .list(let items):
            var out: [AttributeValue] = []
            for item in items {
                if let m = item.mapValue, let sub = fields.item(matching: m) {
                    if let x = extract(item, sub) { out.append(x) }
                } else if fields.children["v:" + item.canonicalJSON(indent: nil)] != nil {
                    out.append(item)
                }
            }
            return .list(out)
        default:
            return live
        }
    }

    /// Whether a conflict's field path (`.spec.template.spec.containers[name="maif"].image`, `.spec.replicas`,
    /// `.spec.accessModes[="ReadWriteOnce"]`, `.data.cluster.yaml`) names a field of `manifest`. Field names may hold
    /// dots, so each `.name` is matched against the keys the manifest has (the longest that fits).
    static func contains(_ manifest: AttributeValue, path: String) -> Bool {
        var value: AttributeValue? = manifest
        var rest = Substring(path)
        while let first = rest.first {
            guard let current = value else { return false }
            if first == "." {
                rest = rest.dropFirst()
                guard let m = current.mapValue else { return false }
                let fits = m.keys.filter { key in
                    guard rest.hasPrefix(key) else { return false }
                    let after = rest.dropFirst(key.count)
                    return after.isEmpty || after.first == "." || after.first == "["
                }
                guard let key = fits.max(by: { $0.count < $1.count }) else { return false }
                value = m[key]
                rest = rest.dropFirst(key.count)
            } else if first == "[" {
                guard let (segment, after) = FieldPath.bracket(rest) else { return false }
                rest = after
                switch segment {
                case .key(let keys):
                    value = current.listValue?.first { item in keys.allSatisfy { k, v in item.mapValue?[k].map { same($0, v) } ?? false } }
                case .value(let v):
                    value = current.listValue?.first { same($0, v) }
                case .index(let i):
                    guard let l = current.listValue, i < l.count else { return false }
                    value = l[i]
                case .field(let name):
                    value = current.mapValue?[name]
                }
            } else {
                return false
            }
        }
        return value != nil
    }
}

/// The path syntax of the API server's conflict causes (structured-merge-diff's `fieldpath.Path`).
enum FieldPath {
    enum Segment: Equatable {
        case field(String)
        case key([String: AttributeValue])
        case value(AttributeValue)
        case index(Int)
    }

    /// The `[…]` segment at the start of `rest`, and what follows it.
    static func bracket(_ rest: Substring) -> (Segment, Substring)? {
        guard rest.first == "[", let close = closingBracket(rest) else { return nil }
        let inner = rest[rest.index(after: rest.startIndex)..<close]
        let after = rest[rest.index(after: close)...]
        if inner.hasPrefix("=") { return (.value(json(String(inner.dropFirst()))), after) }
        if let i = Int(inner) { return (.index(i), after) }
        var keys: [String: AttributeValue] = [:]
        for pair in splitPairs(String(inner)) {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            keys[String(pair[..<eq])] = json(String(pair[pair.index(after: eq)...]))
        }
        return (.key(keys), after)
    }

    private static func json(_ text: String) -> AttributeValue {
        (try? JSONDecoder().decode(AttributeValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    /// The `]` that closes the bracket at the start, skipping quoted strings.
    private static func closingBracket(_ s: Substring) -> Substring.Index? {
        var inString = false, escaped = false
        var i = s.index(after: s.startIndex)
        while i < s.endIndex {
            let c = s[i]
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "]" {
                return i
            }
            i = s.index(after: i)
        }
        return nil
    }

    /// `a=1,b="x,y"` → ["a=1", "b=\"x,y\""].
    private static func splitPairs(_ s: String) -> [String] {
        var out: [String] = [], current = ""
        var inString = false, escaped = false
        for c in s {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "," {
                out.append(current)
                current = ""
                continue
            }
            current.append(c)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}

/// A Kubernetes resource quantity (`500m`, `2`, `8Gi`, `1Ti`, `1e3`), compared by value.
struct Quantity: Equatable {
    /// Value × 10^-9 would overflow for Pi/Ei; kept as a Decimal.
    let value: Decimal

    init?(_ text: String) {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return nil }
        let suffixes: [(String, Decimal)] = [
            ("Ki", 1024), ("Mi", pow(1024, 2)), ("Gi", pow(1024, 3)), ("Ti", pow(1024, 4)), ("Pi", pow(1024, 5)), ("Ei", pow(1024, 6)),
            ("n", Decimal(string: "0.000000001")!), ("u", Decimal(string: "0.000001")!), ("m", Decimal(string: "0.001")!),
            ("k", 1000), ("M", pow(1000, 2)), ("G", pow(1000, 3)), ("T", pow(1000, 4)), ("P", pow(1000, 5)), ("E", pow(1000, 6)),
        ]
        var number = s, factor: Decimal = 1
        for (suffix, f) in suffixes where s.hasSuffix(suffix) {
            number = String(s.dropLast(suffix.count))
            factor = f
            break
        }
        // A number: optional sign, digits, optional fraction, optional exponent (only without a suffix).
        guard number.range(of: #"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"#, options: .regularExpression) != nil,
              factor == 1 || !number.lowercased().contains("e"),
              let d = Decimal(string: number) else { return nil }
        value = d * factor
    }
}
