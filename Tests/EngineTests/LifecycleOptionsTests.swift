/// What users steer a plan with: `--replace`, `--target`, and `lifecycle` on raw resources
/// (`prevent_destroy`, `ignore_changes`, `create_before_destroy`).

import Planning
import ProviderKit
import XCTest

final class LifecycleOptionsTests: EngineTestCase {
    func testReplaceOptionForcesAReplacementOfAnUnchangedResource() async throws {
        let stack = """
            stack: {name: shop}
            resources:
              - {type: local.null, name: token}
              - {type: local.null, name: other}
            """
        _ = try await sandbox.apply(stack)
        let oldID = try sandbox.recordedState("shop").record("local.null.token")?.id

        var options = PlanOptions()
        options.replace = [ResourceAddress(provider: "local", kind: "null", name: "token")]
        let applied = try await sandbox.apply(stack, options)
        XCTAssertEqual(applied.plan.pendingActions, ["local.null.token": .replace])
        XCTAssertEqual(applied.plan.change("local.null.token")?.replaceBecause, ["--replace"])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertNotEqual(try sandbox.recordedState("shop").record("local.null.token")?.id, oldID)

        let next = try await sandbox.plan(stack)
        XCTAssertEqual(next.plan?.pendingActions, [:], "--replace applies once; it is not remembered")
    }

    func testTargetLimitsThePlanToTheTargetAndWhatItDependsOn() async throws {
        let stack = """
            stack: {name: shop}
            resources:
              - {type: local.null, name: base}
              - {type: local.null, name: app, properties: {triggers: {base: "${local.null.base.id}"}}}
              - {type: local.null, name: worker, depends_on: [local.null.base]}
              - {type: local.null, name: unrelated}
            """
        var options = PlanOptions()
        options.targets = ["local.null.app"]
        let applied = try await sandbox.apply(stack, options)
        XCTAssertEqual(applied.plan.actions, ["local.null.app": .create, "local.null.base": .create])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(try sandbox.recordedState("shop").addresses, ["local.null.app", "local.null.base"])

        let rest = try await sandbox.plan(stack)
        XCTAssertEqual(rest.plan?.pendingActions, ["local.null.unrelated": .create, "local.null.worker": .create])

        options.targets = ["local.null.nope"]
        let unknown = try await sandbox.plan(stack, options)
        XCTAssertNil(unknown.plan)
        XCTAssertEqual(unknown.codes, ["unknown-target"])
    }

    func testPreventDestroyBlocksDestroyWithADiagnostic() async throws {
        let stack = """
            stack: {name: shop}
            resources:
              - type: local.null
                name: database
                lifecycle: {prevent_destroy: true}
              - {type: local.null, name: cache}
            """
        _ = try await sandbox.apply(stack)

        var options = PlanOptions()
        options.destroy = true
        let planned = try await sandbox.plan(stack, options)
        XCTAssertNil(planned.plan, "nothing may be destroyed, not even the unprotected resource")
        XCTAssertEqual(planned.codes, ["prevent-destroy"])
        XCTAssertTrue(planned.diagnostics.first?.message.contains("local.null.database") ?? false)
        XCTAssertEqual(planned.diagnostics.first?.location?.line, 3, "points at the resource in the stack")
        XCTAssertEqual(try sandbox.recordedState("shop").addresses, ["local.null.cache", "local.null.database"])
    }

    func testPreventDestroyBlocksAReplacement() async throws {
        let stack = { (version: Int) in """
            stack: {name: shop}
            resources:
              - type: local.null
                name: database
                properties: {triggers: {version: \(version)}}
                lifecycle: {prevent_destroy: true}
            """
        }
        _ = try await sandbox.apply(stack(1))

        let changed = try await sandbox.plan(stack(2))
        XCTAssertNil(changed.plan)
        XCTAssertEqual(changed.codes, ["prevent-destroy"])
        XCTAssertTrue(changed.diagnostics.first?.message.contains("would be replaced") ?? false, "\(changed.diagnostics)")

        var options = PlanOptions()
        options.replace = [ResourceAddress(provider: "local", kind: "null", name: "database")]
        let forced = try await sandbox.plan(stack(1), options)
        XCTAssertNil(forced.plan)
        XCTAssertEqual(forced.codes, ["prevent-destroy"])
    }

    func testIgnoreChangesHidesAnInPlaceChange() async throws {
        let stack = { (content: String) in """
            stack: {name: shop}
            clouds: {local: {root: deploy}}
            resources:
              - type: local.file
                name: banner
                properties: {path: banner.txt, content: \(content)}
                lifecycle: {ignore_changes: [content]}
            """
        }
        _ = try await sandbox.apply(stack("first"))
        let applied = try await sandbox.apply(stack("second"))
        XCTAssertEqual(applied.plan.pendingActions, [:], "a change to an ignored attribute is not a change")
        XCTAssertNil(applied.commit, "nothing to record")
        XCTAssertEqual(sandbox.contents("deploy/banner.txt"), "first")
    }

    func testIgnoreChangesOnAForceNewAttributeNeitherReplacesNorUpdates() async throws {
        let stack = { (version: Int) in """
            stack: {name: shop}
            resources:
              - type: local.null
                name: release
                properties: {triggers: {version: \(version)}}
                lifecycle: {ignore_changes: [triggers]}
            """
        }
        _ = try await sandbox.apply(stack(1))
        let recorded = try sandbox.recordedState("shop").record("local.null.release")

        let applied = try await sandbox.apply(stack(2))
        XCTAssertEqual(applied.plan.pendingActions, [:], "the only change is ignored, so the id stays known and unchanged")
        XCTAssertEqual(applied.plan.change("local.null.release")?.afterUnknown, [])
        XCTAssertNil(applied.commit, "nothing to record")
        XCTAssertEqual(try sandbox.recordedState("shop").record("local.null.release"), recorded)
    }

