/// The ARM stand-in the tests run against (Tests/Servers/azure: a test server that checks every request against
/// Microsoft's published specs; it is not Azure), started by `scripts/arm-standin.sh start DIR` — scripts/test.sh does —
/// and named by `ARM_STANDIN_DIR`. What the tests check they read through curl: the stand-in's control API and ARM API,
/// never maifctl.

import Foundation
import ProviderKit
import TestSupport
@testable import AzureProvider

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct StandIn: Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let subscription = "00000000-0000-0000-0000-000000000000"
    static let tenant = "00000000-0000-0000-0000-000000000000"
    static let clientID = "11111111-1111-1111-1111-111111111111"

    let dir: String
    let base: String
    let httpBase: String
    var ca: String { dir + "/ca.pem" }
    var secret: String { (try? String(contentsOfFile: dir + "/client-secret", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }

    /// The running stand-in, reset to empty (no resources, faults, log), with short operations.
    static func running() throws -> StandIn {
        guard let dir = ProcessInfo.processInfo.environment["ARM_STANDIN_DIR"], !dir.isEmpty else {
            throw Failure("ARM_STANDIN_DIR is not set. Start the ARM stand-in with `bash scripts/arm-standin.sh start /tmp/arm` and run "
                          + "`ARM_STANDIN_DIR=/tmp/arm swift test --skip-build --filter AzureIntegrationTests` (scripts/test.sh does both)")
        }
        guard let port = try? String(contentsOfFile: dir + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              let http = try? String(contentsOfFile: dir + "/http-port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw Failure("no ARM stand-in in \(dir) (ARM_STANDIN_DIR): start it with `bash scripts/arm-standin.sh start \(dir)`")
        }
        let s = StandIn(dir: dir, base: "https://127.0.0.1:\(port)", httpBase: "http://127.0.0.1:\(http)")
        guard (try? s.control("GET", "/health")) != nil else {
            throw Failure("the ARM stand-in in \(dir) is not answering at \(s.base); start it with `bash scripts/arm-standin.sh start \(dir)`")
        }
        try s.reset()
        return s
    }

    func reset() throws {
        _ = try control("POST", "/reset")
        _ = try control("POST", "/config", ["lro_delay": 0.2, "retry_after": 1, "page_size": 100])
    }

    // MARK: curl

    @discardableResult
    static func curl(_ arguments: [String]) throws -> (status: Int, body: Any?) {
        let out = try RunningProcess.run("/usr/bin/curl", ["-sS", "-w", "\n%{http_code}"] + arguments, timeout: 30)
        guard out.status == 0 else { throw Failure("curl \(arguments.joined(separator: " ")) failed: \(out.stderr)") }
        var lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.removeLast()) ?? 0
        let text = lines.joined(separator: "\n")
        return (status, text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8)))
    }

    /// The control API (not ARM): `/_standin/<path>`.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: Any? = nil) throws -> Any? {
        var args = ["-X", method, httpBase + "/_standin" + path]
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)] }
        let (status, json) = try Self.curl(args)
        guard (200..<300).contains(status) else { throw Failure("\(method) /_standin\(path): HTTP \(status) \(String(describing: json))") }
        return json
    }

    /// A token of the registered service principal, asked for with curl.
    func token() throws -> String {
        let (status, json) = try Self.curl(["--cacert", ca, "-X", "POST", "\(base)/\(Self.tenant)/oauth2/v2.0/token",
                                            "--data-urlencode", "grant_type=client_credentials", "--data-urlencode", "client_id=\(Self.clientID)",
                                            "--data-urlencode", "client_secret=\(secret)",
                                            "--data-urlencode", "scope=https://management.azure.com/.default"])
        guard status == 200, let token = (json as? [String: Any])?["access_token"] as? String else { throw Failure("token: HTTP \(status)") }
        return token
    }

    /// An ARM call through curl (what someone changing things by hand, or checking them, would do).
    @discardableResult
    func arm(_ method: String, _ path: String, api: String, _ body: Any? = nil) throws -> (status: Int, body: [String: Any]) {
        var args = ["--cacert", ca, "-X", method, "\(base)\(path)?api-version=\(api)", "-H", "Authorization: Bearer \(try token())"]
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)] }
        let (status, json) = try Self.curl(args)
        return (status, json as? [String: Any] ?? [:])
    }

    /// Every stored resource, as the stand-in's control API lists them.
    func resources() throws -> [[String: Any]] {
        let json = try control("GET", "/resources")
        if let list = json as? [[String: Any]] { return list }
        return (json as? [String: Any])?["resources"] as? [[String: Any]] ?? (json as? [String: Any])?["value"] as? [[String: Any]] ?? []
    }

    /// Resources by type (`Microsoft.Network/virtualNetworks`), case-insensitively.
    func resources(ofType type: String) throws -> [[String: Any]] {
        try resources().filter { ($0["type"] as? String)?.caseInsensitiveCompare(type) == .orderedSame }
    }

    /// The request log and its counts.
    func requests() throws -> [String: Any] { try control("GET", "/requests") as? [String: Any] ?? [:] }

    func inject(_ fault: [String: Any]) throws { try control("POST", "/faults", fault) }
    func clearFaults() throws { try control("DELETE", "/faults") }

    // MARK: The provider, configured as a stack would

    static let rg = "/subscriptions/\(subscription)/resourceGroups"

    func provider(stack: String = "it", _ extra: [String: AttributeValue] = [:], environment: [String: String] = [:],
                  references: [String: SettingReference]? = nil, work: String = NSTemporaryDirectory()) throws -> AzureProvider {
        var values: [String: AttributeValue] = [
            "subscription": .string(Self.subscription), "tenant": .string(Self.tenant), "client_id": .string(Self.clientID),
            "endpoint": .string(base), "authority_host": .string(base), "ca_file": .string(ca), "max_retries": 2,
            "operation_timeout": .double(60), "operations_dir": .string(work + "/ops-\(UUID().uuidString.prefix(8))"),
        ]
        values.merge(extra) { _, b in b }
        let refs = references ?? ["client_secret": .env("ARM_TEST_SECRET")]
        let env = environment.merging(["ARM_TEST_SECRET": secret]) { a, _ in a }
        return try AzureProvider(configuration: ProviderConfiguration(
            stack: stack, settings: ProviderSettings(values: values, references: refs, section: "clouds.azure"),
            workingDirectory: work, environment: env))
    }
}
