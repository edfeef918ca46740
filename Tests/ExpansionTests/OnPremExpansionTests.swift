import Expansion
import Foundation
import ProviderKit
import StackModel
import XCTest

/// The on-prem part of stacks/hybrid.yaml: per host, /etc/maif with cluster.yaml and the TLS references, and a
/// systemd unit running the node; the on-prem backup target becomes a directory on its own backup host.
final class OnPremExpansionTests: XCTestCase {
    static let stackFile = "stacks/hybrid.yaml"

    func testResourceCountsPerType() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "onprem")
        XCTAssertEqual(PlatformFixture.counts(expansion.resources), [
            // three nodes and the backup host 10.0.1.20
            "onprem.host": 4,
            // /etc/maif per node, the backup directory, and /etc/maif/alerting on the first host
            "onprem.directory": 5,
            // cluster.yaml and tls.yaml per node; the alert rules and the Alertmanager route on the first host
            "onprem.file": 8,
            // maif.service per node, and a backup service and timer per kind of backup (full, incremental, transaction log)
            "onprem.systemd_unit": 3 + 3 * 6,
        ])
    }

    func testHostsAreReachedAsTheCloudsSectionSays() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "onprem")
        let host = try XCTUnwrap(planned["onprem.host.on-prem.node-1"])
        XCTAssertEqual(host["address"], "10.0.1.10")
        XCTAssertEqual(host["port"], 22)
        XCTAssertEqual(host["user"], "maif")
        XCTAssertEqual(host["become"], true, "the maif user writes /etc through sudo")
        XCTAssertEqual(host["facts"], .unknown)
        XCTAssertEqual(planned["onprem.host.on-prem.node-3"]?["address"], "10.0.1.12")
    }

    func testConfigFilesAndTLSReferences() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "onprem")
        XCTAssertEqual(planned["onprem.directory.on-prem.node-2.etc-maif"]?["path"], "/etc/maif")
        let config = try XCTUnwrap(planned["onprem.file.on-prem.node-2.cluster-yaml"])
        XCTAssertEqual(config["host"], "10.0.1.11")
        XCTAssertEqual(config["path"], "/etc/maif/cluster.yaml")
        let content = try XCTUnwrap(config["content"]?.stringValue)
        XCTAssertTrue(content.contains("name: on-prem"), content)
        XCTAssertTrue(content.contains("host: 10.0.1.11"), content)

        let tls = try XCTUnwrap(planned["onprem.file.on-prem.node-2.tls-yaml"])
        XCTAssertEqual(tls["path"], "/etc/maif/tls.yaml")
        let tlsContent = try XCTUnwrap(tls["content"]?.stringValue)
        XCTAssertTrue(tlsContent.contains("cert_file: /etc/maif/tls/node-2.crt"), tlsContent)
        XCTAssertTrue(tlsContent.contains("key_file: /etc/maif/tls/node-2.key"), tlsContent)
        XCTAssertTrue(tlsContent.contains("client_authentication: mutual_tls"), tlsContent)
        XCTAssertFalse(tlsContent.contains("BEGIN"), "references only, never key material")
    }

    func testSystemdUnitRunsTheNodeWithItsRoleAndConfig() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "onprem")
        let unit = try XCTUnwrap(planned["onprem.systemd_unit.on-prem.node-3.maif"])
        XCTAssertEqual(unit["name"], "maif.service")
        XCTAssertEqual(unit["host"], "10.0.1.12")
        XCTAssertEqual(unit["enabled"], true)
        XCTAssertEqual(unit["state"], "started")
        let content = try XCTUnwrap(unit["content"]?.stringValue)
        let execStart = content.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }
        XCTAssertEqual(execStart, "ExecStart=/usr/local/bin/maif --role cache --node-id node-3 --port 8080 --config /etc/maif/cluster.yaml --tls-config /etc/maif/tls.yaml")
        XCTAssertTrue(content.contains("Restart=always"), "high_availability.recovery.auto_restart")
        XCTAssertTrue(content.contains("WantedBy=multi-user.target"))
        let configContent = try XCTUnwrap(planned["onprem.file.on-prem.node-3.cluster-yaml"]?["content"]?.stringValue)
        XCTAssertEqual(unit["restart_triggers"]?.mapValue?["cluster.yaml"], .string(Digest.sha256(configContent)),
                       "a new cluster.yaml restarts the node")
    }

    func testBackupTargetIsADirectoryOnItsHost() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "onprem")
        XCTAssertEqual(planned["onprem.host.onprem-backups"]?["address"], "10.0.1.20")
        let directory = try XCTUnwrap(planned["onprem.directory.onprem-backups"])
        XCTAssertEqual(directory["host"], "10.0.1.20")
        XCTAssertEqual(directory["path"], "/var/backups/maif")
        XCTAssertEqual(directory["mode"], "0700")
    }

    func testBackupTargetOnANodeReusesThatNodesHost() throws {
        var stack = try PlatformFixture.load(Self.stackFile)
        stack.disasterRecovery?.backupTargets[0].host = "10.0.1.11"
        let resources = Expander.expand(stack).resources.filter { $0.address.provider == "onprem" }
        XCTAssertEqual(PlatformFixture.counts(resources)["onprem.host"], 3)
        XCTAssertEqual(resources.first { $0.address.description == "onprem.directory.onprem-backups" }?.config["host"],
                       "${onprem.host.on-prem.node-2.address}")
    }

    func testEveryDependencyIsAReference() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "onprem")
        let edges = PlatformFixture.references(expansion.resources)
        XCTAssertEqual(edges["onprem.directory.on-prem.node-1.etc-maif"], ["onprem.host.on-prem.node-1"])
        XCTAssertEqual(edges["onprem.file.on-prem.node-1.cluster-yaml"], ["onprem.directory.on-prem.node-1.etc-maif", "onprem.host.on-prem.node-1"])
        XCTAssertEqual(edges["onprem.systemd_unit.on-prem.node-1.maif"], [
            "onprem.file.on-prem.node-1.cluster-yaml", "onprem.file.on-prem.node-1.tls-yaml", "onprem.host.on-prem.node-1",
        ])
        XCTAssertEqual(edges["onprem.directory.onprem-backups"], ["onprem.host.onprem-backups"])
    }

    func testEverythingIsTaggedWithStackAndAddress() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "onprem")
        for resource in expansion.resources {
            XCTAssertEqual(try OwnerMarks.marked(resource, stack: "hybrid")["tags"], .map(["maif:stack": "hybrid", "maif:address": .string(resource.address.description)]),
                           resource.address.description)
        }
    }

    func testANodeWithoutHostIsAnError() {
        var stack = Stack(meta: StackMeta(name: "s"))
        stack.clusters = [Cluster(name: "c", cloud: .onprem, platform: .onprem, nodes: [Node(id: "n1", role: .primary)])]
        let result = Expander.expand(stack)
        XCTAssertEqual(result.resources.count, 0)
        XCTAssertEqual(result.diagnostics.map(\.code), ["onprem-node-without-host"])
    }
}
