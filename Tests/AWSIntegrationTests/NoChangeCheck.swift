import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// The planner's test for "nothing to do": after a refresh, the planned attributes equal the recorded ones key for key.
enum NoChange {
    static func expect(_ aws: AWSProvider, _ ctx: ResourceContext, _ state: ResourceState, _ config: [String: AttributeValue],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let refreshed = try #require(try await aws.read(ctx, state), sourceLocation: sourceLocation)
        #expect(refreshed == state, "read reports drift right after apply", sourceLocation: sourceLocation)
        let plan = try await aws.plan(PlanRequest(context: ctx, prior: refreshed, desired: config))
        #expect(plan.requiresReplace.isEmpty, sourceLocation: sourceLocation)
        let differing = Set(plan.planned.keys).union(refreshed.attributes.keys).filter { plan.planned[$0] != refreshed.attributes[$0] }.sorted()
        let planned = differing.map { plan.planned[$0] ?? .null }, recorded = differing.map { refreshed.attributes[$0] ?? .null }
        #expect(differing.isEmpty, "plan would change \(differing): planned \(planned), recorded \(recorded)", sourceLocation: sourceLocation)
    }
}

extension Moto {
    /// The AWS CLI against moto in another region (the later --region wins over the one `cli` puts first).
    static func cli(_ endpoint: String, region: String, _ arguments: [String]) throws -> Any {
        try cli(endpoint, ["--region", region] + arguments)
    }

    /// Like `cli`, but the command's failure is the result (for "describe finds nothing" checks).
    static func cliFailure(_ endpoint: String, _ arguments: [String]) -> String? {
        do { _ = try cli(endpoint, arguments); return nil } catch { return "\(error)" }
    }
}
