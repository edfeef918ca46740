/// Where the stack runs and how it is watched: `multi_cloud`, `hybrid`, `monitoring` and `security`.

import StackLoader
import StackModel
import XCTest

final class MultiCloudSectionTests: XCTestCase {
    func testPerCloudDeploymentsNetworkingAndDataSync() throws {
        let mc = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .multiCloud)
        XCTAssertEqual(mc.clusterSize, 6)
        XCTAssertFalse(mc.crossCloudNetworking)
        XCTAssertEqual(mc.deployments.map(\.cloud), [.aws, .gcp, .azure])
        XCTAssertEqual(mc.deployments.map(\.size), ["m5.2xlarge", "n2-standard-8", "Standard_D8s_v3"],
                       "instance_type, machine_type and vm_size are each cloud's size")
        XCTAssertEqual(mc.deployments.map(\.storageType), ["gp3", "pd-ssd", "Premium_LRS"])
        XCTAssertEqual(mc.deployments.map(\.networking), ["vpc", "vpc_network", "vnet"])
        XCTAssertEqual(mc.deployments.map(\.region), ["us-east-1", "us-central1", "eastus"])
        XCTAssertEqual(mc.dataSync?.strategy, "eventual_consistency")
        XCTAssertEqual(mc.dataSync?.conflictResolution, "vector_clock")
        XCTAssertEqual(mc.dataSync?.syncInterval, .seconds(45))
    }

    func testDefaults() throws {
        let mc = try XCTUnwrap(loadStack(minimalHeader + "multi_cloud: {data_sync: {}}").multiCloud)
        XCTAssertEqual(mc.clusterSize, 3)
        XCTAssertTrue(mc.crossCloudNetworking)
        XCTAssertEqual(mc.deployments, [])
        XCTAssertEqual(mc.dataSync, DataSync())
        XCTAssertEqual(mc.dataSync?.conflictResolution, "last_write_wins")
    }

    func testEachCloudTakesOnlyItsOwnSizeKey() {
        assertSingleError(load(minimalHeader + "multi_cloud:\n  deployments:\n    gcp: {instance_type: m5.large}"), "unknown-key",
                          at: (4, 11), messageContains: "in multi_cloud.deployments.gcp")
    }
}

final class HybridSectionTests: XCTestCase {
    func testOnPremAndCloudClustersWithCapacityAndNetwork() throws {
        let h = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment).hybrid)
        XCTAssertEqual(h.clusters.map(\.name), ["on_prem", "cloud_burst"])
        let onPrem = h.clusters[0]
        XCTAssertTrue(onPrem.isOnPremises)
        XCTAssertEqual(onPrem.cluster, "production-cluster")
        XCTAssertEqual(onPrem.nodes, ["node-1", "10.0.1.11"], "nodes may be named by id or by host")
        XCTAssertEqual(onPrem.endpoint, "https://maif.internal")
        XCTAssertEqual(onPrem.capacity?.cpu, 64)
        XCTAssertEqual(onPrem.capacity?.memory?.bytes, 256_000_000_000)
        XCTAssertEqual(onPrem.capacity?.storage?.bytes, 10 << 40)
        XCTAssertEqual(onPrem.network, "private")
        XCTAssertEqual(onPrem.sourceLocation?.line, 187)
        XCTAssertFalse(h.clusters[1].isOnPremises)
        XCTAssertEqual(h.clusters[1].location, "aws_us_east_1")
        XCTAssertEqual(h.clusters[1].network, "public")
    }

    func testDataPlacementAndSecureConnectivity() throws {
        let h = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment).hybrid)
        XCTAssertEqual(h.dataPlacement, ["sensitive_data": "on_premises", "public_data": "cloud",
                                         "cached_data": "nearest_cluster", "compliance_data": "specific_region"])
        XCTAssertEqual(h.secureConnectivity?.vpnTunnels, false)
        XCTAssertEqual(h.secureConnectivity?.encryption, "ChaCha20")
        XCTAssertEqual(h.secureConnectivity?.authentication, "psk")
    }

    func testDefaults() throws {
        let h = try XCTUnwrap(loadStack(minimalHeader + """
            hybrid:
              clusters: {dc: {location: on_premises}}
              secure_connectivity: {}
            """).hybrid)
        XCTAssertEqual(h.clusters.first?.network, "private")
        XCTAssertNil(h.clusters.first?.capacity)
        XCTAssertEqual(h.secureConnectivity, SecureConnectivity())
        XCTAssertEqual(h.secureConnectivity?.encryption, "AES-256")
        XCTAssertEqual(h.secureConnectivity?.authentication, "mutual_tls")
    }

    func testAHybridClusterNeedsALocationAndPlacementsAreAFixedSet() {
        assertSingleError(load(minimalHeader + "hybrid:\n  clusters: {dc: {network: private}}"), "missing-key", at: (3, 18),
                          messageContains: "hybrid cluster 'dc' is missing required key 'location'")
        assertSingleError(load(minimalHeader + "hybrid:\n  data_placement: {pii: on_premise}"), "invalid-value", at: (3, 25),
                          hintContains: "did you mean 'on_premises'?")
    }
}

