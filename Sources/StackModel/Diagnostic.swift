/// One diagnostic type for loader, checks and planner: severity, code, message, source range, hint.

/// A position in a stack file. Lines and columns count from 1, columns in Unicode scalars (as libyaml does).
public struct SourceLocation: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }

    public var description: String { "\(file):\(line):\(column)" }
}

public enum Severity: String, Sendable, Codable, Comparable {
    case error, warning

    public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
}

public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public var severity: Severity
    /// A stable, greppable identifier such as `unknown-key` or `duplicate-node-id`.
    public var code: String
    public var message: String
    public var hint: String?
    public var location: SourceLocation?

    public init(_ severity: Severity, code: String, _ message: String, hint: String? = nil, at location: SourceLocation?) {
        self.severity = severity
        self.code = code
        self.message = message
        self.hint = hint
        self.location = location
    }

    public static func error(_ code: String, _ message: String, hint: String? = nil, at location: SourceLocation?) -> Diagnostic {
        Diagnostic(.error, code: code, message, hint: hint, at: location)
    }

    public static func warning(_ code: String, _ message: String, hint: String? = nil, at location: SourceLocation?) -> Diagnostic {
        Diagnostic(.warning, code: code, message, hint: hint, at: location)
    }

    /// `file:line:column: error: message [code]` followed by an indented hint line.
    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += "\(severity.rawValue): \(message) [\(code)]"
        if let hint { text += "\n    hint: \(hint)" }
        return text
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Sorted by file, line, column; diagnostics without a location come last.
    public func sortedByPosition() -> [Diagnostic] {
        enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case let (x?, y?): return x != y ? x < y : a.offset < b.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }
}
