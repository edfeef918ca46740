/// A stack opened against its state: the resources it wants, the providers configured for it, the recorded state and,
/// for a state-changing verb, the stack's lock. The verbs run on it; `close()` releases the lock.

import Checks
import Execution
import Expansion
import Foundation
import Planning
import ProviderKit
import StackModel
import StateStore

public struct StackSession: Sendable {
    let engine: Engine
    public let stack: Stack
    public let desired: [DesiredResource]
    public let providers: [String: any Provider]
    /// Providers that could not be configured, and why (pointing at the stack key).
    let unconfigured: [String: Diagnostic]
    public let store: StateStore
    public let state: State
    /// Held by state-changing verbs from before the state is read until `close()`.
    public let lock: LockInfo?

    public var name: String { stack.meta.name }

    /// Releases the lock; the caller shuts the providers down when its command ends (`shutdownProviders`).
    public func close() {
        if let lock { store.releaseLock(lock) }
    }

    public func shutdownProviders() async {
        for provider in providers.values { await provider.shutdown() }
    }

    public var secretKey: SecretKey { Sensitive.key(lineage: state.meta.lineage, environment: engine.environment) }

    /// The checklist findings for this stack; error-level ones block apply.
    public func checks(skip: [String] = []) -> [Diagnostic] {
        Checker.run(stack, skip: Set(skip))
    }

    // MARK: plan

    /// Refreshes (unless told not to), diffs and returns the plan. A plan that touches a provider which could not be
    /// configured is refused with that provider's problem, before anything is called.
    public func plan(_ options: PlanOptions = PlanOptions()) async -> PlanResult {
        var options = options
        options.secretKey = secretKey
        var result = await Planner.plan(stack: name, desired: desired, moves: stack.moved, state: state, providers: providers,
                                        options: options)
        result.plan?.refreshed = options.refresh
        if let plan = result.plan {
            let touched = Set(plan.changes.map(\.address.provider))
            let refused = unconfigured.filter { touched.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
            if !refused.isEmpty {
                result.plan = nil
                result.diagnostics = (result.diagnostics + refused).sortedByPosition()
            }
        }
        return result
    }

    // MARK: apply and destroy

    /// Executes `plan` with bounded parallelism, recording every finished action and committing the state.
    public func apply(_ plan: Plan, options: ApplyOptions = ApplyOptions(), cancellation: CancellationFlag = CancellationFlag()) async -> ApplyResult {
        var options = options
        options.secretKey = secretKey
        return await Executor.apply(plan, providers: providers, recorder: store.recorder(for: state), options: options,
                                    cancellation: cancellation)
    }

    /// What the providers' calls cost, by provider name, for the end of an apply.
    public var usage: [(provider: String, usage: String)] {
        providers.sorted { $0.key < $1.key }.compactMap { name, p in p.usage.map { (name, $0) } }
    }

    // MARK: refresh

    public struct RefreshReport: Sendable {
        /// The plan the refresh was read from; its changes' `drift` says what moved.
        public var plan: Plan
        /// Only the changes that drifted, with their action set to no-op (nothing is applied).
        public var drifted: [PlannedChange]
        public var commit: String?
    }

    /// Reads every managed resource and records what is really there.
    public func refresh(_ options: PlanOptions = PlanOptions()) async -> EngineResult<RefreshReport> {
        var options = options
        options.targets = []
        options.refresh = true
        let result = await plan(options)
        guard let plan = result.plan else { return .failed(result.diagnostics) }
        let drifted = plan.changes.filter { $0.drift.drifted }
        let recorder = store.recorder(for: state)
        do {
            for change in drifted {
                if let actual = change.before, !change.drift.deleted {
                    try await recorder.record(ResourceRecord(address: change.address, id: actual.id, attributes: actual.attributes,
                                                             dependencies: state.resources[change.address]?.dependencies ?? []),
                                              change: .updated)
                } else {
                    try await recorder.remove(change.address)
                }
            }
            let commit = try await recorder.commit(verb: "refresh", planID: plan.id, summary: "refresh \(name): \(drifted.count) drifted")
            let report = drifted.map { var c = $0; c.action = .noop; return c }
            return EngineResult(RefreshReport(plan: plan, drifted: report, commit: commit), diagnostics: result.diagnostics)
        } catch {
            return .failed(result.diagnostics + [.error("state-write-failed", "cannot record the refresh: \(error)", at: nil)])
        }
    }

    // MARK: import

    public struct ImportReport: Sendable {
        public var address: ResourceAddress
        public var id: String
        public var commit: String?
    }

    /// Adopts an existing object as the resource at `address`, which the stack must declare, without changing it.
    public func importResource(_ address: ResourceAddress, id: String) async -> EngineResult<ImportReport> {
        guard let resource = desired.first(where: { $0.address == address }) else {
            return .failed([.error("import-undeclared", "\(address) is not declared by the stack; declare it first, then import it", at: nil)])
        }
        if let recorded = state.resources[address] {
            return .failed([.error("import-managed", "\(address) is already managed (id \(recorded.id)); `maifctl state rm` it first to re-import",
                                   at: nil)])
        }
        if let problem = unconfigured[address.provider] { return .failed([problem]) }
        guard let provider = providers[address.provider] else {
            return .failed([.error("unknown-provider", "no provider named '\(address.provider)' for \(address)", at: resource.origin)])
        }
        do {
            let found = try await provider.importResource(ResourceContext(stack: name, address: address), id: id)
            let attributes = Sensitive.redact(found.attributes, schema: provider.schema.resources[address.type], key: secretKey)
            let recorder = store.recorder(for: state)
            try await recorder.record(ResourceRecord(address: address, id: found.id, attributes: attributes,
                                                     dependencies: resource.dependsOn.map(\.address)), change: .created)
            let commit = try await recorder.commit(verb: "import", planID: "import", summary: "import \(name): \(address) = \(found.id)")
            return EngineResult(ImportReport(address: address, id: found.id, commit: commit), diagnostics: [])
        } catch let error as ProviderError {
            return .failed([.error("import-failed", "\(error)", at: nil)])
        } catch {
            return .failed([.error("import-failed", "\(address): import failed: \(error)", at: nil)])
        }
    }
}
