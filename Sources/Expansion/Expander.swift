/// The one place that maps stack sections onto provider resource types.

import ProviderKit
import StackModel

public enum Expander {
    public static func expand(_ stack: Stack) -> ExpansionResult {
        var resources: [DesiredResource] = []
        var diagnostics: [Diagnostic] = []
        for cluster in stack.clusters {
            switch cluster.platform {
            case .local:
                resources += LocalExpansion(stack: stack, cluster: cluster).resources()
            default:
                diagnostics.append(.error(
                    "platform-not-supported",
                    "cluster '\(cluster.name)' runs on platform '\(cluster.platform.rawValue)' (\(cluster.cloud.rawValue)), which this version of maifctl cannot plan yet",
                    hint: "the local platform plans and applies today; `maifctl validate` checks every platform",
                    at: cluster.location))
            }
        }
        if stack.clusters.contains(where: { $0.platform == .local }) {
            let (targets, targetDiagnostics) = LocalExpansion.backupTargets(stack)
            resources += targets
            diagnostics += targetDiagnostics
        }
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
