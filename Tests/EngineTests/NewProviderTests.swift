/// A provider defined only here — not in BuiltinProviders, touching no engine file — is registered with the engine,
/// its settings are checked at their positions, and it is planned, applied, refreshed and destroyed end to end. This is
/// the whole of what a new provider needs: a settings schema, a resource schema and the calls.

import Engine
import Foundation
import Planning
import ProviderKit
import StackModel
import XCTest

/// "ledger": each resource is a line file in a folder (`clouds.ledger.folder`), written only with the ledger's token.
struct LedgerProvider: Provider {
    let folder: String
    let token: String

    static let settings = SettingsSchema([
        SettingSchema("folder", .path, required: true, description: "where the ledger keeps its entries"),
        SettingSchema("token", .string, references: .required, description: "the ledger's write token, by reference"),
        SettingSchema("retries", .int(0...5), default: 2, description: "how often a write is tried again"),
    ])

    static let resourceSchema = ProviderSchema(provider: "ledger", resources: [
        ResourceSchema(type: "ledger.entry", description: "One entry.", attributes: [
            "text": .init(.string, required: true),
            "owner": .init(.map, description: "who wrote it: the stack and address"),
            "id": .init(.string, computed: true),
        ]),
    ])

    static func register(in registry: inout ProviderRegistry) {
        registry.register(ProviderDescriptor(name: "ledger", version: "0.0.1", summary: "a test ledger", settings: settings,
                                             schema: resourceSchema) { configuration in
            guard let folder = configuration.path("folder") else { throw ProviderConfigurationError(key: "folder", "clouds.ledger.folder is not set") }
            return LedgerProvider(folder: folder, token: try configuration.secret("token") ?? "")
        })
    }

    var schema: ProviderSchema { Self.resourceSchema }

    func markOwner(_ config: [String: AttributeValue], _ context: ResourceContext) -> [String: AttributeValue] {
        var config = config
        config["owner"] = .map(["stack": .string(context.stack), "address": .string(context.address.description)])
        return config
    }

    private func file(_ id: String) -> String { folder + "/" + id }

    func create(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let id = context.address.name
        try Data("\(token)|\(config["text"]?.stringValue ?? "")".utf8).write(to: URL(fileURLWithPath: file(id)))
        return ResourceState(id: id, attributes: config.merging(["id": .string(id)]) { a, _ in a })
    }

    func read(_ context: ResourceContext, _ prior: ResourceState) async throws -> ResourceState? {
        guard let data = FileManager.default.contents(atPath: file(prior.id)) else { return nil }
        let text = String(decoding: data, as: UTF8.self).split(separator: "|", maxSplits: 1).last.map(String.init) ?? ""
        var attributes = prior.attributes
        attributes["text"] = .string(text)
        return ResourceState(id: prior.id, attributes: attributes)
    }

    func update(_ context: ResourceContext, _ prior: ResourceState, _ config: [String: AttributeValue]) async throws -> ResourceState {
        try await create(context, config)
    }

    func delete(_ context: ResourceContext, _ prior: ResourceState) async throws {
        try? FileManager.default.removeItem(atPath: file(prior.id))
    }

    func importResource(_ context: ResourceContext, id: String) async throws -> ResourceState {
        throw ProviderError(address: context.address, call: "import", message: "not supported")
    }

    func find(_ context: ResourceContext, _ config: [String: AttributeValue]) async throws -> ResourceState? { nil }
}

final class NewProviderTests: EngineTestCase {
    var engine: Engine {
        var registry = ProviderRegistry()
        LedgerProvider.register(in: &registry)
        return Engine(registry: registry, environment: ["LEDGER_TOKEN": "t0ken"], workingDirectory: sandbox.directory)
    }

    func stack(_ clouds: String, text: String = "first") -> StackSource {
        StackSource(texts: [(name: "ledger.yaml", text: """
            stack: {name: books}
            clouds:
              ledger:
            \(clouds)
            resources:
              - {type: ledger.entry, name: one, properties: {text: \(text)}}
            """)])
    }

    let goodClouds = "    folder: ledger-data\n    token: {env: LEDGER_TOKEN}"

