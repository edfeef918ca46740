/// `plan --out FILE` and `apply FILE`: a saved plan holds no secret in clear text, and is applied only against the state
/// and stack it was made from.

import Foundation
import Planning
import ProviderKit
import StateStore

public enum SavedPlanError: Error, CustomStringConvertible, Equatable {
    case stateMoved(planned: String?, now: String?)
    case stackChanged
    case otherStack(String)
    case remoteMoved(planned: String?, now: String?)

    public var description: String {
        switch self {
        case let .stateMoved(planned, now):
            return "the saved plan is stale: it was made against state \(planned.map { String($0.prefix(12)) } ?? "(empty)"), but the state is now at \(now.map { String($0.prefix(12)) } ?? "(empty)"). Run `maifctl plan --out FILE` again."
        case .stackChanged:
            return "the saved plan is stale: the stack (files, variables or environment) changed since it was made. Run `maifctl plan --out FILE` again."
        case .otherStack(let name):
            return "the saved plan is for stack '\(name)', not this one"
        case let .remoteMoved(planned, now):
            return "the saved plan is stale: origin's state was at \(planned.map { String($0.prefix(12)) } ?? "(empty)") when it was made, and is now at \(now.map { String($0.prefix(12)) } ?? "(empty)"): another run applied since. Run `maifctl plan --out FILE` again."
        }
    }
}

extension StackSession {
    var inputsHash: String {
        SavedPlan.inputsHash(desired, moves: stack.moved.map { ($0.from, $0.to) })
    }

    /// What `plan --out` writes: sensitive configuration replaced by placeholders (apply fills them back in from the
    /// stack, whose hash must match).
    public func save(_ plan: Plan, files: [String]) -> SavedPlan {
        var plan = plan
        for i in plan.changes.indices {
            guard let config = plan.changes[i].config else { continue }
            let schema = providers[plan.changes[i].address.provider]?.schema.resources[plan.changes[i].address.type]
            plan.changes[i].config = Sensitive.redact(config, schema: schema, key: secretKey)
        }
        var saved = SavedPlan(files: files, inputsHash: inputsHash, plan: plan)
        // Read-only: fetching updates origin's remote-tracking branch, never the work tree, and takes no lock.
        if store.repository.hasOrigin, (try? store.repository.fetchOrigin()) != nil {
            saved.remoteCommit = try? store.repository.originCommit()
        }
        return saved
    }

    /// The saved plan, checked against the current state and stack, with its sensitive values restored.
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
        guard saved.inputsHash == inputsHash else { throw SavedPlanError.stackChanged }
        var plan = saved.plan
        let configs = Dictionary(uniqueKeysWithValues: desired.map { ($0.address, $0.config) })
        for i in plan.changes.indices where plan.changes[i].config != nil {
            plan.changes[i].config = configs[plan.changes[i].address]
        }
        return plan
    }
}
