import Expansion
import Foundation
import Planning
import ProviderKit
import XCTest

/// stacks/swarm.yaml becomes the guide's docker-compose.yml as Engine API objects, and the same services written as
/// a compose file are accepted by `docker stack config` (the docker CLI's own loader; no daemon is needed) with the
/// image, command, env, replicas and placement that the specs carry.
final class SwarmExpansionTests: XCTestCase {
    static let stackFile = "stacks/swarm.yaml"

    func testResourceCountsPerType() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "swarm")
        XCTAssertEqual(PlatformFixture.counts(expansion.resources), [
            // cluster.yaml, tls.yaml of security.tls, and the alert rules and the Alertmanager route
            "swarm.network": 1, "swarm.config": 4, "swarm.volume": 1, "swarm.service": 2,
            // the join token, and the AWS credentials the nodes write backups with
            "swarm.secret": 3,
        ])
        XCTAssertEqual(expansion.ownDiagnostics.map { $0.contains("[autoscaling-not-applied]") || $0.contains("[swarm-admin-cidrs-not-applied]") },
                       [true, true], "the only findings: Docker Swarm has no autoscaler, and cannot restrict by source address")
    }

    func testManagerService() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "swarm")
        let spec = try XCTUnwrap(planned["swarm.service.swarm-cluster.manager"]?["spec"])
        XCTAssertEqual(spec[path: "Name"], "maif-manager")
        XCTAssertEqual(spec[path: "Mode.Replicated.Replicas"], 1)
        XCTAssertEqual(spec[path: "TaskTemplate.Placement.Constraints"], .list(["node.role == manager"]))
        XCTAssertEqual(spec[path: "TaskTemplate.ContainerSpec.Image"], "maif/maif-enterprise:latest")
        XCTAssertEqual(spec[path: "TaskTemplate.ContainerSpec.Args"],
                       .list(["maif", "--role", "manager", "--join-token-file", "/run/secrets/maif-join-token", "--tls-config", "/config/tls.yaml"]))
        let env = spec[path: "TaskTemplate.ContainerSpec.Env"]?.listValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(env, [
            "MAIF_CLUSTER_NAME=swarm-cluster", "MAIF_REPLICATION_FACTOR=3", "MAIF_CLUSTER_CONFIG=/config/cluster.yaml",
            "MAIF_NODE_ID=maif-manager", "AWS_ACCESS_KEY_ID_FILE=/run/secrets/maif-aws-access-key-id",
            "AWS_SECRET_ACCESS_KEY_FILE=/run/secrets/maif-aws-secret-access-key",
        ])
        let mount = try XCTUnwrap(spec[path: "TaskTemplate.ContainerSpec.Mounts"]?.listValue?.first)
        XCTAssertEqual(mount[path: "Type"], "volume")
        XCTAssertEqual(mount[path: "Source"], "maif-data")
        XCTAssertEqual(mount[path: "Target"], "/data")
        XCTAssertEqual(mount[path: "VolumeOptions.Labels"]?.mapValue?["maif.address"], "swarm.volume.swarm-cluster",
                       "a node's own copy of the volume, made for its tasks, is labelled as the stack's")
        let config = try XCTUnwrap(spec[path: "TaskTemplate.ContainerSpec.Configs"]?.listValue?.first)
        XCTAssertEqual(config[path: "File"]?.mapValue?["Name"], "/config/cluster.yaml")
        XCTAssertEqual(config[path: "ConfigID"], .unknown, "known once the config exists")
        XCTAssertEqual(spec[path: "EndpointSpec.Ports"], .list([.map([
            "Protocol": "tcp", "TargetPort": 8080, "PublishedPort": 8080, "PublishMode": "ingress",
        ])]))
        XCTAssertEqual(spec[path: "UpdateConfig.Parallelism"], 1)
    }

    func testWorkerService() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "swarm")
        let spec = try XCTUnwrap(planned["swarm.service.swarm-cluster.worker"]?["spec"])
        XCTAssertEqual(spec[path: "Name"], "maif-worker")
        XCTAssertEqual(spec[path: "Mode.Replicated.Replicas"], 2)
        XCTAssertEqual(spec[path: "TaskTemplate.Placement.Constraints"], .list(["node.role == worker"]))
        let env = spec[path: "TaskTemplate.ContainerSpec.Env"]?.listValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(env.contains("MAIF_NODE_ID=maif-worker-{{.Task.Slot}}"), "task slots count from 1, as the node ids do: \(env)")
        XCTAssertTrue(env.contains("MAIF_CLUSTER_NAME=swarm-cluster"), "\(env)")
        XCTAssertTrue(env.contains("MAIF_REPLICATION_FACTOR=3"), "\(env)")
        XCTAssertNil(spec[path: "EndpointSpec"], "only the manager publishes the port")
    }

    func testNetworkConfigVolumeAndSecrets() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "swarm")
        let network = try XCTUnwrap(planned["swarm.network.swarm-cluster"])
        XCTAssertEqual(network["driver"], "overlay")
        XCTAssertEqual(network["attachable"], true)
        let config = try XCTUnwrap(planned["swarm.config.swarm-cluster"])
        let data = try XCTUnwrap(config["data"]?.stringValue)
        XCTAssertTrue(data.contains("name: swarm-cluster"), data)
        XCTAssertEqual(config["name"], "maif-config")
        XCTAssertEqual(config["versioned_name"], .string("maif-config-" + Digest.sha256(data).prefix(12)),
                       "configs are immutable: a new content is a new Docker name, known at plan time")
        XCTAssertEqual(planned["swarm.secret.swarm-cluster.join-token"]?["versioned_name"], .unknown, "secrets count their versions at apply")
        XCTAssertEqual(planned["swarm.volume.swarm-cluster"]?["name"], "maif-data")
        XCTAssertEqual(planned["swarm.secret.swarm-cluster.join-token"]?["generate_length"], 48)
        XCTAssertEqual(planned["swarm.secret.swarm-cluster.aws-access-key-id"]?["data_from"], "env:AWS_ACCESS_KEY_ID")
        XCTAssertNil(planned["swarm.secret.swarm-cluster.aws-access-key-id"]?["data"])
    }

    func testEverythingIsLabelledWithStackAndAddress() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "swarm")
        XCTAssertEqual(planned.count, 11, "network, volume, 3 secrets, 2 services, cluster.yaml, tls.yaml, alert rules and Alertmanager configs")
        for (address, attributes) in planned {
            let labels = address.hasPrefix("swarm.service.") ? attributes["spec"]?[path: "Labels"] : attributes["labels"]
            XCTAssertEqual(labels?.mapValue?["maif.stack"], "swarm", address)
            XCTAssertEqual(labels?.mapValue?["maif.address"], .string(address), address)
        }
    }

    func testEveryDependencyIsAReference() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "swarm")
        let edges = PlatformFixture.references(expansion.resources)
        let secrets = ["swarm.secret.swarm-cluster.aws-access-key-id", "swarm.secret.swarm-cluster.aws-secret-access-key",
                       "swarm.secret.swarm-cluster.join-token"]
        let needs = (["swarm.config.swarm-cluster", "swarm.config.swarm-cluster.tls", "swarm.network.swarm-cluster", "swarm.volume.swarm-cluster"] + secrets).sorted()
        XCTAssertEqual(edges["swarm.service.swarm-cluster.manager"], needs)
        XCTAssertEqual(edges["swarm.service.swarm-cluster.worker"], needs)
    }

    /// A changed config or secret must exist before the services move onto it, and the old one go only after.
    func testConfigsAndSecretsAreReplacedCreateBeforeDestroyAndReferredToByVersionedName() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "swarm")
        for resource in expansion.resources where ["config", "secret"].contains(resource.address.kind) {
            XCTAssertTrue(resource.lifecycle.createBeforeDestroy, resource.address.description)
        }
        let manager = try XCTUnwrap(expansion.resources.first { $0.address.description == "swarm.service.swarm-cluster.manager" })
        let container = manager.config["spec"]?[path: "TaskTemplate.ContainerSpec"]
        XCTAssertEqual(container?[path: "Configs"]?.listValue?.first?[path: "ConfigName"], "${swarm.config.swarm-cluster.versioned_name}")
        XCTAssertEqual(container?[path: "Secrets"]?.listValue?.first?[path: "SecretName"],
                       "${swarm.secret.swarm-cluster.join-token.versioned_name}")
    }

    func testASwarmWithoutManagerIsAnError() throws {
        var stack = try PlatformFixture.load(Self.stackFile)
        stack.clusters[0].nodes.removeFirst()
        let result = Expander.expand(stack)
        XCTAssertEqual(result.diagnostics.filter { $0.code == "swarm-without-manager" }.count, 1)
        XCTAssertFalse(result.resources.contains { $0.address.provider == "swarm" })
    }

    func testWorkerIdsThatAreNotTaskSlotsAreFlagged() throws {
        var stack = try PlatformFixture.load(Self.stackFile)
        stack.clusters[0].nodes[2].id = "maif-worker-7"
        let result = Expander.expand(stack)
        XCTAssertEqual(result.diagnostics.filter { $0.code == "node-ids-not-task-slots" }.map(\.severity), [.warning])
    }

    /// The validator is not vacuous: what the docker CLI would refuse, it refuses.
    func testDockerStackConfigRefusesABadComposeFile() throws {
        try PlatformFixture.requireValidators()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-swarm-bad-\(UUID().uuidString).json")
        try #"{"version": "3.8", "services": {"a": {"image": "x", "deploy": {"replicas": "two"}}}}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try PlatformFixture.runValidator(["stack", file.path])
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("replicas must be a integer"), result.output)
    }

    /// The specs, written as the compose file `docker stack deploy` would turn into them, go through the docker CLI's
    /// loader (`docker stack config`), and what comes out carries the specs' image, command, env, replicas and placement.
    func testComposeEquivalentPassesDockerStackConfig() async throws {
        try PlatformFixture.requireValidators()
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "swarm")
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "swarm")
        let compose = Compose.file(from: expansion.resources, planned: planned)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-swarm-\(UUID().uuidString).json")
        try compose.canonicalJSON().write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let result = try PlatformFixture.runValidator(["stack", file.path])
        XCTAssertEqual(result.status, 0, "docker stack config rejected the compose file:\n\(result.output)\n\(compose.canonicalJSON())")
        let accepted = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let services = try XCTUnwrap(accepted["services"] as? [String: [String: Any]])
        XCTAssertEqual(Set(services.keys), ["maif-manager", "maif-worker"])
        for (address, attributes) in planned where address.hasPrefix("swarm.service.") {
            let spec = try XCTUnwrap(attributes["spec"])
            let name = try XCTUnwrap(spec[path: "Name"]?.stringValue)
            let service = try XCTUnwrap(services[name], name)
            let container = spec[path: "TaskTemplate.ContainerSpec"]
            XCTAssertEqual(service["image"] as? String, container?[path: "Image"]?.stringValue, name)
            XCTAssertEqual(service["command"] as? [String], container?[path: "Args"]?.listValue?.compactMap(\.stringValue), name)
            let deploy = service["deploy"] as? [String: Any]
            XCTAssertEqual((deploy?["replicas"] as? NSNumber)?.int64Value, spec[path: "Mode.Replicated.Replicas"]?.intValue, name)
            XCTAssertEqual((deploy?["placement"] as? [String: Any])?["constraints"] as? [String],
                           spec[path: "TaskTemplate.Placement.Constraints"]?.listValue?.compactMap(\.stringValue), name)
            let env = (container?[path: "Env"]?.listValue ?? []).compactMap(\.stringValue).map { line -> (String, String) in
                let parts = line.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
            XCTAssertEqual(service["environment"] as? [String: String], Dictionary(uniqueKeysWithValues: env), name)
        }
    }
}

