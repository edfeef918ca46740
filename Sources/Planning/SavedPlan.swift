/// `plan --out FILE`: the exact plan, the state commit it was computed against, and a hash of the
/// resolved stack inputs, so `apply FILE` can refuse a plan that no longer fits.

import Expansion
import Foundation
import ProviderKit

public struct SavedPlan: Codable, Sendable {
    public static let kind = "maifctl-saved-plan"
    public var kind = SavedPlan.kind
    public var formatVersion = 1
    public var createdAt: String
    /// The stack files the plan was made from, as given on the command line.
    public var files: [String]
    /// SHA-256 of every desired resource's resolved configuration and the moves: any change to the
    /// files, variables or environment that matters changes it.
    public var inputsHash: String
    /// With an `origin`: the commit of its state branch when the plan was made; `apply FILE` refuses once it moved.
    public var remoteCommit: String?
    public var plan: Plan
    /// Digests of the files, variables and resources the plan came from, and the maifctl version (see
    /// `SavedPlanSources`); nil in plans saved before they were recorded.
    public var sources: SavedPlanSources?

    public init(files: [String], inputsHash: String, plan: Plan, sources: SavedPlanSources? = nil) {
        self.createdAt = ISO8601DateFormatter().string(from: Date())
        self.files = files
        self.inputsHash = inputsHash
        self.plan = plan
        self.sources = sources
    }

    public static func inputsHash(_ desired: [DesiredResource], moves: [(String, String)]) -> String {
        var text = ""
        for r in desired.sorted(by: { $0.address < $1.address }) {
            text += r.address.description + "\t" + AttributeValue.map(r.config).canonicalJSON(indent: nil) + "\t"
            text += r.dependsOn.map(\.address.description).joined(separator: ",") + "\n"
        }
        for (from, to) in moves { text += "moved\t\(from)\t\(to)\n" }
        return Digest.sha256(text)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// Nil when the file is not a saved plan (e.g. a stack file).
    public static func read(_ path: String) throws -> SavedPlan? {
        guard let data = FileManager.default.contents(atPath: path),
              let head = try? JSONDecoder().decode([String: AttributeValue].self, from: data),
              head["kind"]?.stringValue == kind else { return nil }
        return try JSONDecoder().decode(SavedPlan.self, from: data)
    }
}
