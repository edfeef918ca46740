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
        """
    )

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }
    @OptionGroup var flags: PlanFlags

    @Flag(help: "Apply without asking for confirmation.")
    var autoApprove = false

    func run() async throws {
        try await ApplyRunner(stack: stack, flags: flags, autoApprove: autoApprove, destroy: false).run()
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

    func run() async throws {
        try await ApplyRunner(stack: stack, flags: flags, autoApprove: autoApprove, destroy: true).run()
    }
}

/// Shared by apply and destroy: plan, show, confirm, execute with progress, summarise.
struct ApplyRunner {
    var stack: StackOptions
    var flags: PlanFlags
    var autoApprove: Bool
    var destroy: Bool

    func run() async throws {
        // `apply FILE` with a file written by `plan --out` applies exactly that plan.
        let saved = destroy || stack.files.count != 1 ? nil : try SavedPlan.read(stack.files[0])
        var stackOptions = stack
        if let saved { stackOptions.files = saved.files }
        let lock = LockRequest(operation: destroy ? "destroy" : "apply", timeout: flags.lockTimeoutSeconds)
        guard let opened = await stackOptions.open(stateDirectory: flags.stateDirectory, lock: lock) else { throw ExitCode.failure }
        let session = opened.session
        defer { session.close() }
        let diagnosticsView = DiagnosticsView(color: stack.useColor)
        let plan: Plan
        if let saved {
            for d in opened.diagnostics { printError(diagnosticsView.render(d)) }
            do {
                plan = try session.restore(saved)
            } catch let error as SavedPlanError {
                printError("Error: \(error)")
                throw ExitCode.failure
            }
        } else {
            let result = await session.plan(flags.planOptions(destroy: destroy))
            for d in opened.diagnostics + result.diagnostics { printError(diagnosticsView.render(d)) }
            guard let fresh = result.plan else { throw ExitCode.failure }
            plan = fresh
        }
        let findings = destroy || plan.isDestroy ? [] : session.checks(skip: flags.skipChecks)
        for d in findings { printError(diagnosticsView.render(d)) }
        let view = PlanView(color: stack.useColor)
        print(view.render(plan))
        if findings.hasErrors {
            printError("\nError: apply refused: fix the check errors above, or pass --skip-check RULE_ID to accept one knowingly.")
            throw ExitCode.failure
        }
        guard plan.hasChanges else { return }

        if !autoApprove && saved == nil {  // a saved plan was reviewed when it was made
            guard isatty(0) != 0 else {
                printError("\nError: no terminal to confirm on; re-run with --auto-approve to \(destroy ? "destroy" : "apply") without confirmation.")
                throw ExitCode.failure
            }
            print("\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ", terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print("\n\(destroy ? "Destroy" : "Apply") cancelled.")
                throw ExitCode.failure
            }
        }
        print("")

        let cancellation = CancellationFlag()
        let signals = SignalTrap(cancellation)
        defer { signals.release() }
        let started = Date()
        var options = ApplyOptions()
        options.parallelism = flags.parallelism
        let quietProgress = plan.changes.count > 1000 && !Terminal.isInteractive(stdout: true)
        options.onEvent = { event in ProgressView.print(event, quiet: quietProgress) }
        let skipped = flags.skipChecks.filter { id in findings.contains { $0.code == id } }
        if !skipped.isEmpty { options.trailers["Skipped-Checks"] = skipped.sorted().joined(separator: ", ") }
        let outcome = await session.apply(plan, options: options, cancellation: cancellation)
        let elapsed = Date().timeIntervalSince(started)

        var added = 0, changed = 0, destroyed = 0
        for (_, action) in outcome.completed {
            switch action {
            case .create: added += 1
            case .update: changed += 1
            case .replace: added += 1; destroyed += 1
            case .delete: destroyed += 1
            case .noop: break
            }
        }
        if let commit = outcome.commit {
            print("\nState committed: \(commit.prefix(12)) in \(flags.stateDirectory)")
        }
        let counts = "Resources: \(added) added, \(changed) changed, \(destroyed) destroyed."
        let usage = session.usage.map { "\($0.provider): \($0.usage)" }
        if !usage.isEmpty { print("Provider calls (plan and apply): \(usage.joined(separator: "; "))") }
        if outcome.succeeded {
            print("\n\(destroy ? "Destroy" : "Apply") complete! \(counts) (\(String(format: "%.1f", elapsed))s)")
            return
        }
        for f in outcome.failures { printError("Error: \(f.message)") }
        if !outcome.skipped.isEmpty {
            printError("Skipped \(outcome.skipped.count) resource(s) that depend on a failed one: \(outcome.skipped.prefix(5).map(\.description).joined(separator: ", "))\(outcome.skipped.count > 5 ? ", …" : "")")
        }
        if outcome.interrupted { printError("Interrupted: no new work was started after Ctrl-C; what finished is recorded in state.") }
        printError("\n\(destroy ? "Destroy" : "Apply") incomplete. \(counts) Fix the problem and run apply again to finish.")
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
