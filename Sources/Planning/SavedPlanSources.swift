/// What a saved plan was made from besides the state commit: the digest of each stack file and overlay, keyed digests of
/// the resolved variables and of each resource's resolved configuration, and the maifctl version. `apply PLANFILE`
/// compares them with what is there now and names what moved.

import Crypto
import Expansion
import Foundation
import ProviderKit

public struct SavedPlanSources: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// As given on the command line (relative paths are relative to where `plan` ran).
        public var path: String
        /// SHA-256 of the file's bytes.
        public var sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// The maifctl that made the plan; a plan is applied only by the same version.
    public var maifctlVersion: String
    public var files: [File]
    /// A random key, fresh for every saved plan, that the variable and resource digests are computed with: equal values
    /// in two saved plans give different digests, and none can be looked up in a table.
    public var salt: String
    /// Variable name → keyed digest of its resolved value (defaults, `--var`, and the environment they read).
    public var variables: [String: String]
    /// Resource address → keyed digest of its resolved configuration (what the files, variables and environment made).
    public var resources: [String: String]

    public init(maifctlVersion: String, files: [File], salt: String, variables: [String: String], resources: [String: String]) {
        self.maifctlVersion = maifctlVersion
        self.files = files
        self.salt = salt
        self.variables = variables
        self.resources = resources
    }

    /// A fresh random salt, as hex.
    public static func newSalt() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// HMAC-SHA256 of `text` keyed by the salt, shortened to 32 hex digits: plenty to tell a change.
    public static func keyedDigest(_ text: String, salt: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(salt.utf8)))
        return mac.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of each desired resource's resolved configuration and dependencies.
    public static func resourceDigests(_ desired: [DesiredResource], salt: String) -> [String: String] {
        var out: [String: String] = [:]
        for r in desired {
            let text = AttributeValue.map(r.config).canonicalJSON(indent: nil) + "\t" + r.dependsOn.map(\.address.description).joined(separator: ",")
            out[r.address.description] = keyedDigest(text, salt: salt)
        }
        return out
    }

    /// SHA-256 of a file's bytes; nil when it cannot be read.
    public static func fileDigest(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
