import ArgumentParser
import Foundation
import StackLoader
import StackModel

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check stack files and print a summary of what they describe.",
        discussion: """
        Every problem is reported at once as file:line:column with a hint. Exit status: 0 when the \
        stack is valid, 1 when it has errors, 64 on a usage error.
        """
    )

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }

    @Flag(help: "Print the diagnostics as a JSON array instead of text.")
    var json = false

    @Flag(help: "Print only diagnostics, not the summary.")
    var quiet = false

    func run() throws {
        let result = stack.load()
        if json {
            print(DiagnosticsView.json(result.diagnostics))
        } else {
            let view = DiagnosticsView(color: stack.useColor)
            for d in result.diagnostics { print(view.render(d)) }
            if let s = result.stack, !quiet {
                if !result.diagnostics.isEmpty { print("") }
                print(StackSummaryView.render(s))
            } else if result.diagnostics.hasErrors {
                let errors = result.diagnostics.filter { $0.severity == .error }.count
                printError("\n\(errors) error\(errors == 1 ? "" : "s"); nothing was changed.")
            }
        }
        if result.diagnostics.hasErrors { throw ExitCode.failure }
    }
}

/// Writes to stderr after flushing stdout, so that piped output keeps its order.
func printError(_ text: String) {
    fflush(nil)  // all C streams; stdout is the one that matters
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}
