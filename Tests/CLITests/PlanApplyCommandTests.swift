/// `maifctl plan` and `apply` end to end: the summary line, `--detailed-exitcode`, the versioned JSON plan,
/// the refusal to apply unattended without `--auto-approve`, and `destroy`.

import XCTest

final class PlanApplyCommandTests: CLITestCase {
    func testDetailedExitcodeIsTwoWithChangesAndZeroOnceApplied() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let before = try workdir.maifctl(["plan", "stack.yaml", "--detailed-exitcode"])
        XCTAssertEqual(before.status, 2, "\(before)")
        XCTAssertTrue(before.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "\(before)")
        XCTAssertTrue(before.stdout.contains("+ resource \"local.null\" \"b\""), "\(before)")
        XCTAssertTrue(before.stdout.contains("(known after apply)"), "\(before)")

        let plain = try workdir.maifctl(["plan", "stack.yaml"])
        XCTAssertEqual(plain.status, 0, "without the flag, changes are not an error: \(plain)")

        let apply = try workdir.maifctl(["apply", "stack.yaml", "--auto-approve"])
        XCTAssertEqual(apply.status, 0, "\(apply)")
        XCTAssertTrue(apply.stdout.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."), "\(apply)")
        XCTAssertTrue(workdir.exists("deploy/motd.txt"))
        XCTAssertEqual(try workdir.git(["log", "--format=%s"]), "apply cli: +3 ~0 -0")

        let after = try workdir.maifctl(["plan", "stack.yaml", "--detailed-exitcode"])
        XCTAssertEqual(after.status, 0, "\(after)")
        XCTAssertTrue(after.stdout.contains("No changes."), "\(after)")
    }

    func testDetailedExitcodeIsOneOnAnError() throws {
        try workdir.write("stack.yaml", """
            stack: {name: cli}
            resources:
              - {type: local.null, name: b, properties: {triggers: {up: "${local.null.missing.id}"}}}
            """)
        let run = try workdir.maifctl(["plan", "stack.yaml", "--detailed-exitcode"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stderr.contains("stack.yaml:3:") && run.stderr.contains("[unknown-reference]"), "\(run)")
    }

    func testApplyWithoutAutoApproveAndWithoutATerminalRefusesAndAppliesNothing() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let run = try workdir.maifctl(["apply", "stack.yaml"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stderr.contains("--auto-approve"), "the message says how to proceed: \(run)")
        XCTAssertFalse(workdir.exists("deploy/motd.txt"), "nothing was applied")
        XCTAssertEqual(try workdir.git(["log", "--oneline"]), "", "nothing was committed")

        let destroy = try workdir.maifctl(["destroy", "stack.yaml"])
        XCTAssertEqual(destroy.status, 0, "nothing recorded, so nothing to destroy or confirm: \(destroy)")
    }

    func testPlanJSONIsAVersionedDocument() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let first = try XCTUnwrap(try json(try workdir.maifctl(["plan", "stack.yaml", "--json"])) as? [String: Any])
        XCTAssertEqual(first["format_version"] as? String, "1")
        XCTAssertEqual(first["stack"] as? String, "cli")
        XCTAssertTrue(first.keys.contains("state_revision") && first["state_revision"] is NSNull, "null before the first apply: \(first)")
        XCTAssertEqual(first["summary"] as? [String: Int], ["create": 3, "update": 0, "replace": 0, "delete": 0])

        let changes = try XCTUnwrap(first["changes"] as? [[String: Any]])
        XCTAssertEqual(changes.compactMap { $0["address"] as? String }, ["local.file.motd", "local.null.a", "local.null.b"])
        let b = try XCTUnwrap(changes.last)
        for key in ["address", "type", "action", "before", "after", "after_unknown"] {
            XCTAssertTrue(b.keys.contains(key), "a change has \(key): \(b)")
        }
        XCTAssertEqual(b["type"] as? String, "local.null")
        XCTAssertEqual(b["action"] as? String, "create")
        XCTAssertTrue(b["before"] is NSNull)
        XCTAssertEqual(b["after_unknown"] as? [String], ["id", "triggers"])
        let motd = try XCTUnwrap(changes.first?["after"] as? [String: Any])
        XCTAssertEqual(motd["content"] as? String, "hello")

        XCTAssertEqual(try workdir.maifctl(["apply", "stack.yaml", "--auto-approve"]).status, 0)
        let second = try XCTUnwrap(try json(try workdir.maifctl(["plan", "stack.yaml", "--json"])) as? [String: Any])
        XCTAssertEqual(second["state_revision"] as? String, try workdir.git(["rev-parse", "HEAD"]))
        XCTAssertEqual(second["summary"] as? [String: Int], ["create": 0, "update": 0, "replace": 0, "delete": 0])
        let actions = (second["changes"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
        XCTAssertEqual(actions, ["no-op", "no-op", "no-op"])
        let applied = try XCTUnwrap((second["changes"] as? [[String: Any]])?.first?["before"] as? [String: Any])
        XCTAssertEqual(applied["content"] as? String, "hello", "before is the recorded state")
    }

    func testAFailingApplyExitsOneNamingTheResourceAndTheCall() throws {
        try workdir.write("stack.yaml", """
            stack: {name: cli}
            resources:
              - {type: local.null, name: flaky, properties: {fail: true}}
              - {type: local.null, name: after, depends_on: [local.null.flaky]}
              - {type: local.null, name: solid}
            """)
        let run = try workdir.maifctl(["apply", "stack.yaml", "--auto-approve"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stderr.contains("local.null.flaky: create failed"), "\(run)")
        XCTAssertTrue(run.stderr.contains("local.null.after"), "the skipped dependent is named: \(run)")
        let list = try workdir.maifctl(["state", "list", "--file", "stack.yaml"])
        XCTAssertEqual(list.stdout.split(separator: "\n"), ["local.null.solid"], "\(list)")
    }

    func testDestroyRemovesWhatApplyCreated() throws {
        try workdir.write("stack.yaml", twoNullStack)
        XCTAssertEqual(try workdir.maifctl(["apply", "stack.yaml", "--auto-approve"]).status, 0)
        let run = try workdir.maifctl(["destroy", "stack.yaml", "--auto-approve"])
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertTrue(run.stdout.contains("Plan: 0 to add, 0 to change, 3 to destroy."), "\(run)")
        XCTAssertTrue(run.stdout.contains("Destroy complete! Resources: 0 added, 0 changed, 3 destroyed."), "\(run)")
        XCTAssertFalse(workdir.exists("deploy/motd.txt"))
        XCTAssertEqual(try workdir.git(["log", "-1", "--format=%s"]), "destroy cli: +0 ~0 -3")
        XCTAssertEqual(try workdir.maifctl(["state", "list", "--file", "stack.yaml"]).stdout, "")
    }
}
