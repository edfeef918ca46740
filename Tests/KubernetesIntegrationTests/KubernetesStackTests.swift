/// stacks/kubernetes.yaml applied by the built maifctl (`--target k8s`: the stack's S3 backup bucket is left out) to the
/// kube-apiserver stand-in, and checked with the real kubectl: every object with its labels and maifctl as its field
/// manager, the rollout wait (with the test playing the StatefulSet controller, and without it), an empty second plan,
/// drift on owned fields repaired, other managers' fields left alone, conflicts and force_conflicts, destroy.

import Foundation
import XCTest
import Yams

final class KubernetesStackTests: XCTestCase {
    var lab: KubeLab!
    var work: Workdir!
    var namespace = ""
    var controller: StatefulSetController?

    /// Called first by every test (not from setUp, where XCTest would report a missing server as a skip).
    func begin(_ scenario: String) throws {
        lab = try KubeLab.connect()
        work = try Workdir(lab, name: scenario)
        namespace = "t-\(scenario)-" + UUID().uuidString.prefix(6).lowercased()
        try work.write("standin.yaml", "clouds:\n  kubernetes:\n    kubeconfig: \(lab.kubeconfig)\n")
    }

    override func tearDownWithError() throws {
        controller?.stop()
        if let work, lab != nil {
            _ = try? work.maifctl(["destroy", "--auto-approve"], files: files(), args: args())
            work.remove()
        }
    }

    var stackFile: String { KubeLab.root.appendingPathComponent("stacks/kubernetes.yaml").path }

    func files(_ overlays: [String] = []) -> [String] { [stackFile, work.path + "/standin.yaml"] + overlays.map { work.path + "/" + $0 } }

    func args(context: String = "admin") -> [String] {
        ["--var", "kube_context=\(context)", "--var", "namespace=\(namespace)", "--target", "k8s"]
    }

    @discardableResult
    func maifctl(_ command: [String], overlays: [String] = [], context: String = "admin", file: StaticString = #filePath, line: UInt = #line,
                 expect status: Int32? = 0) throws -> Output {
        let out = try work.maifctl(command, files: files(overlays), args: args(context: context))
        if let status { XCTAssertEqual(out.status, status, "maifctl \(command.joined(separator: " ")):\n\(out)", file: file, line: line) }
        return out
    }

    func startController() {
        let c = StatefulSetController(lab, namespace: namespace)
        c.start()
        controller = c
    }

    static let objects: [(kind: String, name: String, address: String)] = [
        ("configmap", "maif-config", "k8s.config_map.k8s-maif-cluster"),
        ("secret", "maif-backup-credentials", "k8s.secret.k8s-maif-cluster.backup-credentials"),
        ("service", "maif-headless", "k8s.service.k8s-maif-cluster.headless"),
        ("service", "maif", "k8s.service.k8s-maif-cluster.client"),
        ("statefulset", "maif-cluster", "k8s.stateful_set.k8s-maif-cluster"),
        ("horizontalpodautoscaler", "maif-cluster", "k8s.horizontal_pod_autoscaler.k8s-maif-cluster"),
        ("poddisruptionbudget", "maif-cluster", "k8s.pod_disruption_budget.k8s-maif-cluster"),
        // security.admin_cidrs
        ("networkpolicy", "maif-ingress", "k8s.manifest.k8s-maif-cluster.network-policy"),
        // The backup schedule as CronJobs, the alert rules and the Alertmanager route (issue 12).
        ("cronjob", "maif-backup-full", "k8s.cron_job.k8s-maif-cluster.full"),
        ("cronjob", "maif-backup-incremental", "k8s.cron_job.k8s-maif-cluster.incremental"),
        ("cronjob", "maif-backup-transaction-log", "k8s.cron_job.k8s-maif-cluster.transaction-log"),
        ("configmap", "maif-alerting", "k8s.config_map.k8s-maif-cluster.alerting"),
    ]

    func object(_ kind: String, _ name: String) throws -> [String: Any] { try lab.get(["-n", namespace, kind, name]) }

    // MARK: scenarios

