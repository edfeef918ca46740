/// The onprem provider's settings, read from `ProviderConfiguration.settings` (the stack's `clouds.onprem`).

import Foundation
import ProviderKit

struct SSHConfigurationError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct OnPremSettings: Sendable {
    var user: String
    var port: Int
    var jumpHost: String?
    /// Prefix for every path on the hosts ("/" in production; a temporary directory in tests).
    var root: String
    var clientOptions: SSHClientOptions

    /// systemctl is only asked when the unit lands where systemd looks for it.
    var managesSystemd: Bool { root == "/" }

    /// Throws when the stack's key reference cannot be used: the file is missing, or the variable is unset.
    init(_ configuration: ProviderConfiguration) throws {
        let s = configuration.settings
        let home = configuration.environment["HOME"] ?? ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        func path(_ text: String) -> String {
            var text = text
            if text == "~" || text.hasPrefix("~/") { text = home + text.dropFirst() }
            return text.hasPrefix("/") ? text : URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: configuration.workingDirectory, isDirectory: true)).path
        }

        user = s["user"]?.stringValue ?? "root"
        port = s["port"]?.intValue.map(Int.init) ?? 22
        jumpHost = s["jump_host"]?.stringValue
        let rootText = s["root"]?.stringValue ?? "/"
        root = rootText == "/" ? "/" : path(rootText)

        // Made on first use (SSHClient.run), so commands that never reach a host leave nothing in /tmp.
        let control = FileManager.default.temporaryDirectory.path + "/maif-ssh-" + String(UUID().uuidString.prefix(8)).lowercased()

        var identity: String?
        var keyMaterial: String?
        switch s.references["key"] {
        case .file(let file)?:
            identity = path(file)
            guard FileManager.default.fileExists(atPath: identity!) else {
                throw ProviderConfigurationError(key: "key", "clouds.onprem.key names file \(file), which does not exist",
                                                 hint: "point it at the private key ssh should use")
            }
        case .env?:
            // A key given in an environment variable is written for ssh into the private control directory on first use.
            let key = try configuration.secret("key")!
            keyMaterial = key.hasSuffix("\n") ? key : key + "\n"
            identity = control + "/key"
        case nil:
            break
        }
        let strict = s["strict_host_key_checking"]?.boolValue ?? true
        clientOptions = SSHClientOptions(
            identityFile: identity,
            knownHostsFile: s["known_hosts"]?.stringValue.map(path),
            strictHostKeyChecking: strict,
            configFile: s["ssh_config"]?.stringValue.map(path),
            connectTimeout: s["connect_timeout"]?.intValue.map(Int.init) ?? 10,
            controlDirectory: control,
            keyMaterial: keyMaterial)
    }

    /// A path on the host with the root prefix applied; `{host}` in the prefix is the host's address, so hosts that
    /// share one filesystem (test hosts on loopback addresses) keep apart.
    func onHost(_ path: String, host: String) -> String {
        guard root != "/" else { return path }
        let prefix = root.replacingOccurrences(of: "{host}", with: OnPremProvider.splitHostPort(host).0)
        return prefix + (path.hasPrefix("/") ? path : "/" + path)
    }
}
