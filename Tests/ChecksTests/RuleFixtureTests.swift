/// Every rule of the catalogue has a fixture that fires it (with the exact lines of its findings) and a
/// near-identical one, with the problem fixed, on which it stays quiet. A new rule without fixtures fails here.

import Checks
import StackModel
import XCTest

final class RuleFixtureTests: XCTestCase {
    func testEveryRuleFiresOnItsFixtureAtTheExpectedLines() throws {
        for rule in Checker.rules {
            guard let fixture = CheckFixture.named("fires", rule.id) else {
                XCTFail("rule \(rule.id) has no Fixtures/fires/\(rule.id).yaml")
                continue
            }
            XCTAssert(fixture.expectations.contains { $0.rule == rule.id },
                      "\(fixture.name) must expect at least one \(rule.id) finding")
            try assertFindings(of: fixture)
        }
    }

    func testEveryRuleIsQuietOnItsFixedFixture() throws {
        for rule in Checker.rules {
            guard let fixture = CheckFixture.named("passes", rule.id) else {
                XCTFail("rule \(rule.id) has no Fixtures/passes/\(rule.id).yaml")
                continue
            }
            XCTAssertFalse(fixture.expectations.contains { $0.rule == rule.id }, "\(fixture.name) must not expect \(rule.id)")
            try assertFindings(of: fixture)
        }
    }

    func testEveryFixtureBelongsToARule() {
        let ids = Set(Checker.rules.map(\.id))
        for kind in ["fires", "passes"] {
            let rules = CheckFixture.rules(kind)
            XCTAssertFalse(rules.isEmpty, "no fixtures found in Fixtures/\(kind)")
            for id in rules { XCTAssert(ids.contains(id), "Fixtures/\(kind)/\(id).yaml names no rule of the catalogue") }
        }
    }

    /// The fixture produces exactly its expected findings, each with its rule's severity and a message and hint.
    private func assertFindings(of fixture: CheckFixture, file: StaticString = #filePath, line: UInt = #line) throws {
        let findings = try XCTUnwrap(CheckRun.findings(name: fixture.name, text: fixture.text), file: file, line: line)
        XCTAssertEqual(CheckRun.expectations(findings), fixture.expectations,
                       "\(fixture.name):\n" + findings.map(\.description).joined(separator: "\n"), file: file, line: line)
        let severities = Dictionary(uniqueKeysWithValues: Checker.rules.map { ($0.id, $0.severity) })
        for finding in findings {
            XCTAssertEqual(finding.severity, severities[finding.code], "\(fixture.name): \(finding)", file: file, line: line)
            XCTAssertEqual(finding.location?.file, fixture.name, file: file, line: line)
            XCTAssertFalse(finding.message.isEmpty, file: file, line: line)
            XCTAssertFalse(finding.hint?.isEmpty ?? true, "\(fixture.name): \(finding.code) has no fix hint", file: file, line: line)
        }
    }
}
