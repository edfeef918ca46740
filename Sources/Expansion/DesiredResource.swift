/// What expansion produces: a resource the stack wants, its configuration and where it was written.

import ProviderKit
import StackModel

public struct ResourceLifecycle: Sendable, Equatable, Codable {
    public var preventDestroy = false
    public var createBeforeDestroy = false
    public var ignoreChanges: [String] = []
    public init() {}
}

public struct DesiredResource: Sendable {
    public var address: ResourceAddress
    /// Attributes as configured; strings may hold `${<address>.<attribute>}` references.
    public var config: [String: AttributeValue]
    /// Explicit `depends_on` edges, each with where it was written.
    public var dependsOn: [(address: ResourceAddress, location: SourceLocation?)]
    public var lifecycle: ResourceLifecycle
    /// Where the stack declared what this resource comes from.
    public var origin: SourceLocation?
    /// Where individual attributes were written, when known (raw resources).
    public var attributeOrigins: [String: SourceLocation]

    public init(address: ResourceAddress, config: [String: AttributeValue], dependsOn: [(address: ResourceAddress, location: SourceLocation?)] = [],
                lifecycle: ResourceLifecycle = ResourceLifecycle(), origin: SourceLocation? = nil,
                attributeOrigins: [String: SourceLocation] = [:]) {
        self.address = address
        self.config = config
        self.dependsOn = dependsOn
        self.lifecycle = lifecycle
        self.origin = origin
        self.attributeOrigins = attributeOrigins
    }
}

public struct ExpansionResult: Sendable {
    public var resources: [DesiredResource]
    public var diagnostics: [Diagnostic]
}
