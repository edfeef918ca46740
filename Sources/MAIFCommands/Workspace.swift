/// Wires the pipeline stages together for the commands: load → expand → providers → state → plan.

import ArgumentParser
import Checks
import Expansion
import Foundation
import BuiltinProviders
import Planning
import ProviderKit
import StackLoader
import StackModel
import StateStore

struct Workspace {
    var stack: Stack
    var desired: [DesiredResource]
    var providers: [String: any Provider]
    var store: StateStore
    var state: State
    var diagnostics: [Diagnostic]
    /// Held by state-changing commands from before the state is read until they finish.
    var lock: LockInfo?

    func release() {
        if let lock { store.releaseLock(lock) }
    }

    static var registry: ProviderRegistry { BuiltinProviders.registry }

    /// Loads and expands the stack and opens its state. Returns nil (after printing why) when that fails.
    /// The checklist findings for this stack; error-level ones block apply.
    func checks(skip: [String]) -> [Diagnostic] {
        Checker.run(stack, skip: Set(skip))
    }

    /// `lockFor` names the operation for state-changing commands, which take the stack's lock first.
    static func open(_ options: StackOptions, stateDirectory: String, lockFor operation: String? = nil,
                     lockTimeout: Double = 0) async -> Workspace? {
        // A read-only run reads the state on another thread while the stack is still being decoded.
        let prefetch = StatePrefetch()
        var onStackName: (@Sendable (String) -> Void)?
        if operation == nil {
            onStackName = { name in prefetch.start(directory: stateDirectory, stack: name) }
        }
        let loaded = options.load(onStackName: onStackName)
        let view = DiagnosticsView(color: options.useColor)
        var diagnostics = loaded.diagnostics
        guard let stack = loaded.stack else {
            for d in diagnostics { print(view.render(d)) }
            return nil
        }
        let expansion = Expander.expand(stack)
        diagnostics += expansion.diagnostics
        if expansion.diagnostics.hasErrors {
            for d in diagnostics.sortedByPosition() { print(view.render(d)) }
            return nil
        }
        let cwd = FileManager.default.currentDirectoryPath
        var providers: [String: any Provider] = [:]
        let needed = Set(expansion.resources.map(\.address.provider))
        for name in registry.names where needed.contains(name) || name == "local" {
            let config = ProviderConfiguration(stack: stack.meta.name, settings: settings(for: name, stack), workingDirectory: cwd,
                                               environment: ProcessInfo.processInfo.environment)
            do {
                if let p = try registry.make(name, config) { providers[name] = p }
            } catch {
                diagnostics.append(.error("provider-configure-failed", "provider '\(name)' cannot be configured: \(error)", at: nil))
            }
        }
        await OpenProviders.shared.add(providers.values)
        do {
            if let (store, state) = prefetch.result(for: stack.meta.name), !store.hasJournal {
                return Workspace(stack: stack, desired: expansion.resources, providers: providers, store: store, state: state,
                                 diagnostics: diagnostics, lock: nil)
            }
            let store = try StateStore(directory: stateDirectory, stack: stack.meta.name)
            var lock: LockInfo?
            if let operation {
                do {
                    lock = try store.acquireLock(operation: operation, timeout: lockTimeout) { printError("Warning: \($0)") }
                } catch let error as LockError {
                    printError(view.render(.error("state-locked", "\(error)", at: nil)))
                    return nil
                }
            }
            do {
                if lock != nil { try store.checkRemote() }
                var state = try store.load()
                if store.hasJournal {
                    state = try await recover(store: store, state: state, providers: providers, holding: lock)
                }
                return Workspace(stack: stack, desired: expansion.resources, providers: providers, store: store, state: state,
                                 diagnostics: diagnostics, lock: lock)
            } catch {
                if let lock { store.releaseLock(lock) }
                throw error
            }
        } catch let error as StateError {
            printError("Error: \(error)")
            return nil
        } catch {
            printError(view.render(.error("state-unavailable", "cannot open state in \(stateDirectory): \(error)",
                                          hint: "--state DIR names the state directory (a git repository, created if missing)", at: nil)))
            return nil
        }
    }

