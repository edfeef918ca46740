/// The onprem provider against real OpenSSH servers: three sshd processes on 127.0.0.2-4 port 2222, started by
/// scripts/sshd-hosts.sh. Tests run as root on one machine, so the provider's `root` setting puts each "host's" files
/// under a temporary directory of its own (`<tmp>/{host}`); everything is checked over ssh, as on real hosts.

import Foundation
import ProviderKit
import XCTest
@testable import OnPremProvider

final class OnPremProviderTests: XCTestCase {
    nonisolated(unsafe) static var lab: SSHLab?
    nonisolated(unsafe) static var labError: String?

    override class func setUp() {
        super.setUp()
        do { lab = try SSHLab.start(count: 3, port: 2222) } catch { labError = "\(error)" }
    }

    override class func tearDown() {
        lab?.stop()
        lab = nil
        super.tearDown()
    }

    func requireLab() throws -> SSHLab {
        try XCTUnwrap(Self.lab, "cannot start the sshd test hosts: \(Self.labError ?? "unknown") — run scripts/sshd-hosts.sh start 3 DIR to see why")
    }

    /// The on-prem part of a hybrid stack, as expansion produces it per node (owner root:root: no `maif` account here).
    static func nodeResources(host: String, node: String, clusterYAML: String) -> [(ResourceContext, [String: AttributeValue])] {
        func context(_ kind: String, _ name: String) -> ResourceContext {
            ResourceContext(stack: "hybrid", address: ResourceAddress(provider: "onprem", kind: kind, name: "on-prem.\(node)\(name)"))
        }
        return [
            (context("host", ""), ["address": .string(host), "port": 2222, "user": "root", "become": false]),
            (context("directory", ".etc-maif"), ["host": .string(host), "path": "/etc/maif", "mode": "0750", "owner": "root:root"]),
            (context("file", ".cluster-yaml"), ["host": .string(host), "path": "/etc/maif/cluster.yaml", "content": .string(clusterYAML),
                                                "mode": "0640", "owner": "root:root"]),
            (context("systemd_unit", ".maif"), ["host": .string(host), "name": "maif.service",
                                                "content": .string("[Unit]\nDescription=MAIF node \(node)\n[Service]\nExecStart=/usr/local/bin/maif --node-id \(node)\n"),
                                                "enabled": true, "state": "started",
                                                "restart_triggers": .map(["cluster.yaml": .string(Digest.sha256(clusterYAML))])]),
        ]
    }

