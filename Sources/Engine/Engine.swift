/// The engine owns the verbs: it opens a stack (its files, its state directory and the providers it needs), and plans,
/// applies, destroys, refreshes, imports and recovers. Every verb returns values plus diagnostics and prints nothing;
/// what a person may want to know while it works (waiting for a lock, an interrupted run recovered) goes to `onNotice`.
/// The engine names no cloud: providers come from the registry, each with its own settings schema.

import Expansion
import Foundation
import ProviderKit
import StackLoader
import StackModel
import StateStore

/// A value and the diagnostics that came with it; `value` is nil when an error stopped the verb.
public struct EngineResult<Value: Sendable>: Sendable {
    public var value: Value?
    public var diagnostics: [Diagnostic]

    public init(_ value: Value?, diagnostics: [Diagnostic]) {
        self.value = value
        self.diagnostics = diagnostics
    }

    public static func failed(_ diagnostics: [Diagnostic]) -> EngineResult { EngineResult(nil, diagnostics: diagnostics) }
}

/// The stack files to open (merged in order) and `--var` overrides; `texts` stand in for files in tests and embedders.
public struct StackSource: Sendable {
    public var files: [String]
    public var texts: [(name: String, text: String)]
    public var variables: [String: String]

    public init(files: [String], variables: [String: String] = [:]) {
        self.files = files
        self.texts = []
        self.variables = variables
    }

    public init(texts: [(name: String, text: String)], variables: [String: String] = [:]) {
        self.files = texts.map(\.name)
        self.texts = texts
        self.variables = variables
    }
}

/// A state-changing verb takes the stack's lock before it reads the state.
public struct LockRequest: Sendable {
    /// What the lock says the holder is doing: apply, destroy, refresh, import.
    public var operation: String
    /// Seconds to wait for another run's lock.
    public var timeout: Double

    public init(operation: String, timeout: Double = 0) {
        self.operation = operation
        self.timeout = timeout
    }
}

public struct Engine: Sendable {
    public var registry: ProviderRegistry
    public var environment: [String: String]
    /// Relative paths of the stack (provider roots, key files) resolve here.
    public var workingDirectory: String
    public var onNotice: @Sendable (String) -> Void

    public init(registry: ProviderRegistry, environment: [String: String] = ProcessInfo.processInfo.environment,
                workingDirectory: String = FileManager.default.currentDirectoryPath,
                onNotice: @escaping @Sendable (String) -> Void = { _ in }) {
        self.registry = registry
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.onNotice = onNotice
    }

    /// Loads and checks the stack files, `clouds` against the providers' settings schemas.
    public func load(_ source: StackSource, onStackName: (@Sendable (String) -> Void)? = nil) -> LoadResult {
        var options = LoadOptions(variables: source.variables, environment: environment, settingsSchemas: registry.settingsSchemas)
        options.onStackName = onStackName
        if !source.texts.isEmpty { return StackLoader.load(sources: source.texts, options: options) }
        return StackLoader.load(files: source.files, options: options)
    }

    /// Loads, expands and checks the stack: what `validate` and `graph` need, without state or providers.
    public func expand(_ source: StackSource) -> EngineResult<ExpandedStack> {
        let loaded = load(source)
        guard let stack = loaded.stack else { return .failed(loaded.diagnostics) }
        let expansion = Expander.expand(stack)
        let diagnostics = loaded.diagnostics + expansion.diagnostics
        if expansion.diagnostics.hasErrors { return .failed(diagnostics.sortedByPosition()) }
        return EngineResult(ExpandedStack(stack: stack, desired: expansion.resources), diagnostics: diagnostics)
    }

    /// Opens the stack against its state: loads and expands it, configures the providers it needs, takes the lock when
    /// asked, and folds in the journal of an interrupted run.
    public func open(_ source: StackSource, stateDirectory: String, lock request: LockRequest? = nil) async -> EngineResult<StackSession> {
        // A read-only run reads the state on another thread while the stack is still being decoded.
        let prefetch = StatePrefetch()
        var onStackName: (@Sendable (String) -> Void)?
        if request == nil { onStackName = { name in prefetch.start(directory: stateDirectory, stack: name) } }
        let loaded = load(source, onStackName: onStackName)
        var diagnostics = loaded.diagnostics
        guard let stack = loaded.stack else { return .failed(diagnostics) }
        let expansion = Expander.expand(stack)
        diagnostics += expansion.diagnostics
        if expansion.diagnostics.hasErrors { return .failed(diagnostics.sortedByPosition()) }
        do {
            let (store, recorded): (StateStore, State)
            var lock: LockInfo?
            if request == nil, let prefetched = prefetch.result(for: stack.meta.name), !prefetched.0.hasJournal {
                (store, recorded) = prefetched
            } else {
                store = try StateStore(directory: stateDirectory, stack: stack.meta.name)
                if let request {
                    do {
                        lock = try store.acquireLock(operation: request.operation, timeout: request.timeout) { onNotice("Warning: \($0)") }
                    } catch let error as LockError {
                        return .failed(diagnostics + [.error("state-locked", "\(error)", at: nil)])
                    }
                }
                do {
                    if lock != nil { try store.checkRemote(notice: { onNotice("Note: \($0)") }) }
                    recorded = try store.load()
                } catch {
                    if let lock { store.releaseLock(lock) }
                    throw error
                }
            }
            var needed: Set<String> = []
            for resource in expansion.resources { needed.insert(resource.address.provider) }
            for address in recorded.resources.keys { needed.insert(address.provider) }
            let setup = ProviderSetup.configure(stack: stack, needed: needed, engine: self)
            diagnostics += setup.diagnostics
            var state = recorded
            if store.hasJournal {
                do {
                    state = try await Recovery.recover(store: store, state: state, providers: setup.providers, holding: lock, engine: self)
                } catch {
                    if let lock { store.releaseLock(lock) }
                    await setup.shutdown()
                    throw error
                }
            }
            let session = StackSession(engine: self, stack: stack, desired: expansion.resources, providers: setup.providers,
                                       unconfigured: setup.unconfigured, store: store, state: state, lock: lock)
            return EngineResult(session, diagnostics: diagnostics)
        } catch let error as StateError {
            return .failed(diagnostics + [.error("state-error", "\(error)", at: nil)])
        } catch {
            return .failed(diagnostics + [.error("state-unavailable", "cannot open state in \(stateDirectory): \(error)",
                                                 hint: "--state DIR names the state directory (a git repository, created if missing)", at: nil)])
        }
    }
}

/// A stack loaded and expanded into the resources it wants.
public struct ExpandedStack: Sendable {
    public var stack: Stack
    public var desired: [DesiredResource]
}
