/// Configs and secrets cannot change in Swarm. A changed one is a new object beside the old, so its name carries a
/// version: the services are moved onto the new name, then the old object goes (create before destroy), as with
/// `docker stack deploy` and a versioned `name:` in the compose file.

import ProviderKit

public enum VersionedNames {
    /// `maif-config-3f9a0c1d2b7e`: the first 12 hex digits of the data's SHA-256, so the same data keeps its name
    /// (an unchanged config is never replaced) and the name in the plan says which content a service will get.
    public static func config(base: String, data: String) -> String {
        base + "-" + Digest.sha256(data).prefix(12)
    }

    /// `maif-join-token-v3`. A digest of a secret would be a clue to its value, so secrets count instead.
    public static func secret(base: String, version: Int) -> String {
        "\(base)-v\(version)"
    }

    /// The version after the highest one among existing names (`base-vN`); 1 when there is none.
    public static func nextSecretVersion(base: String, existing: [String]) -> Int {
        (existing.compactMap { version(of: $0, base: base) }.max() ?? 0) + 1
    }

    /// N for `base-vN`, nil for any other name.
    public static func version(of name: String, base: String) -> Int? {
        let prefix = base + "-v"
        guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n > 0 else { return nil }
        return n
    }
}
