/// The step generator: desired resources + prior state + providers → a plan and diagnostics.
/// Nothing here changes the outside world; refresh only reads.

import Expansion
import Foundation
import ProviderKit
import ResourceGraph
import StackModel
import StateStore

public struct PlanOptions: Sendable {
    /// Limit the plan to these addresses (or address prefixes) and what they depend on.
    public var targets: [String] = []
    /// Force these resources to be replaced.
    public var replace: [ResourceAddress] = []
    /// Read every managed resource from its provider first, so out-of-band changes show as drift.
    public var refresh = true
    /// Plan the deletion of everything in state.
    public var destroy = false
    public var parallelism = 10
    /// Hashes sensitive attributes so they are compared, shown and saved only as placeholders.
    public var secretKey = SecretKey.zero

    public init() {}
}

public struct PlanResult: Sendable {
    public var plan: Plan?
    public var diagnostics: [Diagnostic]
    /// The dependency graph of the desired resources, for `maifctl graph`.
    public var graph: DirectedGraph<ResourceAddress>
}

public enum Planner {
    public static func plan(stack: String, desired: [DesiredResource], moves: [StackModel.Move], state: State,
                            providers: [String: any Provider], options: PlanOptions = PlanOptions()) async -> PlanResult {
        var diagnostics: [Diagnostic] = []
        var byAddress: [ResourceAddress: DesiredResource] = [:]
        byAddress.reserveCapacity(desired.count)

        // 1. Every resource belongs to a known provider and type, and its config fits the schema.
        for resource in desired {
            if let first = byAddress[resource.address] {
                diagnostics.append(.error("duplicate-address", "two resources have the address \(resource.address)",
                                          hint: "the other one comes from \(first.origin?.description ?? "the stack")", at: resource.origin))
                continue
            }
            guard let provider = providers[resource.address.provider] else {
                diagnostics.append(.error("unknown-provider", "no provider named '\(resource.address.provider)' for \(resource.address)",
                                          hint: "available providers: \(providers.keys.sorted().joined(separator: ", "))", at: resource.origin))
                continue
            }
            guard let schema = provider.schema.resources[resource.address.type] else {
                let types = provider.schema.resources.keys.sorted()
                let near = types.min { editDistance($0, resource.address.type) < editDistance($1, resource.address.type) }
                diagnostics.append(.error("unknown-resource-type", "provider '\(resource.address.provider)' has no resource type '\(resource.address.type)'",
                                          hint: near.map { "did you mean '\($0)'? types: \(types.joined(separator: ", "))" }, at: resource.origin))
                continue
            }
            var resource = resource
            // Every resource carries its owner's marks as its provider records them (raw ones too), so orphans can be found.
            resource.config = provider.markOwner(resource.config, ResourceContext(stack: stack, address: resource.address))
            for problem in schema.validate(resource.config) {
                diagnostics.append(.error("invalid-attribute", problem.message, hint: "see `maifctl providers` for the schema",
                                          at: resource.attributeOrigins[problem.attribute] ?? resource.origin))
            }
            byAddress[resource.address] = resource
        }

        // 2. Moves rename recorded resources before diffing, so a rename is not a destroy + create.
        var prior = state.resources
        var appliedMoves: [Move] = []
        for move in moves {
            guard let from = ResourceAddress(parsing: move.from), let to = ResourceAddress(parsing: move.to) else {
                diagnostics.append(.error("invalid-address", "moved: '\(move.from)' → '\(move.to)' is not a pair of resource addresses", at: move.location))
                continue
            }
            guard var record = prior[from] else { continue }
            if prior[to] != nil {
                diagnostics.append(.error("move-target-exists", "cannot move \(from) to \(to): \(to) is already in state",
                                          hint: "remove the moved entry or `maifctl state rm` one of them", at: move.location))
                continue
            }
            prior[from] = nil
            record.address = to
            prior[to] = record
            appliedMoves.append(Move(from: from, to: to))
        }

        // 3. The graph: edges from references and depends_on, each remembered with where it was written.
        var graph = DirectedGraph<ResourceAddress>()
        var edgeOrigins: [ResourceAddress: [ResourceAddress: SourceLocation]] = [:]
        for (address, resource) in byAddress {
            graph.add(address)
            for (attribute, value) in resource.config {
                for ref in References.find(in: value) {
                    let at = resource.attributeOrigins[attribute] ?? resource.origin
                    guard byAddress[ref.address] != nil else {
                        diagnostics.append(unknownReference(ref.address, from: address, known: byAddress, at: at))
                        continue
                    }
                    graph.addEdge(from: address, to: ref.address)
                    if let at { edgeOrigins[address, default: [:]][ref.address] = at }
                }
            }
            for (dep, at) in resource.dependsOn {
                guard byAddress[dep] != nil else {
                    diagnostics.append(unknownReference(dep, from: address, known: byAddress, at: at ?? resource.origin))
                    continue
                }
                graph.addEdge(from: address, to: dep)
                if let at { edgeOrigins[address, default: [:]][dep] = at }
            }
        }
        if diagnostics.hasErrors { return PlanResult(plan: nil, diagnostics: diagnostics.sortedByPosition(), graph: graph) }
        guard let order = graph.topologicalOrder() else {
            let cycle = graph.findCycle() ?? []
            var detail: [String] = []
            for (i, a) in cycle.enumerated() {
                let b = cycle[(i + 1) % cycle.count]
                let place = edgeOrigins[a]?[b].map { " (written at \($0.file):\($0.line))" } ?? ""
                detail.append("\(a) depends on \(b)\(place)")
            }
            diagnostics.append(.error("dependency-cycle",
                                      "dependency cycle between \(cycle.count) resources: " + (cycle + cycle.prefix(1)).map(\.description).joined(separator: " → "),
                                      hint: detail.joined(separator: "; ") + "; break one of these references",
                                      at: cycle.first.flatMap { edgeOrigins[$0]?[cycle.count > 1 ? cycle[1] : $0] } ?? cycle.first.flatMap { byAddress[$0]?.origin }))
            return PlanResult(plan: nil, diagnostics: diagnostics, graph: graph)
        }

        // 4. Refresh: what is really out there now.
        var drift: [ResourceAddress: Drift] = [:]
        if options.refresh && !prior.isEmpty {
            let (refreshed, refreshDrift, refreshDiagnostics) = await Refresher.refresh(prior, stack: stack, providers: providers,
                                                                                        parallelism: options.parallelism, key: options.secretKey)
            prior = refreshed
            drift = refreshDrift
            diagnostics += refreshDiagnostics
            if diagnostics.hasErrors { return PlanResult(plan: nil, diagnostics: diagnostics, graph: graph) }
        }

        // 5. Diff, in dependency order so references see what their targets will look like.
        var changes: [ResourceAddress: PlannedChange] = [:]
        if !options.destroy {
            for address in order {
                let resource = byAddress[address]!
                let provider = providers[address.provider]!
                let record = prior[address]
                var resolved = References.resolve(resource.config) { ref in
                    guard let c = changes[ref.address] else { return nil }
                    return (c.after ?? [:])[ref.attribute]
                }
                // Ignored attributes keep their recorded value, so the provider sees no change in them at all.
                if let record {
                    for name in resource.lifecycle.ignoreChanges { resolved[name] = record.attributes[name] }
                }
                // Sensitive values are recorded only as keyed hashes: the provider compares like with like.
                let schema = provider.schema.resources[address.type]
                let comparable = Sensitive.redact(resolved, schema: schema, key: options.secretKey)
                let request = PlanRequest(context: ResourceContext(stack: stack, address: address), prior: record?.resourceState,
                                          desired: comparable)
                let response: PlanResponse
                do {
                    response = try await provider.plan(request)
                } catch {
                    diagnostics.append(.error("provider-plan-failed", ProviderError.describe(error, at: address, during: "plan"), at: resource.origin))
                    continue
                }
                var planned = Sensitive.redact(response.planned, schema: provider.schema.resources[address.type], key: options.secretKey)
                if let record {
                    for name in resource.lifecycle.ignoreChanges { planned[name] = record.attributes[name] }
                }
                let deps = graph.dependencies(of: address).sorted()
                var change = PlannedChange(address: address, action: .create, before: record?.resourceState, after: planned,
                                           config: resource.config, replaceBecause: [], dependencies: deps,
                                           lifecycle: resource.lifecycle, drift: drift[address] ?? .none)
                if let record {
                    let forced = options.replace.contains(address)
                    let replaceBecause = response.requiresReplace.filter { !resource.lifecycle.ignoreChanges.contains($0) }
                    if forced || !replaceBecause.isEmpty {
                        change.action = .replace
                        // A replacement is a new object: plan it as a create, so computed values (ids) it cannot keep
                        // show as unknown and what refers to them waits for apply.
                        if forced, let fresh = try? await provider.plan(PlanRequest(context: request.context, prior: nil, desired: comparable)) {
                            planned = Sensitive.redact(fresh.planned, schema: provider.schema.resources[address.type], key: options.secretKey)
                            change.after = planned
                        }
                        change.replaceBecause = forced ? ["--replace"] : replaceBecause
                        if resource.lifecycle.preventDestroy {
                            diagnostics.append(.error("prevent-destroy", "\(address) would be replaced, but its lifecycle has prevent_destroy",
                                                      hint: "change lifecycle.prevent_destroy to false first, or keep \(replaceBecause.joined(separator: ", ")) as it was",
                                                      at: resource.origin))
                        }
                    } else if planned == record.attributes {
                        change.action = .noop
                    } else {
                        change.action = .update
                    }
                }
                changes[address] = change
            }
        }

        // 6. What is recorded but no longer wanted is deleted (everything, for destroy).
        for (address, record) in prior where options.destroy || byAddress[address] == nil {
            if let resource = byAddress[address], resource.lifecycle.preventDestroy {
                diagnostics.append(.error("prevent-destroy", "\(address) would be destroyed, but its lifecycle has prevent_destroy",
                                          hint: "set lifecycle.prevent_destroy to false first", at: resource.origin))
            }
            changes[address] = PlannedChange(address: address, action: .delete, before: record.resourceState, after: nil, config: nil,
                                             replaceBecause: [], dependencies: record.dependencies,
                                             lifecycle: byAddress[address]?.lifecycle ?? ResourceLifecycle(), drift: drift[address] ?? .none)
        }

        // A resource that vanished out of band and is no longer wanted is forgotten (its delete finds nothing).
        for (address, d) in drift where d.deleted && changes[address] == nil && (options.destroy || byAddress[address] == nil) {
            if let record = state.resources[address] {
                changes[address] = PlannedChange(address: address, action: .delete, before: record.resourceState, after: nil, config: nil,
                                                 replaceBecause: [], dependencies: record.dependencies,
                                                 lifecycle: ResourceLifecycle(), drift: d)
            }
        }

        // 7. --target keeps the targets and what they depend on.
        if !options.targets.isEmpty {
            let matched = changes.keys.filter { a in options.targets.contains { a.description == $0 || a.description.hasPrefix($0 + ".") } }
            if matched.isEmpty {
                diagnostics.append(.error("unknown-target", "--target \(options.targets.joined(separator: ", ")) matches no resource",
                                          hint: "see `maifctl state list` and `maifctl graph` for addresses", at: nil))
            }
            let keep = Set(matched).union(options.destroy ? graph.descendants(of: matched) : graph.ancestors(of: matched))
            changes = changes.filter { keep.contains($0.key) }
        }

        if diagnostics.hasErrors { return PlanResult(plan: nil, diagnostics: diagnostics.sortedByPosition(), graph: graph) }
        let sorted = changes.values.sorted { $0.address < $1.address }
        let plan = Plan(id: planID(stack: stack, revision: state.revision, changes: sorted), stack: stack,
                        stateRevision: state.revision, changes: sorted, moves: appliedMoves, isDestroy: options.destroy)
        return PlanResult(plan: plan, diagnostics: diagnostics.sortedByPosition(), graph: graph)
    }

    private static func unknownReference(_ target: ResourceAddress, from: ResourceAddress, known: [ResourceAddress: DesiredResource],
                                         at location: SourceLocation?) -> Diagnostic {
        let names = known.keys.map(\.description)
        let near = names.filter { editDistance($0, target.description) <= max(2, target.description.count / 4) }.min()
        return .error("unknown-reference", "\(from) refers to \(target), which is not in the stack",
                      hint: near.map { "did you mean '\($0)'?" } ?? "check the address: <provider>.<kind>.<name>", at: location)
    }

    /// A short stable id for a plan: FNV-1a over the changes' actions, addresses and values.
    static func planID(stack: String, revision: String?, changes: [PlannedChange]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) {
            for b in s.utf8 {
                hash ^= UInt64(b)
                hash = hash &* 0x100_0000_01b3
            }
        }
        mix(stack)
        mix(revision ?? "-")
        for c in changes where c.action != .noop {
            mix(c.address.description)
            mix(c.action.rawValue)
            mix(AttributeValue.map(c.after ?? [:]).canonicalJSON(indent: nil))
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
