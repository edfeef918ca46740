/// The swarm objects that cannot change once created: overlay networks, volumes, configs and secrets.
/// Configs and secrets get versioned names (see `VersionedNames`); a name that is taken is adopted only when its
/// labels say it is this stack's object at this address (what a crash between create and record leaves behind).

import Foundation
import ProviderKit

/// How long a delete waits for tasks that are still letting go of a network or volume after their service went.
let inUseGrace: Double = 30

struct NetworkResource: SwarmProvider.Resource {
    let docker: DockerClient

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.stringValue ?? ""
        var body: [String: AttributeValue] = [
            "Name": .string(name), "Driver": .string(config["driver"]?.stringValue ?? "overlay"), "CheckDuplicate": true,
            "Attachable": .bool(config["attachable"]?.boolValue ?? false), "Internal": .bool(config["internal"]?.boolValue ?? false),
            "Labels": .map(ownerLabels(config, context).mapValues { .string($0) }),
        ]
        if let options = config["options"]?.mapValue { body["Options"] = .map(options.mapValues { .string($0.interpolationText) }) }
        var id: String
        do {
            id = try await docker.call("NetworkCreate", .POST, "/networks/create", body: .map(body)).json.mapValue?["Id"]?.stringValue ?? ""
        } catch let error as DockerError where error.isConflict {
            id = try await adopt(context, name: name, kind: "network") { try await docker.optional("NetworkInspect", "/networks/\(name)") }
        }
        return try await readBack(context, id: id, shape: config)
    }

    func read(_ context: ResourceContext, id: String, prior: [String: AttributeValue]?) async throws -> ResourceState? {
        guard let n = try await docker.optional("NetworkInspect", "/networks/\(id)")?.mapValue else { return nil }
        var a: [String: AttributeValue] = [
            "id": n["Id"] ?? .string(id), "name": n["Name"] ?? .null, "driver": n["Driver"] ?? .null,
            "attachable": n["Attachable"] ?? false, "internal": n["Internal"] ?? false, "labels": labelsValue(n["Labels"]),
        ]
        // Docker adds its own driver options (the VXLAN id): only the ones the stack set are reported.
        if let shape = prior?["options"] {
            a["options"] = SpecProjection.project(n["Options"] ?? .map([:]), onto: shape)
        } else if prior == nil, let options = n["Options"], options.mapValue?.isEmpty == false {
            a["options"] = options
        }
        return ResourceState(id: a["id"]?.stringValue ?? id, attributes: a)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await deleteWaitingWhileInUse { try await docker.call("NetworkDelete", .DELETE, "/networks/\(prior.id)") }
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let list = try await docker.call("NetworkList", .GET, "/networks", query: DockerClient.labelFilter(owner(context))).json
        guard let id = list.listValue?.first?.mapValue?["Id"]?.stringValue else { return nil }
        return try await read(context, id: id, prior: config)
    }

    private func readBack(_ context: ResourceContext, id: String, shape: [String: AttributeValue]) async throws -> ResourceState {
        guard let state = try await read(context, id: id, prior: shape) else {
            throw ProviderError(address: context.address, call: "create", message: "network \(id) was created but is not there")
        }
        return state
    }
}

struct VolumeResource: SwarmProvider.Resource {
    let docker: DockerClient

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let name = config["name"]?.stringValue ?? ""
        var body: [String: AttributeValue] = [
            "Name": .string(name), "Driver": .string(config["driver"]?.stringValue ?? "local"),
            "Labels": .map(ownerLabels(config, context).mapValues { .string($0) }),
        ]
        if let options = config["driver_opts"]?.mapValue { body["DriverOpts"] = .map(options.mapValues { .string($0.interpolationText) }) }
        // Docker answers a create for an existing name with that volume, whatever its labels: check they are ours.
        let made = try await docker.call("VolumeCreate", .POST, "/volumes/create", body: .map(body)).json.mapValue ?? [:]
        let labels = stringMap(made["Labels"])
        guard labels[ownerAddressLabel] == context.address.description, labels[ownerStackLabel] == context.stack else {
            let origin = labels.isEmpty ? " (Docker makes an unlabelled one when a task mounts a volume that does not exist yet)" : ""
            throw ProviderError(address: context.address, call: "create",
                                message: "a volume named \(name) already exists and is not this stack's (labels: \(describe(labels)))\(origin); remove it or choose another name")
        }
        guard let state = try await read(context, id: name, prior: config) else {
            throw ProviderError(address: context.address, call: "create", message: "volume \(name) was created but is not there")
        }
        return state
    }

    func read(_ context: ResourceContext, id: String, prior: [String: AttributeValue]?) async throws -> ResourceState? {
        guard let v = try await docker.optional("VolumeInspect", "/volumes/\(id)")?.mapValue else { return nil }
        var a: [String: AttributeValue] = [
            "id": v["Name"] ?? .string(id), "name": v["Name"] ?? .string(id), "driver": v["Driver"] ?? .null,
            "labels": labelsValue(v["Labels"]),
        ]
        if let shape = prior?["driver_opts"] {
            a["driver_opts"] = SpecProjection.project(v["Options"] ?? .map([:]), onto: shape)
        } else if prior == nil, let options = v["Options"], options.mapValue?.isEmpty == false {
            a["driver_opts"] = options
        }
        return ResourceState(id: id, attributes: a)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await deleteWaitingWhileInUse { try await docker.call("VolumeDelete", .DELETE, "/volumes/\(prior.id)") }
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let list = try await docker.call("VolumeList", .GET, "/volumes", query: DockerClient.labelFilter(owner(context))).json
        guard let name = list.mapValue?["Volumes"]?.listValue?.first?.mapValue?["Name"]?.stringValue else { return nil }
        return try await read(context, id: name, prior: config)
    }
}

