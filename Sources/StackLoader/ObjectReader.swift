/// Reads one YAML mapping into typed values: every key read is remembered, so that what is left over
/// is reported as an unknown key with a "did you mean" suggestion.

import StackModel

final class ObjectReader {
    let node: SourceNode
    let context: DecodeContext
    /// What this mapping is, for messages: "cluster", "node", "backup target".
    let what: String
    /// Key path from the document root, e.g. `clusters[0].nodes[1]`; every value read is recorded
    /// under its path in the context's source map, so later stages can point at it.
    let path: String
    private var known: Set<String> = []
    private var knownOrder: [String] = []
    private var values: [String: SourceNode.Entry] = [:]

    /// Returns nil (and reports) when the node is not a mapping.
    init?(_ node: SourceNode, _ what: String, _ context: DecodeContext, path: String = "") {
        self.node = node
        self.context = context
        self.what = what
        self.path = path
        guard case .mapping(let entries) = node.kind else {
            context.error("expected-mapping", "expected a mapping for \(what), got \(node.kindName)",
                          hint: "write it as `key: value` lines indented under its parent", at: node.location)
            return nil
        }
        for e in entries { values[e.key] = e }
    }

    var location: SourceLocation { node.location }

    /// Every key of the mapping, in order; reading this marks none of them as known.
    var keys: [String] { node.entries?.map(\.key) ?? [] }

    func has(_ key: String) -> Bool { values[key] != nil }

    /// The node for a key; marks the key as known. Null counts as absent.
    func raw(_ key: String) -> SourceNode? {
        if known.insert(key).inserted { knownOrder.append(key) }
        guard let entry = values[key] else { return nil }
        context.sourceMap[childPath(key)] = entry.value.location
        if case .null = entry.value.kind { return nil }
        return entry.value
    }

    func keyLocation(_ key: String) -> SourceLocation? { values[key]?.keyLocation }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func missing(_ key: String, example: String) {
        context.error("missing-key", "\(what) is missing required key '\(key)'", hint: "add `\(key): \(example)`", at: node.location)
    }

    /// Reports keys never read. Call once the reader has asked for everything it understands.
    func finish() {
        for e in node.entries ?? [] where !known.contains(e.key) {
            let hint = suggestion(for: e.key, among: knownOrder).map { "did you mean '\($0)'?" }
                ?? "known keys here: \(knownOrder.joined(separator: ", "))"
            context.error("unknown-key", "unknown key '\(e.key)' in \(what)", hint: hint, at: e.keyLocation)
        }
    }

    // MARK: Scalars

    /// The interpolated text of a scalar; reports a mapping or list where a scalar belongs.
    func text(_ node: SourceNode, expected: String) -> String? {
        switch node.kind {
        case .scalar(let s, _): return context.interpolate(s, at: node.location)
        case .null: return nil
        default:
            context.error("expected-scalar", "expected \(expected), got \(node.kindName)", at: node.location)
            return nil
        }
    }

    private func typeError(_ code: String, _ expected: String, got text: String, at node: SourceNode, hint: String? = nil) {
        context.error(code, "expected \(expected), got \"\(text)\"", hint: hint, at: node.location)
    }

    func string(_ key: String) -> String? {
        guard let n = raw(key) else { return nil }
        return text(n, expected: "a string")
    }

    func requiredString(_ key: String, example: String) -> String? {
        guard has(key), let s = string(key) else {
            _ = raw(key)
            missing(key, example: example)
            return nil
        }
        return s
    }

    func int(_ key: String, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let n = raw(key), let t = text(n, expected: "a whole number") else { return nil }
        guard let v = Int(t) else {
            typeError("invalid-integer", "a whole number", got: t, at: n)
            return nil
        }
        if let range, !range.contains(v) {
            context.error("out-of-range", "\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(v)", at: n.location)
            return nil
        }
        return v
    }

    func double(_ key: String, in range: ClosedRange<Double>? = nil) -> Double? {
        guard let n = raw(key), let t = text(n, expected: "a number") else { return nil }
        guard let v = Double(t), v.isFinite else {
            typeError("invalid-number", "a number", got: t, at: n)
            return nil
        }
        if let range, !range.contains(v) {
            context.error("out-of-range", "\(key) must be between \(fmt(range.lowerBound)) and \(fmt(range.upperBound)), got \(t)",
                          at: n.location)
            return nil
        }
        return v
    }

