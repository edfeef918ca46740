/// `maifctl render FILE --platform kubernetes`: the objects apply would send, as multi-document YAML for GitOps
/// (`kubectl apply -f`, Argo CD, Flux). The same normalisation and bodies as apply (owner labels, name and
/// namespace, a Secret's values), references between the objects resolved, Namespaces first, then
/// CustomResourceDefinitions, then everything else in dependency order. Secret values are written only when asked.

import Foundation
import ProviderKit

public enum KubernetesRender {
    /// One `k8s.*` resource of an expanded stack.
    public struct Object: Sendable {
        public var address: ResourceAddress
        public var config: [String: AttributeValue]
        public var dependsOn: [ResourceAddress]

        public init(address: ResourceAddress, config: [String: AttributeValue], dependsOn: [ResourceAddress] = []) {
            self.address = address
            self.config = config
            self.dependsOn = dependsOn
        }
    }

    public struct RenderError: Error, CustomStringConvertible {
        public var address: ResourceAddress?
        public var message: String
        public var description: String { address.map { "\($0): \(message)" } ?? message }
    }

    /// The YAML documents. `namespace` is `clouds.kubernetes.namespace` (objects without one get it; without it they
    /// are left without a namespace, for `kubectl apply -n`). `includeSecrets` writes Secret values (base64, as
    /// apply sends them) — read from the environment and files `data_from` names; without it a Secret is written
    /// without its data and a comment says which keys apply would add.
    public static func render(_ objects: [Object], stack: String, namespace: String?, environment: [String: String],
                              workingDirectory: String, includeSecrets: Bool) throws -> String {
        var byAddress: [ResourceAddress: Object] = [:]
        for object in objects {
            var o = object
            o.config = ObjectModel.markOwner(o.config, stack: stack, address: o.address)
            byAddress[o.address] = o
        }
        let order = try dependencyOrder(objects.map(\.address), byAddress)
        // Scope: the built-in kinds, and the kinds the stack's CRDs bring.
        var kinds: [String: APIResource] = [:]
        for r in BuiltinKinds.all { kinds[Discovery.key(r.apiVersion, r.kind)] = r }
        for o in objects where ObjectModel.kind(o.config) == "CustomResourceDefinition" {
            if let m = o.config["manifest"] { for r in Discovery.served(by: m) { kinds[Discovery.key(r.apiVersion, r.kind)] = r } }
        }
        var resolved: [ResourceAddress: [String: AttributeValue]] = [:]
        for address in order {
            let object = byAddress[address]!
            var config = try resolve(object.config, in: address, known: resolved)
            do {
                try ObjectModel.check(config, type: address.type)
                let resource = kinds[Discovery.key(ObjectModel.apiVersion(config) ?? "", ObjectModel.kind(config) ?? "")]
                var namespaced = resource?.namespaced
                if namespaced == true, namespace == nil, ObjectModel.identity(config).namespace == nil { namespaced = nil }
                config = try ObjectModel.normalized(config, namespaced: namespaced, defaultNamespace: namespace ?? "default")
                if let resource, let name = config["name"]?.stringValue {
                    config["path"] = .string(resource.path(name: name, namespace: config["namespace"]?.stringValue))
                }
            } catch let problem as ManifestProblem {
                throw RenderError(address: address, message: problem.message)
            }
            resolved[address] = config
        }
        let rank: (ResourceAddress) -> Int = { a in
            switch ObjectModel.kind(resolved[a]!) { case "Namespace": return 0; case "CustomResourceDefinition": return 1; default: return 2 }
        }
        let sorted = order.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        var out = "# Rendered by maifctl from stack \(stack): the objects `maifctl apply` sends (server-side apply, field manager maifctl).\n"
        for address in sorted {
            let config = resolved[address]!
            var dataFrom: [String: String] = [:]
            var comment: [String] = []
            if ObjectModel.kind(config) == "Secret", config["data"] != nil || config["data_from"] != nil {
                let keys = Set((config["data"]?.mapValue?.keys.map { $0 } ?? []) + (config["data_from"]?.mapValue?.keys.map { $0 } ?? [])).sorted()
                if includeSecrets {
                    do {
                        dataFrom = try ObjectModel.readDataFrom(config, environment: environment, workingDirectory: workingDirectory)
                    } catch let problem as ManifestProblem {
                        throw RenderError(address: address, message: problem.message)
                    }
                } else {
                    comment.append("# data left out (\(keys.joined(separator: ", "))): apply reads it from "
                                   + describeSources(config) + "; `--include-secrets` writes it")
                }
            }
            var body = ObjectModel.body(config, dataFrom: dataFrom)
            if !includeSecrets, case .map(var m) = body { m["data"] = ObjectModel.kind(config) == "Secret" ? nil : m["data"]; body = .map(m) }
            out += "---\n# \(address)\n" + comment.map { $0 + "\n" }.joined() + YAMLWriter.document(body)
        }
        return out
    }

