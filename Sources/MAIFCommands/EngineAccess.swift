/// How commands reach the engine: the built-in providers, notices printed to stderr, and a stack opened for a command
/// with its diagnostics shown the way each has always been shown.

import ArgumentParser
import BuiltinProviders
import Checks
import Engine
import Foundation
import Planning
import ProviderKit
import StackModel

extension Engine {
    /// The engine as the command line runs it: every built-in provider, the process's environment and directory.
    static var commandLine: Engine {
        Engine(registry: BuiltinProviders.registry, onNotice: { printError($0) })
    }
}

/// A stack opened for a command, with the warnings that came with it (shown by the command where they fit).
struct OpenedStack {
    var session: StackSession
    var diagnostics: [Diagnostic]
}

extension StackOptions {
    var source: StackSource { StackSource(files: files, variables: variableValues) }

    /// Opens the stack against its state, or prints why it cannot be opened and returns nil. Problems with the stack
    /// go to stdout, as `validate` prints them; problems with the state go to stderr.
    /// With `report`, every problem goes there instead (`apply --json` makes events of them).
    func open(stateDirectory: String, lock: LockRequest? = nil, report: ((Diagnostic) -> Void)? = nil) async -> OpenedStack? {
        let result = await Engine.commandLine.open(source, stateDirectory: stateDirectory, lock: lock)
        guard let session = result.value else {
            if let report { result.diagnostics.sortedByPosition().forEach(report); return nil }
            let view = DiagnosticsView(color: useColor)
            for d in result.diagnostics.sortedByPosition() {
                switch d.code {
                case "state-error": printError("Error: \(d.message)")
                case "state-locked", "state-unavailable": printError(view.render(d))
                default: print(view.render(d))
                }
            }
            return nil
        }
        await OpenProviders.shared.add(session.providers.values)
        return OpenedStack(session: session, diagnostics: result.diagnostics)
    }
}

/// Flags for commands that plan.
struct PlanFlags: ParsableArguments {
    @Option(name: .customLong("state"), help: ArgumentHelp("State directory, a git repository (created if missing).", valueName: "dir"))
    var stateDirectory = "state"

    @Option(name: .customLong("target"), help: ArgumentHelp("Limit to this resource (or address prefix) and its dependencies (repeatable).", valueName: "address"))
    var targets: [String] = []

    @Option(name: .customLong("replace"), help: ArgumentHelp("Force this resource to be replaced (repeatable).", valueName: "address"))
    var replace: [String] = []

    @Option(name: .customLong("refresh"), help: ArgumentHelp("Read every managed resource first to find drift.", valueName: "true|false"))
    var refresh = true

    @Option(help: "How many provider calls may run at once.")
    var parallelism = 10

    @Option(name: .customLong("lock-timeout"), help: ArgumentHelp("How long to wait for another run's lock on the state, e.g. 30s or 5m.", valueName: "duration"))
    var lockTimeout = "0s"

    var lockTimeoutSeconds: Double { TimeSpan(parsing: lockTimeout)?.seconds ?? 0 }

    @Option(name: .customLong("skip-check"), help: ArgumentHelp("Let apply go ahead despite this check's errors (repeatable); recorded in the state commit.", valueName: "rule-id"))
    var skipChecks: [String] = []

    func validate() throws {
        if parallelism < 1 { throw ValidationError("--parallelism must be at least 1") }
        if TimeSpan(parsing: lockTimeout) == nil { throw ValidationError("--lock-timeout takes a duration like 30s or 5m, got '\(lockTimeout)'") }
        let ids = Set(Checker.rules.map(\.id))
        for id in skipChecks where !ids.contains(id) { throw ValidationError("--skip-check: no rule '\(id)'; see `maifctl check --list`") }
        for r in replace where ResourceAddress(parsing: r) == nil {
            throw ValidationError("--replace takes a resource address like local.node.cluster.node-1, got '\(r)'")
        }
    }

    func planOptions(destroy: Bool = false) -> PlanOptions {
        var o = PlanOptions()
        o.targets = targets
        o.replace = replace.compactMap(ResourceAddress.init(parsing:))
        o.refresh = refresh
        o.destroy = destroy
        o.parallelism = parallelism
        return o
    }
}

