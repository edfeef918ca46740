/// Sensitive attributes never reach state, plans or logs in clear text. They are kept as a keyed hash
/// (HMAC-SHA256), which is enough to tell whether the value changed and says nothing readable about it.

import Crypto
import Foundation

/// The key sensitive values are hashed with (Sendable, unlike `SymmetricKey`).
public struct SecretKey: Sendable {
    let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public static let zero = SecretKey(bytes: [UInt8](repeating: 0, count: 32))
    var symmetric: SymmetricKey { SymmetricKey(data: bytes) }
}

public enum Sensitive {
    static let marker = "$sensitive"

    /// `{"$sensitive": "hmac-sha256:…"}` for a value; the same value and key always give the same text.
    public static func placeholder(for value: AttributeValue, key: SecretKey) -> AttributeValue {
        if isPlaceholder(value) || !value.isKnown { return value }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(value.canonicalJSON(indent: nil).utf8), using: key.symmetric)
        return .map([marker: .string("hmac-sha256:" + mac.map { String(format: "%02x", $0) }.joined())])
    }

    public static func isPlaceholder(_ value: AttributeValue) -> Bool {
        if case .map(let m) = value, m.count == 1, m[marker] != nil { return true }
        return false
    }

    /// Replaces every attribute the schema marks sensitive with its placeholder.
    public static func redact(_ attributes: [String: AttributeValue], schema: ResourceSchema?, key: SecretKey) -> [String: AttributeValue] {
        guard let schema else { return attributes }
        let sensitive = schema.sensitiveAttributes
        guard !sensitive.isEmpty else { return attributes }
        var out = attributes
        for name in sensitive { if let v = out[name] { out[name] = placeholder(for: v, key: key) } }
        return out
    }

    /// The hashing key: `MAIFCTL_STATE_KEY` when set (then the hashes cannot even be brute-forced without it),
    /// otherwise the state's lineage, which at least keeps equal secrets of different stacks apart.
    public static func key(lineage: String, environment: [String: String]) -> SecretKey {
        let material = environment["MAIFCTL_STATE_KEY"].map { "key:" + $0 } ?? "lineage:" + lineage
        return SecretKey(bytes: Array(SHA256.hash(data: Data(material.utf8))))
    }
}

public enum Digest {
    /// Hex SHA-256 of a text, e.g. of a stack's resolved inputs.
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
