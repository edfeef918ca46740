/// The state repository reads like a code review: one commit per apply with a summary and trailers,
/// one canonical file per resource, no commit when nothing changed, and a one-line diff for a one-value change.

import XCTest

final class GitReviewTests: EngineTestCase {
    func stack(motd: String = "hello") -> String {
        """
        stack: {name: review}
        clouds: {local: {root: deploy}}
        resources:
          - {type: local.file, name: motd, properties: {path: etc/motd, content: \(motd)}}
          - {type: local.file, name: issue, properties: {path: etc/issue, content: welcome}}
          - {type: local.null, name: marker, properties: {triggers: {motd: "${local.file.motd.id}"}}}
        """
    }

    func testOneCommitPerApplyWithASummaryAndTrailers() async throws {
        let applied = try await sandbox.apply(stack())
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")

        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["apply review: +3 ~0 -0"])
        XCTAssertEqual(try sandbox.git(["rev-parse", "HEAD"]), applied.commit)
        XCTAssertEqual(try sandbox.git(["log", "-1", "--format=%(trailers:key=Plan-Id,valueonly)"]), applied.plan.id)
        XCTAssertEqual(try sandbox.git(["log", "-1", "--format=%(trailers:key=Serial,valueonly)"]), "1")
        XCTAssertEqual(try sandbox.git(["status", "--porcelain"]), "", "the work tree is exactly the commit")
    }

    func testOneCanonicalFilePerResource() async throws {
        _ = try await sandbox.apply(stack())
        let committed = try sandbox.gitLines(["show", "--name-only", "--format=", "HEAD"])
        XCTAssertEqual(committed.filter { !$0.hasPrefix("review/") }, [], "nothing outside the stack's folder")
        XCTAssertEqual(committed.filter { $0.hasPrefix("review/") }, [
            "review/.gitignore",
            "review/meta.json",
            "review/outputs.json",
            "review/resources/local/file/issue.json",
            "review/resources/local/file/motd.json",
            "review/resources/local/null/marker.json",
        ])
        let motd = try sandbox.git(["show", "HEAD:review/resources/local/file/motd.json"])
        XCTAssertEqual(motd, """
            {
              "address": "local.file.motd",
              "attributes": {
                "content": "hello",
                "id": "etc/motd",
                "path": "etc/motd"
              },
              "dependencies": [],
              "id": "etc/motd",
              "schema_version": 1
            }
            """)
        let marker = try sandbox.git(["show", "HEAD:review/resources/local/null/marker.json"])
        XCTAssertTrue(marker.contains("\"local.file.motd\""), "dependencies are recorded for deletes: \(marker)")
    }

    func testANoOpApplyMakesNoCommit() async throws {
        let first = try await sandbox.apply(stack())
        let second = try await sandbox.apply(stack())
        XCTAssertEqual(second.plan.pendingActions, [:])
        XCTAssertTrue(second.succeeded)
        XCTAssertNil(second.commit)
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%H"]), [first.commit].compactMap { $0 })
    }

    func testChangingOneResourceChangesExactlyItsFileAndTheSerial() async throws {
        _ = try await sandbox.apply(stack(motd: "hello"))
        let applied = try await sandbox.apply(stack(motd: "goodbye"))
        XCTAssertEqual(applied.plan.pendingActions, ["local.file.motd": .update], "the marker refers to the id, which is unchanged")
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["apply review: +0 ~1 -0", "apply review: +3 ~0 -0"])
        XCTAssertEqual(try sandbox.git(["log", "-1", "--format=%(trailers:key=Serial,valueonly)"]), "2")

        let stat = try sandbox.gitLines(["show", "--stat=200", "--format=", "HEAD"])
        XCTAssertEqual(stat.count, 3, "two files and the summary line: \(stat)")
        XCTAssertTrue(stat[0].contains("review/meta.json"), stat[0])
        XCTAssertTrue(stat[1].contains("review/resources/local/file/motd.json"), stat[1])
        XCTAssertTrue(stat[2].contains("2 files changed"), stat[2])

        let diff = try sandbox.gitLines(["show", "--format=", "--unified=0", "HEAD", "--", "review/resources/local/file/motd.json"])
        let changed = diff.filter { ($0.hasPrefix("+") || $0.hasPrefix("-")) && !$0.hasPrefix("+++") && !$0.hasPrefix("---") }
        XCTAssertEqual(changed, ["-    \"content\": \"hello\",", "+    \"content\": \"goodbye\","], "a one-value change is a one-line diff")
    }

    func testRemovingAResourceRemovesItsFile() async throws {
        _ = try await sandbox.apply(stack())
        let applied = try await sandbox.apply("""
            stack: {name: review}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.file, name: motd, properties: {path: etc/motd, content: hello}}
              - {type: local.null, name: marker, properties: {triggers: {motd: "${local.file.motd.id}"}}}
            """)
        XCTAssertEqual(applied.plan.pendingActions, ["local.file.issue": .delete])
        XCTAssertEqual(try sandbox.gitLines(["log", "-1", "--format=%s"]), ["apply review: +0 ~0 -1"])
        XCTAssertEqual(try sandbox.gitLines(["show", "--name-status", "--format=", "HEAD"]),
                       ["M\treview/meta.json", "D\treview/resources/local/file/issue.json"])
        XCTAssertFalse(sandbox.exists("deploy/etc/issue"))
    }
}
