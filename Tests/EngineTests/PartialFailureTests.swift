/// A failing provider call (`local.null` with `fail: true`): what depends on it is skipped, independent work
/// finishes, state records exactly what happened, and the next apply after the fix finishes the job.

import Execution
import XCTest

final class PartialFailureTests: EngineTestCase {
    /// `broken` fails when `fail` is true; `child` and `grandchild` hang off it; `left` and `right` do not.
    func stack(fail: Bool) -> String {
        """
        stack: {name: partial}
        resources:
          - {type: local.null, name: broken, properties: {fail: \(fail), delay_ms: 20}}
          - {type: local.null, name: child, properties: {triggers: {parent: "${local.null.broken.id}"}}}
          - {type: local.null, name: grandchild, depends_on: [local.null.child]}
          - {type: local.null, name: left, properties: {delay_ms: 60}}
          - {type: local.null, name: right, depends_on: [local.null.left]}
        """
    }

    func testDependentsAreSkippedIndependentsAppliedAndStateRecordsExactlyTheSuccesses() async throws {
        let log = CallLog()
        let applied = try await sandbox.apply(stack(fail: true), log: log)
        let result = try XCTUnwrap(applied.result, "there was work to do")

        XCTAssertFalse(result.succeeded)
        XCTAssertEqual(result.failures.map(\.address.description), ["local.null.broken"])
        let message = try XCTUnwrap(result.failures.first?.message)
        XCTAssertTrue(message.contains("local.null.broken") && message.contains("create"), "names the resource and the call: \(message)")
        XCTAssertEqual(result.skipped.map(\.description), ["local.null.child", "local.null.grandchild"])
        XCTAssertEqual(result.completedActions, ["local.null.left": .create, "local.null.right": .create],
                       "independent work finishes, even what started after the failure")
        XCTAssertNil(log.call("create", "local.null.child"), "a skipped resource is never sent to the provider")

        let recorded = try sandbox.recordedState("partial")
        XCTAssertEqual(recorded.addresses, ["local.null.left", "local.null.right"])
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["apply partial: +2 ~0 -0"], "what happened is committed")
        XCTAssertEqual(try sandbox.git(["status", "--porcelain"]), "")
    }

    func testASecondApplyAfterTheFixFinishesTheJobWithOnlyTheRemainingCreates() async throws {
        _ = try await sandbox.apply(stack(fail: true))
        let idsBefore = try sandbox.recordedState("partial").resources.mapValues(\.id)

        let log = CallLog()
        let fixed = try await sandbox.apply(stack(fail: false), log: log)
        XCTAssertEqual(fixed.plan.pendingActions, [
            "local.null.broken": .create, "local.null.child": .create, "local.null.grandchild": .create,
        ])
        XCTAssertTrue(fixed.succeeded, "\(fixed.failures)")
        XCTAssertEqual(Set(log.changes), ["create local.null.broken", "create local.null.child", "create local.null.grandchild"])

        let recorded = try sandbox.recordedState("partial")
        XCTAssertEqual(recorded.addresses,
                       ["local.null.broken", "local.null.child", "local.null.grandchild", "local.null.left", "local.null.right"])
        for (address, id) in idsBefore { XCTAssertEqual(recorded.resources[address]?.id, id, "\(address) was left alone") }
        XCTAssertEqual(recorded.record("local.null.child")?.attributes["triggers"]?.mapValue?["parent"],
                       recorded.record("local.null.broken").map { .string($0.id) })
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["apply partial: +3 ~0 -0", "apply partial: +2 ~0 -0"])
        let converged = try await sandbox.plan(stack(fail: false))
        XCTAssertEqual(converged.plan?.pendingActions, [:])
    }

    func testAFailedUpdateKeepsTheRecordedResourceAsItWas() async throws {
        let versioned = { (fail: Bool, delay: Int) in """
            stack: {name: partial}
            resources:
              - {type: local.null, name: api, properties: {fail: \(fail), delay_ms: \(delay)}}
            """
        }
        _ = try await sandbox.apply(versioned(false, 0))
        let before = try sandbox.recordedState("partial").record("local.null.api")

        let applied = try await sandbox.apply(versioned(true, 1))
        XCTAssertEqual(applied.plan.pendingActions, ["local.null.api": .update])
        XCTAssertEqual(applied.failures.first?.message.contains("update"), true, "\(applied.failures)")
        XCTAssertEqual(try sandbox.recordedState("partial").record("local.null.api"), before)
        XCTAssertNil(applied.commit, "nothing changed, nothing committed")
    }

    func testAnInterruptionStartsNothingNewLetsCallsInFlightFinishAndRecordsThem() async throws {
        let yaml = independentStack(6, delayMs: 100)
        let log = CallLog()
        let (session, _) = try await sandbox.open(yaml, lock: "apply", log: log)
        let planned = await session.plan()
        let plan = try XCTUnwrap(planned.plan)
        let interrupt = CancellationFlag()
        var options = ApplyOptions()
        options.parallelism = 2
        options.onEvent = { event in
            if case .finished = event { interrupt.cancel() }
        }
        let result = await session.apply(plan, options: options, cancellation: interrupt)
        session.close()

        XCTAssertTrue(result.interrupted)
        XCTAssertFalse(result.succeeded)
        XCTAssertEqual(log.calls.count, 2, "only what was in flight when Ctrl-C came: \(log.changes)")
        XCTAssertTrue(log.calls.allSatisfy { $0.end != nil && !$0.failed }, "calls in flight were allowed to finish")
        XCTAssertEqual(result.completed.count, 2)
        XCTAssertEqual(try sandbox.recordedState("sched").resources.count, 2, "what finished is in state")
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["apply sched: +2 ~0 -0"])

        let resumed = try await sandbox.apply(yaml)
        XCTAssertEqual(resumed.plan.summary.create, 4, "the next apply does the rest")
        XCTAssertTrue(resumed.succeeded, "\(resumed.failures)")
    }
}
