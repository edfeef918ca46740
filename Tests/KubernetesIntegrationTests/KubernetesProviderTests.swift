/// The k8s provider's other paths against the stand-in, checked with kubectl: a CRD and objects of its kind in one
/// apply, an exec credential plugin run once per run, the in-cluster service account, discovery fetched once and
/// API calls counted, and `maifctl render` output that kubernetes-validate, the API server and checkov accept.

import Foundation
import ProviderKit
import TestSupport
import XCTest
import Yams
@testable import KubernetesProvider

final class KubernetesProviderTests: XCTestCase {
    var lab: KubeLab!
    var work: Workdir!
    var namespace = ""
    var stackFile = ""

    func begin(_ scenario: String) throws {
        lab = try KubeLab.connect()
        work = try Workdir(lab, name: scenario)
        namespace = "t-\(scenario)-" + UUID().uuidString.prefix(6).lowercased()
    }

    override func tearDownWithError() throws {
        if let work, lab != nil, !stackFile.isEmpty {
            _ = try? work.maifctl(["destroy", "--auto-approve"], files: [stackFile])
        }
        work?.remove()
    }

    @discardableResult
    func maifctl(_ command: [String], expect status: Int32? = 0, file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let out = try work.maifctl(command, files: [stackFile])
        if let status { XCTAssertEqual(out.status, status, "maifctl \(command.joined(separator: " ")):\n\(out)", file: file, line: line) }
        return out
    }

    /// A stack of raw k8s resources: a namespace and `body`.
    func writeStack(_ name: String, kubeconfig: String? = nil, context: String = "admin", _ body: String) throws {
        stackFile = try work.write("\(name).yaml", """
            stack: {name: \(name)}
            clouds:
              kubernetes: {kubeconfig: \(kubeconfig ?? lab.kubeconfig), context: \(context)}
            resources:
              - type: k8s.namespace
                name: ns
                properties:
                  manifest: {apiVersion: v1, kind: Namespace, metadata: {name: \(namespace)}}
            \(body)
            """)
    }

    func configMaps(_ count: Int) -> String {
        (0..<count).map { i in
            """
              - type: k8s.config_map
                name: cm-\(i)
                properties:
                  manifest:
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: cm-\(i), namespace: "${k8s.namespace.ns.name}"}
                    data: {index: "\(i)"}
            """
        }.joined(separator: "\n")
    }

    // MARK: scenarios

