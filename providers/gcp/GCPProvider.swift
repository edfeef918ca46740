/// The `gcp` provider: Google's REST APIs (Compute Engine v1, Cloud Storage JSON API v1, Cloud DNS v1, Cloud
/// Monitoring v3) over AsyncHTTPClient with OAuth 2.0 tokens (GCPCredentials.swift); long-running Compute operations
/// waited for (Operations.swift); resources labelled `maif-stack` / `maif-address` (or, where the API has no labels,
/// described) with their owner, so `find` adopts what an interrupted create left.

import Foundation
import ProviderKit

public struct GCPProvider: Provider {
    public let client: GCPClient
    let stack: String
    /// Where `url_from` references are read (a webhook URL that is a credential).
    var environment: [String: String] = [:]
    public static let settings = GCPSettings.schema

    /// Throws when a credential the stack names by reference cannot be read or parsed, so a plan fails before anything
    /// is created.
    public init(configuration: ProviderConfiguration) throws {
        var settings = configuration.settings
        if settings.section.isEmpty { settings.section = "clouds.gcp" }
        let resolved = try GCPSettings.resolve(settings, environment: configuration.environment,
                                               workingDirectory: configuration.workingDirectory)
        self.init(client: GCPClient(settings: resolved), stack: configuration.stack, environment: configuration.environment)
    }

    public init(client: GCPClient, stack: String, environment: [String: String] = [:]) {
        self.client = client
        self.stack = stack
        self.environment = environment
    }

    public var schema: ProviderSchema { GCPProviderSchema.provider }

    public static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "gcp", version: "1.0.0",
                                             summary: "Google Cloud: Compute Engine, load balancing, Cloud Storage, Cloud DNS, Cloud Monitoring",
                                             settings: settings, schema: GCPProviderSchema.provider) {
            try GCPProvider(configuration: $0)
        })
    }

    public var usage: String? {
        let calls = client.callCount
        return calls == 0 ? nil : "\(calls) API calls"
    }

    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        Owner.mark(config, context)
    }

    /// The schema's default plan, with the desired configuration first brought to the form `read` reports (full
    /// self links for references, bare names for machine and disk types, free-form lists in a stable order).
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        var request = request
        request.desired = PlanForm.desired(request.context.address.kind, request.desired, project: client.settings.project)
        if let source = request.desired["url_from"]?.stringValue, ReferenceText.read(source, environment: environment) == nil {
            // A webhook the stack names by reference must be readable before anything is created.
            throw ProviderError(address: request.context.address, call: "plan", message: "url_from \(source) is not set or cannot be read")
        }
        return defaultPlan(request)
    }

    /// The implementation of one resource type.
    protocol Resource: Sendable {
        func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState
        func read(_ context: ResourceContext, id: String) async throws -> ResourceState?
        func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState
        func delete(_ context: ResourceContext, _ prior: ResourceState) async throws
        func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState?
    }

    func resource(_ context: ResourceContext) throws -> any Resource {
        let kind = context.address.kind
        if let spec = ComputeKinds.all[kind] { return ComputeResource(client: client, spec: spec) }
        switch kind {
        case "bucket": return BucketResource(client: client)
        case "dns_managed_zone": return ManagedZoneResource(client: client)
        case "dns_record_set": return RecordSetResource(client: client)
        case "alert_policy": return AlertPolicyResource(client: client)
        case "notification_channel": return AlertPolicyResource.notificationChannel(client: client, environment: environment)
        default:
            throw ProviderError(address: context.address, call: "apply", message: "the gcp provider does not manage \(context.address.type)")
        }
    }

    func named<T>(_ context: ResourceContext, _ body: () async throws -> T) async throws -> T {
        try await ProviderError.naming(context.address, translate: { ($0 as? GCPError)?.providerError }, body)
    }

    /// The configuration as the calls take it and the state records it: in the form `read` reports.
    func form(_ context: ResourceContext, _ config: [String: AttributeValue]) -> [String: AttributeValue] {
        PlanForm.desired(context.address.kind, config, project: client.settings.project)
    }

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let config = form(context, config)
        return try await named(context) { StateForm.recorded(try await resource(context).create(context, config), config, context.address.type) }
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        try await named(context) {
            guard let now = try await resource(context).read(context, id: prior.id) else { return nil }
            return StateForm.managed(now, prior: prior.attributes, type: context.address.type)
        }
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let config = form(context, config)
        return try await named(context) {
            StateForm.recorded(try await resource(context).update(context, prior, config), config, context.address.type)
        }
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await named(context) { try await resource(context).delete(context, prior) }
    }

    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        try await named(context) {
            guard let state = try await resource(context).read(context, id: id) else {
                throw ProviderError(address: context.address, call: "import", message: "no \(context.address.type) \(id)")
            }
            return state
        }
    }

    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        let config = form(context, config)
        return try await named(context) {
            try await resource(context).find(context, config).map { StateForm.recorded($0, config, context.address.type) }
        }
    }
}
