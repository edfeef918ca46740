/// `render` writes YAML that reads back as exactly the objects apply sends, in an order `kubectl apply -f` can take.

import Foundation
import ProviderKit
import XCTest
import Yams
@testable import KubernetesProvider

final class RenderTests: XCTestCase {
    func parsed(_ yaml: String) throws -> [AttributeValue] {
        try Yams.load_all(yaml: yaml).map { YAMLValues.value($0) }
    }

    func testTrickyScalarsReadBackUnchanged() throws {
        let strings = ["yes", "no", "on", "null", "~", "1.0", "0755", "0x1F", "1e3", "2024-05-01", "12:30", "a: b", "#x", "- x", "-",
                       "plain text", "with \"quotes\"", "trailing ", " leading", "", "café", "x #y", "@at", "*star", "&amp", "!bang",
                       "%p", "`tick", "{brace", "[bracket", "a,b", "?q", "|pipe", ">gt", "line\nbreak\n", "no trailing\nnewline",
                       "two trailing\n\n", "  indented first\nline\n", "tab\there", "cr\r\nlf"]
        var manifest: [String: AttributeValue] = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .map(["name": "x"])]
        var data: [String: AttributeValue] = [:]
        for (i, s) in strings.enumerated() { data["k\(i)"] = .string(s) }
        data["yes"] = "key that is a YAML word"
        manifest["data"] = .map(data)
        manifest["spec"] = .map(["n": 3, "f": .double(0.5), "b": true, "empty": .map([:]), "none": .list([]),
                                 "nested": .list([.list(["a", "b"]), .map(["name": "n", "x": .list([.map(["y": 1])])])])])
        let yaml = YAMLWriter.document(.map(manifest))
        let back = try parsed(yaml)
        XCTAssertEqual(back, [.map(manifest)], yaml)
        XCTAssertTrue(yaml.hasPrefix("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), yaml)
    }

    func objects() -> [KubernetesRender.Object] {
        let ns = ResourceAddress(provider: "k8s", kind: "namespace", name: "c")
        let crd = ResourceAddress(provider: "k8s", kind: "custom_resource_definition", name: "widgets")
        let widget = ResourceAddress(provider: "k8s", kind: "manifest", name: "w")
        let secret = ResourceAddress(provider: "k8s", kind: "secret", name: "s")
        let cm = ResourceAddress(provider: "k8s", kind: "config_map", name: "c")
        return [
            .init(address: widget, config: ["manifest": .map(["apiVersion": "example.com/v1", "kind": "Widget",
                                                              "metadata": .map(["name": "w", "namespace": "${k8s.namespace.c.name}"]),
                                                              "spec": .map(["config": "${k8s.config_map.c.name}"])])],
                  dependsOn: [crd]),
            .init(address: cm, config: ["name": "maif-config", "namespace": "${k8s.namespace.c.name}",
                                        "manifest": .map(["apiVersion": "v1", "kind": "ConfigMap",
                                                          "metadata": .map(["name": "maif-config", "namespace": "${k8s.namespace.c.name}"]),
                                                          "data": .map(["cluster.yaml": "a: 1\n"])])]),
            .init(address: secret, config: ["manifest": .map(["apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                                              "metadata": .map(["name": "creds", "namespace": "maif"])]),
                                            "data_from": .map(["TOKEN": "env:RENDER_TEST_TOKEN"])]),
            .init(address: crd, config: ["manifest": .map(["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                                           "metadata": .map(["name": "widgets.example.com"]),
                                                           "spec": .map(["group": "example.com", "scope": "Namespaced",
                                                                         "names": .map(["kind": "Widget", "plural": "widgets"]),
                                                                         "versions": .list([.map(["name": "v1", "served": true, "storage": true])])])])]),
            .init(address: ns, config: ["manifest": .map(["apiVersion": "v1", "kind": "Namespace", "metadata": .map(["name": "maif"])])]),
        ]
    }

    func testOrderReferencesOwnerLabelsAndSecrets() throws {
        let yaml = try KubernetesRender.render(objects(), stack: "demo", namespace: nil, environment: ["RENDER_TEST_TOKEN": "s3cr3t"],
                                               workingDirectory: "/", includeSecrets: false)
        let docs = try parsed(yaml)
        let kinds = docs.map { $0.mapValue?["kind"]?.stringValue ?? "?" }
        XCTAssertEqual(Array(kinds.prefix(2)), ["Namespace", "CustomResourceDefinition"], "namespaces, then CRDs")
        XCTAssertEqual(kinds.last, "Widget", "after the ConfigMap it names")
        let secretDoc = try XCTUnwrap(kinds.firstIndex(of: "Secret"))
        let widget = docs[4].mapValue!
        XCTAssertEqual(widget["metadata"]?.mapValue?["namespace"], "maif", "references to other objects are resolved")
        XCTAssertEqual(widget["spec"]?.mapValue?["config"], "maif-config")
        XCTAssertEqual(widget["metadata"]?.mapValue?["labels"]?.mapValue?["maif/stack"], "demo")
        XCTAssertEqual(widget["metadata"]?.mapValue?["labels"]?.mapValue?["maif/address"], "k8s.manifest.w")
        XCTAssertNil(docs[secretDoc].mapValue?["data"], "no Secret values without --include-secrets")
        XCTAssertFalse(yaml.contains("s3cr3t") || yaml.contains(Data("s3cr3t".utf8).base64EncodedString()))
        XCTAssertTrue(yaml.contains("# data left out (TOKEN): apply reads it from TOKEN ← env:RENDER_TEST_TOKEN; `--include-secrets` writes it"), yaml)

        let withSecrets = try parsed(try KubernetesRender.render(objects(), stack: "demo", namespace: nil, environment: ["RENDER_TEST_TOKEN": "s3cr3t"],
                                                                 workingDirectory: "/", includeSecrets: true))
        XCTAssertEqual(withSecrets[secretDoc].mapValue?["data"], .map(["TOKEN": .string(Data("s3cr3t".utf8).base64EncodedString())]))
    }

    func testAValueKnownOnlyAfterApplyCannotBeRendered() {
        var list = objects()
        list[1].config["manifest"] = .map(["apiVersion": "v1", "kind": "ConfigMap", "metadata": .map(["name": "x"]),
                                           "data": .map(["owner": "${k8s.namespace.c.uid}"])])
        XCTAssertThrowsError(try KubernetesRender.render(list, stack: "demo", namespace: nil, environment: [:], workingDirectory: "/", includeSecrets: false)) {
            XCTAssertEqual("\($0)", "k8s.config_map.c: refers to k8s.namespace.c.uid, which is known only after apply")
        }
    }
}
