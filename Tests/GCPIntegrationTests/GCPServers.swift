/// The local GCP servers the tests run against (scripts/gcp-servers.sh start DIR; scripts/test.sh starts them and sets
/// GCP_SERVERS_DIR): the validating front, the token endpoint, the metadata server. Every test starts from empty servers
/// and ends by asserting that the front rejected none of the provider's requests against Google's discovery documents.

import Foundation
import ProviderKit
import Testing
@testable import GCPProvider

/// Every test empties the one set of servers, so they run one at a time.
@Suite(.serialized) struct GCPIntegration {}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct GCPServers: Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let howToStart = "Start them with `scripts/gcp-servers.sh start /tmp/gcp` and run "
        + "`GCP_SERVERS_DIR=/tmp/gcp swift test --skip-build --filter GCPIntegrationTests` (scripts/test.sh does both)"

    let directory: String
    let front: String
    let tokenURI: String
    let token: String
    let metadataHost: String
    let project: String
    let serviceAccountKey: String
    let wrongSignatureKey: String
    let authorizedUser: String

    /// The running servers, emptied, with short operations (30 ms pending, 70 ms running) so the suite stays fast.
    static func start() throws -> GCPServers {
        guard let directory = ProcessInfo.processInfo.environment["GCP_SERVERS_DIR"], !directory.isEmpty else {
            throw Failure("GCP_SERVERS_DIR is not set: the GCP servers are not running. " + howToStart)
        }
        guard let data = FileManager.default.contents(atPath: directory + "/servers.json"),
              let s = try JSONSerialization.jsonObject(with: data) as? [String: Any], let files = s["files"] as? [String: String] else {
            throw Failure("\(directory)/servers.json is missing: the GCP servers are not running. " + howToStart)
        }
        let servers = GCPServers(directory: directory, front: s["front"] as? String ?? "", tokenURI: s["token_uri"] as? String ?? "",
                                 token: s["token"] as? String ?? "", metadataHost: s["metadata_host"] as? String ?? "",
                                 project: s["project"] as? String ?? "", serviceAccountKey: files["service_account_key"] ?? "",
                                 wrongSignatureKey: files["service_account_key_wrong_signature"] ?? "", authorizedUser: files["authorized_user"] ?? "")
        do {
            try servers.post("/_front/reset?servers=true")
        } catch {
            throw Failure("the GCP front at \(servers.front) does not answer (\(error)). " + howToStart)
        }
        try servers.post("/_standin/config", ["opPendingSeconds": 0.03, "opRunningSeconds": 0.07, "waitSeconds": 120])
        try servers.post("/_front/config", ["requireToken": true, "rejectInvalid": true])
        try servers.post(servers.token + "/_token/reset")
        try servers.post(servers.token + "/_token/config", ["expiresIn": 3599])
        return servers
    }

    /// A provider as a stack configures it: the front as endpoint, the service-account key, the test project.
    func provider(stack: String = "prod", settings extra: [String: AttributeValue] = [:], references: [String: SettingReference]? = nil,
                  environment: [String: String] = [:]) throws -> GCPProvider {
        var values: [String: AttributeValue] = ["project": .string(project), "region": "us-central1", "endpoint": .string(front)]
        values.merge(extra) { _, new in new }
        let settings = ProviderSettings(values: values, references: references ?? ["credentials": .file(serviceAccountKey)], section: "clouds.gcp")
        return try GCPProvider(configuration: ProviderConfiguration(stack: stack, settings: settings, workingDirectory: directory,
                                                                    environment: environment))
    }

    func context(_ kind: String, _ name: String, stack: String = "prod") -> ResourceContext {
        ResourceContext(stack: stack, address: ResourceAddress(provider: "gcp", kind: kind, name: name))
    }

    /// The configuration as the planner hands it over: owner marks added.
    func marked(_ provider: GCPProvider, _ context: ResourceContext, _ config: [String: AttributeValue]) -> [String: AttributeValue] {
        var config = config
        if config["project"] == nil, GCPProviderSchema.provider.resources[context.address.type]?.attributes["project"] != nil {
            config["project"] = .string(project)
        }
        return provider.markOwner(config, context)
    }

    // MARK: Control APIs

    @discardableResult
    func post(_ path: String, _ body: Any? = nil) throws -> Any? {
        try http("POST", path, body)
    }

    func get(_ path: String) throws -> Any? { try http("GET", path, nil) }

    func http(_ method: String, _ path: String, _ body: Any?) throws -> Any? {
        let url = path.hasPrefix("http") ? path : front + path
        var args = ["curl", "-fsS", "-X", method, url]
        if let body {
            args += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)]
        }
        let out = try Self.run(args)
        return out.isEmpty ? nil : try JSONSerialization.jsonObject(with: Data(out.utf8), options: [.fragmentsAllowed])
    }

    /// What the front rejected since the last call (and forgets it).
    func violations() throws -> [[String: Any]] {
        let answer = try get("/_front/violations") as? [String: Any]
        try post("/_front/reset")
        return answer?["violations"] as? [[String: Any]] ?? []
    }

    /// Fails the test when the front rejected any request against the discovery documents.
    func expectNoViolations(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let left = try violations()
        let text = left.map { v in "\(v["methodId"] ?? v["path"] ?? "?"): \(v["problems"] ?? v["kind"] ?? "")" }.joined(separator: "\n")
        #expect(left.isEmpty, "requests the front rejected against Google's discovery documents:\n\(text)", sourceLocation: sourceLocation)
    }

    /// Calls counted by the front, per discovery method.
    func stats() throws -> [String: Int] {
        ((try get("/_front/stats") as? [String: Any])?["byMethod"] as? [String: Int]) ?? [:]
    }

    /// The next `count` requests matching fail in Google's shape with `reason`.
    func fault(_ methodId: String, reason: String, count: Int = 1) throws {
        try post("/_front/faults", ["methodId": methodId, "reason": reason, "count": count])
    }

    func tokenStats() throws -> [String: Int] {
        (try get(token + "/_token/stats") as? [String: Int]) ?? [:]
    }

    // MARK: Google's own clients

    /// Google's Python clients (gcpclient.py): each call `["call", api, version, resource, method, argsJSON, bodyJSON?]` or
    /// `["bucket", verb, …]`; the answers in order.
    func google(_ calls: [[String]]) throws -> [Any] {
        let input = String(decoding: try JSONSerialization.data(withJSONObject: calls), as: UTF8.self)
        let out = try Self.run([Self.repository + "/.venv-gcp/bin/python", Self.repository + "/Tests/Servers/gcp/gcpclient.py", "batch"],
                               environment: ["GCP_SERVERS_DIR": directory], input: input)
        return try JSONSerialization.jsonObject(with: Data(out.utf8), options: [.fragmentsAllowed]) as? [Any] ?? []
    }

    func google(_ call: [String]) throws -> [String: Any] {
        try google([call]).first as? [String: Any] ?? [:]
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure("\(arguments.prefix(3).joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// `a.b.0.c` into nested dictionaries and arrays.
    func at(_ path: String) -> Any? {
        var current: Any? = self
        for part in path.split(separator: ".") {
            if let i = Int(part), let list = current as? [Any] { current = i < list.count ? list[i] : nil }
            else { current = (current as? [String: Any])?[String(part)] }
        }
        return current
    }
}