    func bool(_ key: String) -> Bool? {
        guard let n = raw(key), let t = text(n, expected: "true or false") else { return nil }
        switch t.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            typeError("invalid-bool", "true or false", got: t, at: n)
            return nil
        }
    }

    func duration(_ key: String) -> TimeSpan? {
        guard let n = raw(key), let t = text(n, expected: "a duration") else { return nil }
        guard let v = TimeSpan(parsing: t) else {
            typeError("invalid-duration", "a duration like 30s or 5m", got: t, at: n,
                      hint: "units: ms, s, m, h, d, w — e.g. 300s, 5m, 1h, 30d")
            return nil
        }
        return v
    }

    func size(_ key: String) -> ByteSize? {
        guard let n = raw(key), let t = text(n, expected: "a size") else { return nil }
        guard let v = ByteSize(parsing: t) else {
            typeError("invalid-size", "a size like 32GB or 1Ti", got: t, at: n,
                      hint: "units: B, KB, MB, GB, TB (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024)")
            return nil
        }
        return v
    }

    func percentage(_ key: String) -> Percentage? {
        guard let n = raw(key), let t = text(n, expected: "a percentage") else { return nil }
        guard let v = Percentage(parsing: t) else {
            typeError("invalid-percentage", "a percentage between 0 and 100 like 70 or 70%", got: t, at: n)
            return nil
        }
        return v
    }

    func frequency(_ key: String) -> BackupFrequency? {
        guard let n = raw(key), let t = text(n, expected: "a frequency") else { return nil }
        guard let v = BackupFrequency(parsing: t) else {
            typeError("invalid-frequency", "hourly, daily, weekly or an interval like 5m", got: t, at: n)
            return nil
        }
        return v
    }

    func condition(_ key: String) -> Condition? {
        guard let n = raw(key), let t = text(n, expected: "a condition") else { return nil }
        guard let v = Condition(parsing: t) else {
            typeError("invalid-condition", "a condition like `cpu_utilization > 90` or `node_status == 'down'`", got: t, at: n,
                      hint: "write <metric> <op> <number or 'text'> with op one of >, >=, <, <=, ==, !=")
            return nil
        }
        return v
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> E? where E.RawValue == String {
        guard let n = raw(key), let t = text(n, expected: "one of \(E.allCases.map(\.rawValue).joined(separator: ", "))") else {
            return nil
        }
        if let v = E(rawValue: t) { return v }
        let names = E.allCases.map(\.rawValue)
        context.error("invalid-value", "expected one of \(names.joined(separator: ", ")) for \(key), got \"\(t)\"",
                      hint: suggestion(for: t, among: names).map { "did you mean '\($0)'?" }, at: n.location)
        return nil
    }

    func stringList(_ key: String) -> [String]? {
        guard let n = raw(key) else { return nil }
        return stringList(n)
    }

    func stringList(_ n: SourceNode) -> [String]? {
        guard case .sequence(let items) = n.kind else {
            context.error("expected-list", "expected a list of strings, got \(n.kindName)",
                          hint: "write it as [a, b] or as `- a` lines", at: n.location)
            return nil
        }
        return items.compactMap { text($0, expected: "a string") }
    }

    /// A credential: only `{env: NAME}`, `{file: PATH}` or `${env.NAME}` are accepted, never the value itself.
    func secret(_ key: String) -> SecretReference? {
        guard let n = raw(key) else { return nil }
        switch n.kind {
        case .scalar(let s, _):
            let t = s.trimmingWhitespace()
            if t.hasPrefix("${env."), t.hasSuffix("}"), !t.dropFirst(6).dropLast().contains("}") {
                return .env(String(t.dropFirst(6).dropLast()))
            }
            context.error("inline-secret", "\(key) must not be written inline in a stack file",
                          hint: "reference it instead: `\(key): {env: NAME}`, `\(key): {file: PATH}` or `\(key): ${env.NAME}`",
                          at: n.location)
            return nil
        case .mapping:
            guard let r = ObjectReader(n, "credential reference", context) else { return nil }
            let env = r.string("env"), file = r.string("file")
            r.finish()
            switch (env, file) {
            case let (e?, nil): return .env(e)
            case let (nil, f?): return .file(f)
            default:
                context.error("invalid-secret-reference", "a credential reference needs exactly one of 'env' or 'file'",
                              hint: "e.g. `\(key): {env: AWS_SECRET_ACCESS_KEY}`", at: n.location)
                return nil
            }
        default:
            context.error("expected-mapping", "expected a credential reference, got \(n.kindName)",
                          hint: "write `\(key): {env: NAME}` or `\(key): {file: PATH}`", at: n.location)
            return nil
        }
    }

    // MARK: Structure

    func object<T>(_ key: String, _ what: String, _ body: (ObjectReader) -> T?) -> T? {
        guard let n = raw(key), let r = ObjectReader(n, what, context, path: childPath(key)) else { return nil }
        let value = body(r)
        r.finish()
        return value
    }

    func list<T>(_ key: String, _ what: String, _ body: (SourceNode) -> T?) -> [T]? {
        guard let n = raw(key) else { return nil }
        guard case .sequence(let items) = n.kind else {
            context.error("expected-list", "expected a list of \(what), got \(n.kindName)",
                          hint: "start each item with `- ` on its own line", at: n.location)
            return nil
        }
        return items.compactMap(body)
    }

    /// A list of mappings, each read by `body`.
    func objects<T>(_ key: String, _ what: String, _ body: (ObjectReader) -> T?) -> [T]? {
        var index = 0
        return list(key, what) { item in
            defer { index += 1 }
            let itemPath = "\(self.childPath(key))[\(index)]"
            self.context.sourceMap[itemPath] = item.location
            guard let r = ObjectReader(item, what, self.context, path: itemPath) else { return nil }
            let value = body(r)
            r.finish()
            return value
        }
    }

    /// A mapping of name → value, in file order.
    func entries<T>(_ key: String, _ what: String, _ body: (SourceNode.Entry) -> T?) -> [T]? {
        guard let n = raw(key) else { return nil }
        guard case .mapping(let entries) = n.kind else {
            context.error("expected-mapping", "expected a mapping of \(what), got \(n.kindName)", at: n.location)
            return nil
        }
        for e in entries { context.sourceMap["\(childPath(key)).\(e.key)"] = e.value.location }
        return entries.compactMap(body)
    }
}

private func fmt(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
