/// Remote state: a bare repository as `origin` and two clones, as two CI runners would have. A state-changing run
/// takes the stack's lock on the remote (`refs/maifctl/locks/<stack>`) before it reads the state, so of two racing runs
/// exactly one calls any provider and the other reports the holder, having changed nothing. The winner publishes with a
/// fast-forward-only push; a clone that is only behind catches up by itself. The same holds over file paths, ssh://
/// (a real sshd) and smart HTTP (`git http-backend`).

import Foundation
import XCTest

final class RemoteStateTests: SandboxTestCase {
    static let stack = "remote"
    static let lockRef = "refs/maifctl/locks/remote"

    /// The two runners share the infrastructure (one absolute provider root) but each has its own state clone.
    func stackFile(content: String, delay: Int, count: Int = 4) -> String {
        var text = "stack: {name: \(Self.stack)}\nclouds: {local: {root: \"\(sandbox.path)/deploy\"}}\nresources:\n"
        for n in 1...count {
            text += "  - {type: local.file, name: r\(n), properties: {path: r\(n).txt, content: \"\(content) \(n)\", delay_ms: \(delay)}}\n"
        }
        return text
    }

    private func trimmed(_ output: Output) -> String { output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    private func originHead() throws -> String {
        trimmed(try sandbox.git(["--git-dir", "origin.git", "rev-parse", "refs/heads/main"], in: ""))
    }

    private func head(_ runner: String) throws -> String { trimmed(try sandbox.git(["rev-parse", "HEAD"], in: "\(runner)/st")) }

    private func remoteLock() throws -> String {
        trimmed(try sandbox.git(["--git-dir", "origin.git", "for-each-ref", "--format=%(objectname)", Self.lockRef], in: ""))
    }

    /// origin.git (bare), reached at `url` (a path, ssh:// or http://); runner `a` published the first state, `b` cloned after.
    private func setUpOriginAndClones(url: String = "", environment: [String: String] = [:]) throws {
        let origin = url.isEmpty ? sandbox.path + "/origin.git" : url
        expect(try sandbox.git(["init", "--quiet", "--bare", "-b", "main", "origin.git"], in: ""), exit: 0, "init origin")
        for runner in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: sandbox.path + "/\(runner)", withIntermediateDirectories: true)
            expect(try sandbox.git(["init", "--quiet", "-b", "main", "st"], in: runner), exit: 0, "init \(runner)")
            expect(try sandbox.git(["remote", "add", "origin", origin], in: "\(runner)/st"), exit: 0, "origin of \(runner)")
        }
        try sandbox.write("a/s.yaml", stackFile(content: "one", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a", environment: environment), exit: 0,
               "first apply in a")
        XCTAssertEqual(try originHead(), try head("a"), "the first apply was pushed to origin")
        XCTAssertEqual(try remoteLock(), "", "and its lock released")
    }

