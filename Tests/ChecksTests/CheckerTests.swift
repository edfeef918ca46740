/// The checker around the rules: `skip:`, the catalogue's ids, docs/checks.md, and the boundaries the
/// catalogue chose on purpose (each one is described in docs/checks.md).

import Checks
import Foundation
import StackLoader
import StackModel
import XCTest

final class CheckerTests: XCTestCase {
    /// A stack that passes every rule: the fixed fixture of the load-balancing rule.
    private var clean: String { CheckFixture.named("passes", "lb.health-checks")!.text }

    // MARK: --skip-check

    func testSkipTurnsARulesErrorsIntoWarnings() throws {
        let fixture = try XCTUnwrap(CheckFixture.named("fires", "backup.encrypted"))
        let blocking = try XCTUnwrap(CheckRun.findings(name: fixture.name, text: fixture.text))
        XCTAssertEqual(blocking.map(\.severity), [.error])
        XCTAssert(blocking.hasErrors)

        let skipped = try XCTUnwrap(CheckRun.findings(name: fixture.name, text: fixture.text, skip: ["backup.encrypted"]))
        XCTAssertEqual(skipped.count, 1)
        XCTAssertEqual(skipped.first?.severity, .warning)
        XCTAssertEqual(skipped.first?.code, "backup.encrypted")
        XCTAssertEqual(skipped.first?.location, blocking.first?.location)
        XCTAssertEqual(skipped.first?.message, "\(blocking[0].message) (skipped with --skip-check)")
        XCTAssertFalse(skipped.hasErrors, "a skipped rule no longer blocks apply")
    }

    func testSkipAffectsOnlyTheNamedRule() throws {
        let fixture = try XCTUnwrap(CheckFixture.named("fires", "quorum.consistency-needs-three"))
        let other = try XCTUnwrap(CheckRun.findings(name: fixture.name, text: fixture.text, skip: ["backup.encrypted"]))
        XCTAssertEqual(other.map(\.severity), [.warning, .error], "odd-voters is a warning, consistency-needs-three an error")

        let skipped = try XCTUnwrap(CheckRun.findings(name: fixture.name, text: fixture.text, skip: ["quorum.consistency-needs-three"]))
        XCTAssertEqual(skipped.map(\.code), ["quorum.odd-voters", "quorum.consistency-needs-three"])
        XCTAssertEqual(skipped.map(\.severity), [.warning, .warning])
        XCTAssertFalse(skipped[0].message.contains("skipped"), "a warning-level rule that was not skipped keeps its message")
    }

    // MARK: The catalogue

    func testRuleIdsAreUniqueAndDotted() {
        let ids = Checker.rules.map(\.id)
        XCTAssertEqual(Set(ids).count, ids.count, "duplicate rule ids")
        for rule in Checker.rules {
            let parts = rule.id.split(separator: ".")
            XCTAssertEqual(parts.count, 2, "\(rule.id): want area.name")
            XCTAssert(rule.id.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "." || $0 == "-" }, rule.id)
            XCTAssertFalse(rule.summary.isEmpty, rule.id)
        }
    }

    func testDocsDescribeEveryRuleWithItsSeverity() throws {
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let documented = docs.split(separator: "\n").filter { $0.hasPrefix("### `") }.map { $0.split(separator: "`")[1] }
        XCTAssertEqual(documented.map(String.init), Checker.rules.map(\.id), "docs/checks.md: one `### `id`` heading per rule, in catalogue order")
        for rule in Checker.rules {
            guard let start = docs.range(of: "### `\(rule.id)`") else { continue }
            let section = docs[start.upperBound...].prefix(400)
            XCTAssert(section.contains("**Severity:** \(rule.severity.rawValue)"), "docs/checks.md: \(rule.id) severity")
        }
    }

    // MARK: Boundaries chosen on purpose

    func testHealthChecksAsOftenAsFailureDetectionAreAllowed() throws {
        // The guide itself uses 30s health checks and a 30s failure-detection timeout.
        XCTAssertEqual(try findings(clean), [])
        let slower = clean.replacingOnce("health_check_interval: 30s", with: "health_check_interval: 31s")
        XCTAssertEqual(try findings(slower).map(\.code), ["lb.detects-before-failover"])
    }

    func testAnEvenReplicaCountBeyondTheNodesIsReportedOnlyAsNotFitting() throws {
        let text = clean.replacingOnce("    replication_factor: 3", with: "    replication_factor: 4")
        XCTAssertEqual(try findings(text).map(\.code), ["quorum.replicas-fit-nodes"])
    }

    func testAQuorumLargerThanTheReplicasCanNeverBeReached() throws {
        let text = clean.replacingOnce("quorum_size: 2", with: "quorum_size: 4")
        let found = try findings(text)
        XCTAssertEqual(found.map(\.code), ["quorum.majority"])
        XCTAssert(found.first?.message.contains("can never be reached") == true, found.description)
    }

    func testASingleReplicaNeedsNoPartitionProtection() throws {
        let text = clean.replacingOnce("    replication_factor: 3\n", with: "    replication_factor: 1\n    consistency_level: one\n")
            .replacingOnce("    consistency_level: quorum\n", with: "")
            .replacingOnce("  replication_factor: 3\n  quorum_size: 2", with: """
              replication_factor: 1
              quorum_size: 1
              failure_detection: {network_partition_detection: false}
            """)
            .replacingOnce("min_nodes: 3", with: "min_nodes: 1")
        XCTAssertEqual(try findings(text), [])
    }

    func testAutoscalingMinAboveMaxIsALoadErrorNotACheck() {
        let text = clean.replacingOnce("max_nodes: 20", with: "max_nodes: 2")
        let result = StackLoader.load(sources: [(name: "min-max.yaml", text: text)], options: LoadOptions(variables: [:], environment: [:]))
        XCTAssertNil(result.stack)
        XCTAssertEqual(result.diagnostics.map(\.code), ["min-greater-than-max"])
        XCTAssertEqual(result.diagnostics.first?.location?.line, text.lineNumber(of: "min_nodes: 3"))
    }

    func testAStackWithoutSectionsIsPointedAtItsStackSection() throws {
        let text = "stack:\n  name: bare\n  cloud: local\nclusters:\n  - {name: c1, nodes: [{id: n1, role: primary}], replication_factor: 1, consistency_level: one}\n"
        let found = try findings(text)
        XCTAssertEqual(Set(found.map(\.code)), [
            "security.tls", "security.authentication", "security.audit-logging", "monitoring.enabled",
            "backup.configured", "lb.health-checks", "scaling.configured",
        ])
        XCTAssert(found.allSatisfy { $0.location?.line == 2 }, found.description)
    }

    private func findings(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Diagnostic] {
        try XCTUnwrap(CheckRun.findings(name: "inline.yaml", text: text, file: file, line: line), file: file, line: line)
    }
}
