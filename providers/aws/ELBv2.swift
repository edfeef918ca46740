/// Elastic Load Balancing v2 over the query protocol, and the load balancer resource.

import Foundation
import ProviderKit

struct ELBv2: Sendable {
    let client: AWSClient
    static let version = "2015-12-01"

    var region: String { client.settings.region }

    func call(_ action: String, _ params: [String: String] = [:]) async throws -> XMLNode {
        try await client.query("elasticloadbalancing", version: Self.version, action, params).queryResult
    }

    /// nil when AWS answers `LoadBalancerNotFound`, `TargetGroupNotFound`, `ListenerNotFound`, ….
    func describe(_ action: String, _ params: [String: String]) async throws -> XMLNode? {
        do { return try await call(action, params) } catch let error as AWSError where error.code.hasSuffix("NotFound") { return nil }
    }

    /// Runs a call, treating NotFound as already done (deletes).
    func ignoringNotFound(_ action: String, _ params: [String: String]) async throws {
        do { _ = try await call(action, params) } catch let error as AWSError where error.code.hasSuffix("NotFound") {}
    }

    /// `Tags.member.N.Key/Value` for a create call.
    static func tagParams(_ tags: [String: String]) -> [String: String] {
        var params: [String: String] = [:]
        for (i, key) in tags.keys.sorted().enumerated() {
            params["Tags.member.\(i + 1).Key"] = key
            params["Tags.member.\(i + 1).Value"] = tags[key]
        }
        return params
    }

    /// The tags of one load balancer, target group or listener.
    func tags(_ arn: String) async throws -> [String: String] {
        guard let xml = try await describe("DescribeTags", QueryList.params("ResourceArns", [arn])) else { return [:] }
        var tags: [String: String] = [:]
        for description in xml.queryMembers("TagDescriptions") where description.value("ResourceArn") == arn {
            for tag in description.queryMembers("Tags") { if let key = tag.value("Key") { tags[key] = tag.value("Value") ?? "" } }
        }
        return tags
    }

    /// Brings a resource's tags to `wanted` (AddTags for new or changed, RemoveTags for removed).
    func syncTags(_ arn: String, from current: [String: String], to wanted: [String: String]) async throws {
        let changed = wanted.filter { current[$0.key] != $0.value }
        if !changed.isEmpty {
            _ = try await call("AddTags", QueryList.params("ResourceArns", [arn]).merging(Self.tagParams(changed)) { $1 })
        }
        let removed = current.keys.filter { wanted[$0] == nil }.sorted()
        if !removed.isEmpty {
            _ = try await call("RemoveTags", QueryList.params("ResourceArns", [arn]).merging(QueryList.params("TagKeys", removed)) { $1 })
        }
    }

    /// `Attributes.member.N.Key/Value` for ModifyLoadBalancerAttributes / ModifyTargetGroupAttributes.
    static func attributeParams(_ attributes: [String: String]) -> [String: String] {
        var params: [String: String] = [:]
        for (i, key) in attributes.keys.sorted().enumerated() {
            params["Attributes.member.\(i + 1).Key"] = key
            params["Attributes.member.\(i + 1).Value"] = attributes[key]
        }
        return params
    }

    /// An `Attributes` list as a key → value map attribute.
    static func attributeMap(_ xml: XMLNode) -> AttributeValue {
        var m: [String: AttributeValue] = [:]
        for item in xml.queryMembers("Attributes") { if let key = item.value("Key") { m[key] = .string(item.value("Value") ?? "") } }
        return .map(m)
    }

    /// The attributes the stack sets that differ from AWS's (all of them when `current` is nil).
    static func changedAttributes(_ config: [String: AttributeValue], current: [String: AttributeValue]?) -> [String: String] {
        let wanted = stringMap(config["attributes"])
        let have = stringMap(current?["attributes"])
        return wanted.filter { have[$0.key] != $0.value }
    }

    /// The part of an ARN CloudWatch uses as a dimension: after `loadbalancer/` for a load balancer
    /// (`net/NAME/ID`), from `targetgroup/` on for a target group.
    static func arnSuffix(_ arn: String, after marker: String, keepMarker: Bool) -> String {
        guard let range = arn.range(of: marker) else { return arn }
        return String(arn[(keepMarker ? range.lowerBound : range.upperBound)...])
    }
}

