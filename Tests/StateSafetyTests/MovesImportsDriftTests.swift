/// Moves, imports and drift: a rename through `moved:` touches nothing and renames one state file in one commit;
/// an imported file plans clean; a hand edit is drift that plan shows, `refresh --json` reports and apply repairs;
/// `state mv`, `state rm` and `state diff` edit and read the state without touching resources.

import Foundation
import XCTest

final class MovesImportsDriftTests: SandboxTestCase {
    static let stack = "moves"

    func stackFile(_ resources: [(name: String, path: String, content: String)], moved: [(String, String)] = []) -> String {
        var text = "stack: {name: \(Self.stack)}\nclouds: {local: {root: deploy}}\nresources:\n"
        for r in resources {
            text += "  - {type: local.file, name: \(r.name), properties: {path: \(r.path), content: \"\(r.content)\"}}\n"
        }
        if !moved.isEmpty {
            text += "moved:\n" + moved.map { "  - {from: \($0.0), to: \($0.1)}\n" }.joined()
        }
        return text
    }

    private func maifctl(_ arguments: [String], exit status: Int32, file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let output = try sandbox.maifctl(arguments)
        expect(output, exit: status, arguments.joined(separator: " "), file: file, line: line)
        return output
    }

    private var scope: [String] { ["--stack", Self.stack, "--state", "st"] }

    private func stateList() throws -> [String] {
        try maifctl(["state", "list"] + scope, exit: 0).stdout.split(separator: "\n").map(String.init)
    }

