/// The typed stack: every section of DESIGN.md §1, as plain `Sendable` values with source locations.

public struct Stack: Sendable, Equatable {
    public static func == (a: Stack, b: Stack) -> Bool {
        a.meta == b.meta && a.clouds == b.clouds && a.clusters == b.clusters && a.loadBalancing == b.loadBalancing
            && a.geoRouting == b.geoRouting && a.autoscaling == b.autoscaling && a.highAvailability == b.highAvailability
            && a.disasterRecovery == b.disasterRecovery && a.multiCloud == b.multiCloud && a.hybrid == b.hybrid
            && a.monitoring == b.monitoring && a.security == b.security && a.resources == b.resources && a.moved == b.moved
    }

    public var meta: StackMeta
    public var clouds: Clouds
    public var clusters: [Cluster]
    public var loadBalancing: LoadBalancing?
    public var geoRouting: GeoRouting?
    public var autoscaling: Autoscaling?
    public var highAvailability: HighAvailability?
    public var disasterRecovery: DisasterRecovery?
    public var multiCloud: MultiCloud?
    public var hybrid: Hybrid?
    public var monitoring: Monitoring?
    public var security: Security?
    public var resources: [RawResource]
    public var moved: [Move]
    /// The files the stack was loaded from, in merge order.
    public var files: [String]
    /// Key path → where its value was written, e.g. `clusters[0].replication_factor` → prod.yaml:12:25.
    /// Later stages that only know a key path use it to point at the file.
    public var sourceMap: [String: SourceLocation] = [:]

    public func location(of keyPath: String) -> SourceLocation? {
        var path = keyPath
        while true {
            if let l = sourceMap[path] { return l }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            path = String(path[..<cut])
        }
    }

    public init(meta: StackMeta, clouds: Clouds = Clouds(), clusters: [Cluster] = [], loadBalancing: LoadBalancing? = nil,
                geoRouting: GeoRouting? = nil, autoscaling: Autoscaling? = nil, highAvailability: HighAvailability? = nil,
                disasterRecovery: DisasterRecovery? = nil, multiCloud: MultiCloud? = nil, hybrid: Hybrid? = nil,
                monitoring: Monitoring? = nil, security: Security? = nil, resources: [RawResource] = [],
                moved: [Move] = [], files: [String] = []) {
        self.meta = meta
        self.clouds = clouds
        self.clusters = clusters
        self.loadBalancing = loadBalancing
        self.geoRouting = geoRouting
        self.autoscaling = autoscaling
        self.highAvailability = highAvailability
        self.disasterRecovery = disasterRecovery
        self.multiCloud = multiCloud
        self.hybrid = hybrid
        self.monitoring = monitoring
        self.security = security
        self.resources = resources
        self.moved = moved
        self.files = files
    }

    public var allNodes: [(cluster: Cluster, node: Node)] {
        clusters.flatMap { c in c.nodes.map { (c, $0) } }
    }
}

public struct StackMeta: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var cloud: CloudKind?
    public var region: String?
    /// Declared variables with their defaults (after `--var` overrides), as text.
    public var variables: [String: String]
    public var location: SourceLocation?

    public init(name: String, description: String? = nil, cloud: CloudKind? = nil, region: String? = nil,
                variables: [String: String] = [:], location: SourceLocation? = nil) {
        self.name = name
        self.description = description
        self.cloud = cloud
        self.region = region
        self.variables = variables
        self.location = location
    }
}

/// Where a cluster runs. `local` is the embedded provider that needs nothing installed.
public enum CloudKind: String, Sendable, CaseIterable, Codable {
    case aws, gcp, azure, kubernetes, swarm, onprem, local

    /// The platform a cluster on this cloud gets when the stack does not say.
    public var defaultPlatform: Platform {
        switch self {
        case .aws, .gcp, .azure: return .vm
        case .kubernetes: return .kubernetes
        case .swarm: return .swarm
        case .onprem: return .onprem
        case .local: return .local
        }
    }
}

public enum Platform: String, Sendable, CaseIterable, Codable {
    case vm, kubernetes, swarm, onprem, local

    /// The node roles that make sense on this platform.
    public var roles: [NodeRole] {
        switch self {
        case .swarm: return [.manager, .worker]
        case .vm, .kubernetes, .onprem, .local: return [.primary, .secondary, .cache]
        }
    }

    public func runs(on cloud: CloudKind) -> Bool {
        switch self {
        case .vm: return [.aws, .gcp, .azure].contains(cloud)
        case .kubernetes: return cloud == .kubernetes
        case .swarm: return cloud == .swarm
        case .onprem: return cloud == .onprem
        case .local: return cloud == .local
        }
    }
}

