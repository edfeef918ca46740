/// Where each resource type lives in ARM: its path (from the attributes that name it), its api-version — the ones
/// Microsoft's published specs define and the project checks against; newer SDK defaults are not assumed — how its
/// attributes sit in the document, how it names its owner, and what it computes.

import ProviderKit

struct ARMType: Sendable {
    enum Owner: Sendable {
        /// `maif-stack` / `maif-address` tags.
        case tags
        /// `maif_stack` / `maif_address` metadata (blob containers).
        case metadata
        /// Nothing of its own: it belongs to whoever owns its parent (a subnet, its virtual network).
        case parent
    }

    var kind: String
    var api: String
    /// Below `/subscriptions/{subscription}`; `{attribute}` placeholders are filled from the attributes.
    var template: String
    var layout: ARMShape.Layout
    var owner: Owner = .tags
    /// Attribute paths ARM accepts but does not give back (custom data, passwords): recorded as configured.
    var writeOnly: [String] = []
    /// maifctl's own attributes, recorded as configured and never sent (`endpoint`, for `maifctl output`).
    static let recordedOnly: Set<String> = ["endpoint"]

    static let network = "2024-05-01", compute = "2024-07-01", storage = "2023-05-01", resources = "2022-09-01"
    static let autoscale = "2022-10-01", metricAlerts = "2018-03-01", trafficManager = "2022-04-01"

    static let rg = "/resourceGroups/{resource_group_name}/providers"

    static let all: [String: ARMType] = Dictionary(uniqueKeysWithValues: [
        ARMType(kind: "resource_group", api: resources, template: "/resourceGroups/{name}", layout: .init()),
        ARMType(kind: "virtual_network", api: network, template: "\(rg)/Microsoft.Network/virtualNetworks/{name}", layout: .init()),
        ARMType(kind: "subnet", api: network, template: "\(rg)/Microsoft.Network/virtualNetworks/{virtual_network_name}/subnets/{name}",
                layout: .init(topLevel: []), owner: .parent),
        ARMType(kind: "network_security_group", api: network, template: "\(rg)/Microsoft.Network/networkSecurityGroups/{name}",
                layout: .init(envelopes: ["security_rules[]"])),
        ARMType(kind: "public_ip", api: network, template: "\(rg)/Microsoft.Network/publicIPAddresses/{name}",
                layout: .init(topLevel: ["location", "tags", "sku", "zones"])),
        ARMType(kind: "network_interface", api: network, template: "\(rg)/Microsoft.Network/networkInterfaces/{name}",
                layout: .init(envelopes: ["ip_configurations[]"])),
        ARMType(kind: "load_balancer", api: network, template: "\(rg)/Microsoft.Network/loadBalancers/{name}",
                layout: .init(topLevel: ["location", "tags", "sku"], envelopes: [
                    "frontend_ip_configurations[]", "backend_address_pools[]", "probes[]", "load_balancing_rules[]",
                ]), writeOnly: ["endpoint"]),
        ARMType(kind: "traffic_manager_profile", api: trafficManager, template: "\(rg)/Microsoft.Network/trafficmanagerprofiles/{name}",
                layout: .init(envelopes: ["endpoints[]"])),
        ARMType(kind: "vm", api: compute, template: "\(rg)/Microsoft.Compute/virtualMachines/{name}",
                layout: .init(topLevel: ["location", "tags", "zones"], envelopes: ["network_profile.network_interfaces[]"]),
                writeOnly: ["os_profile.custom_data", "admin_password", "endpoint"]),
        ARMType(kind: "vm_scale_set", api: compute, template: "\(rg)/Microsoft.Compute/virtualMachineScaleSets/{name}",
                layout: .init(topLevel: ["location", "tags", "zones", "sku"], envelopes: [
                    "virtual_machine_profile.network_profile.network_interface_configurations[]",
                    "virtual_machine_profile.network_profile.network_interface_configurations[].ip_configurations[]",
                ]),
                writeOnly: ["virtual_machine_profile.os_profile.custom_data", "admin_password"]),
        ARMType(kind: "autoscale_setting", api: autoscale, template: "\(rg)/Microsoft.Insights/autoscalesettings/{name}", layout: .init()),
        ARMType(kind: "metric_alert", api: metricAlerts, template: "\(rg)/Microsoft.Insights/metricAlerts/{name}", layout: .init()),
        ARMType(kind: "storage_account", api: storage, template: "\(rg)/Microsoft.Storage/storageAccounts/{name}",
                layout: .init(topLevel: ["location", "tags", "sku", "kind"])),
        ARMType(kind: "blob_container", api: storage,
                template: "\(rg)/Microsoft.Storage/storageAccounts/{storage_account_name}/blobServices/default/containers/{name}",
                layout: .init(topLevel: []), owner: .metadata),
    ].map { ($0.kind, $0) })

    /// The attributes the path is made of; they are never sent in the body.
    var pathAttributes: [String] {
        template.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }

    /// `/subscriptions/{subscription}/…` for these attributes; throws naming the attribute that is missing.
    func path(subscription: String, _ attributes: [String: AttributeValue]) throws -> String {
        var out = "/subscriptions/\(subscription)"
        for part in template.split(separator: "/") {
            if part.hasPrefix("{"), part.hasSuffix("}") {
                let key = String(part.dropFirst().dropLast())
                guard let value = attributes[key]?.stringValue, !value.isEmpty, !value.contains("${") else {
                    throw ProviderError(address: nil, call: "azure path", message: "'\(key)' is not set")
                }
                out += "/" + ARMPath.escape(value)
            } else {
                out += "/" + part
            }
        }
        return out
    }

    /// The path attributes an id holds (for import), matching the template's literal segments without regard to case.
    func pathAttributes(of id: String) -> [String: AttributeValue]? {
        let parts = id.split(separator: "/").map(String.init)
        let pattern = ["subscriptions", "{}"] + template.split(separator: "/").map(String.init)
        guard parts.count == pattern.count else { return nil }
        var out: [String: AttributeValue] = [:]
        for (have, want) in zip(parts, pattern) {
            if want.hasPrefix("{") {
                if want.count > 2 { out[String(want.dropFirst().dropLast())] = .string(have.removingPercentEncoding ?? have) }
            } else if have.caseInsensitiveCompare(want) != .orderedSame {
                return nil
            }
        }
        return out
    }

    /// The computed attributes (besides `id`) ARM's document gives.
    func computed(_ document: [String: AttributeValue]) -> [String: AttributeValue] {
        let p = document["properties"]?.mapValue ?? [:]
        switch kind {
        case "virtual_network": return ["resource_guid": p["resourceGuid"] ?? .null]
        case "public_ip": return ["ip_address": p["ipAddress"] ?? .null, "fqdn": p["dnsSettings"]?.mapValue?["fqdn"] ?? .null]
        case "network_interface":
            let configs = p["ipConfigurations"]?.listValue ?? []
            let primary = configs.first { $0.mapValue?["properties"]?.mapValue?["primary"]?.boolValue == true } ?? configs.first
            return ["private_ip_address": primary?.mapValue?["properties"]?.mapValue?["privateIPAddress"] ?? .null]
        case "traffic_manager_profile": return ["fqdn": p["dnsConfig"]?.mapValue?["fqdn"] ?? .null]
        case "vm": return ["vm_id": p["vmId"] ?? .null]
        case "vm_scale_set": return ["unique_id": p["uniqueId"] ?? .null]
        case "storage_account": return ["primary_endpoints": p["primaryEndpoints"] ?? .null]
        default: return [:]
        }
    }
}
