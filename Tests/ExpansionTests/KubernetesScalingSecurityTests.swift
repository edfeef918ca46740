import Engine
import Expansion
import Foundation
import Planning
import ProviderKit
import StackLoader
import StackModel
import XCTest

/// Issue 15 on Kubernetes and Swarm: the guide's scaling policies become the HPA's behavior, vertical scaling a
/// VerticalPodAutoscaler (a warning on Swarm), `security.tls`/`authentication` the node's TLS settings with the
/// certificate material by reference, and `admin_cidrs` a NetworkPolicy (a warning on Swarm).
final class KubernetesScalingSecurityTests: XCTestCase {
    // MARK: HorizontalPodAutoscaler behavior

    static let policies = """
        autoscaling:
          horizontal:
            min_nodes: 3
            max_nodes: 12
            target_cpu_utilization: 70
            target_memory_utilization: 80
            scale_up_cooldown: 120s
            scale_down_cooldown: 600s
            policies:
              - {name: cpu_scaling, metric: cpu_utilization, threshold: 70, action: scale_up, adjustment: 2, duration: 5m}
              - {name: busy, metric: request_rate, threshold: 1000, action: scale_up, adjustment: 4}
              - {name: low_usage, metric: cpu_utilization, threshold: 30, action: scale_down, adjustment: -1, duration: 15m}

        """

