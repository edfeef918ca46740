/// The embedded default provider: "deploys" into a folder on this machine (`clouds.local.root`, default `.maif/local`).
/// `read` reports what is really on disk, so a hand edit is drift.

import Foundation
import ProviderKit

public struct LocalProvider: Provider {
    public let root: URL
    public let workingDirectory: URL
    public let stack: String
    public var schema: ProviderSchema { LocalSchema.provider }

    public init(configuration: ProviderConfiguration) {
        workingDirectory = URL(fileURLWithPath: configuration.workingDirectory, isDirectory: true)
        let rootPath = configuration.settings["root"]?.stringValue ?? ".maif/local"
        root = URL(fileURLWithPath: rootPath, isDirectory: true, relativeTo: workingDirectory).standardizedFileURL
        stack = configuration.stack
    }

    public static let settings = SettingsSchema([
        SettingSchema("root", .path, default: ".maif/local",
                      description: "the folder everything is deployed into, relative to where maifctl runs"),
    ])

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "local", version: "1.0.0",
                                             summary: "deploys into a folder on this machine; needs nothing installed",
                                             settings: settings, schema: LocalSchema.provider) { LocalProvider(configuration: $0) })
    }

    static let marker = ".maif-resource.json"

    struct Owner {
        var stack: String
        var address: String
        var identity: [String: AttributeValue]
    }

    static func owner(of dir: URL) -> Owner? {
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(marker).path),
              let m = try? JSONDecoder().decode([String: AttributeValue].self, from: data),
              let stack = m["stack"]?.stringValue, let address = m["address"]?.stringValue else { return nil }
        return Owner(stack: stack, address: address, identity: m["identity"]?.mapValue ?? [:])
    }

    // MARK: Contract

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await simulate(context, config, call: "create")
        let state = try write(context, config)
        return state
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await simulate(context, config, call: "update")
        var state = try write(context, config)
        if context.address.kind == "null" {
            state.id = prior.id
            state.attributes["id"] = .string(prior.id)
        }
        return state
    }

    /// What the schema's default plan cannot know: a directory or file resource's id is its path, and a
    /// node's endpoint follows from its host and port — so both are known at plan time, and a port change
    /// reaches what refers to the endpoint in the same plan.
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        var response = defaultPlan(request)
        let kind = request.context.address.kind
        if kind != "null", let path = request.desired["path"], path.isKnown {
            response.planned["id"] = path
        }
        if kind == "node" {
            let host = request.desired["host"] ?? .string("127.0.0.1"), port = request.desired["port"] ?? .int(8080)
            response.planned["endpoint"] = host.isKnown && port.isKnown
                ? .string("http://\(host.interpolationText):\(port.interpolationText)") : .unknown
        }
        return response
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        let kind = context.address.kind
        switch kind {
        case "null":
            return prior
        case "file", "secret":
            let url = fileURL(prior.attributes["path"]?.stringValue ?? prior.id)
            guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
            var state = prior
            state.attributes[kind == "file" ? "content" : "value"] = .string(String(decoding: data, as: UTF8.self))
            return state
        default:
            let dir = directory(for: kind, path: prior.attributes["path"]?.stringValue ?? prior.id)
            guard FileManager.default.fileExists(atPath: dir.path) else { return nil }
            var state = prior
            if kind == "node" {
                var files: [String: AttributeValue] = [:]
                for name in (prior.attributes["files"]?.mapValue ?? [:]).keys {
                    if let data = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) {
                        files[name] = .string(String(decoding: data, as: UTF8.self))
                    }
                }
                state.attributes["files"] = .map(files)
            } else {
                let url = dir.appendingPathComponent(Self.documentName(kind))
                guard let data = FileManager.default.contents(atPath: url.path),
                      let body = try? JSONDecoder().decode([String: AttributeValue].self, from: data) else {
                    // An unreadable config is drift: every body attribute reads as absent, so apply rewrites it.
                    for key in Self.bodyKeys(kind, prior.attributes) { state.attributes[key] = nil }
                    return state
                }
                for key in Self.bodyKeys(kind, prior.attributes) { state.attributes[key] = nil }
                for (k, v) in body { state.attributes[k] = v }
            }
            return state
        }
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        let kind = context.address.kind
        if kind == "null" {
            try await simulate(context, prior.attributes, call: "delete")
            return
        }
        let fm = FileManager.default
        if kind == "file" || kind == "secret" {
            let url = fileURL(prior.attributes["path"]?.stringValue ?? prior.id)
            if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
            return
        }
        let dir = directory(for: kind, path: prior.attributes["path"]?.stringValue ?? prior.id)
        guard fm.fileExists(atPath: dir.path) else { return }
        // Only remove a directory this stack and address own.
        if let owner = Self.owner(of: dir), owner.address != context.address.description || owner.stack != stack {
            throw ProviderError(address: context.address, call: "delete",
                                message: "\(dir.path) belongs to \(owner.stack)/\(owner.address); not removing it")
        }
        try fm.removeItem(at: dir)
        removeEmptyParents(of: dir, upTo: kind == "backup_target" ? workingDirectory : root)
    }

    /// Adopts what is at path `id`: a directory resource's marker supplies what its files do not say.
    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        var attributes: [String: AttributeValue] = ["path": .string(id), "id": .string(id)]
        let kind = context.address.kind
        if kind != "file" && kind != "secret" && kind != "null" {
            guard let owner = Self.owner(of: directory(for: kind, path: id)) else {
                throw ProviderError(address: context.address, call: "import", message: "no maifctl-managed \(kind) at \(id)")
            }
            attributes.merge(owner.identity) { _, new in new }
            if kind == "node" {
                let dir = directory(for: kind, path: id)
                let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
                attributes["files"] = .map(Dictionary(uniqueKeysWithValues: names.filter { $0 != Self.marker }.map { ($0, AttributeValue.string("")) }))
                attributes["endpoint"] = .string("http://\(owner.identity["host"]?.stringValue ?? "127.0.0.1"):\(owner.identity["port"]?.intValue ?? 8080)")
            }
        }
        let placeholder = ResourceState(id: id, attributes: attributes)
        guard let state = try await read(context, placeholder) else {
            throw ProviderError(address: context.address, call: "import", message: "nothing found at \(id)")
        }
        return state
    }

    /// A directory resource is ours when its marker names this stack and address; a file when it exists
    /// at the path the create was for. `local.null` creates nothing outside, so there is nothing to find.
    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let kind = context.address.kind
        guard kind != "null", let path = config["path"]?.stringValue else { return nil }
        if kind != "file" && kind != "secret" {
            guard let owner = Self.owner(of: directory(for: kind, path: path)),
                  owner.address == context.address.description, owner.stack == stack else { return nil }
        } else if !FileManager.default.fileExists(atPath: fileURL(path).path) {  // local.file, local.secret
            return nil
        }
        var attributes = config
        attributes["id"] = .string(path)
        if kind == "node" {
            attributes["endpoint"] = .string("http://\(config["host"]?.stringValue ?? "127.0.0.1"):\(config["port"]?.intValue ?? 8080)")
        }
        // Read back what is really there, so a half-written resource shows as drift and is repaired.
        return try await read(context, ResourceState(id: path, attributes: attributes))
    }

    // MARK: Files

    private func write(_ context: ResourceContext, _ config: [String: AttributeValue]) throws -> ResourceState {
        let kind = context.address.kind
        var attributes = config
        let fm = FileManager.default
        do {
            switch kind {
            case "null":
                let id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
                attributes["id"] = .string(id)
                return ResourceState(id: id, attributes: attributes)
            case "file", "secret":
                guard let path = config["path"]?.stringValue else { throw missing("path", context) }
                let url = fileURL(path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try writeIfChanged(config[kind == "file" ? "content" : "value"]?.stringValue ?? "", to: url,
                                   mode: kind == "secret" ? 0o600 : nil)
                attributes["id"] = .string(path)
                return ResourceState(id: path, attributes: attributes)
            default:
                guard let path = config["path"]?.stringValue else { throw missing("path", context) }
                let dir = directory(for: kind, path: path)
                try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                // The marker names the owner (for find and safe deletes) and keeps what the files do not say, for import.
                let identity = config.filter { ["cluster", "name", "node_id", "role", "host", "port", "path"].contains($0.key) }
                let owner = AttributeValue.map(["stack": .string(stack), "address": .string(context.address.description),
                                                "identity": .map(identity)])
                try writeIfChanged(owner.canonicalJSON() + "\n", to: dir.appendingPathComponent(Self.marker))
                if kind == "node" {
                    for (name, content) in config["files"]?.mapValue ?? [:] {
                        guard !name.contains("/"), name != Self.marker else {
                            throw ProviderError(address: context.address, call: "write", message: "bad file name '\(name)'")
                        }
                        try writeIfChanged(content.stringValue ?? content.canonicalJSON(), to: dir.appendingPathComponent(name))
                    }
                    let host = config["host"]?.stringValue ?? "127.0.0.1"
                    attributes["endpoint"] = .string("http://\(host):\(config["port"]?.intValue ?? 8080)")
                } else {
                    var body: [String: AttributeValue] = [:]
                    for key in Self.bodyKeys(kind, config) { body[key] = config[key] }
                    try writeIfChanged(AttributeValue.map(body).canonicalJSON() + "\n", to: dir.appendingPathComponent(Self.documentName(kind)))
                }
                attributes["id"] = .string(path)
                return ResourceState(id: path, attributes: attributes)
            }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(address: context.address, call: "write", message: "\(error.localizedDescription)")
        }
    }

    private func writeIfChanged(_ text: String, to url: URL, mode: Int? = nil) throws {
        let data = Data(text.utf8)
        // Written in place: a run killed mid-write leaves a torn file, which `read` shows as drift and apply
        // repairs — never a temporary file nobody owns.
        if FileManager.default.contents(atPath: url.path) != data {
            try data.write(to: url)
        }
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path) }
    }

    /// The attributes written into a document-style resource's JSON file (everything but identity and bookkeeping).
    static func bodyKeys(_ kind: String, _ attributes: [String: AttributeValue]) -> [String] {
        let identity: Set<String> = ["id", "path", "cluster", "name", "delay_ms"]
        let schemaKeys = LocalSchema.provider.resources["local.\(kind)"]?.attributes.keys.map { $0 } ?? Array(attributes.keys)
        return schemaKeys.filter { !identity.contains($0) }.sorted()
    }

    static func documentName(_ kind: String) -> String {
        switch kind {
        case "load_balancer": return "load-balancer.json"
        case "backup_target": return "manifest.json"
        case "alert_rule": return "rule.json"
        default: return "\(kind).json"
        }
    }

    private func directory(for kind: String, path: String) -> URL {
        let base = kind == "backup_target" ? workingDirectory : root
        return URL(fileURLWithPath: path, isDirectory: true, relativeTo: base).standardizedFileURL
    }

    private func fileURL(_ path: String) -> URL {
        URL(fileURLWithPath: path, relativeTo: root).standardizedFileURL
    }

    private func removeEmptyParents(of url: URL, upTo stop: URL) {
        var dir = url.deletingLastPathComponent().standardizedFileURL
        while dir.path.hasPrefix(stop.standardizedFileURL.path), dir.path != stop.standardizedFileURL.path,
              let items = try? FileManager.default.contentsOfDirectory(atPath: dir.path), items.isEmpty {
            try? FileManager.default.removeItem(at: dir)
            dir = dir.deletingLastPathComponent().standardizedFileURL
        }
    }

    private func missing(_ attribute: String, _ context: ResourceContext) -> ProviderError {
        ProviderError(address: context.address, call: "create", message: "attribute '\(attribute)' is required")
    }

    /// `delay_ms` (any type) simulates a slow API; `fail` on `local.null` a failing one.
    private func simulate(_ context: ResourceContext, _ config: [String: AttributeValue], call: String) async throws {
        if let ms = config["delay_ms"]?.intValue, ms > 0 {
            try await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000)
        }
        if context.address.kind == "null", call != "delete", config["fail"]?.boolValue == true {
            throw ProviderError(address: context.address, call: call, message: "simulated failure (fail: true)")
        }
    }
}