/// A value that must never be written inline: where to read it from instead.
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    case env(String)
    case file(String)

    public var description: String {
        switch self {
        case .env(let name): return "env:\(name)"
        case .file(let path): return "file:\(path)"
        }
    }
}

/// The `clouds` section: each provider's settings, kept as written (with positions) for the provider to interpret.
/// The loader checks them against the providers' settings schemas; the stack model names no provider's keys.
public struct Clouds: Sendable, Equatable {
    /// `clouds.<section>` → its settings, e.g. `aws`, `kubernetes`.
    public var sections: [String: CloudSettings]

    public init(sections: [String: CloudSettings] = [:]) {
        self.sections = sections
    }

    public subscript(section: String) -> CloudSettings? {
        get { sections[section] }
        set { sections[section] = newValue }
    }

    /// Whether the stack says anything about this cloud; the embedded local provider needs nothing.
    public func isConfigured(_ kind: CloudKind) -> Bool {
        kind == .local || sections[kind.rawValue] != nil
    }
}

/// One `clouds.<section>` mapping.
public struct CloudSettings: Sendable, Equatable {
    public var section: String
    public var entries: [String: CloudSetting]
    public var location: SourceLocation?

    public init(section: String, entries: [String: CloudSetting] = [:], location: SourceLocation? = nil) {
        self.section = section
        self.entries = entries
        self.location = location
    }

    public subscript(key: String) -> CloudSetting? { entries[key] }

    /// A plain value's text; nil when unset or written as a reference.
    public func string(_ key: String) -> String? {
        guard case .value(let v)? = entries[key]?.value else { return nil }
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return nil
        }
    }

    public func int(_ key: String) -> Int? {
        guard case .value(let v)? = entries[key]?.value else { return nil }
        if case .int(let i) = v { return Int(i) }
        return string(key).flatMap { Int($0) }
    }

    public func bool(_ key: String) -> Bool? {
        guard case .value(.bool(let b))? = entries[key]?.value else { return nil }
        return b
    }

    public func reference(_ key: String) -> SecretReference? {
        guard case .reference(let r)? = entries[key]?.value else { return nil }
        return r
    }
}

/// One setting: a value, or where a credential is to be read from.
public struct CloudSetting: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// Converted to the schema's type by the loader (durations as seconds) when the provider's schema is known.
        case value(StackValue)
        case reference(SecretReference)
    }

    public var value: Value
    /// Where the value was written.
    public var location: SourceLocation?

    public init(_ value: Value, location: SourceLocation? = nil) {
        self.value = value
        self.location = location
    }
}

public enum NodeRole: String, Sendable, CaseIterable, Codable {
    case primary, secondary, cache, manager, worker
}

public enum ConsistencyLevel: String, Sendable, CaseIterable, Codable {
    case one, quorum, all
}

public struct NodeResources: Sendable, Equatable {
    public var cpu: Double?
    public var memory: ByteSize?
    public var storage: ByteSize?
    public init(cpu: Double? = nil, memory: ByteSize? = nil, storage: ByteSize? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.storage = storage
    }
}

public struct Node: Sendable, Equatable {
    public var id: String
    public var host: String?
    public var port: Int
    public var role: NodeRole
    public var resources: NodeResources
    public var weight: Double
    public var zone: String?
    public var location: SourceLocation?

    public init(id: String, host: String? = nil, port: Int = 8080, role: NodeRole, resources: NodeResources = NodeResources(),
                weight: Double = 1.0, zone: String? = nil, location: SourceLocation? = nil) {
        self.id = id
        self.host = host
        self.port = port
        self.role = role
        self.resources = resources
        self.weight = weight
        self.zone = zone
        self.location = location
    }
}

public struct Cluster: Sendable, Equatable {
    public var name: String
    public var cloud: CloudKind
    public var region: String?
    public var platform: Platform
    public var nodes: [Node]
    public var replicationFactor: Int
    public var consistencyLevel: ConsistencyLevel
    public var image: String?
    public var instanceType: String?
    public var machineType: String?
    public var vmSize: String?
    public var storageClass: String?
    public var location: SourceLocation?

    public init(name: String, cloud: CloudKind, region: String? = nil, platform: Platform, nodes: [Node],
                replicationFactor: Int = 3, consistencyLevel: ConsistencyLevel = .quorum, image: String? = nil,
                instanceType: String? = nil, machineType: String? = nil, vmSize: String? = nil,
                storageClass: String? = nil, location: SourceLocation? = nil) {
        self.name = name
        self.cloud = cloud
        self.region = region
        self.platform = platform
        self.nodes = nodes
        self.replicationFactor = replicationFactor
        self.consistencyLevel = consistencyLevel
        self.image = image
        self.instanceType = instanceType
        self.machineType = machineType
        self.vmSize = vmSize
        self.storageClass = storageClass
        self.location = location
    }
}
