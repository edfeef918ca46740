/// The listener resource: a port and protocol of a load balancer and its default actions.

import Foundation
import ProviderKit

struct ListenerResource: AWSProvider.Resource {
    let elb: ELBv2

    /// `DefaultActions.member.N.*` from `[{type, target_group_arn, order}]`.
    static func actionParams(_ value: AttributeValue?) -> [String: String] {
        var params: [String: String] = [:]
        for (i, action) in (value?.listValue ?? []).enumerated() {
            let prefix = "DefaultActions.member.\(i + 1)."
            let m = action.mapValue ?? [:]
            params[prefix + "Type"] = m["type"]?.text ?? "forward"
            if let arn = m["target_group_arn"]?.text { params[prefix + "TargetGroupArn"] = arn }
            if let order = m["order"]?.text { params[prefix + "Order"] = order }
        }
        return params
    }

    /// The parameters CreateListener and ModifyListener share, for what the stack sets that differs from `current`.
    static func settingParams(_ config: [String: AttributeValue], current: [String: AttributeValue]?) -> [String: String] {
        var params: [String: String] = [:]
        for (attribute, parameter) in [("protocol", "Protocol"), ("port", "Port"), ("ssl_policy", "SslPolicy"),
                                       ("certificate_arn", "Certificates.member.1.CertificateArn")] {
            guard let wanted = config[attribute]?.text, current?[attribute]?.text != wanted else { continue }
            params[parameter] = wanted
        }
        if let actions = config["default_actions"],
           current.map({ ResourceShape.shaped($0["default_actions"] ?? .null, like: actions) != actions }) ?? true {
            params.merge(actionParams(actions)) { $1 }
        }
        return params
    }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = ELBv2.tagParams(tagMap(config)).merging(Self.settingParams(config, current: nil)) { $1 }
        params["LoadBalancerArn"] = config["load_balancer_arn"]?.text
        let xml = try await elb.call("CreateListener", params.compactMapValues { $0 })
        guard let arn = xml.queryMembers("Listeners").first?.value("ListenerArn") else {
            throw ProviderError(address: context.address, call: "elasticloadbalancing CreateListener", message: "the response named no listener")
        }
        return try await readOrFail(context, arn)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let listener = try await elb.describe("DescribeListeners", QueryList.params("ListenerArns", [id]))?
            .queryMembers("Listeners").first else { return nil }
        var a: [String: AttributeValue] = [
            "id": .string(id), "arn": .string(id),
            "load_balancer_arn": .string(listener.value("LoadBalancerArn") ?? ""),
            "protocol": .string(listener.value("Protocol") ?? ""),
            "port": .int(listener.value("Port").flatMap { Int64($0) } ?? 0),
            "default_actions": .list(listener.queryMembers("DefaultActions").map { action in
                var m: [String: AttributeValue] = ["type": .string(action.value("Type") ?? "")]
                if let arn = action.value("TargetGroupArn") { m["target_group_arn"] = .string(arn) }
                if let order = action.value("Order").flatMap({ Int64($0) }) { m["order"] = .int(order) }
                return .map(m)
            }),
            "tags": .map(try await elb.tags(id).mapValues { .string($0) }),
            "region": .string(elb.region),
        ]
        if let policy = listener.value("SslPolicy"), !policy.isEmpty { a["ssl_policy"] = .string(policy) }
        if let certificate = listener.queryMembers("Certificates").first?.value("CertificateArn") { a["certificate_arn"] = .string(certificate) }
        return ResourceState(id: id, attributes: a)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id).attributes
        let changed = Self.settingParams(config, current: current)
        if !changed.isEmpty {
            _ = try await elb.call("ModifyListener", ["ListenerArn": prior.id].merging(changed) { $1 })
        }
        try await elb.syncTags(prior.id, from: stringMap(current["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await elb.ignoringNotFound("DeleteListener", ["ListenerArn": prior.id])
    }

    /// The listener on the configured port of the load balancer (one per port), if its tags name this stack and address.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let lb = config["load_balancer_arn"]?.text, let port = config["port"]?.text,
              let arn = try await elb.describe("DescribeListeners", ["LoadBalancerArn": lb])?
                  .queryMembers("Listeners").first(where: { $0.value("Port") == port })?.value("ListenerArn"),
              ResourceShape.owns(try await elb.tags(arn), context) else { return nil }
        return try await read(context, id: arn)
    }
}
