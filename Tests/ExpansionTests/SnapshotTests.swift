import BuiltinProviders
import Expansion
import Foundation
import Planning
import ProviderKit
import StackLoader
import StackModel
import StateStore
import XCTest

/// Golden plans: for every shipped stack, the plan on empty state (addresses, types, planned attributes)
/// is compared with a reviewed snapshot. Re-record with MAIFCTL_RECORD_SNAPSHOTS=1 and review the diff.
final class SnapshotTests: XCTestCase {
    static let repoRoot = ShippedStackPlans.repoRoot
    static let snapshotDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    static func plan(stackFile: String) async throws -> Plan {
        try await ShippedStackPlans.plan(stackFile)
    }

    static func snapshotText(_ plan: Plan) -> String {
        // Planned values, except that a value not known before apply is shown as the reference it comes from,
        // so a change in the graph's wiring reads as a change in the snapshot.
        let items: [String: AttributeValue] = Dictionary(uniqueKeysWithValues: plan.changes.map { c in
            var values = c.after ?? [:]
            for (key, value) in values where !value.isKnown {
                if let configured = c.config?[key] { values[key] = configured }
            }
            return (c.address.description, AttributeValue.map(values))
        })
        return AttributeValue.map(items).canonicalJSON() + "\n"
    }

    func assertSnapshot(_ stackFile: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let plan = try await Self.plan(stackFile: stackFile)
        let name = URL(fileURLWithPath: stackFile).deletingPathExtension().lastPathComponent + ".plan.json"
        let url = Self.snapshotDir.appendingPathComponent(name)
        let text = Self.snapshotText(plan)
        if ProcessInfo.processInfo.environment["MAIFCTL_RECORD_SNAPSHOTS"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let recorded = try String(contentsOf: url, encoding: .utf8)
        if recorded != text {
            let actual = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            try? text.write(to: actual, atomically: true, encoding: .utf8)
            XCTFail("plan of \(stackFile) differs from \(name); compare: diff \(url.path) \(actual.path) (re-record with MAIFCTL_RECORD_SNAPSHOTS=1)",
                    file: file, line: line)
        }
    }

    func testLocalDemoPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/local-demo.yaml") }
}
