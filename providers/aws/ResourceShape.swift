/// How the ELB and Auto Scaling resources shape what they report, so that a plan right after apply shows no
/// change: only the attributes (and, in maps AWS fills with defaults, only the keys) the stack sets, and lists
/// AWS treats as sets in the stack's order. Bounded waits for AWS's eventual consistency live here too.

import Foundation
import ProviderKit

enum ResourceShape {
    /// Attributes whose maps AWS fills with its own defaults (load balancer attributes, a target tracking
    /// configuration's DisableScaleIn, …): reported with only the keys the stack sets, at any depth.
    static let shapedByStack: Set<String> = ["attributes", "matcher", "default_actions", "launch_template", "target_tracking_configuration"]
    /// Lists AWS keeps as sets and may return in another order.
    static let unordered: Set<String> = ["subnets", "security_groups", "vpc_zone_identifier", "target_group_arns"]

    /// `attributes` as read, aligned with what the stack set (`stack`: the config, or the prior state).
    static func aligned(_ attributes: [String: AttributeValue], to stack: [String: AttributeValue]) -> [String: AttributeValue] {
        var out = attributes
        for (key, value) in attributes {
            guard let wanted = stack[key] else { continue }
            if shapedByStack.contains(key) { out[key] = shaped(value, like: wanted) }
            if unordered.contains(key) { out[key] = ordered(value, like: wanted) }
        }
        return out
    }

    /// `value` with only the map keys `wanted` has; lists of the same length are shaped item by item, and a
    /// scalar that reads as the same text as the stack's takes the stack's type.
    static func shaped(_ value: AttributeValue, like wanted: AttributeValue) -> AttributeValue {
        switch (value, wanted) {
        case (.map(let have), .map(let want)):
            var out: [String: AttributeValue] = [:]
            for (key, item) in have { if let w = want[key] { out[key] = shaped(item, like: w) } }
            return .map(out)
        case (.list(let have), .list(let want)) where have.count == want.count:
            return .list(zip(have, want).map { shaped($0, like: $1) })
        case (.string, .bool), (.string, .int), (.string, .double), (.int, .string):
            // AWS keeps attribute values as text: "true" is the stack's true, "3" its 3.
            return value.text == wanted.text ? wanted : value
        default:
            return value
        }
    }

    /// The stack's order when both lists hold the same items.
    static func ordered(_ value: AttributeValue, like wanted: AttributeValue) -> AttributeValue {
        guard case .list(let have) = value, case .list(let want) = wanted, have.count == want.count,
              have.sorted(by: { $0.interpolationText < $1.interpolationText }) == want.sorted(by: { $0.interpolationText < $1.interpolationText })
        else { return value }
        return wanted
    }

    /// Whether AWS tags name this stack and address as the owner (the check behind every `find`).
    static func owns(_ tags: [String: String], _ context: ResourceContext) -> Bool {
        tags["maif:stack"] == context.stack && tags["maif:address"] == context.address.description
    }
}

/// Bounded waits for what AWS does asynchronously (a load balancer becoming active, a group being deleted).
enum Poll {
    /// Calls `check` until it returns a value: short waits first, growing to `interval`, for at most `timeout` seconds.
    static func until<T>(_ what: String, timeout: Double, interval: Double = 5, _ check: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var delay = 0.2
        while true {
            if let value = try await check() { return value }
            guard Date() < deadline else {
                throw ProviderError(address: nil, call: "wait", message: "gave up after \(Int(timeout)) s waiting for \(what)")
            }
            try await Task.sleep(nanoseconds: UInt64(min(delay, max(0, deadline.timeIntervalSinceNow)) * 1e9))
            delay = min(interval, delay * 2)
        }
    }
}

/// Parameters and lists of the query protocol as ELBv2 and Auto Scaling use them (EC2 has its own `item` form).
enum QueryList {
    /// `Name.member.1=…`, `Name.member.2=…`.
    static func params(_ name: String, _ values: [String]) -> [String: String] {
        var params: [String: String] = [:]
        for (i, value) in values.enumerated() { params["\(name).member.\(i + 1)"] = value }
        return params
    }

    /// The strings of a list attribute.
    static func strings(_ value: AttributeValue?) -> [String] {
        value?.listValue?.compactMap(\.text) ?? []
    }
}

extension XMLNode {
    /// `<Name><member>…</member></Name>`, `Name` a direct child.
    func queryMembers(_ name: String) -> [XMLNode] { self[name]?.all("member") ?? [] }
    /// The `…Result` element of a query-protocol response.
    var queryResult: XMLNode { children.first { $0.name.hasSuffix("Result") } ?? self }
}
