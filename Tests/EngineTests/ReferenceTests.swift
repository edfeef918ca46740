/// References between resources: `${address.attribute}` is an edge in the graph, unknown in the first
/// plan and resolved at apply; a reference to nothing and a cycle are errors that say where they were written.

import Planning
import ProviderKit
import XCTest

final class ReferenceTests: EngineTestCase {
    let chain = """
        stack: {name: refs}
        resources:
          - {type: local.null, name: a}
          - type: local.null
            name: b
            properties:
              triggers: {upstream: "${local.null.a.id}", label: "after ${local.null.a.id}"}
        """

    func testAReferenceIsAnEdgeUnknownUntilApplyThenResolvedToTheRealValue() async throws {
        let planned = try await sandbox.plan(chain)
        let b = try XCTUnwrap(planned.plan?.change("local.null.b"))
        XCTAssertEqual(b.dependencies, [ResourceAddress(provider: "local", kind: "null", name: "a")])
        XCTAssertEqual(planned.graph.dependencies(of: b.address), [ResourceAddress(provider: "local", kind: "null", name: "a")])
        XCTAssertEqual(b.afterUnknown, ["id", "triggers"], "a's id is known only after apply")
        XCTAssertEqual(b.after?["triggers"], .map(["upstream": .unknown, "label": .unknown]))

        let log = CallLog()
        let applied = try await sandbox.apply(chain, log: log)
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        let aDone = try XCTUnwrap(log.call("create", "local.null.a")?.end)
        let bStart = try XCTUnwrap(log.call("create", "local.null.b")?.start)
        XCTAssertGreaterThanOrEqual(bStart, aDone, "b waits for a")

        let state = try sandbox.recordedState("refs")
        let aID = try XCTUnwrap(state.record("local.null.a")?.id)
        XCTAssertEqual(state.record("local.null.b")?.attributes["triggers"],
                       .map(["upstream": .string(aID), "label": .string("after \(aID)")]))
        XCTAssertEqual(state.record("local.null.b")?.dependencies.map(\.description), ["local.null.a"])

        let again = try await sandbox.plan(chain)
        XCTAssertEqual(again.plan?.pendingActions, [:], "the resolved reference matches what was applied")
    }

    func testReplacingTheReferencedResourceReplacesWhatDependsOnIt() async throws {
        _ = try await sandbox.apply(chain)
        var options = PlanOptions()
        options.replace = [ResourceAddress(provider: "local", kind: "null", name: "a")]
        let applied = try await sandbox.apply(chain, options)
        XCTAssertEqual(applied.plan.pendingActions, ["local.null.a": .replace, "local.null.b": .replace],
                       "b's triggers hold a's id, which the replacement changes")
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        let state = try sandbox.recordedState("refs")
        XCTAssertEqual(state.record("local.null.b")?.attributes["triggers"]?.mapValue?["upstream"],
                       state.record("local.null.a").map { .string($0.id) })
    }

    func testAReferenceToAnUnknownAddressIsReportedWhereTheProperty() async throws {
        let planned = try await sandbox.plan("""
            stack: {name: refs}
            resources:
              - {type: local.null, name: source}
              - type: local.null
                name: consumer
                properties:
                  delay_ms: 0
                  triggers: {upstream: "${local.null.sorce.id}"}
            """)
        XCTAssertNil(planned.plan)
        XCTAssertEqual(planned.codes, ["unknown-reference"])
        let d = try XCTUnwrap(planned.diagnostics.first)
        XCTAssertEqual(d.location?.file, "stack.yaml")
        XCTAssertEqual(d.location?.line, 8, "the line of the triggers property")
        XCTAssertTrue(d.message.contains("local.null.consumer") && d.message.contains("local.null.sorce"), d.message)
        XCTAssertTrue(d.hint?.contains("local.null.source") ?? false, "did you mean: \(d.hint ?? "nil")")
    }

    func testAnUnknownDependsOnAddressIsReportedWhereItWasWritten() async throws {
        let planned = try await sandbox.plan("""
            stack: {name: refs}
            resources:
              - type: local.null
                name: app
                depends_on:
                  - local.null.missing
            """)
        XCTAssertEqual(planned.codes, ["unknown-reference"])
        XCTAssertEqual(planned.diagnostics.first?.location?.line, 6)
    }

    func testACycleNamesEveryResourceOnItAndWhereEachEdgeWasWritten() async throws {
        let planned = try await sandbox.plan("""
            stack: {name: loop}
            resources:
              - type: local.null
                name: a
                depends_on: [local.null.c]
              - type: local.null
                name: b
                properties:
                  triggers: {a: "${local.null.a.id}"}
              - type: local.null
                name: c
                depends_on: [local.null.b]
              - {type: local.null, name: bystander}
            """)
        XCTAssertNil(planned.plan)
        XCTAssertEqual(planned.codes, ["dependency-cycle"])
        let d = try XCTUnwrap(planned.diagnostics.first)
        for name in ["local.null.a", "local.null.b", "local.null.c"] {
            XCTAssertTrue(d.message.contains(name), "the message names \(name): \(d.message)")
        }
        XCTAssertFalse(d.message.contains("bystander"), d.message)
        let hint = d.hint ?? ""
        XCTAssertTrue(hint.contains("local.null.a depends on local.null.c (written at stack.yaml:5)"), hint)
        XCTAssertTrue(hint.contains("local.null.b depends on local.null.a (written at stack.yaml:9)"), hint)
        XCTAssertTrue(hint.contains("local.null.c depends on local.null.b (written at stack.yaml:12)"), hint)
        XCTAssertEqual(d.location?.file, "stack.yaml")
    }

    func testAResourceThatRefersToItselfIsACycle() async throws {
        let planned = try await sandbox.plan("""
            stack: {name: loop}
            resources:
              - {type: local.null, name: self, properties: {triggers: {me: "${local.null.self.id}"}}}
            """)
        XCTAssertEqual(planned.codes, ["dependency-cycle"])
        XCTAssertTrue(planned.diagnostics.first?.hint?.contains("stack.yaml:3") ?? false, "\(planned.diagnostics)")
    }
}
