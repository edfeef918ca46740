/// Every command explains itself in `--help`; colour appears on a terminal only, and never with `--no-color`.

import Foundation
import XCTest

final class HelpAndColorTests: CLITestCase {
    func testTopLevelHelpListsTheSubcommands() throws {
        let run = try workdir.maifctl(["--help"])
        XCTAssertEqual(run.status, 0, "\(run)")
        let listed = subcommands(in: run.stdout).map(\.name)
        for name in ["validate", "plan", "apply", "destroy", "graph", "output", "state"] {
            XCTAssertTrue(listed.contains(name), "\(name) is listed: \(run)")
        }
    }

    func testEveryListedSubcommandHasHelpOpeningWithTheSamePurpose() throws {
        var commands: [(command: [String], abstract: String)] = []
        for parent in [[], ["state"]] {
            let run = try workdir.maifctl(parent + ["--help"])
            let listed = subcommands(in: run.stdout)
            XCTAssertFalse(listed.isEmpty, "\(run)")
            commands += listed.map { (parent + [$0.name], $0.abstract) }
        }
        let helps = try runConcurrently(commands.map { $0.command + ["--help"] })
        for ((command, abstract), help) in zip(commands, helps) {
            let name = (["maifctl"] + command).joined(separator: " ")
            XCTAssertEqual(help.status, 0, "\(name) --help: \(help)")
            let opening = abstract.split(separator: " ").prefix(5).joined(separator: " ")
            XCTAssertTrue(help.flatStdout.hasPrefix("OVERVIEW: \(opening)"), "\(name) --help opens with «\(opening)»: \(help)")
        }
    }

    /// Runs independent invocations side by side; help output does not touch the working directory.
    private func runConcurrently(_ invocations: [[String]]) throws -> [Run] {
        let results = Results(count: invocations.count)
        let workdir = self.workdir
        DispatchQueue.concurrentPerform(iterations: invocations.count) { i in
            results.set(i, Result { try workdir.maifctl(invocations[i]) })
        }
        return try results.all.map { try $0!.get() }
    }

    /// `(name, abstract)` pairs of a help text's SUBCOMMANDS section; abstracts may wrap onto indented lines.
    private func subcommands(in help: String) -> [(name: String, abstract: String)] {
        guard let section = help.range(of: "SUBCOMMANDS:") else { return [] }
        var out: [(name: String, abstract: String)] = []
        for line in help[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else {
                if line.hasPrefix("   "), !out.isEmpty { out[out.count - 1].abstract += " " + line.trimmingCharacters(in: .whitespaces) }
                continue
            }
            let words = line.split(separator: " ", maxSplits: 1)
            guard let name = words.first, words.count == 2 else { continue }
            out.append((String(name), words[1].trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    func testOutputIntoAPipeIsNeverColoured() throws {
        try workdir.write("stack.yaml", twoNullStack)
        let run = try workdir.maifctl(["plan", "stack.yaml"])
        XCTAssertEqual(run.status, 0, "\(run)")
        XCTAssertFalse(run.stdout.contains("\u{1B}["), "\(run)")
    }

    func testNoColorRemovesEveryEscapeCodeEvenOnATerminal() throws {
        try workdir.write("stack.yaml", twoNullStack)
        try workdir.write("broken.yaml", "stack: {name: cli}\nresources:\n  - {type: local.null, name: a, colour: red}\n")

        let coloured = try workdir.maifctlOnATerminal(["plan", "stack.yaml"])
        XCTAssertEqual(coloured.status, 0, "\(coloured)")
        XCTAssertTrue(coloured.stdout.contains("Plan:"), "\(coloured)")
        XCTAssertTrue(coloured.stdout.contains("\u{1B}["), "on a terminal the plan is coloured: \(coloured)")

        for command in [["plan", "stack.yaml"], ["validate", "broken.yaml"], ["validate", "stack.yaml"]] {
            let plain = try workdir.maifctlOnATerminal(command + ["--no-color"])
            XCTAssertFalse(plain.stdout.isEmpty, "\(plain)")
            XCTAssertFalse(plain.stdout.contains("\u{1B}["), "maifctl \(command.joined(separator: " ")) --no-color: \(plain)")
        }
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<Run, Error>?]

    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ result: Result<Run, Error>) { lock.withLock { items[i] = result } }
    var all: [Result<Run, Error>?] { lock.withLock { items } }
}
