/// The step executor: walks the plan's DAG with bounded parallelism. A resource starts as soon as what it
/// depends on is done; deletes run in reverse dependency order; a failure skips only its dependents.
/// A create-before-destroy replacement destroys the old object only after whatever refers to the resource has been
/// moved onto the new one (as Terraform does); until then the old object is recorded as deposed (see `deposed(id:)`).

import Foundation
import Planning
import ResourceGraph
import ProviderKit
import StateStore

public enum ApplyEvent: Sendable {
    case started(ResourceAddress, PlanAction)
    case stillRunning(ResourceAddress, PlanAction, seconds: Double)
    case finished(ResourceAddress, PlanAction, seconds: Double, id: String?)
    /// `message` is the provider's error, naming the resource and the call (see `ProviderError.describe`).
    case failed(ResourceAddress, PlanAction, seconds: Double, message: String)
    case skipped(ResourceAddress, PlanAction, because: ResourceAddress)
}

public struct ApplyOptions: Sendable {
    public var parallelism = 10
    /// How long an action runs before "still creating…" lines are reported, and how often.
    public var progressInterval: Double = 5
    public var onEvent: @Sendable (ApplyEvent) -> Void = { _ in }
    /// Hashes sensitive attributes before anything is recorded (see `Sensitive`).
    public var secretKey = SecretKey.zero
    /// Extra trailers for the state commit, e.g. `Skipped-Checks`.
    public var trailers: [String: String] = [:]
    public init() {}
}

public struct ApplyResult: Sendable {
    public var state: State
    public var failures: [(address: ResourceAddress, message: String)]
    public var skipped: [ResourceAddress]
    public var completed: [ResourceAddress: PlanAction]
    public var interrupted: Bool
    public var commit: String?
    public var succeeded: Bool { failures.isEmpty && skipped.isEmpty && !interrupted }
}

/// Set from a signal handler or another task: no new work starts once it is set.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func cancel() { lock.withLock { value = true } }
    public var isCancelled: Bool { lock.withLock { value } }
}

public enum Executor {
    struct Step: Sendable {
        var change: PlannedChange
        var prerequisites: Set<ResourceAddress>
        /// The destroy half of a create-before-destroy replacement (counted with the replacement, not on its own).
        var destroysReplaced = false
    }

