/// Flags shared by every command that reads stack files.

import ArgumentParser
import Engine
import Foundation
import StackLoader
import StackModel

struct StackOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Stack files, merged in order: later files override earlier ones key by key.",
                                 valueName: "stack-file"))
    var files: [String] = []

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a stack variable (repeatable).", valueName: "name=value"))
    var variables: [String] = []

    @Flag(name: .customLong("no-color"), help: "Never colour the output (colour is used only on a terminal).")
    var noColor = false

    /// Commands that read a stack call this from their own `validate()`.
    func requireFiles() throws {
        if files.isEmpty {
            throw ValidationError("give at least one stack file, e.g. `maifctl validate stacks/local-demo.yaml`")
        }
    }

    func validate() throws {
        for file in files where !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("no such stack file: \(file)")
        }
        for v in variables where !v.contains("=") || v.hasPrefix("=") {
            throw ValidationError("--var takes name=value, got '\(v)'")
        }
    }

    /// `--var name=value` overrides.
    var variableValues: [String: String] {
        var vars: [String: String] = [:]
        for v in variables {
            let parts = v.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            vars[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return vars
    }

    /// Loads and checks the files, `clouds` against the built-in providers' settings schemas.
    func load() -> LoadResult {
        Engine.commandLine.load(source)
    }

    var useColor: Bool { !noColor && Terminal.isInteractive(stdout: true) && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
}

enum Terminal {
    static func isInteractive(stdout: Bool) -> Bool { isatty(stdout ? 1 : 2) != 0 }
}
