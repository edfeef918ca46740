import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// The moto server the tests run against: `MOTO_ENDPOINT`, set by `.ci/run` after `scripts/moto.sh start`.
enum Moto {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let credentials = AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing", source: "test credentials")

    static func endpoint() throws -> String {
        guard let endpoint = ProcessInfo.processInfo.environment["MOTO_ENDPOINT"] else {
            throw Failure("MOTO_ENDPOINT is not set. Start moto with `scripts/moto.sh start /tmp/moto.port /tmp/moto.pid` and run "
                          + "`MOTO_ENDPOINT=http://127.0.0.1:$(cat /tmp/moto.port) swift test --filter AWSIntegrationTests`")
        }
        guard (try? run(["curl", "-fsS", "\(endpoint)/moto-api/"])) != nil else {
            throw Failure("moto is not answering at \(endpoint) (MOTO_ENDPOINT); start it with `scripts/moto.sh start PORTFILE PIDFILE`")
        }
        return endpoint
    }

    /// A provider against a freshly reset moto.
    static func provider(stack: String = "prod") throws -> (AWSProvider, String) {
        let endpoint = try endpoint()
        _ = try run(["curl", "-fsS", "-X", "POST", "\(endpoint)/moto-api/reset"])
        let settings = AWSSettings(region: "us-east-1", endpoint: URL(string: endpoint), credentials: .success(credentials))
        return (AWSProvider(client: AWSClient(settings: settings), stack: stack), endpoint)
    }

    /// The AWS CLI against moto, its JSON output parsed.
    static func cli(_ endpoint: String, _ arguments: [String]) throws -> Any {
        let out = try run(["aws", "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json"] + arguments,
                          environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_PAGER": ""])
        return out.isEmpty ? [:] as [String: Any] : try JSONSerialization.jsonObject(with: Data(out.utf8))
    }

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure("\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func context(_ kind: String, _ name: String, stack: String = "prod") -> ResourceContext {
        ResourceContext(stack: stack, address: ResourceAddress(provider: "aws", kind: kind, name: name))
    }

    /// Tags as the planner adds them.
    static func tags(_ context: ResourceContext, _ extra: [String: String] = [:]) -> AttributeValue {
        var m: [String: AttributeValue] = ["maif:stack": .string(context.stack), "maif:address": .string(context.address.description)]
        for (k, v) in extra { m[k] = .string(v) }
        return .map(m)
    }

    static func tagList(_ value: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for tag in value as? [[String: Any]] ?? [] { out[tag["Key"] as? String ?? ""] = tag["Value"] as? String }
        return out
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
