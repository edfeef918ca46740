/// Remote state: a bare repository as `origin` and two clones, as two CI runners would have. A state-changing
/// run fetches first and refuses to start behind; it publishes with a fast-forward-only push, so of two racing
/// runs exactly one wins and the other fails cleanly, then converges once it follows the hint and re-plans.

import Foundation
import XCTest

final class RemoteStateTests: SandboxTestCase {
    static let stack = "remote"

    /// The two runners share the infrastructure (one absolute provider root) but each has its own state clone.
    func stackFile(content: String, delay: Int, extra: Bool = false) -> String {
        var text = "stack: {name: \(Self.stack)}\nclouds: {local: {root: \"\(sandbox.path)/deploy\"}}\nresources:\n"
        for n in 1...4 {
            text += "  - {type: local.file, name: r\(n), properties: {path: r\(n).txt, content: \"\(content) \(n)\", delay_ms: \(delay)}}\n"
        }
        if extra { text += "  - {type: local.file, name: extra, properties: {path: extra.txt, content: \"only in a\", delay_ms: \(delay)}}\n" }
        return text
    }

    private func originHead() throws -> String {
        try sandbox.git(["--git-dir", "origin.git", "rev-parse", "refs/heads/main"], in: "").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func head(_ runner: String) throws -> String {
        try sandbox.git(["rev-parse", "HEAD"], in: "\(runner)/st").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// origin.git (bare), runner `a` with a clone that published the first state, runner `b` cloned after it.
    private func setUpOriginAndClones() throws {
        XCTAssertEqual(try sandbox.git(["init", "--quiet", "--bare", "-b", "main", "origin.git"], in: "").status, 0)
        XCTAssertEqual(try sandbox.git(["clone", "--quiet", "origin.git", "a/st"], in: "").status, 0)
        XCTAssertEqual(try sandbox.git(["symbolic-ref", "HEAD", "refs/heads/main"], in: "a/st").status, 0)
        try sandbox.write("a/s.yaml", stackFile(content: "one", delay: 800))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a"), exit: 0, "first apply in a")
        XCTAssertEqual(try originHead(), try head("a"), "the first apply was pushed to origin")
        XCTAssertEqual(try sandbox.git(["clone", "--quiet", "origin.git", "b/st"], in: "").status, 0)
    }

    /// `a` starts an apply one resource at a time and fetches; `b` starts the same work in parallel while `a` is
    /// still busy, and pushes first. (Only --parallelism differs: `delay_ms` is recorded, so it must be the same.)
    private func race(aStack: String, bStack: String) throws -> (a: Output, b: Output, originBefore: String) {
        let originBefore = try originHead()
        try sandbox.write("a/s.yaml", aStack)
        try sandbox.write("b/s.yaml", bStack)
        let a = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve", "--parallelism", "1"], in: "a")
        // The lock is taken just before the fetch; give the fetch a moment to finish.
        XCTAssertTrue(sandbox.waitUntil(timeout: 30) { sandbox.exists("a/st/\(Self.stack)/.lock") || !a.isRunning })
        usleep(300_000)
        XCTAssertTrue(a.isRunning, "runner a finished before b could race it")
        let b = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve", "--parallelism", "10"], in: "b")
        XCTAssertTrue(a.isRunning, "runner b should have finished while a was still applying: \(b)")
        return (a.wait(), b, originBefore)
    }

    func testOfTwoRacingClonesExactlyOnePushWinsAndTheLoserConvergesAfterReplanning() throws {
        try setUpOriginAndClones()
        let (a, b, originBefore) = try race(aStack: stackFile(content: "two", delay: 800), bStack: stackFile(content: "two", delay: 800))

        expect(b, exit: 0, "runner b (first to push)")
        expect(a, exit: 1, "runner a (second to push)")
        XCTAssertTrue(a.stderr.contains("could not publish the state: another run pushed first"), "\(a)")
        XCTAssertTrue(a.stderr.contains("nothing is lost"), "\(a)")
        XCTAssertTrue(a.stderr.contains("git -C \(sandbox.path)/a/st pull --rebase, then run plan again"), "\(a)")
        // Exactly one new commit on origin: b's. a's is kept locally, on top of the state it started from.
        XCTAssertEqual(try originHead(), try head("b"))
        XCTAssertEqual(try sandbox.git(["--git-dir", "origin.git", "rev-list", "--count", "\(originBefore)..main"], in: "").stdout, "1\n")
        XCTAssertEqual(try sandbox.git(["rev-parse", "HEAD~1"], in: "a/st").stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                       originBefore, "a's results are committed locally: nothing is lost")

        // As the message says: pull --rebase (the fallback when that conflicts: take origin's), then plan again.
        try followTheHint(runner: "a")
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], in: "a"), exit: 0, "re-plan in a")
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a"), exit: 0, "apply in a")
        XCTAssertEqual(try head("a"), try originHead(), "both clones agree with origin")
        XCTAssertEqual(sandbox.files(under: "deploy"), ["r1.txt": "two 1", "r2.txt": "two 2", "r3.txt": "two 3", "r4.txt": "two 4"])
        try assertRepositoryIntact("a/st")
        try assertRepositoryIntact("b/st")
    }

    /// The loser also created something the winner did not: once it followed the hint, that must reach origin,
    /// or a CI runner that is thrown away takes the only record of it along.
    func testWorkOnlyTheLoserDidIsPublishedOnceItFollowsTheHint() throws {
        try setUpOriginAndClones()
        let (a, b, _) = try race(aStack: stackFile(content: "two", delay: 800, extra: true), bStack: stackFile(content: "two", delay: 800))
        expect(b, exit: 0, "runner b")
        expect(a, exit: 1, "runner a")
        XCTAssertEqual(sandbox.read("deploy/extra.txt"), "only in a")

        try followTheHint(runner: "a")
        let replan = try sandbox.maifctl(["plan", "s.yaml", "--state", "st"], in: "a")
        expect(replan, exit: 0, "re-plan in a")
        let apply = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a")
        expect(apply, exit: 0, "apply in a")
        let published = try sandbox.git(["--git-dir", "origin.git", "ls-tree", "-r", "--name-only", "main"], in: "").stdout
        let clone = try sandbox.git(["status", "-sb"], in: "a/st").stdout
        XCTAssertTrue(published.contains("\(Self.stack)/resources/local/file/extra.json"),
                      "origin's state does not record local.file.extra, which a created; a's clone: \(clone)")
    }

    func testACloneThatIsBehindRefusesToApply() throws {
        try setUpOriginAndClones()
        try sandbox.write("a/s.yaml", stackFile(content: "two", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a"), exit: 0, "a publishes")
        let bBefore = try head("b")

        try sandbox.write("b/s.yaml", stackFile(content: "three", delay: 0))
        let refused = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "b")
        expect(refused, exit: 1, "apply in a clone that is behind")
        XCTAssertTrue(refused.stderr.contains("is 1 commit(s) behind origin: another run published state since"), "\(refused)")
        XCTAssertTrue(refused.stderr.contains("git -C \(sandbox.path)/b/st pull --ff-only"), "says how to catch up: \(refused)")
        XCTAssertFalse(refused.stdout.contains("complete after"), "nothing was started: \(refused)")
        XCTAssertEqual(try head("b"), bBefore, "nothing was committed")
        XCTAssertEqual(sandbox.read("deploy/r1.txt"), "two 1", "nothing was changed")
        XCTAssertFalse(sandbox.exists("b/st/\(Self.stack)/.lock"), "the refused run released its lock")

        expect(try sandbox.git(["pull", "--quiet", "--ff-only"], in: "b/st"), exit: 0, "git pull --ff-only")
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "b"), exit: 0, "apply once up to date")
        XCTAssertEqual(sandbox.read("deploy/r1.txt"), "three 1")
        XCTAssertEqual(try head("b"), try originHead())
    }

    /// `git pull --rebase`; when the two runs' commits conflict, abort and take origin's state (refresh re-reads the rest).
    private func followTheHint(runner: String) throws {
        let pull = try sandbox.git(["pull", "--rebase", "--quiet"], in: "\(runner)/st")
        if pull.status != 0 {
            print("pull --rebase in \(runner) did not apply cleanly, resetting to origin: \(pull)")
            try sandbox.git(["rebase", "--abort"], in: "\(runner)/st")
            expect(try sandbox.git(["reset", "--hard", "origin/main"], in: "\(runner)/st"), exit: 0, "reset to origin")
        }
    }
}