/// Configs and secrets share their API shape (`/configs`, `/secrets`) and their versioning.
struct ImmutableObjectResource: SwarmProvider.Resource {
    enum Kind: String, Sendable {
        case config, secret
        var path: String { "/\(rawValue)s" }
        var operation: String { rawValue == "config" ? "Config" : "Secret" }
    }

    let docker: DockerClient
    let kind: Kind
    let configuration: ProviderConfiguration

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let base = config["name"]?.stringValue ?? ""
        let data: String, name: String
        switch kind {
        case .config:
            data = config["data"]?.stringValue ?? ""
            name = VersionedNames.config(base: base, data: data)
        case .secret:
            data = try SecretValue.resolve(config, configuration: configuration)
            let existing = try await list(owner(context)).compactMap { $0.mapValue?["Spec"]?.mapValue?["Name"]?.stringValue }
            name = VersionedNames.secret(base: base, version: VersionedNames.nextSecretVersion(base: base, existing: existing))
        }
        let body: AttributeValue = .map([
            "Name": .string(name), "Data": .string(Data(data.utf8).base64EncodedString()),
            "Labels": .map(ownerLabels(config, context).mapValues { .string($0) }),
        ])
        var id: String
        do {
            id = try await docker.call("\(kind.operation)Create", .POST, "\(kind.path)/create", body: body).json.mapValue?["ID"]?.stringValue ?? ""
        } catch let error as DockerError where error.isConflict {
            // Same name, same data (the name is the data's digest): what an interrupted run created.
            id = try await adopt(context, name: name, kind: kind.rawValue) { try await docker.optional("\(kind.operation)Inspect", "\(kind.path)/\(name)") }
        }
        guard let state = try await read(context, id: id, prior: config) else {
            throw ProviderError(address: context.address, call: "create", message: "\(kind.rawValue) \(name) was created but is not there")
        }
        return state
    }

    func read(_ context: ResourceContext, id: String, prior: [String: AttributeValue]?) async throws -> ResourceState? {
        guard let object = try await docker.optional("\(kind.operation)Inspect", "\(kind.path)/\(id)")?.mapValue else { return nil }
        let spec = object["Spec"]?.mapValue ?? [:]
        var a: [String: AttributeValue] = [
            "id": object["ID"] ?? .string(id), "versioned_name": spec["Name"] ?? .null, "labels": labelsValue(spec["Labels"]),
        ]
        // What the stack wrote and Docker does not give back (a secret's value never comes back) keeps its recorded value.
        for key in ["name", "data", "data_from", "generate_length"] { if let v = prior?[key] { a[key] = v } }
        if kind == .config, let encoded = spec["Data"]?.stringValue, let bytes = Data(base64Encoded: encoded) {
            a["data"] = .string(String(decoding: bytes, as: UTF8.self))
        }
        if a["name"] == nil, let versioned = spec["Name"]?.stringValue {
            // Imported without a record: the base name is the versioned one without its suffix.
            a["name"] = .string(Self.baseName(of: versioned, kind: kind))
        }
        return ResourceState(id: a["id"]?.stringValue ?? id, attributes: a)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do {
            _ = try await docker.call("\(kind.operation)Delete", .DELETE, "\(kind.path)/\(prior.id)")
        } catch let error as DockerError where error.isNotFound {}
    }

    /// The newest object with this address's labels: for a config the one holding the configured data.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let objects = try await list(owner(context)).compactMap(\.mapValue)
        let base = config["name"]?.stringValue ?? ""
        let chosen: [String: AttributeValue]?
        switch kind {
        case .config:
            let wanted = config["data"]?.stringValue.map { VersionedNames.config(base: base, data: $0) }
            chosen = objects.first { $0["Spec"]?.mapValue?["Name"]?.stringValue == wanted }
        case .secret:
            chosen = objects.max {
                (VersionedNames.version(of: $0["Spec"]?.mapValue?["Name"]?.stringValue ?? "", base: base) ?? 0)
                    < (VersionedNames.version(of: $1["Spec"]?.mapValue?["Name"]?.stringValue ?? "", base: base) ?? 0)
            }
        }
        guard let id = chosen?["ID"]?.stringValue else { return nil }
        return try await read(context, id: id, prior: config)
    }

    private func list(_ labels: [String: String]) async throws -> [AttributeValue] {
        try await docker.call("\(kind.operation)List", .GET, kind.path, query: DockerClient.labelFilter(labels)).json.listValue ?? []
    }

    static func baseName(of versioned: String, kind: Kind) -> String {
        guard let dash = versioned.lastIndex(of: "-") else { return versioned }
        let suffix = versioned[versioned.index(after: dash)...]
        let versionedSuffix = kind == .config ? suffix.count == 12 && suffix.allSatisfy(\.isHexDigit)
            : suffix.first == "v" && Int(suffix.dropFirst()) != nil
        return versionedSuffix ? String(versioned[..<dash]) : versioned
    }
}

