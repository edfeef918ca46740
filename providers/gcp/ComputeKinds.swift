/// What each Compute Engine type sends, reads back and changes in place (the common part is ComputeResource.swift).

import Foundation
import ProviderKit

enum ComputeKinds {
    static let all: [String: ComputeSpec] = Dictionary(uniqueKeysWithValues: [
        network, subnetwork, firewall, disk, instance, instanceTemplate, instanceGroupManager, autoscaler, instanceGroup,
        healthCheck, backendService, forwardingRule,
    ].map { ($0.kind, $0) })

    // MARK: VPC networking

    static let network = ComputeSpec(
        kind: "network", collection: "networks", scope: .global, method: "networks",
        fields: ["name", "description", "auto_create_subnetworks", "routing_config", "mtu"],
        change: { resource, _, current, attributes, config in
            try await resource.patchChanged(current, attributes, config, fields: ["routing_config", "mtu"])
        },
        computed: ["gateway_ipv4": "gatewayIPv4"])

    static let subnetwork = ComputeSpec(
        kind: "subnetwork", collection: "subnetworks", scope: .region, method: "subnetworks",
        fields: ["name", "description", "network", "ip_cidr_range", "private_ip_google_access"],
        change: { resource, _, current, attributes, config in
            if ComputeResource.differs("private_ip_google_access", attributes, config) {
                try await resource.mutate(.POST, "\(current.path)/setPrivateIpGoogleAccess", verb: "setPrivateIpGoogleAccess",
                                          body: ["privateIpGoogleAccess": config["private_ip_google_access"]!], place: current.place,
                                          what: ComputeURL.name(current.path))
            }
        },
        computed: ["gateway_address": "gatewayAddress", "fingerprint": "fingerprint"])

    static let firewallFields = ["description", "priority", "allowed", "denied", "source_ranges", "source_tags", "target_tags", "disabled"]
    static let firewall = ComputeSpec(
        kind: "firewall", collection: "firewalls", scope: .global, method: "firewalls",
        fields: ["name", "network", "direction"] + firewallFields,
        change: { resource, _, current, attributes, config in
            // firewalls.patch wants the name in the body.
            try await resource.patchChanged(current, attributes, config, fields: firewallFields, always: ["name": current.json["name"] ?? .null])
        })

    // MARK: Disks and instances

    static let disk = ComputeSpec(
        kind: "disk", collection: "disks", scope: .zone, method: "disks", labelled: true,
        fields: ["name", "description", "size_gb", "source_image", "labels"],
        body: { config, place in
            guard let type = config["type"]?.stringValue else { return [:] }
            return ["type": .string("zones/\(place.location ?? "")/diskTypes/\(ComputeURL.name(type))")]
        },
        attributes: { json, generic, _, _ in
            var a = generic
            a["type"] = json["type"]?.stringValue.map { .string(ComputeURL.name($0)) } ?? .null
            a["users"] = json["users"] ?? .list([])
            a["status"] = nil
            return a
        },
        change: { resource, context, current, attributes, config in
            guard let wanted = config["size_gb"]?.intValue, let size = attributes["size_gb"]?.intValue, wanted != size else { return }
            guard wanted > size else {
                throw ProviderError(address: context.address, call: "compute.disks.resize",
                                    message: "a disk cannot shrink (\(size) → \(wanted) GB); replace it instead (maifctl apply --replace \(context.address))")
            }
            try await resource.mutate(.POST, "\(current.path)/resize", verb: "resize", body: ["sizeGb": .string(String(wanted))],
                                      place: current.place, what: ComputeURL.name(current.path))
        })

