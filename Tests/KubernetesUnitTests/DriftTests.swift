/// Drift is read only on what maifctl applied: defaults and other managers' fields never show, a changed value of a
/// field maifctl set does; conflicts with imperative edits of those fields are drift to put back, others are errors.

import Foundation
import ProviderKit
import XCTest
@testable import KubernetesProvider

final class DriftTests: XCTestCase {
    func json(_ text: String) throws -> AttributeValue { try JSONDecoder().decode(AttributeValue.self, from: Data(text.utf8)) }

    /// What maifctl applied.
    lazy var applied: AttributeValue = try! json("""
        {"apiVersion": "apps/v1", "kind": "StatefulSet",
         "metadata": {"name": "maif", "namespace": "ns", "labels": {"app": "maif", "maif/stack": "k"}},
         "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "maif"}},
                  "template": {"metadata": {"labels": {"app": "maif"}},
                               "spec": {"containers": [{"name": "maif", "image": "maif:1",
                                                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                                                        "resources": {"requests": {"cpu": "2", "memory": "8Gi"}}}]}},
                  "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Ti"}}}}]}}
        """)

    /// The same object as the server keeps it: defaults filled in, another manager's label and sidecar, maifctl's
    /// managedFields entry.
    func live(replicas: Int = 3, image: String = "maif:1", memory: String = "8Gi") throws -> AttributeValue {
        try json("""
            {"apiVersion": "apps/v1", "kind": "StatefulSet",
             "metadata": {"name": "maif", "namespace": "ns", "uid": "u-1", "resourceVersion": "42", "generation": 2,
                          "labels": {"app": "maif", "maif/stack": "k", "team": "storage"},
                          "managedFields": [
                            {"manager": "maifctl", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1":
                              {"f:metadata": {"f:labels": {"f:app": {}, "f:maif/stack": {}}},
                               "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                                 "f:spec": {"f:containers": {"k:{\\"name\\":\\"maif\\"}": {".": {}, "f:image": {}, "f:name": {},
                                   "f:ports": {"k:{\\"containerPort\\":8080,\\"protocol\\":\\"TCP\\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
                                   "f:resources": {"f:requests": {"f:cpu": {}, "f:memory": {}}}}}}},
                                 "f:volumeClaimTemplates": {}}}}]},
             "spec": {"replicas": \(replicas), "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                      "selector": {"matchLabels": {"app": "maif"}},
                      "template": {"metadata": {"labels": {"app": "maif"}},
                                   "spec": {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                                            "containers": [{"name": "sidecar", "image": "envoy:1"},
                                                           {"name": "maif", "image": "\(image)", "imagePullPolicy": "IfNotPresent",
                                                            "terminationMessagePath": "/dev/termination-log",
                                                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                                                            "resources": {"requests": {"cpu": "2000m", "memory": "\(memory)"}}}]}},
                      "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                                                "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                                                         "resources": {"requests": {"storage": "1Ti"}}},
                                                "status": {"phase": "Pending"}}]},
             "status": {"replicas": 3, "readyReplicas": 3}}
            """)
    }

    func project(_ live: AttributeValue) -> AttributeValue {
        ObjectModel.recorded(["manifest": applied], live: live, path: nil, dataFrom: nil, forceConflicts: false).attributes["manifest"]!
    }

    func testDefaultsOtherManagersFieldsAndEquivalentQuantitiesAreNotDrift() throws {
        XCTAssertEqual(project(try live()), applied,
                       "defaults, a label and a sidecar of other managers, status, and cpu 2000m for 2 are not changes")
    }

    func testChangedValuesOfFieldsMaifctlSetAreDrift() throws {
        let scaled = project(try live(replicas: 5))
        XCTAssertEqual(scaled.mapValue?["spec"]?.mapValue?["replicas"], 5, "kubectl scale on a field maifctl set")
        let edited = project(try live(image: "maif:2"))
        let container = edited.mapValue?["spec"]?.mapValue?["template"]?.mapValue?["spec"]?.mapValue?["containers"]?.listValue?.first
        XCTAssertEqual(container?.mapValue?["image"], "maif:2", "the container is found by its name, wherever it is in the list")
        XCTAssertNotEqual(project(try live(memory: "16Gi")), applied)
    }

    func testAFieldRemovedOutOfBandIsDrift() throws {
        var l = try live().mapValue!
        var metadata = l["metadata"]!.mapValue!
        var labels = metadata["labels"]!.mapValue!
        labels["maif/stack"] = nil
        metadata["labels"] = .map(labels)
        l["metadata"] = .map(metadata)
        let projected = project(.map(l))
        XCTAssertNotEqual(projected, applied)
        XCTAssertNil(projected.mapValue?["metadata"]?.mapValue?["labels"]?.mapValue?["maif/stack"])
    }

