/// GCP expansion of geo routing (a Cloud DNS zone and one geo-routed record set over the clusters' load balancers) and
/// of what GCP cannot express in auto scaling and alerting, each said with a warning at the stack key.

@testable import Expansion
import ProviderKit
import StackModel
import XCTest

final class GCPRoutingScalingExpansionTests: XCTestCase {
    static let twoRegions = """
        stack: {name: geo}
        clouds: {gcp: {project: maif-geo}}
        clusters:
          - {name: us, cloud: gcp, region: us-central1, nodes: [{id: us-1, role: primary}]}
          - {name: eu, cloud: gcp, region: europe-west1, nodes: [{id: eu-1, role: primary}]}
        geo_routing:
          regions:
            us-central1: {cluster: us}
            europe-west1: {cluster: eu}
            elsewhere: {capacity: 10}
          routing: {compliance_aware: true}
        """

    func testGeoRoutingIsOneZoneAndOneGeoRecordSetOverTheLoadBalancers() throws {
        let stack = try PlacementFixture.stack(Self.twoRegions)
        let out = GCPExpansion.stackWide(stack)
        XCTAssertEqual(out.resources.map(\.address.description), ["gcp.dns_managed_zone.geo", "gcp.dns_record_set.geo"])
        let zone = try CloudExpansionCheck.resource(out.resources, "gcp.dns_managed_zone.geo")
        XCTAssertEqual(zone["dns_name"], "geo.maif.internal.")
        XCTAssertEqual(zone["project"], "maif-geo")
        XCTAssertEqual(zone["labels"], .map(["maif-stack": "geo", "maif-address": "gcp_dns_managed_zone_geo"]))
        let record = try CloudExpansionCheck.resource(out.resources, "gcp.dns_record_set.geo")
        XCTAssertEqual(record["managed_zone"], "${gcp.dns_managed_zone.geo.name}")
        XCTAssertEqual(record["routing_policy"], .map(["geo": .map(["items": .list([
            .map(["location": "us-central1", "rrdatas": .list(["${gcp.forwarding_rule.us.ip_address}"])]),
            .map(["location": "europe-west1", "rrdatas": .list(["${gcp.forwarding_rule.eu.ip_address}"])]),
        ])])]))
        XCTAssertEqual(out.diagnostics.map(\.code), ["gcp-geo-region-unrouted", "gcp-geo-compliance-unsupported"])
        XCTAssertTrue(out.diagnostics.allSatisfy { $0.severity == .warning && $0.location != nil })

        // The references resolve to resources the clusters expand to.
        var all = out
        for cluster in stack.clusters { all += GCPExpansion.cluster(cluster, in: stack) }
        try CloudExpansionCheck.assertWellFormed(all.resources)
    }

    func testStacksWithoutGCPGeoRoutingGetNoZone() throws {
        let production = try PlacementFixture.shipped("stacks/production.yaml")
        XCTAssertTrue(GCPExpansion.stackWide(production).resources.isEmpty, "production's geo routing is on AWS")
        XCTAssertTrue(GCPExpansion.stackWide(production).diagnostics.isEmpty)
    }

    func testStepPoliciesAndAShortAbsenceAreSaidAtTheirKeys() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: steps}
            clouds: {gcp: {region: us-central1}}
            clusters:
              - {name: g, cloud: gcp, nodes: [{id: n-1, role: primary}, {id: n-2, role: secondary}]}
            autoscaling:
              horizontal:
                min_nodes: 2
                max_nodes: 2
                policies:
                  - {name: cpu_scaling, metric: cpu_utilization, threshold: 80, action: scale_up, adjustment: 2}
            monitoring:
              alert_rules:
                - {name: replication, condition: replication_lag >= 30, duration: 2m, severity: info}
                - {name: odd, condition: "cluster_health == 'degraded'", duration: 1m, severity: warning}
            """)
        let out = GCPExpansion.cluster(stack.clusters[0], in: stack)
        XCTAssertEqual(out.diagnostics.map(\.code),
                       ["gcp-step-scaling-unsupported", "gcp-autoscaling-no-room", "gcp-alert-severity-info", "gcp-alert-unmapped"])
        XCTAssertEqual(out.diagnostics.first?.location?.line, 10, "at the policy")
        XCTAssertNil(out.resources.first { $0.address.kind == "instance_group_manager" }, "no room for scaled nodes: no managed group")
        XCTAssertEqual(out.resources.filter { $0.address.kind == "alert_policy" }.map(\.address.description), ["gcp.alert_policy.g.replication"])
        let lag = try CloudExpansionCheck.resource(out.resources, "gcp.alert_policy.g.replication")
        let threshold = lag["conditions"]?.listValue?.first?.mapValue?["condition_threshold"]
        XCTAssertEqual(CloudExpansionCheck.string(threshold, "filter"), #"metric.type = "custom.googleapis.com/maif/replication_lag" AND metric.labels.cluster = "g""#)
        XCTAssertEqual(CloudExpansionCheck.string(threshold, "comparison"), "COMPARISON_GE")
        XCTAssertEqual(threshold?.mapValue?["threshold_value"], .double(30), "MAIF's own metric, unscaled")
        let service = try CloudExpansionCheck.resource(out.resources, "gcp.backend_service.g")
        XCTAssertEqual(service["backends"]?.listValue?.count, 2, "the two zones' groups, no managed group")
        try CloudExpansionCheck.assertWellFormed(out.resources)
    }

    func testTheBackupKeyOfTheGCPSettings() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: keyed}
            clouds: {gcp: {project: p, region: europe-west1, backup_kms_key: projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k}}
            disaster_recovery:
              backup_targets:
                - {type: gcs, bucket: keyed-backups}
            """)
        let target = try XCTUnwrap(stack.disasterRecovery?.backupTargets.first)
        let bucket = try CloudExpansionCheck.resource(GCPExpansion.backupTarget(target, in: stack).resources, "gcp.bucket.keyed-backups")
        XCTAssertEqual(bucket["encryption"], .map(["default_kms_key_name": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"]))
        XCTAssertEqual(bucket["location"], "EUROPE-WEST1")
    }
}
