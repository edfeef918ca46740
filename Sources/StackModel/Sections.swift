/// The policy sections of a stack: load balancing, geo routing, scaling, HA, DR, multi-cloud, hybrid, monitoring.
/// Fields default to the values of the MAIF distributed-deployment guide.

public enum BalancingStrategy: String, Sendable, CaseIterable, Codable {
    case roundRobin = "round_robin", leastConnections = "least_connections", latencyAware = "latency_aware"
    case adaptive, weighted
}

public struct AdaptiveBalancing: Sendable, Equatable {
    public var primary: BalancingStrategy = .latencyAware
    public var fallback: BalancingStrategy = .leastConnections
    public var switchThreshold: TimeSpan = TimeSpan(milliseconds: 100)
    public init() {}
}

public struct LoadBalancing: Sendable, Equatable {
    public var strategy: BalancingStrategy = .roundRobin
    public var healthCheckInterval: TimeSpan = .seconds(30)
    public var healthCheckPath: String = "/health"
    public var failureThreshold: Int = 3
    public var recoveryThreshold: Int = 2
    public var adaptive: AdaptiveBalancing?
    /// Node id → weight; overrides a node's own `weight`.
    public var weights: [String: Double] = [:]
    /// Where each weight's node id was written.
    public var weightLocations: [String: SourceLocation] = [:]
    public var location: SourceLocation?
    public init() {}
}

public struct GeoRegion: Sendable, Equatable {
    public var name: String
    public var cluster: String?
    public var nodes: [String] = []
    public var location: GeoLocation?
    public var capacity: Int?
    public var sourceLocation: SourceLocation?
    public init(name: String) { self.name = name }
}

public enum RegionSelection: String, Sendable, CaseIterable, Codable {
    case closestRegion = "closest_region", leastLoadedRegion = "least_loaded_region", primaryRegion = "primary_region"
}

public struct GeoRouting: Sendable, Equatable {
    public var regions: [GeoRegion] = []
    public var primary: RegionSelection = .closestRegion
    public var fallback: RegionSelection = .leastLoadedRegion
    public var dataLocality: Bool = true
    public var complianceAware: Bool = false
    /// Data class (e.g. `gdpr`) → the regions its data may live in.
    public var compliance: [String: [String]] = [:]
    /// Where each allowed region of each data class was written.
    public var complianceLocations: [String: [SourceLocation]] = [:]
    public var location: SourceLocation?
    public init() {}
}

public enum ScalingAction: String, Sendable, CaseIterable, Codable {
    case scaleUp = "scale_up", scaleDown = "scale_down"
}

public struct ScalingPolicy: Sendable, Equatable {
    public var name: String
    public var metric: String
    public var threshold: Double
    public var action: ScalingAction
    public var adjustment: Int
    public var duration: TimeSpan?
    public var location: SourceLocation?
    public init(name: String, metric: String, threshold: Double, action: ScalingAction, adjustment: Int) {
        self.name = name
        self.metric = metric
        self.threshold = threshold
        self.action = action
        self.adjustment = adjustment
    }
}

public struct HorizontalScaling: Sendable, Equatable {
    public var minNodes: Int = 3
    public var maxNodes: Int = 20
    public var targetCPUUtilization: Percentage? = Percentage(70)
    public var targetMemoryUtilization: Percentage? = Percentage(80)
    public var scaleUpCooldown: TimeSpan = .seconds(300)
    public var scaleDownCooldown: TimeSpan = .seconds(600)
    public var policies: [ScalingPolicy] = []
    public var location: SourceLocation?
    public init() {}
}

/// Bounds for one resource of vertical scaling; cpu counts are written as sizes-free numbers.
public struct VerticalBounds: Sendable, Equatable {
    public var min: String
    public var max: String
    public var targetUtilization: Percentage?
    public var growthThreshold: Percentage?
    public var scalingFactor: Double = 1.5
    public init(min: String, max: String) {
        self.min = min
        self.max = max
    }
}

public struct VerticalScaling: Sendable, Equatable {
    public var cpu: VerticalBounds?
    public var memory: VerticalBounds?
    public var storage: VerticalBounds?
    public var adjustmentInterval: TimeSpan = .seconds(300)
    public var safetyMargin: Double = 0.2
    public init() {}
}

