/// The resilience sections: `high_availability` and `disaster_recovery`.

import StackLoader
import StackModel
import XCTest

final class HighAvailabilitySectionTests: XCTestCase {
    func testQuorumReplicationFailureDetectionRecoveryAndPartition() throws {
        let ha = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .highAvailability)
        XCTAssertEqual(ha.replicationFactor, 5)
        XCTAssertEqual(ha.quorumSize, 3)
        XCTAssertEqual(ha.failureDetectionTimeout.milliseconds, 45_000)
        XCTAssertFalse(ha.automaticFailover)
        XCTAssertEqual(ha.replicationMode, .asynchronous)
        XCTAssertEqual(ha.replicationConsistency, "eventual")
        XCTAssertEqual(ha.backupFrequency.milliseconds, 1_800_000)
        XCTAssertEqual(ha.retentionPeriod.milliseconds, 90 * 86_400_000)
        XCTAssertEqual(ha.heartbeatInterval.milliseconds, 5_000)
        XCTAssertEqual(ha.failureThreshold, 4)
        XCTAssertFalse(ha.networkPartitionDetection)
        XCTAssertFalse(ha.autoRestart)
        XCTAssertFalse(ha.dataRecovery)
        XCTAssertFalse(ha.splitBrainProtection)
        XCTAssertFalse(ha.minoritySideReadOnly, "minority_side: available")
    }

    func testDefaultsFromTheGuide() throws {
        let ha = try XCTUnwrap(loadStack(minimalHeader + "high_availability: {automatic_failover: yes}").highAvailability)
        var expected = HighAvailability()
        expected.location = ha.location
        XCTAssertEqual(ha, expected)
        XCTAssertEqual(ha.replicationFactor, 3)
        XCTAssertEqual(ha.quorumSize, 2)
        XCTAssertEqual(ha.replicationMode, .synchronous)
        XCTAssertEqual(ha.backupFrequency, .seconds(3_600))
        XCTAssertEqual(ha.retentionPeriod, .seconds(30 * 86_400))
        XCTAssertTrue(ha.minoritySideReadOnly)
    }

    func testYAMLBooleanSpellingsAreAccepted() throws {
        let ha = try XCTUnwrap(loadStack(minimalHeader + """
            high_availability:
              automatic_failover: off
              recovery: {auto_restart: "no", data_recovery: TRUE, split_brain_protection: On}
            """).highAvailability)
        XCTAssertFalse(ha.automaticFailover)
        XCTAssertFalse(ha.autoRestart)
        XCTAssertTrue(ha.dataRecovery)
        XCTAssertTrue(ha.splitBrainProtection)
    }

    func testQuorumAndReplicationAreOnlyRangeCheckedHereTheQuorumRulesLiveInChecks() throws {
        let ha = try XCTUnwrap(loadStack(minimalHeader + "high_availability:\n  replication_factor: 1").highAvailability)
        XCTAssertEqual(ha.replicationFactor, 1)
        XCTAssertEqual(ha.quorumSize, 2, "the default is kept; `maifctl check` reports that it is not a majority")
        assertSingleError(load(minimalHeader + "high_availability:\n  quorum_size: 0"), "out-of-range", at: (3, 16),
                          messageContains: "quorum_size must be between 1 and 99")
    }

    func testUnknownKeysInNestedBlocksNameTheBlock() {
        assertSingleError(load(minimalHeader + "high_availability:\n  failure_detection: {hearbeat_interval: 5s}"), "unknown-key",
                          at: (3, 23), messageContains: "in high_availability.failure_detection",
                          hintContains: "did you mean 'heartbeat_interval'?")
        assertSingleError(load(minimalHeader + "high_availability:\n  failure_detection: {heartbeat: 5s}"), "unknown-key",
                          hintContains: "known keys here: heartbeat_interval, failure_threshold, network_partition_detection")
    }

    func testAnUnknownReplicationModeIsRejected() {
        assertSingleError(load(minimalHeader + "high_availability:\n  replication: {mode: sync}"), "invalid-value",
                          at: (3, 23), messageContains: "synchronous, asynchronous")
    }
}

