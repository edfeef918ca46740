/// Runs the built `maifctl` end to end, in a temporary working directory, with no terminal attached.

import Foundation
import XCTest

struct Run: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }

    /// stdout with runs of whitespace (help text wraps at 80 columns) collapsed to one space.
    var flatStdout: String { stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
}

enum Maifctl {
    /// The `maifctl` of the build the tests belong to: next to the test bundle, in the same build folder.
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["MAIFCTL_BIN"] {
            guard FileManager.default.isExecutableFile(atPath: path) else { throw NotBuilt(searched: ["MAIFCTL_BIN=\(path)"]) }
            return URL(fileURLWithPath: path)
        }
        var starts = [Bundle.main.bundleURL, Bundle(for: BundleMarker.self).bundleURL]
        if let first = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<5 {
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
            "maifctl is not built next to the tests (searched upward from \(searched.joined(separator: ", "))); "
                + "run `swift build --build-tests` with the same --scratch-path first, or set MAIFCTL_BIN"
        }
    }

    private final class BundleMarker {}
}

/// A temporary working directory with stack files in it; `maifctl` runs there, so `state/` and
/// the local provider's folders land inside it.
struct Workdir: Sendable {
    let path: String

    static func make() throws -> Workdir {
        let path = NSTemporaryDirectory() + "maifctl-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return Workdir(path: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        return name
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path + "/" + relative) }

    /// Runs `maifctl arguments…` here with stdin at /dev/null (not a terminal) and the output captured.
    func maifctl(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Run {
        try run(Maifctl.executable(), arguments, environment: extra)
    }

    /// Runs `maifctl` under a pseudo-terminal (`script`), so it behaves as on a developer's screen.
    func maifctlOnATerminal(_ arguments: [String]) throws -> Run {
        let command = ([try Maifctl.executable().path] + arguments).map(shellQuoted).joined(separator: " ")
        return try run(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"], environment: ["TERM": "xterm"])
    }

    func git(_ arguments: [String]) throws -> String {
        let r = try run(URL(fileURLWithPath: "/usr/bin/env"), ["git", "-C", path + "/state"] + arguments, environment: [:])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func run(_ executable: URL, _ arguments: [String], environment extra: [String: String]) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = nil
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        // Files, not pipes: nothing can block however much either stream prints.
        let out = path + "/.stdout-" + UUID().uuidString, err = path + "/.stderr-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        let text = { (p: String) in String(decoding: FileManager.default.contents(atPath: p) ?? Data(), as: UTF8.self) }
        return Run(status: process.terminationStatus, stdout: text(out), stderr: text(err))
    }
}

private func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// Every CLI test case gets its own working directory.
class CLITestCase: XCTestCase {
    private(set) var workdir = Workdir(path: "/nonexistent")

    override func setUpWithError() throws {
        _ = try Maifctl.executable()
        workdir = try Workdir.make()
    }

    override func tearDownWithError() throws {
        workdir.remove()
    }

    /// Parses JSON output, failing the test with the whole run when it is not JSON.
    func json(_ run: Run, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8), options: [.fragmentsAllowed])
        } catch {
            XCTFail("not JSON: \(run)", file: file, line: line)
            throw error
        }
    }
}

/// Two local.null resources, b referring to a; small, fast, and with one edge for graphs.
let twoNullStack = """
    stack: {name: cli}
    clouds: {local: {root: deploy}}
    resources:
      - {type: local.null, name: a}
      - {type: local.null, name: b, properties: {triggers: {up: "${local.null.a.id}"}}}
      - {type: local.file, name: motd, properties: {path: motd.txt, content: hello}}
    """
