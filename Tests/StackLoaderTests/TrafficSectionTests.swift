/// The traffic sections: `load_balancing`, `geo_routing` and `autoscaling`.

import StackLoader
import StackModel
import XCTest

final class LoadBalancingSectionTests: XCTestCase {
    func testAdaptiveStrategyWithThresholdsAndNodeWeights() throws {
        let lb = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .loadBalancing)
        XCTAssertEqual(lb.strategy, .adaptive)
        XCTAssertEqual(lb.healthCheckInterval, TimeSpan(milliseconds: 10_000))
        XCTAssertEqual(lb.healthCheckPath, "/healthz")
        XCTAssertEqual(lb.failureThreshold, 5)
        XCTAssertEqual(lb.recoveryThreshold, 3)
        XCTAssertEqual(lb.adaptive?.primary, .latencyAware)
        XCTAssertEqual(lb.adaptive?.fallback, .leastConnections)
        XCTAssertEqual(lb.adaptive?.switchThreshold.milliseconds, 150)
        XCTAssertEqual(lb.weights, ["node-1": 3, "node-2": 0.5])
        XCTAssertEqual(lb.location?.line, 78)
    }

    func testDefaultsOfAnEmptyLoadBalancingSection() throws {
        let lb = try XCTUnwrap(loadStack(minimalHeader + "load_balancing: {health_check_path: /health}").loadBalancing)
        XCTAssertEqual(lb.strategy, .roundRobin)
        XCTAssertEqual(lb.healthCheckInterval.milliseconds, 30_000)
        XCTAssertEqual(lb.failureThreshold, 3)
        XCTAssertEqual(lb.recoveryThreshold, 2)
        XCTAssertNil(lb.adaptive)
        XCTAssertEqual(lb.weights, [:])
    }

    func testAdaptiveDefaultsWhenOnlyTheBlockIsGiven() throws {
        let lb = try XCTUnwrap(loadStack(minimalHeader + "load_balancing: {strategy: adaptive, adaptive: {}}").loadBalancing)
        XCTAssertEqual(lb.adaptive, AdaptiveBalancing())
        XCTAssertEqual(lb.adaptive?.switchThreshold.milliseconds, 100)
    }

    func testEveryStrategyNameIsAccepted() throws {
        for strategy in BalancingStrategy.allCases {
            let lb = try loadStack(minimalHeader + "load_balancing: {strategy: \(strategy.rawValue)}").loadBalancing
            XCTAssertEqual(lb?.strategy, strategy)
        }
    }

    func testANegativeOrNonNumericWeightIsRejectedAtItsValue() {
        assertSingleError(load(minimalHeader + "load_balancing:\n  weights: {n1: heavy}"), "invalid-number", at: (3, 17),
                          messageContains: "node 'n1'")
        assertSingleError(load(minimalHeader + "load_balancing:\n  weights: {n1: -2}"), "invalid-number", at: (3, 17))
    }
}

final class GeoRoutingSectionTests: XCTestCase {
    func testRegionsWithClusterNodesLocationAndCapacity() throws {
        let geo = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .geoRouting)
        XCTAssertEqual(geo.regions.map(\.name), ["us-east", "eu-west"], "in file order")
        let east = geo.regions[0]
        XCTAssertEqual(east.cluster, "production-cluster")
        XCTAssertEqual(east.nodes, ["node-1", "node-2"])
        XCTAssertEqual(east.location, GeoLocation(latitude: 39.0458, longitude: -76.6413))
        XCTAssertEqual(east.capacity, 1000)
        XCTAssertEqual(east.sourceLocation?.line, 93)
        XCTAssertNil(geo.regions[1].capacity)
        XCTAssertNil(geo.regions[1].cluster)
    }

    func testRoutingPolicyAndComplianceClasses() throws {
        let geo = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .geoRouting)
        XCTAssertEqual(geo.primary, .closestRegion)
        XCTAssertEqual(geo.fallback, .leastLoadedRegion)
        XCTAssertFalse(geo.dataLocality)
        XCTAssertTrue(geo.complianceAware)
        XCTAssertEqual(geo.compliance, ["gdpr": ["eu-west"], "data_residency": ["us-east", "eu-west"]])
    }

    func testRoutingDefaults() throws {
        let geo = try XCTUnwrap(loadStack(minimalHeader + "geo_routing: {routing: {}}").geoRouting)
        XCTAssertEqual(geo.primary, .closestRegion)
        XCTAssertEqual(geo.fallback, .leastLoadedRegion)
        XCTAssertTrue(geo.dataLocality)
        XCTAssertFalse(geo.complianceAware)
        XCTAssertEqual(geo.regions, [])
        XCTAssertEqual(geo.compliance, [:])
    }

    func testLatitudeAndLongitudeAreBothRequiredAndInRange() {
        assertSingleError(load(minimalHeader + "geo_routing:\n  regions:\n    r1: {location: {lat: 91, lon: 0}}"),
                          "out-of-range", at: (4, 26), messageContains: "lat must be between -90 and 90, got 91")
        assertSingleError(load(minimalHeader + "geo_routing:\n  regions:\n    r1: {location: {lat: 10}}"),
                          "missing-key", at: (4, 20), messageContains: "location is missing required key 'lon'")
    }

    func testAnUnknownRoutingPolicySuggestsTheClosest() {
        assertSingleError(load(minimalHeader + "geo_routing:\n  routing: {primary: closest}"), "invalid-value", at: (3, 22),
                          messageContains: "closest_region, least_loaded_region, primary_region")
    }
}

