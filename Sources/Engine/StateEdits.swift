/// Edits of the state that touch no resource (`state mv`, `state rm`), under the stack's lock.

import Foundation
import StateStore

public struct StateEditError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

extension Engine {
    /// Runs `body` holding the stack's lock, with the state as recorded. A journal left by a crashed run is folded in first
    /// (finished actions), and the creates it announced stay in the journal for the next plan or apply, which has the
    /// providers to look them up.
    public func withLockedState(_ store: StateStore, operation: String,
                                _ body: (StateRecorder, State) async throws -> Void) async throws {
        let lock = try store.acquireLock(operation: operation, timeout: 0) { onNotice("Warning: \($0)") }
        defer { store.releaseLock(lock) }
        try store.checkRemote(notice: { onNotice("Note: \($0)") })
        let recorder = store.recorder(for: try store.load())
        if store.hasJournal {
            for file in try store.repository.removeLocksOfKilledRun() { onNotice("Warning: removed \(file), left by the interrupted run") }
            await recorder.carry(try await store.replayJournal(into: recorder))
            await recorder.sweepWorkTree()
        }
        try await body(recorder, await recorder.state)
    }
}
