/// Configures the providers a stack needs from its `clouds` sections. A provider whose settings cannot be used (a
/// credential variable not set, a key file missing) is replaced by one that plans from its schema and refuses every
/// call: a plan that touches it fails before anything is created, naming the stack key; a plan that `--target` keeps
/// away from it goes ahead.

import Foundation
import ProviderKit
import StackModel

struct ProviderSetup {
    var providers: [String: any Provider] = [:]
    /// Providers that could not be configured, with why, as diagnostics pointing at the stack key.
    var unconfigured: [String: Diagnostic] = [:]
    var diagnostics: [Diagnostic] = []

    static func configure(stack: Stack, needed: Set<String>, engine: Engine) -> ProviderSetup {
        var setup = ProviderSetup()
        for name in needed.sorted() {
            guard let descriptor = engine.registry.descriptor(name) else { continue }
            let cloud = stack.clouds[descriptor.section]
            let configuration = ProviderConfiguration(stack: stack.meta.name, settings: settings(cloud, section: descriptor.section,
                                                                                                schema: descriptor.settings),
                                                      workingDirectory: engine.workingDirectory, environment: engine.environment)
            do {
                setup.providers[name] = try descriptor.make(configuration)
            } catch {
                let problem = error as? ProviderConfigurationError ?? ProviderConfigurationError(key: nil, "\(error)")
                let keyPath = "clouds.\(descriptor.section)" + (problem.key.map { ".\($0)" } ?? "")
                let at = problem.key.flatMap { cloud?[$0]?.location } ?? stack.location(of: keyPath) ?? cloud?.location
                let diagnostic = Diagnostic.error("provider-configuration", "provider '\(name)' cannot be configured: \(problem.message)",
                                                  hint: problem.hint, at: at)
                setup.unconfigured[name] = diagnostic
                setup.providers[name] = Unconfigured(descriptor: descriptor, problem: diagnostic)
            }
        }
        return setup
    }

    /// `clouds.<section>` as the provider reads it: plain values as attribute values, references kept as references,
    /// defaults from the schema for what the stack leaves out.
    static func settings(_ cloud: CloudSettings?, section: String, schema: SettingsSchema) -> ProviderSettings {
        var settings = ProviderSettings(section: "clouds.\(section)")
        for (key, entry) in cloud?.entries ?? [:] {
            switch entry.value {
            case .value(let v): settings.values[key] = attributeValue(v)
            case .reference(.env(let name)): settings.references[key] = .env(name)
            case .reference(.file(let path)): settings.references[key] = .file(path)
            }
        }
        for setting in schema.settings where !settings.isSet(setting.key) {
            if let value = setting.defaultValue { settings.values[setting.key] = value }
        }
        return settings
    }

    static func attributeValue(_ v: StackValue) -> AttributeValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let l): return .list(l.map(attributeValue))
        case .map(let m): return .map(m.mapValues(attributeValue))
        }
    }

    func shutdown() async {
        for provider in providers.values { await provider.shutdown() }
    }
}

/// Stands in for a provider that could not be configured: it plans from the schema (so the rest of the stack can be
/// planned) and refuses every call with the configuration problem. Reads report the recorded object unchanged, so a
/// plan is made and then refused as a whole when it touches this provider (see `StackSession.plan`).
struct Unconfigured: Provider {
    var descriptor: ProviderDescriptor
    var problem: Diagnostic

    var schema: ProviderSchema { descriptor.schema }

    private func refuse(_ context: ResourceContext, _ call: String) -> ProviderError {
        ProviderError(address: context.address, call: call, message: problem.message)
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState { throw refuse(context, "create") }
    func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? { prior }
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        throw refuse(context, "update")
    }
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws { throw refuse(context, "delete") }
    func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState { throw refuse(context, "import") }
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? { throw refuse(context, "find") }
}
