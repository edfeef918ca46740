import XCTest

/// Golden plans of the container-platform stacks (see SnapshotTests).
extension SnapshotTests {
    func testKubernetesPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/kubernetes.yaml") }

    func testSwarmPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/swarm.yaml") }
}

/// The hybrid stack: on-prem hosts next to aws and gcp clusters, with data placement.
extension SnapshotTests {
    func testHybridPlanMatchesSnapshot() async throws { try await assertSnapshot("stacks/hybrid.yaml") }
}
