/// End-to-end harness: the built `maifctl` run as a real process in a temporary directory per test,
/// started with Foundation `Process`, stopped by its pid, and always bounded in time.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What a finished process printed and how it exited.
struct Output: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    /// True when the harness had to kill it because it ran past its time limit.
    var timedOut = false
    var seconds: Double = 0

    var all: String { stdout + "\n" + stderr }
    var description: String {
        "exit \(status)\(timedOut ? " (killed: timed out)" : "") after \(String(format: "%.2f", seconds))s\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
    }
}

enum MaifctlBinary {
    /// `maifctl` sits in the build folder next to the test bundle (the test target depends on it, so it is built first).
    static func locate() throws -> URL {
        final class Marker {}
        var starts = [Bundle(for: Marker.self).bundleURL, Bundle.main.bundleURL]
        if let first = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: first)) }
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent("maifctl")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                   FileManager.default.isExecutableFile(atPath: candidate.path) {
                    return candidate
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw NotBuilt(searched: starts.map(\.path))
    }

    struct NotBuilt: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "the maifctl executable was not found in the build folder of the tests (searched upward from "
                + searched.joined(separator: ", ") + "); build it first: swift build --build-tests --scratch-path <same path>"
        }
    }
}

/// A process started in the background, to be killed at a chosen moment or waited for.
final class Running {
    let process: Process
    let started: Date
    private let outPath: String, errPath: String
    private let outHandle: FileHandle, errHandle: FileHandle

    init(process: Process, outPath: String, errPath: String, outHandle: FileHandle, errHandle: FileHandle) {
        self.process = process
        self.outPath = outPath
        self.errPath = errPath
        self.outHandle = outHandle
        self.errHandle = errHandle
        started = Date()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stderrSoFar: String { String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self) }

    /// Sends `signal` to this process only, by pid. Returns whether it was still running.
    @discardableResult
    func kill(_ signal: Int32 = SIGKILL) -> Bool {
        guard process.isRunning else { return false }
        return Glibc.kill(pid, signal) == 0
    }

    /// Waits for the exit; past `timeout` seconds the process is SIGKILLed and the output says so.
    func wait(timeout: Double = 60) -> Output {
        let deadline = started.addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() >= deadline {
                timedOut = true
                Glibc.kill(pid, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        let text = { (p: String) in String(decoding: FileManager.default.contents(atPath: p) ?? Data(), as: UTF8.self) }
        let output = Output(status: process.terminationStatus, stdout: text(outPath), stderr: text(errPath), timedOut: timedOut,
                            seconds: Date().timeIntervalSince(started))
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
        return output
    }
}

/// A temporary directory that `maifctl` runs in; the local provider's root and the state live inside it.
final class Sandbox {
    let path: String
    let binary: URL
    /// Added to every process's environment (e.g. a secret for `${env.X}`).
    var environment: [String: String] = [:]

    init(_ name: String) throws {
        binary = try MaifctlBinary.locate()
        let dir = NSTemporaryDirectory() + "maifctl-safety-\(name)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func url(_ relative: String) -> URL { URL(fileURLWithPath: path + "/" + relative) }

    func write(_ relative: String, _ text: String) throws {
        let url = url(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: url(relative).path).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: url(relative).path) }

    /// Every regular file below `relative` (recursively), as relative path → content.
    func files(under relative: String, skippingGit: Bool = true) -> [String: String] {
        let base = url(relative).path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [:] }
        var out: [String: String] = [:]
        while let item = enumerator.nextObject() as? String {
            if skippingGit && (item == ".git" || item.hasPrefix(".git/")) { enumerator.skipDescendants(); continue }
            if let type = enumerator.fileAttributes?[.type] as? FileAttributeType, type != .typeRegular { continue }
            out[item] = String(decoding: FileManager.default.contents(atPath: base + "/" + item) ?? Data(), as: UTF8.self)
        }
        return out
    }

    /// Starts `maifctl arguments…` in `directory` (relative to the sandbox) with stdin at /dev/null.
    func start(_ arguments: [String], in directory: String = "", environment extra: [String: String] = [:]) throws -> Running {
        try launch(binary, arguments, in: directory, environment: extra)
    }

    /// Runs `maifctl arguments…` to the end (killed after `timeout` seconds).
    func maifctl(_ arguments: [String], in directory: String = "", environment extra: [String: String] = [:],
                 timeout: Double = 60) throws -> Output {
        try start(arguments, in: directory, environment: extra).wait(timeout: timeout)
    }

    /// Runs the `git` command line with a fixed identity, in `directory` (relative to the sandbox).
    @discardableResult
    func git(_ arguments: [String], in directory: String) throws -> Output {
        let identity = ["GIT_AUTHOR_NAME": "tester", "GIT_AUTHOR_EMAIL": "tester@example.invalid",
                        "GIT_COMMITTER_NAME": "tester", "GIT_COMMITTER_EMAIL": "tester@example.invalid",
                        "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"]
        return try launch(URL(fileURLWithPath: "/usr/bin/env"), ["git"] + arguments, in: directory, environment: identity)
            .wait(timeout: 60)
    }

    private func launch(_ executable: URL, _ arguments: [String], in directory: String, environment extra: [String: String]) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.isEmpty ? path : path + "/" + directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["MAIFCTL_STATE_KEY"] = nil
        for (k, v) in environment { env[k] = v }
        for (k, v) in extra { env[k] = v }
        process.environment = env
        // Files, not pipes: a chatty process can never block on a full pipe.
        let id = UUID().uuidString
        let out = path + "/.out-" + id, err = path + "/.err-" + id
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        return Running(process: process, outPath: out, errPath: err, outHandle: outHandle, errHandle: errHandle)
    }

