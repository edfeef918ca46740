/// The launch template resource. Versions are immutable: a change is a new version (CreateLaunchTemplateVersion),
/// made the default when `update_default_version` is set; `read` reports the default version, what Auto Scaling
/// launches. `image_id` may be `resolve:ssm:<parameter>`, which EC2 resolves at each launch.

import Foundation
import ProviderKit

struct LaunchTemplateResource: AWSProvider.Resource {
    let ec2: EC2
    static let type = "aws.launch_template"

    /// The attributes that are the template's data (a version), not the template itself.
    static let dataAttributes = ["image_id", "instance_type", "user_data", "security_group_ids", "block_device_mappings",
                                 "monitoring", "metadata_options", "network_interfaces", "tag_specifications"]

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await checkImage(config)
        var params = Self.data(config, prefix: "LaunchTemplateData")
        params["LaunchTemplateName"] = config["launch_template_name"]?.text
        params["ClientToken"] = UUID().uuidString
        params.merge(EC2.tagSpecification("launch-template", tagMap(config))) { $1 }
        let xml = try await ec2.call("CreateLaunchTemplate", params)
        guard let id = xml.value("launchTemplate", "launchTemplateId"), !id.isEmpty else {
            throw ProviderError(address: context.address, call: "ec2 CreateLaunchTemplate", message: "the response named no template")
        }
        return try await readOrFail(context, id)
    }

    /// EC2 resolves `resolve:ssm:` only when it launches; asking SSM now turns a mistyped parameter into an
    /// error at apply rather than at the first scale-out.
    func checkImage(_ config: [String: AttributeValue]) async throws {
        if let name = SSM.parameterName(config["image_id"]?.text) { _ = try await SSM(client: ec2.client).parameter(name) }
    }

    /// `<prefix>.*` parameters of a RequestLaunchTemplateData.
    static func data(_ config: [String: AttributeValue], prefix p: String) -> [String: String] {
        var params: [String: String] = [:]
        params["\(p).ImageId"] = config["image_id"]?.text
        params["\(p).InstanceType"] = config["instance_type"]?.text
        if let text = config["user_data"]?.text, !text.isEmpty { params["\(p).UserData"] = LaunchShapes.base64(text) }
        if let profile = config["iam_instance_profile"]?.text {
            params[profile.hasPrefix("arn:") ? "\(p).IamInstanceProfile.Arn" : "\(p).IamInstanceProfile.Name"] = profile
        }
        for (i, group) in (config["security_group_ids"]?.listValue ?? []).compactMap(\.text).enumerated() {
            params["\(p).SecurityGroupId.\(i + 1)"] = group
        }
        params.merge(LaunchShapes.blockDeviceParams(config["block_device_mappings"], prefix: "\(p).BlockDeviceMapping")) { $1 }
        if let enabled = config["monitoring"]?.mapValue?["enabled"]?.boolValue_ { params["\(p).Monitoring.Enabled"] = String(enabled) }
        params.merge(LaunchShapes.metadataParams(config["metadata_options"], prefix: "\(p).MetadataOptions")) { $1 }
        for (i, nic) in (config["network_interfaces"]?.listValue ?? []).enumerated() {
            let m = nic.mapValue ?? [:], n = "\(p).NetworkInterface.\(i + 1)."
            params[n + "DeviceIndex"] = m["device_index"]?.text ?? String(i)
            params[n + "AssociatePublicIpAddress"] = m["associate_public_ip_address"]?.text
            params[n + "SubnetId"] = m["subnet_id"]?.text
            params[n + "DeleteOnTermination"] = m["delete_on_termination"]?.text
            for (j, group) in (m["groups"]?.listValue ?? []).compactMap(\.text).enumerated() { params[n + "SecurityGroupId.\(j + 1)"] = group }
        }
        let specs = (config["tag_specifications"]?.listValue ?? []).compactMap { spec -> (type: String, tags: [String: String])? in
            guard let m = spec.mapValue, let type = m["resource_type"]?.text else { return nil }
            return (type, stringMap(m["tags"]))
        }
        params.merge(LaunchShapes.tagSpecifications(specs, prefix: "\(p).TagSpecification")) { $1 }
        return params
    }

    func describe(_ id: String) async throws -> XMLNode? {
        try await ec2.describe("DescribeLaunchTemplates", ["LaunchTemplateId.1": id])?.items("launchTemplates").first
    }

    /// One version's data in the schema's shape; absent settings as empty values, so a version without them
    /// shows as different from a configuration with them.
    func version(_ id: String, _ number: String) async throws -> [String: AttributeValue]? {
        let xml = try await ec2.describe("DescribeLaunchTemplateVersions", ["LaunchTemplateId": id, "LaunchTemplateVersion.1": number])
        guard let data = xml?.items("launchTemplateVersionSet").first?["launchTemplateData"] else { return nil }
        return Self.attributes(data)
    }

    static func attributes(_ data: XMLNode) -> [String: AttributeValue] {
        var a: [String: AttributeValue] = [
            "image_id": data.value("imageId").map { .string($0) } ?? .null,
            "instance_type": data.value("instanceType").map { .string($0) } ?? .null,
            "user_data": LaunchShapes.userData(base64: data.value("userData")),
            "iam_instance_profile": (data.value("iamInstanceProfile", "name") ?? data.value("iamInstanceProfile", "arn").map(LaunchShapes.profileName))
                .map { .string($0) } ?? .null,
            "security_group_ids": .list(LaunchShapes.groupIds(data["securityGroupIdSet"]).map { .string($0) }),
            "metadata_options": LaunchShapes.metadataOptions(data["metadataOptions"]),
            "monitoring": data.value("monitoring", "enabled").map { .map(["enabled": .bool($0 == "true")]) } ?? .null,
        ]
        a["block_device_mappings"] = .list(data.items("blockDeviceMappingSet").compactMap { d in
            guard let name = d.value("deviceName") else { return nil }
            return LaunchShapes.blockDevice(name, size: d.value("ebs", "volumeSize"), type: d.value("ebs", "volumeType"),
                                            encrypted: d.value("ebs", "encrypted"), deleteOnTermination: d.value("ebs", "deleteOnTermination"))
        }.sorted { ($0.mapValue?["device_name"]?.text ?? "") < ($1.mapValue?["device_name"]?.text ?? "") })
        a["network_interfaces"] = .list(data.items("networkInterfaceSet").map { n in
            var m: [String: AttributeValue] = ["device_index": .int(Int64(n.value("deviceIndex") ?? "0") ?? 0)]
            if let v = n.value("associatePublicIpAddress") { m["associate_public_ip_address"] = .bool(v == "true") }
            if let v = n.value("subnetId"), !v.isEmpty { m["subnet_id"] = .string(v) }
            if let v = n.value("deleteOnTermination") { m["delete_on_termination"] = .bool(v == "true") }
            let groups = LaunchShapes.groupIds(n["groupSet"])
            if !groups.isEmpty { m["groups"] = .list(groups.map { .string($0) }) }
            return .map(m)
        }.sorted { ($0.mapValue?["device_index"]?.intValue_ ?? 0) < ($1.mapValue?["device_index"]?.intValue_ ?? 0) })
        // moto files the template's own tags (resource type launch-template) among the data's; they are `tags`.
        a["tag_specifications"] = .list(data.items("tagSpecificationSet").compactMap { s in
            guard let type = s.value("resourceType"), type != "launch-template" else { return nil }
            return .map(["resource_type": .string(type), "tags": .tags(LaunchShapes.tags(s["tagSet"]))])
        }.sorted { ($0.mapValue?["resource_type"]?.text ?? "") < ($1.mapValue?["resource_type"]?.text ?? "") })
        return a
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        guard let item = try await describe(id), let defaultVersion = item.value("defaultVersionNumber"),
              var a = try await version(id, defaultVersion) else { return nil }
        // createdBy is arn:aws:iam::<account>:root (or a user): the account is the fifth field.
        let account = (item.value("createdBy") ?? "").split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init) ?? ""
        a["id"] = .string(id)
        a["arn"] = .string("arn:aws:ec2:\(ec2.region):\(account):launch-template/\(id)")
        a["launch_template_name"] = .string(item.value("launchTemplateName") ?? "")
        a["default_version"] = .int(Int64(defaultVersion) ?? 0)
        a["latest_version"] = .int(Int64(item.value("latestVersionNumber") ?? "") ?? 0)
        a["tags"] = EC2.tags(item)
        a["region"] = .string(ec2.region)
        return ResourceState(id: id, attributes: a)
    }

    /// Whether a version's data is what the configuration asks for (settings it leaves unset count as empty).
    static func matches(_ data: [String: AttributeValue], _ config: [String: AttributeValue], _ context: ResourceContext) -> Bool {
        let wanted = PlanShape.desired(PlanRequest(context: context, prior: nil, desired: config),
                                       schema: AWSProviderSchema.provider.resources[type])
        return dataAttributes.allSatisfy { empty(wanted[$0]) == empty(data[$0]) }
    }

    private static func empty(_ value: AttributeValue?) -> AttributeValue {
        switch value {
        case nil, .null?: return .null
        case .list(let l)? where l.isEmpty: return .null
        case .map(let m)? where m.isEmpty: return .null
        case let v?: return v
        }
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let current = try await readOrFail(context, prior.id)
        if !Self.matches(current.attributes, config, context) {
            try await checkImage(config)
            // A newer version may already be what the stack wants (made by an apply that did not make it default).
            let latest = current.attributes["latest_version"]?.text ?? ""
            var number = latest
            var latestMatches = false
            if latest != current.attributes["default_version"]?.text {
                latestMatches = Self.matches(try await version(prior.id, latest) ?? [:], config, context)
            }
            if !latestMatches {
                var params = Self.data(config, prefix: "LaunchTemplateData")
                params["LaunchTemplateId"] = prior.id
                params["ClientToken"] = UUID().uuidString
                let xml = try await ec2.call("CreateLaunchTemplateVersion", params)
                number = xml.value("launchTemplateVersion", "versionNumber") ?? ""
            }
            if config["update_default_version"]?.boolValue_ == true {
                _ = try await ec2.call("ModifyLaunchTemplate", ["LaunchTemplateId": prior.id, "SetDefaultVersion": number])
            }
        }
        try await ec2.syncTags(prior.id, from: stringMap(current.attributes["tags"]), to: tagMap(config))
        return try await readOrFail(context, prior.id)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        do { _ = try await ec2.call("DeleteLaunchTemplate", ["LaunchTemplateId": prior.id]) } catch let error as AWSError
            where error.code.contains("NotFound") {}
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        try await ec2.findOwned(context, "DescribeLaunchTemplates", set: "launchTemplates", idKey: "launchTemplateId") { try await read(context, id: $0) }
    }
}
