/// The loader: stack files → one merged, interpolated, checked `Stack`, or diagnostics saying what is wrong.

import Foundation
import ProviderKit
import StackModel

public struct LoadOptions: Sendable {
    /// `--var name=value` overrides.
    public var variables: [String: String]
    public var environment: [String: String]
    /// Called as soon as the files are parsed, with the stack's name when it is written out literally:
    /// lets a caller start reading the state while the rest of the stack is decoded.
    public var onStackName: (@Sendable (String) -> Void)?
    /// `clouds.<section>` → the settings schema of the provider that reads it (`ProviderRegistry.settingsSchemas`):
    /// unknown sections and keys, wrong types and inline credentials are reported at their position. nil leaves
    /// `clouds` unchecked (its values kept as written).
    public var settingsSchemas: [String: SettingsSchema]?

    public init(variables: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment,
                settingsSchemas: [String: SettingsSchema]? = nil) {
        self.variables = variables
        self.environment = environment
        self.settingsSchemas = settingsSchemas
    }
}

public struct LoadResult: Sendable {
    /// The stack, present only when there are no error diagnostics.
    public var stack: Stack?
    /// Every problem found, sorted by position.
    public var diagnostics: [Diagnostic]
}

public enum StackLoader {
    /// Loads and merges stack files in order: later files win key by key; lists are replaced whole.
    public static func load(files: [String], options: LoadOptions = LoadOptions()) -> LoadResult {
        var sources: [(String, String)] = []
        var diagnostics: [Diagnostic] = []
        for file in files {
            do {
                sources.append((file, try String(contentsOfFile: file, encoding: .utf8)))
            } catch {
                diagnostics.append(.error("file-unreadable", "cannot read stack file '\(file)'",
                                          hint: FileManager.default.fileExists(atPath: file) ? "is it UTF-8 text?" : "no such file",
                                          at: nil))
            }
        }
        if diagnostics.hasErrors { return LoadResult(stack: nil, diagnostics: diagnostics) }
        return load(sources: sources, options: options)
    }

    /// Loads from in-memory texts, each named as a file would be (for tests and stdin).
    public static func load(sources: [(name: String, text: String)], options: LoadOptions = LoadOptions()) -> LoadResult {
        var diagnostics: [Diagnostic] = []
        var merged: SourceNode?
        for (name, raw) in sources {
            let text = raw.hasPrefix("\u{FEFF}") ? String(raw.dropFirst()) : raw
            let (node, parseDiagnostics) = YAMLSource.parse(text, file: name)
            diagnostics += parseDiagnostics
            guard let node else { continue }
            guard case .mapping = node.kind else {
                diagnostics.append(.error("expected-mapping", "a stack file must be a mapping of sections, got \(node.kindName)",
                                          hint: "start with `stack:` and sections such as `clusters:` at the left margin",
                                          at: node.location))
                continue
            }
            merged = merged.map { YAMLSource.merge($0, node) } ?? node
        }
        if diagnostics.hasErrors { return LoadResult(stack: nil, diagnostics: diagnostics.sortedByPosition()) }
        guard let root = merged else {
            let file = sources.first?.name
            diagnostics.append(.error("empty-stack", "the stack is empty", hint: "a stack needs at least `stack: {name: …}`",
                                      at: file.map { SourceLocation(file: $0, line: 1, column: 1) }))
            return LoadResult(stack: nil, diagnostics: diagnostics)
        }

        if let callback = options.onStackName, case .scalar(let name, _)? = root["stack"]?["name"]?.kind, !name.contains("$") {
            callback(name)
        }
        let (variables, variableDiagnostics) = resolveVariables(root, overrides: options.variables, environment: options.environment)
        diagnostics += variableDiagnostics
        let context = DecodeContext(variables: variables, environment: options.environment)
        // About one source-map entry per line of YAML: reserve it once instead of growing it many times.
        context.sourceMap.reserveCapacity(sources.reduce(0) { $0 + $1.text.utf8.count / 24 })
        if case .mapping(let entries)? = root["stack"]?["variables"]?.kind { context.declared = Set(entries.map(\.key)) }
        let stack = StackDecoder(context: context, files: sources.map(\.name), settingsSchemas: options.settingsSchemas).decode(root)
        diagnostics += context.diagnostics
        if let stack { diagnostics += SemanticChecks.run(stack) }
        diagnostics = diagnostics.sortedByPosition()
        return LoadResult(stack: diagnostics.hasErrors ? nil : stack, diagnostics: diagnostics)
    }

    /// Declared variables (`stack.variables`) with defaults, overridden by `--var`; defaults may use `${env.X}`.
    static func resolveVariables(_ root: SourceNode, overrides: [String: String],
                                 environment: [String: String]) -> ([String: String], [Diagnostic]) {
        let context = DecodeContext(variables: [:], environment: environment)
        var values: [String: String] = [:]
        var declared: [(String, SourceLocation)] = []
        if let node = root["stack"]?["variables"] {
            if case .mapping(let entries) = node.kind {
                for e in entries {
                    declared.append((e.key, e.keyLocation))
                    switch e.value.kind {
                    case .scalar(let s, _):
                        values[e.key] = context.interpolate(s, at: e.value.location)
                    case .null:
                        break
                    case .mapping:
                        guard let r = ObjectReader(e.value, "variable '\(e.key)'", context) else { continue }
                        if let d = r.raw("default"), let t = r.text(d, expected: "a default value") { values[e.key] = t }
                        _ = r.string("description")
                        r.finish()
                    case .sequence:
                        context.error("expected-scalar", "variable '\(e.key)' must have a scalar default, got a list",
                                      hint: "write `\(e.key): value` or `\(e.key): {default: value, description: …}`",
                                      at: e.value.location)
                    }
                }
            } else {
                context.error("expected-mapping", "expected a mapping of variables, got \(node.kindName)",
                              hint: "variables: {node_count: 3}", at: node.location)
            }
        }
        let names = declared.map(\.0)
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            if names.contains(name) {
                values[name] = value
            } else {
                context.error("unknown-variable", "--var \(name) sets a variable the stack does not declare",
                              hint: suggestion(for: name, among: names).map { "did you mean '\($0)'?" }
                                ?? "declare it under stack.variables", at: nil)
            }
        }
        for (name, location) in declared where values[name] == nil {
            context.error("missing-variable", "variable '\(name)' has no default and no value",
                          hint: "pass --var \(name)=VALUE or give it a default", at: location)
        }
        return (values, context.diagnostics)
    }
}
