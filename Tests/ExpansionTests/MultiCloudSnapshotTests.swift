import Expansion
import StackLoader
import XCTest

/// Golden plan of the multi-cloud stack (see SnapshotTests): AWS, GCP and Azure clusters side by side.
extension SnapshotTests {
    func testMultiCloudPlanMatchesSnapshot() async throws {
        // Until every platform of the stack expands, the golden plan would record an unfinished expansion.
        let loaded = StackLoader.load(files: [Self.repoRoot.appendingPathComponent("stacks/multi-cloud.yaml").path],
                                      options: LoadOptions(variables: [:], environment: [:]))
        let unfinished = loaded.stack.map { Expander.expand($0).diagnostics.filter { $0.code == "platform-not-supported" } } ?? []
        if !unfinished.isEmpty { throw XCTSkip("not every platform of multi-cloud.yaml expands yet: \(unfinished.map(\.message))") }
        try await assertSnapshot("stacks/multi-cloud.yaml")
    }
}
