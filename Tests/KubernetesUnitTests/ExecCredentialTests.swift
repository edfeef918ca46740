/// Exec credential plugins run as kubectl runs them: `KUBERNETES_EXEC_INFO` set, the token kept until its expiry,
/// failures that say which plugin and why (its stderr, its install hint).

import Foundation
import XCTest
@testable import KubernetesProvider

final class ExecCredentialTests: XCTestCase {
    /// A plugin that counts its runs in a file, records what it was given, and prints a token valid for `seconds`.
    func plugin(_ s: Scratch, seconds: Int?) throws -> Kubeconfig.Exec {
        let expiry = seconds.map { #"expires=", \"expirationTimestamp\": \"$(date -u -d "+\#($0) seconds" +%Y-%m-%dT%H:%M:%SZ)\"""# } ?? "expires="
        let script = try s.write("plugin.sh", """
            #!/bin/sh
            n=$(cat "\(s.path)/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "\(s.path)/runs"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(s.path)/info"
            printf '%s' "$PLUGIN_REGION" > "\(s.path)/region"
            \(expiry)
            printf '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "token-%s"%s}}\\n' "$n" "$expires"
            """, executable: true)
        return Kubeconfig.Exec(apiVersion: "client.authentication.k8s.io/v1", command: script, args: ["get-token"],
                               env: [("PLUGIN_REGION", "eu-west-1")], provideClusterInfo: true, installHint: nil, directory: s.path)
    }

    func testTheTokenIsCachedUntilItExpires() async throws {
        let s = try Scratch()
        let cache = ExecCredentialCache(exec: try plugin(s, seconds: 3600), server: "https://k8s.example", environment: ProcessInfo.processInfo.environment)
        let first = try await cache.token()
        let second = try await cache.token()
        XCTAssertEqual(first, "token-1")
        XCTAssertEqual(second, "token-1", "cached until its expirationTimestamp")
        let runs = await cache.runs
        XCTAssertEqual(runs, 1)
        let info = try String(contentsOfFile: s.path + "/info", encoding: .utf8)
        XCTAssertTrue(info.contains(#""kind":"ExecCredential""#) && info.contains(#""server":"https://k8s.example""#) && info.contains(#""interactive":false"#), info)
        XCTAssertEqual(try String(contentsOfFile: s.path + "/region", encoding: .utf8), "eu-west-1", "the kubeconfig's env reaches the plugin")
        // A token the API server refused (401) is forgotten, and the plugin runs again.
        await cache.invalidate()
        let third = try await cache.token()
        XCTAssertEqual(third, "token-2")
    }

    func testAnExpiredTokenRunsThePluginAgain() async throws {
        let s = try Scratch()
        let cache = ExecCredentialCache(exec: try plugin(s, seconds: 5), server: "https://k", environment: ProcessInfo.processInfo.environment)
        _ = try await cache.token()
        // Within ten seconds of its expiry a token counts as expired.
        let again = try await cache.token()
        XCTAssertEqual(again, "token-2")
    }

    func testFailuresNameThePluginAndSayWhy() throws {
        let s = try Scratch()
        let failing = try s.write("fail.sh", "#!/bin/sh\necho 'error: SSO session expired; run aws sso login' >&2\nexit 3\n", executable: true)
        var exec = Kubeconfig.Exec(apiVersion: "client.authentication.k8s.io/v1", command: failing, args: [], env: [], provideClusterInfo: false,
                                   installHint: nil, directory: s.path)
        XCTAssertThrowsError(try ExecCredentialCache.run(exec, server: "https://k", environment: [:])) { error in
            XCTAssertEqual("\(error)", "the exec credential plugin \(failing) exited with status 3: error: SSO session expired; run aws sso login")
        }
        exec.command = "kubelogin-not-installed"
        exec.installHint = "install kubelogin: https://example.com/kubelogin"
        XCTAssertThrowsError(try ExecCredentialCache.run(exec, server: "https://k", environment: ["PATH": "/usr/bin:/bin"])) { error in
            XCTAssertEqual("\(error)", "the exec credential plugin kubelogin-not-installed was not found: install kubelogin: https://example.com/kubelogin")
        }
        exec.command = try s.write("junk.sh", "#!/bin/sh\necho not json\n", executable: true)
        XCTAssertThrowsError(try ExecCredentialCache.run(exec, server: "https://k", environment: [:])) { error in
            XCTAssertTrue("\(error)".hasSuffix("did not print an ExecCredential"), "\(error)")
        }
    }
}