    /// autoscaling.vertical: a VerticalPodAutoscaler of the StatefulSet, applied once its kind is served. The CRD is
    /// declared here, standing in for the VPA project's install (whose controllers the stand-in does not run).
    func testVerticalScalingIsAVerticalPodAutoscalerAppliedOnceItsCRDIsServed() throws {
        try begin("vpa")
        try work.write("vpa.yaml", """
            clouds:
              kubernetes: {wait: false}
            autoscaling:
              horizontal: ~
              vertical:
                cpu: {min: "1", max: "16"}
                memory: {min: 4Gi, max: 64Gi}
            resources:
              - type: k8s.custom_resource_definition
                name: vpa
                properties:
                  manifest:
                    apiVersion: apiextensions.k8s.io/v1
                    kind: CustomResourceDefinition
                    metadata: {name: verticalpodautoscalers.autoscaling.k8s.io}
                    spec:
                      group: autoscaling.k8s.io
                      scope: Namespaced
                      names: {kind: VerticalPodAutoscaler, plural: verticalpodautoscalers, singular: verticalpodautoscaler, listKind: VerticalPodAutoscalerList}
                      versions:
                        - name: v1
                          served: true
                          storage: true
                          schema:
                            openAPIV3Schema:
                              type: object
                              properties:
                                spec:
                                  type: object
                                  required: [targetRef]
                                  properties:
                                    targetRef:
                                      type: object
                                      required: [kind, name]
                                      properties: {apiVersion: {type: string}, kind: {type: string}, name: {type: string}}
                                    updatePolicy:
                                      type: object
                                      properties: {updateMode: {type: string, enum: ["Off", Initial, Recreate, Auto]}}
                                    resourcePolicy: {type: object, x-kubernetes-preserve-unknown-fields: true}

            """)
        let planned = try maifctl(["plan"], overlays: ["vpa.yaml"])
        XCTAssertTrue(planned.stdout.contains("(known after the CRD for VerticalPodAutoscaler in autoscaling.k8s.io/v1 is applied)"), planned.stdout)
        try maifctl(["apply", "--auto-approve"], overlays: ["vpa.yaml"])
        let vpa = try lab.get(["-n", namespace, "verticalpodautoscaler.autoscaling.k8s.io", "maif-cluster"])
        XCTAssertEqual(value(vpa, "spec.targetRef.kind") as? String, "StatefulSet")
        XCTAssertEqual(value(vpa, "spec.targetRef.name") as? String, "maif-cluster")
        XCTAssertEqual(value(vpa, "spec.updatePolicy.updateMode") as? String, "Auto")
        let policy = (value(vpa, "spec.resourcePolicy.containerPolicies") as? [[String: Any]])?.first
        XCTAssertEqual(policy?["containerName"] as? String, "maif")
        XCTAssertEqual((policy?["maxAllowed"] as? [String: Any])?["cpu"] as? String, "16")
        XCTAssertEqual((policy?["minAllowed"] as? [String: Any])?["memory"] as? String, "4Gi")
        XCTAssertEqual(value(vpa, "metadata.labels.maif/address") as? String, "k8s.manifest.k8s-maif-cluster.vertical-pod-autoscaler")
        XCTAssertTrue(try maifctl(["plan", "--detailed-exitcode"], overlays: ["vpa.yaml"]).stdout.contains("No changes."))
        try maifctl(["destroy", "--auto-approve"], overlays: ["vpa.yaml"])
        XCTAssertTrue(try lab.isGone("crd", "verticalpodautoscalers.autoscaling.k8s.io"))
    }

