/// The lifecycle of a stack, as the specification: plan → apply → plan converges; a changed value is an
/// update, a removed node a delete, a force-new change a replace; destroy leaves nothing behind.

import Engine
import Foundation
import Planning
import StackLoader
import StackModel
import XCTest

/// A local cluster of nodes behind a load balancer; each argument is one thing a user might edit.
func clusterStack(ports: [Int] = [8080, 8081, 8082], strategy: String = "round_robin", extra: String = "") -> String {
    let nodes = ports.enumerated().map { i, port in
        "      - {id: n\(i + 1), role: \(i == 0 ? "primary" : "secondary"), port: \(port)}"
    }
    return """
        stack: {name: shop}
        clouds:
          local: {root: deploy}
        clusters:
          - name: web
            platform: local
            replication_factor: \(min(2, ports.count))
            nodes:
        \(nodes.joined(separator: "\n"))
        load_balancing:
          strategy: \(strategy)
        \(extra)
        """
}

final class LifecycleTests: EngineTestCase {
    func testPlanApplyPlanConvergesToNoChanges() async throws {
        let first = try await sandbox.plan(clusterStack())
        XCTAssertEqual(first.plan?.actions, [
            "local.load_balancer.web": .create,
            "local.node.web.n1": .create, "local.node.web.n2": .create, "local.node.web.n3": .create,
        ])
        XCTAssertNil(first.plan?.stateRevision, "nothing was applied yet")

        let applied = try await sandbox.apply(clusterStack())
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertTrue(sandbox.contents("deploy/web/n1/node.yaml")?.contains("port: 8080") ?? false)
        XCTAssertTrue(sandbox.contents("deploy/web/n3/cluster.yaml")?.contains("replication_factor: 2") ?? false)
        XCTAssertTrue(sandbox.contents("deploy/web/load-balancer/load-balancer.json")?.contains("http://127.0.0.1:8082") ?? false,
                      "the load balancer's targets are the nodes' real endpoints")

        let second = try await sandbox.plan(clusterStack())
        XCTAssertEqual(second.plan?.pendingActions, [:])
        XCTAssertEqual(second.plan?.hasChanges, false)
        XCTAssertEqual(second.plan?.stateRevision, applied.commit)
    }

    func testEveryShippedStackThatRunsOnLocalConvergesAndDestroysCleanly() async throws {
        let stacks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../stacks").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: stacks.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var converged: [String] = []
        for name in files {
            // Stacks that need another provider than local do not open or plan here; the others must converge.
            let opened = await sandbox.engine().open(StackSource(files: [stacks.path + "/" + name]), stateDirectory: sandbox.stateDirectory)
            guard let session = opened.value else { continue }
            let first = await session.plan()
            guard let plan = first.plan, !first.diagnostics.hasErrorCode("platform-not-supported") else { continue }
            XCTAssertTrue(plan.summary.create > 0, name)

            let text = try String(contentsOfFile: stacks.path + "/" + name, encoding: .utf8)
            let applied = try await sandbox.apply(text)
            XCTAssertTrue(applied.succeeded, "\(name): \(applied.failures)")
            let again = try await sandbox.plan(text)
            XCTAssertEqual(again.plan?.pendingActions, [:], "\(name) must converge after one apply")

            let destroyed = try await sandbox.destroy(text)
            XCTAssertTrue(destroyed.succeeded, "\(name): \(destroyed.failures)")
            XCTAssertEqual(sandbox.deployedFiles(), [], "\(name): destroy leaves no file behind")
            XCTAssertEqual(try sandbox.recordedState(session.name).addresses, [])
            converged.append(name)
        }
        XCTAssertTrue(converged.contains("local-demo.yaml"), "the local demo must run on local; converged: \(converged)")
    }