    static let instance = ComputeSpec(
        kind: "instance", collection: "instances", scope: .zone, method: "instances", labelled: true,
        fields: ["name", "description", "network_interfaces", "deletion_protection", "labels"],
        body: { config, place in
            var body: [String: AttributeValue] = [:]
            let zone = place.location ?? ""
            if let type = config["machine_type"]?.stringValue { body["machineType"] = .string("zones/\(zone)/machineTypes/\(ComputeURL.name(type))") }
            if let disks = config["disks"] { body["disks"] = diskList(disks, diskTypePrefix: "zones/\(zone)/diskTypes/") }
            if let metadata = config["metadata"] { body["metadata"] = metadataItems(metadata) }
            if let tags = config["network_tags"] { body["tags"] = .map(["items": tags]) }
            return body
        },
        attributes: { json, generic, _, _ in
            var a = generic
            a["machine_type"] = json["machineType"]?.stringValue.map { .string(ComputeURL.name($0)) } ?? .null
            a["metadata"] = metadataMap(json["metadata"])
            a["network_tags"] = json["tags"]?.mapValue?["items"] ?? .list([])
            a["tags"] = nil
            a["network_ip"] = json["networkInterfaces"]?.listValue?.first?.mapValue?["networkIP"] ?? .null
            a["disks"] = attachedDisks(json["disks"])
            for key in ["status", "fingerprint", "cpu_platform", "scheduling", "can_ip_forward", "start_restricted", "last_start_timestamp"] {
                a[key] = nil
            }
            return a
        },
        change: { resource, _, current, attributes, config in
            let what = ComputeURL.name(current.path)
            if ComputeResource.differs("metadata", attributes, config) {
                var body = metadataItems(config["metadata"]!).mapValue ?? [:]
                body["fingerprint"] = current.json["metadata"]?.mapValue?["fingerprint"] ?? .null
                try await resource.mutate(.POST, "\(current.path)/setMetadata", verb: "setMetadata", body: body, place: current.place, what: what)
            }
            if ComputeResource.differs("network_tags", attributes, config) {
                try await resource.mutate(.POST, "\(current.path)/setTags", verb: "setTags",
                                          body: ["items": config["network_tags"]!, "fingerprint": current.json["tags"]?.mapValue?["fingerprint"] ?? .null],
                                          place: current.place, what: what)
            }
            if ComputeResource.differs("deletion_protection", attributes, config) {
                try await resource.mutate(.POST, "\(current.path)/setDeletionProtection", verb: "setDeletionProtection",
                                          query: [("deletionProtection", config["deletion_protection"]!.interpolationText)],
                                          place: current.place, what: what)
            }
            if let wanted = config["machine_type"]?.stringValue, attributes["machine_type"]?.stringValue != ComputeURL.name(wanted) {
                // Compute Engine changes the machine type of a stopped instance only.
                let wasRunning = current.json["status"]?.stringValue != "TERMINATED"
                if wasRunning { try await resource.mutate(.POST, "\(current.path)/stop", verb: "stop", place: current.place, what: what) }
                try await resource.mutate(.POST, "\(current.path)/setMachineType", verb: "setMachineType",
                                          body: ["machineType": .string("zones/\(current.place.location ?? "")/machineTypes/\(ComputeURL.name(wanted))")],
                                          place: current.place, what: what)
                if wasRunning { try await resource.mutate(.POST, "\(current.path)/start", verb: "start", place: current.place, what: what) }
            }
        })

    /// Attached disks as Compute reports them: boot, auto_delete, device_name. `initialize_params` are what the disk was
    /// made from and are not reported back (Compute answers the resolved image, and a boot disk grown by hand is not a
    /// reason to replace the node), so they keep the configured values.
    static func attachedDisks(_ value: AttributeValue?) -> AttributeValue {
        .list((value?.listValue ?? []).map { item in
            guard let d = item.mapValue else { return item }
            var out: [String: AttributeValue] = [:]
            for (key, field) in [("boot", "boot"), ("auto_delete", "autoDelete"), ("device_name", "deviceName")] { out[key] = d[field] }
            return .map(out.compactMapValues { $0 })
        })
    }

    /// `{items: [{key, value}]}`, by key.
    static func metadataItems(_ value: AttributeValue) -> AttributeValue {
        let m = value.mapValue ?? [:]
        return .map(["items": .list(m.keys.sorted().map { .map(["key": .string($0), "value": .string(m[$0]!.interpolationText)]) })])
    }

    static func metadataMap(_ value: AttributeValue?) -> AttributeValue {
        var out: [String: AttributeValue] = [:]
        for item in value?.mapValue?["items"]?.listValue ?? [] {
            if let key = item.mapValue?["key"]?.stringValue { out[key] = item.mapValue?["value"] ?? .string("") }
        }
        return .map(out)
    }

