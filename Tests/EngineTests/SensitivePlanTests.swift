/// A sensitive attribute that forces a replacement (a swarm secret's value, an Azure VM's admin password) is
/// recorded only as a keyed hash: the plan compares the stack's value in that form, so an unchanged secret is
/// no change and a changed one is a replacement.

import Expansion
import Planning
import ProviderKit
import StateStore
import XCTest

final class SensitivePlanTests: XCTestCase {
    /// A provider with one type whose value is sensitive and force-new; it is only planned here.
    struct VaultProvider: Provider {
        var schema: ProviderSchema {
            ProviderSchema(provider: "vault", resources: [ResourceSchema(type: "vault.secret", description: "", attributes: [
                "value": .init(.string, required: true, forceNew: true, sensitive: true),
                "id": .computedString,
            ])])
        }
        func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState { fatalError("planned only") }
        func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? { prior }
        func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState { prior }
        func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {}
        func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState { fatalError("planned only") }
        func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? { nil }
    }

    func plan(recorded: String, wanted: String) async -> PlanResult {
        let key = SecretKey(bytes: Array(repeating: 7, count: 32))
        let address = ResourceAddress(provider: "vault", kind: "secret", name: "db")
        let record = ResourceRecord(address: address, id: "s-1", attributes: [
            "value": Sensitive.placeholder(for: .string(recorded), key: key), "id": "s-1",
        ], dependencies: [])
        let state = State(stack: "shop", meta: StateMeta(lineage: "l", engineVersion: "test"), resources: [address: record])
        var options = PlanOptions()
        options.secretKey = key
        options.refresh = false
        return await Planner.plan(stack: "shop", desired: [DesiredResource(address: address, config: ["value": .string(wanted)])],
                                  moves: [], state: state, providers: ["vault": VaultProvider()], options: options)
    }

    func testAnUnchangedSecretIsNoChange() async {
        let result = await plan(recorded: "hunter2", wanted: "hunter2")
        XCTAssertEqual(result.plan?.changes.first?.action, .noop, "\(result.diagnostics)")
    }

    func testAChangedSecretIsAReplacementWithoutShowingEitherValue() async throws {
        let result = await plan(recorded: "hunter2", wanted: "correct horse")
        let change = try XCTUnwrap(result.plan?.changes.first)
        XCTAssertEqual(change.action, .replace)
        XCTAssertEqual(change.replaceBecause, ["value"])
        XCTAssertTrue(Sensitive.isPlaceholder(change.after?["value"] ?? .null))
    }
}
