/// Drift: the local provider reads what is really on disk, so a hand edit shows up in the next plan
/// (with refresh on), apply repairs it, and a deleted directory is planned for re-creation.

import Planning
import XCTest

final class DriftTests: EngineTestCase {
    func testAHandEditedNodeFileIsDriftThatApplyRepairs() async throws {
        _ = try await sandbox.apply(clusterStack())
        let original = try XCTUnwrap(sandbox.contents("deploy/web/n1/node.yaml"))
        try sandbox.write(original.replacingOccurrences(of: "port: 8080", with: "port: 1234"), to: "deploy/web/n1/node.yaml")

        let planned = try await sandbox.plan(clusterStack())
        XCTAssertEqual(planned.plan?.pendingActions, ["local.node.web.n1": .update])
        let change = try XCTUnwrap(planned.plan?.change("local.node.web.n1"))
        XCTAssertEqual(Array(change.drift.keys), ["files"])
        XCTAssertTrue(change.drift["files"]?.actual?.mapValue?["node.yaml"]?.stringValue?.contains("port: 1234") ?? false)
        XCTAssertTrue(change.drift["files"]?.recorded?.mapValue?["node.yaml"]?.stringValue?.contains("port: 8080") ?? false)

        let applied = try await sandbox.apply(clusterStack())
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(sandbox.contents("deploy/web/n1/node.yaml"), original)
        let after = try await sandbox.plan(clusterStack())
        XCTAssertEqual(after.plan?.pendingActions, [:])
    }

    func testAHandEditedLoadBalancerConfigIsDriftThatApplyRepairs() async throws {
        _ = try await sandbox.apply(clusterStack(strategy: "round_robin"))
        let path = "deploy/web/load-balancer/load-balancer.json"
        let original = try XCTUnwrap(sandbox.contents(path))
        try sandbox.write(original.replacingOccurrences(of: "round_robin", with: "weighted"), to: path)

        let planned = try await sandbox.plan(clusterStack(strategy: "round_robin"))
        XCTAssertEqual(planned.plan?.pendingActions, ["local.load_balancer.web": .update])
        let drift = planned.plan?.change("local.load_balancer.web")?.drift
        XCTAssertEqual(drift?.keys.sorted(), ["strategy"])
        XCTAssertEqual(drift?["strategy"]?.recorded, "round_robin")
        XCTAssertEqual(drift?["strategy"]?.actual, "weighted")

        _ = try await sandbox.apply(clusterStack(strategy: "round_robin"))
        XCTAssertEqual(sandbox.contents(path), original)
    }

    func testAnUnreadableLoadBalancerConfigIsRewritten() async throws {
        _ = try await sandbox.apply(clusterStack())
        let path = "deploy/web/load-balancer/load-balancer.json"
        let original = try XCTUnwrap(sandbox.contents(path))
        try sandbox.write("{ not json", to: path)

        let applied = try await sandbox.apply(clusterStack())
        XCTAssertEqual(applied.plan.pendingActions, ["local.load_balancer.web": .update])
        XCTAssertEqual(sandbox.contents(path), original)
    }

    func testWithoutRefreshAHandEditIsNotSeen() async throws {
        _ = try await sandbox.apply(clusterStack())
        try sandbox.write("tampered\n", to: "deploy/web/n2/node.yaml")

        var options = PlanOptions()
        options.refresh = false
        let planned = try await sandbox.plan(clusterStack(), options)
        XCTAssertEqual(planned.plan?.pendingActions, [:])
        XCTAssertTrue(planned.plan?.changes.allSatisfy { $0.drift.isEmpty } ?? false)
    }

    func testADirectoryDeletedByHandIsPlannedForRecreation() async throws {
        _ = try await sandbox.apply(clusterStack())
        try FileManager.default.removeItem(atPath: sandbox.directory + "/deploy/web/n3")

        let planned = try await sandbox.plan(clusterStack())
        XCTAssertEqual(planned.plan?.pendingActions, ["local.node.web.n3": .create],
                       "the node's endpoint follows from its host and port, so the balancer already knows it at plan time")
        XCTAssertEqual(planned.plan?.change("local.node.web.n3")?.drift, .deletedOutOfBand)

        let applied = try await sandbox.apply(clusterStack())
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertTrue(sandbox.exists("deploy/web/n3/node.yaml"))
        XCTAssertTrue(sandbox.exists("deploy/web/n3/cluster.yaml"))
        let after = try await sandbox.plan(clusterStack())
        XCTAssertEqual(after.plan?.pendingActions, [:])
    }
}
