import BuiltinProviders
import Expansion
import Foundation
import Planning
import ProviderKit
import StackLoader
import StackModel
import StateStore
import XCTest

/// stacks/kubernetes.yaml becomes the guide's maif-cluster.yaml, and every generated object passes
/// `kubernetes-validate --strict -k 1.30.0` (the Kubernetes 1.30 OpenAPI schemas; no API server is needed).
final class KubernetesExpansionTests: XCTestCase {
    static let stackFile = "stacks/kubernetes.yaml"

    func testResourceCountsPerType() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "k8s")
        XCTAssertEqual(PlatformFixture.counts(expansion.resources), [
            // maif-config, and maif-alerting (rules and the Alertmanager route); a CronJob per kind of backup
            "k8s.namespace": 1, "k8s.config_map": 2, "k8s.secret": 1, "k8s.service": 2, "k8s.stateful_set": 1,
            "k8s.horizontal_pod_autoscaler": 1, "k8s.pod_disruption_budget": 1, "k8s.cron_job": 3,
            // the NetworkPolicy of security.admin_cidrs
            "k8s.manifest": 1,
        ])
        XCTAssertEqual(expansion.ownDiagnostics, [])
    }

    func testStatefulSetIsTheGuides() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "k8s")
        let sts = try XCTUnwrap(planned["k8s.stateful_set.k8s-maif-cluster"])
        XCTAssertEqual(sts["name"], "maif-cluster", "pods are maif-cluster-0…2, the node ids of the stack")
        XCTAssertEqual(sts["namespace"], "default")
        XCTAssertEqual(sts["uid"], .unknown)
        let manifest = try XCTUnwrap(sts["manifest"])
        XCTAssertEqual(manifest[path: "apiVersion"], "apps/v1")
        XCTAssertEqual(manifest[path: "spec.replicas"], 3)
        XCTAssertEqual(manifest[path: "spec.serviceName"], "maif-headless")
        XCTAssertEqual(manifest[path: "spec.selector.matchLabels.app"], "maif")

        let container = try XCTUnwrap(manifest[path: "spec.template.spec.containers"]?.listValue?.first)
        XCTAssertEqual(container[path: "image"], "maif/maif-enterprise:latest")
        XCTAssertEqual(container[path: "ports"]?.listValue?.first?[path: "containerPort"], 8080)
        let env = try XCTUnwrap(container[path: "env"]?.listValue)
        XCTAssertEqual(env.first?[path: "name"], "MAIF_NODE_ID")
        XCTAssertEqual(env.first?[path: "valueFrom.fieldRef.fieldPath"], "metadata.name")
        XCTAssertTrue(env.contains(.map(["name": "MAIF_CLUSTER_CONFIG", "value": "/config/cluster.yaml"])))
        XCTAssertTrue(env.contains(.map(["name": "MAIF_PEER_DOMAIN", "value": "maif-headless.default.svc.cluster.local"])))
        XCTAssertEqual(container[path: "resources"], .map([
            "requests": .map(["cpu": "2", "memory": "8Gi"]), "limits": .map(["cpu": "2", "memory": "8Gi"]),
        ]))
        XCTAssertEqual(container[path: "readinessProbe.httpGet.path"], "/health")
        XCTAssertEqual(container[path: "readinessProbe.periodSeconds"], 30)
        XCTAssertEqual(container[path: "envFrom"]?.listValue?.first?[path: "secretRef.name"], "maif-backup-credentials")
        XCTAssertEqual(manifest[path: "spec.template.spec.volumes"]?.listValue?.first?[path: "configMap.name"], "maif-config")

        let claim = try XCTUnwrap(manifest[path: "spec.volumeClaimTemplates"]?.listValue?.first)
        XCTAssertEqual(claim[path: "metadata.name"], "data")
        XCTAssertEqual(claim[path: "spec.accessModes"], .list(["ReadWriteOnce"]))
        XCTAssertEqual(claim[path: "spec.resources.requests.storage"], "1Ti")
        XCTAssertEqual(claim[path: "spec.storageClassName"], "standard")
    }

    func testConfigMapCarriesTheClusterYAML() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "k8s")
        let cm = try XCTUnwrap(planned["k8s.config_map.k8s-maif-cluster"])
        XCTAssertEqual(cm["name"], "maif-config")
        let yaml = try XCTUnwrap(cm["manifest"]?[path: "data"]?.mapValue?["cluster.yaml"]?.stringValue)
        XCTAssertTrue(yaml.contains("name: k8s-maif-cluster"), yaml)
        XCTAssertTrue(yaml.contains("replication_factor: 3"), yaml)
        XCTAssertTrue(yaml.contains("consistency_level: quorum"), yaml)
        // The pods roll when cluster.yaml changes.
        let sts = try XCTUnwrap(planned["k8s.stateful_set.k8s-maif-cluster"]?["manifest"])
        XCTAssertEqual(sts[path: "spec.template.metadata.annotations"]?.mapValue?["maif/config-sha256"], .string(Digest.sha256(yaml)))
    }

    func testServicesAutoscalerAndDisruptionBudget() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "k8s")
        let headless = try XCTUnwrap(planned["k8s.service.k8s-maif-cluster.headless"]?["manifest"])
        XCTAssertEqual(headless[path: "metadata.name"], "maif-headless")
        XCTAssertEqual(headless[path: "spec.clusterIP"], "None")
        let client = try XCTUnwrap(planned["k8s.service.k8s-maif-cluster.client"]?["manifest"])
        XCTAssertEqual(client[path: "spec.type"], "ClusterIP")
        XCTAssertEqual(client[path: "spec.ports"]?.listValue?.first?[path: "port"], 8080)

        let hpa = try XCTUnwrap(planned["k8s.horizontal_pod_autoscaler.k8s-maif-cluster"]?["manifest"])
        XCTAssertEqual(hpa[path: "apiVersion"], "autoscaling/v2")
        XCTAssertEqual(hpa[path: "spec.minReplicas"], 3)
        XCTAssertEqual(hpa[path: "spec.maxReplicas"], 20)
        XCTAssertEqual(hpa[path: "spec.scaleTargetRef.name"], "maif-cluster")
        let targets = (hpa[path: "spec.metrics"]?.listValue ?? []).map {
            "\($0[path: "resource.name"]?.stringValue ?? "?")=\($0[path: "resource.target.averageUtilization"]?.intValue ?? -1)"
        }
        XCTAssertEqual(targets, ["cpu=70", "memory=80"])
        XCTAssertEqual(hpa[path: "spec.behavior.scaleDown.stabilizationWindowSeconds"], 600)

        let pdb = try XCTUnwrap(planned["k8s.pod_disruption_budget.k8s-maif-cluster"]?["manifest"])
        XCTAssertEqual(pdb[path: "apiVersion"], "policy/v1")
        XCTAssertEqual(pdb[path: "spec.minAvailable"], 2)
        XCTAssertEqual(pdb[path: "spec.selector.matchLabels"], .map(["app": "maif", "maif/cluster": "k8s-maif-cluster"]))
    }

    func testSecretHoldsOnlyReferences() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "k8s")
        let secret = try XCTUnwrap(planned["k8s.secret.k8s-maif-cluster.backup-credentials"])
        XCTAssertEqual(secret["data_from"], .map(["AWS_ACCESS_KEY_ID": "env:AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "env:AWS_SECRET_ACCESS_KEY"]))
        XCTAssertNil(secret["manifest"]?[path: "data"])
        XCTAssertNil(secret["data"])
    }

    func testEveryObjectIsLabelledWithStackAndAddress() async throws {
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "k8s")
        XCTAssertEqual(planned.count, 13, "the 8 objects of the guide, the NetworkPolicy, a CronJob per kind of backup and the alerting ConfigMap")
        for (address, attributes) in planned {
            let labels = attributes["manifest"]?[path: "metadata.labels"]
            XCTAssertEqual(labels?[path: "app"], "maif", address)
            XCTAssertEqual(labels?.mapValue?["maif/stack"], "kubernetes", address)
            XCTAssertEqual(labels?.mapValue?["maif/address"], .string(address), address)
            XCTAssertFalse(labels?.mapValue?.keys.contains { $0.contains(":") } ?? true, "label keys may not contain ':' (\(address))")
            if address != "k8s.namespace.k8s-maif-cluster" {
                XCTAssertEqual(attributes["manifest"]?[path: "metadata.namespace"], "default", address)
            }
        }
        XCTAssertEqual(planned["k8s.namespace.k8s-maif-cluster"]?["retain_on_destroy"], true, "Kubernetes refuses to delete 'default'")
    }

    func testEveryDependencyIsAReference() throws {
        let expansion = try PlatformFixture.expand(Self.stackFile, provider: "k8s")
        let edges = PlatformFixture.references(expansion.resources)
        XCTAssertEqual(edges["k8s.stateful_set.k8s-maif-cluster"], [
            "k8s.config_map.k8s-maif-cluster", "k8s.namespace.k8s-maif-cluster", "k8s.secret.k8s-maif-cluster.backup-credentials",
            "k8s.service.k8s-maif-cluster.headless",
        ])
        XCTAssertEqual(edges["k8s.horizontal_pod_autoscaler.k8s-maif-cluster"], ["k8s.namespace.k8s-maif-cluster", "k8s.stateful_set.k8s-maif-cluster"])
        XCTAssertEqual(edges["k8s.config_map.k8s-maif-cluster"], ["k8s.namespace.k8s-maif-cluster"])
        XCTAssertEqual(edges["k8s.namespace.k8s-maif-cluster"], [])
    }

    func testLabelValuesStayValid() {
        let long = "k8s.horizontal_pod_autoscaler.a-cluster-name-that-goes-on-and-on-and-on.more"
        let value = PlatformFixture.labelValueOf(long)
        XCTAssertLessThanOrEqual(value.count, 63)
        XCTAssertNotNil(value.range(of: #"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"#, options: .regularExpression), value)
    }

    func testSecondKubernetesClusterInAStackIsRefused() throws {
        var stack = try PlatformFixture.load(Self.stackFile)
        var second = stack.clusters[0]
        second.name = "second"
        stack.clusters.append(second)
        let result = Expander.expand(stack)
        XCTAssertEqual(result.diagnostics.filter { $0.code == "kubernetes-cluster-shares-namespace" }.count, 1)
        XCTAssertFalse(result.resources.contains { $0.address.name.hasPrefix("second") })
    }

    func testNodeIdsThatAreNotPodNamesAreFlagged() throws {
        var stack = try PlatformFixture.load(Self.stackFile)
        stack.clusters[0].nodes[1].id = "replica"
        let result = Expander.expand(stack)
        XCTAssertEqual(result.diagnostics.filter { $0.code == "node-ids-not-pod-names" }.map(\.severity), [.warning])
        let sts = result.resources.first { $0.address.type == "k8s.stateful_set" }
        XCTAssertEqual(sts?.config["name"], "k8s-maif-cluster", "without a common ordinal prefix the set is named after the cluster")
    }

    /// The validator is not vacuous: a field Kubernetes does not know is refused.
    func testKubernetesValidateRefusesAnUnknownField() throws {
        try PlatformFixture.requireValidators()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-k8s-bad-\(UUID().uuidString).json")
        try #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dta": {"a": "b"}}"#
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try PlatformFixture.runValidator(["k8s", file.path])
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("'dta' was unexpected"), result.output)
    }

    /// The real validator on every generated object (`kubernetes-validate --strict -k 1.30.0`).
    func testManifestsPassKubernetesValidate() async throws {
        try PlatformFixture.requireValidators()
        let planned = try await PlatformFixture.plan(Self.stackFile, provider: "k8s")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for (address, attributes) in planned.sorted(by: { $0.key < $1.key }) {
            let manifest = try XCTUnwrap(attributes["manifest"], address)
            XCTAssertTrue(manifest.isKnown, "\(address): the manifest must be fully known at plan time")
            let file = dir.appendingPathComponent("\(address).json")
            try (manifest.canonicalJSON() + "\n").write(to: file, atomically: true, encoding: .utf8)
            files.append(file.path)
        }
        let result = try PlatformFixture.runValidator(["k8s"] + files)
        XCTAssertEqual(result.status, 0, "kubernetes-validate --strict -k 1.30.0 rejected a generated manifest:\n\(result.output)")
        XCTAssertEqual(result.output.components(separatedBy: " passed for resource ").count - 1, planned.count, result.output)
    }
}

// MARK: Shared by the platform tests

enum PlatformFixture {
    struct Expansion {
        var stack: Stack
        var resources: [DesiredResource]
        /// Diagnostics of the kubernetes, swarm and onprem expansions (other platforms' tests cover theirs).
        var ownDiagnostics: [String]
    }

    static func load(_ stackFile: String) throws -> Stack {
        let result = ShippedStackPlans.load(stackFile)
        guard let stack = result.stack else { throw FixtureError(description: "\(stackFile) does not load: \(result.diagnostics)") }
        return stack
    }

    static func expand(_ stackFile: String, provider: String) throws -> Expansion {
        let stack = try load(stackFile)
        let result = Expander.expand(stack)
        return Expansion(stack: stack, resources: result.resources.filter { $0.address.provider == provider },
                         ownDiagnostics: result.diagnostics.filter { platformCodes.contains($0.code) }.map(\.description))
    }

    static let platformCodes: Set<String> = [
        "kubernetes-cluster-shares-namespace", "invalid-kubernetes-name", "node-ids-not-pod-names", "node-resources-differ",
        "swarm-cluster-shares-swarm", "swarm-without-manager", "autoscaling-not-applied", "node-ids-not-task-slots",
        "onprem-node-without-host", "onprem-backup-without-host",
        "kubernetes-hpa-policy-threshold", "kubernetes-vpa-initial-only", "swarm-admin-cidrs-not-applied", "swarm-vertical-not-applied",
        "mutual-tls-without-tls",
    ]

    /// The planned attributes of one provider's resources on empty state, references resolved.
    static func plan(_ stackFile: String, provider: String) async throws -> [String: [String: AttributeValue]] {
        let plan = try await ShippedStackPlans.plan(stackFile)
        return Dictionary(uniqueKeysWithValues: plan.changes.filter { $0.address.provider == provider }.map { ($0.address.description, $0.after ?? [:]) })
    }

    static func counts(_ resources: [DesiredResource]) -> [String: Int] {
        resources.reduce(into: [:]) { $0[$1.address.type, default: 0] += 1 }
    }

    /// Address → the addresses its configuration references, sorted.
    static func references(_ resources: [DesiredResource]) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: resources.map { r in
            (r.address.description, Set(r.config.values.flatMap { References.find(in: $0).map(\.address.description) }).sorted())
        })
    }

    /// A label value as expansion writes it, seen through a generated manifest.
    static func labelValueOf(_ text: String) -> String {
        var stack = Stack(meta: StackMeta(name: text))
        stack.clusters = [Cluster(name: "c", cloud: .kubernetes, platform: .kubernetes, nodes: [Node(id: "c-0", role: .primary)])]
        let namespace = Expander.expand(stack).resources.first { $0.address.type == "k8s.namespace" }
        return namespace?.config["manifest"]?[path: "metadata.labels"]?.mapValue?["maif/stack"]?.stringValue ?? ""
    }

    // MARK: The offline validators of TESTING.md, through scripts/validate-manifests.sh

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    /// Fails (never skips) when a validator is missing; the message says how to install it.
    static func requireValidators() throws {
        let check = try runValidator(["--check"])
        if check.status != 0 {
            throw FixtureError(description: "the manifest validators are missing: " + check.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Runs the script; stdout and stderr apart (stderr through a file, so neither pipe can fill up and block).
    static func runValidator(_ arguments: [String]) throws -> (status: Int32, output: String, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [SnapshotTests.repoRoot.appendingPathComponent("scripts/validate-manifests.sh").path] + arguments
        process.currentDirectoryURL = SnapshotTests.repoRoot
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-validate-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, stdout + stderr, stdout)
    }
}

extension AttributeValue {
    /// `a.b.c` through nested maps.
    subscript(path path: String) -> AttributeValue? {
        var value: AttributeValue? = self
        for key in path.split(separator: ".") { value = value?.mapValue?[String(key)] }
        return value
    }
}
