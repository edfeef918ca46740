/// The one place that maps stack sections onto provider resource types.

import ProviderKit
import StackModel

public enum Expander {
    /// Every platform's expansion; a new platform is added here (and in its own folder under Platforms/).
    static let platforms: [any PlatformExpansion.Type] = [
        LocalExpansion.self, AWSExpansion.self, GCPExpansion.self, AzureExpansion.self, KubernetesExpansion.self,
        SwarmExpansion.self, OnPremExpansion.self,
    ]

    public static func expand(_ stack: Stack) -> ExpansionResult {
        var out = PlatformOutput()
        for cluster in stack.clusters {
            guard let platform = platforms.first(where: { $0.expands(cluster) }) else {
                out.diagnostics.append(.error("platform-cloud-mismatch", "cluster '\(cluster.name)': platform vm needs cloud aws, gcp or azure",
                                              at: cluster.location))
                continue
            }
            out += platform.cluster(cluster, in: stack)
        }
        // Stack-wide resources: backup targets by kind, and whatever a platform adds once per stack.
        for target in stack.disasterRecovery?.backupTargets ?? [] {
            for platform in platforms where platform.backupKinds.contains(target.kind) {
                out += platform.backupTarget(target, in: stack)
            }
        }
        for platform in platforms { out += platform.stackWide(stack) }
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
