/// A plan is a plain value: the actions apply will take, with attribute-level before → after.

import Expansion
import ProviderKit

public enum PlanAction: String, Sendable, Codable, Comparable {
    case create, update, replace, delete
    case noop = "no-op"

    public var isReplace: Bool { self == .replace }

    static let order: [PlanAction] = [.delete, .replace, .update, .create, .noop]
    public static func < (a: PlanAction, b: PlanAction) -> Bool { order.firstIndex(of: a)! < order.firstIndex(of: b)! }
}

public struct PlannedChange: Sendable, Codable {
    public var address: ResourceAddress
    public var action: PlanAction
    /// The recorded state (nil for a create).
    public var before: ResourceState?
    /// What the resource will look like; `.unknown` where only apply can tell.
    public var after: [String: AttributeValue]?
    /// The configuration with its `${…}` references unresolved: apply resolves them against fresh state.
    public var config: [String: AttributeValue]?
    /// Attributes whose change forces the replacement.
    public var replaceBecause: [String]
    /// What this resource waits for (creates/updates) — references and depends_on.
    public var dependencies: [ResourceAddress]
    public var lifecycle: ResourceLifecycle
    /// What refresh found changed out of band.
    public var drift: Drift

    public typealias DriftValue = Drift.Value

    public var afterUnknown: [String] {
        (after ?? [:]).filter { !$0.value.isKnown }.map(\.key).sorted()
    }
}

/// Drift found by refresh: the object deleted out of band, or attributes that differ from what was recorded.
public struct Drift: Sendable, Codable, Equatable {
    public struct Value: Sendable, Codable, Equatable {
        public var recorded: AttributeValue?
        public var actual: AttributeValue?

        public init(recorded: AttributeValue?, actual: AttributeValue?) {
            self.recorded = recorded
            self.actual = actual
        }
    }

    /// The object no longer exists.
    public var deleted = false
    /// attribute → (recorded, actual).
    public var attributes: [String: Value] = [:]

    public init(deleted: Bool = false, attributes: [String: Value] = [:]) {
        self.deleted = deleted
        self.attributes = attributes
    }

    public static let none = Drift()
    public static let deletedOutOfBand = Drift(deleted: true)

    public var drifted: Bool { deleted || !attributes.isEmpty }
    public var isEmpty: Bool { !drifted }
    /// The drifted attributes' names.
    public var keys: Dictionary<String, Value>.Keys { attributes.keys }
    public subscript(attribute: String) -> Value? { attributes[attribute] }
}

public struct Move: Sendable, Codable, Equatable {
    public var from: ResourceAddress
    public var to: ResourceAddress
}

public struct PlanSummary: Sendable, Codable, Equatable {
    public var create = 0, update = 0, replace = 0, delete = 0
    public var hasChanges: Bool { create + update + replace + delete > 0 }
}

public struct Plan: Sendable, Codable {
    public var formatVersion = "1"
    /// Stable for the same inputs: derived from the changes, so a saved plan can be recognised.
    public var id: String
    public var stack: String
    public var stateRevision: String?
    public var changes: [PlannedChange]
    public var moves: [Move]
    public var isDestroy: Bool
    /// False when the plan was made with `--refresh=false`: drift cannot show, and the recorded state was trusted as it is.
    /// nil in plans saved before this was recorded.
    public var refreshed: Bool?

    public init(id: String, stack: String, stateRevision: String?, changes: [PlannedChange], moves: [Move], isDestroy: Bool) {
        self.id = id
        self.stack = stack
        self.stateRevision = stateRevision
        self.changes = changes
        self.moves = moves
        self.isDestroy = isDestroy
    }

    public var summary: PlanSummary {
        var s = PlanSummary()
        for c in changes {
            switch c.action {
            case .create: s.create += 1
            case .update: s.update += 1
            case .replace: s.replace += 1
            case .delete: s.delete += 1
            case .noop: break
            }
        }
        return s
    }

    public var hasChanges: Bool { summary.hasChanges || !moves.isEmpty }
}