    func testCreateBeforeDestroyCreatesTheReplacementFirst() async throws {
        let stack = { (version: Int, createFirst: Bool) in """
            stack: {name: shop}
            resources:
              - type: local.null
                name: server
                properties: {triggers: {version: \(version)}}
                lifecycle: {create_before_destroy: \(createFirst)}
            """
        }
        _ = try await sandbox.apply(stack(1, true))
        let log = CallLog()
        let applied = try await sandbox.apply(stack(2, true), log: log)
        XCTAssertEqual(applied.plan.pendingActions, ["local.null.server": .replace])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(log.changes, ["create local.null.server", "delete local.null.server"])

        let defaultOrder = CallLog()
        _ = try await sandbox.apply(stack(3, false), log: defaultOrder)
        XCTAssertEqual(defaultOrder.changes, ["delete local.null.server", "create local.null.server"],
                       "without create_before_destroy the old one goes first")
    }

    func testCreateBeforeDestroyReplacementOfAFileLeavesTheNewFileInPlace() async throws {
        let stack = { (path: String) in """
            stack: {name: shop}
            clouds: {local: {root: deploy}}
            resources:
              - type: local.file
                name: motd
                properties: {path: \(path), content: hello}
                lifecycle: {create_before_destroy: true}
            """
        }
        _ = try await sandbox.apply(stack("motd"))
        var options = PlanOptions()
        options.replace = [ResourceAddress(provider: "local", kind: "file", name: "motd")]
        let replaced = try await sandbox.apply(stack("motd"), options)
        XCTAssertEqual(replaced.plan.pendingActions, ["local.file.motd": .replace])
        XCTAssertTrue(replaced.succeeded, "\(replaced.failures)")
        XCTAssertEqual(sandbox.contents("deploy/motd"), "hello", "the replacement must survive the removal of what it replaced")
        let next = try await sandbox.plan(stack("motd"))
        XCTAssertEqual(next.plan?.pendingActions, [:])
    }

    /// Terraform's order for create_before_destroy: the new object, then whatever refers to it, then the old one goes,
    /// so an object that cannot be removed while in use (a swarm config) is never removed while in use.
    func testCreateBeforeDestroyDestroysTheOldObjectOnlyAfterWhatRefersToItHasMoved() async throws {
        let stack = { (version: Int) in """
            stack: {name: shop}
            clouds: {local: {root: deploy}}
            resources:
              - type: local.null
                name: config
                properties: {triggers: {version: \(version)}}
                lifecycle: {create_before_destroy: true}
              - type: local.file
                name: service
                properties: {path: service.conf, content: "config ${local.null.config.id}"}
            """
        }
        _ = try await sandbox.apply(stack(1))
        let log = CallLog()
        let applied = try await sandbox.apply(stack(2), log: log)
        XCTAssertEqual(applied.plan.pendingActions, ["local.null.config": .replace, "local.file.service": .update])
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(log.changes, ["create local.null.config", "update local.file.service", "delete local.null.config"])
        XCTAssertEqual(applied.completedActions, ["local.null.config": .replace, "local.file.service": .update],
                       "the old object's destroy is part of the replacement, not a change of its own")
        XCTAssertEqual(try sandbox.recordedState("shop").addresses, ["local.file.service", "local.null.config"])
        let next = try await sandbox.plan(stack(2))
        XCTAssertEqual(next.plan?.pendingActions, [:])
    }

    /// When what refers to the resource fails to move, the old object stays (it may still be in use) and is recorded as
    /// deposed; the next apply moves the dependent first and then destroys it.
    func testAnOldObjectKeptBecauseItsDependentFailedIsDestroyedByTheNextApply() async throws {
        let stack = { (version: Int, fail: Bool, delay: Int) in """
            stack: {name: shop}
            resources:
              - type: local.null
                name: config
                properties: {triggers: {version: \(version)}}
                lifecycle: {create_before_destroy: true}
              - type: local.null
                name: service
                properties: {fail: \(fail), delay_ms: \(delay)}
                depends_on: [local.null.config]
            """
        }
        _ = try await sandbox.apply(stack(1, false, 0))
        let oldID = try XCTUnwrap(try sandbox.recordedState("shop").record("local.null.config")?.id)
        let failed = try await sandbox.apply(stack(2, true, 0))
        XCTAssertEqual(failed.failures.map(\.address.description), ["local.null.service"])
        let deposed = ResourceAddress(provider: "local", kind: "null", name: "config").deposed(id: oldID)
        XCTAssertEqual(failed.result?.skipped, [deposed])
        XCTAssertEqual(try sandbox.recordedState("shop").record(deposed.description)?.id, oldID, "the old object is still known")
        XCTAssertEqual(deposed.deposedOf?.description, "local.null.config")

        let log = CallLog()
        let repaired = try await sandbox.apply(stack(2, false, 1), log: log)
        XCTAssertEqual(repaired.plan.pendingActions, [deposed.description: .delete, "local.null.service": .update])
        XCTAssertTrue(repaired.succeeded, "\(repaired.failures)")
        XCTAssertEqual(log.changes, ["update local.null.service", "delete local.null.config"], "the dependent moves first")
        XCTAssertEqual(try sandbox.recordedState("shop").addresses, ["local.null.config", "local.null.service"])
    }
}
