import XCTest

/// Golden plan of the multi-cloud stack (see SnapshotTests): AWS, GCP and Azure clusters side by side.
extension SnapshotTests {
    func testMultiCloudPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/multi-cloud.yaml") }
}
