/// The checkers `scripts/ci-tools.sh --install` puts into `.venv-ci` (actionlint, check-jsonschema, markdown-it-py,
/// jsonschema) and tmux, for the tests of what CI consumes: pull-request plans, apply events, the example pipelines.
/// A missing tool fails the test with the command that installs it; it never skips.

import Foundation
import XCTest

enum CITools {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String { repoRoot.appendingPathComponent(relative).path }

    struct Missing: Error, CustomStringConvertible {
        var tool: String
        var description: String { "\(tool) is not installed; run: bash scripts/ci-tools.sh --install (from the repository root)" }
    }

    /// A program of `.venv-ci/bin` (python, actionlint, check-jsonschema).
    static func tool(_ name: String) throws -> URL {
        let url = repoRoot.appendingPathComponent(".venv-ci/bin/\(name)")
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw Missing(tool: ".venv-ci/bin/\(name)") }
        return url
    }

    static func tmux() throws -> URL {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/tmux") {
            return URL(fileURLWithPath: dir + "/tmux")
        }
        throw Missing(tool: "tmux")
    }

    /// Runs one of the checkers in Tests/CLITests/Checkers with the venv's python and decodes the JSON it prints.
    static func check(_ script: String, _ arguments: [String], in workdir: Workdir) throws -> [String: Any] {
        let run = try workdir.run(try tool("python"), [path("Tests/CLITests/Checkers/\(script)")] + arguments, environment: [:])
        guard run.status == 0, let object = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            throw CheckerFailed(run: run)
        }
        return object
    }

    struct CheckerFailed: Error, CustomStringConvertible {
        var run: Run
        var description: String { "the checker failed: \(run)" }
    }
}

/// The shipped stacks planned without credentials: stand-in values for the variables and files their `clouds` name,
/// in a private HOME, as Tests/ExpansionTests/Support/ShippedStackPlans.swift does. The secret ones are distinctive,
/// so a test can look for them in what maifctl printed.
enum ShippedStacks {
    static let names = ["local-demo", "production", "multi-region", "kubernetes", "swarm", "multi-cloud", "hybrid"]
    static let secretValues = ["stand-in-aws-SECRET-7f3a9c", "stand-in-azure-SECRET-41be0d", "stand-in-gcp-key-SECRET-c0ffee",
                               // The on-call webhook URL (a credential) the stacks name by reference.
                               "https://hooks.example.com/stand-in-webhook-SECRET-d00d1e"]

    static let environment: [String: String] = {
        let home = NSTemporaryDirectory() + "maifctl-cli-shipped-home-" + UUID().uuidString
        for file in [".config/gcloud/maif-production.json", ".config/gcloud/maif-hybrid.json", ".ssh/maif_ed25519", ".ssh/id_ed25519.pub", ".kube/config"] {
            let path = home + "/" + file
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The gcp provider reads its key when it is configured: a service-account key in form, the secret inside it.
            let text = file.hasPrefix(".config/gcloud/")
                ? #"{"type": "service_account", "client_email": "stand-in@maif.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\n"#
                    + secretValues[2] + #"\n-----END PRIVATE KEY-----\n", "token_uri": "http://127.0.0.1:9/token"}"#
                : "\(secretValues[2]) for \(file)\n"
            try? Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        // The k8s provider reads the kubeconfig the stacks name when it is configured: a kubeconfig with their context
        // (plans of new objects of built-in kinds need no cluster; nothing listens at its server).
        try? Data("""
            apiVersion: v1
            kind: Config
            clusters: [{name: production, cluster: {server: "https://127.0.0.1:1"}}]
            users: [{name: production, user: {token: \(secretValues[2])}}]
            contexts: [{name: production, context: {cluster: production, user: production}}]
            current-context: production

            """.utf8).write(to: URL(fileURLWithPath: home + "/.kube/config"))
        return [
            "HOME": home, "MAIFCTL_STATE_KEY": "shipped-stack-plans",
            "AWS_ACCESS_KEY_ID": "AKIDSTANDIN", "AWS_SECRET_ACCESS_KEY": secretValues[0],
            "GOOGLE_APPLICATION_CREDENTIALS": home + "/.config/gcloud/maif-production.json",
            "AZURE_CLIENT_SECRET": secretValues[1],
            "MAIF_ONCALL_WEBHOOK": secretValues[3],
        ]
    }()
}
