/// Where data may land (`hybrid.data_placement`, compliance-aware `geo_routing`) and where each cluster's network
/// lands: the rules of Placement.swift, each with a small inline stack.

@testable import Expansion
import Checks
import Foundation
import StackLoader
import StackModel
import XCTest

/// Inline stacks for the GCP, Azure and placement tests, loaded with a controlled environment.
enum PlacementFixture {
    static func stack(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Stack {
        let result = StackLoader.load(sources: [(name: "stack.yaml", text: text)], options: LoadOptions(variables: [:], environment: [:]))
        let errors = result.diagnostics.filter { $0.severity == .error }
        XCTAssertEqual(errors.map(\.description), [], "the inline stack must load", file: file, line: line)
        return try XCTUnwrap(result.stack, file: file, line: line)
    }

    static func shipped(_ path: String) throws -> Stack {
        let url = SnapshotTests.repoRoot.appendingPathComponent(path)
        let result = StackLoader.load(files: [url.path], options: LoadOptions(variables: [:], environment: [:]))
        return try XCTUnwrap(result.stack, "\(path) must load: \(result.diagnostics)")
    }

    /// An on-premises cluster and an AWS cluster, as in the guide's hybrid setup; `extra` adds sections.
    static func hybrid(_ extra: String) throws -> Stack {
        try stack("""
            stack: {name: hybrid-test}
            clusters:
              - name: dc
                cloud: onprem
                nodes:
                  - {id: dc-1, host: 10.0.1.10, role: primary}
                  - {id: dc-2, host: 10.0.1.11, role: secondary}
              - name: cloud
                cloud: aws
                region: us-east-1
                nodes:
                  - {id: aws-1, role: primary}
                  - {id: aws-2, role: secondary}
            hybrid:
              clusters:
                dc: {location: on_premises, cluster: dc}
                cloud: {location: aws_us_east_1, cluster: cloud}
              data_placement:
                sensitive_data: on_premises
                public_data: cloud
                cached_data: nearest_cluster

            """ + extra)
    }

    /// Clusters in us-east-1 and eu-west-1 with GDPR data kept in eu-west-1; `extra` adds sections.
    static func geo(locality: Bool, _ extra: String) throws -> Stack {
        try stack("""
            stack: {name: geo-test}
            clusters:
              - name: us
                cloud: aws
                region: us-east-1
                nodes: [{id: us-1, role: primary}]
              - name: eu
                cloud: aws
                region: eu-west-1
                nodes: [{id: eu-1, role: primary}]
            geo_routing:
              regions:
                us-east-1: {cluster: us, capacity: 100}
                europe: {cluster: eu, capacity: 100}
              routing: {compliance_aware: true, data_locality: \(locality)}
              compliance:
                gdpr: [europe]

            """ + extra)
    }
}

final class PlacementRuleTests: XCTestCase {
    func testHybridPlacementsRestrictSiteKinds() throws {
        let stack = try PlacementFixture.hybrid("")
        let sensitive = try XCTUnwrap(Placement.rule(forDataClass: "sensitive_data", in: stack))
        XCTAssertEqual(sensitive.kinds, [.onPremises])
        XCTAssertNil(sensitive.regions)
        XCTAssertEqual(Placement.rule(forDataClass: "public_data", in: stack)?.kinds, [.cloud])
        XCTAssertEqual(Placement.rule(forDataClass: "cached_data", in: stack)?.isRestricted, false, "nearest_cluster: anywhere")
        XCTAssertNil(Placement.allowedRegions(forDataClass: "sensitive_data", in: stack))

        let dc = stack.clusters[0], cloud = stack.clusters[1]
        XCTAssertEqual(Placement.site(of: dc, in: stack), Placement.Site(kind: .onPremises, region: nil))
        XCTAssertEqual(Placement.site(of: cloud, in: stack), Placement.Site(kind: .cloud, region: "us-east-1"))
        XCTAssertEqual(Placement.dataClasses(heldBy: dc, in: stack), ["sensitive_data"])
        XCTAssertEqual(Placement.dataClasses(heldBy: cloud, in: stack), ["public_data"])
    }

