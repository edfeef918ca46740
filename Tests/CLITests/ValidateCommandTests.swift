/// `maifctl validate`: exit 0 for a valid stack, 1 for a stack with errors, 64 for a usage error; `--json` for machines.

import XCTest

final class ValidateCommandTests: CLITestCase {
    func testAValidStackExitsZeroWithASummary() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let run = try workdir.maifctl(["validate", "stack.yaml"])
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertTrue(run.stdout.contains("stack cli"), "\(run)")
        XCTAssertTrue(run.stdout.contains("3 raw resources"), "\(run)")
        XCTAssertFalse(run.stdout.contains("error"), "\(run)")
    }

    func testAStackWithErrorsExitsOneAndNamesFileLineAndColumn() throws {
        try workdir.write("broken.yaml", """
            stack: {name: cli}
            clusters:
              - name: web
                platform: local
                nodes:
                  - {id: n1, role: primary, port: 8080, colour: blue}
            """)
        let run = try workdir.maifctl(["validate", "broken.yaml"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stdout.contains("broken.yaml:6:"), "file:line of the unknown key: \(run)")
        XCTAssertTrue(run.stdout.contains("colour"), "\(run)")
        XCTAssertTrue(run.stderr.contains("nothing was changed"), "\(run)")
    }

    func testUsageErrorsExit64() throws {
        let noArguments = try workdir.maifctl(["validate"])
        XCTAssertEqual(noArguments.status, 64, "\(noArguments)")
        XCTAssertTrue(noArguments.stderr.contains("stack file"), "\(noArguments)")

        let missingFile = try workdir.maifctl(["validate", "nope.yaml"])
        XCTAssertEqual(missingFile.status, 64, "\(missingFile)")
        XCTAssertTrue(missingFile.stderr.contains("nope.yaml"), "\(missingFile)")

        let unknownFlag = try workdir.maifctl(["validate", "--frobnicate"])
        XCTAssertEqual(unknownFlag.status, 64, "\(unknownFlag)")
    }

    func testJSONIsAnArrayOfDiagnosticsWithPositionsAndHints() throws {
        try workdir.write("broken.yaml", """
            stack: {name: cli}
            resources:
              - {type: local.null, name: a, depends_on: [not-an-address]}
            """)
        let run = try workdir.maifctl(["validate", "--json", "broken.yaml"])
        XCTAssertEqual(run.status, 1, "\(run)")
        let items = try XCTUnwrap(try json(run) as? [[String: Any]], "\(run)")
        XCTAssertEqual(items.count, 1, "\(run)")
        let d = try XCTUnwrap(items.first)
        XCTAssertEqual(Set(d.keys), ["severity", "code", "message", "file", "line", "column", "hint"])
        XCTAssertEqual(d["severity"] as? String, "error")
        XCTAssertEqual(d["code"] as? String, "invalid-address")
        XCTAssertEqual(d["file"] as? String, "broken.yaml")
        XCTAssertEqual(d["line"] as? Int, 3)
        XCTAssertNotNil(d["column"] as? Int)

        try workdir.write("stack.yaml", twoNullStack)
        let valid = try workdir.maifctl(["validate", "--json", "stack.yaml"])
        XCTAssertEqual(valid.status, 0, "\(valid)")
        XCTAssertEqual((try json(valid) as? [Any])?.count, 0, "a valid stack is an empty array: \(valid)")
    }
}

/// `maifctl check` says what `plan` would: a value the platform cannot express is a warning there too, and a stack
/// that plan rejects does not pass.
final class CheckCommandTests: CLITestCase {
    func testCheckShowsThePlansWarningsAndFailsWhatPlanRejects() throws {
        try workdir.write("onprem.yaml", """
            stack: {name: cli, cloud: onprem}
            clusters:
              - name: site
                platform: onprem
                image: maif/maif-enterprise:latest
                nodes:
                  - {id: n1, role: primary, host: 10.0.1.10, port: 8080}
                  - {id: n2, role: secondary, host: 10.0.1.11, port: 8080}
                  - {id: n3, role: cache, port: 8080}
            """)
        let run = try workdir.maifctl(["check", "onprem.yaml"])
        XCTAssertEqual(run.status, 1, "a node without a host is rejected by plan, so check fails too: \(run)")
        XCTAssertTrue(run.stdout.contains("onprem.yaml:5:") && run.stdout.contains("[onprem-image-unused]"), "the image line is named: \(run)")
        XCTAssertTrue(run.stdout.contains("[onprem-node-without-host]"), "\(run)")
    }
}