    public static func apply(_ plan: Plan, providers: [String: any Provider], recorder: StateRecorder,
                             options: ApplyOptions = ApplyOptions(), cancellation: CancellationFlag = CancellationFlag()) async -> ApplyResult {
        // Moves renamed the records before planning; the state follows first, so later steps record onto the new names.
        for move in plan.moves { try? await recorder.move(from: move.from, to: move.to) }

        // Apply-time values: what every resource looks like now, updated as steps finish.
        var current: [ResourceAddress: [String: AttributeValue]] = [:]
        for c in plan.changes { if let b = c.before { current[c.address] = b.attributes } }

        var steps = buildSteps(plan)
        // The steps' own graph: a step starts when every step it depends on has finished.
        var graph = DirectedGraph<ResourceAddress>()
        var waiting: [ResourceAddress: Int] = [:]
        for (address, step) in steps {
            graph.add(address)
            for p in step.prerequisites { graph.addEdge(from: address, to: p) }
            waiting[address] = step.prerequisites.count
        }
        var ready = steps.keys.filter { waiting[$0] == 0 }.sorted(by: >)
        var failures: [(ResourceAddress, String)] = []
        var skipped: Set<ResourceAddress> = []
        var completed: [ResourceAddress: PlanAction] = [:]
        var finished = 0
        var interrupted = false
        let inFlight = InFlight()

        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(options.progressInterval * 1_000_000_000))
                for (address, action, seconds) in inFlight.slow(olderThan: options.progressInterval) {
                    options.onEvent(.stillRunning(address, action, seconds: seconds))
                }
            }
        }
        defer { ticker.cancel() }

        await withTaskGroup(of: (ResourceAddress, Result<ResourceState?, Error>, Double).self) { group in
            var running = 0
            func launchReady() {
                while running < max(1, options.parallelism), let address = ready.popLast() {
                    if cancellation.isCancelled {
                        interrupted = true
                        ready.removeAll()
                        return
                    }
                    let change = steps[address]!.change
                    guard let provider = providers[address.provider] else {
                        failures.append((address, "provider '\(address.provider)' is not available"))
                        options.onEvent(.failed(address, change.action, seconds: 0, message: "provider '\(address.provider)' is not available"))
                        continue
                    }
                    let config = change.config.map { cfg in
                        var resolved = References.resolve(cfg) { ref in current[ref.address]?[ref.attribute] }
                        if let before = change.before {
                            for name in change.lifecycle.ignoreChanges { resolved[name] = before.attributes[name] }
                        }
                        return resolved
                    }
                    running += 1
                    options.onEvent(.started(address, change.action))
                    inFlight.start(address, change.action)
                    // A deposed object is still the resource's, to its provider.
                    let context = ResourceContext(stack: plan.stack, address: address.deposedOf ?? address)
                    let schema = provider.schema.resources[address.type]
                    group.addTask {
                        let start = Date()
                        do {
                            if change.action == .create || change.action == .replace, schema?.createsOutsideObject ?? true {
                                try await recorder.intent(address, action: change.action.rawValue,
                                                          config: Sensitive.redact(config ?? [:], schema: schema, key: options.secretKey),
                                                          dependencies: change.dependencies)
                            }
                            var state = try await perform(change, config: config, context: context, provider: provider)
                            if let s = state { state?.attributes = Sensitive.redact(s.attributes, schema: schema, key: options.secretKey) }
                            return (address, .success(state), Date().timeIntervalSince(start))
                        } catch {
                            return (address, .failure(error), Date().timeIntervalSince(start))
                        }
                    }
                }
            }

            launchReady()
            while let (address, outcome, seconds) = await group.next() {
                running -= 1
                inFlight.finish(address)
                let change = steps[address]!.change
                switch outcome {
                case .success(let state):
                    do {
                        if let state {
                            current[address] = state.attributes
                            let record = ResourceRecord(address: address, id: state.id, attributes: state.attributes,
                                                        dependencies: change.dependencies)
                            try await recorder.record(record, change: change.action == .create ? .created : .updated)
                            if let deposed = deposedStep(of: change), let step = steps[deposed] {
                                if state.id == change.before?.id {
                                    // The create replaced the object where it stood: there is no old one left to destroy.
                                    steps[deposed] = nil
                                    graph.remove(deposed)
                                } else {
                                    try await recorder.record(ResourceRecord(address: deposed, id: step.change.before!.id,
                                                                             attributes: step.change.before!.attributes,
                                                                             dependencies: step.change.dependencies), change: .deleted)
                                }
                            }
                        } else {
                            current[address] = nil
                            try await recorder.remove(address)
                        }
                        finished += 1
                        if !steps[address]!.destroysReplaced { completed[address] = change.action }
                        options.onEvent(.finished(address, change.action, seconds: seconds, id: state?.id))
                        for d in graph.dependents(of: address).sorted(by: >) {
                            waiting[d]! -= 1
                            if waiting[d] == 0 && !skipped.contains(d) { ready.append(d) }
                        }
                    } catch {
                        failures.append((address, "recording state failed: \(error)"))
                        options.onEvent(.failed(address, change.action, seconds: seconds, message: "\(address): recording state failed: \(error)"))
                    }
                case .failure(let error):
                    let message = ProviderError.describe(error, at: address, during: change.action.verb)
                    failures.append((address, message))
                    options.onEvent(.failed(address, change.action, seconds: seconds, message: message))
                    for d in graph.descendants(of: [address]).sorted() where skipped.insert(d).inserted {
                        options.onEvent(.skipped(d, steps[d]!.change.action, because: address))
                    }
                }
                launchReady()
            }
        }
        // Moves whose resource had no other change still need their state file renamed.

        if cancellation.isCancelled { interrupted = interrupted || finished + failures.count + skipped.count < steps.count }
        let verb = plan.isDestroy ? "destroy" : "apply"
        var commit: String?
        do {
            try await recorder.setOutputs(Outputs.derive(from: await recorder.state))
            commit = try await recorder.commit(verb: verb, planID: plan.id, trailers: options.trailers)
        } catch {
            failures.append((ResourceAddress(provider: "state", kind: "git", name: "commit"), "committing state failed: \(error)"))
        }
        return ApplyResult(state: await recorder.state, failures: failures.map { (address: $0.0, message: $0.1) },
                           skipped: skipped.sorted(), completed: completed, interrupted: interrupted, commit: commit)
    }

    /// How many steps applying `plan` takes, each reported as started and then finished, failed or skipped: one per
    /// change that does something, plus the destroy of the old object of a create-before-destroy replacement.
    public static func stepCount(_ plan: Plan) -> Int { buildSteps(plan).count }

    /// One step per change that does something. Creates/updates wait for their dependencies;
    /// a delete waits for the deletes of whatever depended on it. A create-before-destroy replacement gets a second
    /// step, the destroy of the old object, which waits for everything that refers to the resource; so does the
    /// delete of a deposed object left by an earlier run.
    static func buildSteps(_ plan: Plan) -> [ResourceAddress: Step] {
        var steps: [ResourceAddress: Step] = [:]
        let active = plan.changes.filter { $0.action != .noop }
        let actions = Dictionary(uniqueKeysWithValues: active.map { ($0.address, $0.action) })
        for c in active {
            var prerequisites: Set<ResourceAddress> = []
            if c.action != .delete {
                for d in c.dependencies where actions[d] != nil && actions[d] != .delete { prerequisites.insert(d) }
            }
            steps[c.address] = Step(change: c, prerequisites: prerequisites)
            if let deposed = deposedStep(of: c) {
                var destroy = c
                destroy.address = deposed
                destroy.action = .delete
                destroy.after = nil
                destroy.config = nil
                destroy.replaceBecause = []
                destroy.drift = .none
                steps[deposed] = Step(change: destroy, prerequisites: [c.address], destroysReplaced: true)
            }
        }
        for c in active where c.action == .delete {
            for d in c.dependencies where actions[d] == .delete { steps[d]!.prerequisites.insert(c.address) }
        }
        for address in Array(steps.keys) {
            guard let base = address.deposedOf else { continue }
            for c in active where c.address != address && c.dependencies.contains(base) { steps[address]!.prerequisites.insert(c.address) }
        }
        return steps
    }

    /// Where the old object of a create-before-destroy replacement is recorded until it is destroyed.
    static func deposedStep(of change: PlannedChange) -> ResourceAddress? {
        guard change.action == .replace, change.lifecycle.createBeforeDestroy, let before = change.before else { return nil }
        return change.address.deposed(id: before.id)
    }

    /// Runs one change against its provider; nil means the resource is gone.
    static func perform(_ change: PlannedChange, config: [String: AttributeValue]?, context: ResourceContext,
                        provider: any Provider) async throws -> ResourceState? {
        switch change.action {
        case .create:
            return try await provider.create(context, config ?? [:])
        case .update:
            return try await provider.update(context, change.before!, config ?? [:])
        case .delete:
            try await provider.delete(context, change.before!)
            return nil
        case .replace:
            // The old object's destroy is a step of its own (see `deposedStep(of:)`).
            if change.lifecycle.createBeforeDestroy { return try await provider.create(context, config ?? [:]) }
            try await provider.delete(context, change.before!)
            return try await provider.create(context, config ?? [:])
        case .noop:
            return change.before
        }
    }
}