public struct Autoscaling: Sendable, Equatable {
    public var horizontal: HorizontalScaling?
    public var vertical: VerticalScaling?
    public init() {}
}

public enum ReplicationMode: String, Sendable, CaseIterable, Codable {
    case synchronous, asynchronous
}

public struct HighAvailability: Sendable, Equatable {
    public var replicationFactor: Int = 3
    public var quorumSize: Int = 2
    public var failureDetectionTimeout: TimeSpan = .seconds(30)
    public var automaticFailover: Bool = true
    public var replicationMode: ReplicationMode = .synchronous
    public var replicationConsistency: String = "strong"
    public var backupFrequency: TimeSpan = .seconds(3600)
    public var retentionPeriod: TimeSpan = .seconds(30 * 86_400)
    public var heartbeatInterval: TimeSpan = .seconds(10)
    public var failureThreshold: Int = 3
    public var networkPartitionDetection: Bool = true
    public var autoRestart: Bool = true
    public var dataRecovery: Bool = true
    public var splitBrainProtection: Bool = true
    public var minoritySideReadOnly: Bool = true
    public var location: SourceLocation?
    public init() {}
}

public enum BackupTargetKind: String, Sendable, CaseIterable, Codable {
    case s3, gcs, azureBlob = "azure_blob", onprem, local
}

public struct BackupTarget: Sendable, Equatable {
    public var name: String
    public var kind: BackupTargetKind
    public var bucket: String?
    public var container: String?
    public var path: String?
    public var region: String?
    public var encryption: Bool = true
    public var host: String?
    public var location: SourceLocation?
    public init(name: String, kind: BackupTargetKind) {
        self.name = name
        self.kind = kind
    }
}

/// How often a backup runs: `hourly`, `daily`, `weekly` or an interval like `5m`.
public struct BackupFrequency: Sendable, Equatable, CustomStringConvertible {
    public var interval: TimeSpan
    public var text: String
    public init(interval: TimeSpan, text: String) {
        self.interval = interval
        self.text = text
    }

    public static let named: [String: TimeSpan] = [
        "hourly": .seconds(3600), "daily": .seconds(86_400), "weekly": .seconds(604_800),
    ]

    public init?(parsing text: String) {
        if let span = Self.named[text] ?? TimeSpan(parsing: text) {
            self.init(interval: span, text: text)
        } else {
            return nil
        }
    }

    public var description: String { text }
}

public struct BackupSchedule: Sendable, Equatable {
    public var full: BackupFrequency?
    public var incremental: BackupFrequency?
    public var transactionLog: BackupFrequency?
    public init() {}

    /// The most frequent backup: the worst-case data loss window the schedule allows.
    public var shortestInterval: TimeSpan? {
        [full, incremental, transactionLog].compactMap { $0?.interval }.min()
    }
}

public struct CrossRegionReplication: Sendable, Equatable {
    public var primaryRegion: String
    public var secondaryRegions: [String] = []
    public var replicationLagThreshold: TimeSpan = .seconds(30)
    public var location: SourceLocation?
    public init(primaryRegion: String) { self.primaryRegion = primaryRegion }
}

public enum BackupStrategy: String, Sendable, CaseIterable, Codable {
    case full, incremental, differential, continuous
}

public struct DisasterRecovery: Sendable, Equatable {
    public var backupStrategy: BackupStrategy = .incremental
    public var rto: TimeSpan?
    public var rpo: TimeSpan?
    public var backupTargets: [BackupTarget] = []
    public var schedule: BackupSchedule?
    public var crossRegionReplication: CrossRegionReplication?
    public var automatedFailover: Bool = true
    public var dataValidation: Bool = true
    public var rollbackCapability: Bool = true
    /// When recovery was last rehearsed (free text, e.g. a date); the checklist wants it.
    public var lastTested: String?
    public var location: SourceLocation?
    public init() {}
}

public struct CloudDeployment: Sendable, Equatable {
    public var cloud: CloudKind
    public var region: String?
    public var size: String?
    public var storageType: String?
    public var networking: String?
    public init(cloud: CloudKind) { self.cloud = cloud }
}

