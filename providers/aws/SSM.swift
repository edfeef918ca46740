/// Systems Manager over its JSON 1.1 protocol, for the one thing maifctl needs from it: turning an image id
/// written `resolve:ssm:<parameter>` into the AMI id the parameter holds.

import Foundation
import ProviderKit

struct SSM: Sendable {
    let client: AWSClient
    static let resolvePrefix = "resolve:ssm:"

    /// The parameter named by `resolve:ssm:<name>`, nil for anything else (a plain AMI id).
    static func parameterName(_ imageId: String?) -> String? {
        guard let imageId, imageId.hasPrefix(resolvePrefix) else { return nil }
        return String(imageId.dropFirst(resolvePrefix.count))
    }

    /// `AmazonSSM.GetParameter`: the parameter's current value.
    func parameter(_ name: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["Name": name])
        let response = try await client.send("ssm", call: "GetParameter", method: "POST", path: "/", query: [],
                                             headers: ["Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.GetParameter"],
                                             body: Array(body))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard let value = (json?["Parameter"] as? [String: Any])?["Value"] as? String, !value.isEmpty else {
            throw ProviderError(address: nil, call: "ssm GetParameter", message: "parameter \(name) has no value")
        }
        return value
    }

    /// The AMI id to launch: `imageId` itself, or the value of the parameter it names.
    func resolveImage(_ imageId: String) async throws -> String {
        guard let name = Self.parameterName(imageId) else { return imageId }
        return try await parameter(name)
    }
}
