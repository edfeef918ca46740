/// Commands that change the state without touching resources: import, refresh, state mv, state rm,
/// and `state diff` to read what changed between two state commits.

import ArgumentParser
import Engine
import Foundation
import Planning
import ProviderKit
import StackModel
import StateStore

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Adopt an existing object as the resource at ADDRESS, without changing it.",
        discussion: "The address must be one the stack declares. Run plan afterwards: it shows any difference between the object and the stack."
    )

    @Argument(help: "The resource address in the stack, e.g. local.file.readme.")
    var address: String

    @Argument(help: "The provider's id of the existing object (for the local provider: its path).")
    var id: String

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("Stack file (repeatable, merged in order).", valueName: "stack-file"))
    var files: [String] = []

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a stack variable (repeatable).", valueName: "name=value"))
    var variables: [String] = []

    @Option(name: .customLong("state"), help: ArgumentHelp("State directory.", valueName: "dir"))
    var stateDirectory = "state"

    @Option(name: .customLong("lock-timeout"), help: ArgumentHelp("How long to wait for another run's lock.", valueName: "duration"))
    var lockTimeout = "0s"

    func validate() throws {
        if files.isEmpty { throw ValidationError("name the stack file with -f STACK.yaml") }
    }

    func run() async throws {
        guard let a = ResourceAddress(parsing: address) else { throw ValidationError("'\(address)' is not a resource address") }
        let stack = try StackOptions.parse(files + variables.flatMap { ["--var", $0] })
        let lock = LockRequest(operation: "import", timeout: TimeSpan(parsing: lockTimeout)?.seconds ?? 0)
        guard let opened = await stack.open(stateDirectory: stateDirectory, lock: lock) else { throw ExitCode.failure }
        defer { opened.session.close() }
        let result = await opened.session.importResource(a, id: id)
        guard let report = result.value else {
            for d in result.diagnostics { printError(d.location == nil ? "Error: \(d.message)" : DiagnosticsView(color: stack.useColor).render(d)) }
            throw ExitCode.failure
        }
        print("Imported \(a) (id \(report.id))\(report.commit.map { "; state commit \($0.prefix(12))" } ?? "").")
        print("Run `maifctl plan` to see how it differs from the stack.")
    }
}

struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Read every managed resource and record what is really there; report drift.",
        discussion: "With --json the drift report is machine-readable (for CI alarms); --detailed-exitcode exits 2 when something drifted."
    )

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }
    @OptionGroup var flags: PlanFlags

    @Flag(help: "Print the drift report as JSON.")
    var json = false

    @Flag(help: "Exit 2 when drift was found, 0 when none, 1 on error.")
    var detailedExitcode = false

    func run() async throws {
        let lock = LockRequest(operation: "refresh", timeout: flags.lockTimeoutSeconds)
        guard let opened = await stack.open(stateDirectory: flags.stateDirectory, lock: lock) else { throw ExitCode.failure }
        defer { opened.session.close() }
        let result = await opened.session.refresh(flags.planOptions())
        let view = DiagnosticsView(color: stack.useColor)
        for d in result.diagnostics { printError(view.render(d)) }
        guard let report = result.value else { throw ExitCode.failure }
        let drifted = report.drifted
        if json {
            let items: [AttributeValue] = drifted.map { c in
                var item: [String: AttributeValue] = ["address": .string(c.address.description), "drift": PlanJSON.driftJSON(c.drift)]
                if c.drift.deleted { item["deleted_out_of_band"] = true }
                return .map(item)
            }
            print(AttributeValue.map(["format_version": "1", "stack": .string(report.plan.stack), "drifted": .list(items)]).canonicalJSON())
        } else if drifted.isEmpty {
            print("No drift: every managed resource matches the state.")
        } else {
            print(PlanView(color: stack.useColor).renderDrift(drifted).joined(separator: "\n"))
            print("Recorded the drift of \(drifted.count) resource(s)\(report.commit.map { " in state commit \($0.prefix(12))" } ?? ""). Run `maifctl apply` to repair it.")
        }
        if detailedExitcode && !drifted.isEmpty { throw ExitCode(2) }
    }
}

