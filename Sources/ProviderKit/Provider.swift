/// The provider contract: the only code that talks to an outside system implements this.

/// What a provider knows about the resource a call is for; providers tag what they create with it.
public struct ResourceContext: Sendable, Hashable {
    public var stack: String
    public var address: ResourceAddress

    public init(stack: String, address: ResourceAddress) {
        self.stack = stack
        self.address = address
    }
}

/// A resource as the provider reports it: its id and every attribute, computed ones included.
public struct ResourceState: Sendable, Hashable, Codable {
    public var id: String
    public var attributes: [String: AttributeValue]

    public init(id: String, attributes: [String: AttributeValue]) {
        self.id = id
        self.attributes = attributes
    }
}

public struct PlanRequest: Sendable {
    public var context: ResourceContext
    public var prior: ResourceState?
    /// The configuration from the stack; may hold `.unknown` where a reference is not yet known.
    public var desired: [String: AttributeValue]

    public init(context: ResourceContext, prior: ResourceState?, desired: [String: AttributeValue]) {
        self.context = context
        self.prior = prior
        self.desired = desired
    }
}

public struct PlanResponse: Sendable {
    /// What the resource will look like after apply; computed attributes not yet known are `.unknown`.
    public var planned: [String: AttributeValue]
    /// Attributes whose change forces a replacement (empty: create or update in place).
    public var requiresReplace: [String]

    public init(planned: [String: AttributeValue], requiresReplace: [String]) {
        self.planned = planned
        self.requiresReplace = requiresReplace
    }
}

/// Settings from the stack's `clouds` section for this provider, plus where maifctl runs.
public struct ProviderConfiguration: Sendable {
    public var stack: String
    /// `clouds.<section>` as the stack wrote it, checked against the provider's settings schema, defaults filled in.
    public var settings: ProviderSettings
    /// The directory relative paths are resolved against (where maifctl was started).
    public var workingDirectory: String
    public var environment: [String: String]

    public init(stack: String, settings: ProviderSettings = ProviderSettings(), workingDirectory: String,
                environment: [String: String] = [:]) {
        self.stack = stack
        self.settings = settings
        self.workingDirectory = workingDirectory
        self.environment = environment
    }

    /// A referenced setting's value, read now (see `ProviderSettings.secret`).
    public func secret(_ key: String) throws -> String? {
        try settings.secret(key, environment: environment, workingDirectory: workingDirectory)
    }

    /// A path setting made absolute against the home and working directories.
    public func path(_ key: String) -> String? {
        settings.path(key, environment: environment, workingDirectory: workingDirectory)
    }
}

public protocol Provider: Sendable {
    var schema: ProviderSchema { get }
    func plan(_ request: PlanRequest) async throws -> PlanResponse
    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState
    /// The resource as it is now, or nil when it no longer exists.
    func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState?
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState
    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws
    /// Adopts an existing object by its provider id.
    func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState
    /// Looks up what a create for this address with this configuration left behind (by tag or marker),
    /// for crash recovery; nil when nothing was created.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState?
    /// Called once when the command that made the provider ends: closes shared connections and the like.
    func shutdown() async
    /// What the provider's calls cost so far, for the end of an apply ("412 API calls"); nil when nothing to say.
    var usage: String? { get }
    /// The configuration with this provider's owner marks added (tags, labels, a description…), so that `find` can
    /// tell what a stack created. The planner calls it for every resource before anything else sees the configuration.
    func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue]
}

extension Provider {
    public func shutdown() async {}
    public var usage: String? { nil }
    public func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] { config }

    /// The default plan from the schema: computed attributes carry over from the prior state unless
    /// the resource is replaced; force-new attributes whose value changed require a replacement.
    public func plan(_ request: PlanRequest) async throws -> PlanResponse {
        defaultPlan(request)
    }

    public func defaultPlan(_ request: PlanRequest) -> PlanResponse {
        guard let resource = schema.resources[request.context.address.type] else {
            return PlanResponse(planned: request.desired, requiresReplace: [])
        }
        var planned = request.desired
        var replace: [String] = []
        if let prior = request.prior {
            // A computed attribute the stack leaves unset (an address the cloud picks) is not a change.
            let chosenByProvider = resource.computedAttributes.filter { request.desired[$0] == nil }
            for name in resource.forceNewAttributes.subtracting(chosenByProvider).sorted()
            where (prior.attributes[name] ?? .null) != (request.desired[name] ?? .null) {
                if request.desired[name]?.isKnown == false || prior.attributes[name] != nil || request.desired[name] != nil {
                    replace.append(name)
                }
            }
        }
        for name in resource.computedAttributes where request.desired[name] == nil {
            if let prior = request.prior, replace.isEmpty {
                planned[name] = prior.attributes[name] ?? .null
            } else {
                planned[name] = .unknown
            }
        }
        return PlanResponse(planned: planned, requiresReplace: replace)
    }


}

