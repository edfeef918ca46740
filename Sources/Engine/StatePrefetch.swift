/// The state of a stack, read on a background thread while the stack is decoded; whoever uses it waits for it first.

import Foundation
import StateStore

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