/// The compose file (version 3.8) that `docker stack deploy` would turn into the same services. Objects maifctl
/// creates itself (network, volume, config, secrets) are `external`, as they are to a stack deployed beside them.
enum Compose {
    static func file(from resources: [DesiredResource], planned: [String: [String: AttributeValue]]) -> AttributeValue {
        /// `${swarm.x.y.id}` or `${swarm.x.y.versioned_name}` → the Docker name of swarm.x.y: compose refers to objects
        /// by name (the versioned one where it is known at plan time).
        func name(_ value: AttributeValue?) -> AttributeValue {
            guard let text = value?.stringValue, let ref = References.find(in: .string(text)).first else { return value ?? .null }
            return dockerName(planned[ref.address.description] ?? [:])
        }
        func dockerName(_ attributes: [String: AttributeValue]) -> AttributeValue {
            if case .string(let versioned)? = attributes["versioned_name"] { return .string(versioned) }
            return attributes["name"] ?? .null
        }
        var services: [String: AttributeValue] = [:]
        var external: [String: [String: AttributeValue]] = ["networks": [:], "volumes": [:], "configs": [:], "secrets": [:]]
        for resource in resources {
            let kind = resource.address.kind + "s"
            if kind != "services", let n = dockerName(planned[resource.address.description] ?? [:]).stringValue {
                external[kind]?[n] = .map(["external": true])
                continue
            }
            guard let spec = resource.config["spec"], let serviceName = spec[path: "Name"]?.stringValue else { continue }
            let task = spec[path: "TaskTemplate"], container = task?[path: "ContainerSpec"]
            var service: [String: AttributeValue] = [
                "image": container?[path: "Image"] ?? .null,
                "command": container?[path: "Args"] ?? .null,
                "environment": container?[path: "Env"] ?? .null,
                "volumes": .list((container?[path: "Mounts"]?.listValue ?? []).map { m in
                    .map(["type": m[path: "Type"] ?? .null, "source": name(m[path: "Source"]), "target": m[path: "Target"] ?? .null])
                }),
                "configs": .list((container?[path: "Configs"]?.listValue ?? []).map { c in
                    .map(["source": name(c[path: "ConfigName"]), "target": c[path: "File.Name"] ?? .null, "mode": c[path: "File.Mode"] ?? .null])
                }),
                "secrets": .list((container?[path: "Secrets"]?.listValue ?? []).map { s in
                    .map(["source": name(s[path: "SecretName"]), "target": s[path: "File.Name"] ?? .null, "mode": s[path: "File.Mode"] ?? .null])
                }),
                "networks": .map(Dictionary(uniqueKeysWithValues: (task?[path: "Networks"]?.listValue ?? []).map { n in
                    (name(n[path: "Target"]).stringValue ?? "?", AttributeValue.map(["aliases": n[path: "Aliases"] ?? .list([])]))
                })),
                "deploy": .map([
                    "mode": "replicated",
                    "replicas": spec[path: "Mode.Replicated.Replicas"] ?? .null,
                    "placement": .map(["constraints": task?[path: "Placement.Constraints"] ?? .list([])]),
                    "labels": spec[path: "Labels"] ?? .map([:]),
                    "update_config": .map([
                        "parallelism": spec[path: "UpdateConfig.Parallelism"] ?? .null,
                        "failure_action": spec[path: "UpdateConfig.FailureAction"] ?? .null,
                        "order": spec[path: "UpdateConfig.Order"] ?? .null,
                    ]),
                ]),
            ]
            if let ports = spec[path: "EndpointSpec.Ports"]?.listValue {
                service["ports"] = .list(ports.map { p in
                    .map(["target": p[path: "TargetPort"] ?? .null, "published": p[path: "PublishedPort"] ?? .null,
                          "protocol": p[path: "Protocol"] ?? .null, "mode": p[path: "PublishMode"] ?? .null])
                })
            }
            services[serviceName] = .map(service)
        }
        var file: [String: AttributeValue] = ["version": "3.8", "services": .map(services)]
        for (kind, objects) in external where !objects.isEmpty { file[kind] = .map(objects) }
        return .map(file)
    }
}
