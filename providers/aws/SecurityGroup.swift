/// The security group resource and its ingress/egress rules. Rules are compared one (protocol, ports, source)
/// at a time, so an extra rule added out of band shows as drift and is revoked by update.

import Foundation
import ProviderKit

/// One permission with one source: a CIDR range or another group.
struct SecurityRule: Hashable, Comparable {
    var ipProtocol: String
    var fromPort: Int64?
    var toPort: Int64?
    var cidr: String?
    var groupId: String?
    var description: String?

    static func < (a: SecurityRule, b: SecurityRule) -> Bool {
        (a.ipProtocol, a.fromPort ?? -2, a.toPort ?? -2, a.cidr ?? "", a.groupId ?? "")
            < (b.ipProtocol, b.fromPort ?? -2, b.toPort ?? -2, b.cidr ?? "", b.groupId ?? "")
    }

    /// Same rule for AWS; descriptions do not make a rule distinct.
    var key: String { "\(ipProtocol)|\(fromPort ?? -1)|\(toPort ?? -1)|\(cidr ?? "")|\(groupId ?? "")" }

    /// Flattens the schema's IpPermissions list; `self: true` stands for the group's own id.
    static func from(_ value: AttributeValue?, selfId: String) -> [SecurityRule] {
        var rules: [SecurityRule] = []
        for permission in value?.listValue ?? [] {
            guard let p = permission.mapValue else { continue }
            let proto = p["ip_protocol"]?.text ?? "tcp"
            let all = proto == "-1"
            let base = SecurityRule(ipProtocol: proto, fromPort: all ? nil : p["from_port"]?.intValue_,
                                    toPort: all ? nil : p["to_port"]?.intValue_)
            for range in p["ip_ranges"]?.listValue ?? [] {
                var r = base
                r.cidr = range.mapValue?["cidr_ip"]?.text ?? range.text
                r.description = range.mapValue?["description"]?.text
                rules.append(r)
            }
            for pair in p["user_id_group_pairs"]?.listValue ?? [] {
                var r = base
                let m = pair.mapValue ?? [:]
                r.groupId = m["self"]?.boolValue_ == true ? selfId : m["group_id"]?.text
                r.description = m["description"]?.text
                rules.append(r)
            }
        }
        return rules.sorted()
    }

    /// Back to the schema's shape, one permission per rule, in a stable order.
    static func attribute(_ rules: [SecurityRule]) -> AttributeValue {
        .list(rules.sorted().map { r in
            var p: [String: AttributeValue] = ["ip_protocol": .string(r.ipProtocol)]
            if let f = r.fromPort { p["from_port"] = .int(f) }
            if let t = r.toPort { p["to_port"] = .int(t) }
            var source: [String: AttributeValue] = [:]
            if let d = r.description, !d.isEmpty { source["description"] = .string(d) }
            if let c = r.cidr { source["cidr_ip"] = .string(c); p["ip_ranges"] = .list([.map(source)]) }
            if let g = r.groupId { source["group_id"] = .string(g); p["user_id_group_pairs"] = .list([.map(source)]) }
            return .map(p)
        })
    }

    /// `IpPermissions.N.*` parameters for Authorize/Revoke calls.
    static func params(_ rules: [SecurityRule], groupId: String) -> [String: String] {
        var params = ["GroupId": groupId]
        for (i, r) in rules.enumerated() {
            let p = "IpPermissions.\(i + 1)."
            params[p + "IpProtocol"] = r.ipProtocol
            if let f = r.fromPort { params[p + "FromPort"] = String(f) }
            if let t = r.toPort { params[p + "ToPort"] = String(t) }
            if let c = r.cidr {
                params[p + "IpRanges.1.CidrIp"] = c
                if let d = r.description { params[p + "IpRanges.1.Description"] = d }
            }
            if let g = r.groupId {
                params[p + "Groups.1.GroupId"] = g
                if let d = r.description { params[p + "Groups.1.Description"] = d }
            }
        }
        return params
    }