    func testComplianceRegionsIncludeTheClustersOfAGeoRegion() throws {
        let stack = try PlacementFixture.geo(locality: true, "")
        XCTAssertEqual(Placement.allowedRegions(forDataClass: "gdpr", in: stack), ["europe", "eu-west-1"],
                       "'europe' is a geo-routing region whose cluster runs in eu-west-1")
        XCTAssertEqual(Placement.dataClasses(heldBy: stack.clusters[1], in: stack), ["gdpr"])
        XCTAssertEqual(Placement.dataClasses(heldBy: stack.clusters[0], in: stack), [])
        XCTAssertNil(Placement.allowedRegions(forDataClass: "unknown_class", in: stack))
    }

    func testComplianceIsOnlyEnforcedWhenRoutingIsComplianceAware() throws {
        let text = """
            stack: {name: t}
            clusters: [{name: eu, cloud: aws, region: eu-west-1, nodes: [{id: eu-1, role: primary}]}]
            geo_routing:
              regions: {eu-west-1: {cluster: eu}}
              routing: {compliance_aware: false}
              compliance: {gdpr: [eu-west-1]}
            disaster_recovery:
              backup_targets: [{type: s3, bucket: b, region: us-east-1}]
            """
        let stack = try PlacementFixture.stack(text)
        XCTAssertNil(Placement.rule(forDataClass: "gdpr", in: stack))
        XCTAssertEqual(Placement.violations(stack), [])
    }

    func testRegionNamesCompareWithoutCaseAndSpaces() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: t}
            clusters: [{name: az, cloud: azure, region: East US, nodes: [{id: a-1, role: primary}]}]
            geo_routing:
              regions: {eastus: {cluster: az}}
              routing: {compliance_aware: true, data_locality: false}
              compliance: {us_only: [eastus]}
            disaster_recovery:
              backup_targets: [{type: azure_blob, container: backups, region: East US}]
            """)
        XCTAssertEqual(Placement.dataClasses(heldBy: stack.clusters[0], in: stack), ["us_only"])
        XCTAssertEqual(Placement.violations(stack), [])
    }

    func testSpecificRegionTakesTheComplianceRegions() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: t}
            clusters: [{name: us, cloud: gcp, region: us-central1, nodes: [{id: g-1, role: primary}]}]
            geo_routing:
              regions: {us-central1: {cluster: us}}
              compliance: {residency: [us-central1]}
            hybrid:
              data_placement: {compliance_data: specific_region}
            """)
        XCTAssertEqual(Placement.allowedRegions(forDataClass: "compliance_data", in: stack), ["us-central1"],
                       "a class without its own compliance list takes every listed region")
        XCTAssertNil(Placement.rule(forDataClass: "residency", in: stack), "compliance_aware is off: residency itself is not enforced")
    }
}

final class PlacementViolationTests: XCTestCase {
    func testSensitiveDataBackedUpOnPremisesIsFine() throws {
        let stack = try PlacementFixture.hybrid("""
            disaster_recovery:
              backup_targets:
                - {name: dc-backups, type: onprem, host: 10.0.1.20, path: /var/backups/maif}
                - {type: s3, bucket: maif-backups, region: us-east-1}
            """)
        XCTAssertEqual(Placement.violations(stack), [])
        XCTAssertEqual(Placement.backupTargets(forDataClass: "sensitive_data", in: stack).map(\.name), ["dc-backups"])
        XCTAssertEqual(Placement.backupTargets(forDataClass: "public_data", in: stack).map(\.name), ["maif-backups"])
    }

