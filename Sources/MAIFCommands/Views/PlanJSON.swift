/// The versioned machine-readable plan: `{"format_version":"1","stack",…,"changes":[…],"summary":{…}}`.

import Planning
import ProviderKit

enum PlanJSON {
    static func render(_ plan: Plan) -> String {
        let changes: [AttributeValue] = plan.changes.map { c in
            var item: [String: AttributeValue] = [
                "address": .string(c.address.description),
                "type": .string(c.address.type),
                "action": .string(c.action.rawValue),
                "before": c.before.map { .map($0.attributes) } ?? .null,
                "after": c.after.map { .map($0.mapValues { $0.isKnown ? $0 : .null }) } ?? .null,
                "after_unknown": .list(c.afterUnknown.map { .string($0) }),
            ]
            if !c.replaceBecause.isEmpty { item["replace_because"] = .list(c.replaceBecause.map { .string($0) }) }
            if c.drift.deleted { item["deleted_out_of_band"] = true }
            if !c.drift.attributes.isEmpty { item["drift"] = driftJSON(c.drift) }
            return .map(item)
        }
        let s = plan.summary
        return AttributeValue.map([
            "format_version": .string(plan.formatVersion),
            "plan_id": .string(plan.id),
            "stack": .string(plan.stack),
            "state_revision": plan.stateRevision.map { .string($0) } ?? .null,
            "refreshed": plan.refreshed.map { .bool($0) } ?? .null,
            "changes": .list(changes),
            "moves": .list(plan.moves.map { .map(["from": .string($0.from.description), "to": .string($0.to.description)]) }),
            "summary": .map(["create": .int(Int64(s.create)), "update": .int(Int64(s.update)),
                             "replace": .int(Int64(s.replace)), "delete": .int(Int64(s.delete))]),
        ]).canonicalJSON()
    }

    /// attribute → {recorded, actual}.
    static func driftJSON(_ drift: Drift) -> AttributeValue {
        .map(drift.attributes.mapValues { .map(["recorded": $0.recorded ?? .null, "actual": $0.actual ?? .null]) })
    }
}
