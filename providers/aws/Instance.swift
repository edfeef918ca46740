/// The EC2 instance resource: RunInstances with its network, disks, user data, metadata options and tags,
/// waiting (bounded) until it runs; read from DescribeInstances, a terminated instance being gone.

import Foundation
import ProviderKit

struct InstanceResource: AWSProvider.Resource {
    let ec2: EC2
    var waits = InstanceWaits()
    static let type = "aws.instance"

    /// Records the `resolve:ssm:` image id an instance was launched from, so `read` reports the configured string:
    /// the AMI behind the parameter moving on later is no change to an instance already running.
    static let imageTag = "maif:image_id"

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        let configured = config["image_id"]?.text ?? ""
        var params = try await launchParams(config)
        params["ImageId"] = try await SSM(client: ec2.client).resolveImage(configured)
        // The same token on a retried call returns the first call's instance instead of launching another.
        params["ClientToken"] = UUID().uuidString
        let tags = tagMap(config)
        var instanceTags = tags
        if SSM.parameterName(configured) != nil { instanceTags[Self.imageTag] = configured }
        params.merge(LaunchShapes.tagSpecifications([("instance", instanceTags), ("volume", tags)], prefix: "TagSpecification")) { $1 }

        let xml = try await ec2.call("RunInstances", params)
        guard let id = xml.items("instancesSet").first?.value("instanceId"), !id.isEmpty else {
            throw ProviderError(address: context.address, call: "ec2 RunInstances", message: "the response named no instance")
        }
        try await waitForState(context, id, ["running"], timeout: waits.running)
        return try await readOrFail(context, id)
    }

    /// RunInstances parameters other than the image, the token and the tags.
    func launchParams(_ config: [String: AttributeValue]) async throws -> [String: String] {
        var params: [String: String] = ["MinCount": "1", "MaxCount": "1"]
        params["InstanceType"] = config["instance_type"]?.text
        let groups = (config["security_group_ids"]?.listValue ?? []).compactMap(\.text)
        if let publicIP = config["associate_public_ip_address"]?.boolValue_ {
            // EC2 takes a public address only on a network interface, which then carries the subnet and groups too.
            let nic = "NetworkInterface.1."
            params[nic + "DeviceIndex"] = "0"
            params[nic + "SubnetId"] = config["subnet_id"]?.text
            params[nic + "AssociatePublicIpAddress"] = String(publicIP)
            params[nic + "PrivateIpAddress"] = config["private_ip_address"]?.text
            for (i, group) in groups.enumerated() { params[nic + "SecurityGroupId.\(i + 1)"] = group }
        } else {
            params["SubnetId"] = config["subnet_id"]?.text
            params["PrivateIpAddress"] = config["private_ip_address"]?.text
            for (i, group) in groups.enumerated() { params["SecurityGroupId.\(i + 1)"] = group }
        }
        if let text = config["user_data"]?.text, !text.isEmpty { params["UserData"] = LaunchShapes.base64(text) }
        params.merge(LaunchShapes.blockDeviceParams(config["block_device_mappings"], prefix: "BlockDeviceMapping")) { $1 }
        params.merge(LaunchShapes.metadataParams(config["metadata_options"], prefix: "MetadataOptions")) { $1 }
        params["KeyName"] = config["key_name"]?.text
        if let profile = config["iam_instance_profile"]?.text {
            params[profile.hasPrefix("arn:") ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name"] = profile
        }
        if let enabled = config["monitoring"]?.mapValue?["enabled"]?.boolValue_ { params["Monitoring.Enabled"] = String(enabled) }
        if let optimized = config["ebs_optimized"]?.boolValue_ { params["EbsOptimized"] = String(optimized) }
        return params
    }

    func readOrFail(_ context: ResourceContext, _ id: String) async throws -> ResourceState {
        guard let state = try await inspect(id)?.state else {
            throw ProviderError(address: context.address, call: "read", message: "instance \(id) is gone (terminated)")
        }
        return state
    }

    func read(_ context: ResourceContext, id: String) async throws -> ResourceState? {
        try await inspect(id)?.state
    }

    /// An instance as AWS reports it, with what update needs besides: its volumes and its raw tags.
    struct Inspection {
        var state: ResourceState
        var volumes: [String: (id: String, tags: [String: String])]
        var tags: [String: String]
    }

    func describe(_ id: String) async throws -> (item: XMLNode, owner: String)? {
        guard let xml = try await ec2.describe("DescribeInstances", ["InstanceId.1": id]),
              let reservation = xml.items("reservationSet").first, let item = reservation.items("instancesSet").first else { return nil }
        return (item, reservation.value("ownerId") ?? "")
    }

    func inspect(_ id: String) async throws -> Inspection? {
        guard let (item, owner) = try await describe(id) else { return nil }
        let status = item.value("instanceState", "name") ?? ""
        // Shutting down leads only to terminated: either way the instance is gone and plan creates a new one.
        if status == "terminated" || status == "shutting-down" { return nil }

        let rawTags = LaunchShapes.tags(item["tagSet"]).filter { !$0.key.hasPrefix("aws:") }
        let primary = item.items("networkInterfaceSet").first { $0.value("attachment", "deviceIndex") == "0" }
        var groups = LaunchShapes.groupIds(item["groupSet"])
        if groups.isEmpty { groups = LaunchShapes.groupIds(primary?["groupSet"]) }
        var a: [String: AttributeValue] = [
            "id": .string(id),
            "arn": .string("arn:aws:ec2:\(ec2.region):\(owner):instance/\(id)"),
            "image_id": .string(rawTags[Self.imageTag] ?? item.value("imageId") ?? ""),
            "instance_type": .string(item.value("instanceType") ?? ""),
            "subnet_id": .string(item.value("subnetId") ?? primary?.value("subnetId") ?? ""),
            "security_group_ids": .list(groups.map { .string($0) }),
            "private_ip_address": .string(item.value("privateIpAddress") ?? ""),
            "key_name": item.value("keyName").map { .string($0) } ?? .null,
            "monitoring": .map(["enabled": .bool(["enabled", "pending"].contains(item.value("monitoring", "state") ?? ""))]),
            "ebs_optimized": .bool(item.value("ebsOptimized") == "true"),
            "metadata_options": LaunchShapes.metadataOptions(item["metadataOptions"]),
            "tags": .tags(rawTags.filter { $0.key != Self.imageTag }),
            "region": .string(ec2.region),
            "availability_zone": .string(item.value("placement", "availabilityZone") ?? ""),
            "private_dns_name": .string(item.value("privateDnsName") ?? ""),
            "public_ip_address": .string(item.value("ipAddress") ?? ""),
            "public_dns_name": .string(item.value("dnsName") ?? ""),
            "instance_state": .string(status),
            "primary_network_interface_id": .string(primary?.value("networkInterfaceId") ?? ""),
        ]
        // A stopped instance has no public address whatever it was launched with: leave the attribute as recorded.
        if status == "running" {
            a["associate_public_ip_address"] = .bool(!(primary?.value("association", "publicIp") ?? "").isEmpty)
        }
        // The association is the authority on the profile (moto's DescribeInstances misses a replaced one); asked
        // only when the instance has a profile at all.
        a["iam_instance_profile"] = item["iamInstanceProfile"] == nil ? .null
            : try await profileAssociation(id).map { .string(LaunchShapes.profileName($0.profile)) } ?? .null
        let userData = try await ec2.call("DescribeInstanceAttribute", ["InstanceId": id, "Attribute": "userData"])
        a["user_data"] = LaunchShapes.userData(base64: userData.value("userData", "value"))
        a["password_data"] = .string(item.value("platform") == "windows" ? try await passwordData(id) : "")

        let (devices, volumes) = try await blockDevices(item)
        a["block_device_mappings"] = .list(devices)
        return Inspection(state: ResourceState(id: id, attributes: a), volumes: volumes, tags: rawTags)
    }

    /// The instance's EBS volumes in the schema's shape (sizes and types from DescribeVolumes), by device name.
    func blockDevices(_ item: XMLNode) async throws -> ([AttributeValue], [String: (id: String, tags: [String: String])]) {
        let mappings = item.items("blockDeviceMapping").compactMap { m -> (String, String, String?)? in
            guard let name = m.value("deviceName"), let volume = m.value("ebs", "volumeId") else { return nil }
            return (name, volume, m.value("ebs", "deleteOnTermination"))
        }.sorted { $0.0 < $1.0 }
        guard !mappings.isEmpty else { return ([], [:]) }
        var params: [String: String] = [:]
        for (i, m) in mappings.enumerated() { params["VolumeId.\(i + 1)"] = m.1 }
        let xml = try await ec2.call("DescribeVolumes", params)
        let byId = Dictionary(xml.items("volumeSet").compactMap { v in v.value("volumeId").map { ($0, v) } }, uniquingKeysWith: { a, _ in a })
        var devices: [AttributeValue] = []
        var volumes: [String: (id: String, tags: [String: String])] = [:]
        for (name, volumeId, deleteOnTermination) in mappings {
            let v = byId[volumeId]
            devices.append(LaunchShapes.blockDevice(name, size: v?.value("size"), type: v?.value("volumeType"),
                                                    encrypted: v?.value("encrypted"), deleteOnTermination: deleteOnTermination))
            volumes[name] = (volumeId, LaunchShapes.tags(v?["tagSet"]).filter { !$0.key.hasPrefix("aws:") })
        }
        return (devices, volumes)
    }

    /// The instance's current profile association (one being made counts), with the profile's ARN.
    func profileAssociation(_ id: String) async throws -> (id: String, profile: String)? {
        let xml = try await ec2.call("DescribeIamInstanceProfileAssociations",
                                     ["Filter.1.Name": "instance-id", "Filter.1.Value.1": id,
                                      "Filter.2.Name": "state", "Filter.2.Value.1": "associating", "Filter.2.Value.2": "associated"])
        let items = xml.items("iamInstanceProfileAssociationSet")
        guard let item = items.first(where: { $0.value("state") == "associating" }) ?? items.first,
              let association = item.value("associationId") else { return nil }
        return (association, item.value("iamInstanceProfile", "arn") ?? "")
    }

    func passwordData(_ id: String) async throws -> String {
        try await ec2.call("GetPasswordData", ["InstanceId": id]).value("passwordData") ?? ""
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try await ec2.delete("TerminateInstances", ["InstanceId.1": prior.id])
        try await waitForState(context, prior.id, ["terminated"], timeout: waits.terminated)
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? {
        var filters = EC2.ownerFilters(context)
        filters["Filter.3.Name"] = "instance-state-name"
        for (i, state) in ["pending", "running", "stopping", "stopped"].enumerated() { filters["Filter.3.Value.\(i + 1)"] = state }
        let xml = try await ec2.call("DescribeInstances", filters)
        let ids = xml.items("reservationSet").flatMap { $0.items("instancesSet") }.compactMap { $0.value("instanceId") }
        guard let id = ids.first else { return nil }
        try await waitForState(context, id, ["running", "stopped"], timeout: waits.running)
        return try await read(context, id: id)
    }
}

/// How long instance state changes may take before an apply gives up on them.
struct InstanceWaits: Sendable {
    var running: Double = 600
    var stopped: Double = 600
    var terminated: Double = 900
}

extension InstanceResource {
    /// Polls DescribeInstances until the instance is in one of `states` (an instance no longer listed counts as
    /// terminated), with a growing pause, at most `timeout` seconds.
    func waitForState(_ context: ResourceContext, _ id: String, _ states: Set<String>, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var pause = 0.25
        while true {
            let item = try await describe(id)?.item
            let status = item?.value("instanceState", "name") ?? (states.contains("terminated") ? "terminated" : "not yet visible")
            if states.contains(status) { return }
            if status == "terminated" || (status == "shutting-down" && !states.contains("terminated")) {
                let reason = item?.value("stateReason", "message") ?? ""
                throw ProviderError(address: context.address, call: "ec2 DescribeInstances",
                                    message: "instance \(id) was terminated" + (reason.isEmpty ? "" : ": \(reason)"))
            }
            if Date() >= deadline {
                throw ProviderError(address: context.address, call: "ec2 DescribeInstances",
                                    message: "instance \(id) is still \(status) after \(Int(timeout)) s waiting for \(states.sorted().joined(separator: " or "))")
            }
            try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
            pause = min(pause * 2, 5)
        }
    }
}
