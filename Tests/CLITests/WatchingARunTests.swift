/// Watching a run: `apply --json` events validated one by one against docs/apply-events.schema.json (python jsonschema,
/// Tests/CLITests/Checkers/validate_events.py); one line per finished resource with its time in a log; and on a real
/// terminal (tmux) a live status line with done/total and what is in flight for how long.

import Foundation
import XCTest

final class WatchingARunTests: CLITestCase {
    let failingStack = """
        stack: {name: watch}
        clouds: {local: {root: deploy}}
        resources:
          - {type: local.null, name: flaky, properties: {fail: true, delay_ms: 150}}
          - {type: local.null, name: after, depends_on: [local.null.flaky]}
          - {type: local.null, name: solid}
          - {type: local.file, name: motd, properties: {path: motd.txt, content: hello}}
        """

    func events(_ run: Run) throws -> [[String: Any]] {
        try run.stdout.split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    func validate(_ run: Run) throws -> [String: Any] {
        try workdir.write("events.jsonl", run.stdout)
        return try CITools.check("validate_events.py", [CITools.path("docs/apply-events.schema.json"), workdir.path + "/events.jsonl"], in: workdir)
    }

    func testAnApplyWithOneFailingResourceStreamsEventsThatAllMatchTheSchema() throws {
        try workdir.write("s.yaml", failingStack)
        let run = try workdir.maifctl(["apply", "s.yaml", "--auto-approve", "--json"])
        XCTAssertEqual(run.status, 1, "a failed resource fails the run: \(run)")
        let report = try validate(run)
        XCTAssertEqual(report["errors"] as? [String], [], "every event matches the published schema")
        let all = try events(run)
        XCTAssertEqual(report["lines"] as? Int, all.count)
        XCTAssertGreaterThanOrEqual(all.count, 8, "\(run.stdout)")
        XCTAssertEqual(all.first?["type"] as? String, "plan")
        XCTAssertEqual(all.last?["type"] as? String, "summary")
        XCTAssertEqual(all.filter { $0["type"] as? String == "summary" }.count, 1)
        XCTAssertTrue(all.allSatisfy { $0["format_version"] as? String == "1" })

        let plan = all[0]
        XCTAssertEqual(plan["steps"] as? Int, 4)
        XCTAssertEqual(plan["summary"] as? [String: Int], ["create": 4, "update": 0, "replace": 0, "delete": 0])

        let failed = try XCTUnwrap(all.first { $0["type"] as? String == "resource_failed" })
        XCTAssertEqual(failed["address"] as? String, "local.null.flaky")
        XCTAssertTrue((failed["error"] as? String)?.contains("simulated failure (fail: true)") == true, "the provider's error: \(failed)")
        XCTAssertGreaterThanOrEqual(failed["elapsed_seconds"] as? Double ?? 0, 0.14, "the time it took: \(failed)")
        let skipped = try XCTUnwrap(all.first { $0["type"] as? String == "resource_skipped" })
        XCTAssertEqual(skipped["address"] as? String, "local.null.after")
        XCTAssertEqual(skipped["because"] as? String, "local.null.flaky")
        let finished = all.filter { $0["type"] as? String == "resource_finished" }.compactMap { $0["address"] as? String }.sorted()
        XCTAssertEqual(finished, ["local.file.motd", "local.null.solid"])
        let started = all.filter { $0["type"] as? String == "resource_started" }.compactMap { $0["address"] as? String }.sorted()
        XCTAssertEqual(started, ["local.file.motd", "local.null.flaky", "local.null.solid"], "a skipped step never starts")

        let summary = try XCTUnwrap(all.last)
        XCTAssertEqual(summary["status"] as? String, "failed")
        XCTAssertEqual(summary["added"] as? Int, 2)
        XCTAssertEqual(summary["failed"] as? Int, 1)
        XCTAssertEqual(summary["skipped"] as? Int, 1)
        XCTAssertEqual(summary["state_commit"] as? String, try workdir.git(["rev-parse", "HEAD"]), "what finished is committed")
        XCTAssertTrue((summary["errors"] as? [String])?.first?.contains("local.null.flaky: create failed") == true, "\(summary)")
    }

    func testDestroyAndRefusalsAreEventsToo() throws {
        try workdir.write("s.yaml", twoNullStack)
        let refused = try workdir.maifctl(["apply", "s.yaml", "--json"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(try validate(refused)["errors"] as? [String], [])
        let last = try XCTUnwrap(try events(refused).last)
        XCTAssertEqual(last["status"] as? String, "refused")
        XCTAssertTrue((last["errors"] as? [String])?.first?.contains("--auto-approve") == true, "\(last)")
        XCTAssertFalse(workdir.exists("deploy/motd.txt"), "nothing applied")

        XCTAssertEqual(try workdir.maifctl(["apply", "s.yaml", "--auto-approve", "--json"]).status, 0)
        let none = try workdir.maifctl(["apply", "s.yaml", "--auto-approve", "--json"])
        XCTAssertEqual(try events(none).last?["status"] as? String, "no_changes")

        let destroy = try workdir.maifctl(["destroy", "s.yaml", "--auto-approve", "--json"])
        XCTAssertEqual(destroy.status, 0, "\(destroy)")
        XCTAssertEqual(try validate(destroy)["errors"] as? [String], [])
        let all = try events(destroy)
        XCTAssertEqual(all.first?["operation"] as? String, "destroy")
        XCTAssertEqual(all.filter { $0["type"] as? String == "resource_finished" }.count, 3)
        XCTAssertEqual(all.last?["status"] as? String, "succeeded")
        XCTAssertEqual(all.last?["destroyed"] as? Int, 3)
    }

    func testWithoutATerminalEachFinishedResourceIsOneLineWithItsTime() throws {
        try workdir.write("s.yaml", failingStack)
        let run = try workdir.maifctl(["apply", "s.yaml", "--auto-approve"])
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertFalse(lines.contains { $0.hasSuffix("Creating...") }, "no start lines, one line when done: \(run.stdout)")
        let done = lines.filter { $0.contains("complete after") }
        XCTAssertEqual(done.count, 2, "\(run.stdout)")
        for line in done {
            XCTAssertNotNil(line.range(of: #"^local\.(null|file)\.\w+: Creation complete after \d+\.\ds"#, options: .regularExpression), line)
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("local.null.flaky: Creation failed after 0.") && $0.hasSuffix("simulated failure (fail: true)") },
                      "\(run.stdout)")
        XCTAssertFalse(run.stdout.contains("\u{1B}["), "no terminal codes in a log")
    }

    /// tmux gives maifctl a real terminal; the pane is read while a slow resource is still in flight.
    func testOnATerminalALiveStatusLineShowsDoneTotalAndWhatIsInFlight() throws {
        let tmux = try CITools.tmux()
        try workdir.write("s.yaml", """
            stack: {name: watch}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.null, name: quick}
              - {type: local.null, name: slow, properties: {delay_ms: 6000}}
              - {type: local.file, name: motd, properties: {path: motd.txt, content: hello}}
            """)
        let socket = workdir.path + "/tmux.sock"
        let command = "cd '\(workdir.path)' && '\(try Maifctl.executable().path)' apply s.yaml --auto-approve; echo EXIT=$?; sleep 60"
        func tmuxRun(_ args: [String]) throws -> Run {
            try workdir.run(tmux, ["-S", socket] + args, environment: ["TERM": "xterm-256color"])
        }
        // The server tmux forks does not outlive a client started by Foundation's Process here (it is gone as soon as
        // the client returns); started through Python's subprocess it stays.
        let launcher = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"
        let started = try workdir.run(try CITools.tool("python"), ["-c", launcher, tmux.path, "-S", socket, "new-session", "-d", "-s", "watch",
                                                                   "-x", "160", "-y", "40", command],
                                      environment: ["TERM": "xterm-256color"])
        XCTAssertEqual(started.status, 0, "\(started)")
        defer { _ = try? tmuxRun(["kill-server"]) }   // the tmux server of this socket only

        var seen: String?
        var screen = ""
        var lastCapture: Run?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let capture = try tmuxRun(["capture-pane", "-p", "-t", "watch"])
            lastCapture = capture
            screen = capture.stdout
            if let line = screen.split(separator: "\n").first(where: { $0.contains("[2/3 done]") && $0.contains("in flight: local.null.slow (") }),
               line.range(of: #"local\.null\.slow \([2-5]s\)"#, options: .regularExpression) != nil {
                seen = String(line)
                break
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let status = try XCTUnwrap(seen, "no live status line with 2/3 done and the slow resource's time in flight; the screen:\n\(screen)\n(capture-pane: \(lastCapture.map { "\($0)" } ?? "not run"))")
        XCTAssertTrue(status.hasPrefix("[2/3 done] 1 in flight: local.null.slow ("), status)
        XCTAssertTrue(screen.contains("local.null.quick: Creation complete after"), "finished resources scroll above it:\n\(screen)")

        var final = ""
        let end = Date().addingTimeInterval(20)
        while Date() < end {
            final = try tmuxRun(["capture-pane", "-p", "-t", "watch"]).stdout
            if final.contains("EXIT=") { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTAssertTrue(final.contains("EXIT=0"), final)
        XCTAssertTrue(final.contains("Apply complete! Resources: 3 added"), final)
        XCTAssertFalse(final.contains("in flight:"), "the status line is cleared at the end:\n\(final)")
    }
}