    /// Folds the journal of an interrupted run into state: finished actions are recorded, and each create
    /// that was announced but never reported is looked up by its provider and adopted, or forgotten.
    /// Needs the stack's lock: while another live run holds it, its journal is its own.
    static func recover(store: StateStore, state: State, providers: [String: any Provider], holding lock: LockInfo?) async throws -> State {
        var recoveryLock: LockInfo?
        if lock == nil {
            guard let taken = try? store.acquireLock(operation: "recover", timeout: 0, warn: { printError("Warning: \($0)") }) else {
                printError("Note: another run holds the state lock; planning from the last committed state.")
                return state
            }
            recoveryLock = taken
        }
        defer { if let recoveryLock { store.releaseLock(recoveryLock) } }
        for file in try store.repository.removeLocksOfKilledRun() { printError("Warning: removed \(file), left by the interrupted run") }
        let recorder = store.recorder(for: state)
        let pending = try await store.replayJournal(into: recorder)
        var adopted: [String] = []
        for intent in pending {
            guard let provider = providers[intent.address.provider] else { continue }
            let context = ResourceContext(stack: store.stack, address: intent.address)
            if let found = try await provider.find(context, intent.config) {
                let key = Sensitive.key(lineage: state.meta.lineage, environment: ProcessInfo.processInfo.environment)
                let attributes = Sensitive.redact(found.attributes, schema: provider.schema.resources[intent.address.type], key: key)
                let record = ResourceRecord(address: intent.address, id: found.id, attributes: attributes,
                                            dependencies: intent.dependencies)
                try await recorder.record(record, change: .created)
                adopted.append(intent.address.description)
            }
        }
        await recorder.sweepWorkTree()
        let commit = try await recorder.commit(verb: "recover", planID: "interrupted-run")
        printError("Recovered an interrupted run from its journal\(commit.map { " (state commit \($0.prefix(12)))" } ?? "")"
                   + (adopted.isEmpty ? "." : "; adopted what it had created: \(adopted.joined(separator: ", ")).")
                   + " \(pending.count - adopted.count) announced create(s) had not happened.")
        return await recorder.state
    }

    static func settings(for provider: String, _ stack: Stack) -> [String: AttributeValue] {
        switch provider {
        case "local": return ["root": .string(stack.clouds.local?.root ?? ".maif/local")]
        case "aws":
            var s: [String: AttributeValue] = [:]
            if let v = stack.clouds.aws?.region { s["region"] = .string(v) }
            if let v = stack.clouds.aws?.endpoint { s["endpoint"] = .string(v) }
            if let v = stack.clouds.aws?.profile { s["profile"] = .string(v) }
            // Credential references (never values): the provider reads them when it first signs a call.
            if let v = stack.clouds.aws?.accessKeyID { s["access_key_id"] = .string(v.description) }
            if let v = stack.clouds.aws?.secretAccessKey { s["secret_access_key"] = .string(v.description) }
            if let v = stack.clouds.aws?.sessionToken { s["session_token"] = .string(v.description) }
            return s
        case "swarm":
            // DOCKER_HOST and its companions override these in the provider, as they override a docker context.
            guard let cloud = stack.clouds.swarm else { return [:] }
            var settings: [String: AttributeValue] = [:]
            if let host = cloud.host { settings["host"] = .string(host) }
            if let path = cloud.certPath { settings["cert_path"] = .string(path) }
            if let verify = cloud.tlsVerify { settings["tls_verify"] = .bool(verify) }
            if let wait = cloud.waitForRunning { settings["wait_for_running"] = .double(wait.seconds) }
            return settings
        case "onprem":
            guard let cloud = stack.clouds.onprem else { return [:] }
            var settings: [String: AttributeValue] = ["strict_host_key_checking": .bool(cloud.strictHostKeyChecking)]
            if let user = cloud.user { settings["user"] = .string(user) }
            if let port = cloud.port { settings["port"] = .int(Int64(port)) }
            if let jump = cloud.jumpHost { settings["jump_host"] = .string(jump) }
            if let known = cloud.knownHosts { settings["known_hosts"] = .string(known) }
            if let file = cloud.sshConfig { settings["ssh_config"] = .string(file) }
            if let root = cloud.root { settings["root"] = .string(root) }
            switch cloud.key {
            case .file(let path)?: settings["key_file"] = .string(path)
            case .env(let name)?: settings["key_env"] = .string(name)
            case nil: break
            }
            return settings
        default: return [:]
        }
    }