    func testARenameThroughMovedIsANoOpApplyThatRenamesTheStateFileInOneCommit() throws {
        try sandbox.write("s.yaml", stackFile([("old", "kept.txt", "kept"), ("other", "other.txt", "other")]))
        _ = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        let before = try FileManager.default.attributesOfItem(atPath: sandbox.url("deploy/kept.txt").path)
        let commitsBefore = try sandbox.git(["rev-list", "--count", "HEAD"], in: "st").stdout

        try sandbox.write("s.yaml", stackFile([("new", "kept.txt", "kept"), ("other", "other.txt", "other")],
                                              moved: [("local.file.old", "local.file.new")]))
        let plan = try maifctl(["plan", "s.yaml", "--state", "st"], exit: 0)
        XCTAssertTrue(plan.stdout.contains("# local.file.old has moved to local.file.new"), "\(plan)")
        XCTAssertTrue(plan.stdout.contains("Only moves: state will record the new addresses."), "\(plan)")
        let apply = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        for verb in ["Creation", "Destruction", "Modifications", "Replacement"] {   // "… complete after", one line per step
            XCTAssertFalse(apply.stdout.contains(verb), "a move calls no provider: \(apply)")
        }
        let after = try FileManager.default.attributesOfItem(atPath: sandbox.url("deploy/kept.txt").path)
        XCTAssertEqual(after[.systemFileNumber] as? Int, before[.systemFileNumber] as? Int, "the file is the same file")
        XCTAssertEqual(after[.modificationDate] as? Date, before[.modificationDate] as? Date, "and was not rewritten")

        XCTAssertEqual(try sandbox.git(["rev-list", "--count", "HEAD"], in: "st").stdout, "\(Int(commitsBefore.dropLast())! + 1)\n")
        let changed = try sandbox.git(["diff", "--name-status", "--no-renames", "HEAD~1", "HEAD"], in: "st").stdout
        XCTAssertEqual(changed, "M\t\(Self.stack)/meta.json\nA\t\(Self.stack)/resources/local/file/new.json\nD\t\(Self.stack)/resources/local/file/old.json\n",
                       "one commit: the old file out, the new one in")
        XCTAssertEqual(try stateList(), ["local.file.new", "local.file.other"])
        _ = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 0)
    }

    func testImportOfAnExistingFileThenPlanShowsNoChanges() throws {
        try sandbox.write("deploy/existing.txt", "made by hand")
        try sandbox.write("s.yaml", stackFile([("existing", "existing.txt", "made by hand")]))
        let imported = try maifctl(["import", "local.file.existing", "existing.txt", "-f", "s.yaml", "--state", "st"], exit: 0)
        XCTAssertTrue(imported.stdout.contains("Imported local.file.existing (id existing.txt)"), "\(imported)")
        XCTAssertEqual(try sandbox.git(["log", "-1", "--format=%s"], in: "st").stdout, "import \(Self.stack): local.file.existing = existing.txt\n")
        let plan = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 0)
        XCTAssertTrue(plan.stdout.contains("No changes."), "\(plan)")

        let twice = try maifctl(["import", "local.file.existing", "existing.txt", "-f", "s.yaml", "--state", "st"], exit: 1)
        XCTAssertTrue(twice.stderr.contains("is already managed"), "\(twice)")
        let undeclared = try maifctl(["import", "local.file.stranger", "existing.txt", "-f", "s.yaml", "--state", "st"], exit: 1)
        XCTAssertTrue(undeclared.stderr.contains("is not declared by the stack"), "\(undeclared)")
        XCTAssertEqual(sandbox.read("deploy/existing.txt"), "made by hand", "import changed nothing outside")
    }

    func testDriftOnDiskIsShownByPlanReportedByRefreshAndRepairedByApply() throws {
        try sandbox.write("s.yaml", stackFile([("a", "a.txt", "A1"), ("b", "b.txt", "B1")]))
        _ = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        try sandbox.write("deploy/a.txt", "tampered")
        try FileManager.default.removeItem(atPath: sandbox.url("deploy/b.txt").path)

        let plan = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 2)
        XCTAssertTrue(plan.stdout.contains("Objects have changed outside of maifctl:"), "\(plan)")
        XCTAssertTrue(plan.stdout.contains("~ drifted: content was \"A1\", now \"tampered\""), "\(plan)")
        XCTAssertTrue(plan.stdout.contains("# local.file.b has changed\n  ~ drifted: deleted out of band"), "\(plan)")
        XCTAssertTrue(plan.stdout.contains("# local.file.a will be updated in place"), "\(plan)")
        XCTAssertTrue(plan.stdout.contains("# local.file.b will be created"), "\(plan)")
        _ = try maifctl(["plan", "s.yaml", "--state", "st", "--refresh=false", "--detailed-exitcode"], exit: 0)

        let refresh = try maifctl(["refresh", "s.yaml", "--state", "st", "--json", "--detailed-exitcode"], exit: 2)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(refresh.stdout.utf8)) as? [String: Any], "\(refresh)")
        let drifted = try XCTUnwrap(report["drifted"] as? [[String: Any]])
        XCTAssertEqual(drifted.compactMap { $0["address"] as? String }.sorted(), ["local.file.a", "local.file.b"])
        let content = (drifted.first { $0["address"] as? String == "local.file.a" }?["drift"] as? [String: Any])?["content"] as? [String: String]
        XCTAssertEqual(content, ["recorded": "A1", "actual": "tampered"])

        _ = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        XCTAssertEqual(sandbox.files(under: "deploy"), ["a.txt": "A1", "b.txt": "B1"])
        _ = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 0)
        _ = try maifctl(["refresh", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 0)
    }

    /// Deleted by hand and then dropped from the stack: nothing is left to delete, but the state must forget it.
    func testAResourceDeletedOutOfBandAndDroppedFromTheStackIsForgotten() throws {
        try sandbox.write("s.yaml", stackFile([("a", "a.txt", "A1"), ("b", "b.txt", "B1")]))
        _ = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        try FileManager.default.removeItem(atPath: sandbox.url("deploy/b.txt").path)
        try sandbox.write("s.yaml", stackFile([("a", "a.txt", "A1")]))

        let plan = try maifctl(["plan", "s.yaml", "--state", "st"], exit: 0)
        XCTAssertTrue(plan.stdout.contains("local.file.b"), "plan says what became of local.file.b: \(plan)")
        _ = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        XCTAssertEqual(try stateList(), ["local.file.a"], "the state still records local.file.b, which is gone and no longer wanted")
    }

    func testStateMvRmAndDiffEditTheStateWithoutTouchingResources() throws {
        try sandbox.write("s.yaml", stackFile([("a", "a.txt", "A"), ("b", "b.txt", "B"), ("c", "c.txt", "C")]))
        _ = try maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"], exit: 0)
        let disk = sandbox.files(under: "deploy")

        // Renamed in the stack without `moved:`: plan wants destroy + create until the state follows.
        try sandbox.write("s.yaml", stackFile([("a", "a.txt", "A"), ("renamed", "b.txt", "B"), ("c", "c.txt", "C")]))
        _ = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 2)
        let mv = try maifctl(["state", "mv", "local.file.b", "local.file.renamed"] + scope, exit: 0)
        XCTAssertTrue(mv.stdout.contains("Moved local.file.b to local.file.renamed."), "\(mv)")
        _ = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 0)
        let mvDiff = try maifctl(["state", "diff", "HEAD~1"] + scope, exit: 0)
        XCTAssertEqual(mvDiff.stdout, "+ local.file.renamed\n- local.file.b\n\n1 added, 0 changed, 1 removed between HEAD~1 and HEAD.\n")
        XCTAssertTrue(try maifctl(["state", "mv", "local.file.a", "local.file.c"] + scope, exit: 1).stderr.contains("already in the state"))
        XCTAssertTrue(try maifctl(["state", "mv", "local.file.b", "local.file.x"] + scope, exit: 1).stderr.contains("is not in the state"))

        let rm = try maifctl(["state", "rm", "local.file.c"] + scope, exit: 0)
        XCTAssertTrue(rm.stdout.contains("Forgot 1 resource(s)"), "\(rm)")
        XCTAssertEqual(try stateList(), ["local.file.a", "local.file.renamed"])
        XCTAssertEqual(sandbox.files(under: "deploy"), disk, "mv and rm touch no resource")
        let rmDiff = try maifctl(["state", "diff", "HEAD~1"] + scope, exit: 0)
        XCTAssertEqual(rmDiff.stdout, "- local.file.c\n\n0 added, 0 changed, 1 removed between HEAD~1 and HEAD.\n")
        XCTAssertTrue(try maifctl(["state", "rm", "local.file.c"] + scope, exit: 1).stderr.contains("is not in the state"))
        let both = try maifctl(["state", "diff", "HEAD~2", "HEAD"] + scope, exit: 0)
        XCTAssertEqual(both.stdout, "+ local.file.renamed\n- local.file.b\n- local.file.c\n\n1 added, 0 changed, 2 removed between HEAD~2 and HEAD.\n")

        // Forgotten, the file is still there: importing it back makes the plan clean again.
        _ = try maifctl(["import", "local.file.c", "c.txt", "-f", "s.yaml", "--state", "st"], exit: 0)
        _ = try maifctl(["plan", "s.yaml", "--state", "st", "--detailed-exitcode"], exit: 0)
        let log = try sandbox.git(["log", "--format=%s"], in: "st").stdout.split(separator: "\n")
        XCTAssertEqual(Array(log.prefix(3)), ["import moves: local.file.c = c.txt", "state rm moves: local.file.c",
                                              "state mv moves: local.file.b -> local.file.renamed"])
    }
}
