/// Helpers shared by the loader tests: load inline YAML, fetch fixtures, and fail with readable diagnostics.

import Foundation
import BuiltinProviders
import StackLoader
import StackModel
import XCTest

/// The smallest header that makes a valid stack; most inline cases start with it.
let minimalHeader = "stack: {name: demo}\n"

/// Loads one in-memory stack file with a controlled environment (never the test runner's own).
func load(_ text: String, file: String = "stack.yaml", variables: [String: String] = [:],
          environment: [String: String] = [:]) -> LoadResult {
    StackLoader.load(sources: [(name: file, text: text)], options: LoadOptions.builtin(variables: variables, environment: environment))
}

/// Loads `text` and returns the stack, failing the test with every diagnostic when it does not load.
func loadStack(_ text: String, file: String = "stack.yaml", variables: [String: String] = [:],
               environment: [String: String] = [:], sourceFile: StaticString = #filePath, line: UInt = #line) throws -> Stack {
    let result = load(text, file: file, variables: variables, environment: environment)
    guard let stack = result.stack else {
        XCTFail("expected the stack to load, got:\n" + result.diagnostics.map(\.description).joined(separator: "\n"),
                file: sourceFile, line: line)
        throw LoadFailed()
    }
    let errors = result.diagnostics.filter { $0.severity == .error }
    XCTAssertEqual(errors, [], "a loaded stack must carry no error diagnostics", file: sourceFile, line: line)
    return stack
}

struct LoadFailed: Error {}

/// Asserts that loading failed with exactly one diagnostic of `code`, at `line:column` when given, and returns it.
@discardableResult
func assertSingleError(_ result: LoadResult, _ code: String, at position: (line: Int, column: Int)? = nil,
                       messageContains: String? = nil, hintContains: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
    XCTAssertNil(result.stack, "a stack with errors must not be returned", file: file, line: line)
    let errors = result.diagnostics.filter { $0.severity == .error }
    guard errors.count == 1, let d = errors.first else {
        XCTFail("expected one error \(code), got:\n" + result.diagnostics.map(\.description).joined(separator: "\n"),
                file: file, line: line)
        return nil
    }
    XCTAssertEqual(d.code, code, d.description, file: file, line: line)
    if let position {
        XCTAssertEqual(d.location.map { "\($0.line):\($0.column)" }, "\(position.line):\(position.column)", d.description,
                       file: file, line: line)
    }
    if let messageContains {
        XCTAssertTrue(d.message.contains(messageContains), "message «\(d.message)» lacks «\(messageContains)»", file: file, line: line)
    }
    if let hintContains {
        XCTAssertTrue(d.hint?.contains(hintContains) ?? false, "hint «\(d.hint ?? "nil")» lacks «\(hintContains)»",
                      file: file, line: line)
    }
    return d
}

enum Fixtures {
    /// The `Fixtures` folder copied into the test bundle.
    static var root: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    }

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// The `.yaml` files of one fixture folder, sorted by name.
    static func yamlFiles(in folder: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Environment the full valid stack expects.
    static let fullStackEnvironment = ["BUCKET_SUFFIX": "eu1", "AWS_SESSION_TOKEN": "token", "API_TOKEN": "t0ken"]
}

extension LoadOptions {
    /// As maifctl loads: `clouds` checked against the built-in providers' settings schemas.
    static func builtin(variables: [String: String] = [:], environment: [String: String] = [:]) -> LoadOptions {
        LoadOptions(variables: variables, environment: environment, settingsSchemas: BuiltinProviders.registry.settingsSchemas)
    }
}
