/// One scenario's world: a temporary directory holding the state repository and everything the local
/// provider writes, plus the pipeline (load → expand → plan → apply) run the way the CLI runs it.

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

    // MARK: The pipeline

    /// Loads one inline stack file named `stack.yaml`, failing the test with every diagnostic when it does not load.
    func load(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> Stack {
        let result = StackLoader.load(sources: [(name: "stack.yaml", text: yaml)], options: LoadOptions(environment: [:]))
        guard let stack = result.stack else {
            XCTFail("the stack does not load:\n" + result.diagnostics.map(\.description).joined(separator: "\n"), file: file, line: line)
            throw ScenarioFailed()
        }
        return stack
    }

    /// The local provider as `maifctl` configures it, optionally wrapped in call-recording instrumentation.
    func providers(for stack: Stack, log: CallLog? = nil) -> [String: any Provider] {
        let configuration = ProviderConfiguration(stack: stack.meta.name,
                                                  settings: ["root": .string(stack.clouds.local?.root ?? ".maif/local")],
                                                  workingDirectory: directory)
        let local = LocalProvider(configuration: configuration)
        guard let log else { return ["local": local] }
        return ["local": RecordingProvider(inner: local, log: log)]
    }

    func store(_ stackName: String) throws -> StateStore {
        try StateStore(directory: stateDirectory, stack: stackName)
    }

    /// The state as a fresh reader sees it (a new `StateStore`, nothing cached).
    func recordedState(_ stackName: String) throws -> State {
        try store(stackName).load()
    }

    func plan(_ yaml: String, _ options: PlanOptions = PlanOptions(), log: CallLog? = nil,
              file: StaticString = #filePath, line: UInt = #line) async throws -> PlanResult {
        let stack = try load(yaml, file: file, line: line)
        return try await plan(stack, options, log: log)
    }

    func plan(_ stack: Stack, _ options: PlanOptions = PlanOptions(), log: CallLog? = nil) async throws -> PlanResult {
        let expansion = Expander.expand(stack)
        let state = try recordedState(stack.meta.name)
        var result = await Planner.plan(stack: stack.meta.name, desired: expansion.resources, moves: stack.moved, state: state,
                                        providers: providers(for: stack, log: log), options: options)
        result.diagnostics = expansion.diagnostics + result.diagnostics
        return result
    }

    /// Plans (which must succeed) and applies, as `maifctl apply --auto-approve` does: a plan without
    /// changes is shown and not executed.
    func apply(_ yaml: String, _ options: PlanOptions = PlanOptions(), parallelism: Int = 10, log: CallLog? = nil,
               file: StaticString = #filePath, line: UInt = #line) async throws -> Applied {
        let stack = try load(yaml, file: file, line: line)
        var planOptions = options
        planOptions.parallelism = parallelism
        let planned = try await plan(stack, planOptions)
        guard let plan = planned.plan else {
            XCTFail("expected a plan, got:\n" + planned.diagnostics.map(\.description).joined(separator: "\n"), file: file, line: line)
            throw ScenarioFailed()
        }
        guard plan.hasChanges else { return Applied(plan: plan, result: nil) }
        let store = try store(stack.meta.name)
        var applyOptions = ApplyOptions()
        applyOptions.parallelism = parallelism
        let result = await Executor.apply(plan, providers: providers(for: stack, log: log),
                                          recorder: store.recorder(for: try store.load()), options: applyOptions)
        return Applied(plan: plan, result: result)
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
