/// What a provider declares about its resource types: attributes and how each behaves in a plan.

public enum AttributeType: String, Sendable, Codable {
    case string, int, number, bool, list, map, any
}

public struct AttributeSchema: Sendable, Equatable {
    public var type: AttributeType
    /// Must be set in the stack.
    public var required: Bool
    /// Set by the provider (ids, addresses); shown as `(known after apply)` until it is.
    public var computed: Bool
    /// A change to this attribute cannot be made in place: the resource is replaced.
    public var forceNew: Bool
    /// Never written to state, plans or logs in clear text.
    public var sensitive: Bool
    public var description: String

    public init(_ type: AttributeType, required: Bool = false, computed: Bool = false, forceNew: Bool = false,
                sensitive: Bool = false, description: String = "") {
        self.type = type
        self.required = required
        self.computed = computed
        self.forceNew = forceNew
        self.sensitive = sensitive
        self.description = description
    }
}

public struct ResourceSchema: Sendable, Equatable {
    /// `provider.kind`, e.g. `local.node`.
    public var type: String
    public var description: String
    public var attributes: [String: AttributeSchema]
    /// False for types that create nothing outside maifctl (like `local.null`): with nothing to orphan,
    /// a create needs no durable intent in the journal first.
    public var createsOutsideObject: Bool

    public init(type: String, description: String, attributes: [String: AttributeSchema], createsOutsideObject: Bool = true) {
        self.type = type
        self.description = description
        self.attributes = attributes
        self.createsOutsideObject = createsOutsideObject
    }

    public var forceNewAttributes: Set<String> { Set(attributes.filter { $0.value.forceNew }.keys) }
    public var computedAttributes: Set<String> { Set(attributes.filter { $0.value.computed }.keys) }
    public var sensitiveAttributes: Set<String> { Set(attributes.filter { $0.value.sensitive }.keys) }

    /// Problems with a desired configuration: unknown attributes, missing required ones, wrong types.
    public func validate(_ config: [String: AttributeValue]) -> [SchemaProblem] {
        var problems: [SchemaProblem] = []
        for key in config.keys.sorted() {
            guard let a = attributes[key] else {
                problems.append(SchemaProblem(attribute: key, message: "\(type) has no attribute '\(key)'"))
                continue
            }
            if !Self.matches(config[key]!, a.type) {
                problems.append(SchemaProblem(attribute: key, message: "'\(key)' of \(type) must be \(a.type.rawValue)"))
            }
        }
        for (name, a) in attributes.sorted(by: { $0.key < $1.key }) where a.required && config[name] == nil {
            problems.append(SchemaProblem(attribute: name, message: "\(type) requires '\(name)'"))
        }
        return problems
    }

    static func matches(_ v: AttributeValue, _ t: AttributeType) -> Bool {
        switch (v, t) {
        case (.unknown, _), (.null, _), (_, .any): return true
        case (.string(let s), _) where s.contains("${"): return true
        case (.string, .string), (.bool, .bool), (.int, .int), (.int, .number), (.double, .number), (.list, .list), (.map, .map):
            return true
        case (.int, .string), (.double, .string), (.bool, .string): return true
        default: return false
        }
    }
}

/// One thing wrong with a resource's configuration, and the attribute it is about.
public struct SchemaProblem: Sendable, Equatable, CustomStringConvertible {
    public var attribute: String
    public var message: String
    public var description: String { message }
}

public struct ProviderSchema: Sendable {
    public var provider: String
    public var resources: [String: ResourceSchema]

    public init(provider: String, resources: [ResourceSchema]) {
        self.provider = provider
        self.resources = Dictionary(uniqueKeysWithValues: resources.map { ($0.type, $0) })
    }
}