struct StateMove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mv", abstract: "Rename a recorded resource, without touching it.")
    @OptionGroup var scope: StateScope
    @Argument(help: "Current address.") var from: String
    @Argument(help: "New address.") var to: String

    func run() async throws {
        guard let source = ResourceAddress(parsing: from), let target = ResourceAddress(parsing: to) else {
            throw ValidationError("mv takes two resource addresses")
        }
        try await scope.withLockedState("state mv") { store, recorder, state in
            guard state.resources[source] != nil else { throw StateEditError("\(from) is not in the state") }
            guard state.resources[target] == nil else { throw StateEditError("\(to) is already in the state") }
            try await recorder.move(from: source, to: target)
            try await recorder.commit(verb: "state mv", planID: "state-mv", summary: "state mv \(store.stack): \(from) -> \(to)")
            print("Moved \(from) to \(to).")
        }
    }
}

struct StateRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Forget recorded resources without destroying them.")
    @OptionGroup var scope: StateScope
    @Argument(help: "Addresses to forget.") var addresses: [String]

    func run() async throws {
        let parsed = try addresses.map { a in
            guard let p = ResourceAddress(parsing: a) else { throw ValidationError("'\(a)' is not a resource address") }
            return p
        }
        try await scope.withLockedState("state rm") { store, recorder, state in
            for a in parsed {
                guard state.resources[a] != nil else { throw StateEditError("\(a) is not in the state") }
                try await recorder.remove(a)
            }
            try await recorder.commit(verb: "state rm", planID: "state-rm",
                                      summary: "state rm \(store.stack): \(parsed.map(\.description).joined(separator: ", "))")
            print("Forgot \(parsed.count) resource(s); they still exist and are no longer managed.")
        }
    }
}

struct StateDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Which resources changed between two state commits (default: REV and HEAD)."
    )
    @OptionGroup var scope: StateScope
    @Argument(help: "The older revision (commit id, HEAD~1, …).") var from: String
    @Argument(help: "The newer revision.") var to: String = "HEAD"

    func run() throws {
        let store = try scope.store()
        let prefix = "\(store.stack)/resources"
        let old = Set(try store.repository.listFiles(at: from, under: prefix))
        let new = Set(try store.repository.listFiles(at: to, under: prefix))
        func address(_ path: String) -> String {
            let parts = path.dropFirst(prefix.count + 1).split(separator: "/")
            guard parts.count == 3 else { return path }
            return "\(parts[0]).\(parts[1]).\(parts[2].dropLast(5))"
        }
        var lines: [String] = []
        for p in new.subtracting(old).sorted() { lines.append("+ \(address(p))") }
        for p in old.subtracting(new).sorted() { lines.append("- \(address(p))") }
        for p in old.intersection(new).sorted() where try store.repository.fileContents(at: from, path: p) != store.repository.fileContents(at: to, path: p) {
            lines.append("~ \(address(p))")
        }
        if lines.isEmpty { print("No resource changed between \(from) and \(to)."); return }
        lines.forEach { print($0) }
        let added = lines.filter { $0.hasPrefix("+") }.count, removed = lines.filter { $0.hasPrefix("-") }.count
        print("\n\(added) added, \(lines.count - added - removed) changed, \(removed) removed between \(from) and \(to).")
    }
}

extension StateScope {
    /// Runs `body` holding the stack's lock (see `Engine.withLockedState`); a problem is printed and exits 1.
    func withLockedState(_ operation: String, _ body: (StateStore, StateRecorder, State) async throws -> Void) async throws {
        let store = try store()
        do {
            try await Engine.commandLine.withLockedState(store, operation: operation) { recorder, state in
                try await body(store, recorder, state)
            }
        } catch let error as StateEditError {
            printError("Error: \(error)")
            throw ExitCode.failure
        } catch let error as LockError {
            printError("Error: \(error)")
            throw ExitCode.failure
        }
    }
}
