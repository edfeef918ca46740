import ArgumentParser
import Engine
import Execution
import Foundation
import Planning
import StackModel

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Plan, confirm, and make the changes; the new state is committed to git.",
        discussion: """
        Asks for confirmation on a terminal; in CI pass --auto-approve. Resources are changed with bounded \
        parallelism; if one fails, what depends on it is skipped, independent work finishes, and the state \
        records exactly what happened. Ctrl-C stops starting new work and lets calls in flight finish.
        `apply PLANFILE` applies a plan saved with `plan --out`, refusing it (and naming what moved) when the \
        state, a stack file, a variable or the maifctl version differs from when it was made. On a terminal a \
        status line shows what is in flight; --json prints newline-delimited events instead \
        (docs/apply-events.schema.json).
        """
    )

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }
    @OptionGroup var flags: PlanFlags

    @Flag(help: "Apply without asking for confirmation.")
    var autoApprove = false

    @Flag(help: "Print newline-delimited JSON events (docs/apply-events.schema.json) instead of text.")
    var json = false

    func run() async throws {
        try await ApplyRunner(stack: stack, flags: flags, autoApprove: autoApprove, destroy: false, json: json).run()
    }
}

struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Delete every resource the stack's state records, in reverse dependency order.",
        discussion: "Asks for confirmation on a terminal; in CI pass --auto-approve. The emptied state is committed."
    )

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }
    @OptionGroup var flags: PlanFlags

    @Flag(help: "Destroy without asking for confirmation.")
    var autoApprove = false

    @Flag(help: "Print newline-delimited JSON events (docs/apply-events.schema.json) instead of text.")
    var json = false

    func run() async throws {
        try await ApplyRunner(stack: stack, flags: flags, autoApprove: autoApprove, destroy: true, json: json).run()
    }
}

/// Shared by apply and destroy: plan, show, confirm, execute with progress, summarise.
struct ApplyRunner {
    var stack: StackOptions
    var flags: PlanFlags
    var autoApprove: Bool
    var destroy: Bool
    var json = false

    private var verb: String { destroy ? "destroy" : "apply" }

