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

    public var description: String {
        switch self {
        case let .stateMoved(planned, now):
            return "the saved plan is stale: it was made against state \(planned.map { String($0.prefix(12)) } ?? "(empty)"), but the state is now at \(now.map { String($0.prefix(12)) } ?? "(empty)"). Run `maifctl plan --out FILE` again."
        case .stackChanged:
            return "the saved plan is stale: the stack (files, variables or environment) changed since it was made. Run `maifctl plan --out FILE` again."
        case .otherStack(let name):
            return "the saved plan is for stack '\(name)', not this one"
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
        return SavedPlan(files: files, inputsHash: inputsHash, plan: plan)
    }

    /// The saved plan, checked against the current state and stack, with its sensitive values restored.
    public func restore(_ saved: SavedPlan) throws -> Plan {
        guard saved.plan.stack == name else { throw SavedPlanError.otherStack(saved.plan.stack) }
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
