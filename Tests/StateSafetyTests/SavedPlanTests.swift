/// Saved plans: `plan --out FILE` then `apply FILE` applies exactly the actions shown (and `show FILE` prints
/// them again); a plan whose state moved or whose stack changed since is refused, saying why, changing nothing.

import Foundation
import XCTest

final class SavedPlanTests: SandboxTestCase {
    static let stack = "saved"

    func stackFile(_ files: [String: String]) -> String {
        var text = "stack: {name: \(Self.stack)}\nclouds: {local: {root: deploy}}\nresources:\n"
        for name in files.keys.sorted() {
            text += "  - {type: local.file, name: \(name), properties: {path: \(name).txt, content: \"\(files[name]!)\"}}\n"
        }
        return text
    }

    private func applyFirstVersion() throws {
        try sandbox.write("s.yaml", stackFile(["p1": "one", "p2": "two", "p3": "three"]))
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"]), exit: 0, "first apply")
    }

    /// The part of a plan rendering that lists the actions, from the first `# address` line to the `Plan:` summary.
    private func actions(_ text: String) -> String {
        guard let start = text.range(of: "maifctl will perform the following actions:"),
              let end = text.range(of: "to destroy.", range: start.upperBound..<text.endIndex) else { return "(no actions in: \(text))" }
        return String(text[start.lowerBound..<end.upperBound])
    }

    private func snapshot() throws -> (head: String, files: [String: String], state: [String: String]) {
        (try sandbox.git(["rev-parse", "HEAD"], in: "st").stdout, sandbox.files(under: "deploy"), sandbox.files(under: "st"))
    }

    func testAFreshSavedPlanAppliesExactlyWhatItShowed() throws {
        try applyFirstVersion()
        try sandbox.write("s.yaml", stackFile(["p1": "one, edited", "p2": "two", "p4": "four"]))
        let plan = try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--out", "change.plan"])
        expect(plan, exit: 0, "plan --out")
        XCTAssertTrue(plan.stdout.contains("Saved the plan to change.plan. To apply exactly these actions: maifctl apply change.plan"), "\(plan)")
        let shown = actions(plan.stdout)
        XCTAssertTrue(shown.hasSuffix("Plan: 1 to add, 1 to change, 1 to destroy."), shown)

        let show = try sandbox.maifctl(["show", "change.plan"])
        expect(show, exit: 0, "show")
        XCTAssertEqual(actions(show.stdout), shown, "show prints the saved plan as plan did")
        XCTAssertTrue(show.stdout.contains("Saved plan for stack \(Self.stack)"), "\(show)")
        let json = try sandbox.maifctl(["show", "change.plan", "--json"])
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json)")
        XCTAssertEqual(document["summary"] as? [String: Int], ["create": 1, "update": 1, "replace": 0, "delete": 1])
        let planID = try XCTUnwrap(document["plan_id"] as? String)

        // Out-of-band drift after the plan was saved is not part of it: apply FILE does what was shown, nothing more.
        try sandbox.write("deploy/p2.txt", "two, by hand")
        let apply = try sandbox.maifctl(["apply", "change.plan", "--state", "st"])
        expect(apply, exit: 0, "apply change.plan (no --auto-approve: it was reviewed when saved)")
        XCTAssertEqual(actions(apply.stdout), shown, "apply shows the same actions")
        let progress = apply.stdout.split(separator: "\n").filter { $0.hasSuffix("...") }.map(String.init).sorted()
        XCTAssertEqual(progress, ["local.file.p1: Modifying...", "local.file.p3: Destroying...", "local.file.p4: Creating..."], "\(apply)")
        XCTAssertEqual(sandbox.files(under: "deploy"), ["p1.txt": "one, edited", "p2.txt": "two, by hand", "p4.txt": "four"])
        let message = try sandbox.git(["log", "-1", "--format=%B"], in: "st").stdout
        XCTAssertTrue(message.hasPrefix("apply \(Self.stack): +1 ~1 -1"), message)
        XCTAssertTrue(message.contains("Plan-Id: \(planID)"), "the commit names the saved plan: \(message)")

