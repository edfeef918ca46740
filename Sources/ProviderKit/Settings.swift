/// What a provider accepts under `clouds.<name>` in a stack: its settings schema, the values as the stack wrote them
/// (plain values, or references to where a credential lives), and how a reference is read.

import Foundation

/// The type a setting's value must have; the loader checks it and converts the text once.
public enum SettingType: Sendable, Equatable, CustomStringConvertible {
    case string
    case int(ClosedRange<Int>?)
    case number
    case bool
    /// `30s`, `5m`, `2h`: held as seconds (`.double`).
    case duration
    /// A path on the machine maifctl runs on; `~` is the user's home. Held as written; `ProviderSettings.path` resolves it.
    case path
    case oneOf([String])
    case stringList

    public var description: String {
        switch self {
        case .string: return "a string"
        case .int(let range?): return "a whole number between \(range.lowerBound) and \(range.upperBound)"
        case .int(nil): return "a whole number"
        case .number: return "a number"
        case .bool: return "true or false"
        case .duration: return "a duration like 30s or 5m"
        case .path: return "a file path"
        case .oneOf(let values): return "one of \(values.joined(separator: ", "))"
        case .stringList: return "a list of strings"
        }
    }
}

/// Whether a setting may, or must, be a reference (`{env: NAME}`, `{file: PATH}`, `${env.NAME}`) instead of a value.
public enum ReferencePolicy: String, Sendable, Equatable, Codable {
    /// A plain value only.
    case never
    /// A value, or a reference read when the provider is configured.
    case allowed
    /// A credential: never written inline in a stack file.
    case required
}

public struct SettingSchema: Sendable, Equatable {
    public var key: String
    public var type: SettingType
    public var required: Bool
    /// The value used when the stack does not set the key (nil: the provider decides, e.g. from the environment).
    public var defaultValue: AttributeValue?
    public var references: ReferencePolicy
    /// One line for `maifctl providers` and the docs; say where the value comes from when it is not set.
    public var description: String

    public init(_ key: String, _ type: SettingType, required: Bool = false, default defaultValue: AttributeValue? = nil,
                references: ReferencePolicy = .never, description: String) {
        self.key = key
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.references = references
        self.description = description
    }
}

/// Every setting a provider takes, in the order its documentation lists them.
public struct SettingsSchema: Sendable, Equatable {
    public var settings: [SettingSchema]

    public init(_ settings: [SettingSchema]) {
        self.settings = settings
    }

    public subscript(key: String) -> SettingSchema? { settings.first { $0.key == key } }
    public var keys: [String] { settings.map(\.key) }
}

/// Where a referenced value is read from.
public enum SettingReference: Sendable, Hashable, Codable, CustomStringConvertible {
    case env(String)
    case file(String)

    public var description: String {
        switch self {
        case .env(let name): return "environment variable \(name)"
        case .file(let path): return "file \(path)"
        }
    }
}

/// A provider's settings as the stack gave them, checked against its schema, defaults filled in.
public struct ProviderSettings: Sendable, Equatable {
    public init(section: String = "") {
        self.init(values: [:], section: section)
    }

    /// Plain values, converted to the schema's type (durations as seconds).
    public var values: [String: AttributeValue]
    /// Settings written as references; read them with `secret(_:)`.
    public var references: [String: SettingReference]
    /// `clouds.aws`: how the stack names this provider's section, for messages.
    public var section: String

    public init(values: [String: AttributeValue], references: [String: SettingReference] = [:], section: String = "") {
        self.values = values
        self.references = references
        self.section = section
    }

    public subscript(key: String) -> AttributeValue? { values[key] }

    /// The settings' keys written as references, with their values from `SettingReference` text (`env:NAME`, `file:PATH`).
    public var all: [String: AttributeValue] {
        values.merging(references.mapValues { r -> AttributeValue in
            switch r {
            case .env(let n): return .string("env:\(n)")
            case .file(let p): return .string("file:\(p)")
            }
        }) { a, _ in a }
    }

    public func string(_ key: String) -> String? { values[key]?.stringValue }
    public func bool(_ key: String) -> Bool? { values[key]?.boolValue }
    public func int(_ key: String) -> Int? { values[key]?.intValue.map(Int.init) }
    public func seconds(_ key: String) -> Double? {
        switch values[key] {
        case .double(let d)?: return d
        case .int(let i)?: return Double(i)
        default: return nil
        }
    }
    public func isSet(_ key: String) -> Bool { values[key] != nil || references[key] != nil }
}

extension ProviderSettings: ExpressibleByDictionaryLiteral {
    /// Plain values only, as tests and embedders write them.
    public init(dictionaryLiteral elements: (String, AttributeValue)...) {
        self.init(values: Dictionary(elements) { _, last in last })
    }
}

/// A setting that cannot be used: names the key, so the engine can point at where the stack wrote it.
public struct ProviderConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The settings key (`access_key_id`), or nil when the problem is not one key's.
    public var key: String?
    public var message: String
    public var hint: String?

    public init(key: String?, _ message: String, hint: String? = nil) {
        self.key = key
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}

extension ProviderSettings {
    /// A referenced value, read now: the variable's value or the file's contents (trimmed). nil when the key is not set.
    /// Throws, naming the key and the reference, when the variable is unset or the file cannot be read; the value itself
    /// never appears in an error.
    public func secret(_ key: String, environment: [String: String], workingDirectory: String) throws -> String? {
        if let reference = references[key] {
            return try Self.read(reference, key: key, section: section, environment: environment, workingDirectory: workingDirectory)
        }
        return values[key]?.stringValue
    }

    public static func read(_ reference: SettingReference, key: String, section: String, environment: [String: String],
                            workingDirectory: String) throws -> String {
        let name = section.isEmpty ? key : "\(section).\(key)"
        switch reference {
        case .env(let variable):
            guard let value = environment[variable], !value.isEmpty else {
                throw ProviderConfigurationError(key: key, "\(name) names environment variable \(variable), which is not set",
                                                 hint: "export \(variable) before running maifctl, or point \(name) at a file: {file: PATH}")
            }
            return value
        case .file(let path):
            let resolved = resolvePath(path, environment: environment, workingDirectory: workingDirectory)
            guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                throw ProviderConfigurationError(key: key, "\(name) names file \(path), which cannot be read",
                                                 hint: FileManager.default.fileExists(atPath: resolved) ? "check its permissions" : "no such file: \(resolved)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A path setting made absolute: `~` is the home directory, a relative path is relative to where maifctl runs.
    public func path(_ key: String, environment: [String: String], workingDirectory: String) -> String? {
        string(key).map { Self.resolvePath($0, environment: environment, workingDirectory: workingDirectory) }
    }

    public static func resolvePath(_ text: String, environment: [String: String], workingDirectory: String) -> String {
        var text = text
        let home = environment["HOME"] ?? NSHomeDirectory()
        if text == "~" || text.hasPrefix("~/") { text = home + text.dropFirst() }
        if text.hasPrefix("/") { return text }
        return URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).standardizedFileURL.path
    }
}