final class AutoscalingSectionTests: XCTestCase {
    func testHorizontalScalingWithPolicies() throws {
        let h = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .autoscaling?.horizontal)
        XCTAssertEqual(h.minNodes, 3)
        XCTAssertEqual(h.maxNodes, 50)
        XCTAssertEqual(h.targetCPUUtilization, Percentage(65))
        XCTAssertEqual(h.targetMemoryUtilization, Percentage(75))
        XCTAssertEqual(h.scaleUpCooldown.milliseconds, 120_000)
        XCTAssertEqual(h.scaleDownCooldown.milliseconds, 900_000)
        XCTAssertEqual(h.policies.count, 2)
        let up = h.policies[0]
        XCTAssertEqual(up.name, "cpu_scaling")
        XCTAssertEqual(up.metric, "cpu_utilization")
        XCTAssertEqual(up.threshold, 80)
        XCTAssertEqual(up.action, .scaleUp)
        XCTAssertEqual(up.adjustment, 2)
        XCTAssertEqual(up.duration, .seconds(300))
        let down = h.policies[1]
        XCTAssertEqual(down.threshold, 12.5)
        XCTAssertEqual(down.action, .scaleDown)
        XCTAssertEqual(down.adjustment, -1)
        XCTAssertNil(down.duration)
        XCTAssertEqual(down.location?.line, 120)
    }

    func testVerticalScalingBoundsForCPUMemoryAndStorage() throws {
        let v = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .autoscaling?.vertical)
        XCTAssertEqual(v.cpu?.min, "1")
        XCTAssertEqual(v.cpu?.max, "16")
        XCTAssertEqual(v.cpu?.targetUtilization, Percentage(70))
        XCTAssertEqual(v.cpu?.scalingFactor, 2)
        XCTAssertEqual(v.memory?.min, "4Gi")
        XCTAssertEqual(v.memory?.max, "64Gi")
        XCTAssertEqual(v.memory?.targetUtilization, Percentage(80))
        XCTAssertEqual(v.memory?.scalingFactor, 1.5, "the default factor")
        XCTAssertEqual(v.storage?.growthThreshold, Percentage(85))
        XCTAssertNil(v.storage?.targetUtilization)
        XCTAssertEqual(v.adjustmentInterval.milliseconds, 600_000)
        XCTAssertEqual(v.safetyMargin, 0.3)
    }

    func testHorizontalDefaultsFromTheGuide() throws {
        let a = try XCTUnwrap(loadStack(minimalHeader + "autoscaling: {horizontal: {}, vertical: {}}").autoscaling)
        XCTAssertEqual(a.horizontal?.minNodes, 3)
        XCTAssertEqual(a.horizontal?.maxNodes, 20)
        XCTAssertEqual(a.horizontal?.targetCPUUtilization, Percentage(70))
        XCTAssertEqual(a.horizontal?.targetMemoryUtilization, Percentage(80))
        XCTAssertEqual(a.horizontal?.scaleUpCooldown, .seconds(300))
        XCTAssertEqual(a.horizontal?.scaleDownCooldown, .seconds(600))
        XCTAssertEqual(a.horizontal?.policies, [])
        XCTAssertNil(a.vertical?.cpu)
        XCTAssertEqual(a.vertical?.adjustmentInterval, .seconds(300))
        XCTAssertEqual(a.vertical?.safetyMargin, 0.2)
    }

    func testMinAboveTheDefaultMaxIsReported() {
        assertSingleError(load(minimalHeader + "autoscaling:\n  horizontal: {min_nodes: 25}"), "min-greater-than-max",
                          at: (3, 27), messageContains: "min_nodes (25) is greater than max_nodes (20)")
    }

    func testAPolicyNeedsNameMetricThresholdActionAndAdjustment() {
        let result = load(minimalHeader + "autoscaling:\n  horizontal:\n    policies:\n      - {name: p}")
        XCTAssertNil(result.stack)
        XCTAssertEqual(result.diagnostics.map(\.code), ["missing-key", "missing-key", "missing-key", "missing-key"])
        XCTAssertEqual(result.diagnostics.map(\.message), [
            "scaling policy is missing required key 'metric'", "scaling policy is missing required key 'threshold'",
            "scaling policy is missing required key 'action'", "scaling policy is missing required key 'adjustment'",
        ])
    }

    func testAScaleDownPolicyNeedsANegativeAdjustment() {
        assertSingleError(load(minimalHeader + """
            autoscaling:
              horizontal:
                policies: [{name: p, metric: m, threshold: 1, action: scale_down, adjustment: 1}]
            """), "invalid-adjustment", at: (4, 83), messageContains: "a scale_down policy needs a negative adjustment, got 1")
    }

    func testVerticalCPUBoundsMustBeNumbersAndMemoryBoundsSizes() {
        assertSingleError(load(minimalHeader + "autoscaling:\n  vertical:\n    cpu: {min: one, max: \"4\"}"), "invalid-number",
                          at: (4, 16))
        assertSingleError(load(minimalHeader + "autoscaling:\n  vertical:\n    storage: {min: 1GB, max: big}"), "invalid-size",
                          at: (4, 30))
        assertSingleError(load(minimalHeader + "autoscaling:\n  vertical:\n    cpu: {min: \"8\", max: \"2\"}"),
                          "min-greater-than-max", at: (4, 16))
    }
}
