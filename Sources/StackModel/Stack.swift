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

public struct Clouds: Sendable, Equatable {
    public var aws: AWSCloud?
    public var gcp: GCPCloud?
    public var azure: AzureCloud?
    public var kubernetes: KubernetesCloud?
    public var swarm: SwarmCloud?
    public var onprem: OnPremCloud?
    public var local: LocalCloud?

    public init(aws: AWSCloud? = nil, gcp: GCPCloud? = nil, azure: AzureCloud? = nil, kubernetes: KubernetesCloud? = nil,
                swarm: SwarmCloud? = nil, onprem: OnPremCloud? = nil, local: LocalCloud? = nil) {
        self.aws = aws
        self.gcp = gcp
        self.azure = azure
        self.kubernetes = kubernetes
        self.swarm = swarm
        self.onprem = onprem
        self.local = local
    }

    public func isConfigured(_ kind: CloudKind) -> Bool {
        switch kind {
        case .aws: return aws != nil
        case .gcp: return gcp != nil
        case .azure: return azure != nil
        case .kubernetes: return kubernetes != nil
        case .swarm: return swarm != nil
        case .onprem: return onprem != nil
        case .local: return true
        }
    }
}

public struct AWSCloud: Sendable, Equatable {
    public var region: String?
    public var endpoint: String?
    public var profile: String?
    public var accessKeyID: SecretReference?
    public var secretAccessKey: SecretReference?
    public var sessionToken: SecretReference?
    public init() {}
}

public struct GCPCloud: Sendable, Equatable {
    public var project: String?
    public var region: String?
    public var endpoint: String?
    public var credentials: SecretReference?
    public init() {}
}

public struct AzureCloud: Sendable, Equatable {
    public var subscription: String?
    public var region: String?
    public var endpoint: String?
    public var tenant: String?
    public var clientID: String?
    public var clientSecret: SecretReference?
    public init() {}
}

public struct KubernetesCloud: Sendable, Equatable {
    public var kubeconfig: String?
    public var context: String?
    public var namespace: String?
    public init() {}
}

public struct SwarmCloud: Sendable, Equatable {
    public var host: String?
    public var certPath: String?
    /// Check the daemon's certificate against cert_path/ca.pem (the default with a cert_path).
    public var tlsVerify: Bool?
    /// How long apply waits for a service's tasks to run; nil does not wait (as `docker stack deploy`).
    public var waitForRunning: TimeSpan?
    public init() {}
}

public struct OnPremCloud: Sendable, Equatable {
    public var user: String?
    public var key: SecretReference?
    public var port: Int?
    public var jumpHost: String?
    public var knownHosts: String?
    public var strictHostKeyChecking: Bool
    /// An OpenSSH client configuration file (`ssh -F`): host aliases, HostName, ProxyJump, per-host users and ports.
    public var sshConfig: String?
    /// A prefix for every path maifctl writes on the hosts; "/" (the default) on real machines. `{host}` in it is the host's
    /// address, so lab hosts that share one filesystem keep apart.
    public var root: String?
    public init() { strictHostKeyChecking = true }
}

public struct LocalCloud: Sendable, Equatable {
    public var root: String
    public init(root: String = ".maif/local") { self.root = root }
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
