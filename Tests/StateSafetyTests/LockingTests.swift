/// Locking: one state-changing run per stack at a time. A second one fails at once naming the holder, or
/// waits with --lock-timeout; a lock of a killed local run is broken with a warning; any other lock needs
/// `state force-unlock ID`.

import Foundation
import XCTest

final class LockingTests: SandboxTestCase {
    static let stack = "locks"
    let lockPath = "st/\(LockingTests.stack)/.lock"

    /// Four files, `delay_ms` each: with --parallelism 1 an apply holds the lock for about 4 × delay.
    func slowStack(content: String, delay: Int = 500) -> String {
        var text = "stack: {name: \(Self.stack)}\nclouds: {local: {root: deploy}}\nresources:\n"
        for n in 1...4 {
            text += "  - {type: local.file, name: w\(n), properties: {path: w\(n).txt, content: \"\(content) \(n)\", delay_ms: \(delay)}}\n"
        }
        return text
    }

    private func startSlowApply(_ file: String = "s.yaml") throws -> Running {
        let run = try sandbox.start(["apply", file, "--state", "st", "--auto-approve", "--parallelism", "1"])
        // The lock file is created empty, then written: wait until it names its holder.
        XCTAssertTrue(sandbox.waitUntil(timeout: 30) { (try? heldLock()) != nil || !run.isRunning },
                      "the first apply never took its lock")
        XCTAssertTrue(run.isRunning, "the first apply ended before the test could race it: \(run.wait())")
        return run
    }

