/// `moved:` renames a recorded resource: the new address takes over the old record, with no destroy and no create.

import XCTest

final class MoveTests: EngineTestCase {
    func testAMovedResourceIsRenamedWithoutDestroyOrCreate() async throws {
        _ = try await sandbox.apply("""
            stack: {name: moves}
            resources:
              - {type: local.null, name: old, properties: {triggers: {v: 1}}}
            """)
        let id = try XCTUnwrap(sandbox.recordedState("moves").record("local.null.old")?.id)
        let renamed = """
            stack: {name: moves}
            resources:
              - {type: local.null, name: new, properties: {triggers: {v: 1}}}
            moved:
              - {from: local.null.old, to: local.null.new}
            """

        let log = CallLog()
        let applied = try await sandbox.apply(renamed, log: log)
        XCTAssertEqual(applied.plan.moves.map { "\($0.from) → \($0.to)" }, ["local.null.old → local.null.new"])
        XCTAssertEqual(applied.plan.pendingActions, [:], "no create, no delete")
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(log.changes, [], "the provider is not called")

        let recorded = try sandbox.recordedState("moves")
        XCTAssertEqual(recorded.addresses, ["local.null.new"])
        XCTAssertEqual(recorded.record("local.null.new")?.id, id, "the same object, under its new name")
        let renames = try sandbox.gitLines(["show", "--name-status", "--format=", "-M", "HEAD"]).filter { $0.contains("resources/") }
        XCTAssertEqual(renames.map { String($0.prefix(1) + $0.drop(while: { $0 != "\t" })) },
                       ["R\tmoves/resources/local/null/old.json\tmoves/resources/local/null/new.json"], "git sees a rename")
        XCTAssertFalse(try sandbox.git(["log", "-1", "--format=%s"]).hasSuffix("-1"), "a rename destroys nothing")

        let again = try await sandbox.plan(renamed)
        XCTAssertEqual(again.plan?.pendingActions, [:])
        XCTAssertEqual(again.plan?.moves.count, 0, "the move is done; keeping the entry is harmless")
    }

    func testAMoveAndAChangeTogetherUpdateTheRenamedResource() async throws {
        _ = try await sandbox.apply("""
            stack: {name: moves}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.file, name: old, properties: {path: motd, content: one}}
            """)
        let applied = try await sandbox.apply("""
            stack: {name: moves}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.file, name: new, properties: {path: motd, content: two}}
            moved:
              - {from: local.file.old, to: local.file.new}
            """)
        XCTAssertEqual(applied.plan.pendingActions, ["local.file.new": .update])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(sandbox.contents("deploy/motd"), "two")
        XCTAssertEqual(try sandbox.recordedState("moves").addresses, ["local.file.new"])
    }
}
