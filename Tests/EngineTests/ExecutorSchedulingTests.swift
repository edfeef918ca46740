/// The executor's walk, measured with `local.null` `delay_ms` resources (a slow API): bounded parallelism,
/// each resource starts as soon as its own dependencies are done, and a chain costs its length, not more.

import XCTest

/// `count` independent `local.null` resources named r0…, each taking `delayMs` per call.
func independentStack(_ count: Int, delayMs: Int) -> String {
    var lines = ["stack: {name: sched}", "resources:"]
    for i in 0..<count { lines.append("  - {type: local.null, name: r\(i), properties: {delay_ms: \(delayMs)}}") }
    return lines.joined(separator: "\n")
}

/// A chain c0 ← c1 ← … where each link's triggers reference the previous one's id.
func chainStack(_ length: Int, delayMs: Int) -> String {
    var lines = ["stack: {name: sched}", "resources:", "  - {type: local.null, name: c0, properties: {delay_ms: \(delayMs)}}"]
    for i in 1..<length {
        lines.append("  - {type: local.null, name: c\(i), properties: {delay_ms: \(delayMs), triggers: {prev: \"${local.null.c\(i - 1).id}\"}}}")
    }
    return lines.joined(separator: "\n")
}

final class ExecutorSchedulingTests: EngineTestCase {
    /// Slack for a busy two-core CI machine; every bound below still separates the right schedule from the wrong one.
    let slack = 1.5

    func testNeverMoreThanNCallsInFlight() async throws {
        let log = CallLog()
        let applied = try await sandbox.apply(independentStack(12, delayMs: 50), parallelism: 3, log: log)
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(log.calls.count, 12)
        XCTAssertEqual(log.maxInFlight, 3, "the executor fills, and never exceeds, its 3 slots")
        XCTAssertEqual(try sandbox.recordedState("sched").resources.count, 12)
    }

    func testAResourceStartsAsSoonAsItsOwnDependenciesFinishNotWhenItsLayerDoes() async throws {
        // Layer 0 is {fast, slow}; layer 1 is {next}. `next` needs only `fast`, so it must not wait for `slow`.
        let log = CallLog()
        let applied = try await sandbox.apply("""
            stack: {name: sched}
            resources:
              - {type: local.null, name: fast, properties: {delay_ms: 50}}
              - {type: local.null, name: slow, properties: {delay_ms: 400}}
              - {type: local.null, name: next, properties: {delay_ms: 50, triggers: {after: "${local.null.fast.id}"}}}
            """, log: log)
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        let fast = try XCTUnwrap(log.call("create", "local.null.fast"))
        let slow = try XCTUnwrap(log.call("create", "local.null.slow"))
        let next = try XCTUnwrap(log.call("create", "local.null.next"))
        XCTAssertGreaterThanOrEqual(next.start, try XCTUnwrap(fast.end), "never before its dependency is done")
        XCTAssertLessThan(next.start, try XCTUnwrap(slow.end), "not held back by an unrelated slow resource")
        XCTAssertLessThan(next.start - (fast.end ?? 0), 0.2, "started right after its dependency finished")
    }

    func testAChainOfKResourcesTakesKTimesTheirDelay() async throws {
        let k = 5, delay = 0.1
        let log = CallLog()
        let applied = try await sandbox.apply(chainStack(k, delayMs: Int(delay * 1000)), parallelism: 10, log: log)
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(log.maxInFlight, 1, "a chain cannot run in parallel")
        XCTAssertEqual(log.changes, (0..<k).map { "create local.null.c\($0)" })
        let span = try span(of: log)
        XCTAssertGreaterThanOrEqual(span, Double(k) * delay)
        XCTAssertLessThan(span, Double(k) * delay + slack)
    }

    func testIndependentResourcesTakeTheirDelayTimesCountOverN() async throws {
        let count = 20, n = 10, delay = 0.1
        let log = CallLog()
        let applied = try await sandbox.apply(independentStack(count, delayMs: Int(delay * 1000)), parallelism: n, log: log)
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(log.maxInFlight, n)
        let span = try span(of: log)
        XCTAssertGreaterThanOrEqual(span, Double(count / n) * delay)
        XCTAssertLessThan(span, Double(count) * delay / 2, "about 2×D, nowhere near 20×D")
    }

    func testDeletesRunInReverseDependencyOrder() async throws {
        _ = try await sandbox.apply(chainStack(4, delayMs: 0))
        let log = CallLog()
        let destroyed = try await sandbox.destroy(chainStack(4, delayMs: 0), log: log)
        XCTAssertTrue(destroyed.succeeded, "\(destroyed.failures)")
        XCTAssertEqual(log.changes, ["delete local.null.c3", "delete local.null.c2", "delete local.null.c1", "delete local.null.c0"])
        let calls = log.calls
        for (later, earlier) in zip(calls.dropFirst(), calls) {
            XCTAssertGreaterThanOrEqual(later.start, earlier.end ?? .infinity, "\(later) waits for \(earlier)")
        }
    }

    /// From the first provider call's start to the last one's end.
    private func span(of log: CallLog) throws -> Double {
        let calls = log.calls
        let first = try XCTUnwrap(calls.map(\.start).min())
        let last = try XCTUnwrap(calls.compactMap(\.end).max())
        return last - first
    }
}
