/// A YAML tree that remembers, for every node, the file, line and column it came from.

import StackModel
import Yams

struct SourceNode: Sendable {
    struct Entry: Sendable {
        var key: String
        var keyLocation: SourceLocation
        var value: SourceNode
    }

    enum Kind: Sendable {
        case null
        /// `quoted` scalars are always strings; plain ones may be numbers, booleans or null.
        case scalar(String, quoted: Bool)
        case mapping([Entry])
        case sequence([SourceNode])
    }

    var kind: Kind
    var location: SourceLocation

    var kindName: String {
        switch kind {
        case .null: return "null"
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    var entries: [Entry]? {
        if case .mapping(let e) = kind { return e }
        return nil
    }

    subscript(key: String) -> SourceNode? {
        entries?.first { $0.key == key }?.value
    }
}

enum YAMLSource {
    /// Parses one file. A syntax error becomes a diagnostic at the position libyaml reports.
    static func parse(_ text: String, file: String) -> (SourceNode?, [Diagnostic]) {
        do {
            // The basic resolver: the loader types scalars itself, so Yams need not regex-match every one.
            guard let root = try Yams.compose(yaml: text, .basic) else {
                return (nil, [])
            }
            var diagnostics: [Diagnostic] = []
            // Aliases are expanded into a tree; a document cannot legitimately hold more nodes than it has bytes,
            // so a larger expansion is an alias bomb ("billion laughs") and is refused before it costs anything.
            var budget = max(10_000, text.utf8.count)
            guard let node = convert(root, file: file, diagnostics: &diagnostics, budget: &budget) else {
                return (nil, [.error("alias-expansion", "the anchors and aliases of this file expand to more nodes than it has bytes",
                                     hint: "write repeated blocks out, or use an overlay file instead of nested aliases",
                                     at: SourceLocation(file: file, line: 1, column: 1))])
            }
            return (node, diagnostics)
        } catch let error as YamlError {
            return (nil, [diagnostic(for: error, file: file, text: text)])
        } catch {
            return (nil, [.error("yaml-syntax", "cannot read YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))])
        }
    }

    private static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        let hint = "check indentation, quoting and that every `key:` is followed by a space"
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at \(context.mark.line):\(context.mark.column))" }
            return .error("yaml-syntax", message, hint: hint, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let at = duplicates.first.flatMap { repeatedKey($0, in: text, from: context.mark.line) }
            return .error("duplicate-key", "duplicate key \(keys) in one mapping",
                          hint: "a later key would silently replace the earlier one; keep one of them",
                          at: SourceLocation(file: file, line: at?.line ?? context.mark.line, column: at?.column ?? context.mark.column))
        case let .reader(problem, _, _, _):
            return .error("yaml-syntax", "cannot read file: \(problem)", hint: "stack files must be UTF-8 text",
                          at: SourceLocation(file: file, line: 1, column: 1))
        default:
            return .error("yaml-syntax", "YAML error: \(error)", hint: hint, at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// libyaml reports a duplicate key at its mapping; find the second line, at the same indentation as the
    /// first, that starts with that key (block mappings, the common case), to point at the repetition itself.
    private static func repeatedKey(_ key: String, in text: String, from line: Int) -> (line: Int, column: Int)? {
        var firstColumn: Int?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where i + 1 >= line {
            let indent = raw.prefix { $0 == " " || $0 == "-" }.count
            let rest = raw.dropFirst(indent)
            guard rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") else { continue }
            if let c = firstColumn {
                if c == indent + 1 { return (i + 1, indent + 1) }
            } else {
                firstColumn = indent + 1
            }
        }
        return nil
    }

    private static func location(_ node: Yams.Node, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    private static func convert(_ node: Yams.Node, file: String, diagnostics: inout [Diagnostic], budget: inout Int) -> SourceNode? {
        budget -= 1
        if budget < 0 { return nil }
        let loc = location(node, file)
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                || scalar.style == .literal || scalar.style == .folded
            if !quoted, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                return SourceNode(kind: .null, location: loc)
            }
            return SourceNode(kind: .scalar(scalar.string, quoted: quoted), location: loc)
        case .mapping(let mapping):
            var entries: [SourceNode.Entry] = []
            entries.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard case .scalar(let k) = key else {
                    diagnostics.append(.error("expected-scalar", "a mapping key must be a plain name, got \(describe(key))",
                                              at: location(key, file)))
                    continue
                }
                guard let converted = convert(value, file: file, diagnostics: &diagnostics, budget: &budget) else { return nil }
                entries.append(.init(key: k.string, keyLocation: location(key, file), value: converted))
            }
            return SourceNode(kind: .mapping(entries), location: loc)
        case .sequence(let sequence):
            var items: [SourceNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                guard let converted = convert(item, file: file, diagnostics: &diagnostics, budget: &budget) else { return nil }
                items.append(converted)
            }
            return SourceNode(kind: .sequence(items), location: loc)
        case .alias(let alias):
            return SourceNode(kind: .null, location: SourceLocation(file: file, line: alias.mark?.line ?? 1, column: alias.mark?.column ?? 1))
        }
    }

    private static func describe(_ node: Yams.Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        default: return "a scalar"
        }
    }

    /// Overlays: maps merge key by key, later files win; scalars and lists are replaced whole.
    static func merge(_ base: SourceNode, _ overlay: SourceNode) -> SourceNode {
        guard case .mapping(var entries) = base.kind, case .mapping(let extra) = overlay.kind else { return overlay }
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.key] = i }
        for e in extra {
            if let i = index[e.key] {
                entries[i].value = merge(entries[i].value, e.value)
            } else {
                index[e.key] = entries.count
                entries.append(e)
            }
        }
        return SourceNode(kind: .mapping(entries), location: base.location)
    }
}
