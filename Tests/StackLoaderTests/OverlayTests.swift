/// Overlays: later files win key by key, lists are replaced whole, and diagnostics name the file that wrote the value.

import StackLoader
import StackModel
import XCTest

final class OverlayTests: XCTestCase {
    let base = """
        stack:
          name: demo
          description: base description
          region: us-east-1
        load_balancing:
          strategy: round_robin
          health_check_interval: 30s
          failure_threshold: 3
        clusters:
          - name: c1
            replication_factor: 1
            nodes: [{id: n1, role: primary}]
        monitoring:
          node_metrics: [cpu, memory, disk]
        """

    func loadOverlaid(_ overlay: String, variables: [String: String] = [:]) -> LoadResult {
        StackLoader.load(sources: [(name: "base.yaml", text: base), (name: "prod.yaml", text: overlay)],
                         options: LoadOptions.builtin(variables: variables, environment: [:]))
    }

    func testMapsMergeKeyByKeyAndTheLaterFileWins() throws {
        let result = loadOverlaid("""
            stack: {description: production}
            load_balancing:
              strategy: least_connections
              recovery_threshold: 4
            """)
        let stack = try XCTUnwrap(result.stack, result.diagnostics.description)
        XCTAssertEqual(stack.meta.name, "demo", "kept from the base")
        XCTAssertEqual(stack.meta.description, "production", "replaced by the overlay")
        XCTAssertEqual(stack.meta.region, "us-east-1")
        let lb = try XCTUnwrap(stack.loadBalancing)
        XCTAssertEqual(lb.strategy, .leastConnections)
        XCTAssertEqual(lb.healthCheckInterval, .seconds(30), "kept from the base")
        XCTAssertEqual(lb.failureThreshold, 3)
        XCTAssertEqual(lb.recoveryThreshold, 4, "added by the overlay")
        XCTAssertEqual(stack.files, ["base.yaml", "prod.yaml"])
    }

    func testListsAreReplacedWholeNotAppended() throws {
        let result = loadOverlaid("""
            clusters:
              - name: c2
                replication_factor: 1
                nodes: [{id: n9, role: primary}]
            monitoring:
              node_metrics: [cpu]
            """)
        let stack = try XCTUnwrap(result.stack, result.diagnostics.description)
        XCTAssertEqual(stack.clusters.map(\.name), ["c2"])
        XCTAssertEqual(stack.allNodes.map(\.node.id), ["n9"])
        XCTAssertEqual(stack.monitoring?.nodeMetrics, ["cpu"])
    }

    func testSectionsOnlyInTheOverlayAreAdded() throws {
        let stack = try XCTUnwrap(loadOverlaid("security: {tls: true}").stack)
        XCTAssertEqual(stack.security?.tls, true)
        XCTAssertNotNil(stack.loadBalancing)
    }

    func testAnErrorInTheOverlayPointsIntoTheOverlay() {
        let result = loadOverlaid("load_balancing:\n  health_check_interval: soon")
        assertSingleError(result, "invalid-duration", at: (2, 26))
        XCTAssertEqual(result.diagnostics.first?.location?.file, "prod.yaml")
    }

    func testAnErrorInAValueTheOverlayKeptPointsIntoTheBase() {
        let result = StackLoader.load(sources: [
            (name: "base.yaml", text: "stack: {name: demo}\nload_balancing: {strategy: fastest}"),
            (name: "prod.yaml", text: "load_balancing: {failure_threshold: 4}"),
        ], options: LoadOptions.builtin(environment: [:]))
        let d = assertSingleError(result, "invalid-value", at: (2, 28))
        XCTAssertEqual(d?.location?.file, "base.yaml")
    }

    func testAValueOverriddenByTheOverlayIsNotReportedInTheBase() throws {
        let result = StackLoader.load(sources: [
            (name: "base.yaml", text: "stack: {name: demo}\nload_balancing: {strategy: fastest}"),
            (name: "prod.yaml", text: "load_balancing: {strategy: weighted}"),
        ], options: LoadOptions.builtin(environment: [:]))
        XCTAssertEqual(result.diagnostics, [])
        XCTAssertEqual(result.stack?.loadBalancing?.strategy, .weighted)
    }

    func testAnOverlayMayReplaceAMappingWithAScalarAndIsThenReportedThere() {
        let result = loadOverlaid("load_balancing: off")
        let d = assertSingleError(result, "expected-mapping", at: (1, 17))
        XCTAssertEqual(d?.location?.file, "prod.yaml")
    }

    func testSyntaxErrorsInSeveralFilesAreAllReportedInFileOrder() {
        let result = StackLoader.load(sources: [
            (name: "a.yaml", text: "stack: {name: demo\n"),
            (name: "b.yaml", text: "clusters: [\n"),
        ], options: LoadOptions.builtin(environment: [:]))
        XCTAssertNil(result.stack)
        XCTAssertEqual(result.diagnostics.map(\.code), ["yaml-syntax", "yaml-syntax"])
        XCTAssertEqual(result.diagnostics.compactMap(\.location?.file), ["a.yaml", "b.yaml"])
    }

    func testAnOverlayThatIsNotAMappingIsReportedAndTheStackIsNotLoaded() {
        let result = loadOverlaid("- just\n- a list")
        let d = assertSingleError(result, "expected-mapping", at: (1, 1))
        XCTAssertEqual(d?.location?.file, "prod.yaml")
    }

    func testAnEmptyOverlayChangesNothing() throws {
        let stack = try XCTUnwrap(loadOverlaid("# nothing to override yet\n").stack)
        XCTAssertEqual(stack.meta.description, "base description")
    }

    func testAnOverlayMayDeclareAVariableTheBaseUses() throws {
        let result = StackLoader.load(sources: [
            (name: "base.yaml", text: "stack: {name: demo, region: \"${var.region}\"}"),
            (name: "prod.yaml", text: "stack: {variables: {region: eu-west-1}}"),
        ], options: LoadOptions.builtin(environment: [:]))
        XCTAssertEqual(result.stack?.meta.region, "eu-west-1", result.diagnostics.description)
    }

    func testAMoveWrittenInTheOverlayIsReportedInTheOverlay() {
        let result = StackLoader.load(sources: [
            (name: "base.yaml", text: "stack: {name: demo}\nresources: [{type: local.null, name: a}]"),
            (name: "prod.yaml", text: "moved: [{from: local.null.a, to: local.null.a}]"),
        ], options: LoadOptions.builtin(environment: [:]))
        let d = assertSingleError(result, "invalid-move", at: (1, 9))
        XCTAssertEqual(d?.location?.file, "prod.yaml")
    }
}