    func testApplyDriftRepairAndDestroyOnThreeHosts() async throws {
        let lab = try requireLab()
        let provider = try lab.provider()
        var states: [ResourceAddress: ResourceState] = [:]
        var contexts: [(ResourceContext, [String: AttributeValue])] = []
        for (i, host) in lab.hosts.enumerated() {
            contexts += Self.nodeResources(host: host, node: "node-\(i + 1)", clusterYAML: "cluster: on-prem\nnode: node-\(i + 1)\n")
        }

        // Create, in dependency order (host, directory, file, unit).
        for (context, config) in contexts {
            let planned = try await provider.plan(PlanRequest(context: context, prior: nil, desired: config)).planned
            let state = try await provider.create(context, config)
            states[context.address] = state
            if context.address.kind == "file" { XCTAssertEqual(state.attributes["sha256"], planned["sha256"], "plan knows the checksum") }
        }
        let facts = try XCTUnwrap(states[contexts[0].0.address]?.attributes["facts"]?.mapValue)
        XCTAssertEqual(facts["os"], "Linux")
        XCTAssertNotNil(facts["architecture"]?.stringValue)
        XCTAssertNotNil(facts["hostname"]?.stringValue)

        // The files are on the hosts, with their modes; the unit is written and says systemd does not run here.
        for (i, host) in lab.hosts.enumerated() {
            XCTAssertEqual(try lab.ssh(host, "cat \(lab.root(host))/etc/maif/cluster.yaml"), "cluster: on-prem\nnode: node-\(i + 1)\n")
            XCTAssertEqual(try lab.ssh(host, "stat -c %a \(lab.root(host))/etc/maif/cluster.yaml \(lab.root(host))/etc/maif"), "640\n750\n")
            XCTAssertTrue(try lab.ssh(host, "cat \(lab.root(host))/etc/systemd/system/maif.service").contains("--node-id node-\(i + 1)"))
            XCTAssertTrue(try lab.ssh(host, "ls \(lab.root(host))/var/lib/maif/resources/hybrid").contains("onprem.file.on-prem.node-\(i + 1).cluster-yaml.json"))
        }
        let unit = contexts.first { $0.0.address.kind == "systemd_unit" }!.0.address
        XCTAssertTrue(states[unit]?.attributes["active_state"]?.stringValue?.hasPrefix("not-managed:") == true)

        // Read right after apply: no drift anywhere.
        for (context, _) in contexts {
            let read = try await provider.read(context, states[context.address]!)
            XCTAssertEqual(read, states[context.address], "\(context.address) reads back as applied")
        }

        // A hand edit (content and mode) on node-2 is drift; update repairs it.
        let file = contexts.first { $0.0.address.name == "on-prem.node-2.cluster-yaml" }!
        let path = "\(lab.root(lab.hosts[1]))/etc/maif/cluster.yaml"
        _ = try lab.ssh(lab.hosts[1], "echo 'hand edit' >> \(path) && chmod 0666 \(path)")
        let drifted = try await XCTUnwrapAsync(try await provider.read(file.0, states[file.0.address]!))
        XCTAssertEqual(drifted.attributes["content"], "cluster: on-prem\nnode: node-2\nhand edit\n")
        XCTAssertEqual(drifted.attributes["mode"], "0666")
        XCTAssertNotEqual(drifted.attributes["sha256"], states[file.0.address]?.attributes["sha256"])
        let repaired = try await provider.update(file.0, drifted, file.1)
        XCTAssertEqual(repaired, states[file.0.address])
        XCTAssertEqual(try lab.ssh(lab.hosts[1], "cat \(path); stat -c %a \(path)"), "cluster: on-prem\nnode: node-2\n640\n")

        // A file deleted by hand reads as gone.
        _ = try lab.ssh(lab.hosts[2], "rm \(lab.root(lab.hosts[2]))/etc/maif/cluster.yaml")
        let gone = contexts.first { $0.0.address.name == "on-prem.node-3.cluster-yaml" }!
        let readGone = try await provider.read(gone.0, states[gone.0.address]!)
        XCTAssertNil(readGone)

        // After a crash, find adopts by marker; an address that never created anything finds nothing.
        let found = try await provider.find(file.0, file.1)
        XCTAssertEqual(found?.id, states[file.0.address]?.id)
        let stranger = ResourceContext(stack: "hybrid", address: ResourceAddress(provider: "onprem", kind: "file", name: "never-created"))
        let notFound = try await provider.find(stranger, ["host": .string(lab.hosts[0]), "path": "/etc/maif/cluster.yaml", "content": ""])
        XCTAssertNil(notFound, "a file without our marker is not adopted")

        // One handshake per host for all of the above.
        let stats = provider.connectionStatistics
        for host in lab.hosts {
            XCTAssertEqual(stats.connections["\(host):2222"], 1, "connections to \(host)")
            XCTAssertGreaterThan(stats.commands["\(host):2222"] ?? 0, 5)
        }

        // Destroy in reverse order leaves nothing, markers included.
        for (context, _) in contexts.reversed() {
            guard let state = states[context.address] else { continue }
            try await provider.delete(context, state)
        }
        for host in lab.hosts {
            XCTAssertEqual(try lab.ssh(host, "find \(lab.root(host)) -type f | wc -l").trimmingCharacters(in: .whitespacesAndNewlines), "0")
            XCTAssertEqual(try lab.ssh(host, "test -e \(lab.root(host))/etc/maif && echo present || echo absent"), "absent\n")
        }
        await provider.shutdown()
    }