    func testSensitiveDataWithOnlyCloudTargetsIsAnErrorAtEachTarget() throws {
        let stack = try PlacementFixture.hybrid("""
            disaster_recovery:
              backup_targets:
                - {type: s3, bucket: maif-backups, region: us-east-1}
                - {type: gcs, bucket: maif-backups-gcs, region: asia-southeast1}
            """)
        let errors = Placement.violations(stack).filter { $0.severity == .error }
        XCTAssertEqual(errors.map(\.code), ["placement-violation", "placement-violation"])
        XCTAssertEqual(errors.map { $0.location?.line }, [24, 25], "each error points at its backup target")
        XCTAssertTrue(errors[0].message.contains("'maif-backups' (s3, us-east-1)"), errors[0].message)
        XCTAssertTrue(errors[0].message.contains("sensitive_data data of cluster 'dc'"), errors[0].message)
        XCTAssertTrue(errors[0].message.contains("on premises"), errors[0].message)
        XCTAssertTrue(errors[1].message.contains("(gcs, asia-southeast1)"), errors[1].message)
        XCTAssertEqual(errors[0].hint, "add a backup target on premises; sensitive_data is then backed up only there")
    }

    func testPublicDataWithOnlyOnPremisesTargetsIsAnError() throws {
        let stack = try PlacementFixture.hybrid("""
            disaster_recovery:
              backup_targets: [{name: dc-backups, type: onprem, host: 10.0.1.20, path: /var/backups/maif}]
            """)
        let errors = Placement.violations(stack)
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors[0].message.contains("public_data data of cluster 'cloud', which may only live in the cloud"), errors[0].message)
    }

    func testARestrictionNoClusterCanMeetIsAnError() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: t}
            clusters: [{name: c, cloud: aws, region: us-east-1, nodes: [{id: n-1, role: primary}]}]
            hybrid:
              data_placement: {sensitive_data: on_premises}
            """)
        let d = Placement.violations(stack)
        XCTAssertEqual(d.map(\.code), ["placement-no-cluster"])
        XCTAssertEqual(d.first?.location?.line, 4)
        XCTAssertTrue(d[0].message.contains("sensitive_data data may only live on premises, but no cluster of the stack is there"))
    }

    func testSpecificRegionWithoutRegionsIsAWarning() throws {
        let stack = try PlacementFixture.hybrid("")
        XCTAssertEqual(Placement.violations(stack), [])
        let withCompliance = try PlacementFixture.stack("""
            stack: {name: t}
            clusters: [{name: c, cloud: aws, region: us-east-1, nodes: [{id: n-1, role: primary}]}]
            hybrid:
              data_placement: {compliance_data: specific_region}
            """)
        let d = Placement.violations(withCompliance)
        XCTAssertEqual(d.map(\.code), ["placement-region-unspecified"])
        XCTAssertEqual(d.first?.severity, .warning)
    }

    func testComplianceDataReplicatedOutOfItsRegionWithoutDataLocality() throws {
        let stack = try PlacementFixture.geo(locality: false, """
            disaster_recovery:
              backup_targets:
                - {type: s3, bucket: eu-backups, region: eu-west-1}
              cross_region_replication:
                primary_region: eu-west-1
                secondary_regions: [us-east-1]
            """)
        let d = Placement.violations(stack)
        XCTAssertEqual(d.map(\.code), ["placement-violation"], "the eu-west-1 bucket is allowed; the us-east-1 replica is not")
        XCTAssertTrue(d[0].message.contains("copies gdpr data of cluster 'eu' from eu-west-1 to us-east-1"), d[0].message)
        XCTAssertEqual(d[0].location?.line, 23, "points at secondary_regions")
    }

    func testDataLocalityKeepsComplianceDataHome() throws {
        let stack = try PlacementFixture.geo(locality: true, """
            disaster_recovery:
              backup_targets:
                - {type: s3, bucket: us-backups, region: us-east-1}
              cross_region_replication:
                primary_region: eu-west-1
                secondary_regions: [us-east-1]
            """)
        let d = Placement.violations(stack)
        XCTAssertEqual(d.map(\.code), ["placement-not-backed-up"], "no replica error; the missing EU target is a warning")
        XCTAssertEqual(d.first?.severity, .warning)
        XCTAssertTrue(d[0].message.contains("gdpr data of cluster 'eu' may only live in europe"), d[0].message)
    }

    func testComplianceDataBackedUpOutsideItsRegionsWithoutDataLocality() throws {
        let stack = try PlacementFixture.geo(locality: false, """
            disaster_recovery:
              backup_targets: [{type: s3, bucket: us-backups, region: us-east-1}]
            """)
        let d = Placement.violations(stack)
        XCTAssertEqual(d.map(\.code), ["placement-violation"])
        XCTAssertTrue(d[0].message.contains("'us-backups' (s3, us-east-1) would hold gdpr data of cluster 'eu'"), d[0].message)
    }

    /// hybrid names the region of its compliance data, and multi-region backs Singapore-resident data up in
    /// ap-southeast-1, so no shipped stack places data where it may not go, or leaves restricted data unbacked.
    func testShippedStacksPlaceTheirDataWhereAllowed() throws {
        for path in ["stacks/hybrid.yaml", "stacks/production.yaml", "stacks/multi-cloud.yaml", "stacks/multi-region.yaml"] {
            let diagnostics = Placement.violations(try PlacementFixture.shipped(path))
            XCTAssertEqual(diagnostics.map(\.description), [], path)
        }
    }
}

final class NetworkRangeTests: XCTestCase {
    static let clusters = """
        stack: {name: nets}
        clusters:
          - {name: alpha, cloud: gcp, region: us-central1, nodes: [{id: a-1, role: primary}]}
          - {name: beta, cloud: azure, region: eastus, nodes: [{id: b-1, role: primary}]}
          - {name: gamma, cloud: aws, region: us-east-1, nodes: [{id: g-1, role: primary}]}
          - {name: dc, cloud: onprem, nodes: [{id: d-1, host: 10.0.1.10, role: primary}, {id: d-2, host: 10.0.1.11, role: primary}]}
        """

    func testEachVMClusterGetsItsOwnStableSlash16() throws {
        let stack = try PlacementFixture.stack(Self.clusters)
        let ranges = Networks.networkRanges(in: stack)
        XCTAssertEqual(Set(ranges.keys), ["alpha", "beta", "gamma"], "on-premises clusters keep their own addresses")
        XCTAssertEqual(Set(ranges.values).count, 3)
        for r in ranges.values {
            XCTAssertTrue(r.hasPrefix("10.") && r.hasSuffix(".0.0/16"), r)
            XCTAssertNotEqual(r, "10.0.0.0/16", "the on-premises hosts' /16 is never handed out")
        }
        var reordered = stack
        reordered.clusters.reverse()
        reordered.clusters.removeAll { $0.name == "beta" }
        let again = Networks.networkRanges(in: reordered)
        XCTAssertEqual(again["alpha"], ranges["alpha"], "reordering or removing clusters moves no other network")
        XCTAssertEqual(again["gamma"], ranges["gamma"])
    }

    func testNodesWrittenAsIPv4KeepTheirNetwork() throws {
        let stack = try PlacementFixture.stack("""
            stack: {name: t}
            clusters:
              - {name: fixed, cloud: gcp, region: us-central1, nodes: [{id: n-1, host: 172.20.3.4, role: primary}, {id: n-2, host: 172.21.0.9, role: secondary}]}
            """)
        XCTAssertEqual(Networks.networkRange(of: stack.clusters[0], in: stack), "172.20.0.0/16")
        XCTAssertEqual(Networks.nodesOutsideRange(stack.clusters[0], in: stack).map(\.id), ["n-2"])
    }

    func testPeersAreTheOtherClustersNetworksAndHosts() throws {
        let stack = try PlacementFixture.stack(Self.clusters)
        let ranges = Networks.networkRanges(in: stack)
        let peers = Networks.peerRanges(of: stack.clusters[0], in: stack)
        XCTAssertEqual(Set(peers), [ranges["beta"]!, ranges["gamma"]!, "10.0.1.10/32", "10.0.1.11/32"])
        XCTAssertFalse(peers.contains(ranges["alpha"]!))
    }

    func testTheHashIsTheSameEverywhere() {
        XCTAssertEqual(Networks.stableHash(""), 2_166_136_261)
        XCTAssertEqual(Networks.stableHash("a"), 0xE40C292C, "FNV-1a's published value for \"a\"")
    }
}
