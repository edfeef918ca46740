/// Shared decoding state: the diagnostics sink, variables and environment for `${…}` interpolation.

import StackModel

final class DecodeContext {
    var diagnostics: [Diagnostic] = []
    /// Key path → where its value was written (`disaster_recovery.rpo` → prod.yaml:88:8).
    var sourceMap: [String: SourceLocation] = [:]
    let variables: [String: String]
    let environment: [String: String]
    /// Declared variable names, with or without a value (a missing value is reported at the declaration).
    var declared: Set<String> = []

    init(variables: [String: String], environment: [String: String]) {
        self.variables = variables
        self.environment = environment
    }

    func error(_ code: String, _ message: String, hint: String? = nil, at location: SourceLocation?) {
        diagnostics.append(.error(code, message, hint: hint, at: location))
    }

    func warning(_ code: String, _ message: String, hint: String? = nil, at location: SourceLocation?) {
        diagnostics.append(.warning(code, message, hint: hint, at: location))
    }

    /// Replaces `${var.NAME}` and `${env.NAME}`; any other `${…}` (a resource reference) is kept for the planner.
    /// `$${` writes a literal `${`.
    func interpolate(_ text: String, at location: SourceLocation) -> String {
        guard text.utf8.contains(UInt8(ascii: "$")), text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                out += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                error("invalid-interpolation", "unterminated '${' in \"\(text)\"",
                      hint: "close it with '}', or write '$${' for a literal '${'", at: location)
                return text
            }
            let expression = String(rest[start.upperBound..<end])
            out += resolve(expression, in: text, at: location)
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    private func resolve(_ expression: String, in text: String, at location: SourceLocation) -> String {
        if expression.hasPrefix("var.") {
            let name = String(expression.dropFirst(4))
            if let value = variables[name] { return value }
            if declared.contains(name) { return "${\(expression)}" }
            error("undefined-variable", "variable '\(name)' is not declared",
                  hint: suggestion(for: name, among: Array(variables.keys)).map { "did you mean '\($0)'?" }
                    ?? "declare it under stack.variables or pass --var \(name)=VALUE",
                  at: location)
            return "${\(expression)}"
        }
        if expression.hasPrefix("env.") {
            let name = String(expression.dropFirst(4))
            if let value = environment[name] { return value }
            error("undefined-env", "environment variable '\(name)' is not set",
                  hint: "export \(name)=… before running maifctl, or use a stack variable with a default", at: location)
            return "${\(expression)}"
        }
        if expression.split(separator: ".").count < 3 {
            error("invalid-interpolation", "'${\(expression)}' is neither ${var.NAME}, ${env.NAME} nor a resource reference",
                  hint: "a reference names a resource address and an attribute, e.g. ${local.null.r0.id}", at: location)
        }
        return "${\(expression)}"
    }
}