    static func describeSources(_ config: [String: AttributeValue]) -> String {
        var parts: [String] = []
        if config["data"] != nil { parts.append("the stack's data") }
        for (key, source) in (config["data_from"]?.mapValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            parts.append("\(key) ← \(source.stringValue ?? "?")")
        }
        return parts.joined(separator: ", ")
    }

    /// References and depends_on between the objects, in an order where each comes after what it needs.
    static func dependencyOrder(_ addresses: [ResourceAddress], _ byAddress: [ResourceAddress: Object]) throws -> [ResourceAddress] {
        var needs: [ResourceAddress: Set<ResourceAddress>] = [:]
        for a in addresses {
            let o = byAddress[a]!
            var set = Set(o.dependsOn.filter { byAddress[$0] != nil })
            for value in o.config.values { for (target, _) in references(in: value) where byAddress[target] != nil { set.insert(target) } }
            needs[a] = set
        }
        var done: Set<ResourceAddress> = [], order: [ResourceAddress] = []
        while order.count < addresses.count {
            guard let next = addresses.first(where: { !done.contains($0) && needs[$0]!.isSubset(of: done) }) else {
                throw RenderError(address: nil, message: "the objects depend on each other in a cycle")
            }
            done.insert(next)
            order.append(next)
        }
        return order
    }

    /// `${ADDRESS.ATTRIBUTE}` expressions in a value.
    static func references(in value: AttributeValue) -> [(ResourceAddress, String)] {
        switch value {
        case .string(let s) where s.contains("${"): return expressions(s).compactMap(parse)
        case .list(let l): return l.flatMap(references)
        case .map(let m): return m.values.flatMap(references)
        default: return []
        }
    }

    static func expressions(_ s: String) -> [String] {
        var out: [String] = [], rest = Substring(s)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            out.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return out
    }

    static func parse(_ expression: String) -> (ResourceAddress, String)? {
        guard let dot = expression.lastIndex(of: "."), let address = ResourceAddress(parsing: String(expression[..<dot])) else { return nil }
        return (address, String(expression[expression.index(after: dot)...]))
    }

    /// The configuration with its references to other rendered objects replaced by their values; a value only apply
    /// can know (a uid) or another provider's is an error.
    static func resolve(_ config: [String: AttributeValue], in address: ResourceAddress,
                        known: [ResourceAddress: [String: AttributeValue]]) throws -> [String: AttributeValue] {
        func value(_ v: AttributeValue) throws -> AttributeValue {
            switch v {
            case .string(let s) where s.contains("${"):
                let exprs = expressions(s)
                var out = s
                for e in exprs {
                    guard let (target, attribute) = parse(e) else { continue }
                    guard let attributes = known[target] else {
                        throw RenderError(address: address, message: "refers to \(target), which is not a Kubernetes object of this stack; render writes only what needs no other provider")
                    }
                    guard let resolved = attributes[attribute], resolved.isKnown else {
                        throw RenderError(address: address, message: "refers to \(target).\(attribute), which is known only after apply")
                    }
                    if exprs.count == 1, s == "${\(e)}" { return resolved }
                    out = out.replacingOccurrences(of: "${\(e)}", with: resolved.interpolationText)
                }
                return .string(out)
            case .list(let l): return .list(try l.map(value))
            case .map(let m): return .map(try m.mapValues(value))
            default: return v
            }
        }
        return try config.mapValues(value)
    }
}

/// A small YAML writer for Kubernetes objects: block style, `apiVersion`, `kind`, `metadata` first and `name`
/// first in every mapping (as kubectl prints them), multi-line text as literal blocks, anything ambiguous quoted.
enum YAMLWriter {
    static func document(_ value: AttributeValue) -> String {
        lines(value, indent: 0, top: true).joined(separator: "\n") + "\n"
    }

