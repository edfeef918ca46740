import XCTest

/// Golden plans of the container-platform stacks (see SnapshotTests).
extension SnapshotTests {
    func testKubernetesPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/kubernetes.yaml") }

    func testSwarmPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/swarm.yaml") }
}
