/// `maifctl graph` (DOT and Mermaid), `state list | show | log` and `output`, run end to end.

import XCTest

final class GraphAndStateCommandTests: CLITestCase {
    func testGraphAsDOTHasAnEdgeFromEachDependencyToItsDependent() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let run = try workdir.maifctl(["graph", "stack.yaml", "--format", "dot"])
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertTrue(run.stdout.hasPrefix("digraph"), "\(run)")
        XCTAssertTrue(run.stdout.contains("\"local.null.a\" -> \"local.null.b\""), "\(run)")
        XCTAssertTrue(run.stdout.contains("\"local.file.motd\""), "a resource without edges is still drawn: \(run)")
        XCTAssertEqual(run.stdout.components(separatedBy: "->").count - 1, 1, "exactly one edge: \(run)")
    }

    func testGraphAsMermaidHasTheSameEdge() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let run = try workdir.maifctl(["graph", "stack.yaml", "--format", "mermaid"])
        XCTAssertEqual(run.status, 0, "\(run)")
        let lines = run.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(lines.first, "graph TD", "\(run)")
        func id(_ label: String) -> String? {
            lines.first { $0.hasSuffix("[\"\(label)\"]") }.map { String($0.prefix { $0 != "[" }) }
        }
        let a = try XCTUnwrap(id("local.null.a"), "\(run)"), b = try XCTUnwrap(id("local.null.b"), "\(run)")
        XCTAssertTrue(lines.contains("\(a) --> \(b)"), "\(run)")
    }

    func testGraphOfACycleFailsNamingTheCycle() throws {
        try workdir.write("stack.yaml", """
            stack: {name: cli}
            resources:
              - {type: local.null, name: a, depends_on: [local.null.b]}
              - {type: local.null, name: b, depends_on: [local.null.a]}
            """)
        let run = try workdir.maifctl(["graph", "stack.yaml", "--format", "dot"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stderr.contains("[dependency-cycle]"), "\(run)")
        XCTAssertTrue(run.stderr.contains("stack.yaml:3") && run.stderr.contains("stack.yaml:4"), "\(run)")
    }

    func testStateListShowAndLogReadTheRecordedState() throws {
        try workdir.write("stack.yaml", twoNullStack)
        XCTAssertEqual(try workdir.maifctl(["apply", "stack.yaml", "--auto-approve"]).status, 0)

        let list = try workdir.maifctl(["state", "list", "--file", "stack.yaml"])
        XCTAssertEqual(list.status, 0, "\(list)")
        XCTAssertEqual(list.stdout.split(separator: "\n"), ["local.file.motd", "local.null.a", "local.null.b"])
        XCTAssertEqual(try workdir.maifctl(["state", "list", "--stack", "cli"]).stdout, list.stdout, "by stack name too")

        let show = try workdir.maifctl(["state", "show", "--file", "stack.yaml", "--address", "local.file.motd"])
        XCTAssertEqual(show.status, 0, "\(show)")
        XCTAssertTrue(show.stdout.contains("# local.file.motd"), "\(show)")
        XCTAssertTrue(show.stdout.contains("content = \"hello\""), "\(show)")
        let showB = try workdir.maifctl(["state", "show", "--file", "stack.yaml", "--address", "local.null.b"])
        XCTAssertTrue(showB.stdout.contains("depends on: local.null.a"), "\(showB)")

        let shown = try workdir.maifctl(["state", "show", "--file", "stack.yaml", "--address", "local.file.motd", "--json"])
        XCTAssertEqual(shown.stdout, try String(contentsOfFile: workdir.path + "/state/cli/resources/local/file/motd.json", encoding: .utf8),
                       "--json prints the state file as stored")

        let missing = try workdir.maifctl(["state", "show", "--file", "stack.yaml", "--address", "local.null.zzz"])
        XCTAssertEqual(missing.status, 1, "\(missing)")
        XCTAssertTrue(missing.stderr.contains("local.null.zzz"), "\(missing)")

        let log = try workdir.maifctl(["state", "log", "--file", "stack.yaml"])
        XCTAssertEqual(log.status, 0, "\(log)")
        XCTAssertTrue(log.stdout.contains("apply cli: +3 ~0 -0"), "\(log)")
        let head = try workdir.git(["rev-parse", "HEAD"])
        XCTAssertTrue(log.stdout.hasPrefix(String(head.prefix(12))), "newest first, by commit id: \(log)")
    }

    func testStateCommandsWithoutAStateDirectorySayWhatToDo() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let run = try workdir.maifctl(["state", "list", "--file", "stack.yaml"])
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stderr.contains("maifctl apply"), "\(run)")
    }

    func testOutputPrintsTheNodeEndpointsRecordedByApply() throws {
        // The demo passes `maifctl check`, which apply runs first for stacks with clusters.
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../stacks/local-demo.yaml")
        try workdir.write("demo.yaml", String(contentsOf: demo, encoding: .utf8))
        let apply = try workdir.maifctl(["apply", "demo.yaml", "--auto-approve"])
        XCTAssertEqual(apply.status, 0, "\(apply)")

        let run = try workdir.maifctl(["output", "--file", "demo.yaml"])
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertTrue(run.stdout.contains("endpoints"), "\(run)")
        XCTAssertTrue(run.stdout.contains("http://127.0.0.1:8080"), "\(run)")
        let one = try workdir.maifctl(["output", "--file", "demo.yaml", "endpoints", "--json"])
        XCTAssertEqual(one.status, 0, "\(one)")
        let endpoints = try XCTUnwrap(try json(one) as? [String: String], "\(one)")
        XCTAssertEqual(endpoints["local.node.demo-cluster.node-3"], "http://127.0.0.1:8082")
    }
}
