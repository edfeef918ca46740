/// A provider that knows its resource types and plans them, but cannot yet call its system's API.
/// Apply fails with a clear message naming the resource and the call instead of pretending.

public protocol SchemaOnlyProvider: Provider {
    /// Shown in the error, e.g. "the aws provider's API client".
    var missingCapability: String { get }
}

extension SchemaOnlyProvider {
    private func unavailable(_ context: ResourceContext, _ call: String) -> ProviderError {
        ProviderError(address: context.address, call: call,
                      message: "\(missingCapability) is not available in this version of maifctl; `plan` works, `apply` does not yet")
    }

    public func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        throw unavailable(context, "create")
    }

    public func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        throw unavailable(context, "read")
    }

    public func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        throw unavailable(context, "update")
    }

    public func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        throw unavailable(context, "delete")
    }

    public func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        throw unavailable(context, "import")
    }

    public func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? { nil }
}

extension AttributeSchema {
    /// Shorthands for schema tables.
    public static let requiredString = AttributeSchema(.string, required: true)
    public static let forceNewString = AttributeSchema(.string, required: true, forceNew: true)
    public static let optionalString = AttributeSchema(.string)
    public static let optionalInt = AttributeSchema(.int)
    public static let optionalNumber = AttributeSchema(.number)
    public static let optionalBool = AttributeSchema(.bool)
    public static let optionalMap = AttributeSchema(.map)
    public static let optionalList = AttributeSchema(.list)
    public static let computedString = AttributeSchema(.string, computed: true)
    /// `maif:stack` / `maif:address` tags (or labels) and any others.
    public static let tags = AttributeSchema(.map, description: "tags; maif:stack and maif:address name the owner")
}
