/// Measurement instrumentation around the real local provider: every call is recorded with when it
/// started and ended, and how many calls were in flight at once. The provider's behaviour is untouched.

import Foundation
import ProviderKit

final class CallLog: @unchecked Sendable {
    struct Call: Sendable, CustomStringConvertible {
        var name: String
        var address: String
        /// Seconds since the log was created.
        var start: Double
        var end: Double?
        var failed = false

        var description: String { "\(name) \(address)" }
    }

    private let lock = NSLock()
    private let epoch = Date()
    private var entries: [Call] = []
    private var running = 0
    private var peak = 0

    var calls: [Call] { lock.withLock { entries } }
    /// The most calls that were ever running at the same moment.
    var maxInFlight: Int { lock.withLock { peak } }

    /// `create local.null.a`, … in the order the calls started; reads (refresh) left out.
    var changes: [String] { calls.filter { $0.name != "read" }.map(\.description) }

    /// Forgets what was recorded so far (the plan's reads, when only the apply is measured).
    func reset() {
        lock.withLock {
            entries = []
            peak = running
        }
    }

    func call(_ name: String, _ address: String) -> Call? {
        calls.first { $0.name == name && $0.address == address }
    }

    func measure<T: Sendable>(_ name: String, _ address: ResourceAddress, _ body: () async throws -> T) async throws -> T {
        let index = lock.withLock {
            running += 1
            peak = max(peak, running)
            entries.append(Call(name: name, address: address.description, start: Date().timeIntervalSince(epoch)))
            return entries.count - 1
        }
        do {
            let value = try await body()
            finish(index, failed: false)
            return value
        } catch {
            finish(index, failed: true)
            throw error
        }
    }

    private func finish(_ index: Int, failed: Bool) {
        lock.withLock {
            running -= 1
            entries[index].end = Date().timeIntervalSince(epoch)
            entries[index].failed = failed
        }
    }
}

struct RecordingProvider: Provider {
    let inner: any Provider
    let log: CallLog

    var schema: ProviderSchema { inner.schema }

    func plan(_ request: PlanRequest) async throws -> PlanResponse {
        try await inner.plan(request)
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await log.measure("create", context.address) { try await inner.create(context, config) }
    }

    func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await log.measure("read", context.address) { try await inner.read(context, prior) }
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await log.measure("update", context.address) { try await inner.update(context, prior, config) }
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await log.measure("delete", context.address) { try await inner.delete(context, prior) }
    }

    func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        try await log.measure("import", context.address) { try await inner.importResource(context, id: id) }
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await log.measure("find", context.address) { try await inner.find(context, config) }
    }
}
