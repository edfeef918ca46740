/// Check fixtures: stack files whose `# expect: RULE-ID LINE` header lines list every finding the
/// catalogue must report on them, and nothing else.

import Checks
import Foundation
import StackLoader
import StackModel
import XCTest

/// One finding as the fixtures write it: which rule, on which line.
struct Expectation: Hashable, Comparable, CustomStringConvertible {
    var rule: String
    var line: Int

    static func < (a: Expectation, b: Expectation) -> Bool { (a.line, a.rule) < (b.line, b.rule) }
    var description: String { "\(rule) \(line)" }
}

struct CheckFixture {
    /// Relative to the fixture folder, e.g. `fires/quorum.majority.yaml`; also the file name in diagnostics.
    var name: String
    var text: String

    /// `Fixtures/fires` holds a stack that breaks one rule, `Fixtures/passes` the same stack with the problem fixed.
    static func named(_ kind: String, _ rule: String) -> CheckFixture? {
        let name = "\(kind)/\(rule).yaml"
        guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { return nil }
        return CheckFixture(name: name, text: text)
    }

    static var folder: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    /// The rule ids that have a fixture of this kind.
    static func rules(_ kind: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(kind).path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The `# expect:` lines of the header, sorted by line.
    var expectations: [Expectation] {
        text.split(separator: "\n").compactMap { line -> Expectation? in
            guard line.hasPrefix("# expect:") else { return nil }
            let words = line.dropFirst("# expect:".count).split(separator: " ")
            guard words.count == 2, let n = Int(words[1]) else {
                XCTFail("\(name): malformed expectation '\(line)', want `# expect: RULE-ID LINE`")
                return nil
            }
            return Expectation(rule: String(words[0]), line: n)
        }.sorted()
    }
}

enum CheckRun {
    /// Loads a stack text without `--var`s or environment and runs the catalogue on it.
    /// Fails the test when the loader reports anything: a fixture must be a valid stack.
    static func findings(name: String, text: String, skip: Set<String> = [],
                         file: StaticString = #filePath, line: UInt = #line) -> [Diagnostic]? {
        let result = StackLoader.load(sources: [(name: name, text: text)], options: LoadOptions(variables: [:], environment: [:]))
        XCTAssertEqual(result.diagnostics.map(\.description), [], "\(name) does not load cleanly", file: file, line: line)
        guard let stack = result.stack else { return nil }
        return Checker.run(stack, skip: skip)
    }

    /// The findings as rule and line, sorted like the fixtures' expectations.
    static func expectations(_ diagnostics: [Diagnostic]) -> [Expectation] {
        diagnostics.map { Expectation(rule: $0.code, line: $0.location?.line ?? 0) }.sorted()
    }
}

/// The repository root, found from this file's path (Tests/ChecksTests/CheckFixture.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

extension String {
    /// The text with `old` replaced by `new`; fails the test unless `old` occurs exactly once.
    func replacingOnce(_ old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let parts = components(separatedBy: old)
        XCTAssertEqual(parts.count, 2, "expected exactly one '\(old)'", file: file, line: line)
        return parts.joined(separator: new)
    }

    /// The 1-based line on which `needle` first occurs, or 0.
    func lineNumber(of needle: String) -> Int {
        guard let range = range(of: needle) else { return 0 }
        return self[..<range.lowerBound].filter { $0 == "\n" }.count + 1
    }
}
