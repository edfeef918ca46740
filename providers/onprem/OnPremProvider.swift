/// The `onprem` provider: hosts reached over SSH with the system OpenSSH client, and the directories, files and
/// systemd units maifctl puts on them (schemas in OnPremProviderSchema.swift, remote scripts in RemoteScripts.swift).
///
/// Settings (from `clouds.onprem`): `user` (root), `port` (22), `key_file` or `key_env` (the name of an environment
/// variable holding a private key), `jump_host`, `known_hosts`, `strict_host_key_checking` (true; false means
/// `StrictHostKeyChecking=no` and `UserKnownHostsFile=/dev/null`, for test labs only), `connect_timeout` (seconds, 10),
/// and `root` ("/"): a prefix for every path on the hosts, so tests that run as root on one machine write under a
/// temporary directory instead of the real /etc (`{host}` in it is replaced by the host's address). A `host` may carry its own port as `address:port`.
///
/// Ownership: every create first writes a marker `<root>/var/lib/maif/resources/<stack>/<address>.json` on the host,
/// then the object, in one ssh command; `find` adopts after a crash only what such a marker names, never a file that
/// merely exists at the path.

import Foundation
import ProviderKit

public struct OnPremProvider: Provider {
    public var schema: ProviderSchema { OnPremProviderSchema.provider }
    let stack: String
    let settings: OnPremSettings
    let client: SSHClient
    let hosts = HostDirectory()