    /// Disks in the API's form; the disk type as a zonal URL for instances, a bare name for templates.
    static func diskList(_ value: AttributeValue, diskTypePrefix: String) -> AttributeValue {
        guard case .list(let disks) = APIForm.toAPI(value) else { return value }
        return .list(disks.map { disk in
            guard case .map(var d) = disk, case .map(var params)? = d["initializeParams"] else { return disk }
            if let type = params["diskType"]?.stringValue { params["diskType"] = .string(diskTypePrefix + ComputeURL.name(type)) }
            if let size = params["diskSizeGb"], size.intValue != nil { params["diskSizeGb"] = .string(size.interpolationText) }
            d["initializeParams"] = .map(params)
            return .map(d)
        })
    }

    // MARK: Horizontal scaling

    /// Immutable: every change is a new template (the expansion names templates by a digest of their properties, and
    /// creates the new one before the old one goes).
    static let instanceTemplate = ComputeSpec(
        kind: "instance_template", collection: "instanceTemplates", scope: .global, method: "instanceTemplates",
        fields: ["name", "description"],
        body: { config, _ in
            var properties: [String: AttributeValue] = [:]
            if let type = config["machine_type"]?.stringValue { properties["machineType"] = .string(ComputeURL.name(type)) }
            if let disks = config["disks"] { properties["disks"] = diskList(disks, diskTypePrefix: "") }
            if let nics = config["network_interfaces"] { properties["networkInterfaces"] = APIForm.toAPI(nics) }
            if let metadata = config["metadata"] { properties["metadata"] = metadataItems(metadata) }
            if let tags = config["network_tags"] { properties["tags"] = .map(["items": tags]) }
            if let labels = config["labels"] { properties["labels"] = labels }
            return ["properties": .map(properties)]
        },
        attributes: { json, generic, _, _ in
            var a = generic
            let p = json["properties"]?.mapValue ?? [:]
            a["properties"] = nil
            a["machine_type"] = p["machineType"]?.stringValue.map { .string(ComputeURL.name($0)) } ?? .null
            a["disks"] = p["disks"].map { APIForm.fromAPI($0, field: "disks") } ?? .list([])
            a["network_interfaces"] = p["networkInterfaces"].map { APIForm.fromAPI($0) } ?? .list([])
            a["metadata"] = metadataMap(p["metadata"])
            a["network_tags"] = p["tags"]?.mapValue?["items"] ?? .list([])
            a["labels"] = p["labels"] ?? .map([:])
            return a
        })

    static let instanceGroupManager = ComputeSpec(
        kind: "instance_group_manager", collection: "instanceGroupManagers", scope: .region, method: "regionInstanceGroupManagers",
        fields: ["name", "description", "base_instance_name", "instance_template", "target_size", "auto_healing_policies"],
        attributes: { _, generic, _, _ in
            var a = generic
            // The autoscaler owns the size once attached: what the stack gave is where the group starts, not drift.
            a["target_size"] = nil
            for key in ["status", "current_actions", "versions", "update_policy", "distribution_policy", "fingerprint", "list_managed_instances_results"] {
                a[key] = nil
            }
            return a
        },
        change: { resource, _, current, attributes, config in
            let what = ComputeURL.name(current.path)
            if ComputeResource.differs("instance_template", attributes, config) {
                try await resource.mutate(.POST, "\(current.path)/setInstanceTemplate", verb: "setInstanceTemplate",
                                          body: ["instanceTemplate": config["instance_template"]!], place: current.place, what: what)
            }
            try await resource.patchChanged(current, attributes, config, fields: ["auto_healing_policies"],
                                            always: ["fingerprint": current.json["fingerprint"] ?? .null])
        },
        computed: ["instance_group": "instanceGroup"])

    static let autoscaler = ComputeSpec(
        kind: "autoscaler", collection: "autoscalers", scope: .region, method: "regionAutoscalers",
        fields: ["name", "description", "target", "autoscaling_policy"],
        attributes: { _, generic, _, _ in
            var a = generic
            for key in ["status", "recommended_size", "status_details", "scaling_schedule_status"] { a[key] = nil }
            return a
        },
        change: { resource, _, current, attributes, config in
            // regionAutoscalers.patch names the autoscaler in the query, on the collection.
            let collection = current.path.split(separator: "/").dropLast().joined(separator: "/")
            try await resource.patchChanged(current, attributes, config, fields: ["autoscaling_policy", "description"],
                                            always: ["name": current.json["name"] ?? .null],
                                            query: [("autoscaler", current.json["name"]?.stringValue ?? "")], path: collection)
        })