    func testHostKeyIsCheckedAgainstKnownHosts() async throws {
        let lab = try requireLab()
        let empty = lab.directory + "/empty_known_hosts"
        _ = FileManager.default.createFile(atPath: empty, contents: nil)
        let provider = try lab.provider(["known_hosts": .string(empty)])
        let context = ResourceContext(stack: "hybrid", address: ResourceAddress(provider: "onprem", kind: "host", name: "unknown-key"))
        do {
            _ = try await provider.create(context, ["address": .string(lab.hosts[0]), "port": 2222])
            XCTFail("an unknown host key must be refused")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("host \(lab.hosts[0]) port 2222"), text)
            XCTAssertTrue(text.contains("Host key verification failed"), text)
        }
        // The explicit opt-out connects without known_hosts.
        let lax = try lab.provider(["known_hosts": .string(empty), "strict_host_key_checking": false])
        let state = try await lax.create(context, ["address": .string(lab.hosts[0]), "port": 2222])
        XCTAssertEqual(state.attributes["facts"]?.mapValue?["os"], "Linux")
        await provider.shutdown()
        await lax.shutdown()
    }

    func testKeyFromAnEnvironmentVariable() async throws {
        let lab = try requireLab()
        let key = try String(contentsOfFile: lab.directory + "/id_ed25519", encoding: .utf8)
        var settings = lab.settings()
        settings.references["key"] = .env("MAIF_TEST_SSH_KEY")
        let provider = try OnPremProvider(configuration: ProviderConfiguration(stack: "hybrid", settings: settings, workingDirectory: lab.directory,
                                                                               environment: ["MAIF_TEST_SSH_KEY": key]))
        let context = ResourceContext(stack: "hybrid", address: ResourceAddress(provider: "onprem", kind: "host", name: "env-key"))
        let state = try await provider.create(context, ["address": .string(lab.hosts[1])])
        XCTAssertEqual(state.attributes["facts"]?.mapValue?["os"], "Linux")
        await provider.shutdown()

        // A key variable that is not set fails configuring the provider, before any host is reached.
        XCTAssertThrowsError(try OnPremProvider(configuration: ProviderConfiguration(stack: "hybrid", settings: settings,
                                                                                     workingDirectory: lab.directory))) { error in
            XCTAssertTrue("\(error)".contains("MAIF_TEST_SSH_KEY, which is not set"), "\(error)")
        }
    }

    /// A host taken down mid-run fails its resources with host, port and ssh's message; the others converge.
    func testUnreachableHostFailsOnlyItsResources() async throws {
        _ = try requireLab()
        let lab = try SSHLab.start(count: 3, port: 2223)
        defer { lab.stop() }
        let provider = try lab.provider()
        var states: [ResourceAddress: (ResourceContext, ResourceState)] = [:]
        for (i, host) in lab.hosts.enumerated() {
            let context = ResourceContext(stack: "hybrid", address: ResourceAddress(provider: "onprem", kind: "file", name: "node-\(i + 1)"))
            let config: [String: AttributeValue] = ["host": .string(host), "path": "/etc/maif/cluster.yaml", "content": "v1\n", "mode": "0640"]
            states[context.address] = (context, try await provider.create(context, config))
        }

        let down = lab.hosts[2]
        try lab.stopHost(down)

        let results = await withTaskGroup(of: (String, Result<ResourceState, any Error>).self) { group in
            for (context, prior) in states.values {
                group.addTask {
                    var config = prior.attributes
                    config["content"] = "v2\n"
                    do { return (prior.attributes["host"]!.stringValue!, .success(try await provider.update(context, prior, config))) } catch {
                        return (prior.attributes["host"]!.stringValue!, .failure(error))
                    }
                }
            }
            var out: [String: Result<ResourceState, any Error>] = [:]
            for await (host, result) in group { out[host] = result }
            return out
        }
        for host in lab.hosts where host != down {
            XCTAssertNoThrow(try results[host]!.get(), "\(host) converges")
            XCTAssertEqual(try lab.ssh(host, "cat \(lab.root(host))/etc/maif/cluster.yaml"), "v2\n")
        }
        guard case .failure(let error) = results[down]! else { return XCTFail("\(down) is down, yet its update succeeded") }
        let text = "\(error)"
        XCTAssertTrue(error is ProviderError, text)
        XCTAssertTrue(text.contains("onprem.file.node-3: update failed"), text)
        XCTAssertTrue(text.contains("host \(down) port 2223"), text)
        XCTAssertTrue(text.contains("ssh: connect to host \(down) port 2223: Connection refused"), "ssh's own message: \(text)")
        await provider.shutdown()
    }
}

func XCTUnwrapAsync<T>(_ value: @autoclosure () async throws -> T?, file: StaticString = #filePath, line: UInt = #line) async throws -> T {
    let v = try await value()
    return try XCTUnwrap(v, file: file, line: line)
}
