/// One scenario's world: a temporary directory holding the state repository and everything the local
/// provider writes, and the engine opened on it exactly as `maifctl` opens it (the local provider, optionally wrapped
/// in call-recording instrumentation).

import Engine
import Execution
import Expansion
import Foundation
import LocalProvider
import Planning
import ProviderKit
import StackLoader
import StackModel
import StateStore
import XCTest

struct Sandbox: Sendable {
    /// The working directory: relative paths of the stack (provider root, backup targets) resolve here.
    let directory: String
    var stateDirectory: String { directory + "/state" }

    static func make() throws -> Sandbox {
        let path = NSTemporaryDirectory() + "maifctl-engine-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return Sandbox(directory: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: The engine

    /// The engine with the local provider, as `maifctl` configures it, optionally instrumented.
    func engine(log: CallLog? = nil) -> Engine {
        var registry = ProviderRegistry()
        var local = ProviderRegistry()
        LocalProvider.register(in: &local)
        var descriptor = local.descriptor("local")!
        if let log {
            let make = descriptor.make
            descriptor.make = { RecordingProvider(inner: try make($0), log: log) }
        }
        registry.register(descriptor)
        return Engine(registry: registry, environment: [:], workingDirectory: directory)
    }

    /// Loads one inline stack file named `stack.yaml`, failing the test with every diagnostic when it does not load.
    func load(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> Stack {
        let result = engine().load(StackSource(texts: [(name: "stack.yaml", text: yaml)]))
        guard let stack = result.stack else {
            XCTFail("the stack does not load:\n" + result.diagnostics.map(\.description).joined(separator: "\n"), file: file, line: line)
            throw ScenarioFailed()
        }
        return stack
    }

    /// The stack opened against the sandbox's state, holding the lock when `lock` names an operation.
    func open(_ yaml: String, lock: String? = nil, log: CallLog? = nil,
              file: StaticString = #filePath, line: UInt = #line) async throws -> (StackSession, [Diagnostic]) {
        let opened = await engine(log: log).open(StackSource(texts: [(name: "stack.yaml", text: yaml)]), stateDirectory: stateDirectory,
                                                 lock: lock.map { LockRequest(operation: $0) })
        guard let session = opened.value else {
            XCTFail("the stack does not open:\n" + opened.diagnostics.map(\.description).joined(separator: "\n"), file: file, line: line)
            throw ScenarioFailed()
        }
        return (session, opened.diagnostics)
    }

    func store(_ stackName: String) throws -> StateStore {
        try StateStore(directory: stateDirectory, stack: stackName)
    }

    /// The state as a fresh reader sees it (a new `StateStore`, nothing cached).
    func recordedState(_ stackName: String) throws -> State {
        try store(stackName).load()
    }

    /// `maifctl plan`: the engine's diagnostics (loader and expansion warnings, then the plan's).
    func plan(_ yaml: String, _ options: PlanOptions = PlanOptions(), log: CallLog? = nil,
              file: StaticString = #filePath, line: UInt = #line) async throws -> PlanResult {
        let (session, diagnostics) = try await open(yaml, log: log, file: file, line: line)
        var result = await session.plan(options)
        result.diagnostics = diagnostics + result.diagnostics
        return result
    }

    /// Plans (which must succeed) and applies, as `maifctl apply --auto-approve` does: a plan without
    /// changes is shown and not executed.
    func apply(_ yaml: String, _ options: PlanOptions = PlanOptions(), parallelism: Int = 10, log: CallLog? = nil,
               file: StaticString = #filePath, line: UInt = #line) async throws -> Applied {
        let (session, _) = try await open(yaml, lock: options.destroy ? "destroy" : "apply", log: log, file: file, line: line)
        defer { session.close() }
        var planOptions = options
        planOptions.parallelism = parallelism
        let planned = await session.plan(planOptions)
        guard let plan = planned.plan else {
            XCTFail("expected a plan, got:\n" + planned.diagnostics.map(\.description).joined(separator: "\n"), file: file, line: line)
            throw ScenarioFailed()
        }
        guard plan.hasChanges else { return Applied(plan: plan, result: nil) }
        log?.reset()  // what is measured is the apply, as `maifctl apply` runs it after its plan
        var applyOptions = ApplyOptions()
        applyOptions.parallelism = parallelism
        return Applied(plan: plan, result: await session.apply(plan, options: applyOptions))
    }

    /// `maifctl destroy --auto-approve`.
    func destroy(_ yaml: String, log: CallLog? = nil, file: StaticString = #filePath, line: UInt = #line) async throws -> Applied {
        var options = PlanOptions()
        options.destroy = true
        return try await apply(yaml, options, log: log, file: file, line: line)
    }

    // MARK: Looking at the outcome

    /// The text of a file below the working directory, or nil when it does not exist.
    func contents(_ relative: String) -> String? {
        FileManager.default.contents(atPath: directory + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + relative)
    }

    func write(_ text: String, to relative: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + relative))
    }

    /// Every regular file below the working directory except the state repository, relative and sorted.
    func deployedFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let item = walker.nextObject() as? String {
            if item == "state" { walker.skipDescendants(); continue }
            if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeRegular { files.append(item) }
        }
        return files.sorted()
    }

    /// Runs the real `git` command line in the state directory; what a reviewer would see.
    func git(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", stateDirectory] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else { throw GitFailed(arguments: arguments, output: text) }
        return text
    }

    func gitLines(_ arguments: [String]) throws -> [String] {
        try git(arguments).split(separator: "\n").map(String.init)
    }
}

struct Applied: Sendable {
    var plan: Plan
    /// nil when the plan had nothing to do and so was not executed.
    var result: ApplyResult?

    var succeeded: Bool { result?.succeeded ?? true }
    var failures: [(address: ResourceAddress, message: String)] { result?.failures ?? [] }
    var commit: String? { result?.commit }
    var completedActions: [String: PlanAction] { result?.completedActions ?? [:] }
}

struct ScenarioFailed: Error {}

struct GitFailed: Error, CustomStringConvertible {
    var arguments: [String]
    var output: String
    var description: String { "git \(arguments.joined(separator: " ")) failed: \(output)" }
}

/// Test cases get a fresh sandbox each and never see another test's files.
class EngineTestCase: XCTestCase {
    private(set) var sandbox = Sandbox(directory: "/nonexistent")

    override func setUpWithError() throws {
        sandbox = try Sandbox.make()
    }

    override func tearDownWithError() throws {
        sandbox.remove()
    }
}

extension Plan {
    /// address → action, for compact assertions on what a plan will do.
    var actions: [String: PlanAction] {
        Dictionary(uniqueKeysWithValues: changes.map { ($0.address.description, $0.action) })
    }

    /// Only the changes that do something.
    var pendingActions: [String: PlanAction] { actions.filter { $0.value != .noop } }

    func change(_ address: String) -> PlannedChange? {
        changes.first { $0.address.description == address }
    }
}

extension PlanResult {
    var codes: [String] { diagnostics.map(\.code) }
}

extension ApplyResult {
    var completedActions: [String: PlanAction] {
        Dictionary(uniqueKeysWithValues: completed.map { ($0.key.description, $0.value) })
    }
}

extension State {
    var addresses: [String] { resources.keys.map(\.description).sorted() }

    func record(_ address: String) -> ResourceRecord? {
        ResourceAddress(parsing: address).flatMap { resources[$0] }
    }
}