final class DisasterRecoverySectionTests: XCTestCase {
    func testStrategyObjectivesAndBackupTargetsOfEveryType() throws {
        let dr = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .disasterRecovery)
        XCTAssertEqual(dr.backupStrategy, .continuous)
        XCTAssertEqual(dr.rto, .seconds(900))
        XCTAssertEqual(dr.rpo, .seconds(300))
        XCTAssertEqual(dr.backupTargets.map(\.kind), [.s3, .gcs, .azureBlob, .onprem, .local])
        XCTAssertEqual(dr.backupTargets.map(\.name), ["maif-backups-primary", "gcs-copy", "maif-backups", "onprem-4", "local-5"],
                       "unnamed targets are named after their bucket or container, else type and position")
        let s3 = dr.backupTargets[0]
        XCTAssertEqual(s3.bucket, "maif-backups-primary")
        XCTAssertEqual(s3.region, "us-east-1")
        XCTAssertTrue(s3.encryption)
        XCTAssertEqual(s3.location?.line, 154)
        XCTAssertEqual(dr.backupTargets[1].bucket, "maif-backups-gcs")
        XCTAssertEqual(dr.backupTargets[2].container, "maif-backups")
        XCTAssertFalse(dr.backupTargets[2].encryption)
        XCTAssertEqual(dr.backupTargets[3].host, "backup.internal")
        XCTAssertEqual(dr.backupTargets[3].path, "/var/backups/maif")
        XCTAssertEqual(dr.backupTargets[4].path, "./backups")
        XCTAssertTrue(dr.backupTargets[4].encryption, "encryption defaults to on")
    }

    func testScheduleCrossRegionReplicationAndRecoveryProcedures() throws {
        let dr = try XCTUnwrap(loadStack(Fixtures.text("valid/full-stack.yaml"), environment: Fixtures.fullStackEnvironment)
            .disasterRecovery)
        XCTAssertEqual(dr.schedule?.full?.interval, .seconds(604_800))
        XCTAssertEqual(dr.schedule?.incremental?.interval, .seconds(86_400))
        XCTAssertEqual(dr.schedule?.transactionLog?.interval, .seconds(300))
        XCTAssertEqual(dr.schedule?.full?.text, "weekly")
        XCTAssertEqual(dr.schedule?.shortestInterval, .seconds(300))
        let crr = try XCTUnwrap(dr.crossRegionReplication)
        XCTAssertEqual(crr.primaryRegion, "us-east-1")
        XCTAssertEqual(crr.secondaryRegions, ["us-west-2", "eu-west-1"])
        XCTAssertEqual(crr.replicationLagThreshold, .seconds(60))
        XCTAssertFalse(dr.automatedFailover)
        XCTAssertTrue(dr.dataValidation)
        XCTAssertFalse(dr.rollbackCapability)
        XCTAssertEqual(dr.lastTested, "2024-05-01")
    }

    func testDefaultsWhenOmitted() throws {
        let dr = try XCTUnwrap(loadStack(minimalHeader + """
            disaster_recovery:
              schedule: {}
              cross_region_replication: {primary_region: us-east-1}
            """).disasterRecovery)
        XCTAssertEqual(dr.backupStrategy, .incremental)
        XCTAssertNil(dr.rto)
        XCTAssertNil(dr.rpo)
        XCTAssertEqual(dr.backupTargets, [])
        XCTAssertNil(dr.schedule?.shortestInterval)
        XCTAssertEqual(dr.crossRegionReplication?.secondaryRegions, [])
        XCTAssertEqual(dr.crossRegionReplication?.replicationLagThreshold, .seconds(30))
        XCTAssertTrue(dr.automatedFailover)
        XCTAssertTrue(dr.dataValidation)
        XCTAssertTrue(dr.rollbackCapability)
        XCTAssertNil(dr.lastTested)
    }

    func testEachTargetTypeRequiresWhereItsBackupsGo() {
        let expected = [("s3", "bucket"), ("gcs", "bucket"), ("azure_blob", "container"), ("onprem", "path"), ("local", "path")]
        for (type, key) in expected {
            assertSingleError(load(minimalHeader + "disaster_recovery:\n  backup_targets:\n    - {type: \(type)}"),
                              "missing-key", at: (4, 7), messageContains: "backup target is missing required key '\(key)'")
        }
    }

    func testABackupTargetNeedsAType() {
        assertSingleError(load(minimalHeader + "disaster_recovery:\n  backup_targets:\n    - {bucket: b}"), "missing-key",
                          at: (4, 7), messageContains: "required key 'type'")
        assertSingleError(load(minimalHeader + "disaster_recovery:\n  backup_targets:\n    - {type: s4, bucket: b}"),
                          "invalid-value", at: (4, 14), hintContains: "did you mean 's3'?")
    }

    func testCrossRegionReplicationNeedsAPrimaryRegion() {
        assertSingleError(load(minimalHeader + "disaster_recovery:\n  cross_region_replication: {secondary_regions: [a]}"),
                          "missing-key", at: (3, 29), messageContains: "'primary_region'")
    }

    func testRTOAndRPOAreDurations() {
        assertSingleError(load(minimalHeader + "disaster_recovery: {rto: 15, rpo: 5m}"), "invalid-duration", at: (2, 26))
    }
}