struct LoadBalancerResource: AWSProvider.Resource {
    let elb: ELBv2
    /// A network load balancer takes a few minutes to become active; a deleted one a little while to disappear.
    var activeTimeout: Double = 900
    var deleteTimeout: Double = 600

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = ELBv2.tagParams(tagMap(config))
        params["Name"] = config["name"]?.text
        params["Type"] = config["type"]?.text
        params["Scheme"] = config["scheme"]?.text
        params["IpAddressType"] = config["ip_address_type"]?.text
        params.merge(QueryList.params("Subnets", QueryList.strings(config["subnets"]))) { $1 }
        params.merge(QueryList.params("SecurityGroups", QueryList.strings(config["security_groups"]))) { $1 }
        let xml = try await elb.call("CreateLoadBalancer", params.compactMapValues { $0 })
        guard let arn = xml.queryMembers("LoadBalancers").first?.value("LoadBalancerArn") else {
            throw ProviderError(address: context.address, call: "elasticloadbalancing CreateLoadBalancer", message: "the response named no load balancer")
        }
        try await waitActive(context, arn)
        let changed = ELBv2.changedAttributes(config, current: nil)
        if !changed.isEmpty {
            _ = try await elb.call("ModifyLoadBalancerAttributes", ["LoadBalancerArn": arn].merging(ELBv2.attributeParams(changed)) { $1 })
        }
        return try await readOrFail(context, arn)
    }

    /// Waits (bounded) until the load balancer is active; a just-created one may not be visible at first.
    func waitActive(_ context: ResourceContext, _ arn: String) async throws {
        _ = try await Poll.until("load balancer \(arn) to become active", timeout: activeTimeout, interval: 10) { () -> Bool? in
            guard let lb = try await describeOne(arn) else { return nil }
            switch lb.value("State", "Code") {
            case "active": return true
            case "failed":
                throw ProviderError(address: context.address, call: "elasticloadbalancing CreateLoadBalancer",
                                    message: "load balancer \(arn) failed to provision: \(lb.value("State", "Reason") ?? "no reason given")")
            default: return nil
            }
        }
    }

    func describeOne(_ arn: String) async throws -> XMLNode? {
        try await elb.describe("DescribeLoadBalancers", QueryList.params("LoadBalancerArns", [arn]))?.queryMembers("LoadBalancers").first
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let lb = try await describeOne(id) else { return nil }
        guard let attributes = try await elb.describe("DescribeLoadBalancerAttributes", ["LoadBalancerArn": id]) else { return nil }
        let tags = try await elb.tags(id)
        return ResourceState(id: id, attributes: [
            "id": .string(id), "arn": .string(id),
            "arn_suffix": .string(ELBv2.arnSuffix(id, after: ":loadbalancer/", keepMarker: false)),
            "name": .string(lb.value("LoadBalancerName") ?? ""),
            "type": .string(lb.value("Type") ?? "application"),
            "scheme": .string(lb.value("Scheme") ?? ""),
            "subnets": .list(lb.queryMembers("AvailabilityZones").compactMap { $0.value("SubnetId") }.map { .string($0) }),
            "security_groups": .list(lb.queryMembers("SecurityGroups").map { .string($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            "ip_address_type": .string(lb.value("IpAddressType") ?? "ipv4"),
            "dns_name": .string(lb.value("DNSName") ?? ""),
            "canonical_hosted_zone_id": .string(lb.value("CanonicalHostedZoneId") ?? ""),
            "attributes": ELBv2.attributeMap(attributes),
            "tags": .map(tags.mapValues { .string($0) }),
            "region": .string(elb.region),
        ])
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let arn = prior.id
        let current = try await readOrFail(context, arn).attributes
        if config["security_groups"] != nil, Set(QueryList.strings(config["security_groups"])) != Set(QueryList.strings(current["security_groups"])) {
            _ = try await elb.call("SetSecurityGroups",
                                   ["LoadBalancerArn": arn].merging(QueryList.params("SecurityGroups", QueryList.strings(config["security_groups"]))) { $1 })
        }
        if Set(QueryList.strings(config["subnets"])) != Set(QueryList.strings(current["subnets"])) {
            _ = try await elb.call("SetSubnets", ["LoadBalancerArn": arn].merging(QueryList.params("Subnets", QueryList.strings(config["subnets"]))) { $1 })
        }
        if let wanted = config["ip_address_type"]?.text, current["ip_address_type"]?.text != wanted {
            _ = try await elb.call("SetIpAddressType", ["LoadBalancerArn": arn, "IpAddressType": wanted])
        }
        let changed = ELBv2.changedAttributes(config, current: current)
        if !changed.isEmpty {
            _ = try await elb.call("ModifyLoadBalancerAttributes", ["LoadBalancerArn": arn].merging(ELBv2.attributeParams(changed)) { $1 })
        }
        try await elb.syncTags(arn, from: stringMap(current["tags"]), to: tagMap(config))
        return try await readOrFail(context, arn)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await elb.ignoringNotFound("DeleteLoadBalancer", ["LoadBalancerArn": prior.id])
        _ = try await Poll.until("load balancer \(prior.id) to be deleted", timeout: deleteTimeout) {
            try await describeOne(prior.id) == nil ? true : nil
        }
    }

    /// By name (unique in a region), if its tags name this stack and address.
    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        guard let name = config["name"]?.text,
              let arn = try await elb.describe("DescribeLoadBalancers", QueryList.params("Names", [name]))?
                  .queryMembers("LoadBalancers").first?.value("LoadBalancerArn"),
              ResourceShape.owns(try await elb.tags(arn), context) else { return nil }
        return try await read(context, id: arn)
    }
}