    static func orderedKeys(_ m: [String: AttributeValue], top: Bool) -> [String] {
        let first = top ? ["apiVersion", "kind", "metadata"] : ["name", "namespace"]
        return first.filter { m[$0] != nil } + m.keys.filter { !first.contains($0) }.sorted()
    }

    static func lines(_ value: AttributeValue, indent: Int, top: Bool = false) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .map(let m):
            if m.isEmpty { return [pad + "{}"] }
            var out: [String] = []
            for key in orderedKeys(m, top: top) {
                let k = scalarText(.string(key), indent: indent, isKey: true)
                let v = m[key]!
                switch v {
                case .map(let sub) where !sub.isEmpty:
                    out.append("\(pad)\(k):")
                    out += lines(v, indent: indent + 2)
                case .list(let items) where !items.isEmpty:
                    out.append("\(pad)\(k):")
                    out += lines(v, indent: indent)
                default:
                    out.append("\(pad)\(k): \(scalarText(v, indent: indent + 2, isKey: false))")
                }
            }
            return out
        case .list(let items):
            if items.isEmpty { return [pad + "[]"] }
            var out: [String] = []
            for item in items {
                let nested: Bool
                switch item {
                case .map(let sub): nested = !sub.isEmpty
                case .list(let sub): nested = !sub.isEmpty
                default: nested = false
                }
                if nested {
                    var inner = lines(item, indent: indent + 2)
                    inner[0] = pad + "- " + inner[0].dropFirst(indent + 2)
                    out += inner
                } else {
                    out.append("\(pad)- \(scalarText(item, indent: indent + 2, isKey: false))")
                }
            }
            return out
        default:
            return [pad + scalarText(value, indent: indent, isKey: false)]
        }
    }

    /// A scalar (or an empty collection) after `key: ` or `- `; multi-line text as a literal block indented `indent`.
    static func scalarText(_ value: AttributeValue, indent: Int, isKey: Bool) -> String {
        switch value {
        case .null, .unknown: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)") : "null"
        case .map: return "{}"
        case .list: return "[]"
        case .string(let s):
            if !isKey, s.contains("\n"), literalSafe(s) {
                let pad = String(repeating: " ", count: indent)
                let trailing = s.reversed().prefix { $0 == "\n" }.count
                let chomp = trailing == 0 ? "-" : trailing == 1 ? "" : "+"
                let content = trailing == 0 ? s : String(s.dropLast())
                let parts = content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                // The first line that has text sets the indentation; one that starts with a space needs it said.
                let indicator = parts.first { !$0.isEmpty }?.first == " " ? "2" : ""
                return "|" + indicator + chomp + "\n" + parts.map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
            }
            return plainSafe(s) ? s : quoted(s)
        }
    }

    /// Text YAML reads back as this same string without quotes.
    static func plainSafe(_ s: String) -> Bool {
        guard let first = s.first, let last = s.last, !s.isEmpty, last != " ", first != " " else { return false }
        guard s.range(of: #"^[A-Za-z0-9_./-][A-Za-z0-9 _./@:=+-]*$"#, options: .regularExpression) != nil else { return false }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") || first == "-" && (s.count == 1 || s.dropFirst().first == " ") { return false }
        let lower = s.lowercased()
        if ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", ".nan"].contains(lower) { return false }
        // Numbers, octal/hex, and dates would be read as something else.
        if s.range(of: #"^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$"#, options: .regularExpression) != nil, s.contains(where: \.isNumber) { return false }
        if s.range(of: #"^0[xo][0-9a-fA-F_]+$"#, options: .regularExpression) != nil { return false }
        if s.range(of: #"^\d{4}-\d\d?-\d\d?"#, options: .regularExpression) != nil { return false }
        if s.range(of: #"^[-+]?\d[\d_]*(:[0-5]?\d)+(\.\d*)?$"#, options: .regularExpression) != nil { return false }
        return true
    }

    /// Literal blocks hold printable text only (no tabs at a line start, no carriage returns, no trailing spaces).
    static func literalSafe(_ s: String) -> Bool {
        !s.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7f || $0 == "\u{FEFF}" }
            && !s.split(separator: "\n").contains { $0.hasSuffix(" ") }
    }

    /// A double-quoted scalar: JSON's string escapes are YAML's.
    static func quoted(_ s: String) -> String {
        var out = ""
        writeJSONString(s, into: &out)
        return out
    }
}