    /// Polls `condition` every few milliseconds until it holds or `timeout` seconds pass.
    @discardableResult
    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }
}

/// Every test gets its own sandbox, removed afterwards (kept when MAIFCTL_KEEP_SANDBOX is set, for debugging).
class SandboxTestCase: XCTestCase {
    private(set) var sandbox: Sandbox!

    override func setUpWithError() throws {
        do {
            sandbox = try Sandbox(String(describing: type(of: self)))
        } catch {
            XCTFail("\(error)")
            throw error
        }
    }

    override func tearDown() {
        if ProcessInfo.processInfo.environment["MAIFCTL_KEEP_SANDBOX"] == nil {
            sandbox?.remove()
        } else if let sandbox {
            print("sandbox kept at \(sandbox.path)")
        }
        super.tearDown()
    }

    /// Asserts an exit status, printing the whole run when it differs.
    func expect(_ output: Output, exit status: Int32, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(output.status, status, "\(what): \(output)", file: file, line: line)
    }

    /// `git fsck` of a repository must be clean (dangling objects of a killed commit are not corruption).
    func assertRepositoryIntact(_ directory: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fsck = try sandbox.git(["fsck", "--strict", "--no-dangling", "--no-progress"], in: directory)
        XCTAssertEqual(fsck.status, 0, "git fsck of \(directory): \(fsck)", file: file, line: line)
        XCTAssertFalse(fsck.all.contains("error") || fsck.all.contains("missing") || fsck.all.contains("broken"),
                       "git fsck of \(directory) reported problems: \(fsck)", file: file, line: line)
    }

    /// The resource addresses recorded in the work tree of a state directory, read from the canonical files.
    func recordedAddresses(state: String, stack: String) -> Set<String> {
        Set(sandbox.files(under: "\(state)/\(stack)/resources").keys.filter { $0.hasSuffix(".json") }.map { path in
            String(path.dropLast(".json".count)).replacingOccurrences(of: "/", with: ".")
        })
    }
}

/// SplitMix64: a tiny seeded generator, so a failing run of a randomized test can be replayed exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