    func testScalingPoliciesBecomeTheHPAsBehaviorAndMetrics() async throws {
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: Self.policies)
        let hpa = try XCTUnwrap(run.planned["k8s.horizontal_pod_autoscaler.k8s-maif-cluster"]?["manifest"])
        XCTAssertEqual(hpa[path: "spec.maxReplicas"], 12)
        // Up: adds 2 or 4 pods per cooldown (the larger step wins), once the need has held for the longest duration.
        XCTAssertEqual(hpa[path: "spec.behavior.scaleUp"], .map([
            "stabilizationWindowSeconds": 300, "selectPolicy": "Max",
            "policies": .list([.map(["type": "Pods", "value": 2, "periodSeconds": 120]), .map(["type": "Pods", "value": 4, "periodSeconds": 120])]),
        ]))
        // Down: one pod per 10 minutes, after the load has been low for 15 minutes.
        XCTAssertEqual(hpa[path: "spec.behavior.scaleDown"], .map([
            "stabilizationWindowSeconds": 900, "selectPolicy": "Max",
            "policies": .list([.map(["type": "Pods", "value": 1, "periodSeconds": 600])]),
        ]))
        // The targets, and the request-rate policy's threshold as a per-pod average from the custom metrics API.
        XCTAssertEqual(hpa[path: "spec.metrics"], .list([
            .map(["type": "Resource", "resource": .map(["name": "cpu", "target": .map(["type": "Utilization", "averageUtilization": 70])])]),
            .map(["type": "Resource", "resource": .map(["name": "memory", "target": .map(["type": "Utilization", "averageUtilization": 80])])]),
            .map(["type": "Pods", "pods": .map(["metric": .map(["name": "request_rate"]), "target": .map(["type": "AverageValue", "averageValue": "1000"])])]),
        ]))
        // The scale-down threshold (30) is not something the HPA has: named at its line (line 12, column 63 of the overlay).
        XCTAssertEqual(run.warnings("kubernetes-hpa-policy-threshold"), ["overlay.yaml:12:63"])
        XCTAssertTrue(run.messages("kubernetes-hpa-policy-threshold").first?.contains("autoscaling.horizontal.policies[2].threshold") ?? false)
    }

    func testWithoutPoliciesTheCooldownsAreTheWindows() async throws {
        let planned = try await PlatformFixture.plan("stacks/kubernetes.yaml", provider: "k8s")
        let hpa = try XCTUnwrap(planned["k8s.horizontal_pod_autoscaler.k8s-maif-cluster"]?["manifest"])
        XCTAssertEqual(hpa[path: "spec.behavior"], .map([
            "scaleUp": .map(["stabilizationWindowSeconds": 300]), "scaleDown": .map(["stabilizationWindowSeconds": 600]),
        ]))
    }

    func testAScaleUpThresholdOtherThanTheTargetIsAWarning() async throws {
        let overlay = Self.policies.replacingOccurrences(of: "threshold: 70, action: scale_up", with: "threshold: 85, action: scale_up")
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: overlay)
        XCTAssertEqual(run.warnings("kubernetes-hpa-policy-threshold"), ["overlay.yaml:10:65", "overlay.yaml:12:63"])
        XCTAssertTrue(run.messages("kubernetes-hpa-policy-threshold")[0].contains("scales cpu toward 70%"), "\(run.messages("kubernetes-hpa-policy-threshold"))")
    }

    // MARK: VerticalPodAutoscaler

    static let vertical = """
        autoscaling:
          vertical:
            cpu: {min: "1", max: "16", target_utilization: 70, scaling_factor: 1.5}
            memory: {min: 4Gi, max: 64Gi, target_utilization: 80}
            adjustment_interval: 300s
            safety_margin: 0.2

        """

    func testVerticalScalingIsAVerticalPodAutoscalerOfTheStatefulSet() async throws {
        // Only vertical scaling (the overlay's autoscaling replaces the stack's): the VPA resizes running pods.
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: Self.vertical.replacingOccurrences(of: "autoscaling:\n", with: "autoscaling:\n  horizontal: ~\n"))
        XCTAssertNil(run.planned["k8s.horizontal_pod_autoscaler.k8s-maif-cluster"])
        let vpa = try XCTUnwrap(run.planned["k8s.manifest.k8s-maif-cluster.vertical-pod-autoscaler"])
        let manifest = try XCTUnwrap(vpa["manifest"])
        XCTAssertEqual(manifest[path: "apiVersion"], "autoscaling.k8s.io/v1")
        XCTAssertEqual(manifest[path: "kind"], "VerticalPodAutoscaler")
        XCTAssertEqual(manifest[path: "metadata.namespace"], "default")
        XCTAssertEqual(manifest[path: "spec.targetRef"], .map(["apiVersion": "apps/v1", "kind": "StatefulSet", "name": "maif-cluster"]))
        XCTAssertEqual(manifest[path: "spec.updatePolicy.updateMode"], "Auto")
        XCTAssertEqual(manifest[path: "spec.resourcePolicy.containerPolicies"], .list([.map([
            "containerName": "maif", "controlledResources": .list(["cpu", "memory"]), "controlledValues": "RequestsAndLimits",
            "minAllowed": .map(["cpu": "1", "memory": "4Gi"]), "maxAllowed": .map(["cpu": "16", "memory": "64Gi"]),
        ])]))
        // The provider accepts the kind the VPA's CRD brings; where it is served is known once the CRD is there.
        XCTAssertEqual(vpa["path"], "(known after the CRD for VerticalPodAutoscaler in autoscaling.k8s.io/v1 is applied)")
        XCTAssertEqual(run.warnings("kubernetes-vpa-initial-only"), [])
        // What the VPA has no field for stays in cluster.yaml, for MAIF.
        let yaml = try XCTUnwrap(run.planned["k8s.config_map.k8s-maif-cluster"]?["manifest"]?[path: "data"]?.mapValue?["cluster.yaml"]?.stringValue)
        XCTAssertTrue(yaml.contains("vertical_scaling:\n  cpu:\n    min: \"1\"\n    max: \"16\"\n    target_utilization: 70\n    scaling_factor: 1.5"), yaml)
        XCTAssertTrue(yaml.contains("safety_margin: 0.2"), yaml)
    }

    func testWithAnHPAOnCpuTheVPAOnlySetsRequestsAtStartAndSaysSo() async throws {
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: Self.vertical)
        XCTAssertNotNil(run.planned["k8s.horizontal_pod_autoscaler.k8s-maif-cluster"])
        let vpa = try XCTUnwrap(run.planned["k8s.manifest.k8s-maif-cluster.vertical-pod-autoscaler"]?["manifest"])
        XCTAssertEqual(vpa[path: "spec.updatePolicy.updateMode"], "Initial")
        XCTAssertEqual(run.warnings("kubernetes-vpa-initial-only"), ["overlay.yaml:3:5"], "at autoscaling.vertical (its first key)")
    }

    func testVerticalScalingOnSwarmIsAWarningAtItsKey() async throws {
        let run = try await OverlayRun.plan("stacks/swarm.yaml", overlay: Self.vertical)
        XCTAssertEqual(run.warnings("swarm-vertical-not-applied"), ["overlay.yaml:3:5"], "at autoscaling.vertical (its first key)")
        XCTAssertTrue(run.messages("swarm-vertical-not-applied")[0].contains("limited to 16 CPUs and 64Gi of memory"), run.messages("swarm-vertical-not-applied")[0])
        XCTAssertFalse(run.planned.keys.contains { $0.contains("vertical") })
    }

    // MARK: security on Kubernetes

    func testTLSIsTheNodesSettingsFileWithTheSecretByReferenceAndHTTPSProbes() async throws {
        let planned = try await PlatformFixture.plan("stacks/kubernetes.yaml", provider: "k8s")
        let data = try XCTUnwrap(planned["k8s.config_map.k8s-maif-cluster"]?["manifest"]?[path: "data"]?.mapValue)
        let tls = try XCTUnwrap(data["tls.yaml"]?.stringValue)
        XCTAssertTrue(tls.hasSuffix("""
            tls:
              enabled: true
              cert_file: /etc/maif/tls/tls.crt
              key_file: /etc/maif/tls/tls.key
              ca_file: /etc/maif/tls/ca.crt
              client_authentication: mutual_tls

            """), tls)
        XCTAssertFalse(tls.contains("BEGIN"), "no certificate material in the stack's objects")
        let sts = try XCTUnwrap(planned["k8s.stateful_set.k8s-maif-cluster"]?["manifest"])
        let container = try XCTUnwrap(sts[path: "spec.template.spec.containers"]?.listValue?.first)
        XCTAssertEqual(container[path: "args"], .list(["maif", "--tls-config", "/config/tls.yaml"]))
        XCTAssertEqual(container[path: "readinessProbe.httpGet.scheme"], "HTTPS")
        XCTAssertEqual(container[path: "livenessProbe.httpGet.scheme"], "HTTPS")
        XCTAssertTrue(container[path: "volumeMounts"]?.listValue?.contains(.map(["name": "tls", "mountPath": "/etc/maif/tls", "readOnly": true])) ?? false)
        XCTAssertTrue(sts[path: "spec.template.spec.volumes"]?.listValue?.contains(
            .map(["name": "tls", "secret": .map(["secretName": "maif-tls", "defaultMode": 0o440])])) ?? false)
        XCTAssertEqual(sts[path: "spec.template.metadata.annotations"]?.mapValue?["maif/tls-config-sha256"], .string(Digest.sha256(tls)),
                       "a changed tls.yaml rolls the pods")
        XCTAssertNil(planned.keys.first { $0.contains("secret") && $0.contains("tls") }, "maifctl does not create the TLS Secret")
    }

    func testWithoutTLSTheProbesStayHTTPAndNothingIsMounted() async throws {
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: "security: {tls: false, authentication: ~, admin_cidrs: []}\n")
        let sts = try XCTUnwrap(run.planned["k8s.stateful_set.k8s-maif-cluster"]?["manifest"])
        let container = try XCTUnwrap(sts[path: "spec.template.spec.containers"]?.listValue?.first)
        XCTAssertNil(container[path: "args"])
        XCTAssertNil(container[path: "readinessProbe.httpGet.scheme"])
        XCTAssertNil(run.planned["k8s.config_map.k8s-maif-cluster"]?["manifest"]?[path: "data"]?.mapValue?["tls.yaml"])
        XCTAssertNil(run.planned["k8s.manifest.k8s-maif-cluster.network-policy"])
    }

    func testAdminCIDRsBecomeANetworkPolicyOnTheMAIFPort() async throws {
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: "security: {admin_cidrs: [10.0.0.0/8, 192.168.10.0/24]}\n")
        let policy = try XCTUnwrap(run.planned["k8s.manifest.k8s-maif-cluster.network-policy"]?["manifest"])
        XCTAssertEqual(policy[path: "kind"], "NetworkPolicy")
        XCTAssertEqual(policy[path: "spec.podSelector.matchLabels"], .map(["app": "maif", "maif/cluster": "k8s-maif-cluster"]))
        XCTAssertEqual(policy[path: "spec.policyTypes"], .list(["Ingress"]))
        XCTAssertEqual(policy[path: "spec.ingress"], .list([.map([
            "from": .list([.map(["namespaceSelector": .map([:])]), .map(["ipBlock": .map(["cidr": "10.0.0.0/8"])]),
                           .map(["ipBlock": .map(["cidr": "192.168.10.0/24"])])]),
            "ports": .list([.map(["port": 8080, "protocol": "TCP"])]),
        ])]))
        XCTAssertEqual(run.planned["k8s.manifest.k8s-maif-cluster.network-policy"]?["path"],
                       "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/maif-ingress")
    }

    /// The NetworkPolicy passes kubernetes-validate --strict; the VPA's kind is a CRD's, which the validator has no
    /// schema for: it must say so rather than pass it silently, and the VPA is checked against its own schema.
    func testNetworkPolicyAndVPAPassTheValidators() async throws {
        try PlatformFixture.requireValidators()
        let run = try await OverlayRun.plan("stacks/kubernetes.yaml", overlay: Self.vertical)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-k8s-vpa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for address in ["k8s.manifest.k8s-maif-cluster.network-policy", "k8s.manifest.k8s-maif-cluster.vertical-pod-autoscaler"] {
            let manifest = try XCTUnwrap(run.planned[address]?["manifest"], address)
            let file = dir.appendingPathComponent("\(address).json")
            try (manifest.canonicalJSON() + "\n").write(to: file, atomically: true, encoding: .utf8)
            files.append(file.path)
        }
        let result = try PlatformFixture.runValidator(["k8s"] + files)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("network-policy.json passed for resource networkpolicy/maif-ingress"), result.output)
        XCTAssertTrue(result.output.contains("VerticalPodAutoscaler"), result.output)
        XCTAssertTrue(result.output.contains("vertical-pod-autoscaler.json passed for resource VerticalPodAutoscaler/maif-cluster against"), result.output)
    }

    /// mutual_tls without tls cannot be delivered (no certificates reach the nodes): a warning at the key, on both platforms.
    func testMutualTLSWithoutTLSIsAWarningAtTheAuthenticationKey() async throws {
        for stack in ["stacks/kubernetes.yaml", "stacks/swarm.yaml"] {
            let text = try String(contentsOf: ShippedStackPlans.repoRoot.appendingPathComponent(stack), encoding: .utf8)
            let lines = text.components(separatedBy: "\n")
            let row = try XCTUnwrap(lines.lastIndex { $0.hasPrefix("  authentication: mutual_tls") }) + 1
            let run = try await OverlayRun.plan(stack, overlay: "security: {tls: false}\n")
            let file = (stack as NSString).lastPathComponent
            XCTAssertEqual(run.warnings("mutual-tls-without-tls"), ["\(file):\(row):19"], stack)
            XCTAssertEqual(run.warnings("mutual-tls-without-tls").count, 1)
            let base = try await OverlayRun.plan(stack, overlay: "stack: {name: \((stack as NSString).lastPathComponent.replacingOccurrences(of: ".yaml", with: ""))}\n")
            XCTAssertEqual(base.warnings("mutual-tls-without-tls"), [], "with tls on, no warning (\(stack))")
        }
    }

    // MARK: security on Swarm

    func testSwarmTLSIsAConfigAndSecretsByNameAndAdminCIDRsAWarning() async throws {
        let run = try await OverlayRun.plan("stacks/swarm.yaml", overlay: "security: {admin_cidrs: [10.0.0.0/8, 172.16.0.0/12]}\n")
        let config = try XCTUnwrap(run.planned["swarm.config.swarm-cluster.tls"])
        XCTAssertEqual(config["name"], "maif-tls-config")
        let tls = try XCTUnwrap(config["data"]?.stringValue)
        XCTAssertTrue(tls.contains("cert_file: /run/secrets/maif-tls-cert\n  key_file: /run/secrets/maif-tls-key\n  ca_file: /run/secrets/maif-tls-ca\n  client_authentication: mutual_tls"), tls)
        for service in ["manager", "worker"] {
            let container = try XCTUnwrap(run.planned["swarm.service.swarm-cluster.\(service)"]?["spec"]?[path: "TaskTemplate.ContainerSpec"])
            XCTAssertEqual(container[path: "Args"]?.listValue?.suffix(2), ["--tls-config", "/config/tls.yaml"])
            let configs = container[path: "Configs"]?.listValue ?? []
            XCTAssertEqual(configs.last?[path: "File.Name"], "/config/tls.yaml")
            XCTAssertEqual(configs.last?[path: "ConfigName"], config["versioned_name"])
            let byName = (container[path: "Secrets"]?.listValue ?? []).filter { $0[path: "SecretID"] == nil }
            XCTAssertEqual(byName.compactMap { $0[path: "SecretName"]?.stringValue }, ["maif-tls-cert", "maif-tls-key", "maif-tls-ca"],
                           "the certificate material is the operator's swarm secrets, referred to by name")
        }
        XCTAssertNil(run.planned.keys.first { $0.hasPrefix("swarm.secret.") && $0.contains("tls") }, "maifctl does not create them")
        XCTAssertEqual(run.warnings("swarm-admin-cidrs-not-applied"), ["overlay.yaml:1:25"])
        XCTAssertTrue(run.messages("swarm-admin-cidrs-not-applied")[0].contains("10.0.0.0/8, 172.16.0.0/12"))
    }
}