    public init(configuration: ProviderConfiguration) throws {
        stack = configuration.stack
        settings = try OnPremSettings(configuration)
        client = SSHClient(options: settings.clientOptions)
    }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "onprem", version: "1.0.0",
                                             summary: "hosts reached over SSH (the system OpenSSH client): files, directories, systemd units",
                                             settings: settings, schema: OnPremProviderSchema.provider) { try OnPremProvider(configuration: $0) })
    }

    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        OwnerTags.add(to: config, context, schema: schema)
    }

    public static let settings = SettingsSchema([
        SettingSchema("user", .string, description: "the ssh user (default root); another user makes its changes through sudo"),
        SettingSchema("key", .string, references: .required,
                      description: "the private key: {file: PATH} is passed to ssh -i, {env: NAME} holds the key itself; else ssh's own"),
        SettingSchema("port", .int(1...65535), description: "the ssh port (default 22); a host may carry its own as address:port"),
        SettingSchema("jump_host", .string, description: "a bastion every connection goes through (ssh -J)"),
        SettingSchema("known_hosts", .path, description: "the known_hosts file host keys are checked against"),
        SettingSchema("strict_host_key_checking", .bool, default: true,
                      description: "refuse unknown host keys; false is for test labs only"),
        SettingSchema("ssh_config", .path, description: "an OpenSSH client configuration file (ssh -F): aliases, HostName, ProxyJump"),
        SettingSchema("connect_timeout", .int(1...600), description: "seconds ssh waits for a connection (default 10)"),
        SettingSchema("root", .string, description: "a prefix for every path maifctl writes on the hosts (default /); {host} is the host's address"),
    ])

    /// Per "address:port": ssh commands run and connections opened, for the apply's closing note.
    public var connectionStatistics: (commands: [String: Int], connections: [String: Int]) { client.statistics.snapshot }

    public var usage: String? {
        let (commands, connections) = connectionStatistics
        guard !commands.isEmpty else { return nil }
        let opened = connections.values.reduce(0, +)
        return "\(commands.values.reduce(0, +)) ssh commands over \(opened) connection\(opened == 1 ? "" : "s") to \(commands.count) host\(commands.count == 1 ? "" : "s")"
    }

    /// Closes every shared connection this provider opened and removes its control directory.
    public func shutdown() async {
        await client.closeAll()
        try? FileManager.default.removeItem(atPath: settings.clientOptions.controlDirectory)
    }

    // MARK: Contract

    /// A file's checksum follows from its content, so it is known at plan time.
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        var response = defaultPlan(request)
        if request.context.address.type == "onprem.file", let content = request.desired["content"] {
            response.planned["sha256"] = content.isKnown ? content.stringValue.map { .string(Digest.sha256($0)) } ?? .unknown : .unknown
        }
        return response
    }

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await call(context, "create") { try await apply(context, prior: nil, config) }
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await call(context, "update") { try await apply(context, prior: prior, config) }
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await call(context, "read") {
            let target = try target(for: context.address.type, prior.attributes)
            let remote = RemoteObject(context.address.type, prior.attributes, settings: settings, stack: stack, address: context.address)
            switch context.address.type {
            case "onprem.host":
                var state = prior
                state.attributes["facts"] = .map(try await facts(target))
                return state
            case "onprem.directory":
                guard let found = try await RemoteScripts.stat(client, target, remote.path) else { return nil }
                var state = prior
                state.attributes.merge(found.attributes(like: prior.attributes)) { $1 }
                return state
            case "onprem.file", "onprem.systemd_unit":
                guard let found = try await RemoteScripts.readFile(client, target, remote.path) else { return nil }
                var state = prior
                state.attributes["content"] = .string(String(decoding: found.content, as: UTF8.self))
                if context.address.type == "onprem.file" {
                    state.attributes.merge(found.stat.attributes(like: prior.attributes)) { $1 }
                    state.attributes["sha256"] = .string(found.sha256)
                } else if let unit = try await RemoteScripts.unitStatus(client, target, remote, settings: settings) {
                    state.attributes["enabled"] = .bool(unit.enabled)
                    state.attributes["state"] = .string(unit.active == "active" ? "started" : "stopped")
                    state.attributes["active_state"] = .string(unit.active)
                }
                return state
            default:
                throw unsupported(context)
            }
        }
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await call(context, "delete") {
            let target = try target(for: context.address.type, prior.attributes)
            let remote = RemoteObject(context.address.type, prior.attributes, settings: settings, stack: stack, address: context.address)
            switch context.address.type {
            case "onprem.host":
                await client.close(target)
            case "onprem.directory":
                _ = try await client.check(target, script: RemoteScripts.removeDirectory(remote))
            case "onprem.file":
                _ = try await client.check(target, script: RemoteScripts.removeFile(remote))
            case "onprem.systemd_unit":
                _ = try await client.check(target, script: RemoteScripts.removeUnit(remote, systemd: settings.managesSystemd))
            default:
                throw unsupported(context)
            }
        }
    }

    /// Ids: a host is its address; the rest are `host:path` (`host:name` for units).
    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        var attributes: [String: AttributeValue] = [:]
        switch context.address.type {
        case "onprem.host":
            attributes["address"] = .string(id)
        case "onprem.directory", "onprem.file":
            guard let split = id.range(of: ":/") else {
                throw ProviderError(address: context.address, call: "import", message: "id '\(id)' is not host:/absolute/path")
            }
            attributes["host"] = .string(String(id[..<split.lowerBound]))
            attributes["path"] = .string(String(id[id.index(after: split.lowerBound)...]))
        case "onprem.systemd_unit":
            guard let split = id.lastIndex(of: ":") else {
                throw ProviderError(address: context.address, call: "import", message: "id '\(id)' is not host:unit-name")
            }
            attributes["host"] = .string(String(id[..<split]))
            attributes["name"] = .string(String(id[id.index(after: split)...]))
        default:
            throw unsupported(context)
        }
        let prior = ResourceState(id: id, attributes: attributes)
        guard let state = try await read(context, prior) else {
            throw ProviderError(address: context.address, call: "import", message: "nothing found for id '\(id)'")
        }
        return state
    }

    /// What an interrupted create left behind, by its marker; a host leaves nothing behind.
    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard context.address.type != "onprem.host" else { return nil }
        return try await call(context, "find") {
            let target = try target(for: context.address.type, config)
            let remote = RemoteObject(context.address.type, config, settings: settings, stack: stack, address: context.address)
            guard try await RemoteScripts.markerExists(client, target, remote) else { return nil }
            return try await read(context, ResourceState(id: remote.id, attributes: config))
        }
    }

    // MARK: Applying

    func apply(_ context: ResourceContext, prior: ResourceState?, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let type = context.address.type
        let target = try target(for: type, config)
        let remote = RemoteObject(type, config, settings: settings, stack: stack, address: context.address)
        var attributes = config
        switch type {
        case "onprem.host":
            attributes["facts"] = .map(try await facts(target))
        case "onprem.directory":
            _ = try await client.check(target, script: RemoteScripts.writeDirectory(remote))
        case "onprem.file":
            let content = Data((config["content"]?.stringValue ?? "").utf8)
            let result = try await client.check(target, script: RemoteScripts.writeFile(remote), input: content)
            attributes["sha256"] = .string(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        case "onprem.systemd_unit":
            let restart = prior.map { $0.attributes["content"] != config["content"] || $0.attributes["restart_triggers"] != config["restart_triggers"] } ?? false
            let result = try await client.check(target, script: RemoteScripts.writeUnit(remote, systemd: settings.managesSystemd, restart: restart),
                                                input: Data((config["content"]?.stringValue ?? "").utf8))
            attributes["active_state"] = .string(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        default:
            throw unsupported(context)
        }
        return ResourceState(id: remote.id, attributes: attributes)
    }

    func facts(_ target: SSHTarget) async throws -> [String: AttributeValue] {
        let result = try await client.check(target, script: RemoteScripts.facts)
        var facts: [String: AttributeValue] = [:]
        for line in result.output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<eq])] = .string(String(line[line.index(after: eq)...]))
        }
        return facts
    }

    // MARK: Hosts

    /// The connection for a resource: a host resource's own settings, or those a host resource recorded for the address.
    func target(for type: String, _ attributes: [String: AttributeValue]) throws -> SSHTarget {
        let hostText = (type == "onprem.host" ? attributes["address"] : attributes["host"])?.stringValue ?? ""
        guard !hostText.isEmpty else { throw SSHConfigurationError(message: "no host address") }
        let (address, explicitPort) = Self.splitHostPort(hostText)
        if type != "onprem.host", let known = hosts.target(address), explicitPort == nil || explicitPort == known.port { return known }
        let user = attributes["user"]?.stringValue ?? settings.user
        let target = SSHTarget(
            address: address,
            port: explicitPort ?? attributes["port"]?.intValue.map(Int.init) ?? settings.port,
            user: user,
            jumpHost: attributes["jump_host"]?.stringValue ?? settings.jumpHost,
            become: attributes["become"]?.boolValue ?? (user != "root"))
        if type == "onprem.host" { hosts.record(target) }
        return target
    }

    static func splitHostPort(_ text: String) -> (String, Int?) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let port = text[text.index(after: close)...].dropFirst()
            return (String(text[text.index(after: text.startIndex)..<close]), Int(port))
        }
        let parts = text.split(separator: ":")
        if parts.count == 2, let port = Int(parts[1]) { return (String(parts[0]), port) }
        return (text, nil)
    }

    /// Every failure becomes a `ProviderError` naming the resource and the call; ssh's message names host and port.
    func call<T>(_ context: ResourceContext, _ name: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as ProviderError { throw error } catch {
            throw ProviderError(address: context.address, call: name, message: "\(error)")
        }
    }

    func unsupported(_ context: ResourceContext) -> ProviderError {
        ProviderError(address: context.address, call: "apply", message: "the onprem provider has no resource type \(context.address.type)")
    }
}

/// Connection settings learned from `onprem.host` resources in this run, so a file on the host uses the same ones.
final class HostDirectory: @unchecked Sendable {
    private let lock = NSLock()
    private var targets: [String: SSHTarget] = [:]

    func record(_ target: SSHTarget) {
        lock.lock(); defer { lock.unlock() }
        targets[target.address] = target
    }

    func target(_ address: String) -> SSHTarget? {
        lock.lock(); defer { lock.unlock() }
        return targets[address]
    }

    var allTargets: [SSHTarget] {
        lock.lock(); defer { lock.unlock() }
        return Array(targets.values)
    }
}
