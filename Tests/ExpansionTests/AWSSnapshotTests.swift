import XCTest

/// Golden plans of the AWS stacks (see SnapshotTests).
extension SnapshotTests {
    func testProductionPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/production.yaml") }
    func testMultiRegionPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/multi-region.yaml") }
}