    func testApplyOfTheGuidesStackKubectlSeesEveryObjectASecondPlanIsEmptyDriftIsRepairedAndDestroyLeavesNothing() throws {
        try begin("stack")
        startController()
        let applied = try maifctl(["apply", "--auto-approve"])
        print("k8s apply of stacks/kubernetes.yaml (13 objects, rollout waited for): \(String(format: "%.1f", applied.seconds)) s")
        XCTAssertTrue(applied.stdout.contains("Provider calls (plan and apply): k8s: "), applied.stdout)

        // kubectl, not maifctl, sees every object, its owner labels, and maifctl as its field manager.
        let ns = try lab.get(["namespace", namespace])
        XCTAssertEqual(value(ns, "metadata.labels.maif/stack") as? String, "kubernetes")
        XCTAssertNotNil(managers(ns)["maifctl/Apply"], "\(managers(ns).keys)")
        for (kind, name, address) in Self.objects {
            let o = try object(kind, name)
            XCTAssertEqual(value(o, "metadata.labels.maif/stack") as? String, "kubernetes", "\(kind)/\(name)")
            XCTAssertEqual(value(o, "metadata.labels.maif/address") as? String, address, "\(kind)/\(name)")
            XCTAssertEqual(value(o, "metadata.labels.app") as? String, "maif", "\(kind)/\(name)")
            XCTAssertNotNil(managers(o)["maifctl/Apply"], "\(kind)/\(name) is applied by field manager maifctl: \(managers(o).keys)")
        }
        let sts = try object("statefulset", "maif-cluster")
        XCTAssertEqual(value(sts, "spec.replicas") as? Int, 3)
        XCTAssertEqual(value(sts, "spec.serviceName") as? String, "maif-headless")
        XCTAssertEqual(value(sts, "status.readyReplicas") as? Int, 3, "apply returned after the rollout the controller reported")
        XCTAssertEqual(try lab.kubectl(["rollout", "status", "sts/maif-cluster", "-n", namespace, "--timeout=5s"]).contains("roll out complete"), true)
        XCTAssertEqual(value(try object("poddisruptionbudget", "maif-cluster"), "spec.minAvailable") as? Int, 2)
        // The Secret's values reached the cluster, and only the cluster.
        let secret = try object("secret", "maif-backup-credentials")
        let key = try XCTUnwrap(value(secret, "data.AWS_SECRET_ACCESS_KEY") as? String)
        XCTAssertEqual(Data(base64Encoded: key).map { String(decoding: $0, as: UTF8.self) }, work.environment["AWS_SECRET_ACCESS_KEY"])
        XCTAssertFalse(work.stateText().contains(work.environment["AWS_SECRET_ACCESS_KEY"]!), "a secret value is in the state")
        XCTAssertFalse(work.stateText().contains(key), "a secret value (base64) is in the state")

        // What render writes is what apply sent: the manifests recorded in state.
        let rendered = try work.run(["render"] + files() + ["--var", "namespace=\(namespace)", "--platform", "kubernetes"])
        XCTAssertEqual(rendered.status, 0, "\(rendered)")
        let documents = try Yams.load_all(yaml: rendered.stdout).compactMap { plain($0) as? [String: Any] }
        XCTAssertEqual(documents.count, Self.objects.count + 1)
        for (_, _, address) in Self.objects + [("namespace", namespace, "k8s.namespace.k8s-maif-cluster")] {
            let manifest = try XCTUnwrap((try work.recorded("kubernetes", address)["attributes"] as? [String: Any])?["manifest"] as? [String: Any])
            let doc = try XCTUnwrap(documents.first { value($0, "metadata.labels.maif/address") as? String == address }, address)
            XCTAssertTrue(NSDictionary(dictionary: doc).isEqual(to: manifest), "render writes what apply sent for \(address):\n\(doc)\n\(manifest)")
        }

        let second = try maifctl(["plan", "--detailed-exitcode"])
        XCTAssertTrue(second.stdout.contains("No changes."), second.stdout)

        // kubectl scale on a field maifctl owns: drift, shown and put back (the change came from an imperative edit).
        try lab.kubectl(["scale", "statefulset", "maif-cluster", "-n", namespace, "--replicas=5"])
        let drifted = try maifctl(["plan", "--detailed-exitcode"], expect: 2)
        XCTAssertTrue(drifted.stdout.contains(#"manifest["spec"]["replicas"] was 3, now 5"#), drifted.stdout)
        XCTAssertTrue(drifted.stdout.contains(#".spec.replicas from \"kubectl\" with subresource \"scale\" using apps/v1 (changed outside maifctl)"#), drifted.stdout)
        // kubectl patch on the ConfigMap maifctl owns: drift too.
        try lab.kubectl(["patch", "configmap", "maif-config", "-n", namespace, "--type=merge", "-p", #"{"data":{"cluster.yaml":"edited by hand\n"}}"#])
        try maifctl(["apply", "--auto-approve"])
        let repaired = try object("statefulset", "maif-cluster")
        XCTAssertEqual(value(repaired, "spec.replicas") as? Int, 3, "apply puts the stack's replicas back")
        XCTAssertNotNil(value(managers(repaired)["maifctl/Apply"], "f:spec.f:replicas"), "maifctl owns .spec.replicas again")
        XCTAssertNil(managers(repaired)["kubectl/Update/scale"], "\(managers(repaired).keys)")
        let clusterYAML = (value(try object("configmap", "maif-config"), "data") as? [String: Any])?["cluster.yaml"] as? String ?? ""
        XCTAssertTrue(clusterYAML.contains("name: k8s-maif-cluster") && !clusterYAML.contains("edited by hand"), "the ConfigMap is put back: \(clusterYAML)")

        // Fields other managers set are theirs, not drift: a label by kubectl, an annotation by another applier.
        try lab.kubectl(["label", "statefulset", "maif-cluster", "-n", namespace, "team=storage"])
        try lab.kubectl(["apply", "--server-side", "--field-manager=team-a", "-n", namespace, "-f", "-"],
                        input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: maif-config\n  annotations: {team-a/reviewed: \"yes\"}\n")
        let untouched = try maifctl(["plan", "--detailed-exitcode"])
        XCTAssertTrue(untouched.stdout.contains("No changes."), untouched.stdout)

        // Another applier takes a field maifctl owns: the plan fails with the conflict, naming field and manager…
        try lab.kubectl(["apply", "--server-side", "--field-manager=team-a", "--force-conflicts", "-n", namespace, "-f", "-"],
                        input: "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: maif-cluster\nspec:\n  minAvailable: 1\n")
        let conflict = try maifctl(["plan"], expect: 1)
        XCTAssertTrue(conflict.all.contains(#"k8s.pod_disruption_budget.k8s-maif-cluster: server-side apply (dry run) of PodDisruptionBudget \#(namespace)/maif-cluster failed: Conflict (HTTP 409): .spec.minAvailable is owned by field manager "team-a"; set force_conflicts: true on the resource, or clouds.kubernetes.force_conflicts: true, to take it over"#),
                      conflict.all)
        // …and force_conflicts takes it over, as the plan says.
        try work.write("force.yaml", "clouds:\n  kubernetes:\n    force_conflicts: true\n")
        let forcedPlan = try maifctl(["plan"], overlays: ["force.yaml"])
        XCTAssertTrue(forcedPlan.stdout.contains(#".spec.minAvailable from \"team-a\" (force_conflicts)"#), forcedPlan.stdout)
        XCTAssertTrue(forcedPlan.stdout.contains("+ force_conflicts"), forcedPlan.stdout)
        try maifctl(["apply", "--auto-approve"], overlays: ["force.yaml"])
        let pdb = try object("poddisruptionbudget", "maif-cluster")
        XCTAssertEqual(value(pdb, "spec.minAvailable") as? Int, 2)
        XCTAssertNil(value(managers(pdb)["team-a/Apply"], "f:spec.f:minAvailable"), "team-a no longer owns it: \(managers(pdb))")
        XCTAssertEqual(try maifctl(["plan", "--detailed-exitcode"], overlays: ["force.yaml"]).status, 0)

        // Destroy deletes in the foreground and waits: the set's pods (dependents) first, the namespace last.
        XCTAssertFalse(try lab.isGone("pod", "maif-cluster-0", namespace: namespace), "the controller made pods")
        let destroyed = try maifctl(["destroy", "--auto-approve"], overlays: ["force.yaml"])
        print("k8s destroy of stacks/kubernetes.yaml: \(String(format: "%.1f", destroyed.seconds)) s")
        XCTAssertTrue(try lab.isGone("namespace", namespace), "the namespace is gone")
        let left = try lab.kubectl(["get", "all,configmaps,secrets,poddisruptionbudgets,horizontalpodautoscalers,networkpolicies", "-n", namespace, "-o", "name"])
        XCTAssertEqual(left.trimmingCharacters(in: .whitespacesAndNewlines), "", "objects are left: \(left)")
        XCTAssertGreaterThanOrEqual(controller?.rollouts ?? 0, 2)
    }

    func testWithoutTheControllerTheRolloutWaitGivesUpNamingWhatItWaitedFor() throws {
        try begin("nowait")
        try work.write("short.yaml", "clouds:\n  kubernetes:\n    wait_timeout: 2s\n")
        let out = try maifctl(["apply", "--auto-approve"], overlays: ["short.yaml"], expect: 1)
        XCTAssertTrue(out.all.contains("k8s.stateful_set.k8s-maif-cluster: wait failed: gave up after 2 s waiting for StatefulSet \(namespace)/maif-cluster to roll out: still waiting for the controller to observe generation 1 (observed 0)"),
                      out.all)
        // What does not wait was applied and recorded; the set exists, and a later apply (with the controller) finishes it.
        XCTAssertNotNil(try object("statefulset", "maif-cluster"))
        startController()
        try maifctl(["apply", "--auto-approve"], overlays: ["short.yaml"])
        XCTAssertEqual(try maifctl(["plan", "--detailed-exitcode"], overlays: ["short.yaml"]).status, 0)
    }

    func testATokenWithoutRightsGets403NamingTheContextAndABadTokenGets401() throws {
        try begin("rights")
        let denied = try maifctl(["apply", "--auto-approve"], context: "nobody", expect: 1)
        XCTAssertTrue(denied.all.contains(#"Forbidden (HTTP 403): namespaces "\#(namespace)" is forbidden: User "bob" cannot patch resource "namespaces" in API group "" at the cluster scope"#),
                      denied.all)
        XCTAssertTrue(denied.all.contains("as context nobody of kubeconfig \(lab.kubeconfig); credentials: bearer token of user 'bob'"), denied.all)
        XCTAssertFalse(denied.all.contains(try lab.token(of: "bob")), "the token is never printed")

        let bad = try lab.kubeconfigCopy("bad-token", in: work.path) { $0.replacingOccurrences(of: try! self.lab.token(of: "viewer"), with: "not-a-valid-token") }
        try work.write("bad.yaml", "clouds:\n  kubernetes:\n    kubeconfig: \(bad)\n")
        let refused = try maifctl(["apply", "--auto-approve"], overlays: ["bad.yaml"], context: "viewer", expect: 1)
        XCTAssertTrue(refused.all.contains("Unauthorized (HTTP 401)"), refused.all)
        XCTAssertTrue(refused.all.contains("the API server did not accept the credentials of context viewer of kubeconfig \(bad); credentials: bearer token of user 'viewer'"),
                      refused.all)
    }

    func testAnUnreachableClusterFailsThePlanNamingTheServer() throws {
        try begin("down")
        try work.write("nowait.yaml", "clouds:\n  kubernetes:\n    wait: false\n")
        try maifctl(["apply", "--auto-approve"], overlays: ["nowait.yaml"])
        // The same cluster, now out of reach: the plan's refresh says which server it could not reach, and why.
        let closed = try lab.kubeconfigCopy("down", in: work.path) { $0.replacingOccurrences(of: "127.0.0.1:\(self.lab.port)", with: "127.0.0.1:9") }
        try work.write("down.yaml", "clouds:\n  kubernetes:\n    kubeconfig: \(closed)\n")
        let out = try maifctl(["plan"], overlays: ["nowait.yaml", "down.yaml"], expect: 1)
        XCTAssertTrue(out.all.contains("cannot reach the Kubernetes API server https://127.0.0.1:9 (context admin of kubeconfig \(closed)): connection refused"), out.all)
        XCTAssertLessThan(out.seconds, 20, "fails fast")
        // A first apply plans from the kinds every cluster serves, then stops at its first call, naming the server.
        let fresh = try work.maifctl(["apply", "--auto-approve"], files: files(["nowait.yaml", "down.yaml"]),
                                     args: args() + ["--state", "state-fresh"])
        XCTAssertEqual(fresh.status, 1, "\(fresh)")
        XCTAssertTrue(fresh.all.contains("k8s.namespace.k8s-maif-cluster: discovery (GET /api) failed: cannot reach the Kubernetes API server https://127.0.0.1:9 (context admin of kubeconfig \(closed)): connection refused"),
                      fresh.all)

        // A kubeconfig context that is not there is an error at the stack key, before anything is called.
        let missing = try maifctl(["plan"], context: "production", expect: 1)
        XCTAssertTrue(missing.all.contains("provider 'k8s' cannot be configured: context 'production' is not in kubeconfig \(lab.kubeconfig); its contexts: admin, nobody, token, viewer"),
                      missing.all)
    }
}
