/// The shipped stacks planned on empty state through the engine, exactly as `maifctl plan --refresh=false` plans them.
/// The providers are configured from the stacks' own `clouds` sections; what those reference (credential variables,
/// key files) is given stand-in values in a private HOME, and no provider is called (nothing is recorded, nothing refreshed).
/// The k8s provider, whose plan asks the cluster's discovery, plans without one here (as `maifctl render` does).

import BuiltinProviders
import Engine
import Expansion
import Foundation
import KubernetesProvider
import Planning
import ProviderKit
import StackLoader
import StackModel
import XCTest

enum ShippedStackPlans {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A HOME holding the files the shipped stacks reference, and the variables they name.
    static let environment: [String: String] = {
        let home = NSTemporaryDirectory() + "maifctl-shipped-home-" + UUID().uuidString
        for file in [".config/gcloud/maif-production.json", ".config/gcloud/maif-hybrid.json", ".ssh/maif_ed25519", ".ssh/id_ed25519.pub", ".kube/config"] {
            let path = home + "/" + file
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The gcp provider reads its key file when it is configured: a service-account key in form (the key is no key).
            let text = file.hasPrefix(".config/gcloud/")
                ? #"{"type": "service_account", "client_email": "stand-in@maif.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\nstand-in\n-----END PRIVATE KEY-----\n", "token_uri": "http://127.0.0.1:9/token"}"#
                : "stand-in for \(file)\n"
            try? Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        return [
            "HOME": home, "MAIFCTL_STATE_KEY": "shipped-stack-plans",
            "AWS_ACCESS_KEY_ID": "AKIDSTANDIN", "AWS_SECRET_ACCESS_KEY": "stand-in",
            "GOOGLE_APPLICATION_CREDENTIALS": home + "/.config/gcloud/maif-production.json",
            "AZURE_CLIENT_SECRET": "stand-in",
            // The on-call webhook the stacks name by reference (the aws provider reads it at plan).
            "MAIF_ONCALL_WEBHOOK": "https://127.0.0.1:9/maif-oncall",
            // What the loader's full-stack fixture interpolates.
            "BUCKET_SUFFIX": "eu1", "API_TOKEN": "t0ken",
        ]
    }()

    static var engine: Engine {
        var registry = BuiltinProviders.registry
        KubernetesProvider.registerOffline(in: &registry)
        return Engine(registry: registry, environment: environment, workingDirectory: NSTemporaryDirectory())
    }

    /// Loads a stack file (relative to the repository) as maifctl does, `clouds` checked against the providers' schemas.
    static func load(_ stackFile: String) -> LoadResult {
        engine.load(StackSource(files: [repoRoot.appendingPathComponent(stackFile).path]))
    }

    /// The plan of a stack file on empty state; fails the test on any error.
    static func plan(_ stackFile: String, file: StaticString = #filePath, line: UInt = #line) async throws -> Plan {
        let state = NSTemporaryDirectory() + "maifctl-shipped-state-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let opened = await engine.open(StackSource(files: [repoRoot.appendingPathComponent(stackFile).path]), stateDirectory: state)
        let session = try XCTUnwrap(opened.value, "\(stackFile) does not open: \(opened.diagnostics)", file: file, line: line)
        var options = PlanOptions()
        options.refresh = false
        let planned = await session.plan(options)
        let problems = (opened.diagnostics + planned.diagnostics).filter { $0.severity == .error }
        XCTAssertEqual(problems.map(\.description), [], "\(stackFile) must expand and plan without errors", file: file, line: line)
        return try XCTUnwrap(planned.plan, file: file, line: line)
    }
}

/// A resource's configuration with its provider's owner marks, as the planner hands it on.
enum OwnerMarks {
    static func marked(_ resource: DesiredResource, stack: String) throws -> [String: AttributeValue] {
        let provider = try XCTUnwrap(try BuiltinProviders.registry.make(resource.address.provider,
                                                                         ProviderConfiguration(stack: stack, workingDirectory: NSTemporaryDirectory())))
        return provider.markOwner(resource.config, ResourceContext(stack: stack, address: resource.address))
    }
}
