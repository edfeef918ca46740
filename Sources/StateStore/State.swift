/// The recorded state of one stack: what maifctl created, by address.

import ProviderKit

public struct ResourceRecord: Sendable, Equatable, Codable {
    public var address: ResourceAddress
    public var id: String
    public var attributes: [String: AttributeValue]
    /// What this resource depended on when it was applied; deletes run in the reverse of this order.
    public var dependencies: [ResourceAddress]

    public init(address: ResourceAddress, id: String, attributes: [String: AttributeValue], dependencies: [ResourceAddress]) {
        self.address = address
        self.id = id
        self.attributes = attributes
        self.dependencies = dependencies
    }

    public var resourceState: ResourceState { ResourceState(id: id, attributes: attributes) }

    /// The canonical file text: sorted keys, two-space indent, trailing newline.
    public var canonicalText: String {
        AttributeValue.map([
            "address": .string(address.description),
            "id": .string(id),
            "attributes": .map(attributes),
            "dependencies": .list(dependencies.sorted().map { .string($0.description) }),
            "schema_version": .int(1),
        ]).canonicalJSON() + "\n"
    }
}

public struct StateMeta: Sendable, Equatable, Codable {
    public var formatVersion: Int
    public var serial: Int
    /// A random id fixed when the state is first created, so states of different stacks are never mixed up.
    public var lineage: String
    public var engineVersion: String

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", serial, lineage, engineVersion = "engine_version"
    }

    public init(formatVersion: Int = 1, serial: Int = 0, lineage: String, engineVersion: String) {
        self.formatVersion = formatVersion
        self.serial = serial
        self.lineage = lineage
        self.engineVersion = engineVersion
    }

    var canonicalText: String {
        AttributeValue.map([
            "format_version": .int(Int64(formatVersion)), "serial": .int(Int64(serial)),
            "lineage": .string(lineage), "engine_version": .string(engineVersion),
        ]).canonicalJSON() + "\n"
    }
}

public struct State: Sendable {
    public var stack: String
    public var meta: StateMeta
    public var resources: [ResourceAddress: ResourceRecord]
    public var outputs: [String: AttributeValue]
    /// The git commit this state was read from; nil before the first apply.
    public var revision: String?

    public init(stack: String, meta: StateMeta, resources: [ResourceAddress: ResourceRecord] = [:],
                outputs: [String: AttributeValue] = [:], revision: String? = nil) {
        self.stack = stack
        self.meta = meta
        self.resources = resources
        self.outputs = outputs
        self.revision = revision
    }
}
