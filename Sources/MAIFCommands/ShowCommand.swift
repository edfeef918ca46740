import ArgumentParser
import Foundation
import Planning

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a plan saved with `plan --out FILE`, as it would be applied."
    )

    @Argument(help: "The saved plan file.")
    var file: String

    @OptionGroup var output: PlanFormatOptions

    @Flag(name: .customLong("no-color"), help: "Never colour the output.")
    var noColor = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no such file: \(file)") }
        guard let saved = try SavedPlan.read(file) else {
            printError("Error: \(file) is not a plan saved by `maifctl plan --out`")
            throw ExitCode.failure
        }
        switch output.resolved {
        case .json:
            print(PlanJSON.render(saved.plan))
            return
        case .markdown:
            var markdown = PlanMarkdown(maxBytes: output.maxBytes)
            markdown.fullPlan = output.fullPlanURL ?? "`maifctl show \(file)`"
            markdown.origin = "saved plan made \(saved.createdAt) from \(saved.files.map { "`\($0)`" }.joined(separator: " "))"
            print(markdown.render(saved.plan), terminator: "")
            return
        case .text:
            break
        }
        print("Saved plan for stack \(saved.plan.stack), made \(saved.createdAt) from \(saved.files.joined(separator: " ")),")
        print("against state \(saved.plan.stateRevision.map { String($0.prefix(12)) } ?? "(empty)").\n")
        print(PlanView(color: !noColor && Terminal.isInteractive(stdout: true)).render(saved.plan))
    }
}
