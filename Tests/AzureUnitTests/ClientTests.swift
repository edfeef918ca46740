/// What the ARM client decides without a server: which answers are tried again and after how long, how ARM's errors
/// read, the operation ledger, and the provider's owner marks and plan.

import Foundation
import ProviderKit
import Testing
@testable import AzureProvider

@Suite struct ClientTests {
    @Test func throttlingAndServerErrorsAreRetriedOthersAreNot() {
        #expect(ARMClient.isRetryable(429, "TooManyRequests"))
        #expect(ARMClient.isRetryable(503, "ServiceUnavailable"))
        #expect(ARMClient.isRetryable(500, "InternalServerError"))
        #expect(ARMClient.isRetryable(409, "AnotherOperationInProgress"))
        #expect(!ARMClient.isRetryable(409, "PropertyChangeNotAllowed"))
        #expect(!ARMClient.isRetryable(400, "InvalidRequestContent"))
        #expect(!ARMClient.isRetryable(404, "ResourceNotFound"))
        for attempt in 0..<8 {
            let delay = ARMClient.backoff(attempt)
            let cap = min(16, 0.5 * pow(2, Double(attempt)))
            #expect(delay >= cap / 2 && delay <= cap, "full jitter within [cap/2, cap] at attempt \(attempt)")
        }
    }

    @Test func retryAfterInSecondsOrAsADate() {
        #expect(ARMClient.retryAfter(HTTPExchange(status: 429, headers: [("Retry-After", "3")], body: [])) == 3)
        #expect(ARMClient.retryAfter(HTTPExchange(status: 429, headers: [("retry-after", "7200")], body: [])) == 60, "capped at a minute")
        #expect(ARMClient.retryAfter(HTTPExchange(status: 429, headers: [], body: [])) == nil)
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let soon = format.string(from: Date().addingTimeInterval(5))
        let wait = ARMClient.retryAfter(HTTPExchange(status: 503, headers: [("Retry-After", soon)], body: []))
        #expect(wait.map { $0 > 2 && $0 <= 6 } == true, "\(soon) → \(String(describing: wait))")
    }

    @Test func armErrorsReadCodeColonMessage() {
        let body = #"{"error":{"code":"InvalidRequestContent","message":"The property 'adressSpace' is not allowed","details":[{"code":"x","target":"properties.adressSpace","message":"not in the spec"},{"code":"y","message":"The property 'adressSpace' is not allowed"}]}}"#
        let error = ARMError.from(HTTPExchange(status: 400, headers: [], body: Array(body.utf8)), call: "PUT Microsoft.Network/virtualNetworks")
        #expect(error.detail == "InvalidRequestContent: The property 'adressSpace' is not allowed (properties.adressSpace: not in the spec)")
        let address = ResourceAddress(provider: "azure", kind: "virtual_network", name: "c")
        var named = error.providerError
        named.address = address
        #expect(named.description == "azure.virtual_network.c: PUT Microsoft.Network/virtualNetworks failed: InvalidRequestContent: The property 'adressSpace' is not allowed (properties.adressSpace: not in the spec)")
        let bare = ARMError.from(HTTPExchange(status: 502, headers: [], body: Array("<html>proxy</html>".utf8)), call: "GET x")
        #expect(bare.detail == "HTTP502BadGateway", "a body that is not ARM's is not repeated")
        let failed = ARMClient.operationFailure(.map(["code": "InternalServerError", "message": "boom"]), status: "Failed", call: "PUT x")
        #expect(failed.detail == "InternalServerError: boom (the operation ended Failed)")
    }

    @Test func theLedgerKeepsAnOperationUntilItIsRemoved() throws {
        let root = NSTemporaryDirectory() + "azure-ledger-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ledger = OperationLedger(root: root, stack: "demo")
        let address = ResourceAddress(provider: "azure", kind: "vm", name: "c.n-1")
        #expect(ledger.pending(address) == nil)
        let operation = PendingOperation(method: "PUT", resource: "/subscriptions/s/x", asyncOperation: "https://arm/op/1", location: nil,
                                         apiVersion: "2024-07-01", digest: "abc", started: Date(timeIntervalSince1970: 1000))
        try ledger.record(operation, for: address)
        #expect(FileManager.default.fileExists(atPath: "\(root)/demo/azure.vm.c.n-1.json"))
        #expect(ledger.pending(address) == operation)
        ledger.remove(address)
        #expect(ledger.pending(address) == nil)
    }

