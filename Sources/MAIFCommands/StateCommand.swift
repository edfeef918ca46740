import ArgumentParser
import Engine
import Foundation
import ProviderKit
import StackLoader
import StateStore

/// Which stack's state: named by `--stack`, or by its stack files (`--file`).
struct StateScope: ParsableArguments {
    @Option(help: "The stack name.")
    var stack: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("A stack file, to learn the stack name (repeatable).", valueName: "stack-file"))
    var files: [String] = []

    @Option(name: .customLong("state"), help: ArgumentHelp("State directory.", valueName: "dir"))
    var stateDirectory = "state"

    func validate() throws {
        if stack == nil && files.isEmpty { throw ValidationError("name the stack with --stack NAME or --file STACK.yaml") }
        for f in files where !FileManager.default.fileExists(atPath: f) { throw ValidationError("no such stack file: \(f)") }
    }

    func stackName() throws -> String {
        if let stack { return stack }
        let result = Engine.commandLine.load(StackSource(files: files))
        guard let s = result.stack else {
            for d in result.diagnostics { printError(d.description) }
            throw ExitCode.failure
        }
        return s.meta.name
    }

    func store() throws -> StateStore {
        guard FileManager.default.fileExists(atPath: stateDirectory) else {
            printError("Error: no state directory at \(stateDirectory); run `maifctl apply` first or pass --state DIR.")
            throw ExitCode.failure
        }
        return try StateStore(directory: stateDirectory, stack: try stackName())
    }

    func load() throws -> State { try store().load() }
}

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Read the state recorded in git: list resources, show one, read the history.",
        subcommands: [StateList.self, StateShow.self, StateLog.self, StateDiff.self, StateMove.self, StateRemove.self, StateForceUnlock.self]
    )
}

struct StateList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the addresses of recorded resources.")
    @OptionGroup var scope: StateScope

    func run() throws {
        for address in try scope.load().resources.keys.sorted() { print(address) }
    }
}

struct StateShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one recorded resource.")
    @OptionGroup var scope: StateScope

    @Option(name: .customLong("address"), help: "The resource address, e.g. local.node.demo-cluster.node-1.")
    var address: String

    @Flag(help: "Print the state file as stored (canonical JSON).")
    var json = false

    func run() throws {
        guard let a = ResourceAddress(parsing: address) else {
            throw ValidationError("'\(address)' is not a resource address")
        }
        let state = try scope.load()
        guard let record = state.resources[a] else {
            printError("Error: \(address) is not in the state of \(state.stack)")
            throw ExitCode.failure
        }
        if json { print(record.canonicalText, terminator: ""); return }
        print("# \(record.address)")
        print("id = \(record.id)")
        let width = record.attributes.keys.map(\.count).max() ?? 0
        for key in record.attributes.keys.sorted() {
            let value = record.attributes[key]!
            let text = Sensitive.isPlaceholder(value) ? "(sensitive)" : value.stringValue.map { $0.contains("\n") ? "<<-EOT\n\($0)EOT" : "\"\($0)\"" } ?? value.canonicalJSON(indent: nil)
            print("\(key.padding(width)) = \(text)")
        }
        if !record.dependencies.isEmpty { print("depends on: \(record.dependencies.map(\.description).joined(separator: ", "))") }
    }
}

struct StateLog: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Show the history of the stack's state, newest first.")
    @OptionGroup var scope: StateScope

    @Option(help: "How many commits to show.")
    var limit = 20

    func run() throws {
        let store = try scope.store()
        let commits = try store.repository.log(pathPrefix: store.stack, limit: limit)
        if commits.isEmpty { print("No state history yet."); return }
        let formatter = ISO8601DateFormatter()
        for c in commits {
            print("\(c.id.prefix(12))  \(formatter.string(from: c.time))  \(c.summary)")
        }
    }
}

struct StateForceUnlock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "force-unlock",
        abstract: "Remove a lock left by a run that can no longer release it.",
        discussion: "Only do this when you are sure the run named in the lock is gone: two applies at once can both change the same resources."
    )
    @OptionGroup var scope: StateScope

    @Argument(help: "The lock id, as printed by the run that found the state locked.")
    var id: String

    func run() throws {
        do {
            let held = try scope.store().forceUnlock(id: id)
            print("Lock \(held.id) removed (it was held by \(held.who), pid \(held.pid), since \(held.created)).")
        } catch let error as LockError {
            printError("Error: \(error)")
            throw ExitCode.failure
        }
    }
}
