/// Running shell scripts on a host through the system OpenSSH client, in batch mode, with one multiplexed
/// connection per host (ControlMaster/ControlPersist) so that many resources on a host cost one handshake.

import Foundation

/// How to reach one host: what `ssh` needs on its command line.
struct SSHTarget: Sendable, Hashable, CustomStringConvertible {
    var address: String
    var port: Int
    var user: String
    var jumpHost: String?
    /// Run the scripts through `sudo -n` (the user is not root).
    var become: Bool

    var description: String { "\(user)@\(address):\(port)" }
}

/// Client-side settings shared by every connection.
struct SSHClientOptions: Sendable {
    var identityFile: String?
    var knownHostsFile: String?
    var strictHostKeyChecking: Bool
    /// An OpenSSH client configuration file, passed with -F (host aliases, HostName, per-host options).
    var configFile: String? = nil
    var connectTimeout: Int
    /// Where the control sockets live; kept short because a unix socket path is limited to ~100 bytes.
    var controlDirectory: String
    /// A private key from an environment variable, written to `identityFile` on first use.
    var keyMaterial: String?
}

/// What a remote script printed and how it ended.
struct SSHResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: String

    var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// A failure to reach a host or to run a script on it, with the host, the port and ssh's (or the script's) own words.
struct SSHError: Error, Sendable, CustomStringConvertible {
    var target: SSHTarget
    /// True when ssh itself failed (exit status 255: connection, authentication or host key), not the script.
    var unreachable: Bool
    var message: String

    var description: String {
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if unreachable { return "host \(target.address) port \(target.port) unreachable over ssh as \(target.user): \(text)" }
        return "on host \(target.address) port \(target.port): \(text)"
    }
}

/// Counts ssh processes and new connections per host, for the apply's closing note.
final class SSHStatistics: @unchecked Sendable {
    private let lock = NSLock()
    private var commands: [String: Int] = [:]
    private var connections: [String: Int] = [:]

    func record(_ target: SSHTarget, newConnection: Bool) {
        lock.lock(); defer { lock.unlock() }
        commands["\(target.address):\(target.port)", default: 0] += 1
        if newConnection { connections["\(target.address):\(target.port)", default: 0] += 1 }
    }

    /// Per "address:port": how many ssh commands ran and how many of them had to open a connection.
    var snapshot: (commands: [String: Int], connections: [String: Int]) {
        lock.lock(); defer { lock.unlock() }
        return (commands, connections)
    }
}

struct SSHClient: Sendable {
    var options: SSHClientOptions
    let statistics = SSHStatistics()
    let gates = ConnectionGates()

    /// The control socket for a target; ssh's own %C would hide it, and we want to know whether it exists.
    func controlPath(_ target: SSHTarget) -> String {
        let key = "\(target.user)@\(target.address):\(target.port):\(target.jumpHost ?? "")"
        var hash: UInt64 = 14695981039346656037
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        return "\(options.controlDirectory)/\(String(hash, radix: 36))"
    }

    func arguments(_ target: SSHTarget) -> [String] {
        var args = options.configFile.map { ["-F", $0] } ?? []
        args += [
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=\(options.connectTimeout)",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
            "-o", "ControlMaster=auto", "-o", "ControlPath=\(controlPath(target))", "-o", "ControlPersist=60",
            "-o", "LogLevel=ERROR",
            "-p", String(target.port), "-l", target.user,
        ]
        if options.strictHostKeyChecking {
            args += ["-o", "StrictHostKeyChecking=yes"]
            if let known = options.knownHostsFile { args += ["-o", "UserKnownHostsFile=\(known)"] }
        } else {
            args += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        }
        if let key = options.identityFile { args += ["-i", key, "-o", "IdentitiesOnly=yes"] }
        if let jump = target.jumpHost { args += ["-J", jump] }
        return args
    }

