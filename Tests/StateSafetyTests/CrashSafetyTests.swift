/// Fault injection: an apply of slow `local.file` resources is SIGKILLed at 20 seeded-random moments; after
/// each kill, plan + apply must converge with every file on disk exactly once, no orphan, a state that lists
/// exactly the stack, no journal or lock left behind, and a git repository that `git fsck` finds clean.

import Foundation
import TestSupport
import XCTest

final class CrashSafetyTests: SandboxTestCase {
    /// Replay a failure with MAIFCTL_FAULT_SEED=<seed printed by the failing run>.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["MAIFCTL_FAULT_SEED"].flatMap { UInt64($0) } ?? 0x5EED_2026

    enum Change: String, CaseIterable {
        case createAll = "creates", updateContents = "updates", replacePaths = "replaces", deleteSome = "deletes", destroy

        /// Roughly how long a run of this kind takes next to creating everything (updates touch half, deletes are instant).
        var shareOfAFullCreate: Double {
            switch self {
            case .createAll, .replacePaths, .destroy: return 1
            case .updateContents: return 0.7
            case .deleteSome: return 0.5
            }
        }
    }

    func testKilledAtTwentyMomentsEveryRunConvergesWithNothingLostOrDuplicated() throws {
        var rng = SplitMix64(seed: Self.seed)
        print("fault injection seed: \(Self.seed) (replay with MAIFCTL_FAULT_SEED=\(Self.seed))")
        var stack = FaultStack()

        // Warm-up, never killed: how long a full create and a destroy take on this machine right now.
        try sandbox.write("s.yaml", stack.yaml)
        let create = try apply(["apply", "s.yaml"])
        expect(create, exit: 0, "warm-up apply")
        let destroy = try apply(["destroy", "s.yaml"])
        expect(destroy, exit: 0, "warm-up destroy")
        stack.present = []

        var landed = 0
        var log: [String] = []
        for iteration in 0..<20 {
            let change = Change.allCases[iteration % Change.allCases.count]
            stack.change(change, using: &rng)
            try sandbox.write("s.yaml", stack.yaml)
            let command = change == .destroy ? "destroy" : "apply"

            // The moment: anywhere from just after exec to about the end of a typical run of this kind.
            let span = change == .destroy ? destroy.seconds : create.seconds * change.shareOfAFullCreate
            let moment = span * Double.random(in: 0.02...0.95, using: &rng)
            let run = try sandbox.start([command, "s.yaml", "--state", "st", "--auto-approve", "--parallelism", "3"])
            while run.isRunning && Date().timeIntervalSince(run.started) < moment { usleep(2_000) }
            let hit = run.kill(SIGKILL)
            let killed = run.wait(timeout: 60)
            if hit { landed += 1 }
            let note = "#\(iteration) \(change.rawValue): SIGKILL at \(String(format: "%.3f", moment))s "
                + (hit ? "mid-run" : "after it had exited \(killed.status)")
            log.append(note)
            print(note)
            if !hit { expect(killed, exit: 0, "\(note): the run that finished before the kill") }

            // Converge: plan (which folds a leftover journal), then apply, then plan must have nothing left to do.
            let plan = try sandbox.maifctl(["plan", "s.yaml", "--state", "st"] + (change == .destroy ? ["--destroy"] : []))
            expect(plan, exit: 0, "\(note): plan after the kill")
            let converge = try apply([command, "s.yaml"])
            expect(converge, exit: 0, "\(note): \(command) after the kill")
            let check = try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"]
                                            + (change == .destroy ? ["--destroy"] : []))
            expect(check, exit: 0, "\(note): plan --detailed-exitcode after converging")
            if change == .destroy { stack.present = [] }

            try assertConverged(to: stack, after: note)
            if testRun?.failureCount ?? 0 > 0 { break }   // the first broken iteration says the most
        }
        guard log.count == 20 else { return }
        print("kills that landed mid-run: \(landed) of 20")
        XCTAssertGreaterThanOrEqual(landed, 10, "too few kills hit a running apply to prove anything:\n" + log.joined(separator: "\n"))
    }

    /// The end of a run writes every changed resource file, then meta.json, then commits. A kill in between leaves
    /// files newer than HEAD and the journal; the next run must still get every one of them into a commit.
    func testAKillWhileTheRunWritesItsStateFilesLeavesNothingOutOfGit() throws {
        var text = "stack: {name: fold}\nclouds: {local: {root: deploy}}\nresources:\n"
        for i in 0..<160 { text += "  - {type: local.null, name: n\(i)}\n" }
        try sandbox.write("s.yaml", text)
        let run = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve"])
        let folder = sandbox.url("st/fold/resources/local/null").path
        let folding = sandbox.waitUntil(timeout: 60) {
            !run.isRunning || ((try? FileManager.default.contentsOfDirectory(atPath: folder).count) ?? 0) >= 40
        }
        XCTAssertTrue(folding && run.kill(SIGKILL), "the apply was not caught writing its state files")
        _ = run.wait()
        XCTAssertTrue(sandbox.exists("st/fold/journal.jsonl"), "killed before its commit, the run leaves its journal")

        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st"]), exit: 0, "plan after the kill")
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"]), exit: 0, "apply after the kill")
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"]), exit: 0, "plan once converged")
        let committed = try sandbox.git(["ls-tree", "-r", "--name-only", "HEAD", "fold/resources"], in: "st")
        XCTAssertEqual(committed.stdout.split(separator: "\n").count, 160, "resources in the last state commit")
        let status = try sandbox.git(["status", "--porcelain", "--untracked-files=all"], in: "st")
        XCTAssertEqual(status.stdout.split(separator: "\n").count, 0, "state files the work tree has and HEAD does not:\n\(status.stdout)")
        try assertRepositoryIntact("st")
    }

    /// `state rm` / `state mv` are the first runs after a crash too: what the journal says was created must be
    /// folded into state before (or with) their own change, never thrown away with the journal.
    func testAStateEditAfterACrashKeepsWhatTheKilledRunCreated() throws {
        let keep = "  - {type: local.file, name: y, properties: {path: y.txt, content: \"Y\"}}\n"
        let head = "stack: {name: edits}\nclouds: {local: {root: deploy}}\nresources:\n"
        try sandbox.write("s.yaml", head + keep)
        expect(try apply(["apply", "s.yaml"]), exit: 0, "first apply")
        try sandbox.write("s.yaml", head + keep + "  - {type: local.file, name: x, properties: {path: x.txt, content: \"X\"}}\n"
                          + "  - {type: local.file, name: z, properties: {path: z.txt, content: \"Z\", delay_ms: 5000}}\n")
        let run = try sandbox.start(["apply", "s.yaml", "--state", "st", "--auto-approve"])
        let journal = "st/edits/journal.jsonl"
        XCTAssertTrue(sandbox.waitUntil(timeout: 30) { sandbox.read(journal)?.contains(#""id":"x.txt","op":"done""#) ?? false },
                      "local.file.x was never reported created")
        XCTAssertTrue(run.kill(SIGKILL), "the apply ended before it could be killed")
        _ = run.wait()
        XCTAssertEqual(sandbox.read("deploy/x.txt"), "X", "the killed run had created x.txt")

        expect(try sandbox.maifctl(["state", "rm", "local.file.y", "--stack", "edits", "--state", "st"]), exit: 0, "state rm")
        let list = try sandbox.maifctl(["state", "list", "--stack", "edits", "--state", "st"])
        XCTAssertEqual(list.stdout, "local.file.x\n", "the state after `state rm` must still know what the killed run created")

        // Whatever the state forgot is an orphan: dropping it from the stack must delete it.
        try sandbox.write("s.yaml", head + keep)
        expect(try apply(["apply", "s.yaml"]), exit: 0, "apply without x and z")
        XCTAssertEqual(sandbox.files(under: "deploy"), ["y.txt": "Y"], "files in the provider root")
    }

    private func apply(_ command: [String]) throws -> Output {
        try sandbox.maifctl(command + ["--state", "st", "--auto-approve", "--parallelism", "3"])
    }

    private func assertConverged(to stack: FaultStack, after note: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        // Every wanted file exactly once with its content, and nothing else in the provider root.
        let onDisk = sandbox.files(under: "deploy")
        XCTAssertEqual(onDisk, stack.expectedFiles, "\(note): files in the provider root", file: file, line: line)
        XCTAssertEqual(recordedAddresses(state: "st", stack: FaultStack.name), stack.addresses,
                       "\(note): resources recorded in state", file: file, line: line)
        let list = try sandbox.maifctl(["state", "list", "--stack", FaultStack.name, "--state", "st"])
        XCTAssertEqual(Set(list.stdout.split(separator: "\n").map(String.init)), stack.addresses, "\(note): state list \(list)",
                       file: file, line: line)
        XCTAssertFalse(sandbox.exists("st/\(FaultStack.name)/journal.jsonl"), "\(note): a journal was left behind", file: file, line: line)
        XCTAssertFalse(sandbox.exists("st/\(FaultStack.name)/.lock"), "\(note): a lock was left behind", file: file, line: line)
        let status = try sandbox.git(["status", "--porcelain", "--untracked-files=all"], in: "st")
        XCTAssertEqual(status.stdout, "", "\(note): the state work tree differs from its last commit", file: file, line: line)
        try assertRepositoryIntact("st", file: file, line: line)
    }
}

/// The stack under test: 12 slow local.file resources (100–200 ms per call), some naming others' ids,
/// so a replacement ripples into updates of its dependents.
struct FaultStack {
    static let name = "faults"
    static let names = (1...12).map { String(format: "f%02d", $0) }
    static let dependencies: [String: [String]] = [
        "f02": ["f01"], "f04": ["f02"], "f06": ["f03"], "f07": ["f04", "f06"], "f09": ["f08"], "f11": ["f07"], "f12": ["f10", "f11"],
    ]

    var present = Set(FaultStack.names)
    var version = Dictionary(uniqueKeysWithValues: FaultStack.names.map { ($0, 0) })
    var pathRevision = Dictionary(uniqueKeysWithValues: FaultStack.names.map { ($0, 0) })

    func path(_ n: String) -> String { pathRevision[n]! == 0 ? "\(n).txt" : "\(n)-r\(pathRevision[n]!).txt" }

    func content(_ n: String, resolved: Bool) -> String {
        var text = "\(n) v\(version[n]!)"
        for d in Self.dependencies[n] ?? [] { text += " after " + (resolved ? path(d) : "${local.file.\(d).id}") }
        return text
    }

    var yaml: String {
        var text = "stack: {name: \(Self.name)}\nclouds: {local: {root: deploy}}\nresources:\n"
        for (i, n) in Self.names.enumerated() where present.contains(n) {
            let delay = 100 + (i * 37) % 101
            text += "  - {type: local.file, name: \(n), properties: {path: \"\(path(n))\", content: \"\(content(n, resolved: false))\", delay_ms: \(delay)}}\n"
        }
        return present.isEmpty ? text + "  []\n" : text
    }

    var expectedFiles: [String: String] {
        Dictionary(uniqueKeysWithValues: present.map { (path($0), content($0, resolved: true)) })
    }

    var addresses: Set<String> { Set(present.map { "local.file.\($0)" }) }

    /// Everything that (transitively) names `n`.
    func dependents(of n: String) -> Set<String> {
        var out: Set<String> = []
        var queue = [n]
        while let x = queue.popLast() {
            for (m, deps) in Self.dependencies where deps.contains(x) && out.insert(m).inserted { queue.append(m) }
        }
        return out
    }

    mutating func change(_ change: CrashSafetyTests.Change, using rng: inout SplitMix64) {
        let current = Self.names.filter { present.contains($0) }
        switch change {
        case .createAll:
            present = Set(Self.names)
            for n in Self.names { version[n]! += 1 }
        case .updateContents:
            for n in current.shuffled(using: &rng).prefix(max(1, current.count / 2)) { version[n]! += 1 }
        case .replacePaths:
            for n in current.shuffled(using: &rng).prefix(3) { pathRevision[n]! += 1 }
            for n in current.shuffled(using: &rng).prefix(2) { version[n]! += 1 }
        case .deleteSome:
            var dropped: Set<String> = []
            for n in current.shuffled(using: &rng) where dropped.count < 3 {
                dropped.insert(n)
                dropped.formUnion(dependents(of: n))
            }
            if dropped.count == current.count, let keep = current.first(where: { Self.dependencies[$0] == nil }) { dropped.remove(keep) }
            present.subtract(dropped)
            for n in present.shuffled(using: &rng).prefix(2) { version[n]! += 1 }
        case .destroy:
            break   // the stack file stays; `destroy` empties the state
        }
    }
}