extension KubernetesScalingSecurityTests {
    /// auto_restart: false on Swarm: the tasks' restart policy is none (Swarm's default restarts them).
    func testAutoRestartOffIsTheSwarmTasksRestartPolicy() async throws {
        let off = try await OverlayRun.plan("stacks/swarm.yaml", overlay: "high_availability:\n  recovery: {auto_restart: false}\n")
        let on = try await OverlayRun.plan("stacks/swarm.yaml", overlay: "high_availability:\n  recovery: {auto_restart: true}\n")
        for service in ["manager", "worker"] {
            let address = "swarm.service.swarm-cluster.\(service)"
            XCTAssertEqual(off.planned[address]?["spec"]?[path: "TaskTemplate.RestartPolicy"], .map(["Condition": "none"]), address)
            XCTAssertNil(on.planned[address]?["spec"]?[path: "TaskTemplate.RestartPolicy"], address)
        }
    }
}

/// A shipped stack with an overlay file, opened and planned on empty state as `maifctl plan BASE overlay.yaml` does.
struct OverlayRun {
    var planned: [String: [String: AttributeValue]]
    var diagnostics: [Diagnostic]

    static func plan(_ base: String, overlay: String, file: StaticString = #filePath, line: UInt = #line) async throws -> OverlayRun {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-overlay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let overlayFile = dir.appendingPathComponent("overlay.yaml")
        try overlay.write(to: overlayFile, atomically: true, encoding: .utf8)
        let opened = await ShippedStackPlans.engine.open(StackSource(files: [ShippedStackPlans.repoRoot.appendingPathComponent(base).path, overlayFile.path]),
                                                         stateDirectory: dir.appendingPathComponent("state").path)
        let session = try XCTUnwrap(opened.value, "\(base) + overlay does not open: \(opened.diagnostics)", file: file, line: line)
        var options = PlanOptions()
        options.refresh = false
        let result = await session.plan(options)
        let diagnostics = opened.diagnostics + result.diagnostics
        XCTAssertEqual(diagnostics.filter { $0.severity == .error }.map(\.description), [], file: file, line: line)
        let plan = try XCTUnwrap(result.plan, file: file, line: line)
        return OverlayRun(planned: Dictionary(uniqueKeysWithValues: plan.changes.map { ($0.address.description, $0.after ?? [:]) }),
                          diagnostics: diagnostics)
    }