    /// Rules in a DescribeSecurityGroups `ipPermissions`/`ipPermissionsEgress` list.
    static func parse(_ items: [XMLNode]) -> [SecurityRule] {
        var rules: [SecurityRule] = []
        for item in items {
            let proto = item.value("ipProtocol") ?? "-1"
            let base = SecurityRule(ipProtocol: proto, fromPort: proto == "-1" ? nil : item.value("fromPort").flatMap { Int64($0) },
                                    toPort: proto == "-1" ? nil : item.value("toPort").flatMap { Int64($0) })
            for range in item.items("ipRanges") {
                var r = base; r.cidr = range.value("cidrIp"); r.description = range.value("description"); rules.append(r)
            }
            for pair in item.items("groups") {
                var r = base; r.groupId = pair.value("groupId"); r.description = pair.value("description"); rules.append(r)
            }
        }
        return rules.sorted()
    }
}

struct SecurityGroupResource: AWSProvider.Resource {
    let ec2: EC2

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var params = EC2.tagSpecification("security-group", tagMap(config))
        params["GroupName"] = config["group_name"]?.text
        params["GroupDescription"] = config["description"]?.text
        params["VpcId"] = config["vpc_id"]?.text
        let id = try await ec2.call("CreateSecurityGroup", params.compactMapValues { $0 }).value("groupId") ?? ""
        let state = try await readOrFail(context, id)
        return try await syncRules(context, state, config)
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let xml = try await ec2.describe("DescribeSecurityGroups", ["GroupId.1": id]),
              let item = xml.items("securityGroupInfo").first else { return nil }
        let owner = item.value("ownerId") ?? ""
        return ResourceState(id: id, attributes: [
            "id": .string(id), "group_name": .string(item.value("groupName") ?? ""),
            "description": .string(item.value("groupDescription") ?? ""), "vpc_id": .string(item.value("vpcId") ?? ""),
            "owner_id": .string(owner), "arn": .string("arn:aws:ec2:\(ec2.region):\(owner):security-group/\(id)"),
            "ingress": SecurityRule.attribute(SecurityRule.parse(item.items("ipPermissions"))),
            "egress": SecurityRule.attribute(SecurityRule.parse(item.items("ipPermissionsEgress"))),
            "tags": EC2.tags(item), "region": .string(ec2.region),
        ])
    }

    /// Authorizes missing rules and revokes extra ones; egress only when the stack manages it.
    func syncRules(_ context: ResourceContext, _ current: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        var changed = false
        for (attribute, direction) in [("ingress", "Ingress"), ("egress", "Egress")] where attribute == "ingress" || config[attribute] != nil {
            let wanted = SecurityRule.from(config[attribute], selfId: current.id)
            let have = SecurityRule.from(current.attributes[attribute], selfId: current.id)
            let wantedKeys = Set(wanted.map(\.key)), haveKeys = Set(have.map(\.key))
            let extra = have.filter { !wantedKeys.contains($0.key) }
            let missing = wanted.filter { !haveKeys.contains($0.key) }
            if !extra.isEmpty {
                _ = try await ec2.call("RevokeSecurityGroup\(direction)", SecurityRule.params(extra.map { var r = $0; r.description = nil; return r },
                                                                                         groupId: current.id))
                changed = true
            }
            if !missing.isEmpty {
                _ = try await ec2.call("AuthorizeSecurityGroup\(direction)", SecurityRule.params(missing, groupId: current.id))
                changed = true
            }
            // A rule that exists with another description (AWS's default egress rule has none) keeps its place and
            // gets the stack's description.
            let haveByKey = Dictionary(have.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let redescribed = wanted.filter { rule in haveByKey[rule.key].map { ($0.description ?? "") != (rule.description ?? "") } ?? false }
            if !redescribed.isEmpty {
                _ = try await ec2.call("UpdateSecurityGroupRuleDescriptions\(direction)", SecurityRule.params(redescribed, groupId: current.id))
                changed = true
            }
        }
        return changed ? try await readOrFail(context, current.id) : current
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        try await ec2.syncTags(prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await syncRules(context, try await readOrFail(context, prior.id), config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        // Instances or ENIs just terminated may still hold the group for a while (DependencyViolation).
        for attempt in 0..<6 {
            do { return try await ec2.delete("DeleteSecurityGroup", ["GroupId": prior.id]) } catch let error as AWSError
                where error.code == "DependencyViolation" && attempt < 5 {
                try await Task.sleep(nanoseconds: UInt64(500_000_000 << attempt))
            }
        }
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await ec2.findOwned(context, "DescribeSecurityGroups", set: "securityGroupInfo", idKey: "groupId") { try await read(context, id: $0) }
    }
}
