/// Changing an instance in place: what EC2 changes only on a stopped instance (type, user data, EBS optimisation)
/// in one stop–modify–start cycle, the rest (groups, monitoring, metadata options, disks, profile, tags) live.

import Foundation
import ProviderKit

extension InstanceResource {
    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        guard let current = try await inspect(prior.id) else {
            throw ProviderError(address: context.address, call: "update", message: "instance \(prior.id) is gone (terminated)")
        }
        let have = current.state.attributes
        try await modifyStopped(context, prior.id, have, config)

        let wantedGroups = (config["security_group_ids"]?.listValue ?? []).compactMap(\.text).sorted()
        if config["security_group_ids"] != nil, wantedGroups != (have["security_group_ids"]?.listValue ?? []).compactMap(\.text) {
            var params = ["InstanceId": prior.id]
            for (i, group) in wantedGroups.enumerated() { params["GroupId.\(i + 1)"] = group }
            _ = try await ec2.call("ModifyInstanceAttribute", params)
        }
        if let wanted = config["monitoring"]?.mapValue?["enabled"]?.boolValue_,
           have["monitoring"]?.mapValue?["enabled"]?.boolValue_ != wanted {
            _ = try await ec2.call(wanted ? "MonitorInstances" : "UnmonitorInstances", ["InstanceId.1": prior.id])
        }
        if let wanted = config["metadata_options"]?.mapValue,
           wanted.contains(where: { have["metadata_options"]?.mapValue?[$0.key] != $0.value }) {
            // All the wanted options, not only the changed ones: one left out may fall back to an AMI default.
            var params = LaunchShapes.metadataParams(.map(wanted), prefix: "")
            params["InstanceId"] = prior.id
            _ = try await ec2.call("ModifyInstanceMetadataOptions", params)
        }
        try await updateVolumes(context, current, config)
        try await updateProfile(prior.id, have["iam_instance_profile"]?.text, config)

        var wantedTags = tagMap(config)
        if let marker = current.tags[Self.imageTag] { wantedTags[Self.imageTag] = marker }
        try await ec2.syncTags(prior.id, from: current.tags, to: wantedTags)
        for (_, volume) in current.volumes.sorted(by: { $0.key < $1.key }) {
            try await ec2.syncTags(volume.id, from: volume.tags, to: tagMap(config))
        }
        return try await readOrFail(context, prior.id)
    }

    /// Instance type, user data and EBS optimisation: EC2 changes them only while the instance is stopped, so it
    /// is stopped once for all of them and started again if it was running.
    func modifyStopped(_ context: ResourceContext, _ id: String, _ have: [String: AttributeValue], _ config: [String: AttributeValue]) async throws {
        var changes: [[String: String]] = []
        if let wanted = config["instance_type"]?.text, wanted != have["instance_type"]?.text {
            changes.append(["InstanceType.Value": wanted])
        }
        if config["user_data"] != nil, (config["user_data"]?.text ?? "") != (have["user_data"]?.text ?? "") {
            // The Attribute/Value form takes the base64 text as a plain string, as EC2's user guide shows; the
            // UserData.Value blob form leaves open whether the text is encoded once or twice.
            changes.append(["Attribute": "userData", "Value": LaunchShapes.base64(config["user_data"]?.text ?? "")])
        }
        if let wanted = config["ebs_optimized"]?.boolValue_, wanted != have["ebs_optimized"]?.boolValue_ {
            changes.append(["EbsOptimized.Value": String(wanted)])
        }
        guard !changes.isEmpty else { return }
        let status = have["instance_state"]?.text ?? ""
        let restart = status == "running" || status == "pending"
        if status != "stopped" {
            _ = try await ec2.call("StopInstances", ["InstanceId.1": id])
            try await waitForState(context, id, ["stopped"], timeout: waits.stopped)
        }
        // ModifyInstanceAttribute takes one attribute per call.
        for change in changes { _ = try await ec2.call("ModifyInstanceAttribute", change.merging(["InstanceId": id]) { $1 }) }
        if restart {
            _ = try await ec2.call("StartInstances", ["InstanceId.1": id])
            try await waitForState(context, id, ["running"], timeout: waits.running)
        }
    }

    /// Volume size and type by ModifyVolume, delete-on-termination by ModifyInstanceAttribute. Encryption, or a
    /// device added or removed, cannot change on a running instance: that is an error asking for a replacement.
    func updateVolumes(_ context: ResourceContext, _ current: Inspection, _ config: [String: AttributeValue]) async throws {
        guard let wantedList = config["block_device_mappings"]?.listValue else { return }
        let have = Dictionary((current.state.attributes["block_device_mappings"]?.listValue ?? []).compactMap { d in
            d.mapValue?["device_name"]?.text.map { ($0, d.mapValue?["ebs"]?.mapValue ?? [:]) }
        }, uniquingKeysWith: { a, _ in a })
        let wantedNames = Set(wantedList.compactMap { $0.mapValue?["device_name"]?.text })
        if wantedNames != Set(have.keys) {
            throw ProviderError(address: context.address, call: "update",
                                message: "block devices \(have.keys.sorted()) cannot become \(wantedNames.sorted()) in place; replace the instance (maifctl apply --replace \(context.address))")
        }
        for device in wantedList {
            guard let m = device.mapValue, let name = m["device_name"]?.text, let volume = current.volumes[name] else { continue }
            let wanted = m["ebs"]?.mapValue ?? [:], now = have[name] ?? [:]
            if let encrypted = wanted["encrypted"], encrypted != now["encrypted"] {
                throw ProviderError(address: context.address, call: "update",
                                    message: "EBS encryption of \(name) cannot change in place; replace the instance (maifctl apply --replace \(context.address))")
            }
            var modify: [String: String] = [:]
            if let size = wanted["volume_size"], size != now["volume_size"] { modify["Size"] = size.text }
            if let type = wanted["volume_type"], type != now["volume_type"] { modify["VolumeType"] = type.text }
            if !modify.isEmpty {
                modify["VolumeId"] = volume.id
                _ = try await ec2.call("ModifyVolume", modify)
            }
            if let delete = wanted["delete_on_termination"]?.boolValue_, now["delete_on_termination"]?.boolValue_ != delete {
                _ = try await ec2.call("ModifyInstanceAttribute", ["InstanceId": current.state.id, "BlockDeviceMapping.1.DeviceName": name,
                                                                   "BlockDeviceMapping.1.Ebs.DeleteOnTermination": String(delete)])
            }
        }
    }

    /// Associates, replaces or removes the instance profile.
    func updateProfile(_ id: String, _ have: String?, _ config: [String: AttributeValue]) async throws {
        guard let wantedValue = config["iam_instance_profile"] else { return }
        let wanted = wantedValue.text.map(LaunchShapes.profileName)
        guard wanted != have else { return }
        let association = try await profileAssociation(id)?.id
        let profile = wantedValue.text.map { [$0.hasPrefix("arn:") ? "IamInstanceProfile.Arn" : "IamInstanceProfile.Name": $0] } ?? [:]
        switch (association, wanted) {
        case (let association?, nil):
            _ = try await ec2.call("DisassociateIamInstanceProfile", ["AssociationId": association])
        case (let association?, _?):
            _ = try await ec2.call("ReplaceIamInstanceProfileAssociation", profile.merging(["AssociationId": association]) { $1 })
        case (nil, _?):
            _ = try await ec2.call("AssociateIamInstanceProfile", profile.merging(["InstanceId": id]) { $1 })
        case (nil, nil):
            break
        }
    }
}
