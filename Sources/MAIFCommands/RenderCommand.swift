/// `maifctl render FILE… --platform kubernetes`: the Kubernetes objects apply would send, as multi-document YAML,
/// for GitOps tools. No cluster and no state are needed; the k8s provider writes the objects (KubernetesRender).

import ArgumentParser
import Engine
import Foundation
import KubernetesProvider
import StackModel

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write the objects apply would send to a platform, as files for GitOps (kubectl apply -f, Argo CD, Flux).",
        discussion: """
        --platform kubernetes writes every k8s.* object of the stack as multi-document YAML: Namespaces first, then \
        CustomResourceDefinitions, then the rest in dependency order, each with maifctl's owner labels. Secret values \
        are left out unless --include-secrets is given (then they are read from where data_from says, as apply does).
        """
    )

    enum Platform: String, ExpressibleByArgument, CaseIterable { case kubernetes }

    @OptionGroup var stack: StackOptions

    @Option(help: "The platform whose objects to write.")
    var platform: Platform

    @Option(name: .customLong("out"), help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var out: String?

    @Flag(name: .customLong("include-secrets"), help: "Write Secret values (base64) into the output.")
    var includeSecrets = false

    func validate() throws { try stack.requireFiles() }

    func run() async throws {
        let engine = Engine.commandLine
        let result = engine.expand(stack.source)
        let view = DiagnosticsView(color: stack.useColor)
        for d in result.diagnostics where d.severity == .error || result.value == nil { printError(view.render(d)) }
        guard let expanded = result.value else { throw ExitCode.failure }
        let objects = expanded.desired.filter { $0.address.provider == "k8s" }.map {
            KubernetesRender.Object(address: $0.address, config: $0.config, dependsOn: $0.dependsOn.map { $0.address })
        }
        if objects.isEmpty {
            printError("Error: the stack has no Kubernetes objects (no cluster with platform kubernetes, no k8s.* resources)")
            throw ExitCode.failure
        }
        let yaml: String
        do {
            yaml = try KubernetesRender.render(objects, stack: expanded.stack.meta.name,
                                               namespace: expanded.stack.clouds["kubernetes"]?.string("namespace"),
                                               environment: engine.environment, workingDirectory: engine.workingDirectory,
                                               includeSecrets: includeSecrets)
        } catch {
            printError("Error: \(error)")
            throw ExitCode.failure
        }
        if let out {
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: out))
            printError("Wrote \(objects.count) objects to \(out).")
        } else {
            print(yaml, terminator: "")
        }
    }
}
