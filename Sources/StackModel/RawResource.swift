/// The `resources:` escape hatch and the `moved:` list.

/// A loosely typed value as written in YAML, for raw resource properties.
public indirect enum StackValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([StackValue])
    case map([String: StackValue])
}

public struct Lifecycle: Sendable, Equatable {
    public var preventDestroy = false
    public var createBeforeDestroy = false
    public var ignoreChanges: [String] = []
    public init() {}
}

/// A provider resource written by hand: `{type: local.null, name: r1, properties: {…}, depends_on: […]}`.
public struct RawResource: Sendable, Equatable {
    public var type: String
    public var name: String
    public var properties: [String: StackValue]
    /// Addresses this resource waits for, each with where it was written.
    public var dependsOn: [(address: String, location: SourceLocation?)]
    public var lifecycle: Lifecycle
    public var location: SourceLocation?
    /// Where each property was written, for diagnostics that point into `properties`.
    public var propertyLocations: [String: SourceLocation]

    public init(type: String, name: String, properties: [String: StackValue] = [:],
                dependsOn: [(address: String, location: SourceLocation?)] = [], lifecycle: Lifecycle = Lifecycle(),
                location: SourceLocation? = nil, propertyLocations: [String: SourceLocation] = [:]) {
        self.type = type
        self.name = name
        self.properties = properties
        self.dependsOn = dependsOn
        self.lifecycle = lifecycle
        self.location = location
        self.propertyLocations = propertyLocations
    }

    /// `<type>.<name>`, e.g. `local.null.r1`.
    public var address: String { "\(type).\(name)" }

    public static func == (a: RawResource, b: RawResource) -> Bool {
        a.type == b.type && a.name == b.name && a.properties == b.properties
            && a.dependsOn.map(\.address) == b.dependsOn.map(\.address) && a.lifecycle == b.lifecycle
    }
}

/// A rename: the resource recorded in state at `from` is now `to`, so it is moved rather than replaced.
public struct Move: Sendable, Equatable {
    public var from: String
    public var to: String
    public var location: SourceLocation?
    public init(from: String, to: String, location: SourceLocation? = nil) {
        self.from = from
        self.to = to
        self.location = location
    }
}
