/// Folds the journal of an interrupted run into state: finished actions are recorded, and each create that was announced
/// but never reported is looked up by its provider and adopted, or forgotten. A create whose provider cannot be asked now
/// (it is not configured) stays in the journal for a later run.

import Foundation
import ProviderKit
import StateStore

enum Recovery {
    /// Needs the stack's lock: while another live run holds it, its journal is its own.
    static func recover(store: StateStore, state: State, providers: [String: any Provider], holding lock: LockInfo?,
                        engine: Engine) async throws -> State {
        var recoveryLock: LockInfo?
        if lock == nil {
            guard let taken = try? store.acquireLock(operation: "recover", timeout: 0, warn: { engine.onNotice("Warning: \($0)") }) else {
                engine.onNotice("Note: another run holds the state lock; planning from the last committed state.")
                return state
            }
            recoveryLock = taken
        }
        defer { if let recoveryLock { store.releaseLock(recoveryLock) } }
        for file in try store.repository.removeLocksOfKilledRun() { engine.onNotice("Warning: removed \(file), left by the interrupted run") }
        let recorder = store.recorder(for: state)
        let pending = try await store.replayJournal(into: recorder)
        var adopted: [String] = []
        var kept: [StateStore.PendingIntent] = []
        for intent in pending {
            guard let provider = providers[intent.address.provider], !(provider is Unconfigured) else {
                kept.append(intent)
                continue
            }
            let context = ResourceContext(stack: store.stack, address: intent.address)
            if let found = try await provider.find(context, intent.config) {
                let key = Sensitive.key(lineage: state.meta.lineage, environment: engine.environment)
                let attributes = Sensitive.redact(found.attributes, schema: provider.schema.resources[intent.address.type], key: key)
                let record = ResourceRecord(address: intent.address, id: found.id, attributes: attributes, dependencies: intent.dependencies)
                try await recorder.record(record, change: .created)
                adopted.append(intent.address.description)
            }
        }
        if !kept.isEmpty { await recorder.carry(kept) }
        await recorder.sweepWorkTree()
        let commit = try await recorder.commit(verb: "recover", planID: "interrupted-run")
        engine.onNotice("Recovered an interrupted run from its journal\(commit.map { " (state commit \($0.prefix(12)))" } ?? "")"
                        + (adopted.isEmpty ? "." : "; adopted what it had created: \(adopted.joined(separator: ", ")).")
                        + " \(pending.count - adopted.count - kept.count) announced create(s) had not happened."
                        + (kept.isEmpty ? "" : " \(kept.count) wait in the journal for their provider: \(kept.map(\.address.description).joined(separator: ", "))."))
        return await recorder.state
    }
}
