/// `--format text|json|markdown` for `plan` and `show` (`--json` is `--format json`), and the Markdown options.

import ArgumentParser

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown
}

struct PlanFormatOptions: ParsableArguments {
    @Option(help: "text (Terraform-style, the default), json (versioned, docs/plan-json.md) or markdown (a pull-request comment).")
    var format: PlanFormat?

    @Flag(help: "Print the plan as versioned JSON (the same as --format json).")
    var json = false

    @Option(name: .customLong("max-bytes"), help: ArgumentHelp(
        "Markdown only: stay under this size; past it, resource details are left out, largest first.", valueName: "n"))
    var maxBytes = PlanMarkdown.defaultMaxBytes

    @Option(name: .customLong("full-plan-url"), help: ArgumentHelp(
        "Markdown only: where the whole plan can be read when details are left out (e.g. the CI run's URL).", valueName: "url"))
    var fullPlanURL: String?

    func validate() throws {
        if json, let format, format != .json { throw ValidationError("--json and --format \(format.rawValue) contradict each other") }
        if maxBytes < 200 { throw ValidationError("--max-bytes must be at least 200") }
    }

    var resolved: PlanFormat { json ? .json : format ?? .text }
}
