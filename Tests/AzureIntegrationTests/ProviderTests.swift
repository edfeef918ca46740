/// The provider against the ARM stand-in, one behaviour at a time: tokens (a secret, a signed client assertion the
/// stand-in verifies, a managed identity through IMDS), long-running operations through Azure-AsyncOperation and
/// Location, throttling, a failed operation, a resize that needs a deallocation, what it refuses to delete or take
/// over, and an interrupted create resumed from its recorded operation.

import Foundation
import ProviderKit
import Testing
@testable import AzureProvider

/// Every Azure integration test, one at a time: they share one stand-in and reset it.
@Suite(.serialized) struct AzureIntegration {}

extension AzureIntegration {
    static func context(_ kind: String, _ name: String, stack: String = "it") -> ResourceContext {
        ResourceContext(stack: stack, address: ResourceAddress(provider: "azure", kind: kind, name: name))
    }

    /// Configuration as the planner hands it over: with the owner marks.
    static func marked(_ p: AzureProvider, _ context: ResourceContext, _ config: [String: AttributeValue]) -> [String: AttributeValue] {
        p.markOwner(config, context)
    }

    static func group(_ p: AzureProvider, _ name: String = "rg1") async throws -> ResourceState {
        let c = context("resource_group", name)
        return try await p.create(c, marked(p, c, ["name": .string(name), "location": "East US"]))
    }

    func count(_ standIn: StandIn, _ operation: String) throws -> Int {
        ((try standIn.requests()["counts"] as? [String: Any])?["by_operation"] as? [String: Any])?[operation] as? Int ?? 0
    }

    func logged(_ standIn: StandIn) throws -> [[String: Any]] { try standIn.requests()["requests"] as? [[String: Any]] ?? [] }

    // MARK: Tokens