        // The same file again: the state has moved since (by this very plan).
        let again = try sandbox.maifctl(["apply", "change.plan", "--state", "st"])
        expect(again, exit: 1, "applying a saved plan twice")
        XCTAssertTrue(again.stderr.contains("the saved plan is stale"), "\(again)")
    }

    func testAPlanMadeStaleByAnotherApplyIsRefusedAndChangesNothing() throws {
        try applyFirstVersion()
        let planned = try sandbox.git(["rev-parse", "HEAD"], in: "st").stdout.prefix(12)
        try sandbox.write("s.yaml", stackFile(["p1": "one, edited", "p2": "two", "p3": "three"]))
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--out", "change.plan"]), exit: 0, "plan --out")
        // Someone else applies first (the same stack, so only the state differs).
        expect(try sandbox.maifctl(["apply", "s.yaml", "--state", "st", "--auto-approve"]), exit: 0, "the other apply")
        let now = try sandbox.git(["rev-parse", "HEAD"], in: "st").stdout.prefix(12)
        try sandbox.write("deploy/p3.txt", "three, by hand")   // would be repaired by any apply that ran
        let before = try snapshot()

        let stale = try sandbox.maifctl(["apply", "change.plan", "--state", "st"])
        expect(stale, exit: 1, "apply of a stale plan")
        XCTAssertTrue(stale.stderr.contains("the saved plan is stale: it was made against state \(planned), but the state is now at \(now)"),
                      "\(stale)")
        XCTAssertTrue(stale.stderr.contains("Run `maifctl plan --out FILE` again"), "\(stale)")
        XCTAssertFalse(stale.stdout.contains("Modifying") || stale.stdout.contains("Creating"), "\(stale)")
        let after = try snapshot()
        XCTAssertEqual(after.head, before.head, "no commit")
        XCTAssertEqual(after.files, before.files, "no resource touched")
        XCTAssertEqual(after.state, before.state, "no state file touched")
    }

    func testAPlanMadeStaleByAStackEditIsRefusedAndChangesNothing() throws {
        try applyFirstVersion()
        try sandbox.write("s.yaml", stackFile(["p1": "one, edited", "p2": "two", "p3": "three"]))
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--out", "change.plan"]), exit: 0, "plan --out")
        try sandbox.write("s.yaml", stackFile(["p1": "one, edited again", "p2": "two", "p3": "three"]))
        let before = try snapshot()

        let stale = try sandbox.maifctl(["apply", "change.plan", "--state", "st"])
        expect(stale, exit: 1, "apply after the stack was edited")
        XCTAssertTrue(stale.stderr.contains("the saved plan is stale: the stack (files, variables or environment) changed since it was made"),
                      "\(stale)")
        let after = try snapshot()
        XCTAssertEqual(after.head, before.head)
        XCTAssertEqual(after.files, before.files)
        XCTAssertEqual(after.state, before.state)
    }

    /// `plan --destroy --out FILE` must either save the destroy plan or say it cannot; never print a plan and drop the file.
    func testADestroyPlanIsSavedOrRefusedNeverSilentlyDropped() throws {
        try applyFirstVersion()
        let plan = try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--destroy", "--out", "destroy.plan"])
        XCTAssertTrue(sandbox.exists("destroy.plan") || plan.status != 0,
                      "plan --destroy --out exited \(plan.status) without writing destroy.plan: \(plan)")
    }

    func testAPlanMadeStaleByADifferentEnvironmentIsRefused() throws {
        try sandbox.write("s.yaml", """
            stack: {name: \(Self.stack)}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.file, name: greeting, properties: {path: greeting.txt, content: "${env.GREETING}"}}
            """)
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--out", "hello.plan"], environment: ["GREETING": "hello"]),
               exit: 0, "plan --out")
        let stale = try sandbox.maifctl(["apply", "hello.plan", "--state", "st"], environment: ["GREETING": "goodbye"])
        expect(stale, exit: 1, "apply with another environment")
        XCTAssertTrue(stale.stderr.contains("the stack (files, variables or environment) changed"), "\(stale)")
        XCTAssertFalse(sandbox.exists("deploy/greeting.txt"))

        let fresh = try sandbox.maifctl(["apply", "hello.plan", "--state", "st"], environment: ["GREETING": "hello"])
        expect(fresh, exit: 0, "apply with the environment it was made with")
        XCTAssertEqual(sandbox.read("deploy/greeting.txt"), "hello")
    }
}