    /// Runs a POSIX shell script on the host, feeding `input` on its standard input; throws only when ssh itself fails.
    func run(_ target: SSHTarget, script: String, input: Data? = nil) async throws -> SSHResult {
        let remote = target.become ? "sudo -n sh -c \(shellQuote(script))" : "sh -c \(shellQuote(script))"
        try prepare()
        let socket = controlPath(target)
        // The first command to a host opens the shared connection; the others wait for it instead of each making
        // a handshake of its own (ControlMaster=auto alone lets every command that starts before the socket
        // exists open its own connection).
        var opens = false
        if !FileManager.default.fileExists(atPath: socket) { opens = await gates.enter(socket) }
        let newConnection = !FileManager.default.fileExists(atPath: socket)
        statistics.record(target, newConnection: newConnection)
        let result: SSHResult
        do {
            result = try await Self.execute("/usr/bin/ssh", arguments(target) + [target.address, remote], input: input)
        } catch {
            if opens { await gates.opened(socket) }
            throw error
        }
        if opens { await gates.opened(socket) }
        if result.status == 255 {
            throw SSHError(target: target, unreachable: true, message: result.stderr.isEmpty ? "ssh exited with status 255" : result.stderr)
        }
        return result
    }

    /// The control directory (and key file) are made on first use, so commands that never reach a host leave nothing.
    func prepare() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: options.controlDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let key = options.keyMaterial, let file = options.identityFile, !fm.fileExists(atPath: file) {
            guard fm.createFile(atPath: file, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw SSHConfigurationError(message: "cannot write the ssh key to \(file)")
            }
        }
    }

    /// Like `run`, but a non-zero exit of the script is an error carrying its standard error.
    func check(_ target: SSHTarget, script: String, input: Data? = nil) async throws -> SSHResult {
        let result = try await run(target, script: script, input: input)
        guard result.status == 0 else {
            throw SSHError(target: target, unreachable: false,
                           message: "remote command failed (exit \(result.status)): \(result.stderr.isEmpty ? result.output : result.stderr)")
        }
        return result
    }

    /// Closes the host's shared connection (the master would otherwise linger for ControlPersist seconds).
    func close(_ target: SSHTarget) async {
        guard FileManager.default.fileExists(atPath: controlPath(target)) else { return }
        _ = try? await Self.execute("/usr/bin/ssh", arguments(target) + ["-O", "exit", target.address], input: nil)
    }

    /// Closes every shared connection whose socket is in the control directory.
    func closeAll() async {
        let sockets = (try? FileManager.default.contentsOfDirectory(atPath: options.controlDirectory)) ?? []
        let directory = options.controlDirectory
        await withTaskGroup(of: Void.self) { group in
            for socket in sockets where socket != "key" {
                group.addTask {
                    _ = try? await Self.execute("/usr/bin/ssh", ["-o", "ControlPath=\(directory)/\(socket)", "-O", "exit", "maif-host"], input: nil)
                }
            }
        }
    }

    /// Standard streams go through files, not pipes: a ControlPersist master forks into the background and
    /// could keep a pipe open for its whole lifetime.
    static func execute(_ executable: String, _ arguments: [String], input: Data?) async throws -> SSHResult {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("maif-ssh-io-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let inURL = scratch.appendingPathComponent("in"), outURL = scratch.appendingPathComponent("out"),
            errURL = scratch.appendingPathComponent("err")
        try (input ?? Data()).write(to: inURL)
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let stdin = try FileHandle(forReadingFrom: inURL), stdout = try FileHandle(forWritingTo: outURL),
            stderr = try FileHandle(forWritingTo: errURL)
        defer { try? stdin.close(); try? stdout.close(); try? stderr.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let out = (try? Data(contentsOf: outURL)) ?? Data()
        let err = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return SSHResult(status: status, stdout: out, stderr: err.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// One opener per shared connection: the first command to a host goes ahead, the others wait until it has finished
/// (the connection is then open, or the host is known to be unreachable and each command reports that itself).
actor ConnectionGates {
    private enum Gate { case opening([CheckedContinuation<Void, Never>]), done }
    private var gates: [String: Gate] = [:]

    /// True when the caller opens the connection (and must call `opened`); false after waiting for the opener.
    func enter(_ key: String) async -> Bool {
        switch gates[key] {
        case nil:
            gates[key] = .opening([])
            return true
        case .done?:
            return false
        case .opening?:
            await withCheckedContinuation { continuation in
                if case .opening(let waiting)? = gates[key] {
                    gates[key] = .opening(waiting + [continuation])
                } else {
                    continuation.resume()
                }
            }
            return false
        }
    }

    func opened(_ key: String) {
        guard case .opening(let waiting)? = gates[key] else { return }
        gates[key] = .done
        for continuation in waiting { continuation.resume() }
    }
}

/// Single-quotes a word for a POSIX shell.
func shellQuote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
