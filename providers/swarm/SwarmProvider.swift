/// The `swarm` provider: Docker Engine API calls (see DockerClient.swift) for overlay networks, volumes, configs,
/// secrets and services, every object labelled `maif.stack`/`maif.address` so that `find` can adopt what an
/// interrupted run created, and every record carrying the id of the swarm it lives in.

import Foundation
import ProviderKit

public struct SwarmProvider: Provider {
    let settings: Result<SwarmSettings, ProviderError>
    let configuration: ProviderConfiguration
    let swarm: SwarmIdentity

    public init(configuration: ProviderConfiguration) {
        self.configuration = configuration
        settings = SwarmSettings.resolve(settings: configuration.settings, environment: configuration.environment,
                                         workingDirectory: configuration.workingDirectory)
        swarm = SwarmIdentity()
    }

    public var schema: ProviderSchema { SwarmProviderSchema.provider }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "swarm", version: "1.0.0",
                                             summary: "Docker Swarm through the Docker Engine API (unix socket, or TCP with TLS)",
                                             settings: settings, schema: SwarmProviderSchema.provider) { SwarmProvider(configuration: $0) })
    }

    public static let settings = SettingsSchema([
        SettingSchema("host", .string, description: "the Docker daemon, unix:///PATH or tcp://HOST:PORT; DOCKER_HOST overrides it, as for the docker CLI"),
        SettingSchema("cert_path", .path, description: "a folder with ca.pem, cert.pem and key.pem for a TCP host (TLS)"),
        SettingSchema("tls_verify", .bool, description: "check the daemon's certificate against cert_path/ca.pem (default true with a cert_path)"),
        SettingSchema("call_timeout", .duration, description: "how long one API call may take (default 30s)"),
        SettingSchema("wait_for_running", .duration, description: "how long apply waits for a service's tasks to run; unset: it does not wait"),
    ])

    /// The implementation of one resource type. `prior` is what was recorded (or configured): read reports the live
    /// object in that shape; nil (import) reports all of it.
    protocol Resource: Sendable {
        func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState
        func read(_ context: ResourceContext, id: String, prior: [String: AttributeValue]?) async throws -> ResourceState?
        func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState
        func delete(_ context: ResourceContext, _ prior: ResourceState) async throws
        func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState?
    }

    func resource(_ context: ResourceContext) throws -> any Resource {
        let docker = try client()
        switch context.address.kind {
        case "network": return NetworkResource(docker: docker)
        case "volume": return VolumeResource(docker: docker)
        case "config": return ImmutableObjectResource(docker: docker, kind: .config, configuration: configuration)
        case "secret": return ImmutableObjectResource(docker: docker, kind: .secret, configuration: configuration)
        case "service": return ServiceResource(docker: docker)
        default:
            throw ProviderError(address: context.address, call: "apply", message: "the swarm provider has no resource type \(context.address.type)")
        }
    }

    func client() throws -> DockerClient {
        switch settings {
        case .success(let s): return DockerClient(settings: s)
        case .failure(let e): throw e
        }
    }

    // MARK: plan

    /// The schema's default plan, plus: the owner labels every object gets, a config's versioned name (known from its
    /// data), and a service's version index, which any update changes.
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        var request = request
        let kind = request.context.address.kind
        if kind == "service" {
            if case .map = request.desired["spec"] ?? .null {
                request.desired["spec"] = .map(ServiceResource.spec(request.desired, request.context))
            }
        } else if request.desired["labels"]?.isKnown ?? true {
            request.desired["labels"] = .map(ownerLabels(request.desired, request.context).mapValues { .string($0) })
        }
        var response = defaultPlan(request)
        switch kind {
        case "config":
            if let name = request.desired["name"]?.stringValue, let data = request.desired["data"]?.stringValue {
                response.planned["versioned_name"] = .string(VersionedNames.config(base: name, data: data))
            }
        case "service":
            if let prior = request.prior, response.requiresReplace.isEmpty, prior.attributes["spec"] != response.planned["spec"] {
                response.planned["version"] = .unknown
            }
        default: break
        }
        return response
    }

    // MARK: calls

    /// Runs a call, naming the resource and the Docker call in whatever it throws.
    func named<T>(_ context: ResourceContext, _ call: String, _ body: () async throws -> T) async throws -> T {
        try await ProviderError.naming(context.address, translate: { ($0 as? DockerError)?.providerError }, body)
    }

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await named(context, "create") {
            let swarmID = try await checkSwarm(recorded: nil)
            return stamped(Self.managed(try await resource(context).create(context, config), configured: config, context), swarmID)
        }
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await named(context, "read") {
            let swarmID = try await checkSwarm(recorded: prior.attributes["swarm_id"]?.stringValue)
            guard let now = try await resource(context).read(context, id: prior.id, prior: prior.attributes) else { return nil }
            return stamped(Self.managed(now, configured: prior.attributes, context), swarmID)
        }
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await named(context, "update") {
            let swarmID = try await checkSwarm(recorded: prior.attributes["swarm_id"]?.stringValue)
            return stamped(Self.managed(try await resource(context).update(context, prior, config), configured: config, context), swarmID)
        }
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await named(context, "delete") {
            _ = try await checkSwarm(recorded: prior.attributes["swarm_id"]?.stringValue)
            try await resource(context).delete(context, prior)
        }
    }

    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        try await named(context, "import") {
            let swarmID = try await checkSwarm(recorded: nil)
            guard let state = try await resource(context).read(context, id: id, prior: nil) else {
                throw ProviderError(address: context.address, call: "import", message: "no \(context.address.kind) \(id) in the swarm")
            }
            return stamped(state, swarmID)
        }
    }

    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await named(context, "find") {
            let swarmID = try await checkSwarm(recorded: nil)
            return try await resource(context).find(context, config).map { stamped(Self.managed($0, configured: config, context), swarmID) }
        }
    }

    /// What a call reports: the attributes the stack sets (or recorded) and the computed ones, so that a setting the
    /// stack leaves to Docker's default (`internal: false`) never shows as a change.
    static func managed(_ state: ResourceState, configured: [String: AttributeValue], _ context: ResourceContext) -> ResourceState {
        let computed = SwarmProviderSchema.provider.resources[context.address.type]?.computedAttributes ?? []
        var out = state
        out.attributes = state.attributes.filter { configured[$0.key] != nil || computed.contains($0.key) || $0.key == "labels" }
        return out
    }

    func stamped(_ state: ResourceState, _ swarmID: String) -> ResourceState {
        var state = state
        state.attributes["swarm_id"] = .string(swarmID)
        return state
    }

    /// The id of the swarm behind the endpoint (asked once per run), refusing to go on when the record was made in
    /// another swarm: a missing object there would otherwise look deleted, and be created again in the wrong place.
    func checkSwarm(recorded: String?) async throws -> String {
        let docker = try client()
        let id = try await swarm.id {
            do {
                let info = try await docker.call("SwarmInspect", .GET, "/swarm").json
                return info.mapValue?["ID"]?.stringValue ?? ""
            } catch let error as DockerError where error.status == 503 || error.status == 406 {
                throw ProviderError(address: nil, call: "docker SwarmInspect",
                                    message: "the Docker daemon at \(docker.settings.endpoint) (from \(docker.settings.source)) is not a swarm manager: \(error.message)")
            }
        }
        if let recorded, !recorded.isEmpty, recorded != id {
            throw ProviderError(address: nil, call: "connect", message:
                "this resource was recorded in swarm \(recorded), but the Docker daemon at \(docker.settings.endpoint) (from \(docker.settings.source)) manages swarm \(id); point \(docker.settings.source == "DOCKER_HOST" ? "DOCKER_HOST" : "clouds.swarm.host") at the swarm this state belongs to")
        }
        return id
    }
}

extension SwarmProvider.Resource {
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        // Every attribute of these types is force-new: the planner replaces them instead.
        throw ProviderError(address: context.address, call: "update", message: "\(context.address.type) cannot be changed in place")
    }
}

/// The swarm's id, looked up once and shared by every call of one provider instance.
final class SwarmIdentity: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?

    func id(_ lookup: () async throws -> String) async throws -> String {
        if let known = lock.withLock({ value }) { return known }
        let fetched = try await lookup()
        lock.withLock { value = fetched }
        return fetched
    }
}
