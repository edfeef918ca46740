/// Test hosts: sshd processes on loopback addresses, started and stopped (by PID) through scripts/sshd-hosts.sh.

import Foundation
import ProviderKit
import TestSupport
@testable import OnPremProvider

struct SSHLab: Sendable {
    var directory: String
    var hosts: [String]
    var port: Int
    /// Where each host's files go (the provider's `root` setting with `{host}`).
    var filesRoot: String

    static var script: String {
        // The test file may be reached through a symlinked checkout; the script sits next to the real one.
        let file = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        return file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/sshd-hosts.sh").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func start(count: Int, port: Int) throws -> SSHLab {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maif-sshd-\(port)-\(UUID().uuidString.prefix(8))").path
        let result = run("/bin/bash", [script, "start", String(count), dir], environment: ["PORT": String(port)])
        guard result.status == 0 else {
            _ = run("/bin/bash", [script, "stop", dir])
            throw Failure(description: "scripts/sshd-hosts.sh start \(count) \(dir) failed (exit \(result.status)): \(result.output)")
        }
        let hosts = ((try? String(contentsOfFile: dir + "/hosts", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        return SSHLab(directory: dir, hosts: hosts, port: port, filesRoot: dir + "/fs")
    }

    func stop() {
        _ = Self.run("/bin/bash", [Self.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    func stopHost(_ host: String) throws {
        let result = Self.run("/bin/bash", [Self.script, "stop-one", directory, host])
        guard result.status == 0 else { throw Failure(description: "cannot stop \(host): \(result.output)") }
    }

    func root(_ host: String) -> String { "\(filesRoot)/\(host)" }

    /// Per host, how many ssh connections its sshd has accepted so far (from its log).
    func acceptedConnections() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for host in hosts {
            let log = try String(contentsOfFile: "\(directory)/sshd-\(host).log", encoding: .utf8)
            counts[host] = log.components(separatedBy: "Accepted publickey").count - 1
        }
        return counts
    }

    func provider(_ overrides: [String: AttributeValue] = [:]) throws -> OnPremProvider {
        try OnPremProvider(configuration: ProviderConfiguration(stack: "hybrid", settings: settings(overrides), workingDirectory: directory))
    }

    /// The lab's settings as a stack would give them: the key by file reference.
    func settings(_ overrides: [String: AttributeValue] = [:]) -> ProviderSettings {
        var values: [String: AttributeValue] = [
            "user": "root", "port": .int(Int64(port)),
            "known_hosts": .string(directory + "/known_hosts"), "strict_host_key_checking": true,
            "root": .string(filesRoot + "/{host}"), "connect_timeout": 3,
        ]
        values.merge(overrides) { $1 }
        return ProviderSettings(values: values, references: ["key": .file(directory + "/id_ed25519")], section: "clouds.onprem")
    }

    /// Runs a command on a test host with a plain ssh of its own (not the provider's connection).
    func ssh(_ host: String, _ command: String) throws -> String {
        let result = Self.run("/usr/bin/ssh", [
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(directory)/known_hosts",
            "-o", "LogLevel=ERROR", "-i", directory + "/id_ed25519", "-p", String(port), "root@\(host)", command,
        ])
        guard result.status == 0 else { throw Failure(description: "ssh \(host) \(command): exit \(result.status): \(result.output)") }
        return result.output
    }

    /// Runs a program to the end (killed after 5 minutes); its standard output, then its standard error.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, output: String) {
        do {
            let output = try RunningProcess.run(executable, arguments, environment: environment, timeout: 300)
            return (output.status, output.stdout + output.stderr)
        } catch {
            return (-1, "\(executable): \(error)")
        }
    }
}
