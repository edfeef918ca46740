/// Cloud DNS (a zone and a geo-routed record set), Cloud Monitoring (alert policies found again by their labels) and
/// Cloud Storage (a bucket with every setting the gcs backup targets use) through the provider, checked with Google's
/// own clients.

import Foundation
import ProviderKit
import Testing
@testable import GCPProvider

extension GCPIntegration {
    @Test func dnsZoneAndGeoRoutedRecordSet() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let z = servers.context("dns_managed_zone", "prod")
        var zoneConfig = servers.marked(gcp, z, ["name": "prod-maif", "dns_name": "prod.maif.internal", "description": "geo routing",
                                                  "visibility": "public"])
        let zone = try await gcp.create(z, zoneConfig)
        #expect(zone.attributes["dns_name"] == "prod.maif.internal.", "the trailing dot is the API's form")
        #expect((zone.attributes["name_servers"]?.listValue ?? []).isEmpty == false)
        #expect(try await gcp.read(z, zone) == zone)
        zoneConfig["description"] = "geo routing of prod"
        let zone2 = try await gcp.update(z, zone, zoneConfig)
        #expect(zone2.attributes["description"] == "geo routing of prod")

        let r = servers.context("dns_record_set", "prod")
        var recordConfig = servers.marked(gcp, r, [
            "managed_zone": "prod-maif", "name": "prod.maif.internal.", "type": "A", "ttl": 60,
            "routing_policy": .map(["geo": .map(["items": .list([
                .map(["location": "us-central1", "rrdatas": .list(["198.51.100.10"])]),
                .map(["location": "europe-west1", "rrdatas": .list(["198.51.100.20"])]),
            ])])]),
        ])
        let record = try await gcp.create(r, recordConfig)
        #expect(try await gcp.read(r, record) == record)
        #expect(try await gcp.find(r, recordConfig)?.id == record.id, "found again by zone, name and type")
        let seen = try servers.google(["call", "dns", "v1", "resourceRecordSets", "get",
                                       GCPServers.json(["project": servers.project, "managedZone": "prod-maif", "name": "prod.maif.internal.", "type": "A"])])
        #expect((seen.at("routingPolicy.geo.items") as? [Any])?.count == 2)

