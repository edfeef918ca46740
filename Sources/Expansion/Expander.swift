/// The one place that maps stack sections onto provider resource types.

import ProviderKit
import StackModel

public enum Expander {
    public static func expand(_ stack: Stack) -> ExpansionResult {
        var out = PlatformOutput()
        for cluster in stack.clusters {
            switch (cluster.platform, cluster.cloud) {
            case (.local, _): out.resources += LocalExpansion(stack: stack, cluster: cluster).resources()
            case (.vm, .aws): out += AWSExpansion.cluster(cluster, in: stack)
            case (.vm, .gcp): out += GCPExpansion.cluster(cluster, in: stack)
            case (.vm, .azure): out += AzureExpansion.cluster(cluster, in: stack)
            case (.kubernetes, _): out += KubernetesExpansion.cluster(cluster, in: stack)
            case (.swarm, _): out += SwarmExpansion.cluster(cluster, in: stack)
            case (.onprem, _): out += OnPremExpansion.cluster(cluster, in: stack)
            case (.vm, _):
                out.diagnostics.append(.error("platform-cloud-mismatch", "cluster '\(cluster.name)': platform vm needs cloud aws, gcp or azure",
                                              at: cluster.location))
            }
        }
        // Stack-wide resources: backup targets by kind, geo routing, and whatever a platform adds once per stack.
        for target in stack.disasterRecovery?.backupTargets ?? [] {
            switch target.kind {
            case .local: out.resources += LocalExpansion.backupTarget(target, in: stack)
            case .s3: out += AWSExpansion.backupTarget(target, in: stack)
            case .gcs: out += GCPExpansion.backupTarget(target, in: stack)
            case .azureBlob: out += AzureExpansion.backupTarget(target, in: stack)
            case .onprem: out += OnPremExpansion.backupTarget(target, in: stack)
            }
        }
        // hybrid.data_placement and geo_routing compliance decide where backups and replicas may land.
        out.diagnostics += Placement.violations(stack)
        out += AWSExpansion.stackWide(stack)
        var resources = out.resources
        var diagnostics = out.diagnostics
        resources += stack.resources.compactMap { raw in
            rawResource(raw, diagnostics: &diagnostics)
        }
        return ExpansionResult(resources: resources, diagnostics: diagnostics)
    }

    static func rawResource(_ raw: RawResource, diagnostics: inout [Diagnostic]) -> DesiredResource? {
        let parts = raw.type.split(separator: ".")
        guard parts.count == 2 else { return nil }
        let address = ResourceAddress(provider: String(parts[0]), kind: String(parts[1]), name: raw.name)
        var lifecycle = ResourceLifecycle()
        lifecycle.preventDestroy = raw.lifecycle.preventDestroy
        lifecycle.createBeforeDestroy = raw.lifecycle.createBeforeDestroy
        lifecycle.ignoreChanges = raw.lifecycle.ignoreChanges
        var deps: [(ResourceAddress, SourceLocation?)] = []
        for (text, location) in raw.dependsOn {
            if let a = ResourceAddress(parsing: text) { deps.append((a, location)) }
        }
        return DesiredResource(address: address, config: raw.properties.mapValues(attributeValue), dependsOn: deps,
                               lifecycle: lifecycle, origin: raw.location, attributeOrigins: raw.propertyLocations)
    }

    static func attributeValue(_ v: StackValue) -> AttributeValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let l): return .list(l.map(attributeValue))
        case .map(let m): return .map(m.mapValues(attributeValue))
        }
    }
}

/// What one platform's expansion contributes: resources, and diagnostics for what it cannot place.
public struct PlatformOutput: Sendable {
    public var resources: [DesiredResource] = []
    public var diagnostics: [Diagnostic] = []

    public init(resources: [DesiredResource] = [], diagnostics: [Diagnostic] = []) {
        self.resources = resources
        self.diagnostics = diagnostics
    }

    public static func += (lhs: inout PlatformOutput, rhs: PlatformOutput) {
        lhs.resources += rhs.resources
        lhs.diagnostics += rhs.diagnostics
    }

    /// The planner of this version cannot expand `what` yet: an error that says so, pointing at the stack.
    static func notYet(_ what: String, at location: SourceLocation?) -> PlatformOutput {
        PlatformOutput(diagnostics: [.error("platform-not-supported", "\(what) cannot be planned by this version of maifctl yet",
                                            hint: "the local platform plans and applies today; `maifctl validate` and `maifctl check` cover every platform",
                                            at: location)])
    }
}

extension DesiredResource {
    /// The tags every cloud resource carries, so that orphans can be found and adopted.
    public static func ownerTags(stack: Stack, address: ResourceAddress) -> AttributeValue {
        .map(["maif:stack": .string(stack.meta.name), "maif:address": .string(address.description)])
    }
}
