/// Git servers for the remote-state tests, on loopback, started and stopped by PID: a smart-HTTP server
/// (`git http-backend` behind Tests/Servers/git-http/server.py) and an OpenSSH server (scripts/sshd-hosts.sh).

import Foundation
import TestSupport
import XCTest

private let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct ServerFailure: Error, CustomStringConvertible { var description: String }

/// Serves every repository under `root` over smart HTTP, pushes included.
final class GitHTTPServer {
    let process: RunningProcess
    let port: Int

    private init(process: RunningProcess, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(root: String) throws -> GitHTTPServer {
        let portFile = root + "/git-http.port"
        let script = repository.appendingPathComponent("Tests/Servers/git-http/server.py").path
        let process = try RunningProcess("/usr/bin/env", ["python3", script, root, portFile], environment: [:], in: root)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                return GitHTTPServer(process: process, port: port)
            }
            guard process.isRunning else { throw ServerFailure(description: "the git HTTP server exited: \(process.wait())") }
            usleep(20_000)
        }
        _ = process.kill()
        throw ServerFailure(description: "the git HTTP server wrote no port within 15 s")
    }

    func stop() {
        _ = process.kill(SIGTERM)
        _ = process.wait(timeout: 5)
    }
}

/// One sshd on 127.0.0.2, reached with its own client key and known_hosts.
struct SSHServer {
    let directory: String
    let address = "127.0.0.2"
    /// Not the on-prem tests' ports (2222…), and not one a server another test left behind still holds.
    let port = Int.random(in: 24000...28000)

    static var script: String { repository.appendingPathComponent("scripts/sshd-hosts.sh").path }

    static func start(directory: String) throws -> SSHServer {
        let server = SSHServer(directory: directory)
        let started = try RunningProcess("/bin/bash", [script, "start", "1", directory], environment: ["PORT": String(server.port)],
                                         in: NSTemporaryDirectory()).wait(timeout: 120)
        guard started.status == 0 else {
            server.stop()
            throw ServerFailure(description: "scripts/sshd-hosts.sh start 1 \(directory) failed: \(started)")
        }
        return server
    }

    /// What git runs to reach it (GIT_SSH_COMMAND).
    var sshCommand: String {
        "ssh -i \(directory)/id_ed25519 -o UserKnownHostsFile=\(directory)/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath=/tmp/maif-git-ssh-\(port)-%C -o ControlPersist=20"
    }

    func stop() {
        _ = try? RunningProcess("/bin/bash", [Self.script, "stop", directory], environment: [:], in: NSTemporaryDirectory()).wait(timeout: 30)
        // And by its PID file directly, should the script not have recognised it.
        if let pid = (try? String(contentsOfFile: directory + "/sshd-\(address).pid", encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(pid, SIGTERM)
        }
    }
}
