/// The mapping between the provider's attributes and ARM documents, and the shape `read` reports: what makes a second
/// plan empty and a change made by hand visible.

import ProviderKit
import Testing
@testable import AzureProvider

@Suite struct ShapeTests {
    @Test func namesRoundTripTheWayARMSpellsThem() {
        let names = ["publicIPAddress", "diskSizeGB", "enableFloatingIP", "privateIPAllocationMethod", "frontendIPConfigurations",
                     "loadBalancerBackendAddressPools", "vmSize", "osProfile", "supportsHttpsTrafficOnly", "minimumTlsVersion",
                     "targetResourceUri", "isVersioningEnabled", "daysAfterModificationGreaterThan", "odata.type", "ttl",
                     "networkApiVersion", "toleratedNumberOfFailures", "addressPrefixes", "publicIPAddressVersion"]
        for name in names {
            #expect(ARMShape.camel(ARMShape.snake(name)) == name, "\(name) → \(ARMShape.snake(name))")
        }
        #expect(ARMShape.snake("publicIPAddress") == "public_ip_address")
        #expect(ARMShape.snake("diskSizeGB") == "disk_size_gb")
        #expect(ARMShape.camel("odata_type") == "odata.type")
    }

    @Test func aBodyEnvelopesPropertiesAndSubResources() {
        let layout = ARMShape.Layout(envelopes: ["security_rules[]"])
        let body = ARMShape.body([
            "location": "eastus", "tags": .map(["maif-stack": "s", "Some_Key": "v"]),
            "security_rules": .list([.map(["name": "allow", "priority": 100, "destination_port_ranges": .list(["22"])])]),
        ], layout: layout)
        #expect(body["location"] == "eastus")
        #expect(body["tags"] == .map(["maif-stack": "s", "Some_Key": "v"]), "tag names are the user's own")
        let rule = body["properties"]?.mapValue?["securityRules"]?.listValue?.first?.mapValue
        #expect(rule?["name"] == "allow")
        #expect(rule?["properties"] == .map(["priority": 100, "destinationPortRanges": .list(["22"])]))
        // and back
        let flat = ARMShape.attributes(body, layout: layout)
        #expect(flat["security_rules"] == .list([.map(["name": "allow", "priority": 100, "destination_port_ranges": .list(["22"])])]))
    }

    @Test func readIsCutToWhatTheStackWrote() {
        let wanted: AttributeValue = .list([
            .map(["name": "a", "priority": 100, "access": "Allow"]),
            .map(["name": "b", "priority": 200, "access": "Deny"]),
        ])
        let read: AttributeValue = .list([
            .map(["name": "b", "priority": 200, "access": "Deny", "id": "/x/b", "provisioning_state": "Succeeded"]),
            .map(["name": "a", "priority": 100, "access": "Allow", "id": "/x/a", "etag": "W/1"]),
        ])
        #expect(ARMShape.shaped(read, like: wanted) == wanted, "ARM's order and its own values are not drift")
        let changed: AttributeValue = .list([
            .map(["name": "a", "priority": 100, "access": "Deny"]),
            .map(["name": "b", "priority": 200, "access": "Deny"]),
            .map(["name": "by-hand", "priority": 300, "access": "Allow", "protocol": "*"]),
        ])
        let shaped = ARMShape.shaped(changed, like: wanted)
        #expect(shaped != wanted)
        #expect(shaped.listValue?.count == 3, "a rule added by hand is reported")
        #expect(shaped.listValue?.last == .map(["name": "by-hand", "priority": 300, "access": "Allow"]))
        #expect(ARMShape.shaped("/subscriptions/S/resourceGroups/RG", like: "/subscriptions/s/resourcegroups/rg") == "/subscriptions/s/resourcegroups/rg",
                "ARM ids compare without regard to case")
        #expect(ARMShape.shaped("Allow", like: "allow") == "Allow", "other values keep their case")
        #expect(ARMShape.shaped(.map(["maif-stack": "s", "extra": "x"]), like: .map(["maif-stack": "s"]), opaque: true)
                == .map(["maif-stack": "s", "extra": "x"]), "tags are compared whole")
    }

    @Test func loadBalancerRulesNameTheirOwnParts() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb"
        let rules: AttributeValue = .list([.map(["name": "r", "frontend_ip_configuration_name": "fe", "backend_address_pool_name": "nodes",
                                                 "probe_name": "health", "frontend_port": 8080])])
        let ids = LoadBalancerParts.toIDs(rules, balancer: id)
        #expect(ids?.listValue?.first?.mapValue?["probe"] == .map(["id": .string(id + "/probes/health")]))
        #expect(ids?.listValue?.first?.mapValue?["frontend_ip_configuration"] == .map(["id": .string(id + "/frontendIPConfigurations/fe")]))
        #expect(LoadBalancerParts.toNames(ids, balancer: id.uppercased()) == rules)
    }

    @Test func pathsAndIds() throws {
        let subnet = try #require(ARMType.all["subnet"])
        let path = try subnet.path(subscription: "sub", ["name": "maif", "resource_group_name": "rg", "virtual_network_name": "vnet-prod"])
        #expect(path == "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/maif")
        #expect(subnet.pathAttributes(of: path.replacingOccurrences(of: "resourceGroups", with: "resourcegroups"))
                == ["name": "maif", "resource_group_name": "rg", "virtual_network_name": "vnet-prod"])
        #expect(subnet.pathAttributes(of: "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v") == nil)
        #expect(throws: ProviderError.self) { try subnet.path(subscription: "sub", ["name": "maif", "resource_group_name": "rg"]) }
        #expect(ARMPath.type(of: path) == "Microsoft.Network/virtualNetworks/subnets")
        #expect(ARMPath.type(of: "/subscriptions/s/resourceGroups/rg") == "Microsoft.Resources/resourceGroups")
        #expect(ARMPath.type(of: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/blobServices/default")
                == "Microsoft.Storage/storageAccounts/blobServices")
        #expect(ARMClient.callName("PUT", path) == "PUT Microsoft.Network/virtualNetworks/subnets")
    }

    @Test func everySchemaTypeHasAnARMType() {
        for type in AzureProviderSchema.provider.resources.keys {
            #expect(ARMType.all[String(type.dropFirst("azure.".count))] != nil, "\(type)")
        }
        #expect(ARMType.all.count == AzureProviderSchema.provider.resources.count)
    }
}
