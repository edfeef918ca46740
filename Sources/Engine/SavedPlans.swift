/// `plan --out FILE` and `apply FILE`: a saved plan holds no secret in clear text, and is applied only by the maifctl that
/// made it, against the state, stack files, variables and environment it was made from; a refusal names what moved.

import Expansion
import Foundation
import Planning
import ProviderKit
import StateStore

public enum SavedPlanError: Error, CustomStringConvertible, Equatable {
    case stateMoved(planned: String?, now: String?)
    case stackChanged
    case otherStack(String)
    case remoteMoved(planned: String?, now: String?)
    /// The plan was made by another maifctl (nil: one too old to record its version).
    case otherVersion(planned: String?, now: String)
    /// A stack file or overlay's bytes differ from when the plan was made.
    case fileChanged(path: String)
    case fileMissing(path: String)
    /// Variables whose resolved value differs (`--var`, a default, or the environment a default reads).
    case variablesChanged([String])
    /// Resources whose resolved configuration differs though no file or variable did: the environment they read.
    case resourcesChanged([String])

    static let again = "Run `maifctl plan --out FILE` again."

    public var description: String {
        switch self {
        case let .stateMoved(planned, now):
            return "the saved plan is stale: it was made against state \(planned.map { String($0.prefix(12)) } ?? "(empty)"), but the state is now at \(now.map { String($0.prefix(12)) } ?? "(empty)"). \(Self.again)"
        case .stackChanged:
            return "the saved plan is stale: the stack (files, variables or environment) changed since it was made. \(Self.again)"
        case .otherStack(let name):
            return "the saved plan is for stack '\(name)', not this one"
        case let .remoteMoved(planned, now):
            return "the saved plan is stale: origin's state was at \(planned.map { String($0.prefix(12)) } ?? "(empty)") when it was made, and is now at \(now.map { String($0.prefix(12)) } ?? "(empty)"): another run applied since. \(Self.again)"
        case let .otherVersion(planned, now):
            return "the saved plan was made by maifctl \(planned ?? "(a version too old to say)"), and this is maifctl \(now): apply it with the maifctl that made it, or run `maifctl plan --out FILE` again."
        case .fileChanged(let path):
            return "the saved plan is stale: stack file \(path) changed since the plan was made. \(Self.again)"
        case .fileMissing(let path):
            return "the saved plan is stale: stack file \(path), which the plan was made from, cannot be read here (run apply where plan ran). \(Self.again)"
        case .variablesChanged(let names):
            return "the saved plan is stale: the value of \(Self.list(names, "variable", "variables")) changed since the plan was made (give apply the same --var values and environment as plan). \(Self.again)"
        case .resourcesChanged(let addresses):
            return "the saved plan is stale: the configuration of \(Self.list(addresses, "resource", "resources")) resolves differently now (the environment it reads changed). \(Self.again)"
        }
    }

    private static func list(_ items: [String], _ one: String, _ many: String) -> String {
        let shown = items.prefix(5).joined(separator: ", ")
        return (items.count == 1 ? "\(one) " : "\(many) ") + shown + (items.count > 5 ? " and \(items.count - 5) more" : "")
    }
}

extension Engine {
    /// The version saved plans and state record.
    public static let version = StateStore.engineVersion

    /// Checks what a saved plan can be checked against before its stack is opened: the maifctl version and the bytes of
    /// each stack file and overlay. A file edited since can make the stack fail to load, or load as another stack; the
    /// refusal names the file instead.
    public static func checkSources(of saved: SavedPlan) throws {
        guard let sources = saved.sources else { throw SavedPlanError.otherVersion(planned: nil, now: version) }
        guard sources.maifctlVersion == version else { throw SavedPlanError.otherVersion(planned: sources.maifctlVersion, now: version) }
        for file in sources.files {
            guard let digest = SavedPlanSources.fileDigest(file.path) else { throw SavedPlanError.fileMissing(path: file.path) }
            guard digest == file.sha256 else { throw SavedPlanError.fileChanged(path: file.path) }
        }
    }
}

extension StackSession {
    var inputsHash: String {
        SavedPlan.inputsHash(desired, moves: stack.moved.map { ($0.from, $0.to) })
    }

    /// What `plan --out` writes: sensitive configuration replaced by placeholders (apply fills them back in from the
    /// stack, whose hash must match), and the digests of everything the plan came from.
    public func save(_ plan: Plan, files: [String]) -> SavedPlan {
        var plan = plan
        for i in plan.changes.indices {
            guard let config = plan.changes[i].config else { continue }
            let schema = providers[plan.changes[i].address.provider]?.schema.resources[plan.changes[i].address.type]
            plan.changes[i].config = Sensitive.redact(config, schema: schema, key: secretKey)
        }
        let salt = SavedPlanSources.newSalt()
        let sources = SavedPlanSources(
            maifctlVersion: Engine.version,
            files: files.map { SavedPlanSources.File(path: $0, sha256: SavedPlanSources.fileDigest($0) ?? "") },
            salt: salt,
            variables: stack.meta.variables.mapValues { SavedPlanSources.keyedDigest($0, salt: salt) },
            resources: SavedPlanSources.resourceDigests(desired, salt: salt))
        var saved = SavedPlan(files: files, inputsHash: inputsHash, plan: plan, sources: sources)
        // Read-only: fetching updates origin's remote-tracking branch, never the work tree, and takes no lock.
        if store.repository.hasOrigin, (try? store.repository.fetchOrigin()) != nil {
            saved.remoteCommit = try? store.repository.originCommit()
        }
        return saved
    }

    /// The saved plan, checked against the current state and stack, with its sensitive values restored. A caller that
    /// opened the stack from the plan's files checks them first (`Engine.checkSources(of:)`).
    public func restore(_ saved: SavedPlan) throws -> Plan {
        guard saved.plan.stack == name else { throw SavedPlanError.otherStack(saved.plan.stack) }
        if store.repository.hasOrigin {
            // The run holds the lock and has just fetched (Engine.open), so this is origin as it is now.
            let now = try? store.repository.originCommit()
            if now != saved.remoteCommit { throw SavedPlanError.remoteMoved(planned: saved.remoteCommit, now: now) }
        }
        guard saved.plan.stateRevision == state.revision else {
            throw SavedPlanError.stateMoved(planned: saved.plan.stateRevision, now: state.revision)
        }
        if let sources = saved.sources {
            let now = stack.meta.variables.mapValues { SavedPlanSources.keyedDigest($0, salt: sources.salt) }
            let moved = Set(now.keys).union(sources.variables.keys).filter { now[$0] != sources.variables[$0] }.sorted()
            if !moved.isEmpty { throw SavedPlanError.variablesChanged(moved) }
            let resources = SavedPlanSources.resourceDigests(desired, salt: sources.salt)
            let changed = Set(resources.keys).union(sources.resources.keys).filter { resources[$0] != sources.resources[$0] }
            if !changed.isEmpty { throw SavedPlanError.resourcesChanged(changed.sorted()) }
        }
        guard saved.inputsHash == inputsHash else { throw SavedPlanError.stackChanged }
        var plan = saved.plan
        let configs = Dictionary(uniqueKeysWithValues: desired.map { ($0.address, $0.config) })
        for i in plan.changes.indices where plan.changes[i].config != nil {
            plan.changes[i].config = configs[plan.changes[i].address]
        }
        return plan
    }
}