/// Where a secret's value comes from: exactly one of `data`, `data_from` (`env:NAME`, `file:PATH`), `generate_length`.
enum SecretValue {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func resolve(_ config: [String: AttributeValue], configuration: ProviderConfiguration) throws -> String {
        let given = ["data", "data_from", "generate_length"].filter { config[$0] != nil && config[$0] != .null }
        guard given.count == 1 else {
            throw ProviderError(address: nil, call: "create",
                                message: given.isEmpty ? "a swarm.secret needs one of data, data_from or generate_length"
                                    : "a swarm.secret takes only one of data, data_from and generate_length, not \(given.joined(separator: " and "))")
        }
        if let data = config["data"]?.stringValue {
            if Sensitive.isPlaceholder(config["data"]!) {
                throw ProviderError(address: nil, call: "create", message: "the secret's value is only a placeholder here; apply from the stack, not from a saved state")
            }
            return data
        }
        if let length = config["generate_length"]?.intValue {
            guard (8...4096).contains(length) else {
                throw ProviderError(address: nil, call: "create", message: "generate_length must be from 8 to 4096, got \(length)")
            }
            var rng = SystemRandomNumberGenerator()
            return String((0..<length).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
        }
        let source = config["data_from"]?.stringValue ?? ""
        if source.hasPrefix("env:") {
            let name = String(source.dropFirst(4))
            guard let value = configuration.environment[name] ?? ProcessInfo.processInfo.environment[name] else {
                throw ProviderError(address: nil, call: "create", message: "data_from \(source): the environment variable \(name) is not set")
            }
            return value
        }
        if source.hasPrefix("file:") {
            var path = String(source.dropFirst(5))
            if path == "~" || path.hasPrefix("~/") { path = (configuration.environment["HOME"] ?? NSHomeDirectory()) + path.dropFirst() }
            if !path.hasPrefix("/") { path = configuration.workingDirectory + "/" + path }
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ProviderError(address: nil, call: "create", message: "data_from \(source): cannot read \(path)")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        throw ProviderError(address: nil, call: "create", message: "data_from must be env:NAME or file:PATH, got '\(source)'")
    }
}

// MARK: shared by every type

let ownerStackLabel = "maif.stack"
let ownerAddressLabel = "maif.address"

/// `maif.stack` and `maif.address`: how `find` recognises what a create left behind.
func owner(_ context: ResourceContext) -> [String: String] {
    [ownerStackLabel: context.stack, ownerAddressLabel: context.address.description]
}

/// The configured labels with the owner labels added (raw resources may leave them out).
func ownerLabels(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: String] {
    stringMap(config["labels"]).merging(owner(context)) { $1 }
}

func stringMap(_ value: AttributeValue?) -> [String: String] {
    (value?.mapValue ?? [:]).compactMapValues { $0 == .null ? nil : $0.interpolationText }
}

func labelsValue(_ value: AttributeValue?) -> AttributeValue {
    .map(stringMap(value).mapValues { .string($0) })
}

func describe(_ labels: [String: String]) -> String {
    labels.isEmpty ? "none" : labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ", ")
}

/// After a 409 on create: the existing object's id when its labels say it is this address's, else a clear error.
func adopt(_ context: ResourceContext, name: String, kind: String, inspect: () async throws -> AttributeValue?) async throws -> String {
    guard let existing = try await inspect()?.mapValue else {
        throw ProviderError(address: context.address, call: "create", message: "Docker says a \(kind) named \(name) exists, but it cannot be inspected")
    }
    let labels = stringMap(existing["Labels"] ?? existing["Spec"]?.mapValue?["Labels"])
    guard labels[ownerAddressLabel] == context.address.description, labels[ownerStackLabel] == context.stack else {
        throw ProviderError(address: context.address, call: "create",
                            message: "a \(kind) named \(name) already exists and is not this stack's (labels: \(describe(labels))); remove it or choose another name")
    }
    return (existing["Id"] ?? existing["ID"])?.stringValue ?? name
}

/// Deletes, treating "not found" as done and waiting (bounded) while Docker says the object is still in use:
/// the tasks of a service that was just removed let go of its network and volume a moment later.
func deleteWaitingWhileInUse(_ delete: () async throws -> DockerResponse) async throws {
    let deadline = Date().addingTimeInterval(inUseGrace)
    while true {
        do {
            _ = try await delete()
            return
        } catch let error as DockerError where error.isNotFound {
            return
        } catch let error as DockerError where error.isInUse && Date() < deadline {
            try await Task.sleep(nanoseconds: 500_000_000)
        }
    }
}