    func run() async throws {
        let events = json ? ApplyEventsJSON() : nil
        let started = Date()
        /// Stops the run before anything was applied, saying why (an event and a summary with --json).
        func refuse(_ code: String, _ message: String, blankLine: Bool = false) -> ExitCode {
            if let events {
                events.error(code, message)
                events.summary(.refused, elapsed: Date().timeIntervalSince(started), commit: nil, errors: [message])
            } else {
                printError((blankLine ? "\n" : "") + "Error: \(message)")
            }
            return ExitCode.failure
        }

        // `apply FILE` with a file written by `plan --out` applies exactly that plan.
        let saved = destroy || stack.files.count != 1 ? nil : try SavedPlan.read(stack.files[0])
        var stackOptions = stack
        if let saved {
            stackOptions.files = saved.files
            do {
                try Engine.checkSources(of: saved)
            } catch let error as SavedPlanError {
                throw refuse("saved-plan-stale", "\(error)")
            }
        }
        let lock = LockRequest(operation: verb, timeout: flags.lockTimeoutSeconds)
        let report: ((Diagnostic) -> Void)? = events.map { e in { e.diagnostic($0) } }
        guard let opened = await stackOptions.open(stateDirectory: flags.stateDirectory, lock: lock, report: report) else {
            events?.summary(.refused, elapsed: Date().timeIntervalSince(started), commit: nil, errors: ["the stack or its state could not be opened"])
            throw ExitCode.failure
        }
        let session = opened.session
        defer { session.close() }
        let diagnosticsView = DiagnosticsView(color: stack.useColor)
        func show(_ d: Diagnostic) {
            if let events { events.diagnostic(d) } else { printError(diagnosticsView.render(d)) }
        }
        let plan: Plan
        if let saved {
            opened.diagnostics.forEach(show)
            do {
                plan = try session.restore(saved)
            } catch let error as SavedPlanError {
                throw refuse("saved-plan-stale", "\(error)")
            }
        } else {
            let result = await session.plan(flags.planOptions(destroy: destroy))
            (opened.diagnostics + result.diagnostics).forEach(show)
            guard let fresh = result.plan else {
                events?.summary(.refused, elapsed: Date().timeIntervalSince(started), commit: nil, errors: ["planning failed"])
                throw ExitCode.failure
            }
            plan = fresh
        }
        let findings = destroy || plan.isDestroy ? [] : session.checks(skip: flags.skipChecks)
        findings.forEach(show)
        if let events {
            events.plan(plan, operation: verb, saved: saved != nil)
        } else {
            print(PlanView(color: stack.useColor).render(plan))
        }
        if findings.hasErrors {
            throw refuse("checks-failed", "apply refused: fix the check errors above, or pass --skip-check RULE_ID to accept one knowingly.",
                         blankLine: true)
        }
        guard plan.hasChanges else {
            events?.summary(.noChanges, elapsed: Date().timeIntervalSince(started), commit: nil, errors: [])
            return
        }

        if !autoApprove && saved == nil {  // a saved plan was reviewed when it was made
            if events != nil {
                throw refuse("no-approval", "--json has no prompt: pass --auto-approve to \(verb) without confirmation, or apply a saved plan.")
            }
            guard isatty(0) != 0 else {
                printError("\nError: no terminal to confirm on; re-run with --auto-approve to \(verb) without confirmation.")
                throw ExitCode.failure
            }
            print("\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ", terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print("\n\(destroy ? "Destroy" : "Apply") cancelled.")
                throw ExitCode.failure
            }
        }
        if events == nil { print("") }

        let cancellation = CancellationFlag()
        let signals = SignalTrap(cancellation)
        defer { signals.release() }
        var options = ApplyOptions()
        options.parallelism = flags.parallelism
        let progress = events == nil ? ProgressView(total: Executor.stepCount(plan), terminal: Terminal.isInteractive(stdout: true)) : nil
        options.onEvent = { event in
            if let events { events.event(event) } else { progress?.handle(event) }
        }
        let skipped = flags.skipChecks.filter { id in findings.contains { $0.code == id } }
        if !skipped.isEmpty { options.trailers["Skipped-Checks"] = skipped.sorted().joined(separator: ", ") }
        let outcome = await session.apply(plan, options: options, cancellation: cancellation)
        progress?.stop()
        let elapsed = Date().timeIntervalSince(started)

        var counts = ApplyEventsJSON.Counts()
        for (_, action) in outcome.completed {
            switch action {
            case .create: counts.added += 1
            case .update: counts.changed += 1
            case .replace: counts.added += 1; counts.destroyed += 1
            case .delete: counts.destroyed += 1
            case .noop: break
            }
        }
        counts.failed = outcome.failures.count
        counts.skipped = outcome.skipped.count
        if let events {
            let status: ApplyEventsJSON.Status = outcome.succeeded ? .succeeded : outcome.interrupted && outcome.failures.isEmpty ? .interrupted : .failed
            events.summary(status, counts: counts, elapsed: elapsed, commit: outcome.commit, errors: outcome.failures.map { $0.message })
            if !outcome.succeeded { throw ExitCode.failure }
            return
        }
        if let commit = outcome.commit {
            print("\nState committed: \(commit.prefix(12)) in \(flags.stateDirectory)")
        }
        let summary = "Resources: \(counts.added) added, \(counts.changed) changed, \(counts.destroyed) destroyed."
        let usage = session.usage.map { "\($0.provider): \($0.usage)" }
        if !usage.isEmpty { print("Provider calls (plan and apply): \(usage.joined(separator: "; "))") }
        if outcome.succeeded {
            print("\n\(destroy ? "Destroy" : "Apply") complete! \(summary) (\(String(format: "%.1f", elapsed))s)")
            return
        }
        for f in outcome.failures { printError("Error: \(f.message)") }
        if !outcome.skipped.isEmpty {
            printError("Skipped \(outcome.skipped.count) resource(s) that depend on a failed one: \(outcome.skipped.prefix(5).map(\.description).joined(separator: ", "))\(outcome.skipped.count > 5 ? ", …" : "")")
        }
        if outcome.interrupted { printError("Interrupted: no new work was started after Ctrl-C; what finished is recorded in state.") }
        printError("\n\(destroy ? "Destroy" : "Apply") incomplete. \(summary) Fix the problem and run apply again to finish.")
        throw ExitCode.failure
    }
}

/// Ctrl-C (SIGINT) and SIGTERM set the cancellation flag instead of killing the process.
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(_ flag: CancellationFlag) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write("\nInterrupt received: waiting for calls in flight to finish…\n".data(using: .utf8)!)
                flag.cancel()
            }
            source.resume()
            sources.append(source)
        }
    }

    func release() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
