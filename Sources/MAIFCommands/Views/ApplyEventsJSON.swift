/// `apply --json` / `destroy --json`: one JSON object per line on stdout, as the run goes. The schema is versioned and
/// published as docs/apply-events.schema.json; every event has `format_version`, `type` and `time`.
///
///   plan               the plan about to be applied: its summary, the number of steps, each change's address and action
///   diagnostic         a check finding or a problem that stopped the run, with its code and place
///   resource_started   a step began (address, resource type, action)
///   resource_progress  still running after a while (elapsed_seconds)
///   resource_finished  done (elapsed_seconds, the provider's id)
///   resource_failed    the provider's error (elapsed_seconds, error)
///   resource_skipped   not started because what it depends on failed (because)
///   summary            the end: status, counts, elapsed seconds, the state commit, the errors

import Execution
import Foundation
import Planning
import ProviderKit
import StackModel

final class ApplyEventsJSON: @unchecked Sendable {
    static let formatVersion = "1"
    private let lock = NSLock()
    private let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    /// Writes one event line (callers on any thread; lines never interleave).
    func emit(_ type: String, _ fields: [String: AttributeValue]) {
        var event = fields
        event["format_version"] = .string(Self.formatVersion)
        event["type"] = .string(type)
        lock.withLock {
            event["time"] = .string(formatter.string(from: Date()))
            let line = AttributeValue.map(event).canonicalJSON(indent: nil) + "\n"
            Swift.print(line, terminator: "")
            fflush(nil)
        }
    }

    func plan(_ plan: Plan, operation: String, saved: Bool) {
        let s = plan.summary
        emit("plan", [
            "operation": .string(operation),
            "stack": .string(plan.stack),
            "plan_id": .string(plan.id),
            "state_revision": plan.stateRevision.map { .string($0) } ?? .null,
            "saved_plan": .bool(saved),
            "summary": .map(["create": .int(Int64(s.create)), "update": .int(Int64(s.update)),
                             "replace": .int(Int64(s.replace)), "delete": .int(Int64(s.delete))]),
            "steps": .int(Int64(Executor.stepCount(plan))),
            "changes": .list(plan.changes.filter { $0.action != .noop }.map {
                .map(["address": .string($0.address.description), "action": .string($0.action.rawValue)])
            }),
        ])
    }

    func diagnostic(_ d: Diagnostic) {
        emit("diagnostic", [
            "severity": .string(d.severity.rawValue), "code": .string(d.code), "message": .string(d.message),
            "hint": d.hint.map { .string($0) } ?? .null,
            "file": d.location.map { .string($0.file) } ?? .null,
            "line": d.location.map { .int(Int64($0.line)) } ?? .null,
            "column": d.location.map { .int(Int64($0.column)) } ?? .null,
        ])
    }

    /// An error that stopped the run before or around the apply (not a resource's): reported as an error diagnostic.
    func error(_ code: String, _ message: String) { diagnostic(.error(code, message, at: nil)) }

    func event(_ event: ApplyEvent) {
        switch event {
        case let .started(address, action):
            emit("resource_started", ["address": .string(address.description), "resource_type": .string(address.type),
                                      "action": .string(action.rawValue)])
        case let .stillRunning(address, action, seconds):
            emit("resource_progress", ["address": .string(address.description), "action": .string(action.rawValue),
                                       "elapsed_seconds": .double(Self.round(seconds))])
        case let .finished(address, action, seconds, id):
            emit("resource_finished", ["address": .string(address.description), "action": .string(action.rawValue),
                                       "elapsed_seconds": .double(Self.round(seconds)), "id": id.map { .string($0) } ?? .null])
        case let .failed(address, action, seconds, message):
            emit("resource_failed", ["address": .string(address.description), "action": .string(action.rawValue),
                                     "elapsed_seconds": .double(Self.round(seconds)), "error": .string(message)])
        case let .skipped(address, action, because):
            emit("resource_skipped", ["address": .string(address.description), "action": .string(action.rawValue),
                                      "because": .string(because.description)])
        }
    }

    enum Status: String { case succeeded, failed, interrupted, noChanges = "no_changes", refused }

    struct Counts {
        var added = 0, changed = 0, destroyed = 0, failed = 0, skipped = 0
    }

    func summary(_ status: Status, counts: Counts = Counts(), elapsed: Double, commit: String?, errors: [String]) {
        emit("summary", [
            "status": .string(status.rawValue),
            "added": .int(Int64(counts.added)), "changed": .int(Int64(counts.changed)), "destroyed": .int(Int64(counts.destroyed)),
            "failed": .int(Int64(counts.failed)), "skipped": .int(Int64(counts.skipped)),
            "elapsed_seconds": .double(Self.round(elapsed)),
            "state_commit": commit.map { .string($0) } ?? .null,
            "errors": .list(errors.map { .string($0) }),
        ])
    }

    static func round(_ s: Double) -> Double { (s * 1000).rounded() / 1000 }
}
