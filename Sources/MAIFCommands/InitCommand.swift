/// `maifctl init`: a starter stack for a platform, the state repository, and the commands to run next.

import ArgumentParser
import Engine
import Foundation

extension StarterPlatform: ExpressibleByArgument {}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter stack for a platform and create its state repository.",
        discussion: """
        The stack carries the MAIF guide's values (three nodes, adaptive balancing, autoscaling 3-20, a quorum \
        of 2, incremental backups, the production checklist's security items) and passes validate and check. \
        Platforms: \(StarterPlatform.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).
        """
    )

    @Option(help: ArgumentHelp("Where the cluster runs: \(StarterPlatform.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "platform"))
    var platform: StarterPlatform = .local

    @Option(help: ArgumentHelp("The stack's name; the file is NAME.yaml.", valueName: "name"))
    var name = "maif"

    @Option(name: .customLong("dir"), help: ArgumentHelp("Write the stack here.", valueName: "dir"))
    var directory = "."

    @Option(name: .customLong("state"), help: ArgumentHelp("The state repository, relative to --dir (created if missing).", valueName: "dir"))
    var stateDirectory = "state"

    @Flag(help: "Overwrite NAME.yaml if it exists.")
    var force = false

    func run() throws {
        let report: StarterReport
        do {
            report = try Engine.commandLine.initialize(platform: platform, name: name, directory: directory,
                                                       stateDirectory: stateDirectory, force: force)
        } catch let error as StarterError {
            printError("Error: \(error)")
            throw ExitCode.failure
        }
        let cwd = FileManager.default.currentDirectoryPath + "/"
        func shown(_ path: String) -> String { path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path }
        let file = shown(report.stackFile), state = directory == "." ? stateDirectory : shown(report.stateDirectory)
        print("Wrote \(file) (platform \(platform.rawValue)): \(platform.summary).")
        if report.createdRepository {
            print("Created the state repository \(state) (git, branch main) with its .gitignore\(report.commit.map { " (commit \($0.prefix(12)))" } ?? "").")
        } else {
            print("State will be recorded in \(state)\(report.commit == nil ? " (inside your repository: commit it with your work)" : "").")
        }
        if !report.credentials.isEmpty {
            print("\nThe stack reads its credentials from: \(report.credentials.joined(separator: ", ")) (never written into it).")
        }
        let stateFlag = stateDirectory == "state" && directory == "." ? "" : " --state \(state)"
        print("""

            Next:
              maifctl validate \(file)
              maifctl check    \(file)
              maifctl plan     \(file)\(stateFlag) --out \(name).plan
              maifctl apply    \(name).plan\(stateFlag)

            To review plans in pull requests and apply from CI, copy examples/ci/github/ or examples/ci/gitlab/ \
            (see examples/walkthrough.md); to share the state, push it: git -C \(state) remote add origin URL && git -C \(state) push -u origin main
            """)
    }
}
