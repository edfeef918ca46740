/// The test swarm that scripts/dockerd.sh starts (a manager, and a worker in its own network namespace), reached
/// through `DOCKER_TEST_HOST`; the built `maifctl` run against it in a temporary directory; the docker CLI to check.

import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

typealias Output = ProcessOutput

struct LabError: Error, CustomStringConvertible {
    var description: String
}

enum Command {
    /// Runs a program to the end, killing it (by its pid) after `timeout` seconds; an empty value in `environment`
    /// removes the variable.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil,
                    timeout: Double = 120) throws -> Output {
        try RunningProcess.run(executable, arguments, environment: environment, in: directory, timeout: timeout)
    }
}

struct SwarmLab {
    static let hostVariable = "DOCKER_TEST_HOST"
    static let howToStart = """
        start it with `bash scripts/dockerd.sh start .build/dockerd` and export \(hostVariable)=unix://$PWD/.build/dockerd/docker.sock \
        (scripts/test.sh does both, and stops it afterwards with `bash scripts/dockerd.sh stop .build/dockerd`)
        """

    /// `unix:///…/docker.sock` of the manager.
    let host: String
    let docker: String

    /// The repository checkout these tests belong to.
    static var root: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The swarm, or an error that says how to start one: these tests fail without it, they never skip.
    static func connect() throws -> SwarmLab {
        guard let host = ProcessInfo.processInfo.environment[hostVariable], !host.isEmpty else {
            throw LabError(description: "the swarm integration tests need a Docker swarm and \(hostVariable) is not set: \(howToStart)")
        }
        let docker = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let docker else { throw LabError(description: "no docker CLI (apt-get install -y docker.io)") }
        let lab = SwarmLab(host: host, docker: docker)
        let info = try Command.run(docker, ["-H", host, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"], timeout: 20)
        guard info.status == 0, info.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "active true" else {
            throw LabError(description: "no swarm manager answers at \(hostVariable)=\(host) (\(info.all.trimmingCharacters(in: .whitespacesAndNewlines))): \(howToStart)")
        }
        return lab
    }

    /// The worker daemon's socket, beside the manager's (scripts/dockerd.sh's layout).
    var workerHost: String { host.replacingOccurrences(of: "/docker.sock", with: "/worker-1/docker.sock") }

    /// The directory scripts/dockerd.sh keeps its files in.
    var directory: String { String(host.dropFirst("unix://".count).dropLast("/docker.sock".count)) }

    /// The manager's TLS listener and the client certificates for it (ca.pem, cert.pem, key.pem).
    func tls() throws -> (host: String, certPath: String, serverCA: String) {
        let port = try String(contentsOfFile: directory + "/tls/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return ("tcp://127.0.0.1:\(port)", directory + "/tls/client", directory + "/tls/ca.pem")
    }

    /// `docker -H host args…`; throws with the output unless it exits 0.
    @discardableResult
    func docker(_ arguments: [String], host: String? = nil) throws -> String {
        let result = try Command.run(docker, ["-H", host ?? self.host] + arguments, timeout: 60)
        guard result.status == 0 else { throw LabError(description: "docker \(arguments.joined(separator: " ")): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func lines(_ arguments: [String]) throws -> [String] {
        try docker(arguments).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// `docker … inspect` of one object, as JSON.
    func inspect(_ kind: String, _ name: String, _ path: String = "{{json .}}") throws -> Any {
        let text = try docker([kind, "inspect", "--format", path, name])
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// Names of the objects of a kind (service, config, secret, network, volume) labelled with this stack.
    func labelled(_ kind: String, stack: String = "swarm", host: String? = nil) throws -> [String] {
        try docker([kind, "ls", "--filter", "label=maif.stack=\(stack)", "--format", "{{.Name}}"], host: host)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }.sorted()
    }

    /// Removes whatever an earlier (failed) test left: services first, then what they used, then the copies of the
    /// volume that tasks made on the worker node (node-local, so no manager call reaches them).
    func removeLeftovers(stack: String = "swarm") throws {
        let services = try labelled("service", stack: stack)
        if !services.isEmpty { try docker(["service", "rm"] + services) }
        for (kind, host) in [("config", host), ("secret", host), ("network", host), ("volume", host), ("volume", workerHost)] {
            for _ in 0..<60 {
                let names = try labelled(kind, stack: stack, host: host)
                if names.isEmpty { break }
                let result = try Command.run(docker, ["-H", host, kind, "rm"] + names, timeout: 30)
                if result.status == 0 { break }
                usleep(500_000)  // tasks of removed services still let go of networks and volumes
            }
        }
    }

    /// The certificate material of `security.tls`, as an operator puts it in the swarm (`docker secret create`):
    /// the stack refers to these secrets by name and never creates them. Labelled `maif.test=tls-material`, not as
    /// the stack's. The contents stand in for PEM files (the stand-in image reads nothing).
    static let tlsSecrets = ["maif-tls-cert", "maif-tls-key", "maif-tls-ca"]

    func createTLSSecrets(in directory: String) throws {
        let existing = Set(try lines(["secret", "ls", "--format", "{{.Name}}"]))
        for name in Self.tlsSecrets where !existing.contains(name) {
            let file = directory + "/\(name).pem"
            try Data("-----BEGIN TEST \(name)-----\n".utf8).write(to: URL(fileURLWithPath: file))
            try docker(["secret", "create", "--label", "maif.test=tls-material", name, file])
        }
    }

    /// Removes them (once no service mounts them).
    func removeTLSSecrets() throws {
        let names = try lines(["secret", "ls", "--filter", "label=maif.test=tls-material", "--format", "{{.Name}}"])
        if !names.isEmpty { _ = try Command.run(docker, ["-H", host, "secret", "rm"] + names, timeout: 30) }
    }

    /// Roles of the nodes the running tasks of a service are on.
    func nodeRoles(ofRunningTasks service: String) throws -> [String] {
        let tasks = try lines(["service", "ps", "-q", "--filter", "desired-state=running", service])
        return try tasks.map { task in
            let node = try docker(["inspect", "--type", "task", "--format", "{{.NodeID}}", task])
            return try docker(["node", "inspect", "--format", "{{.Spec.Role}}", node])
        }.sorted()
    }

    /// States of a service's tasks that should be running, e.g. ["running", "running"].
    func taskStates(_ service: String) throws -> [String] {
        try lines(["service", "ps", "--filter", "desired-state=running", "--format", "{{.CurrentState}}", service])
            .map { $0.split(separator: " ").first.map { String($0).lowercased() } ?? "" }
    }
}

/// A temporary directory where `maifctl` runs with its state, against the lab's swarm.
final class Workdir {
    let path: String
    let binary: String
    let environment: [String: String]

    init(_ lab: SwarmLab, name: String) throws {
        binary = try MaifctlBinary.locate()
        let dir = NSTemporaryDirectory() + "maifctl-swarm-\(name)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        // DOCKER_HOST overrides the stack's clouds.swarm.host, as it overrides a docker context.
        environment = ["DOCKER_HOST": lab.host, "NO_COLOR": "1", "AWS_ACCESS_KEY_ID": "AKIDSWARMTEST0000001",
                       "AWS_SECRET_ACCESS_KEY": "swarm-test-secret-value-never-in-state"]
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    var stackFile: String { SwarmLab.root.appendingPathComponent("stacks/swarm.yaml").path }

    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// `maifctl <command> stacks/swarm.yaml [overlays…] --state state --target swarm`: the stack's S3 bucket is not
    /// this suite's business.
    func maifctl(_ command: [String], overlays: [String] = [], target: String = "swarm", environment more: [String: String] = [:],
                 timeout: Double = 240) throws -> Output {
        var env = environment
        env["MAIFCTL_STATE_KEY"] = ""  // removed: the state's own lineage keys the hashes, as for a new user
        for (k, v) in more { env[k] = v }
        return try Command.run(binary, command + [stackFile] + overlays + ["--state", "state", "--target", target],
                               environment: env, in: path, timeout: timeout)
    }

    /// Starts `maifctl` like `maifctl(_:)` without waiting for it; its output is thrown away.
    func start(_ command: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = command + [stackFile, "--state", "state", "--target", "swarm"]
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["MAIFCTL_STATE_KEY"] = nil
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Every file of the state directory, concatenated (for "never in state" checks).
    func stateText() -> String {
        var text = ""
        let base = path + "/state"
        guard let items = FileManager.default.enumerator(atPath: base) else { return "" }
        while let item = items.nextObject() as? String {
            if item == ".git" || item.hasPrefix(".git/") { continue }
            if let data = FileManager.default.contents(atPath: base + "/" + item) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }
}
