/// The `maifctl` command tree. Commands parse flags, call the engine and hand results to a view.

import ArgumentParser

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
        version: "0.1.0",
        subcommands: [ValidateCommand.self, CheckCommand.self, PlanCommand.self, ApplyCommand.self, DestroyCommand.self, GraphCommand.self,
                      OutputCommand.self, ShowCommand.self, RefreshCommand.self, ImportCommand.self, StateCommand.self]
    )

    public init() {}
}
