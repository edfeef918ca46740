/// End-to-end harness: the built `maifctl` run as a real process in a temporary directory per test,
/// started with Foundation `Process`, stopped by its pid, and always bounded in time.

import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

typealias Output = ProcessOutput
typealias Running = RunningProcess

/// A temporary directory that `maifctl` runs in; the local provider's root and the state live inside it.
final class Sandbox {
    let path: String
    let binary: String
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
        return try launch("/usr/bin/env", ["git"] + arguments, in: directory, environment: identity)
            .wait(timeout: 60)
    }

    private func launch(_ executable: String, _ arguments: [String], in directory: String, environment extra: [String: String]) throws -> Running {
        var env = ["NO_COLOR": "1", "MAIFCTL_STATE_KEY": ""]
        for (k, v) in environment { env[k] = v }
        for (k, v) in extra { env[k] = v }
        return try RunningProcess(executable, arguments, environment: env, in: directory.isEmpty ? path : path + "/" + directory)
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