public struct DataSync: Sendable, Equatable {
    public var strategy: String = "eventual_consistency"
    public var conflictResolution: String = "last_write_wins"
    public var syncInterval: TimeSpan = .seconds(30)
    public init() {}
}

public struct MultiCloud: Sendable, Equatable {
    public var clusterSize: Int = 3
    public var deployments: [CloudDeployment] = []
    public var crossCloudNetworking: Bool = true
    public var dataSync: DataSync?
    public var location: SourceLocation?
    public init() {}
}

public struct Capacity: Sendable, Equatable {
    public var cpu: Double?
    public var memory: ByteSize?
    public var storage: ByteSize?
    public init() {}
}

public struct HybridCluster: Sendable, Equatable {
    public var name: String
    /// `on_premises`, or a cloud location such as `aws_us_east_1`.
    public var location: String
    public var cluster: String?
    public var nodes: [String] = []
    public var endpoint: String?
    public var capacity: Capacity?
    public var network: String = "private"
    public var sourceLocation: SourceLocation?
    public init(name: String, location: String) {
        self.name = name
        self.location = location
    }

    public var isOnPremises: Bool { location == "on_premises" }
}

public struct SecureConnectivity: Sendable, Equatable {
    public var vpnTunnels: Bool = true
    public var encryption: String = "AES-256"
    public var authentication: String = "mutual_tls"
    public init() {}
}

public struct Hybrid: Sendable, Equatable {
    public var clusters: [HybridCluster] = []
    /// Data class (sensitive_data, public_data, …) → placement (on_premises, cloud, nearest_cluster, specific_region).
    public var dataPlacement: [String: String] = [:]
    public var secureConnectivity: SecureConnectivity?
    public var location: SourceLocation?
    public init() {}
}

public enum AlertSeverity: String, Sendable, CaseIterable, Codable {
    case info, warning, critical
}

public struct AlertRule: Sendable, Equatable {
    public var name: String
    public var condition: Condition
    public var duration: TimeSpan
    public var severity: AlertSeverity
    public var location: SourceLocation?
    public init(name: String, condition: Condition, duration: TimeSpan, severity: AlertSeverity) {
        self.name = name
        self.condition = condition
        self.duration = duration
        self.severity = severity
    }
}

public struct Monitoring: Sendable, Equatable {
    public var interval: TimeSpan = .seconds(30)
    public var retention: TimeSpan = .seconds(30 * 86_400)
    public var alertingEnabled: Bool = true
    public var nodeMetrics: [String] = []
    public var clusterMetrics: [String] = []
    public var alertRules: [AlertRule] = []
    /// Who hears of an alert, by severity (`monitoring.notifications`).
    public var notifications: [Notification] = []
    /// Kubernetes only: the Prometheus operator runs in the cluster, so alert rules become `PrometheusRule` objects.
    public var prometheusOperator: Bool = false
    public var location: SourceLocation?
    public init() {}

    /// The notification targets an alert of this severity goes to.
    public func recipients(of severity: AlertSeverity) -> [Notification] {
        notifications.filter { $0.severities.contains(severity) }
    }
}

/// One group of people or systems an alert reaches: e-mail addresses and webhooks, for some severities.
public struct Notification: Sendable, Equatable {
    /// A webhook's URL, or where to read it (a Slack or PagerDuty URL is a credential).
    public enum Webhook: Sendable, Equatable {
        case url(String)
        case reference(SecretReference)
    }

    public var name: String
    /// The severities it is told of; all of them when the stack does not say.
    public var severities: [AlertSeverity] = AlertSeverity.allCases
    public var emails: [String] = []
    public var webhooks: [Webhook] = []
    public var location: SourceLocation?

    public init(name: String) {
        self.name = name
    }
}

/// The security items of the guide's production checklist.
public struct Security: Sendable, Equatable {
    public var tls: Bool = false
    public var authentication: String?
    public var auditLogging: Bool = false
    public var adminCIDRs: [String] = []
    public var location: SourceLocation?
    public init() {}
}
