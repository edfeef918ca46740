/// Cluster access as kubectl resolves it: which kubeconfig, merged how, which context, namespace and credentials —
/// and that every problem names the file and the entry (never a credential) when the provider is configured.

import Foundation
import ProviderKit
import XCTest
@testable import KubernetesProvider

enum TestPKI {
    /// A self-signed P-256 certificate and its key (for the unit tests only; never trusted by anything).
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBkDCCATWgAwIBAgIUYNXz+3ldnLGUmVn5C6Slza5FpfkwCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRbWFpZmN0bC11bml0LXRlc3QwIBcNMjYxMjAxMjE0MjA4WhgP
        MjEyNjExMDcyMTQyMDhaMBwxGjAYBgNVBAMMEW1haWZjdGwtdW5pdC10ZXN0MFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEryOo96DKQJpo5q50xcmBkfBJ8dMZhA6y
        T6gUzlQUjeGLbYYAtSBFyaQ+kaL0ThvWPdK37hDi15SpqbSgwtJlfaNTMFEwHQYD
        VR0OBBYEFOz7CpxaEnMNO9GH2Bnu17XLi9RNMB8GA1UdIwQYMBaAFOz7CpxaEnMN
        O9GH2Bnu17XLi9RNMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh
        AOtD8IXOSXL08Xmra9aZ+9YdBhkykZHUn2uslifATPs6AiEAlV1kvGVRq0VxzlIC
        evT8rDHlfa0b+nLg1jjVO7JXdxM=
        -----END CERTIFICATE-----

        """
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsB9v2foIY2uJ7NV0
        pH//iOuLF5880WSj62inY0w3i3KhRANCAASvI6j3oMpAmmjmrnTFyYGR8Enx0xmE
        DrJPqBTOVBSN4YtthgC1IEXJpD6RovROG9Y90rfuEOLXlKmptKDC0mV9
        -----END PRIVATE KEY-----

        """
    static var certificateData: String { Data(certificate.utf8).base64EncodedString() }
    static var keyData: String { Data(key.utf8).base64EncodedString() }
}

/// A temporary folder for kubeconfigs and the files they name.
final class Scratch {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "maifctl-k8s-unit-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }
}

final class ClusterAccessTests: XCTestCase {
    func kubeconfig(clusters: String, users: String, contexts: String, current: String? = nil) -> String {
        "apiVersion: v1\nkind: Config\nclusters:\n\(clusters)\nusers:\n\(users)\ncontexts:\n\(contexts)\n" + (current.map { "current-context: \($0)\n" } ?? "")
    }

    func resolve(_ settings: ProviderSettings = ProviderSettings(), env: [String: String], dir: String) throws -> ClusterAccess {
        try AccessResolver.resolve(settings: settings, environment: env, workingDirectory: dir)
    }

    func testKUBECONFIGMergesFilesTheFirstToNameAnEntryWinsAndPathsAreRelativeToTheirFile() throws {
        let s = try Scratch()
        try s.write("a/ca.crt", TestPKI.certificate)
        try s.write("b/client.crt", TestPKI.certificate)
        try s.write("b/client.key", TestPKI.key)
        let a = try s.write("a/config", kubeconfig(
            clusters: "- name: prod\n  cluster: {server: 'https://prod.example:6443', certificate-authority: ca.crt}",
            users: "- name: alice\n  user: {token: first-token}",
            contexts: "- name: prod\n  context: {cluster: prod, user: alice, namespace: maif}", current: "prod"))
        let b = try s.write("b/config", kubeconfig(
            clusters: "- name: prod\n  cluster: {server: 'https://shadowed.example'}\n- name: lab\n  cluster: {server: 'https://lab.example/', insecure-skip-tls-verify: true}",
            users: "- name: bob\n  user: {client-certificate: client.crt, client-key: client.key}",
            contexts: "- name: lab\n  context: {cluster: lab, user: bob}", current: "lab"))
        let env = ["KUBECONFIG": "\(s.path)/missing:\(a):\(b)", "HOME": s.path]
        let prod = try resolve(env: env, dir: s.path)
        XCTAssertEqual(prod.server, "https://prod.example:6443", "the first file's cluster wins")
        XCTAssertEqual(prod.context, "prod", "the first current-context wins")
        XCTAssertEqual(prod.namespace, "maif")
        XCTAssertEqual(prod.credentialSource, "bearer token of user 'alice'")
        XCTAssertTrue(prod.origin.contains(a) && prod.origin.contains(b), prod.origin)
        XCTAssertFalse(prod.identity.contains("first-token"), "a token never appears in messages")

        let lab = try resolve(["context": "lab"], env: env, dir: s.path)
        XCTAssertEqual(lab.server, "https://lab.example", "entries of later files are still there; the trailing slash goes")
        XCTAssertEqual(lab.namespace, "default")
        XCTAssertEqual(lab.credentialSource, "client certificate \(s.path)/b/client.crt", "relative to b/config's folder")

        // The stack's kubeconfig wins over KUBECONFIG, as --kubeconfig does for kubectl; the stack's namespace over the context's.
        let only = try resolve(["kubeconfig": .string(b), "namespace": "ops"], env: env, dir: s.path)
        XCTAssertEqual(only.context, "lab")
        XCTAssertEqual(only.namespace, "ops")
    }

