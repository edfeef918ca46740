import ArgumentParser
import Checks
import Engine
import StackModel

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run the production checklist and quorum rules of the MAIF guide against a stack.",
        discussion: """
        Rules have stable ids (see docs/checks.md or `maifctl check --list`). Error-level findings also \
        block `apply` unless skipped with --skip-check RULE_ID; a skip is recorded in the state commit.
        Exit status: 0 when no error-level finding, 1 otherwise.
        """
    )

    @OptionGroup var stack: StackOptions

    @Flag(help: "Print the findings as a JSON array.")
    var json = false

    @Flag(help: "List the rules and exit.")
    var list = false

    @Option(name: .customLong("skip-check"), help: ArgumentHelp("Report this rule's findings as warnings (repeatable).", valueName: "rule-id"))
    var skip: [String] = []

    func validate() throws {
        if !list { try stack.requireFiles() }
        let ids = Set(Checker.rules.map(\.id))
        for id in skip where !ids.contains(id) { throw ValidationError("--skip-check: no rule '\(id)'; see `maifctl check --list`") }
    }

    func run() throws {
        if list {
            for r in Checker.rules { print("\(r.id.padding(32)) \(r.severity.rawValue.padding(8)) \(r.summary)") }
            return
        }
        // What `plan` would say of the stack comes first: loading and expanding it (a value the platform cannot
        // express is a warning there), then the rules.
        let result = Engine.commandLine.expand(stack.source)
        var diagnostics = result.diagnostics
        if let expanded = result.value { diagnostics += Checker.run(expanded.stack, skip: Set(skip)) }
        if json {
            print(DiagnosticsView.json(diagnostics))
        } else {
            let view = DiagnosticsView(color: stack.useColor)
            for d in diagnostics { print(view.render(d)) }
            let errors = diagnostics.filter { $0.severity == .error }.count, warnings = diagnostics.count - errors
            print(diagnostics.isEmpty ? "All \(Checker.rules.count) checks passed." : "\n\(errors) error(s), \(warnings) warning(s).")
        }
        if diagnostics.hasErrors { throw ExitCode.failure }
    }
}