    func testQuantities() {
        XCTAssertEqual(Quantity("2"), Quantity("2000m"))
        XCTAssertEqual(Quantity("1Gi"), Quantity("1024Mi"))
        XCTAssertEqual(Quantity("1.5"), Quantity("1500m"))
        XCTAssertNotEqual(Quantity("1G"), Quantity("1Gi"))
        XCTAssertNil(Quantity("http"))
        XCTAssertNil(Quantity("1x"))
    }

    func testConflictPathsAreFoundInTheManifestMaifctlApplied() throws {
        XCTAssertTrue(Projection.contains(applied, path: ".spec.replicas"))
        XCTAssertTrue(Projection.contains(applied, path: #".spec.template.spec.containers[name="maif"].image"#))
        XCTAssertTrue(Projection.contains(applied, path: #".spec.template.spec.containers[name="maif"].ports[containerPort=8080,protocol="TCP"].name"#))
        XCTAssertTrue(Projection.contains(applied, path: #".spec.volumeClaimTemplates[0].spec.accessModes[="ReadWriteOnce"]"#))
        XCTAssertFalse(Projection.contains(applied, path: ".spec.minReadySeconds"))
        XCTAssertFalse(Projection.contains(applied, path: #".spec.template.spec.containers[name="sidecar"].image"#))
        XCTAssertFalse(Projection.contains(applied, path: ".metadata.labels.team"))
        XCTAssertTrue(Projection.contains(.map(["data": .map(["cluster.yaml": "x"])]), path: ".data.cluster.yaml"), "field names hold dots")
        XCTAssertTrue(Projection.contains(applied, path: ".metadata.labels.maif/stack"))
    }

    func testImperativeEditsOfFieldsMaifctlAppliedAreTakenBackOtherConflictsAreErrors() {
        let scale = Conflicts.Field(field: ".spec.replicas", manager: #""kubectl" with subresource "scale" using apps/v1"#, operation: "Update")
        let applier = Conflicts.Field(field: ".spec.replicas", manager: #""team-a""#, operation: "Apply")
        let newField = Conflicts.Field(field: ".spec.minReadySeconds", manager: #""kubectl-edit" using apps/v1"#, operation: "Update")
        XCTAssertTrue(Conflicts.mayTakeBack([scale], prior: applied))
        XCTAssertFalse(Conflicts.mayTakeBack([applier], prior: applied), "another applier's field is a conflict")
        XCTAssertFalse(Conflicts.mayTakeBack([scale, newField], prior: applied), "a field maifctl never set is a conflict")
        XCTAssertFalse(Conflicts.mayTakeBack([scale], prior: nil), "a create never takes fields silently")

        let error = KubeAPIError(call: "server-side apply of StatefulSet ns/maif", status: 409, reason: "Conflict",
                                 message: "Apply failed with 2 conflicts: …",
                                 causes: [.init(reason: "FieldManagerConflict", message: #"conflict with "team-a""#, field: ".spec.replicas"),
                                          .init(reason: "FieldManagerConflict", message: #"conflict with "team-a""#, field: ".spec.minReadySeconds"),
                                          .init(reason: "FieldManagerConflict", message: #"conflict with "kubectl-edit" using apps/v1 at 2024-05-01T10:00:00Z"#, field: ".spec.serviceName")],
                                 identity: nil)
        let fields = Conflicts.fields(error, entries: [])
        XCTAssertEqual(fields.map(\.operation), ["Apply", "Apply", "Update"])
        XCTAssertEqual(fields.last?.manager, #""kubectl-edit" using apps/v1"#)
        XCTAssertEqual(Conflicts.error(error, fields, call: "server-side apply of StatefulSet ns/maif").description,
                       #"server-side apply of StatefulSet ns/maif failed: Conflict (HTTP 409): .spec.replicas, .spec.minReadySeconds are owned by field manager "team-a"; .spec.serviceName is owned by field manager "kubectl-edit" using apps/v1; set force_conflicts: true on the resource, or clouds.kubernetes.force_conflicts: true, to take them over"#)
    }

    func testSecretValuesAreReadOnlyForTheKeysMaifctlSet() throws {
        let object = try json("""
            {"kind": "Secret", "data": {"user": "\(Data("alice".utf8).base64EncodedString())", "AWS_KEY": "QUtJRA==", "other": "eA=="},
             "metadata": {"managedFields": [{"manager": "maifctl", "operation": "Apply", "fieldsV1": {"f:data": {"f:user": {}, "f:AWS_KEY": {}}}}]}}
            """)
        let prior = ResourceState(id: "x", attributes: ["data": .map(["$sensitive": "hmac"]), "data_from": .map(["AWS_KEY": "env:AWS_KEY"])])
        var state = prior
        KubernetesProvider.readSecret(object, prior: prior, into: &state)
        XCTAssertEqual(state.attributes["data"], .map(["user": "alice"]), "decoded, only maifctl's keys, not data_from's")
        XCTAssertEqual(state.attributes["data_from_values"], .map(["AWS_KEY": "QUtJRA=="]))
    }
}