    @Test func tokensFromASecretASignedAssertionAndAManagedIdentity() async throws {
        let standIn = try StandIn.running()
        let bySecret = try standIn.provider()
        _ = try await bySecret.client.tokens.bearer()
        let byCertificate = try standIn.provider(["client_certificate_path": .string(standIn.dir + "/client.pem")], references: [:])
        #expect(byCertificate.client.settings.credentialSource.hasPrefix("client certificate \(standIn.dir)/client.pem"))
        _ = try await byCertificate.client.tokens.bearer()
        let managed = try standIn.provider(["use_managed_identity": true], environment: ["AZURE_POD_IDENTITY_AUTHORITY_HOST": standIn.base],
                                           references: [:])
        _ = try await managed.client.tokens.bearer()
        #expect(try count(standIn, "aad-token") == 2, "the stand-in issued a token for the secret and for the assertion it verified")
        // Each token opens ARM.
        for p in [bySecret, byCertificate, managed] { _ = try await Self.group(p, "tok-\(UUID().uuidString.prefix(6))") }

        // A wrong secret: AAD's words and where the secret came from, not the secret.
        let wrong = try standIn.provider(environment: ["ARM_TEST_SECRET": "not-the-secret"])
        await #expect {
            try await wrong.client.tokens.bearer()
        } throws: { error in
            let text = "\(error)"
            return text.contains("invalid_client: AADSTS7000215") && text.contains("clouds.azure.client_secret (environment variable ARM_TEST_SECRET)")
                && !text.contains("not-the-secret")
        }
        // A certificate the application does not know: the stand-in checks the assertion's signature and thumbprint.
        let other = standIn.dir + "/other.pem"
        try (String(contentsOfFile: standIn.dir + "/other-key.pem", encoding: .utf8) + String(contentsOfFile: standIn.dir + "/other-cert.pem", encoding: .utf8))
            .write(toFile: other, atomically: true, encoding: .utf8)
        let unknown = try standIn.provider(["client_certificate_path": .string(other)], references: [:])
        await #expect { try await unknown.client.tokens.bearer() } throws: { "\($0)".contains("AADSTS700027") }
    }

    @Test func anExpiredTokenIsReplacedOnceAThrottledTokenRequestWaited() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider()
        let rg = try await Self.group(p)
        try standIn.control("POST", "/tokens/expire")
        // The identity platform throttles the new token's request once: it is waited out too.
        try standIn.inject(["method": "POST", "path": "/oauth2/v2.0/token$", "count": 1, "status": 429, "retry_after": 1])
        #expect(try await p.read(Self.context("resource_group", "rg1"), rg) != nil)
        let tokens = try logged(standIn).filter { ($0["path"] as? String)?.hasSuffix("/oauth2/v2.0/token") == true }.compactMap { $0["status"] as? Int }
        #expect(tokens == [200, 429, 200], "\(tokens)")
    }

    // MARK: Operations

    @Test func longRunningOperationsThroughAsyncOperationAndLocation() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider()
        let rg = try await Self.group(p)
        #expect(rg.id == "\(StandIn.rg)/rg1")
        #expect(rg.attributes["location"] == "East US", "ARM's eastus is the stack's East US")

        let vnet = Self.context("virtual_network", "v")
        let config = Self.marked(p, vnet, ["name": "vnet1", "resource_group_name": "rg1", "location": "eastus",
                                           "address_space": .map(["address_prefixes": .list(["10.5.0.0/16"])])])
        let created = try await p.create(vnet, config)
        #expect(created.attributes["resource_guid"]?.stringValue?.isEmpty == false)
        let (_, doc) = try standIn.arm("GET", created.id, api: "2024-05-01")
        #expect((doc["properties"] as? [String: Any])?["provisioningState"] as? String == "Succeeded")

        let account = Self.context("storage_account", "backups")
        let accountConfig = Self.marked(p, account, [
            "name": "maifitbackups1", "resource_group_name": "rg1", "location": "eastus", "kind": "StorageV2",
            "sku": .map(["name": "Standard_ZRS"]), "supports_https_traffic_only": true, "minimum_tls_version": "TLS1_2",
            "blob_properties": .map(["is_versioning_enabled": true, "delete_retention_policy": .map(["enabled": true, "days": 7])]),
        ])
        let storage = try await p.create(account, accountConfig)
        #expect(storage.attributes["blob_properties"] == accountConfig["blob_properties"])
        #expect(storage.attributes["primary_endpoints"]?.mapValue?["blob"] == "https://maifitbackups1.blob.core.windows.net/")
        let polls = try logged(standIn).filter { $0["operation_id"] as? String == "standin-operation-status" }
        #expect(polls.count >= 2, "the vnet's Azure-AsyncOperation and the account's Location were polled")
        // Read back: what the stack wrote, nothing more; the same as recorded.
        #expect(try await p.read(account, storage) == storage)
        #expect(try await p.read(vnet, created) == created)

        try await p.delete(account, storage)
        try await p.delete(vnet, created)
        #expect(try await p.read(vnet, created) == nil)
        #expect(try standIn.arm("GET", created.id, api: "2024-05-01").status == 404)
    }

    @Test func throttlingIsWaitedOutThenReported() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider()
        try standIn.inject(["method": "PUT", "path": "/resourceGroups/rg1$", "count": 2, "status": 429, "retry_after": 1])
        let start = Date()
        _ = try await Self.group(p)
        #expect(Date().timeIntervalSince(start) >= 2, "Retry-After was honoured")
        let statuses = try logged(standIn).filter { $0["method"] as? String == "PUT" }.compactMap { $0["status"] as? Int }
        #expect(statuses == [429, 429, 201])

        try standIn.inject(["method": "PUT", "path": "/resourceGroups/rg2$", "count": -1, "status": 429, "retry_after": 1])
        await #expect {
            _ = try await Self.group(p, "rg2")
        } throws: { error in
            "\(error)".hasPrefix("azure.resource_group.rg2: PUT Microsoft.Resources/resourceGroups failed: TooManyRequests")
                && "\(error)".hasSuffix("(gave up after 3 attempts)")
        }
    }

    @Test func aFailedAsyncOperationIsTheResourcesError() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider()
        _ = try await Self.group(p)
        try standIn.inject(["kind": "async", "method": "PUT", "path": "virtualNetworks/vnet1$", "code": "InternalServerError", "message": "boom"])
        let vnet = Self.context("virtual_network", "v")
        let config = Self.marked(p, vnet, ["name": "vnet1", "resource_group_name": "rg1", "location": "eastus",
                                           "address_space": .map(["address_prefixes": .list(["10.5.0.0/16"])])])
        await #expect {
            _ = try await p.create(vnet, config)
        } throws: {
            "\($0)" == "azure.virtual_network.v: PUT Microsoft.Network/virtualNetworks failed: InternalServerError: boom (the operation ended Failed)"
        }
        // ARM left it there, Failed; the next create is an idempotent PUT that mends it.
        let again = try await p.create(vnet, config)
        #expect(try standIn.arm("GET", again.id, api: "2024-05-01").body["properties"].flatMap { ($0 as? [String: Any])?["provisioningState"] as? String } == "Succeeded")
    }

    // MARK: Virtual machines

    @Test func aResizeAcrossFamiliesDeallocatesUpdatesAndStarts() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider(["admin_ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0c3RhbmRpbnRlc3RrZXlmb3JtYWlmY3Rs maif@test"])
        _ = try await Self.group(p)
        let vnet = try await p.create(Self.context("virtual_network", "v"), Self.marked(p, Self.context("virtual_network", "v"), [
            "name": "vnet1", "resource_group_name": "rg1", "location": "eastus", "address_space": .map(["address_prefixes": .list(["10.5.0.0/16"])])]))
        let subnet = try await p.create(Self.context("subnet", "s"), [
            "name": "maif", "resource_group_name": "rg1", "virtual_network_name": "vnet1", "address_prefix": "10.5.1.0/24"])
        #expect(subnet.id == vnet.id + "/subnets/maif")
        let nic = try await p.create(Self.context("network_interface", "n"), Self.marked(p, Self.context("network_interface", "n"), [
            "name": "nic1", "resource_group_name": "rg1", "location": "eastus",
            "ip_configurations": .list([.map(["name": "ipconfig1", "primary": true, "subnet": .map(["id": .string(subnet.id)]),
                                              "private_ip_allocation_method": "Dynamic"])])]))
        #expect(nic.attributes["private_ip_address"]?.stringValue?.hasPrefix("10.5.1.") == true)

        let vm = Self.context("vm", "n")
        var config = Self.marked(p, vm, [
            "name": "vm1", "resource_group_name": "rg1", "location": "eastus",
            "hardware_profile": .map(["vm_size": "Standard_D16s_v3"]),
            "storage_profile": .map([
                "image_reference": .map(["publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"]),
                "os_disk": .map(["create_option": "FromImage", "disk_size_gb": 64, "managed_disk": .map(["storage_account_type": "Premium_LRS"])]),
                "data_disks": .list([.map(["lun": 0, "create_option": "Empty", "disk_size_gb": 128, "managed_disk": .map(["storage_account_type": "Premium_LRS"])])]),
            ]),
            "os_profile": .map(["computer_name": "vm1", "admin_username": "maif", "custom_data": "#cloud-config\n",
                                "linux_configuration": .map(["disable_password_authentication": true])]),
            "network_profile": .map(["network_interfaces": .list([.map(["id": .string(nic.id), "primary": true])])]),
        ])
        config = try await p.plan(PlanRequest(context: vm, prior: nil, desired: config)).planned.filter { $0.value.isKnown }
        let created = try await p.create(vm, config)
        #expect(try await p.read(vm, created) == created, "custom data ARM does not give back is not drift")

        try standIn.control("DELETE", "/requests")
        config["hardware_profile"] = .map(["vm_size": "Standard_E8s_v3"])
        let resized = try await p.update(vm, created, config)
        #expect(resized.attributes["hardware_profile"] == .map(["vm_size": "Standard_E8s_v3"]))
        let calls = try logged(standIn).filter { ($0["path"] as? String)?.hasSuffix("virtualMachines/vm1") == true || ($0["path"] as? String)?.contains("vm1/") == true }
            .filter { $0["method"] as? String != "GET" }.map { "\($0["method"]!) \($0["status"]!) \(($0["path"] as? String)?.split(separator: "/").last ?? "")" }
        #expect(calls == ["PATCH 409 vm1", "POST 202 deallocate", "PATCH 200 vm1", "POST 202 start"], "\(calls)")
        let (_, view) = try standIn.arm("GET", created.id + "/instanceView", api: "2024-07-01")
        #expect(((view["statuses"] as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "PowerState/running" })
    }

    // MARK: What it will not do

    @Test func aGroupWithSomethingElseInItIsNotDeleted() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider()
        let rg = try await Self.group(p)
        #expect(try standIn.arm("PUT", "\(StandIn.rg)/rg1/providers/Microsoft.Network/networkSecurityGroups/someone-elses",
                                api: "2024-05-01", ["location": "eastus"]).status == 201)
        await #expect {
            try await p.delete(Self.context("resource_group", "rg1"), rg)
        } throws: { "\($0)".contains("still holds 1 resource maifctl did not delete (Microsoft.Network/networkSecurityGroups someone-elses)") }
        #expect(try standIn.arm("GET", rg.id, api: "2022-09-01").status == 200)
    }

    @Test func aCreateDoesNotTakeOverAnObjectThatIsNotItsOwn() async throws {
        let standIn = try StandIn.running()
        let p = try standIn.provider()
        _ = try await Self.group(p)
        let path = "\(StandIn.rg)/rg1/providers/Microsoft.Network/networkSecurityGroups/nsg1"
        #expect(try standIn.arm("PUT", path, api: "2024-05-01", ["location": "eastus", "tags": ["team": "db"]]).status == 201)
        let nsg = Self.context("network_security_group", "g")
        await #expect {
            _ = try await p.create(nsg, Self.marked(p, nsg, ["name": "nsg1", "resource_group_name": "rg1", "location": "eastus"]))
        } throws: { "\($0)".contains("already exists and its owner marks do not name azure.network_security_group.g of stack it") }
        // Adopted on purpose, it is the stack's.
        let imported = try await p.importResource(nsg, id: path)
        #expect(imported.attributes["name"] == "nsg1" && imported.attributes["tags"] == .map(["team": "db"]))
    }

    @Test func anInterruptedCreateIsResumedFromItsRecordedOperation() async throws {
        let standIn = try StandIn.running()
        let work = NSTemporaryDirectory() + "azure-resume-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: work) }
        let ops = work + "/ops"
        let first = try standIn.provider(["operations_dir": .string(ops)], work: work)
        _ = try await Self.group(first)
        try standIn.control("POST", "/config", ["lro_delay": 2.5])
        let vnet = Self.context("virtual_network", "v")
        let config = Self.marked(first, vnet, ["name": "vnet1", "resource_group_name": "rg1", "location": "eastus",
                                               "address_space": .map(["address_prefixes": .list(["10.5.0.0/16"])])])
        // The run is killed while it polls: its task is cancelled once the operation is on disk.
        let run = Task { try await first.create(vnet, config) }
        let file = "\(ops)/it/azure.virtual_network.v.json"
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: file) { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(FileManager.default.fileExists(atPath: file), "the operation URL is recorded before the first poll")
        run.cancel()
        _ = await run.result
        #expect(FileManager.default.fileExists(atPath: file), "an operation not seen to end stays recorded")

        // The next run recovers the journal's intent: find polls the recorded operation instead of writing again.
        let second = try standIn.provider(["operations_dir": .string(ops)], work: work)
        let found = try #require(try await second.find(vnet, config))
        #expect(found.attributes["address_space"] == config["address_space"])
        #expect(!FileManager.default.fileExists(atPath: file))
        let puts = try logged(standIn).filter { $0["method"] as? String == "PUT" && ($0["path"] as? String)?.hasSuffix("vnet1") == true }
        #expect(puts.count == 1, "one PUT: the second run resumed the first one's operation")
    }
}
