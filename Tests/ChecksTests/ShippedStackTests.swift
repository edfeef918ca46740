/// The stacks in `stacks/` are what people copy: each must load without a warning and pass every check.
/// The scenario: production.yaml with three mistakes reports exactly those three, with their lines.

import Checks
import Foundation
import StackLoader
import StackModel
import XCTest

final class ShippedStackTests: XCTestCase {
    static let stacksFolder = repositoryRoot.appendingPathComponent("stacks")

    func testEveryShippedStackLoadsCleanlyAndPassesEveryCheck() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.stacksFolder.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssert(names.contains("production.yaml") && names.contains("local-demo.yaml"), "stacks/ not found: \(names)")
        for name in names {
            let path = Self.stacksFolder.appendingPathComponent(name).path
            let result = StackLoader.load(files: [path], options: LoadOptions(variables: [:], environment: [:]))
            XCTAssertEqual(result.diagnostics.map(\.description), [], "stacks/\(name) does not validate cleanly")
            guard let stack = result.stack else { continue }
            XCTAssertEqual(Checker.run(stack).map(\.description), [], "stacks/\(name) does not pass maifctl check")
        }
    }

    func testProductionWithThreeMistakesReportsExactlyThose() throws {
        let original = try String(contentsOf: Self.stacksFolder.appendingPathComponent("production.yaml"), encoding: .utf8)
        let broken = original
            .replacingOnce("    replication_factor: 3\n    consistency_level: quorum",
                           with: "    replication_factor: 4\n    consistency_level: quorum")
            .replacingOnce("bucket: maif-backups-secondary\n      region: eu-west-1\n      encryption: true",
                           with: "bucket: maif-backups-secondary\n      region: eu-west-1\n      encryption: false")
            .replacingOnce("  rpo: 5m", with: "  rpo: 1m")

        let findings = try XCTUnwrap(CheckRun.findings(name: "production.yaml", text: broken))

        XCTAssertEqual(CheckRun.expectations(findings), [
            Expectation(rule: "quorum.replicas-fit-nodes", line: broken.lineNumber(of: "    replication_factor: 4")),
            Expectation(rule: "backup.rpo-achievable", line: broken.lineNumber(of: "  rpo: 1m")),
            Expectation(rule: "backup.encrypted", line: broken.lineNumber(of: "      encryption: false")),
        ].sorted(), findings.map(\.description).joined(separator: "\n"))
        XCTAssert(findings.allSatisfy { $0.severity == .error && $0.location?.file == "production.yaml" })
        let messages = findings.map(\.message).joined(separator: "\n")
        XCTAssert(messages.contains("replication_factor 4 but has 3 node(s)"), messages)
        XCTAssert(messages.contains("backup target 'maif-backups-secondary' is not encrypted"), messages)
        XCTAssert(messages.contains("rpo 1m is shorter than the most frequent backup (every 5m)"), messages)
    }
}