    func provider(_ values: [String: AttributeValue] = [:]) throws -> AzureProvider {
        try AzureProvider(configuration: ProviderConfiguration(stack: "demo", settings: ProviderSettings(values: values),
                                                               workingDirectory: NSTemporaryDirectory()))
    }

    @Test func ownerMarksAreTagsOrContainerMetadata() throws {
        let p = try provider()
        let vnet = ResourceContext(stack: "demo", address: ResourceAddress(provider: "azure", kind: "virtual_network", name: "c"))
        #expect(p.markOwner(["tags": .map(["team": "db"])], vnet)["tags"]
                == .map(["team": "db", "maif-stack": "demo", "maif-address": "azure.virtual_network.c"]))
        let subnet = ResourceContext(stack: "demo", address: ResourceAddress(provider: "azure", kind: "subnet", name: "c"))
        #expect(p.markOwner(["name": "maif"], subnet) == ["name": "maif"], "a subnet has no tags")
        let container = ResourceContext(stack: "demo", address: ResourceAddress(provider: "azure", kind: "blob_container", name: "b"))
        #expect(p.markOwner([:], container)["metadata"] == .map(["maif_stack": "demo", "maif_address": "azure.blob_container.b"]))
        let marked: [String: AttributeValue] = ["tags": .map(["maif-stack": "demo", "maif-address": "azure.virtual_network.c"])]
        #expect(p.owns(marked, ARMType.all["virtual_network"]!, vnet))
        #expect(!p.owns(marked, ARMType.all["virtual_network"]!, ResourceContext(stack: "other", address: vnet.address)))
        #expect(!p.owns(["tags": .map([:])], ARMType.all["virtual_network"]!, vnet))
    }

    @Test func planAddsTheAdminKeyWhereNoneIsGiven() async throws {
        let p = try provider(["admin_ssh_public_key": "ssh-ed25519 AAAA test"])
        let context = ResourceContext(stack: "demo", address: ResourceAddress(provider: "azure", kind: "vm", name: "c.n"))
        let desired: [String: AttributeValue] = [
            "name": "n", "resource_group_name": "rg", "location": "eastus", "hardware_profile": .map(["vm_size": "Standard_D2s_v3"]),
            "storage_profile": .map([:]), "network_profile": .map([:]),
            "os_profile": .map(["admin_username": "maif", "linux_configuration": .map(["disable_password_authentication": true])]),
        ]
        let planned = try await p.plan(PlanRequest(context: context, prior: nil, desired: desired)).planned
        #expect(ARMShape.value(at: "os_profile.linux_configuration.ssh", in: planned)
                == .map(["public_keys": .list([.map(["path": "/home/maif/.ssh/authorized_keys", "key_data": "ssh-ed25519 AAAA test"])])]))
        #expect(planned["id"] == .unknown && planned["vm_id"] == .unknown)
        // A VM with a key of its own keeps it.
        var own = desired
        own["os_profile"] = .map(["admin_username": "maif", "linux_configuration": .map([
            "disable_password_authentication": true, "ssh": .map(["public_keys": .list([.map(["path": "p", "key_data": "k"])])])])])
        #expect(try await p.plan(PlanRequest(context: context, prior: nil, desired: own)).planned["os_profile"] == own["os_profile"])
    }

    @Test func theBodyCarriesSubnetsAndEncodesCustomData() async throws {
        let p = try provider()
        let vnet = ARMType.all["virtual_network"]!
        let existing: [String: AttributeValue] = ["properties": .map(["subnets": .list([.map(["name": "maif"])])])]
        let body = try await p.body(vnet, "/p", ["name": "v", "resource_group_name": "rg", "location": "eastus",
                                                 "address_space": .map(["address_prefixes": .list(["10.1.0.0/16"])])], existing: existing)
        #expect(body.mapValue?["properties"]?.mapValue?["subnets"] == .list([.map(["name": "maif"])]),
                "a virtual network's PUT keeps the subnets it has")
        #expect(body.mapValue?["name"] == nil && body.mapValue?["resourceGroupName"] == nil, "path attributes are not in the body")
        let vm = ARMType.all["vm"]!
        let vmBody = try await p.body(vm, "/p", ["os_profile": .map(["custom_data": "#cloud-config\n"]), "admin_password": "pw"], existing: nil)
        let os = vmBody.mapValue?["properties"]?.mapValue?["osProfile"]?.mapValue
        #expect(os?["customData"] == .string(Data("#cloud-config\n".utf8).base64EncodedString()))
        #expect(os?["adminPassword"] == "pw")
        #expect(vmBody.mapValue?["properties"]?.mapValue?["adminPassword"] == nil)
    }
}