    /// An unmanaged group of named instances of one zone, so a backend service can balance to them.
    static let instanceGroup = ComputeSpec(
        kind: "instance_group", collection: "instanceGroups", scope: .zone, method: "instanceGroups",
        fields: ["name", "description", "network", "named_ports"],
        attributes: { json, generic, resource, place in
            var a = generic
            let answer = try await resource.client.call(.compute, .POST, "projects/\(place.project)/zones/\(place.location ?? "")/instanceGroups/\(json["name"]?.stringValue ?? "")/listInstances",
                                                        body: ["instanceState": "ALL"], name: "compute.instanceGroups.listInstances")
            a["instances"] = .list((answer["items"]?.listValue ?? []).compactMap { $0.mapValue?["instance"] })
            a["fingerprint"] = nil
            a["size"] = json["size"] ?? .int(0)
            return a
        },
        change: { resource, _, current, attributes, config in
            let what = ComputeURL.name(current.path)
            let have = Set((attributes["instances"]?.listValue ?? []).compactMap(\.stringValue))
            let want = (config["instances"]?.listValue ?? []).compactMap(\.stringValue)
            let added = want.filter { !have.contains($0) }, removed = have.subtracting(want).sorted()
            if !removed.isEmpty {
                try await resource.mutate(.POST, "\(current.path)/removeInstances", verb: "removeInstances",
                                          body: ["instances": .list(removed.map { .map(["instance": .string($0)]) })], place: current.place, what: what)
            }
            if !added.isEmpty {
                try await resource.mutate(.POST, "\(current.path)/addInstances", verb: "addInstances",
                                          body: ["instances": .list(added.map { .map(["instance": .string($0)]) })], place: current.place, what: what)
            }
            if ComputeResource.differs("named_ports", attributes, config) {
                try await resource.mutate(.POST, "\(current.path)/setNamedPorts", verb: "setNamedPorts",
                                          body: ["namedPorts": APIForm.toAPI(config["named_ports"]!), "fingerprint": current.json["fingerprint"] ?? .null],
                                          place: current.place, what: what)
            }
        },
        settleAfterInsert: true)

    // MARK: Load balancing

    static let healthCheckFields = ["description", "check_interval_sec", "timeout_sec", "healthy_threshold", "unhealthy_threshold",
                                    "http_health_check", "https_health_check", "tcp_health_check"]
    static let healthCheck = ComputeSpec(
        kind: "health_check", collection: "healthChecks", scope: .region, method: "regionHealthChecks",
        fields: ["name", "type"] + healthCheckFields,
        change: { resource, _, current, attributes, config in
            try await resource.patchChanged(current, attributes, config, fields: healthCheckFields)
        })

    static let backendServiceFields = ["description", "health_checks", "backends", "session_affinity", "timeout_sec", "connection_draining"]
    static let backendService = ComputeSpec(
        kind: "backend_service", collection: "backendServices", scope: .region, method: "regionBackendServices",
        fields: ["name", "load_balancing_scheme", "protocol"] + backendServiceFields,
        change: { resource, _, current, attributes, config in
            try await resource.patchChanged(current, attributes, config, fields: backendServiceFields,
                                            always: ["fingerprint": current.json["fingerprint"] ?? .null])
        })

    static let forwardingRule = ComputeSpec(
        kind: "forwarding_rule", collection: "forwardingRules", scope: .region, method: "forwardingRules", labelled: true,
        fields: ["name", "description", "ip_protocol", "ports", "port_range", "backend_service", "load_balancing_scheme", "network_tier",
                 "labels"],
        attributes: { json, generic, _, _ in
            var a = generic
            a["ip_address"] = json["IPAddress"] ?? .null
            let port = json["ports"]?.listValue?.first?.interpolationText ?? json["portRange"]?.stringValue?.split(separator: "-").first.map(String.init)
            a["endpoint"] = json["IPAddress"]?.stringValue.map { ip -> AttributeValue in .string(port.map { "\(ip):\($0)" } ?? ip) } ?? .null
            a["fingerprint"] = nil
            return a
        })
}
