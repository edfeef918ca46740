import ArgumentParser
import Engine
import Foundation
import Planning
import StackModel

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change, without changing anything.",
        discussion: """
        Reads the state, refreshes every managed resource from its provider (drift is shown), and diffs \
        the stack against it. With --detailed-exitcode the exit status is 0 for no changes, 1 for an \
        error and 2 when there are changes — what CI needs. --format markdown prints a pull-request comment: \
        the summary line, destroys and replaces first, one collapsed block per resource, and a marker line \
        (`<!-- maifctl-plan: stack=NAME -->`) to find the comment again (examples/ci).
        """
    )

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }
    @OptionGroup var flags: PlanFlags

    @OptionGroup var output: PlanFormatOptions

    @Flag(help: "Exit 0 when there are no changes, 2 when there are, 1 on error.")
    var detailedExitcode = false

    @Flag(help: "Plan destroying everything in the state.")
    var destroy = false

    @Option(name: .customLong("out"), help: ArgumentHelp("Save the plan to this file; `maifctl apply FILE` then applies exactly it.", valueName: "file"))
    var out: String?

    func run() async throws {
        guard let opened = await stack.open(stateDirectory: flags.stateDirectory) else { throw ExitCode.failure }
        let session = opened.session
        let result = await session.plan(flags.planOptions(destroy: destroy))
        let diagnostics = DiagnosticsView(color: stack.useColor)
        for d in opened.diagnostics + result.diagnostics { printError(diagnostics.render(d)) }
        guard let plan = result.plan else { throw ExitCode.failure }
        let findings = destroy ? [] : session.checks(skip: flags.skipChecks)
        for d in findings { printError(diagnostics.render(d)) }
        switch output.resolved {
        case .text: print(PlanView(color: stack.useColor).render(plan))
        case .json: print(PlanJSON.render(plan))
        case .markdown:
            var markdown = PlanMarkdown(maxBytes: output.maxBytes, findings: findings)
            markdown.fullPlan = output.fullPlanURL ?? out.map { "the saved plan `\($0)` (`maifctl show \($0)`)" }
            print(markdown.render(plan), terminator: "")
        }
        if findings.hasErrors {
            printError("\nError: the checks above would block apply; fix them or pass --skip-check RULE_ID.")
            throw ExitCode.failure
        }
        if let out {
            try session.save(plan, files: stack.files).encoded().write(to: URL(fileURLWithPath: out))
            if output.resolved == .text { print("\nSaved the plan to \(out). To apply exactly these actions: maifctl apply \(out)") }
        }
        if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
    }
}
