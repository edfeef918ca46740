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

    init(_ configuration: ProviderConfiguration) {
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

        var identity = s["key_file"]?.stringValue.map(path)
        var keyMaterial: String?, keyProblem: String?
        if let variable = s["key_env"]?.stringValue {
            // A key given in an environment variable is written for ssh into the private control directory on first use;
            // a missing variable fails the first ssh call, not commands that never reach a host.
            if let key = configuration.environment[variable] ?? ProcessInfo.processInfo.environment[variable] {
                keyMaterial = key.hasSuffix("\n") ? key : key + "\n"
                identity = control + "/key"
            } else {
                keyProblem = "clouds.onprem.key names environment variable \(variable), which is not set"
            }
        }
        let strict = s["strict_host_key_checking"]?.boolValue ?? true
        clientOptions = SSHClientOptions(
            identityFile: identity,
            knownHostsFile: s["known_hosts"]?.stringValue.map(path),
            strictHostKeyChecking: strict,
            configFile: s["ssh_config"]?.stringValue.map(path),
            connectTimeout: s["connect_timeout"]?.intValue.map(Int.init) ?? 10,
            controlDirectory: control,
            keyMaterial: keyMaterial,
            keyProblem: keyProblem)
    }

    /// A path on the host with the root prefix applied; `{host}` in the prefix is the host's address, so hosts that
    /// share one filesystem (test hosts on loopback addresses) keep apart.
    func onHost(_ path: String, host: String) -> String {
        guard root != "/" else { return path }
        let prefix = root.replacingOccurrences(of: "{host}", with: OnPremProvider.splitHostPort(host).0)
        return prefix + (path.hasPrefix("/") ? path : "/" + path)
    }
}
