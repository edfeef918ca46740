/// The `maifctl` command tree. Commands parse flags, call the engine and hand results to a view.

import ArgumentParser
import Engine
import ProviderKit

public struct MaifctlCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "maifctl",
        abstract: "Plan and apply distributed MAIF clusters described in YAML stack files.",
        discussion: """
        A stack file describes clusters, regions, clouds, load balancing, scaling, HA, backups and \
        monitoring. maifctl turns it into a resource graph, diffs it against the state kept in a git \
        repository, shows the plan and applies it through providers.

        Start with:  maifctl validate stacks/local-demo.yaml
        Reference:   docs/stack-reference.md
        """,
        version: Engine.version,
        subcommands: [InitCommand.self, ValidateCommand.self, CheckCommand.self, PlanCommand.self, ApplyCommand.self, DestroyCommand.self, GraphCommand.self,
                      OutputCommand.self, ShowCommand.self, RefreshCommand.self, ImportCommand.self, StateCommand.self, ProvidersCommand.self,
                      RenderCommand.self]
    )

    public init() {}

    /// Parses and runs a command like `main()`, then shuts down the providers it opened (an onprem provider
    /// closes its shared ssh connections) whether the command succeeded or not.
    public static func runAndShutDown() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            await OpenProviders.shared.shutdown()
        } catch {
            await OpenProviders.shared.shutdown()
            exit(withError: error)
        }
    }
}

/// The providers commands of this process made, so they can be shut down when the command ends.
actor OpenProviders {
    static let shared = OpenProviders()
    private var providers: [any Provider] = []

    func add(_ list: some Sequence<any Provider>) { providers += list }

    func shutdown() async {
        let list = providers
        providers = []
        for provider in list { await provider.shutdown() }
    }
}