final class MonitoringSectionTests: XCTestCase {
    func testIntervalRetentionMetricsAndAlertRuleConditions() throws {
        let m = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .monitoring)
        XCTAssertEqual(m.interval, .seconds(15))
        XCTAssertEqual(m.retention, .seconds(7 * 86_400))
        XCTAssertTrue(m.alertingEnabled)
        XCTAssertEqual(m.nodeMetrics, ["cpu_utilization", "memory_utilization"])
        XCTAssertEqual(m.clusterMetrics, ["total_requests"])
        XCTAssertEqual(m.alertRules.map(\.name), ["high_cpu_usage", "node_down", "low_disk"])
        let cpu = m.alertRules[0]
        XCTAssertEqual(cpu.condition, Condition(metric: "cpu_utilization", comparison: .greater, threshold: .number(90)))
        XCTAssertEqual(cpu.duration, .seconds(300))
        XCTAssertEqual(cpu.severity, .critical)
        XCTAssertEqual(cpu.location?.line, 215)
        let down = m.alertRules[1]
        XCTAssertEqual(down.condition, Condition(metric: "node_status", comparison: .equal, threshold: .string("down")))
        XCTAssertEqual(down.duration, .seconds(60), "a rule's duration defaults to one minute")
        XCTAssertEqual(down.severity, .info)
        XCTAssertEqual(m.alertRules[2].condition.comparison, .lessOrEqual)
        XCTAssertEqual(m.alertRules[2].condition.threshold, .number(0.1))
        XCTAssertEqual(m.alertRules[2].severity, .warning, "severity defaults to warning")
    }

    func testDefaults() throws {
        let m = try XCTUnwrap(loadStack(minimalHeader + "monitoring: {alerting_enabled: false}").monitoring)
        XCTAssertEqual(m.interval, .seconds(30))
        XCTAssertEqual(m.retention, .seconds(30 * 86_400))
        XCTAssertFalse(m.alertingEnabled)
        XCTAssertEqual(m.alertRules, [])
    }

    func testAnAlertRuleNeedsAConditionAndAKnownSeverity() {
        assertSingleError(load(minimalHeader + "monitoring:\n  alert_rules: [{name: r}]"), "missing-key", at: (3, 17),
                          messageContains: "alert rule is missing required key 'condition'")
        assertSingleError(load(minimalHeader + "monitoring:\n  alert_rules: [{name: r, condition: x > 1, severity: fatal}]"),
                          "invalid-value", at: (3, 55), messageContains: "info, warning, critical")
    }

    func testAQuotedConditionThresholdMayContainAnOperator() throws {
        let m = try XCTUnwrap(loadStack(minimalHeader + """
            monitoring:
              alert_rules:
                - {name: odd_message, condition: "last_error != 'disk >= 90%'"}
            """).monitoring)
        XCTAssertEqual(m.alertRules.first?.condition.threshold, .string("disk >= 90%"))
    }

    func testTwoAlertRulesWithOneNameAreReportedAtTheSecond() {
        assertSingleError(load(minimalHeader + """
            monitoring:
              alert_rules:
                - {name: r, condition: x > 1}
                - {name: r, condition: y > 1}
            """), "duplicate-alert-rule", at: (5, 7), hintContains: "first defined at stack.yaml:4:7")
    }
}

final class SecuritySectionTests: XCTestCase {
    func testTLSAuthenticationAuditLoggingAndAdminCIDRs() throws {
        let s = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .security)
        XCTAssertTrue(s.tls)
        XCTAssertEqual(s.authentication, "oauth2")
        XCTAssertTrue(s.auditLogging)
        XCTAssertEqual(s.adminCIDRs, ["10.0.0.0/8", "192.168.1.0/24"])
    }

    func testEverythingIsOffUnlessSaid() throws {
        let s = try XCTUnwrap(loadStack(minimalHeader + "security: {admin_cidrs: []}").security)
        XCTAssertFalse(s.tls)
        XCTAssertNil(s.authentication)
        XCTAssertFalse(s.auditLogging)
        XCTAssertEqual(s.adminCIDRs, [])
    }

    func testAdminCIDRsMustBeAList() {
        assertSingleError(load(minimalHeader + "security: {admin_cidrs: 10.0.0.0/8}"), "expected-list", at: (2, 25))
    }
}
