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
        let progress = apply.stdout.split(separator: "\n").filter { $0.contains(" complete after ") }
            .map { String($0.prefix(while: { $0 != " " })) + " " + String($0.split(separator: " ")[1]) }.sorted()
        XCTAssertEqual(progress, ["local.file.p1: Modifications", "local.file.p3: Destruction", "local.file.p4: Creation"], "\(apply)")
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
        XCTAssertTrue(stale.stderr.contains("the saved plan is stale: stack file s.yaml changed since the plan was made"),
                      "the refusal names the file that changed: \(stale)")
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
        XCTAssertTrue(stale.stderr.contains("the configuration of resource local.file.greeting resolves differently now (the environment it reads changed)"),
                      "names the resource whose configuration moved: \(stale)")
        XCTAssertFalse(sandbox.exists("deploy/greeting.txt"))

        let fresh = try sandbox.maifctl(["apply", "hello.plan", "--state", "st"], environment: ["GREETING": "hello"])
        expect(fresh, exit: 0, "apply with the environment it was made with")
        XCTAssertEqual(sandbox.read("deploy/greeting.txt"), "hello")
    }

    /// A stack of a base file and an overlay (merged in order): the refusal names the one that was edited, before the
    /// stack is even loaded (an edit can make it another stack, or no stack at all).
    func testAnEditedOverlayIsNamedAndAnEditThatBreaksTheStackIsStillNamedAsTheEdit() throws {
        try sandbox.write("base.yaml", stackFile(["p1": "one"]))
        try sandbox.write("overlay.yaml", "resources:\n  - {type: local.file, name: p1, properties: {path: p1.txt, content: \"one, overlaid\"}}\n")
        expect(try sandbox.maifctl(["plan", "base.yaml", "overlay.yaml", "--state", "st", "--out", "o.plan"]), exit: 0, "plan --out")
        try sandbox.write("overlay.yaml", "resources:\n  - {type: local.file, name: p1, properties: {path: p1.txt, content: \"one, edited\"}}\n")
        let stale = try sandbox.maifctl(["apply", "o.plan", "--state", "st"])
        expect(stale, exit: 1, "apply after the overlay was edited")
        XCTAssertTrue(stale.stderr.contains("stack file overlay.yaml changed since the plan was made"), "\(stale)")
        XCTAssertFalse(stale.stderr.contains("base.yaml changed"), "\(stale)")

        try sandbox.write("overlay.yaml", "resources: [unclosed\n")
        let broken = try sandbox.maifctl(["apply", "o.plan", "--state", "st"])
        expect(broken, exit: 1, "apply after the overlay was broken")
        XCTAssertTrue(broken.stderr.contains("stack file overlay.yaml changed since the plan was made"), "\(broken)")
        XCTAssertFalse(sandbox.exists("deploy/p1.txt"), "nothing applied")

        try FileManager.default.removeItem(atPath: sandbox.url("overlay.yaml").path)
        let missing = try sandbox.maifctl(["apply", "o.plan", "--state", "st"])
        XCTAssertTrue(missing.stderr.contains("stack file overlay.yaml, which the plan was made from, cannot be read here"), "\(missing)")
    }

    func testAPlanMadeWithOtherVariablesIsRefusedNamingThem() throws {
        try sandbox.write("s.yaml", """
            stack:
              name: \(Self.stack)
              variables: {greeting: hello, name: world}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.file, name: greeting, properties: {path: greeting.txt, content: "${var.greeting}, ${var.name}"}}
            """)
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--var", "greeting=hi", "--out", "v.plan"]), exit: 0, "plan --out")
        let stale = try sandbox.maifctl(["apply", "v.plan", "--state", "st"])
        expect(stale, exit: 1, "apply without the --var plan had")
        XCTAssertTrue(stale.stderr.contains("the value of variable greeting changed since the plan was made"), "\(stale)")
        XCTAssertFalse(stale.stderr.contains("variable name") || stale.stderr.contains("variables greeting, name"), "only what moved: \(stale)")
        let saved = try XCTUnwrap(sandbox.read("v.plan"))
        XCTAssertFalse(saved.contains("\"hi\""), "the variable's value is not in the file, only a keyed digest")
        expect(try sandbox.maifctl(["apply", "v.plan", "--state", "st", "--var", "greeting=hi"]), exit: 0, "apply with the same --var")
        XCTAssertEqual(sandbox.read("deploy/greeting.txt"), "hi, world")
    }

    func testAPlanMadeByAnotherMaifctlVersionIsRefusedNamingBoth() throws {
        try sandbox.write("s.yaml", stackFile(["p1": "one"]))
        expect(try sandbox.maifctl(["plan", "s.yaml", "--state", "st", "--out", "x.plan"]), exit: 0, "plan --out")
        let text = try XCTUnwrap(sandbox.read("x.plan"))
        let version = try XCTUnwrap(text.range(of: #""maifctlVersion" : "[^"]+""#, options: .regularExpression), text)
        try sandbox.write("x.plan", text.replacingCharacters(in: version, with: #""maifctlVersion" : "0.0.9""#))
        let other = try sandbox.maifctl(["apply", "x.plan", "--state", "st"])
        expect(other, exit: 1, "apply of a plan from another maifctl")
        XCTAssertTrue(other.stderr.contains("the saved plan was made by maifctl 0.0.9, and this is maifctl 0."), "\(other)")
        XCTAssertFalse(sandbox.exists("deploy/p1.txt"))
    }
}
