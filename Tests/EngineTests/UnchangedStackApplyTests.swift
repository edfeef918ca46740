/// The executor given a plan with nothing to do — a library caller need not check `hasChanges` first:
/// it finishes, commits nothing, and leaves no journal behind, however often it is run.

import Execution
import XCTest

final class UnchangedStackApplyTests: EngineTestCase {
    func testExecutingAPlanWithNothingToDoCommitsNothingAndLeavesNoJournal() async throws {
        let yaml = """
            stack: {name: unchanged}
            resources:
              - {type: local.null, name: a}
              - {type: local.null, name: b, depends_on: [local.null.a]}
            """
        let first = try await sandbox.apply(yaml)

        for round in 1...20 {
            let (session, _) = try await sandbox.open(yaml, lock: "apply")
            defer { session.close() }
            let planned = await session.plan()
            let plan = try XCTUnwrap(planned.plan)
            XCTAssertFalse(plan.hasChanges)
            let result = await session.apply(plan)
            XCTAssertTrue(result.succeeded, "round \(round): \(result.failures)")
            XCTAssertNil(result.commit, "round \(round)")
            XCTAssertEqual(result.completed.count, 0)
        }
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%H"]), [first.commit].compactMap { $0 })
        XCTAssertFalse(sandbox.exists("state/unchanged/journal.jsonl"))
        XCTAssertEqual(try sandbox.git(["status", "--porcelain"]), "")
    }
}
