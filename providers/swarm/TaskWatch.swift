/// The bounded wait after a service create or update: polls the service and its tasks until as many tasks run the
/// service's current spec as it wants, and fails early with the tasks' own errors (`No such image: …`) when they keep failing, or when
/// swarm rolls the update back. The verdict is a pure function of what Docker reported (`TaskProgress`).

import Foundation
import ProviderKit

struct TaskWatch {
    let docker: DockerClient
    /// Seconds; 0 returns at once.
    let timeout: Double
    var pollInterval: Double = 0.5

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func waitUntilRunning(service id: String, name: String) async throws {
        guard timeout > 0 else { return }
        let deadline = Date().addingTimeInterval(timeout)
        var since: DockerTime?
        while true {
            guard let service = try await docker.optional("ServiceInspect", "/services/\(id)")?.mapValue else {
                throw Failure(description: "\(name) disappeared while waiting for its tasks")
            }
            // The tasks of this change are those created since the spec last changed.
            since = since ?? DockerTime(service["UpdatedAt"]?.stringValue ?? "")
            let tasks = try await taskList(service: id)
            let current = Set(try await taskList(service: id, upToDate: true).compactMap { $0.mapValue?["ID"]?.stringValue })
            let progress = TaskProgress(service: service, tasks: tasks, current: current, since: since)
            switch progress.verdict {
            case .running: return
            case .failed(let why): throw Failure(description: "\(name): \(why)")
            case .waiting:
                if Date() >= deadline {
                    throw Failure(description: "\(name): \(progress.summary) after waiting \(Self.seconds(timeout)) (clouds.swarm.wait_for_running)")
                }
            }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
    }

    /// The service's tasks; with `upToDate`, only those that run its current spec. `_up-to-date` is the filter the
    /// docker CLI itself polls while `docker service update` waits: it is what tells a task the orchestrator has not
    /// replaced yet from one that already runs the change, since the service's `UpdateStatus` still says `completed`
    /// (the previous update's) until the orchestrator picks the new spec up.
    private func taskList(service id: String, upToDate: Bool = false) async throws -> [AttributeValue] {
        var filters: [String: AttributeValue] = ["service": .list([.string(id)])]
        if upToDate { filters["_up-to-date"] = .list(["true"]) }
        return try await docker.call("TaskList", .GET, "/tasks", query: [
            ("filters", AttributeValue.map(filters).canonicalJSON(indent: nil)),
        ]).json.listValue ?? []
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }
}

/// Docker's RFC 3339 timestamps with a varying number of fraction digits, comparable.
struct DockerTime: Comparable {
    var wholeSeconds: String
    var fraction: Double

    /// `2026-11-27T11:00:37.546425697Z`; nil for anything else.
    init?(_ text: String) {
        guard text.hasSuffix("Z"), text.count >= 20 else { return nil }
        let body = text.dropLast()
        if let dot = body.firstIndex(of: ".") {
            wholeSeconds = String(body[..<dot])
            fraction = Double("0" + body[dot...]) ?? 0
        } else {
            wholeSeconds = String(body)
            fraction = 0
        }
        guard wholeSeconds.count == 19 else { return nil }
    }

    static func < (a: DockerTime, b: DockerTime) -> Bool {
        a.wholeSeconds != b.wholeSeconds ? a.wholeSeconds < b.wholeSeconds : a.fraction < b.fraction
    }
}

/// Where a service's tasks stand.
struct TaskProgress {
    enum Verdict: Equatable { case running, waiting, failed(String) }

    var wanted: Int
    var running: Int
    var verdict: Verdict
    /// What the tasks that do not run are doing, e.g. `pending: no suitable node (…) ×2`.
    var notRunning: [String]
    var failures: [String]

    /// `current` holds the IDs of the tasks that run the service's current spec (nil: take every task for current).
    init(service: [String: AttributeValue], tasks: [AttributeValue], current: Set<String>? = nil, since: DockerTime?) {
        let all = tasks.compactMap(\.mapValue)
        let wantedToRun = all.filter { $0["DesiredState"]?.stringValue == "running" }
        let isCurrent = { (t: [String: AttributeValue]) in current.map { $0.contains(t["ID"]?.stringValue ?? "") } ?? true }
        let state = { (t: [String: AttributeValue]) in t["Status"]?.mapValue?["State"]?.stringValue ?? "unknown" }
        let why = { (t: [String: AttributeValue]) -> String in
            let status = t["Status"]?.mapValue ?? [:]
            let err = status["Err"]?.stringValue ?? ""
            return err.isEmpty ? (status["Message"]?.stringValue ?? "") : err
        }
        let replicas = service["Spec"]?.mapValue?["Mode"]?.mapValue?["Replicated"]?.mapValue?["Replicas"]?.intValue
        wanted = replicas.map(Int.init) ?? wantedToRun.count
        running = wantedToRun.filter { state($0) == "running" && isCurrent($0) }.count
        notRunning = Self.grouped(wantedToRun.filter { state($0) != "running" }.map { "\(state($0)): \(why($0))" }
            + wantedToRun.filter { state($0) == "running" && !isCurrent($0) }.map { _ in "running the previous spec" })
        let recent = all.filter { task in
            guard let since else { return true }
            return DockerTime(task["CreatedAt"]?.stringValue ?? "").map { $0 >= since } ?? true
        }
        let failed = recent.filter { ["failed", "rejected"].contains(state($0)) }
        failures = Self.grouped(failed.map { "\(why($0)) (\(state($0)))" })

        let update = service["UpdateStatus"]?.mapValue
        let updateState = update?["State"]?.stringValue
        if updateState == "rollback_started" {
            // Swarm is putting the previous spec back: wait for it to finish, so that when apply reports the failed
            // update the service already runs what it ran before.
            verdict = .waiting
        } else if let updateState, ["rollback_completed", "rollback_paused", "paused"].contains(updateState) {
            let message = update?["Message"]?.stringValue ?? updateState
            verdict = .failed("the update did not take (\(updateState.replacingOccurrences(of: "_", with: " ")): \(message))"
                + (failures.isEmpty ? "" : "; task errors: " + failures.joined(separator: "; ")))
        } else if running >= wanted, running == wantedToRun.count, updateState == nil || updateState == "completed" {
            verdict = .running
        } else if failed.count > wanted, running < wanted {
            // Swarm retries failed tasks for ever; a second round of failures is an answer.
            verdict = .failed("\(running) of \(wanted) tasks running; task errors: " + failures.joined(separator: "; "))
        } else {
            verdict = .waiting
        }
    }

    var summary: String {
        var text = "\(running) of \(wanted) tasks running"
        if !notRunning.isEmpty { text += "; " + notRunning.joined(separator: "; ") }
        if !failures.isEmpty { text += "; task errors: " + failures.joined(separator: "; ") }
        return text
    }

    /// Equal lines once each, in first-seen order, with a count when repeated.
    static func grouped(_ lines: [String]) -> [String] {
        var order: [String] = [], counts: [String: Int] = [:]
        for line in lines {
            if counts[line] == nil { order.append(line) }
            counts[line, default: 0] += 1
        }
        return order.map { counts[$0]! > 1 ? "\($0) ×\(counts[$0]!)" : $0 }
    }
}
