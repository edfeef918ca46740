/// Exec credential plugins (`client.authentication.k8s.io/v1`, and v1beta1): the kubeconfig's command is run with
/// `KUBERNETES_EXEC_INFO` describing the request, its `ExecCredential` answer gives a bearer token, and the token is
/// kept until its `expirationTimestamp` (or, without one, until the API server refuses it with a 401), as client-go does.

import Foundation
import ProviderKit
#if canImport(Glibc)
import Glibc
#endif

actor ExecCredentialCache {
    struct Cached {
        var token: String
        var expires: Date?
    }

    private var cached: Cached?
    private var running: Task<Cached, Error>?
    /// How many times the plugin ran (tests check that the token is cached).
    private(set) var runs = 0
    let exec: Kubeconfig.Exec
    let server: String
    let environment: [String: String]

    init(exec: Kubeconfig.Exec, server: String, environment: [String: String]) {
        self.exec = exec
        self.server = server
        self.environment = environment
    }

    /// A token that has not expired, running the plugin when there is none (one run at a time).
    func token(now: Date = Date()) async throws -> String {
        if let cached, cached.expires.map({ $0.timeIntervalSince(now) > 10 }) ?? true { return cached.token }
        if let running { return try await running.value.token }
        let task = Task.detached { [exec, server, environment] in try Self.run(exec, server: server, environment: environment) }
        running = task
        defer { running = nil }
        let fresh = try await task.value
        runs += 1
        cached = fresh
        return fresh.token
    }

    /// Forgets the token (after a 401), so the next request runs the plugin again.
    func invalidate() { cached = nil }

    /// Runs the plugin (bounded to 60 s) and reads its ExecCredential.
    static func run(_ exec: Kubeconfig.Exec, server: String, environment: [String: String]) throws -> Cached {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable(exec, environment: environment))
        process.arguments = exec.args
        var env = environment
        for (name, value) in exec.env { env[name] = value }
        var spec: [String: AttributeValue] = ["interactive": false]
        if exec.provideClusterInfo { spec["cluster"] = .map(["server": .string(server)]) }
        env["KUBERNETES_EXEC_INFO"] = AttributeValue.map([
            "apiVersion": .string(exec.apiVersion), "kind": "ExecCredential", "spec": .map(spec),
        ]).canonicalJSON(indent: nil)
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw KubeconfigError(message: "the exec credential plugin \(exec.command) could not be started: \(error)")
        }
        // Read both pipes while the plugin runs, so a chatty plugin cannot block on a full pipe.
        let stdoutData = LockedData(), stderrData = LockedData()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, stdoutData), (err, stderrData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            group.wait()
            throw KubeconfigError(message: "the exec credential plugin \(exec.command) did not finish within 60 s")
        }
        process.waitUntilExit()
        group.wait()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: stderrData.get(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let short = message.count > 300 ? String(message.prefix(300)) + "…" : message
            throw KubeconfigError(message: "the exec credential plugin \(exec.command) exited with status \(process.terminationStatus)"
                                  + (short.isEmpty ? "" : ": \(short)"))
        }
        guard let value = try? JSONDecoder().decode(AttributeValue.self, from: stdoutData.get()), let m = value.mapValue,
              m["kind"]?.stringValue == "ExecCredential" else {
            throw KubeconfigError(message: "the exec credential plugin \(exec.command) did not print an ExecCredential")
        }
        if let version = m["apiVersion"]?.stringValue, version != exec.apiVersion {
            throw KubeconfigError(message: "the exec credential plugin \(exec.command) answered with \(version), the kubeconfig asks for \(exec.apiVersion)")
        }
        let status = m["status"]?.mapValue ?? [:]
        guard let token = status["token"]?.stringValue, !token.isEmpty else {
            if status["clientCertificateData"] != nil {
                throw KubeconfigError(message: "the exec credential plugin \(exec.command) returned a client certificate; maifctl takes tokens from exec plugins only")
            }
            throw KubeconfigError(message: "the exec credential plugin \(exec.command) returned no token")
        }
        let expires = status["expirationTimestamp"]?.stringValue.flatMap(Timestamps.parse)
        return Cached(token: token, expires: expires)
    }

    /// The command as kubectl finds it: a path with a slash relative to the kubeconfig's folder, else on PATH.
    static func executable(_ exec: Kubeconfig.Exec, environment: [String: String]) throws -> String {
        let command = exec.command
        if command.contains("/") {
            let path = command.hasPrefix("/") ? command : exec.directory + "/" + command
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        } else {
            for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
                let path = "\(dir)/\(command)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        throw KubeconfigError(message: "the exec credential plugin \(command) was not found" + (exec.installHint.map { ": \($0)" } ?? ""))
    }
}

/// Bytes written by one thread and read by another.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

enum Timestamps {
    /// RFC 3339, with or without fractional seconds.
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
