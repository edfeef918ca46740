/// The rule catalogue: each rule has a stable id, a severity, and a function from a stack to findings.
/// A finding names a key path; the stack's source map turns it into file:line:column.

import StackModel

public struct Rule: Sendable {
    /// Stable, used by `--skip-check` and in docs/checks.md, e.g. `quorum.majority`.
    public var id: String
    public var severity: Severity
    /// One line: what the rule wants.
    public var summary: String
    let evaluate: @Sendable (Stack) -> [Finding]

    init(_ id: String, _ severity: Severity, _ summary: String, _ evaluate: @escaping @Sendable (Stack) -> [Finding]) {
        self.id = id
        self.severity = severity
        self.summary = summary
        self.evaluate = evaluate
    }
}

struct Finding {
    var message: String
    var hint: String
    /// Where to point: a key path into the stack (`high_availability.quorum_size`).
    var keyPath: String
}

public enum Checker {
    /// Runs every rule; `skip` lists rule ids whose findings are reported as warnings instead of errors.
    public static func run(_ stack: Stack, skip: Set<String> = []) -> [Diagnostic] {
        // The checklist is about MAIF clusters; a stack of raw resources only has none to check.
        guard !stack.clusters.isEmpty else { return [] }
        var out: [Diagnostic] = []
        for rule in Catalogue.rules {
            for f in rule.evaluate(stack) {
                let skipped = skip.contains(rule.id)
                let severity: Severity = skipped ? .warning : rule.severity
                let message = skipped ? "\(f.message) (skipped with --skip-check)" : f.message
                out.append(Diagnostic(severity, code: rule.id, message, hint: f.hint, at: stack.location(of: f.keyPath)))
            }
        }
        // Where data may land (hybrid.data_placement, compliance-aware geo_routing): not skippable.
        out += Placement.violations(stack)
        return out.sortedByPosition()
    }

    public static var rules: [Rule] { Catalogue.rules }
}
