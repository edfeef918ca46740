import ArgumentParser
import Engine
import Planning
import ProviderKit

struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print the resource graph as Mermaid (as in the MAIF guide) or Graphviz DOT.",
        discussion: "Edges point from a dependency to what depends on it, the order apply creates things in."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case mermaid, dot }

    @OptionGroup var stack: StackOptions

    func validate() throws { try stack.requireFiles() }

    @Option(name: .customLong("state"), help: ArgumentHelp("State directory.", valueName: "dir"))
    var stateDirectory = "state"

    @Option(help: "mermaid or dot.")
    var format: Format = .mermaid

    func run() async throws {
        guard let opened = await stack.open(stateDirectory: stateDirectory) else { throw ExitCode.failure }
        var options = PlanOptions()
        options.refresh = false
        let result = await opened.session.plan(options)
        let view = DiagnosticsView(color: stack.useColor)
        for d in result.diagnostics where d.code != "dependency-cycle" { printError(view.render(d)) }
        if result.diagnostics.hasErrors && result.graph.vertices.isEmpty { throw ExitCode.failure }
        switch format {
        case .mermaid: print(result.graph.mermaid { $0.description })
        case .dot: print(result.graph.dot { $0.description })
        }
        for d in result.diagnostics where d.code == "dependency-cycle" { printError(view.render(d)) }
        if result.diagnostics.hasErrors { throw ExitCode.failure }
    }
}

struct OutputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "output",
        abstract: "Print the outputs recorded by the last apply (node endpoints and the like)."
    )

    @OptionGroup var scope: StateScope

    @Argument(help: "Print only this output.")
    var name: String?

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        let state = try scope.load()
        if let name {
            guard let value = state.outputs[name] else {
                printError("Error: no output named '\(name)'; outputs: \(state.outputs.keys.sorted().joined(separator: ", "))")
                throw ExitCode.failure
            }
            print(json ? value.canonicalJSON() : value.interpolationText)
            return
        }
        if json { print(AttributeValue.map(state.outputs).canonicalJSON()); return }
        if state.outputs.isEmpty { print("No outputs. Run `maifctl apply` first."); return }
        for key in state.outputs.keys.sorted() { print("\(key) = \(state.outputs[key]!.canonicalJSON())") }
    }
}