    func testAChangedPortIsAnUpdateInPlaceThatRewritesTheNodeFiles() async throws {
        _ = try await sandbox.apply(clusterStack())
        let idBefore = try sandbox.recordedState("shop").record("local.node.web.n1")?.id

        let plan = try await sandbox.plan(clusterStack(ports: [9090, 8081, 8082])).plan
        XCTAssertEqual(plan?.actions["local.node.web.n1"], .update)
        XCTAssertEqual(plan?.actions["local.load_balancer.web"], .update, "its target endpoint follows the node")
        XCTAssertEqual(plan?.change("local.node.web.n1")?.after?["port"], 9090)
        XCTAssertEqual(plan?.change("local.node.web.n1")?.before?.attributes["port"], 8080)

        let applied = try await sandbox.apply(clusterStack(ports: [9090, 8081, 8082]))
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(applied.completedActions["local.node.web.n1"], .update)
        XCTAssertTrue(sandbox.contents("deploy/web/n1/node.yaml")?.contains("port: 9090") ?? false)
        XCTAssertTrue(sandbox.contents("deploy/web/load-balancer/load-balancer.json")?.contains("http://127.0.0.1:9090") ?? false)
        XCTAssertFalse(sandbox.contents("deploy/web/load-balancer/load-balancer.json")?.contains("http://127.0.0.1:8080") ?? true)
        XCTAssertEqual(try sandbox.recordedState("shop").record("local.node.web.n1")?.id, idBefore, "updated in place, not replaced")
        let converged = try await sandbox.plan(clusterStack(ports: [9090, 8081, 8082]))
        XCTAssertEqual(converged.plan?.pendingActions, [:])
    }

    func testAChangedLoadBalancingStrategyIsAnUpdateOfTheLoadBalancerConfig() async throws {
        _ = try await sandbox.apply(clusterStack(strategy: "round_robin"))
        XCTAssertTrue(sandbox.contents("deploy/web/load-balancer/load-balancer.json")?.contains("\"round_robin\"") ?? false)

        let applied = try await sandbox.apply(clusterStack(strategy: "least_connections"))
        XCTAssertEqual(applied.plan.actions["local.load_balancer.web"], .update)
        XCTAssertEqual(applied.plan.change("local.load_balancer.web")?.after?["strategy"], "least_connections")
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        let config = sandbox.contents("deploy/web/load-balancer/load-balancer.json") ?? ""
        XCTAssertTrue(config.contains("\"strategy\": \"least_connections\""), config)
        XCTAssertFalse(config.contains("round_robin"), config)
    }

    func testARemovedNodeIsDeletedAndItsDirectoryIsGone() async throws {
        _ = try await sandbox.apply(clusterStack(ports: [8080, 8081, 8082]))
        XCTAssertTrue(sandbox.exists("deploy/web/n3/node.yaml"))

        let applied = try await sandbox.apply(clusterStack(ports: [8080, 8081]))
        XCTAssertEqual(applied.plan.actions["local.node.web.n3"], .delete)
        XCTAssertEqual(applied.plan.actions["local.node.web.n1"], .update, "cluster.yaml lists one node fewer")
        XCTAssertEqual(applied.plan.actions["local.load_balancer.web"], .update, "one target fewer")
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertFalse(sandbox.exists("deploy/web/n3"))
        XCTAssertTrue(sandbox.exists("deploy/web/n1/node.yaml"))
        XCTAssertFalse(sandbox.contents("deploy/web/load-balancer/load-balancer.json")?.contains(":8082") ?? true)
        XCTAssertEqual(try sandbox.recordedState("shop").addresses,
                       ["local.load_balancer.web", "local.node.web.n1", "local.node.web.n2"])
    }

    func testAChangedForceNewAttributeReplacesTheResource() async throws {
        let stack = { (version: String) in """
            stack: {name: shop}
            resources:
              - {type: local.null, name: release, properties: {triggers: {version: "\(version)"}}}
            """
        }
        _ = try await sandbox.apply(stack("1"))
        let oldID = try sandbox.recordedState("shop").record("local.null.release")?.id

        let applied = try await sandbox.apply(stack("2"))
        XCTAssertEqual(applied.plan.actions, ["local.null.release": .replace])
        XCTAssertEqual(applied.plan.change("local.null.release")?.replaceBecause, ["triggers"])
        XCTAssertEqual(applied.plan.change("local.null.release")?.afterUnknown, ["id"], "a replacement gets a new id")
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        let record = try sandbox.recordedState("shop").record("local.null.release")
        XCTAssertNotNil(record?.id)
        XCTAssertNotEqual(record?.id, oldID)
        XCTAssertEqual(record?.attributes["triggers"], .map(["version": "2"]))
    }

