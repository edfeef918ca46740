/// Talking to the state repository's `origin`: fetch, push, and the remote lock's ref. These go through the `git`
/// command line, so every transport a team uses works with its own configuration — file paths, `ssh://` with the
/// user's keys, agent, `~/.ssh/config` and known_hosts (`GIT_SSH_COMMAND` too), smart HTTP(S) with credential helpers
/// and proxies. libgit2 keeps doing everything local (objects, index, commits).

import Foundation

public struct GitCommandError: Error, Sendable, CustomStringConvertible {
    public var arguments: [String]
    public var status: Int32
    public var output: String

    public var description: String {
        "git \(arguments.joined(separator: " ")) failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

enum GitCommand {
    /// Runs `git -C directory arguments…` with a timeout; stdin from `input` (or nothing), no terminal prompts. The
    /// output goes to files, not pipes, so neither stream can block the other however much git prints.
    static func run(_ arguments: [String], in directory: String, input: String? = nil, timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        if environment["GIT_SSH_COMMAND"] == nil { environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes" }
        process.environment = environment
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("maifctl-git-\(UUID().uuidString)").path
        let files = (in: base + ".in", out: base + ".out", err: base + ".err")
        defer { for f in [files.in, files.out, files.err] { try? FileManager.default.removeItem(atPath: f) } }
        try Data((input ?? "").utf8).write(to: URL(fileURLWithPath: files.in))
        _ = FileManager.default.createFile(atPath: files.out, contents: nil)
        _ = FileManager.default.createFile(atPath: files.err, contents: nil)
        let stdin = try FileHandle(forReadingFrom: URL(fileURLWithPath: files.in))
        let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: files.out))
        let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: files.err))
        defer { try? stdin.close(); try? stdout.close(); try? stderr.close() }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
            throw GitCommandError(arguments: arguments, status: -1, output: "timed out after \(Int(timeout)) s")
        }
        let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return (process.terminationStatus, read(files.out), read(files.err))
    }

    /// Like `run`, throwing `GitCommandError` on a non-zero exit; returns stdout trimmed.
    @discardableResult
    static func check(_ arguments: [String], in directory: String, input: String? = nil, timeout: Double = 60) throws -> String {
        let r = try run(arguments, in: directory, input: input, timeout: timeout)
        guard r.status == 0 else { throw GitCommandError(arguments: arguments, status: r.status, output: r.stderr + r.stdout) }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension GitRepository {
    /// `git -C <work tree> …`.
    @discardableResult
    func git(_ arguments: [String], input: String? = nil, timeout: Double = 60) throws -> String {
        try GitCommand.check(arguments, in: workTree, input: input, timeout: timeout)
    }

    func gitResult(_ arguments: [String], timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        try GitCommand.run(arguments, in: workTree, timeout: timeout)
    }
}
