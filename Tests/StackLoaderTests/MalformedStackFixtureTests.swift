/// Every file in `Fixtures/malformed/` is a broken stack that names, in its leading comments, the diagnostics it must
/// produce:
///
///     # expect: <code> <line>:<column> <message substring>
///     # expect-hint: <hint substring>          (optional, applies to the expect line above it)
///
/// The loader must return no stack, report every expected error at exactly that position, and report no other error.

import Foundation
import StackLoader
import StackModel
import XCTest

struct ExpectedDiagnostic: CustomStringConvertible {
    var code: String
    var line: Int
    var column: Int
    var message: String
    var hint: String?

    var description: String { "\(code) \(line):\(column) «\(message)»" + (hint.map { " hint «\($0)»" } ?? "") }

    func matches(_ d: Diagnostic) -> Bool {
        d.severity == .error && d.code == code && d.location?.line == line && d.location?.column == column
            && d.message.contains(message) && (hint.map { d.hint?.contains($0) ?? false } ?? true)
    }

    /// Reads the `# expect:` and `# expect-hint:` comment lines of a fixture.
    static func parse(_ text: String) throws -> [ExpectedDiagnostic] {
        var out: [ExpectedDiagnostic] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# expect: ") {
                let parts = line.dropFirst("# expect: ".count).split(separator: " ", maxSplits: 2)
                let position = parts.count > 1 ? parts[1].split(separator: ":") : []
                guard parts.count == 3, position.count == 2, let l = Int(position[0]), let c = Int(position[1]) else {
                    throw FixtureError(message: "malformed expect line: \(line)")
                }
                out.append(ExpectedDiagnostic(code: String(parts[0]), line: l, column: c, message: String(parts[2])))
            } else if line.hasPrefix("# expect-hint: ") {
                guard !out.isEmpty else { throw FixtureError(message: "expect-hint before any expect line") }
                out[out.count - 1].hint = String(line.dropFirst("# expect-hint: ".count))
            }
        }
        return out
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Loads one fixture and checks it against its expect lines; a fixture without any expects must load cleanly.
func checkFixture(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws {
    let name = url.lastPathComponent
    let text = try String(contentsOf: url, encoding: .utf8)
    let expected = try ExpectedDiagnostic.parse(text)
    let result = load(text, file: name)
    let report = "\(name) produced:\n" + (result.diagnostics.isEmpty ? "(nothing)" : result.diagnostics.map(\.description)
        .joined(separator: "\n"))

    if expected.isEmpty {
        XCTAssertNotNil(result.stack, report, file: file, line: line)
        XCTAssertFalse(result.diagnostics.hasErrors, report, file: file, line: line)
        return
    }
    XCTAssertNil(result.stack, "\(name): a stack with errors must not be returned", file: file, line: line)
    for e in expected where !result.diagnostics.contains(where: e.matches) {
        XCTFail("\(name): missing expected \(e)\n\(report)", file: file, line: line)
    }
    for d in result.diagnostics where d.severity == .error && !expected.contains(where: { $0.matches(d) }) {
        XCTFail("\(name): unexpected \(d)", file: file, line: line)
    }
    let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
    for d in result.diagnostics {
        guard let loc = d.location else { continue }
        XCTAssertEqual(loc.file, name, file: file, line: line)
        XCTAssertTrue((1...lineCount).contains(loc.line) && loc.column >= 1, "\(name): \(d) is outside the file",
                      file: file, line: line)
    }
}

final class MalformedStackFixtureTests: XCTestCase {
    func testEveryMalformedFixtureReportsExactlyItsExpectedErrorsAtTheirPositions() throws {
        let files = try Fixtures.yamlFiles(in: "malformed")
        for url in files {
            let expected = try ExpectedDiagnostic.parse(String(contentsOf: url, encoding: .utf8))
            XCTAssertFalse(expected.isEmpty, "\(url.lastPathComponent) has no `# expect:` line")
            try checkFixture(url)
        }
        print("checked \(files.count) malformed stack fixtures")
    }

    func testThereAreAtLeastThirtyMalformedScenarios() throws {
        XCTAssertGreaterThanOrEqual(try Fixtures.yamlFiles(in: "malformed").count, 30)
    }

    func testAFileWithSeveralErrorsReportsThemAllSortedByPosition() throws {
        let text = try Fixtures.text("malformed/several-errors-across-sections.yaml")
        let result = load(text, file: "several.yaml")
        XCTAssertNil(result.stack)
        XCTAssertEqual(result.diagnostics.map(\.code), [
            "invalid-name", "invalid-value", "invalid-duration", "invalid-percentage", "out-of-range", "unknown-key",
        ])
        let positions = result.diagnostics.compactMap { $0.location.map { [$0.line, $0.column] } }
        XCTAssertEqual(positions, positions.sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertEqual(positions.count, result.diagnostics.count, "every one of these has a position")
    }

    func testDiagnosticsWithoutALocationComeAfterThoseWithOne() {
        let result = load("stack: {name: demo, cloud: nowhere}", variables: ["zzz": "1"])
        XCTAssertEqual(result.diagnostics.map(\.code), ["invalid-value", "unknown-variable"])
        XCTAssertNotNil(result.diagnostics.first?.location)
        XCTAssertNil(result.diagnostics.last?.location)
    }

    func testDiagnosticsRenderAsFileLineColumnWithCodeAndHint() {
        let d = load("stack: {name: demo}\nload_balancing: {strategy: fastest}", file: "s.yaml").diagnostics.first
        XCTAssertEqual(d?.description, """
            s.yaml:2:28: error: expected one of round_robin, least_connections, latency_aware, adaptive, weighted \
            for strategy, got "fastest" [invalid-value]
            """)
        let typo = load("stack: {name: demo}\nsecurty: {}", file: "s.yaml").diagnostics.first
        XCTAssertEqual(typo?.description, """
            s.yaml:2:1: error: unknown key 'securty' in the stack file [unknown-key]
                hint: did you mean 'security'?
            """)
    }

    func testAFileWithOnlyCommentsIsAnEmptyStack() {
        let result = load("# nothing here\n\n", file: "empty.yaml")
        assertSingleError(result, "empty-stack", at: (1, 1))
        XCTAssertEqual(result.diagnostics.first?.location?.file, "empty.yaml")
    }

    func testUnreadableFilesAreReportedWithoutALocation() {
        let result = StackLoader.load(files: ["/nonexistent/maifctl/stack.yaml"], options: LoadOptions.builtin(environment: [:]))
        let d = assertSingleError(result, "file-unreadable", hintContains: "no such file")
        XCTAssertNil(d?.location)
    }

    func testWindowsLineEndingsKeepPositions() {
        assertSingleError(load("stack: {name: demo}\r\nload_balancing:\r\n  strategy: nope\r\n"), "invalid-value", at: (3, 13))
    }

    func testAByteOrderMarkAtTheStartOfAnInMemorySourceIsIgnored() {
        assertSingleError(load("\u{FEFF}stack: {name: demo}\nload_balancing:\n  strategy: nope\n"), "invalid-value", at: (3, 13))
    }

    func testAByteOrderMarkAtTheStartOfAFileIsIgnored() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-bom-\(UUID()).yaml")
        try Data([0xEF, 0xBB, 0xBF] + Array("stack: {name: demo}\nload_balancing:\n  strategy: nope\n".utf8)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        assertSingleError(StackLoader.load(files: [file.path], options: LoadOptions.builtin(environment: [:])), "invalid-value",
                          at: (3, 13))
    }

    func testColumnsCountUnicodeScalarsNotBytes() {
        assertSingleError(load("stack: {name: demo, description: \"héllo wörld ✓\", cloud: nöpe}"), "invalid-value", at: (1, 58))
    }

    func testAnchorsAndAliasesAreExpandedAndMergeKeysAreNotSupported() throws {
        let stack = try loadStack(minimalHeader + """
            clusters:
              - name: c
                replication_factor: 1
                nodes:
                  - {id: n1, role: primary, resources: &r {cpu: 8, memory: 1Gi}}
                  - {id: n2, role: secondary, resources: *r}
            """)
        XCTAssertEqual(stack.clusters[0].nodes[1].resources.cpu, 8)
        assertSingleError(load(minimalHeader + "load_balancing: {<<: {strategy: weighted}}"), "unknown-key", at: (2, 18),
                          messageContains: "'<<'")
    }

    func testASecondDocumentInOneFileIsASyntaxError() {
        assertSingleError(load("stack: {name: a}\n---\nstack: {name: b}\n"), "yaml-syntax", at: (2, 1),
                          messageContains: "expected a single document")
    }

    func testANonScalarMappingKeyIsReported() {
        assertSingleError(load(minimalHeader + "? [a, b]\n: value\n"), "expected-scalar", at: (2, 3),
                          messageContains: "a mapping key must be a plain name, got a list")
    }
}