extension ResourceAddress {
    /// `<address>.deposed-<8 hex digits of the old id>`: the old object of a create-before-destroy replacement, kept
    /// in state until its destroy has run. Not in the stack, so a later plan destroys it if this run could not.
    public func deposed(id: String) -> ResourceAddress {
        ResourceAddress(provider: provider, kind: kind, name: "\(name).\(Self.deposedMarker)\(Digest.sha256(id).prefix(8))")
    }

    /// The resource a deposed object belonged to; nil for any other address.
    public var deposedOf: ResourceAddress? {
        guard let dot = name.lastIndex(of: "."), name[name.index(after: dot)...].hasPrefix(Self.deposedMarker) else { return nil }
        let suffix = name[name.index(after: dot)...].dropFirst(Self.deposedMarker.count)
        guard suffix.count == 8, suffix.allSatisfy(\.isHexDigit) else { return nil }
        return ResourceAddress(provider: provider, kind: kind, name: String(name[..<dot]))
    }

    static let deposedMarker = "deposed-"
}

extension PlanAction {
    public var verb: String {
        switch self {
        case .create: return "create"
        case .update: return "update"
        case .replace: return "replace"
        case .delete: return "destroy"
        case .noop: return "read"
        }
    }
}

/// Actions in flight and when they started, for "still creating…" progress lines.
final class InFlight: @unchecked Sendable {
    private let lock = NSLock()
    private var started: [ResourceAddress: (PlanAction, Date)] = [:]

    func start(_ a: ResourceAddress, _ action: PlanAction) { lock.withLock { started[a] = (action, Date()) } }
    func finish(_ a: ResourceAddress) { _ = lock.withLock { started.removeValue(forKey: a) } }

    func slow(olderThan seconds: Double) -> [(ResourceAddress, PlanAction, Double)] {
        lock.withLock {
            let now = Date()
            return started.compactMap { a, v in
                let age = now.timeIntervalSince(v.1)
                return age >= seconds ? (a, v.0, age) : nil
            }.sorted { $0.0 < $1.0 }
        }
    }
}

/// Outputs recorded with each apply: what a user wants to reach after deploying (node endpoints).
public enum Outputs {
    /// Types whose `endpoint` is where something is sent, not where a cluster is reached (an SNS subscription's e-mail
    /// address or webhook).
    static let notReachedThere: Set<String> = ["aws.sns_topic_subscription"]

    public static func derive(from state: State) -> [String: AttributeValue] {
        var endpoints: [String: AttributeValue] = [:]
        for (address, record) in state.resources where !notReachedThere.contains(address.type) {
            if let e = record.attributes["endpoint"], e.isKnown { endpoints[address.description] = e }
        }
        return endpoints.isEmpty ? [:] : ["endpoints": .map(endpoints)]
    }
}