    func testInlineDataAndItsProblems() throws {
        let s = try Scratch()
        let file = try s.write("config", kubeconfig(
            clusters: "- name: c\n  cluster: {server: 'https://10.0.0.1', certificate-authority-data: \(TestPKI.certificateData)}",
            users: "- name: u\n  user: {client-certificate-data: \(TestPKI.certificateData), client-key-data: \(TestPKI.keyData)}\n- name: half\n  user: {client-certificate-data: \(TestPKI.certificateData)}\n- name: old\n  user: {auth-provider: {name: gcp}}\n- name: basic\n  user: {username: admin, password: secret}",
            contexts: "- name: c\n  context: {cluster: c, user: u}\n- name: half\n  context: {cluster: c, user: half}\n- name: old\n  context: {cluster: c, user: old}\n- name: basic\n  context: {cluster: c, user: basic}\n- name: nowhere\n  context: {cluster: gone, user: u}",
            current: "c"))
        let ok = try resolve(["kubeconfig": .string(file)], env: [:], dir: s.path)
        XCTAssertEqual(ok.credentialSource, "client certificate (client-certificate-data of user 'u')")
        for (context, expected) in [
            ("half", "has a client certificate but no client key"),
            ("old", "uses the auth-provider 'gcp', which Kubernetes removed in 1.26; use its exec credential plugin instead"),
            ("basic", "uses basic authentication"),
            ("nowhere", "names cluster 'gone', which is not defined there"),
            ("staging", "context 'staging' is not in kubeconfig \(file); its contexts: basic, c, half, nowhere, old"),
        ] {
            XCTAssertThrowsError(try resolve(["kubeconfig": .string(file), "context": .string(context)], env: [:], dir: s.path), context) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(context): \(error)")
                XCTAssertFalse("\(error)".contains("secret"), "\(error)")
            }
        }
    }

    /// Problems with a kubeconfig the stack names fail when the provider is configured, at the setting's key; the
    /// implicit ~/.kube/config that is not there fails only when the cluster is needed.
    func testProviderConfigurationErrorsNameTheKey() throws {
        let s = try Scratch()
        let file = try s.write("config", kubeconfig(clusters: "- name: c\n  cluster: {server: 'https://x'}", users: "- name: u\n  user: {token: t}",
                                                    contexts: "- name: c\n  context: {cluster: c, user: u}", current: "c"))
        var settings = ProviderSettings(values: ["kubeconfig": .string(file), "context": "production"], section: "clouds.kubernetes")
        XCTAssertThrowsError(try KubernetesProvider(configuration: ProviderConfiguration(stack: "s", settings: settings, workingDirectory: s.path))) { error in
            let e = error as? ProviderConfigurationError
            XCTAssertEqual(e?.key, "context", "\(error)")
            XCTAssertEqual(e?.message, "context 'production' is not in kubeconfig \(file); its contexts: c")
        }
        settings = ProviderSettings(values: ["kubeconfig": .string(s.path + "/nope")], section: "clouds.kubernetes")
        XCTAssertThrowsError(try KubernetesProvider(configuration: ProviderConfiguration(stack: "s", settings: settings, workingDirectory: s.path))) { error in
            XCTAssertEqual((error as? ProviderConfigurationError)?.key, "kubeconfig", "\(error)")
            XCTAssertTrue("\(error)".contains("kubeconfig \(s.path)/nope does not exist"), "\(error)")
        }
        // Nothing named, nothing there: configured fine; the first call says why there is no cluster.
        let lazy = try KubernetesProvider(configuration: ProviderConfiguration(stack: "s", workingDirectory: s.path, environment: ["HOME": s.path]))
        XCTAssertThrowsError(try lazy.connected()) { error in
            XCTAssertTrue("\(error)".contains("no cluster to talk to"), "\(error)")
        }
    }

    func testInClusterServiceAccount() throws {
        let s = try Scratch()
        try s.write("sa/token", "sa-token-value\n")
        try s.write("sa/ca.crt", TestPKI.certificate)
        try s.write("sa/namespace", "maif-prod\n")
        let files = InClusterFiles(directory: s.path + "/sa")
        let env = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "HOME": s.path]
        let access = try AccessResolver.resolve(settings: ProviderSettings(), environment: env, workingDirectory: s.path, inCluster: files)
        XCTAssertEqual(access.server, "https://10.96.0.1:443")
        XCTAssertEqual(access.context, "in-cluster")
        XCTAssertEqual(access.namespace, "maif-prod")
        XCTAssertEqual(access.credentialSource, "service account token \(s.path)/sa/token")
        guard case .tokenFile(let path) = access.credential else { return XCTFail("\(access.credential)") }
        XCTAssertEqual(try TokenFileCache(path: path).token(), "sa-token-value")
        // A kubeconfig, when there is one, comes first (as for kubectl).
        try s.write(".kube/config", kubeconfig(clusters: "- name: c\n  cluster: {server: 'https://k'}", users: "- name: u\n  user: {token: t}",
                                               contexts: "- name: c\n  context: {cluster: c, user: u}", current: "c"))
        XCTAssertEqual(try AccessResolver.resolve(settings: ProviderSettings(), environment: env, workingDirectory: s.path, inCluster: files).server, "https://k")
    }
}