    /// `file:line:column` of each warning with this code, the file by its last path component, sorted.
    func warnings(_ code: String) -> [String] {
        Array(Set(diagnostics.filter { $0.code == code && $0.severity == .warning }.map { d in
            d.location.map { "\(($0.file as NSString).lastPathComponent):\($0.line):\($0.column)" } ?? "(nowhere)"
        })).sorted()
    }

    func messages(_ code: String) -> [String] {
        diagnostics.filter { $0.code == code }.map(\.message).sorted()
    }
}

/// The CRD-kind check of scripts/validate-manifests.sh is not vacuous.
final class CRDSchemaValidationTests: XCTestCase {
    func testAVPAWithAnUnknownFieldOrModeAndAKindWithoutSchemaAreRefused() throws {
        try PlatformFixture.requireValidators()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-crd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("vpa.json"), widget = dir.appendingPathComponent("widget.json")
        try #"{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler", "metadata": {"name": "x"}, "spec": {"targetRef": {"kind": "StatefulSet", "name": "x"}, "updatePolicy": {"updateMode": "Sometimes"}, "resourcePolicy": {"containerPolicies": [{"containerName": "maif", "minAlowed": {"cpu": "1"}}]}}}"#
            .write(to: bad, atomically: true, encoding: .utf8)
        try #"{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}"#.write(to: widget, atomically: true, encoding: .utf8)
        let vpa = try PlatformFixture.runValidator(["k8s", bad.path])
        XCTAssertNotEqual(vpa.status, 0, vpa.output)
        XCTAssertTrue(vpa.output.contains("'minAlowed' was unexpected"), vpa.output)
        XCTAssertTrue(vpa.output.contains("'Sometimes' is not one of"), vpa.output)
        let unknown = try PlatformFixture.runValidator(["k8s", widget.path])
        XCTAssertNotEqual(unknown.status, 0, unknown.output)
        XCTAssertTrue(unknown.output.contains("no schema for kind Widget"), unknown.output)
    }
}