        recordConfig["ttl"] = 30
        let record2 = try await gcp.update(r, record, recordConfig)
        #expect(record2.attributes["ttl"] == .int(30))
        // The zone cannot go while it holds the record set: Cloud DNS says so.
        await #expect { try await gcp.delete(z, zone2) } throws: { "\($0)".contains("containerNotEmpty") }
        try await gcp.delete(r, record2)
        try await gcp.delete(z, zone2)
        #expect(try await gcp.read(z, zone2) == nil)
        try servers.expectNoViolations()
    }

    @Test func alertPolicyLifecycleAndFindByLabels() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let p = servers.context("alert_policy", "c.high_cpu_usage")
        var config = servers.marked(gcp, p, [
            "display_name": "c high_cpu_usage", "combiner": "OR", "enabled": true, "severity": "WARNING",
            "documentation": .map(["content": "MAIF alert rule high_cpu_usage", "mime_type": "text/markdown"]),
            "conditions": .list([.map([
                "display_name": "cpu_utilization > 90",
                "condition_threshold": .map([
                    "filter": #"metric.type = "compute.googleapis.com/instance/cpu/utilization" AND resource.type = "gce_instance" AND metadata.user_labels."maif-cluster" = "c""#,
                    "comparison": "COMPARISON_GT", "threshold_value": .double(0.9), "duration": "300s",
                    "aggregations": .list([.map(["alignment_period": "60s", "per_series_aligner": "ALIGN_MEAN"])]),
                    "trigger": .map(["count": 1]),
                ]),
            ])]),
        ])
        let policy = try await gcp.create(p, config)
        let name = try #require(policy.attributes["name"]?.stringValue)
        #expect(name.hasPrefix("projects/\(servers.project)/alertPolicies/"))
        #expect(try await gcp.read(p, policy) == policy, "Monitoring's condition names are not drift")
        #expect(try await gcp.find(p, config)?.id == policy.id, "found again by its owner labels")
        #expect(try await gcp.find(servers.context("alert_policy", "c.other"), config) == nil)

        config["conditions"] = .list([.map([
            "display_name": "node_status == 'down'",
            "condition_absent": .map(["filter": #"metric.type = "compute.googleapis.com/instance/uptime" AND resource.type = "gce_instance""#,
                                      "duration": "120s", "aggregations": .list([.map(["alignment_period": "60s", "per_series_aligner": "ALIGN_MEAN"])]),
                                      "trigger": .map(["count": 1])]),
        ])])
        config["severity"] = "CRITICAL"
        let policy2 = try await gcp.update(p, policy, config)
        #expect(policy2.attributes["severity"] == "CRITICAL")
        let seen = try servers.google(["call", "monitoring", "v3", "projects.alertPolicies", "get", GCPServers.json(["name": name])])
        #expect((seen.at("conditions.0.conditionAbsent.duration") as? String) == "120s")
        #expect((seen["userLabels"] as? [String: String])?["maif-address"] == "gcp_alert_policy_c_high_cpu_usage")

        try await gcp.delete(p, policy2)
        #expect(try await gcp.read(p, policy2) == nil)
        try servers.expectNoViolations()
    }

    @Test func bucketWithEverySettingDriftRepairedAndDeleted() async throws {
        let servers = try GCPServers.start()
        let gcp = try servers.provider()
        let b = servers.context("bucket", "backups")
        let key = "projects/\(servers.project)/locations/asia-southeast1/keyRings/maif/cryptoKeys/backups"
        var config = servers.marked(gcp, b, [
            "name": "maif-test-backups", "location": "asia-southeast1", "storage_class": "STANDARD",
            "versioning": .map(["enabled": true]),
            "encryption": .map(["default_kms_key_name": .string(key)]),
            "lifecycle": .map(["rule": .list([
                .map(["action": .map(["type": "Delete"]), "condition": .map(["age": 30, "is_live": true])]),
                .map(["action": .map(["type": "Delete"]), "condition": .map(["days_since_noncurrent_time": 30])]),
            ])]),
            "iam_configuration": .map(["uniform_bucket_level_access": .map(["enabled": true]), "public_access_prevention": "enforced"]),
            "labels": .map(["team": "platform"]),
        ])
        let bucket = try await gcp.create(b, config)
        #expect(bucket.attributes["location"] == "ASIA-SOUTHEAST1")
        #expect(try await gcp.read(b, bucket) == bucket, "a read right after create is no change")
        #expect(try await gcp.find(b, config)?.id == "maif-test-backups")

        // google-cloud-storage sees it; then turns versioning off: drift that update repairs.
        let seen = try #require(try servers.google([["bucket", "get", "maif-test-backups"], ["bucket", "versioning", "maif-test-backups", "off"]]).first as? [String: Any])
        #expect(seen.at("versioning.enabled") as? Bool == true)
        #expect(seen.at("encryption.defaultKmsKeyName") as? String == key)
        #expect(seen.at("iamConfiguration.uniformBucketLevelAccess.enabled") as? Bool == true)
        #expect((seen["labels"] as? [String: String]) == ["team": "platform", "maif-stack": "prod", "maif-address": "gcp_bucket_backups"])
        let drifted = try #require(try await gcp.read(b, bucket))
        #expect(drifted.attributes["versioning"] == .map(["enabled": false]))
        let repaired = try await gcp.update(b, drifted, config)
        #expect(repaired.attributes["versioning"] == .map(["enabled": true]))

        // Labels merge on PATCH: a label the stack dropped is removed; retention is set in place.
        config["labels"] = .map(["maif-stack": "prod", "maif-address": "gcp_bucket_backups"])
        config["versioning"] = .map(["enabled": false])
        config["retention_policy"] = .map(["retention_period": 86_400])
        let changed = try await gcp.update(b, repaired, config)
        #expect(changed.attributes["labels"] == config["labels"])
        #expect(changed.attributes["retention_policy"] == .map(["retention_period": 86_400]))
        let after = try #require(try servers.google([["bucket", "get", "maif-test-backups"]]).first as? [String: Any])
        #expect(after.at("retentionPolicy.retentionPeriod") as? String == "86400")
        #expect((after["labels"] as? [String: String])?["team"] == nil)

        // Another stack's bucket of the same name is not adopted: bucket names are global.
        let other = servers.context("bucket", "backups", stack: "someone-else")
        await #expect { _ = try await gcp.create(other, servers.marked(gcp, other, ["name": "maif-test-backups", "location": "US"])) }
            throws: { "\($0)".contains("taken") }

        try await gcp.delete(b, changed)
        #expect(try await gcp.read(b, changed) == nil)
        #expect((try servers.google([["bucket", "list", servers.project]]).first as? [String] ?? ["?"]).isEmpty)
        try servers.expectNoViolations()
    }
}