    func testItsSettingsAreCheckedAtTheirPositionsWithSuggestions() {
        let typo = engine.load(stack("    foldr: ledger-data\n    token: {env: LEDGER_TOKEN}"))
        XCTAssertNil(typo.stack)
        XCTAssertEqual(typo.diagnostics.map(\.description), [
            "ledger.yaml:4:5: error: clouds.ledger is missing required key 'folder' [missing-key]\n    hint: add `folder: PATH`",
            "ledger.yaml:4:5: error: unknown key 'foldr' in clouds.ledger [unknown-key]\n    hint: did you mean 'folder'?",
        ])
        let inline = engine.load(stack("    folder: ledger-data\n    token: t0ken\n    retries: 9"))
        XCTAssertEqual(inline.diagnostics.map(\.code), ["inline-secret", "out-of-range"])
        XCTAssertEqual(inline.diagnostics.map { $0.location?.line }, [5, 6])
        XCTAssertFalse(inline.diagnostics.description.contains("t0ken"), "an inline secret is never echoed")
    }

    func testAMissingTokenFailsThePlanAtItsKeyBeforeAnythingIsWritten() async throws {
        var engine = self.engine
        engine.environment = [:]
        let opened = await engine.open(stack(goodClouds), stateDirectory: sandbox.stateDirectory)
        let session = try XCTUnwrap(opened.value, "\(opened.diagnostics)")
        let planned = await session.plan()
        XCTAssertNil(planned.plan)
        XCTAssertEqual(planned.diagnostics.map(\.description), [
            "ledger.yaml:5:12: error: provider 'ledger' cannot be configured: clouds.ledger.token names environment variable LEDGER_TOKEN, which is not set [provider-configuration]\n    hint: export LEDGER_TOKEN before running maifctl, or point clouds.ledger.token at a file: {file: PATH}",
        ])
        XCTAssertFalse(sandbox.exists("ledger-data/one"))
    }

    func testItIsPlannedAppliedRefreshedAndDestroyedThroughTheEngine() async throws {
        // apply
        let opened = await engine.open(stack(goodClouds), stateDirectory: sandbox.stateDirectory, lock: LockRequest(operation: "apply"))
        let session = try XCTUnwrap(opened.value, "\(opened.diagnostics)")
        let planned = await session.plan()
        let plan = try XCTUnwrap(planned.plan)
        XCTAssertEqual(plan.actions, ["ledger.entry.one": .create])
        XCTAssertEqual(plan.change("ledger.entry.one")?.after?["owner"], .map(["stack": "books", "address": "ledger.entry.one"]),
                       "the provider's own owner marks, added by its hook")
        let applied = await session.apply(plan)
        session.close()
        XCTAssertTrue(applied.succeeded, "\(applied.failures)")
        XCTAssertEqual(sandbox.contents("ledger-data/one"), "t0ken|first", "the token was read from the reference")
        XCTAssertEqual(try sandbox.gitLines(["log", "--format=%s"]), ["apply books: +1 ~0 -0"])

        // a hand edit is drift, and a second plan repairs exactly it
        try sandbox.write("t0ken|edited", to: "ledger-data/one")
        let reopened = await engine.open(stack(goodClouds), stateDirectory: sandbox.stateDirectory)
        let again = try XCTUnwrap(reopened.value)
        let replanned = await again.plan()
        let drifted = try XCTUnwrap(replanned.plan)
        XCTAssertEqual(drifted.change("ledger.entry.one")?.drift.keys.sorted(), ["text"])
        XCTAssertEqual(drifted.pendingActions, ["ledger.entry.one": .update])

        // destroy
        let openedForDestroy = await engine.open(stack(goodClouds), stateDirectory: sandbox.stateDirectory,
                                                 lock: LockRequest(operation: "destroy"))
        let destroying = try XCTUnwrap(openedForDestroy.value)
        var options = PlanOptions()
        options.destroy = true
        let destroyPlanned = await destroying.plan(options)
        let destroyPlan = try XCTUnwrap(destroyPlanned.plan)
        let destroyed = await destroying.apply(destroyPlan)
        destroying.close()
        XCTAssertTrue(destroyed.succeeded, "\(destroyed.failures)")
        XCTAssertFalse(sandbox.exists("ledger-data/one"))
        XCTAssertEqual(try sandbox.recordedState("books").addresses, [])
    }
}
