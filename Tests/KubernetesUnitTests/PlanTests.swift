/// What the plan shows without a cluster (the offline provider render and the snapshot tests use): the API path,
/// force_conflicts when the resource or the provider asks for it, kinds a CRD of the same stack brings.

import Foundation
import ProviderKit
import XCTest
@testable import KubernetesProvider

final class PlanTests: XCTestCase {
    func provider(_ settings: ProviderSettings = ProviderSettings()) -> KubernetesProvider {
        KubernetesProvider(offline: ProviderConfiguration(stack: "s", settings: settings, workingDirectory: "/"))
    }

    func request(_ kind: String, _ name: String, _ config: [String: AttributeValue], prior: ResourceState? = nil) -> PlanRequest {
        PlanRequest(context: ResourceContext(stack: "s", address: ResourceAddress(provider: "k8s", kind: kind, name: name)), prior: prior, desired: config)
    }

    let configMap: [String: AttributeValue] = ["manifest": .map(["apiVersion": "v1", "kind": "ConfigMap", "metadata": .map(["name": "c"])])]

    func testPathNamespaceAndForceConflicts() async throws {
        let plain = try await provider(["namespace": "maif"]).plan(request("config_map", "c", configMap))
        XCTAssertEqual(plain.planned["path"], "/api/v1/namespaces/maif/configmaps/c")
        XCTAssertEqual(plain.planned["namespace"], "maif")
        XCTAssertEqual(plain.planned["uid"], .unknown)
        XCTAssertNil(plain.planned["force_conflicts"])

        var forced = configMap
        forced["force_conflicts"] = true
        let own = try await provider().plan(request("config_map", "c", forced))
        XCTAssertEqual(own.planned["force_conflicts"], true)
        let wide = try await provider(["force_conflicts": true]).plan(request("config_map", "c", configMap))
        XCTAssertEqual(wide.planned["force_conflicts"], true, "provider-wide, shown on every object")
    }

    func testAKindAPlannedCRDBringsIsKnownAfterTheCRDIsApplied() async throws {
        let p = provider(["namespace": "maif"])
        let widget: [String: AttributeValue] = ["manifest": .map(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": .map(["name": "w"])])]
        // A kind nobody serves (yet) plans as known after its CRD; once the stack's CRD is planned, its scope is known.
        let crd: [String: AttributeValue] = ["manifest": .map(["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                                               "metadata": .map(["name": "widgets.example.com"]),
                                                               "spec": .map(["group": "example.com", "scope": "Namespaced",
                                                                             "names": .map(["kind": "Widget", "plural": "widgets"]),
                                                                             "versions": .list([.map(["name": "v1", "served": true, "storage": true])])])])]
        let before = try await p.plan(request("manifest", "w", widget))
        XCTAssertEqual(before.planned["path"], "(known after the CRD for Widget in example.com/v1 is applied)")
        XCTAssertNil(before.planned["namespace"], "the scope is not known yet")
        let crdPlan = try await p.plan(request("custom_resource_definition", "widgets", crd))
        XCTAssertEqual(crdPlan.planned["path"], "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
        let after = try await p.plan(request("manifest", "w", widget))
        XCTAssertEqual(after.planned["path"], "/apis/example.com/v1/namespaces/maif/widgets/w")
    }

    func testIdentityChangesReplaceAndPlanErrorsNameTheProblem() async throws {
        let prior = ResourceState(id: "v1/ConfigMap/maif/c", attributes: ["name": "c", "namespace": "maif", "uid": "u1",
                                                                           "path": "/api/v1/namespaces/maif/configmaps/c",
                                                                           "manifest": .map(["apiVersion": "v1", "kind": "ConfigMap",
                                                                                             "metadata": .map(["name": "c", "namespace": "maif"])])])
        var moved = configMap
        moved["namespace"] = "other"
        let replaced = try await provider(["namespace": "maif"]).plan(request("config_map", "c", moved, prior: prior))
        XCTAssertEqual(replaced.requiresReplace, ["namespace"])
        XCTAssertEqual(replaced.planned["uid"], .unknown)

        var wrong = configMap
        wrong["manifest"] = .map(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": .map(["name": "c"])])
        do {
            _ = try await provider().plan(request("config_map", "c", wrong))
            XCTFail("a Deployment in k8s.config_map")
        } catch {
            XCTAssertEqual("\(error)", "k8s.config_map.c: manifest check failed: k8s.config_map manages a ConfigMap (v1), but the manifest is a Deployment (apps/v1); use k8s.manifest for other kinds")
        }
    }
}