    var secretKey: SecretKey { Sensitive.key(lineage: state.meta.lineage, environment: ProcessInfo.processInfo.environment) }

    func plan(_ options: PlanOptions) async -> PlanResult {
        var options = options
        options.secretKey = secretKey
        return await Planner.plan(stack: stack.meta.name, desired: desired, moves: stack.moved, state: state, providers: providers,
                           options: options)
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

enum SavedPlanError: Error, CustomStringConvertible {
    case stateMoved(planned: String?, now: String?)
    case stackChanged
    case otherStack(String)

    var description: String {
        switch self {
        case let .stateMoved(planned, now):
            return "the saved plan is stale: it was made against state \(planned.map { String($0.prefix(12)) } ?? "(empty)"), but the state is now at \(now.map { String($0.prefix(12)) } ?? "(empty)"). Run `maifctl plan --out FILE` again."
        case .stackChanged:
            return "the saved plan is stale: the stack (files, variables or environment) changed since it was made. Run `maifctl plan --out FILE` again."
        case .otherStack(let name):
            return "the saved plan is for stack '\(name)', not this one"
        }
    }
}

extension Workspace {
    var inputsHash: String {
        SavedPlan.inputsHash(desired, moves: stack.moved.map { ($0.from, $0.to) })
    }

    /// What `plan --out` writes: sensitive configuration replaced by placeholders (apply fills them back in
    /// from the stack, whose hash must match).
    func save(_ plan: Plan, files: [String]) -> SavedPlan {
        var plan = plan
        for i in plan.changes.indices {
            guard let config = plan.changes[i].config else { continue }
            let schema = providers[plan.changes[i].address.provider]?.schema.resources[plan.changes[i].address.type]
            plan.changes[i].config = Sensitive.redact(config, schema: schema, key: secretKey)
        }
        return SavedPlan(files: files, inputsHash: inputsHash, plan: plan)
    }

    /// The saved plan, checked against the current state and stack, with its sensitive values restored.
    func restore(_ saved: SavedPlan) throws -> Plan {
        guard saved.plan.stack == stack.meta.name else { throw SavedPlanError.otherStack(saved.plan.stack) }
        guard saved.plan.stateRevision == state.revision else {
            throw SavedPlanError.stateMoved(planned: saved.plan.stateRevision, now: state.revision)
        }
        guard saved.inputsHash == inputsHash else { throw SavedPlanError.stackChanged }
        var plan = saved.plan
        let configs = Dictionary(uniqueKeysWithValues: desired.map { ($0.address, $0.config) })
        for i in plan.changes.indices where plan.changes[i].config != nil {
            plan.changes[i].config = configs[plan.changes[i].address]
        }
        return plan
    }
}

/// The state of a stack, read on a background thread; whoever uses it waits for it first.
final class StatePrefetch: @unchecked Sendable {
    private let done = DispatchGroup()
    private var stack: String?
    private var value: (StateStore, State)?

    func start(directory: String, stack: String) {
        self.stack = stack
        done.enter()
        Thread.detachNewThread { [self] in
            // Only an existing state directory: creating one is for the main path to do (and report).
            if FileManager.default.fileExists(atPath: directory), let store = try? StateStore(directory: directory, stack: stack),
               let state = try? store.load() {
                value = (store, state)
            }
            done.leave()
        }
    }

    /// The prefetched state if it was for this stack and could be read; nil sends the caller the usual way.
    func result(for name: String) -> (StateStore, State)? {
        guard let stack else { return nil }
        done.wait()
        return stack == name ? value : nil
    }
}
