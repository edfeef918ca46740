/// Refresh: reads every recorded resource from its provider, with bounded parallelism, and reports drift.

import ProviderKit
import StackModel
import StateStore

enum Refresher {
    static func refresh(_ records: [ResourceAddress: ResourceRecord], stack: String, providers: [String: any Provider],
                        parallelism: Int, key: SecretKey) async
        -> ([ResourceAddress: ResourceRecord], [ResourceAddress: Drift], [Diagnostic]) {
        var result = records
        var drift: [ResourceAddress: Drift] = [:]
        var diagnostics: [Diagnostic] = []
        let addresses = records.keys.sorted()
        await withTaskGroup(of: (ResourceAddress, Result<ResourceState?, Error>).self) { group in
            var next = 0
            func launch() {
                let address = addresses[next]
                next += 1
                let record = records[address]!
                guard let provider = providers[address.provider] else {
                    group.addTask { (address, .failure(ProviderError(address: address, call: "read", message: "provider '\(address.provider)' is not available"))) }
                    return
                }
                group.addTask {
                    do {
                        return (address, .success(try await provider.read(ResourceContext(stack: stack, address: address), record.resourceState)))
                    } catch {
                        return (address, .failure(error))
                    }
                }
            }
            for _ in 0..<min(max(1, parallelism), addresses.count) { launch() }
            for await (address, outcome) in group {
                if next < addresses.count { launch() }
                switch outcome {
                case .failure(let error):
                    diagnostics.append(.error("refresh-failed", ProviderError.describe(error, at: address, during: "read"),
                                              hint: "use --refresh=false to plan from recorded state only", at: nil))
                case .success(nil):
                    result[address] = nil
                    drift[address] = .deletedOutOfBand
                case .success(var actual?):
                    actual.attributes = Sensitive.redact(actual.attributes, schema: providers[address.provider]?.schema.resources[address.type], key: key)
                    let recorded = records[address]!
                    var d: [String: Drift.Value] = [:]
                    for key in Set(recorded.attributes.keys).union(actual.attributes.keys) where recorded.attributes[key] != actual.attributes[key] {
                        d[key] = .init(recorded: recorded.attributes[key], actual: actual.attributes[key])
                    }
                    if !d.isEmpty {
                        drift[address] = Drift(attributes: d)
                        result[address]!.attributes = actual.attributes
                        result[address]!.id = actual.id
                    }
                }
            }
        }
        return (result, drift, diagnostics)
    }
}