    func testACRDAndObjectsOfItsKindInOneApply() throws {
        try begin("crd")
        let group = "\(namespace).example.com"
        try writeStack("crd", """
              - type: k8s.custom_resource_definition
                name: widgets
                properties:
                  manifest:
                    apiVersion: apiextensions.k8s.io/v1
                    kind: CustomResourceDefinition
                    metadata: {name: widgets.\(group)}
                    spec:
                      group: \(group)
                      scope: Namespaced
                      names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
                      versions:
                        - name: v1
                          served: true
                          storage: true
                          schema:
                            openAPIV3Schema:
                              type: object
                              properties:
                                spec: {type: object, properties: {size: {type: integer}}}
              - type: k8s.manifest
                name: small
                depends_on: [k8s.custom_resource_definition.widgets]
                properties:
                  manifest:
                    apiVersion: \(group)/v1
                    kind: Widget
                    metadata: {name: small, namespace: "${k8s.namespace.ns.name}"}
                    spec: {size: 3}
              - type: k8s.manifest
                name: loose
                properties:
                  manifest:
                    apiVersion: \(group)/v1
                    kind: Widget
                    metadata: {name: loose, namespace: "${k8s.namespace.ns.name}"}
                    spec: {size: 5}
            """)
        let planned = try maifctl(["plan"])
        XCTAssertTrue(planned.stdout.contains(#"= "(known after the CRD for Widget in \#(group)/v1 is applied)""#), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("+ path "), planned.stdout)
        XCTAssertTrue(planned.stdout.contains("Plan: 4 to add"), planned.stdout)
        try maifctl(["apply", "--auto-approve"])
        // The one without depends_on waited for its kind to be served, instead of failing.
        let widgets = try lab.get(["widgets.\(group)", "-n", namespace])
        XCTAssertEqual(((widgets["items"] as? [[String: Any]]) ?? []).compactMap { value($0, "metadata.name") as? String }.sorted(), ["loose", "small"])
        XCTAssertEqual(value(try lab.get(["widget.\(group)", "small", "-n", namespace]), "spec.size") as? Int, 3)
        XCTAssertTrue(try maifctl(["plan", "--detailed-exitcode"]).stdout.contains("No changes."))
        try maifctl(["destroy", "--auto-approve"])
        XCTAssertTrue(try lab.isGone("crd", "widgets.\(group)"))
        XCTAssertTrue(try lab.isGone("namespace", namespace))
        stackFile = ""
    }

    func testAnExecPluginGivesTheTokenOncePerRun() throws {
        try begin("exec")
        let token = try lab.token(of: "token-admin")
        let plugin = try work.write("plugin.sh", """
            #!/bin/sh
            echo run >> "\(work.path)/plugin-runs"
            echo '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "\(token)"}}'
            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin)
        let kubeconfig = try work.write("exec-kubeconfig", """
            apiVersion: v1
            kind: Config
            clusters:
            - name: standin
              cluster: {server: "https://127.0.0.1:\(lab.port)", certificate-authority: \(lab.dir)/ca.crt}
            users:
            - name: plugged
              user:
                exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, interactiveMode: Never}
            contexts:
            - name: plugged
              context: {cluster: standin, user: plugged}
            current-context: plugged
            """)
        try writeStack("exec", kubeconfig: kubeconfig, context: "plugged", configMaps(5))
        let out = try maifctl(["apply", "--auto-approve"])
        XCTAssertFalse(out.all.contains(token), "the token is never printed")
        let runs = try String(contentsOfFile: work.path + "/plugin-runs", encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(runs, 1, "one plugin run for the whole plan and apply (the token is cached)")
        XCTAssertEqual(value(try lab.get(["configmap", "cm-4", "-n", namespace]), "data.index") as? String, "4")
        XCTAssertTrue(work.stateText().contains("cm-4") && !work.stateText().contains(token))
    }

    /// In a pod: the service account's token, CA and namespace files, and KUBERNETES_SERVICE_HOST/PORT.
    func testTheInClusterServiceAccount() async throws {
        try begin("incluster")
        let sa = work.path + "/serviceaccount"
        try FileManager.default.createDirectory(atPath: sa, withIntermediateDirectories: true)
        try Data((try lab.token(of: "token-admin") + "\n").utf8).write(to: URL(fileURLWithPath: sa + "/token"))
        try FileManager.default.copyItem(atPath: lab.dir + "/ca.crt", toPath: sa + "/ca.crt")
        try Data("default\n".utf8).write(to: URL(fileURLWithPath: sa + "/namespace"))
        let env = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": lab.port, "HOME": work.path]
        let access = try AccessResolver.resolve(settings: ProviderSettings(), environment: env, workingDirectory: work.path,
                                                inCluster: InClusterFiles(directory: sa))
        XCTAssertEqual(access.context, "in-cluster")
        let configuration = ProviderConfiguration(stack: "incluster", workingDirectory: work.path, environment: env)
        let provider = KubernetesProvider(configuration: configuration, access: .success(access),
                                          options: KubernetesProvider.options(ProviderSettings()))
        let name = "in-cluster-" + UUID().uuidString.prefix(6).lowercased()
        let context = ResourceContext(stack: "incluster", address: ResourceAddress(provider: "k8s", kind: "config_map", name: name))
        let config = provider.markOwner(["manifest": .map(["apiVersion": "v1", "kind": "ConfigMap", "metadata": .map(["name": .string(name)]),
                                                           "data": .map(["from": "a pod"])])], context)
        let created = try await provider.create(context, config)
        XCTAssertEqual(created.id, "v1/ConfigMap/default/\(name)", "the namespace file's namespace")
        XCTAssertEqual(value(try lab.get(["configmap", name, "-n", "default"]), "data.from") as? String, "a pod")
        let read = try await provider.read(context, created)
        XCTAssertEqual(read, created, "read right after create reports the same")
        try await provider.delete(context, created)
        XCTAssertTrue(try lab.isGone("configmap", name, namespace: "default"))
        let gone = try await provider.read(context, created)
        XCTAssertNil(gone)
    }

    func testDiscoveryIsFetchedOncePerRunAndEveryCallIsCounted() throws {
        try begin("calls")
        let count = 40
        try writeStack("calls", configMaps(count))
        try lab.clearRequests()
        let applied = try maifctl(["apply", "--auto-approve"])
        var seen = try lab.requests()
        var byPath = seen["byPath"] as? [String: Int] ?? [:]
        XCTAssertEqual(byPath["GET /api"], 1, "\(byPath)")
        XCTAssertEqual(byPath["GET /apis"], 1, "\(byPath)")
        XCTAssertEqual((seen["byVerb"] as? [String: Int])?["patch"], count + 1, "one server-side apply per object")
        XCTAssertEqual(seen["total"] as? Int, count + 3, "discovery twice, one apply per object, nothing else")
        XCTAssertTrue(applied.stdout.contains("k8s: \(count + 3) API calls"), applied.stdout)

        try lab.clearRequests()
        let noop = try maifctl(["plan", "--detailed-exitcode"])
        seen = try lab.requests()
        byPath = seen["byPath"] as? [String: Int] ?? [:]
        XCTAssertEqual(byPath["GET /api"], 1)
        XCTAssertEqual(byPath["GET /apis"], 1)
        XCTAssertEqual(seen["total"] as? Int, count + 3, "a no-op plan reads each object once: \(seen["byVerb"] ?? "")")
        XCTAssertTrue(noop.stdout.contains("No changes."))
    }

    /// Destroy deletes in the foreground and waits for finalizers, bounded: one nobody removes is named when it
    /// gives up; once its owner removes it, destroy finishes.
    func testDestroyWaitsForFinalizersAndNamesTheOnesLeft() throws {
        try begin("finalizer")
        try writeStack("finalizer", """
              - type: k8s.config_map
                name: held
                properties:
                  delete_timeout: 2s
                  manifest:
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: held, namespace: "${k8s.namespace.ns.name}", finalizers: [example.com/hold]}
                    data: {a: b}
            """)
        try maifctl(["apply", "--auto-approve"])
        let stuck = try maifctl(["destroy", "--auto-approve"], expect: 1)
        XCTAssertTrue(stuck.all.contains("k8s.config_map.held: delete failed: gave up after 2 s waiting for ConfigMap \(namespace)/held to be deleted (finalizers left: "),
                      stuck.all)
        XCTAssertTrue(stuck.all.contains("example.com/hold)"), stuck.all)
        XCTAssertNotNil(value(try lab.get(["configmap", "held", "-n", namespace]), "metadata.deletionTimestamp"), "marked for deletion, held")
        // The finalizer's owner lets go; the next destroy finds it gone or going and finishes.
        try lab.kubectl(["patch", "configmap", "held", "-n", namespace, "--type=merge", "-p", #"{"metadata":{"finalizers":null}}"#])
        try maifctl(["destroy", "--auto-approve"])
        XCTAssertTrue(try lab.isGone("namespace", namespace))
        stackFile = ""
    }

    /// An apply killed while it creates objects: the next apply adopts what the killed one made (by its owner
    /// labels) and creates the rest; nothing is made twice and the state ends complete.
    func testAnApplyKilledHalfwayIsFinishedByTheNextOne() throws {
        try begin("killed")
        let count = 150
        try writeStack("killed", configMaps(count))
        // One object at a time, so the kill lands halfway even on a fast machine.
        let running = try work.start(["apply", "--auto-approve", "--parallelism", "1"], files: [stackFile])
        let deadline = Date().addingTimeInterval(30)
        var made = 0
        while Date() < deadline, running.isRunning {
            made = try lab.kubectl(["get", "configmaps", "-n", namespace, "-l", "maif/stack=killed", "-o", "name"])
                .split(separator: "\n").count
            if made >= 3 { break }
            usleep(20_000)
        }
        XCTAssertTrue(running.kill(SIGKILL), "the apply finished before it could be killed (\(made) objects)")
        _ = running.wait(timeout: 10)
        XCTAssertLessThan(made, count, "killed halfway")
        let finished = try maifctl(["apply", "--auto-approve"])
        XCTAssertTrue(finished.all.contains("Recovered an interrupted run"), "the journal of the killed run is folded in:\n\(finished)")
        let names = try lab.kubectl(["get", "configmaps", "-n", namespace, "-l", "maif/stack=killed", "-o", "name"]).split(separator: "\n")
        XCTAssertEqual(names.count, count)
        XCTAssertTrue(try maifctl(["plan", "--detailed-exitcode"]).stdout.contains("No changes."))
    }

    /// `maifctl render` writes manifests that kubernetes-validate --strict (Kubernetes 1.30's schemas) and the API
    /// server's dry run accept; checkov's findings are exactly the ones docs/platforms.md justifies.
    func testRenderedManifestsPassKubernetesValidateTheServersDryRunAndCheckov() throws {
        try begin("render")
        let file = work.path + "/kubernetes.yaml"
        let stack = KubeLab.root.appendingPathComponent("stacks/kubernetes.yaml").path
        let rendered = try work.run(["render", stack, "--platform", "kubernetes", "--out", file])
        XCTAssertEqual(rendered.status, 0, "\(rendered)")
        XCTAssertFalse(try String(contentsOfFile: file, encoding: .utf8).contains(work.environment["AWS_SECRET_ACCESS_KEY"]!))

        let validate = try RunningProcess.run("/bin/bash", [KubeLab.root.appendingPathComponent("scripts/validate-manifests.sh").path, "k8s", file], timeout: 120)
        XCTAssertEqual(validate.status, 0, "kubernetes-validate --strict rejected a rendered manifest:\n\(validate)")
        XCTAssertEqual(validate.all.components(separatedBy: " passed for resource ").count - 1, 13, "the 13 objects of stacks/kubernetes.yaml: \(validate.all)")

        let dryRun = try lab.run(["apply", "--server-side", "--dry-run=server", "--field-manager=maifctl", "-f", file])
        XCTAssertEqual(dryRun.status, 0, "the API server refused a rendered manifest:\n\(dryRun)")

        let checkov = try RunningProcess.run("/bin/bash", [KubeLab.root.appendingPathComponent("scripts/validate-manifests.sh").path, "checkov", file], timeout: 300)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(checkov.stdout.utf8)) as? [String: Any], "checkov printed no JSON:\n\(checkov)")
        let failed: Set<String> = Set(((value(report, "results.failed_checks") as? [[String: Any]]) ?? []).compactMap { $0["check_id"] as? String })
        let passed = ((value(report, "results.passed_checks") as? [[String: Any]]) ?? []).count
        XCTAssertGreaterThan(passed, 20, "checkov scored the manifests")
        let docs = try String(contentsOf: KubeLab.root.appendingPathComponent("docs/platforms.md"), encoding: .utf8)
        let section = docs.components(separatedBy: "### checkov").dropFirst().first?.components(separatedBy: "\n## ").first ?? ""
        let justified: Set<String> = Set(section.matches(of: /\| `(CKV2?_K8S_\d+)`/).map { String($0.1) })
        XCTAssertEqual(failed.subtracting(justified).sorted(), [], "checks that fail and are neither fixed nor justified in docs/platforms.md")
        XCTAssertEqual(justified.subtracting(failed).sorted(), [], "checks docs/platforms.md justifies that no longer fail: remove them from the table")
    }
}