final class NotificationsSectionTests: XCTestCase {
    func testNotificationsNameWhoHearsOfWhichSeverities() throws {
        let stack = try loadStack(minimalHeader + """
            monitoring:
              prometheus_operator: true
              notifications:
                - {name: oncall, severities: [critical], email: [oncall@example.com], webhook: [{env: PAGER_URL}]}
                - {name: team, email: [team@example.com], webhook: ["https://hooks.example.com/maif"]}
            """)
        let m = try XCTUnwrap(stack.monitoring)
        XCTAssertTrue(m.prometheusOperator)
        XCTAssertEqual(m.notifications.map(\.name), ["oncall", "team"])
        XCTAssertEqual(m.notifications[0].severities, [.critical])
        XCTAssertEqual(m.notifications[0].webhooks, [.reference(.env("PAGER_URL"))])
        XCTAssertEqual(m.notifications[1].severities, AlertSeverity.allCases, "no severities: all of them")
        XCTAssertEqual(m.notifications[1].webhooks, [.url("https://hooks.example.com/maif")])
        XCTAssertEqual(m.recipients(of: .critical).map(\.name), ["oncall", "team"])
        XCTAssertEqual(m.recipients(of: .warning).map(\.name), ["team"])
    }

    func testBadNotificationsAreReportedAtTheirPosition() {
        assertSingleError(load(minimalHeader + "monitoring: {notifications: [{name: a, email: [not-an-address]}]}"), "invalid-email",
                          at: (2, 48))
        assertSingleError(load(minimalHeader + "monitoring: {notifications: [{name: a, webhook: [ftp://x]}]}"), "invalid-url", at: (2, 50))
        assertSingleError(load(minimalHeader + "monitoring: {notifications: [{name: a, severities: [critcal], email: [a@b.c]}]}"),
                          "invalid-value", at: (2, 53), hintContains: "did you mean 'critical'?")
        assertSingleError(load(minimalHeader + "monitoring: {notifications: [{name: a}]}"), "empty-notification", messageContains: "reaches nobody")
        assertSingleError(load(minimalHeader + "monitoring: {notifications: [{name: a, email: [a@b.c]}, {name: a, email: [c@d.e]}]}"),
                          "duplicate-notification")
    }
}