/// A failed provider call, naming the resource and the call.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    public var address: ResourceAddress?
    public var call: String
    public var message: String

    public init(address: ResourceAddress?, call: String, message: String) {
        self.address = address
        self.call = call
        self.message = message
    }

    public var description: String {
        if let address { return "\(address): \(detail)" }
        return detail
    }

    /// Runs `body`, naming `address` in what it throws: an error `translate` knows (a service's own error type) becomes
    /// a ProviderError for the address, and a ProviderError without an address gets this one.
    public static func naming<T>(_ address: ResourceAddress, translate: (any Error) -> ProviderError?,
                                 _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch var error as ProviderError {
            if error.address == nil { error.address = address }
            throw error
        } catch {
            guard var translated = translate(error) else { throw error }
            translated.address = address
            throw translated
        }
    }

    /// The call and the message, without the address (for lines that already start with it).
    public var detail: String { "\(call) failed: \(message)" }

    /// What went wrong with `address`, naming it once: "ADDRESS: CALL failed: MESSAGE".
    public static func describe(_ error: any Error, at address: ResourceAddress, during verb: String) -> String {
        if let e = error as? ProviderError, e.address == nil || e.address == address { return "\(address): \(e.detail)" }
        return "\(address): \(verb) failed: \(error)"
    }
}

/// What the engine knows of a provider before configuring it: its names, its schemas and how to make it.
public struct ProviderDescriptor: Sendable {
    public typealias Factory = @Sendable (ProviderConfiguration) throws -> any Provider
    /// The first part of its resource addresses and types: `aws`, `k8s`.
    public var name: String
    /// Its settings live under `clouds.<section>` (`clouds.kubernetes` for `k8s`).
    public var section: String
    public var version: String
    /// One line for `maifctl providers`.
    public var summary: String
    /// False for a provider that plans but cannot yet call its system.
    public var applies: Bool
    public var settings: SettingsSchema
    public var schema: ProviderSchema
    public var make: Factory

    public init(name: String, section: String? = nil, version: String, summary: String, applies: Bool = true,
                settings: SettingsSchema, schema: ProviderSchema, make: @escaping Factory) {
        self.name = name
        self.section = section ?? name
        self.version = version
        self.summary = summary
        self.applies = applies
        self.settings = settings
        self.schema = schema
        self.make = make
    }
}

/// Providers by name; the engine reaches providers only through here.
public struct ProviderRegistry: Sendable {
    private var descriptors: [String: ProviderDescriptor] = [:]

    public init() {}

    public mutating func register(_ descriptor: ProviderDescriptor) {
        descriptors[descriptor.name] = descriptor
    }

    public var names: [String] { descriptors.keys.sorted() }
    public var all: [ProviderDescriptor] { names.map { descriptors[$0]! } }

    public func descriptor(_ name: String) -> ProviderDescriptor? { descriptors[name] }

    /// The provider whose settings live under `clouds.<section>`.
    public func descriptor(section: String) -> ProviderDescriptor? { descriptors.values.first { $0.section == section } }

    /// `clouds.<section>` → settings schema, for the stack loader.
    public var settingsSchemas: [String: SettingsSchema] {
        Dictionary(uniqueKeysWithValues: descriptors.values.map { ($0.section, $0.settings) })
    }

    public func make(_ name: String, _ configuration: ProviderConfiguration) throws -> (any Provider)? {
        try descriptors[name].map { try $0.make(configuration) }
    }
}

/// Owner marks as tags: what most clouds use. `stackKey`/`addressKey` are the tag names the cloud allows.
public enum OwnerTags {
    /// Adds the owner tags when the resource type has a `tags` map (and the stack did not give `tags` a non-map value).
    public static func add(to config: [String: AttributeValue], _ context: ResourceContext, schema: ProviderSchema,
                           attribute: String = "tags", stackKey: String = "maif:stack", addressKey: String = "maif:address")
        -> [String: AttributeValue] {
        guard schema.resources[context.address.type]?.attributes[attribute] != nil else { return config }
        guard config[attribute] == nil || config[attribute]?.mapValue != nil else { return config }
        var config = config
        var tags = config[attribute]?.mapValue ?? [:]
        tags[stackKey] = .string(context.stack)
        tags[addressKey] = .string(context.address.description)
        config[attribute] = .map(tags)
        return config
    }
}
