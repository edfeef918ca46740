/// Readiness read from status as `kubectl rollout status` reads it, and the object model: ids, names and namespaces,
/// owner labels, what a manifest may not hold.

import Foundation
import ProviderKit
import XCTest
@testable import KubernetesProvider

final class ReadinessTests: XCTestCase {
    func sts(generation: Int64 = 2, status: [String: AttributeValue], replicas: Int64 = 3, strategy: AttributeValue? = nil) -> AttributeValue {
        var spec: [String: AttributeValue] = ["replicas": .int(replicas)]
        if let strategy { spec["updateStrategy"] = strategy }
        return .map(["metadata": .map(["generation": .int(generation)]), "spec": .map(spec), "status": .map(status)])
    }

    func testStatefulSetRollout() {
        XCTAssertEqual(Readiness.of(sts(status: [:]), kind: "StatefulSet"), .waiting("the controller to observe generation 2 (observed 0)"))
        XCTAssertEqual(Readiness.of(sts(status: ["observedGeneration": 2, "readyReplicas": 1]), kind: "StatefulSet"), .waiting("1 of 3 replicas ready"))
        XCTAssertEqual(Readiness.of(sts(status: ["observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1, "currentRevision": "a", "updateRevision": "b"]),
                                    kind: "StatefulSet"),
                       .waiting("the rolling update to finish (updateRevision b ≠ currentRevision a, 1 of 3 updated)"))
        XCTAssertEqual(Readiness.of(sts(status: ["observedGeneration": 2, "readyReplicas": 3, "currentRevision": "b", "updateRevision": "b"]), kind: "StatefulSet"), .ready)
        let partitioned: AttributeValue = .map(["type": "RollingUpdate", "rollingUpdate": .map(["partition": 2])])
        XCTAssertEqual(Readiness.of(sts(status: ["observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1, "currentRevision": "a", "updateRevision": "b"],
                                        strategy: partitioned), kind: "StatefulSet"), .ready, "a partition leaves the lower ordinals on the old revision")
        XCTAssertEqual(Readiness.of(sts(status: ["observedGeneration": 2], strategy: .map(["type": "OnDelete"])), kind: "StatefulSet"), .ready)
    }

    func testDeploymentCRDAndClaim() {
        let progressing: AttributeValue = .map(["observedGeneration": 1, "conditions": .list([.map(["type": "Progressing", "status": "False",
                                                                                                     "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet web-1 has timed out progressing."])])])
        XCTAssertEqual(Readiness.of(.map(["metadata": .map(["generation": 1]), "spec": .map(["replicas": 2]), "status": progressing]), kind: "Deployment"),
                       .failed("the rollout exceeded its progress deadline: ReplicaSet web-1 has timed out progressing."))
        XCTAssertEqual(Readiness.of(.map(["metadata": .map(["generation": 1]), "spec": .map(["replicas": 2]),
                                          "status": .map(["observedGeneration": 1, "updatedReplicas": 2, "replicas": 3, "availableReplicas": 2])]), kind: "Deployment"),
                       .waiting("1 old replicas to terminate"))
        XCTAssertEqual(Readiness.of(.map(["status": .map(["conditions": .list([.map(["type": "Established", "status": "True"])])])]), kind: "CustomResourceDefinition"), .ready)
        XCTAssertEqual(Readiness.of(.map(["status": .map([:])]), kind: "CustomResourceDefinition"), .waiting("the Established condition"))
        XCTAssertEqual(Readiness.of(.map(["status": .map(["phase": "Pending"])]), kind: "PersistentVolumeClaim"), .waiting("the claim to be Bound (phase Pending)"))
        XCTAssertFalse(Readiness.waitsByDefault("PersistentVolumeClaim"), "a claim is waited for only when the stack asks")
    }

    func testDurations() {
        XCTAssertEqual(Durations.seconds("90s"), 90)
        XCTAssertEqual(Durations.seconds("1m30s"), 90)
        XCTAssertEqual(Durations.seconds(.int(5)), 5)
        XCTAssertEqual(Durations.seconds("2h"), 7200)
        XCTAssertNil(Durations.seconds("soon"))
    }
}

final class ObjectModelTests: XCTestCase {
    func testIds() {
        XCTAssertEqual(ObjectModel.id(apiVersion: "apps/v1", kind: "StatefulSet", namespace: "ns", name: "maif"), "apps/v1/StatefulSet/ns/maif")
        XCTAssertEqual(ObjectModel.parse(id: "apps/v1/StatefulSet/ns/maif", type: "k8s.manifest")?.kind, "StatefulSet")
        XCTAssertEqual(ObjectModel.parse(id: "rbac.authorization.k8s.io/v1/ClusterRole/view", type: "k8s.manifest")?.name, "view")
        XCTAssertNil(ObjectModel.parse(id: "rbac.authorization.k8s.io/v1/ClusterRole/view", type: "k8s.manifest")?.namespace)
        XCTAssertEqual(ObjectModel.parse(id: "v1/ConfigMap/default/x", type: "k8s.manifest")?.apiVersion, "v1")
        let short = ObjectModel.parse(id: "default/maif-config", type: "k8s.config_map")
        XCTAssertEqual(short?.kind, "ConfigMap")
        XCTAssertEqual(short?.namespace, "default")
        XCTAssertNil(ObjectModel.parse(id: "default/x", type: "k8s.manifest"), "k8s.manifest needs the kind in its id")
    }

    func testNamesAndNamespacesAgreeWithTheManifest() throws {
        let cm: [String: AttributeValue] = ["manifest": .map(["apiVersion": "v1", "kind": "ConfigMap", "metadata": .map(["name": "a"])])]
        let n = try ObjectModel.normalized(cm, namespaced: true, defaultNamespace: "maif")
        XCTAssertEqual(n["name"], "a")
        XCTAssertEqual(n["namespace"], "maif")
        XCTAssertEqual(n["manifest"]?.mapValue?["metadata"]?.mapValue?["namespace"], "maif")
        var crb = cm
        crb["manifest"] = .map(["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": .map(["name": "b", "namespace": "x"])])
        XCTAssertThrowsError(try ObjectModel.normalized(crb, namespaced: false, defaultNamespace: "maif")) {
            XCTAssertEqual("\($0)", "ClusterRoleBinding is cluster-scoped; it has no namespace (remove namespace 'x')")
        }
    }

    func testWhatAManifestMayNotHold() {
        func problem(_ type: String, _ manifest: AttributeValue) -> String? {
            do { try ObjectModel.check(["manifest": manifest], type: type); return nil } catch { return "\(error)" }
        }
        XCTAssertEqual(problem("k8s.config_map", .map(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": .map(["name": "x"])])),
                       "k8s.config_map manages a ConfigMap (v1), but the manifest is a Deployment (apps/v1); use k8s.manifest for other kinds")
        XCTAssertEqual(problem("k8s.manifest", .map(["apiVersion": "v1", "kind": "Secret", "metadata": .map(["name": "x"]), "stringData": .map(["a": "b"])])),
                       "a Secret's values in its manifest would be stored in the state in clear text; use k8s.secret with data (by reference) or data_from")
        XCTAssertEqual(problem("k8s.manifest", .map(["apiVersion": "v1", "kind": "ConfigMap"])), "the manifest has no metadata.name")
        XCTAssertEqual(problem("k8s.manifest", .map(["kind": "ConfigMap", "metadata": .map(["name": "x"])])), "the manifest has no apiVersion")
        XCTAssertNil(problem("k8s.manifest", .map(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": .map(["name": "x"])])))
    }

    func testOwnerLabelsAreValidLabelValuesAndTheLongAddressIsAnAnnotation() throws {
        let address = ResourceAddress(provider: "k8s", kind: "manifest", name: "a-very-long-name-for-a-resource-that-goes-on-and-on-and-on")
        let marked = ObjectModel.markOwner(["manifest": .map(["apiVersion": "v1", "kind": "ConfigMap", "metadata": .map(["name": "x"])])],
                                           stack: "prod", address: address)
        let metadata = try XCTUnwrap(marked["manifest"]?.mapValue?["metadata"]?.mapValue)
        let label = try XCTUnwrap(metadata["labels"]?.mapValue?["maif/address"]?.stringValue)
        XCTAssertLessThanOrEqual(label.count, 63)
        XCTAssertTrue(LabelValues.isValid(label), label)
        XCTAssertEqual(metadata["annotations"]?.mapValue?["maif/address"], .string(address.description))
        XCTAssertEqual(metadata["labels"]?.mapValue?["maif/stack"], "prod")
        // Labels the expansion already set are kept as they are.
        let kept = ObjectModel.markOwner(marked, stack: "other", address: address)
        XCTAssertEqual(kept, marked)
    }
}