    private func heldLock() throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: sandbox.url(lockPath).path) else { throw LockFileMissing() }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw LockFileMissing() }
        return object
    }

    func testASecondApplyFailsAtOnceNamingTheHolderAndHowToRelease() throws {
        try sandbox.write("s.yaml", slowStack(content: "one"))
        let first = try startSlowApply()
        let lock = try heldLock()
        XCTAssertEqual(lock["pid"] as? Int, Int(first.pid))
        XCTAssertEqual(lock["operation"] as? String, "apply")
        let id = try XCTUnwrap(lock["id"] as? String)

        let second = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"])
        XCTAssertTrue(first.isRunning, "the second apply should have failed while the first still ran: \(second)")
        expect(second, exit: 1, "second apply")
        XCTAssertTrue(second.stderr.contains("pid \(first.pid)"), "names the holder's pid: \(second)")
        XCTAssertTrue(second.stderr.contains("`apply`"), "names the holder's operation: \(second)")
        XCTAssertTrue(second.stderr.contains("force-unlock \(id)"), "says how to release it: \(second)")
        XCTAssertFalse(second.stdout.contains("Creating"), "the second apply changed nothing: \(second)")

        expect(first.wait(), exit: 0, "first apply")
        let commits = try sandbox.git(["rev-list", "--count", "HEAD"], in: "st")
        XCTAssertEqual(commits.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "1", "exactly one run committed")
        XCTAssertFalse(sandbox.exists(lockPath), "the winner released its lock")
    }

    func testWithALockTimeoutTheSecondWaitsForTheFirstThenApplies() throws {
        try sandbox.write("s.yaml", slowStack(content: "one"))
        try sandbox.write("s2.yaml", slowStack(content: "two", delay: 50))
        let first = try startSlowApply()
        let second = try sandbox.start(["apply", "s2.yaml", "--state", "st", "--auto-approve", "--lock-timeout", "10s"])
        usleep(700_000)
        XCTAssertTrue(second.isRunning, "the second apply should be waiting for the lock: \(second.stderrSoFar)")

        let firstDone = first.wait()
        let firstEnded = Date()
        expect(firstDone, exit: 0, "first apply")
        let secondDone = second.wait()
        expect(secondDone, exit: 0, "second apply, after waiting")
        XCTAssertGreaterThan(second.started.addingTimeInterval(secondDone.seconds), firstEnded, "the second finished after the first")
        XCTAssertTrue(secondDone.stdout.contains("4 to change"), "the second planned against the first's result: \(secondDone)")

        XCTAssertEqual(sandbox.files(under: "deploy"), ["w1.txt": "two 1", "w2.txt": "two 2", "w3.txt": "two 3", "w4.txt": "two 4"])
        let log = try sandbox.git(["log", "--format=%s"], in: "st")
        XCTAssertEqual(log.stdout, "apply locks: +0 ~4 -0\napply locks: +4 ~0 -0\n", "two commits, one after the other")
    }

    func testALockLeftByAKilledRunIsBrokenWithAWarning() throws {
        try sandbox.write("s.yaml", slowStack(content: "one"))
        let first = try startSlowApply()
        let id = try XCTUnwrap(try heldLock()["id"] as? String)
        XCTAssertTrue(first.kill(SIGKILL))
        _ = first.wait()
        XCTAssertTrue(sandbox.exists(lockPath), "a SIGKILLed run cannot release its lock")

        let next = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"])
        expect(next, exit: 0, "apply after the killed run")
        XCTAssertTrue(next.stderr.contains("Warning: breaking a stale lock: lock \(id)"), "warns: \(next)")
        XCTAssertTrue(next.stderr.contains("no longer exists"), "says why: \(next)")
        XCTAssertFalse(sandbox.exists(lockPath))
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"]), exit: 0, "plan after recovery")
    }

    func testALockOfAnotherHostOrOfALiveProcessNeedsForceUnlock() throws {
        try sandbox.write("s.yaml", slowStack(content: "one", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"]), exit: 0, "first apply")
        try sandbox.write("s.yaml", slowStack(content: "two", delay: 0))

        // A runner elsewhere: its pid means nothing here, so it is never broken automatically.
        let foreign = #"{"id":"feedbeef","operation":"apply","who":"ci@runner-7","host":"runner-7.example","pid":4242,"created":"2026-01-01T00:00:00Z","command":"maifctl apply prod.yaml"}"#
        try sandbox.write(lockPath, foreign)
        let refused = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"])
        expect(refused, exit: 1, "apply under a foreign lock")
        XCTAssertTrue(refused.stderr.contains("ci@runner-7 (pid 4242 on runner-7.example)"), "names the holder: \(refused)")
        XCTAssertTrue(refused.stderr.contains("maifctl state force-unlock feedbeef"), "says how to release it: \(refused)")
        XCTAssertEqual(sandbox.read(lockPath), foreign, "the foreign lock is left alone")

        let wrong = try sandbox.maifctl(["state", "force-unlock", "deadbeef", "--stack", Self.stack, "--state", "st"])
        expect(wrong, exit: 1, "force-unlock with the wrong id")
        XCTAssertTrue(wrong.stderr.contains("no lock deadbeef; the current one is lock feedbeef"), "\(wrong)")
        let unlock = try sandbox.maifctl(["state", "force-unlock", "feedbeef", "--stack", Self.stack, "--state", "st"])
        expect(unlock, exit: 0, "force-unlock")
        XCTAssertTrue(unlock.stdout.contains("Lock feedbeef removed"), "\(unlock)")
        XCTAssertFalse(sandbox.exists(lockPath))

        // This host, but a process that is alive (the test runner itself): not stale either.
        let live = #"{"id":"0a1b2c3d","operation":"destroy","who":"me@here","host":"\#(ProcessInfo.processInfo.hostName)","pid":\#(getpid()),"created":"2026-01-01T00:00:00Z","command":"maifctl destroy"}"#
        try sandbox.write(lockPath, live)
        let refusedAgain = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"])
        expect(refusedAgain, exit: 1, "apply under a live local lock")
        XCTAssertTrue(refusedAgain.stderr.contains("pid \(getpid())") && refusedAgain.stderr.contains("`destroy`"), "\(refusedAgain)")
        XCTAssertFalse(refusedAgain.stderr.contains("breaking a stale lock"), "\(refusedAgain)")
        expect(try sandbox.maifctl(["state", "force-unlock", "0a1b2c3d", "--stack", Self.stack, "--state", "st"]), exit: 0, "unlock")

        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"]), exit: 0, "apply once unlocked")
        XCTAssertEqual(sandbox.read("deploy/w1.txt"), "two 1")
    }

    /// A run killed between creating the lock file and writing it leaves an empty lock: that must not hang
    /// every later run (nor ignore --lock-timeout), and force-unlock must be able to clear it.
    func testAnEmptyLockFileLeftByAKillDoesNotHangTheNextRun() throws {
        try sandbox.write("s.yaml", slowStack(content: "one", delay: 0))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"]), exit: 0, "first apply")
        try sandbox.write(lockPath, "")
        let next = try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve", "--lock-timeout", "1s"], timeout: 6)
        XCTAssertFalse(next.timedOut, "apply with --lock-timeout 1s still ran after 6s (spinning on the empty lock file): \(next)")
        XCTAssertTrue(next.status == 0 || next.stderr.contains(".lock"),
                      "either treat the unreadable lock as stale or refuse naming the file: \(next)")
    }
}

private struct LockFileMissing: Error, CustomStringConvertible {
    var description: String { "no readable lock file" }
}