    /// One round: the first runner starts a slow apply; once its lock is on origin, the second starts after a random
    /// pause. Exactly one of them may call a provider.
    private func race(round: Int, environment: [String: String] = [:]) throws {
        let (first, second) = Bool.random() ? ("a", "b") : ("b", "a")
        for runner in ["a", "b"] { try sandbox.write("\(runner)/s.yaml", stackFile(content: "round \(round)", delay: 150)) }
        let winner = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve", "--parallelism", "1"], in: first,
                                       environment: environment)
        XCTAssertTrue(sandbox.waitUntil(timeout: 30) { (try? remoteLock())?.isEmpty == false || !winner.isRunning },
                      "round \(round): \(first) never took the lock on origin")
        usleep(UInt32.random(in: 0...250_000))
        let loser = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: second, environment: environment)
        let won = winner.wait()
        expect(won, exit: 0, "round \(round): \(first), which holds the lock")
        expect(loser, exit: 1, "round \(round): \(second), which finds it taken")
        XCTAssertTrue(loser.stderr.contains("the state is locked") && loser.stderr.contains("pid \(winner.pid)") && loser.stderr.contains("on origin"),
                      "round \(round): the loser names the holder: \(loser)")
        XCTAssertFalse(loser.stdout.contains("Plan:") || loser.stdout.contains("complete after"),
                       "round \(round): the loser planned and called nothing: \(loser)")
        XCTAssertTrue(won.stdout.contains("Modifications complete after") || won.stdout.contains("complete after"),
                      "round \(round): the winner changed the files: \(won)")
        XCTAssertEqual(try remoteLock(), "", "round \(round): the winner released the lock")
        XCTAssertEqual(try originHead(), try head(first), "round \(round): the winner published")
        let published = trimmed(try sandbox.git(["--git-dir", "origin.git", "ls-tree", "-r", "--name-only", "main", "\(Self.stack)/resources"], in: ""))
        XCTAssertEqual(published.split(separator: "\n").map(String.init),
                       (1...4).map { "\(Self.stack)/resources/local/file/r\($0).json" }, "round \(round): every resource once")
        XCTAssertEqual(sandbox.read("deploy/r1.txt"), "round \(round) 1")
    }

    func testOfTwoClonesRacingTwentyTimesExactlyOneRunsAndTheOtherReportsTheHolder() throws {
        try setUpOriginAndClones()
        for round in 1...20 { try race(round: round) }
        try assertRepositoryIntact("a/st")
        try assertRepositoryIntact("b/st")
        expect(try sandbox.git(["--git-dir", "origin.git", "fsck", "--strict"], in: ""), exit: 0, "git fsck of origin")
    }

    func testACloneThatIsOnlyBehindCatchesUpAndApplies() throws {
        try setUpOriginAndClones()
        try sandbox.write("a/s.yaml", stackFile(content: "two", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a"), exit: 0, "a publishes")

        try sandbox.write("b/s.yaml", stackFile(content: "three", delay: 0))
        let applied = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "b")
        expect(applied, exit: 0, "apply in a clone that was behind")
        XCTAssertTrue(applied.stderr.contains("updated the state in \(sandbox.path)/b/st from origin (2 commit(s) another run published)"),
                      "says it caught up: \(applied)")
        XCTAssertEqual(sandbox.read("deploy/r1.txt"), "three 1")
        XCTAssertEqual(try head("b"), try originHead())
    }

    func testADivergedCloneRefusesAndChangesNothing() throws {
        try setUpOriginAndClones()
        try sandbox.write("a/s.yaml", stackFile(content: "two", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a"), exit: 0, "a publishes")
        // b gets a commit of its own that origin has never seen.
        try sandbox.write("b/s.yaml", stackFile(content: "three", delay: 0))
        try sandbox.write("b/st/notes.txt", "local only\n")
        expect(try sandbox.git(["add", "notes.txt"], in: "b/st"), exit: 0, "add")
        expect(try sandbox.git(["commit", "--quiet", "-m", "local"], in: "b/st"), exit: 0, "commit")
        let before = try head("b")
        let refused = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "b")
        expect(refused, exit: 1, "apply in a diverged clone")
        XCTAssertTrue(refused.stderr.contains("has diverged from origin"), "\(refused)")
        XCTAssertEqual(try head("b"), before, "nothing was committed")
        XCTAssertEqual(try remoteLock(), "", "the refused run released its lock on origin")
    }

    func testASavedPlanIsRefusedOnceAnotherRunChangedOrigin() throws {
        try setUpOriginAndClones()
        try sandbox.write("a/s.yaml", stackFile(content: "two", delay: 0))
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--out", "p.json"], in: "a"), exit: 0, "plan --out in a")
        let saved = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((sandbox.read("a/p.json") ?? "").utf8)) as? [String: Any])
        XCTAssertEqual(saved["remoteCommit"] as? String, try originHead(), "the plan records origin's commit")

        try sandbox.write("b/s.yaml", stackFile(content: "three", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "b"), exit: 0, "b applies and publishes")
        let refused = try sandbox.maifctl(["apply", "p.json", "--state", "st"], in: "a")
        expect(refused, exit: 1, "applying the stale saved plan")
        XCTAssertTrue(refused.stderr.contains("origin's state was at") && refused.stderr.contains("another run applied since"), "\(refused)")
        XCTAssertEqual(sandbox.read("deploy/r1.txt"), "three 1", "nothing was changed")
    }

    /// The holder killed with SIGKILL at a random moment: its lock stays on origin and the next run names it; after
    /// force-unlock, the next apply recovers from the killed run's journal and converges.
    func testAKilledHolderLeavesALockTheNextRunReportsAndForceUnlockClears() throws {
        try setUpOriginAndClones()
        for round in 1...5 {
            try sandbox.write("a/s.yaml", stackFile(content: "killed \(round)", delay: 200))
            let victim = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve", "--parallelism", "1"], in: "a")
            XCTAssertTrue(sandbox.waitUntil(timeout: 30) { (try? remoteLock())?.isEmpty == false || !victim.isRunning })
            usleep(UInt32.random(in: 0...700_000))
            XCTAssertTrue(victim.kill(SIGKILL), "round \(round): killed in the middle")
            _ = victim.wait()

            let blocked = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a")
            expect(blocked, exit: 1, "round \(round): the next run")
            XCTAssertTrue(blocked.stderr.contains("pid \(victim.pid)") && blocked.stderr.contains("on origin"), "names the killed holder: \(blocked)")
            let id = try XCTUnwrap(blocked.stderr.components(separatedBy: "force-unlock ").last?.split(whereSeparator: \.isWhitespace).first,
                                   "\(blocked)")
            expect(try sandbox.maifctl(["state", "force-unlock", String(id), "--state", "st", "--stack", Self.stack], in: "a"), exit: 0,
                   "round \(round): force-unlock")
            XCTAssertEqual(try remoteLock(), "")

            let converged = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a")
            expect(converged, exit: 0, "round \(round): apply after force-unlock")
            XCTAssertEqual(sandbox.read("deploy/r4.txt"), "killed \(round) 4")
            XCTAssertEqual(try head("a"), try originHead(), "round \(round): published")
            XCTAssertEqual(recordedAddresses(state: "a/st", stack: Self.stack), Set((1...4).map { "local.file.r\($0)" }))
            try assertRepositoryIntact("a/st")
            expect(try sandbox.git(["fsck", "--strict"], in: "a/st"), exit: 0, "round \(round): git fsck --strict")
        }
    }

    /// Origin unreachable when the winner publishes: it says where its commit is and how to push it; the lock it could
    /// not release is reported to the next run, and once cleared, that run publishes the commit before anything else.
    func testAnUnpublishedCommitIsPublishedBeforeTheNextRunStarts() throws {
        try setUpOriginAndClones()
        try sandbox.write("a/s.yaml", stackFile(content: "offline", delay: 300))
        let run = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve", "--parallelism", "1"], in: "a")
        // Once it applies (its first file written), origin goes away.
        XCTAssertTrue(sandbox.waitUntil(timeout: 30) { sandbox.read("deploy/r1.txt") == "offline 1" || !run.isRunning })
        let lock = try remoteLock()
        XCTAssertNotEqual(lock, "", "the run holds the lock on origin")
        try FileManager.default.moveItem(atPath: sandbox.path + "/origin.git", toPath: sandbox.path + "/away.git")
        let failed = run.wait(timeout: 90)
        expect(failed, exit: 1, "apply whose push cannot reach origin")
        XCTAssertTrue(failed.stderr.contains("could not be pushed to origin after several tries"), "\(failed)")
        XCTAssertTrue(failed.stderr.contains("git -C \(sandbox.path)/a/st push origin HEAD"), "says how to push it: \(failed)")
        let local = try head("a")
        try FileManager.default.moveItem(atPath: sandbox.path + "/away.git", toPath: sandbox.path + "/origin.git")
        XCTAssertEqual(try remoteLock(), lock, "the lock could not be released either")

        let blocked = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a")
        expect(blocked, exit: 1, "the next run")
        let id = try XCTUnwrap(blocked.stderr.components(separatedBy: "force-unlock ").last?.split(whereSeparator: \.isWhitespace).first)
        expect(try sandbox.maifctl(["state", "force-unlock", String(id), "--state", "st", "--stack", Self.stack], in: "a"), exit: 0, "force-unlock")
        let next = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], in: "a")
        expect(next, exit: 0, "the run after")
        XCTAssertTrue(next.stderr.contains("published the earlier run's state commit \(local.prefix(12))"), "\(next)")
        XCTAssertEqual(try originHead(), local, "origin now has the commit, and nothing else had to change")
    }

    // MARK: other transports

    func testTheRaceOverSmartHTTP() throws {
        let server = try GitHTTPServer.start(root: sandbox.path)
        defer { server.stop() }
        try setUpOriginAndClones(url: "http://127.0.0.1:\(server.port)/origin.git")
        for round in 1...3 { try race(round: round) }
    }

    func testTheRaceOverSSH() throws {
        let lab = try SSHServer.start(directory: sandbox.path + "/sshd")
        defer { lab.stop() }
        let environment = ["GIT_SSH_COMMAND": lab.sshCommand]
        try setUpOriginAndClones(url: "ssh://root@\(lab.address):\(lab.port)\(sandbox.path)/origin.git", environment: environment)
        for round in 1...3 { try race(round: round, environment: environment) }
    }
}
