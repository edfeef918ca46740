/// What the end-to-end suites share: finding the built `maifctl`, and running a program as a real process with its
/// output in files (a chatty process never blocks on a full pipe), stopped by its pid, always bounded in time.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished process printed and how it exited.
public struct ProcessOutput: CustomStringConvertible, Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when it was killed because it ran past its time limit.
    public var timedOut = false
    public var seconds: Double = 0

    public init(status: Int32, stdout: String, stderr: String, timedOut: Bool = false, seconds: Double = 0) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.seconds = seconds
    }

    public var all: String { stdout + "\n" + stderr }
    public var description: String {
        "exit \(status)\(timedOut ? " (killed: timed out)" : "") after \(String(format: "%.2f", seconds)) s\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A process started in the background, to be killed at a chosen moment or waited for.
public final class RunningProcess: @unchecked Sendable {
    public let process: Process
    public let started: Date
    private let outPath: String, errPath: String
    private let outHandle: FileHandle, errHandle: FileHandle

    /// Starts `executable arguments…` in `directory` with stdin at /dev/null. `environment` is added to this process's
    /// own; an empty value removes the variable.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v.isEmpty ? nil : v }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("maif-test-\(UUID().uuidString)").path
        outPath = base + ".out"
        errPath = base + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        started = Date()
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var stderrSoFar: String { String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self) }

    /// Sends `signal` to this process only, by pid. Returns whether it was still running.
    @discardableResult
    public func kill(_ signal: Int32 = SIGKILL) -> Bool {
        guard process.isRunning else { return false }
        return Glibc.kill(pid, signal) == 0
    }

    /// Waits for the exit; past `timeout` seconds the process is SIGKILLed and the output says so.
    public func wait(timeout: Double = 60) -> ProcessOutput {
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
        let output = ProcessOutput(status: process.terminationStatus, stdout: text(outPath), stderr: text(errPath), timedOut: timedOut,
                                   seconds: Date().timeIntervalSince(started))
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
        return output
    }

    /// Runs a program to the end (killed after `timeout` seconds).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil,
                           timeout: Double = 120) throws -> ProcessOutput {
        try RunningProcess(executable, arguments, environment: environment, in: directory).wait(timeout: timeout)
    }
}

public enum MaifctlBinary {
    /// `maifctl` sits in the build folder next to the test bundle (the test targets depend on it, so it is built first).
    public static func locate() throws -> String {
        var starts = [Bundle.main.bundleURL]
        if let first = CommandLine.arguments.first { starts.append(URL(fileURLWithPath: first)) }
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent("maifctl").path
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                   FileManager.default.isExecutableFile(atPath: candidate) {
                    return candidate
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw TestSetupError("the maifctl executable was not found in the build folder of the tests (searched upward from "
                             + starts.map(\.path).joined(separator: ", ") + "); build it first: swift build --build-tests")
    }
}