    func testAnUpdateInPlaceKeepsTheIdSoWhatRefersToItIsUntouched() async throws {
        let stack = { (delay: Int) in """
            stack: {name: shop}
            resources:
              - {type: local.null, name: api, properties: {delay_ms: \(delay)}}
              - {type: local.null, name: client, properties: {triggers: {api: "${local.null.api.id}"}}}
            """
        }
        _ = try await sandbox.apply(stack(0))
        let before = try sandbox.recordedState("shop")

        let applied = try await sandbox.apply(stack(1))
        XCTAssertEqual(applied.plan.pendingActions, ["local.null.api": .update])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        let after = try sandbox.recordedState("shop")
        XCTAssertEqual(after.record("local.null.api")?.id, before.record("local.null.api")?.id)
        XCTAssertEqual(after.record("local.null.api")?.attributes["id"], before.record("local.null.api")?.attributes["id"],
                       "the id attribute is the id: references to it must not change")
        XCTAssertEqual(after.record("local.null.client"), before.record("local.null.client"))
        let converged = try await sandbox.plan(stack(1))
        XCTAssertEqual(converged.plan?.pendingActions, [:], "one apply converges")
    }

    func testAChangedFilePathReplacesTheFileOnDisk() async throws {
        let stack = { (path: String) in """
            stack: {name: shop}
            clouds: {local: {root: deploy}}
            resources:
              - {type: local.file, name: motd, properties: {path: \(path), content: "hello\\n"}}
            """
        }
        _ = try await sandbox.apply(stack("etc/motd"))
        XCTAssertEqual(sandbox.contents("deploy/etc/motd"), "hello\n")

        let applied = try await sandbox.apply(stack("etc/motd.txt"))
        XCTAssertEqual(applied.plan.actions, ["local.file.motd": .replace])
        XCTAssertEqual(applied.plan.change("local.file.motd")?.replaceBecause, ["path"])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertFalse(sandbox.exists("deploy/etc/motd"))
        XCTAssertEqual(sandbox.contents("deploy/etc/motd.txt"), "hello\n")
    }

    func testDestroyRemovesEveryFileInReverseDependencyOrderAndCommitsAnEmptyState() async throws {
        let stack = clusterStack(extra: """
            disaster_recovery:
              backup_targets:
                - {name: nightly, type: local, path: backups/nightly}
            resources:
              - {type: local.file, name: motd, properties: {path: etc/motd, content: hi}}
              - {type: local.null, name: marker}
            """)
        let applied = try await sandbox.apply(stack)
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertTrue(sandbox.deployedFiles().contains("backups/nightly/manifest.json"))
        XCTAssertTrue(sandbox.deployedFiles().contains("deploy/etc/motd"))

        let log = CallLog()
        let destroyed = try await sandbox.destroy(stack, log: log)
        XCTAssertTrue(destroyed.plan.isDestroy)
        XCTAssertEqual(Set(destroyed.plan.actions.values), [.delete])
        XCTAssertEqual(destroyed.plan.summary.delete, 7)
        XCTAssertTrue(destroyed.succeeded, "\(destroyed.failures)")

        XCTAssertEqual(sandbox.deployedFiles(), [], "every file the provider created is gone")
        XCTAssertEqual(try sandbox.recordedState("shop").addresses, [])
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["destroy shop: +0 ~0 -7", "apply shop: +7 ~0 -0"])
        XCTAssertEqual(try sandbox.gitLines(["ls-files"]).filter { $0.contains("/resources/") }, [])
        XCTAssertEqual(try sandbox.git(["status", "--porcelain"]), "", "everything is committed")

        let balancerGone = try XCTUnwrap(log.call("delete", "local.load_balancer.web")?.end)
        for node in ["n1", "n2", "n3"] {
            let nodeDelete = try XCTUnwrap(log.call("delete", "local.node.web.\(node)"))
            XCTAssertGreaterThanOrEqual(nodeDelete.start, balancerGone, "the load balancer goes before the nodes it points at")
        }
    }
}

extension Array where Element == StackModel.Diagnostic {
    func hasErrorCode(_ code: String) -> Bool { contains { $0.code == code } }
}
