/// The POSIX shell scripts the onprem provider runs on a host, one ssh command per resource call. Content always
/// travels on ssh's standard input into a temporary file next to its destination, then `mv`, so a reader never
/// sees half a file.

import Foundation
import ProviderKit

/// Where a resource lives on its host and what its marker says.
struct RemoteObject {
    var type: String
    /// The resource's id: `host:path` (`host:name` for units, the address for hosts).
    var id: String
    /// The path on the host, root prefix applied.
    var path: String
    var name: String
    var mode: String?
    var owner: String?
    /// For units: `enabled` and `state: started` (both the default).
    var enabled: Bool
    var started: Bool
    var marker: String
    var markerJSON: String

    init(_ type: String, _ attributes: [String: AttributeValue], settings: OnPremSettings, stack: String, address: ResourceAddress) {
        self.type = type
        let host = attributes["host"]?.stringValue ?? attributes["address"]?.stringValue ?? ""
        name = attributes["name"]?.stringValue ?? ""
        let logical = type == "onprem.systemd_unit" ? "/etc/systemd/system/\(name)" : attributes["path"]?.stringValue ?? ""
        switch type {
        case "onprem.host": id = host
        case "onprem.systemd_unit": id = "\(host):\(name)"
        default: id = "\(host):\(logical)"
        }
        path = settings.onHost(logical, host: host)
        mode = attributes["mode"]?.stringValue
        owner = attributes["owner"]?.stringValue
        enabled = attributes["enabled"]?.boolValue ?? true
        started = (attributes["state"]?.stringValue ?? "started") != "stopped"
        marker = settings.onHost("/var/lib/maif/resources/\(stack)/\(address).json", host: host)
        markerJSON = AttributeValue.map([
            "stack": .string(stack), "address": .string(address.description), "id": .string(id), "path": .string(logical),
            "tags": attributes["tags"] ?? .null,
        ]).canonicalJSON(indent: nil)
    }
}

/// Mode and owner as found on the host.
struct RemoteStat {
    var mode: String
    var user: String
    var group: String

    /// In the same spelling as the configuration, so an unchanged mode or owner is no diff.
    func attributes(like config: [String: AttributeValue]) -> [String: AttributeValue] {
        var out: [String: AttributeValue] = [:]
        if let wanted = config["mode"]?.stringValue {
            out["mode"] = .string(Int(wanted, radix: 8) == Int(mode, radix: 8) ? wanted : "0" + mode)
        }
        if let wanted = config["owner"]?.stringValue {
            out["owner"] = .string(wanted.contains(":") ? "\(user):\(group)" : user)
        }
        return out
    }
}

enum RemoteScripts {
    static let facts = """
        echo "hostname=$(hostname)"
        echo "os=$(uname -s)"
        echo "kernel=$(uname -r)"
        echo "architecture=$(uname -m)"
        if [ -r /etc/os-release ]; then . /etc/os-release; echo "distribution=$PRETTY_NAME"; fi
        """

    /// Marker first, then the object: a crash in between leaves a marker whose object `find` sees is missing.
    static func markerLines(_ object: RemoteObject) -> String {
        """
        mkdir -p "$(dirname \(shellQuote(object.marker)))"
        printf '%s\\n' \(shellQuote(object.markerJSON)) > \(shellQuote(object.marker))
        """
    }

    static func attributeLines(_ object: RemoteObject, _ variable: String) -> String {
        var lines: [String] = []
        if let mode = object.mode { lines.append("chmod \(shellQuote(mode)) \"\(variable)\"") }
        if let owner = object.owner { lines.append("chown \(shellQuote(owner)) \"\(variable)\"") }
        return lines.joined(separator: "\n")
    }

    static func writeDirectory(_ object: RemoteObject) -> String {
        """
        set -e
        \(markerLines(object))
        d=\(shellQuote(object.path))
        mkdir -p "$d"
        \(attributeLines(object, "$d"))
        """
    }

    /// Prints the sha256 of what was written.
    static func writeFile(_ object: RemoteObject) -> String {
        """
        set -e
        \(markerLines(object))
        p=\(shellQuote(object.path))
        mkdir -p "$(dirname "$p")"
        t=$(mktemp "$(dirname "$p")/.maif-tmp.XXXXXX")
        trap 'rm -f "$t"' EXIT
        cat > "$t"
        \(attributeLines(object, "$t"))
        mv -f "$t" "$p"
        sha256sum < "$p" | cut -d' ' -f1
        """
    }

    static func removeFile(_ object: RemoteObject) -> String {
        "set -e\nrm -f \(shellQuote(object.path)) \(shellQuote(object.marker))"
    }

    /// A directory that still holds something (backups, files of another stack) is left alone, with an error.
    static func removeDirectory(_ object: RemoteObject) -> String {
        """
        set -e
        d=\(shellQuote(object.path))
        if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
          echo "directory $d is not empty ($(ls -A "$d" | head -5 | tr '\\n' ' ')); remove its contents first" >&2; exit 1
        fi
        rm -f \(shellQuote(object.marker))
        [ ! -d "$d" ] || rmdir "$d"
        """
    }

    /// Prints `MISSING`, or `EXISTS`, `mode user group`, the sha256 and then the content.
    static func readFileScript(_ path: String) -> String {
        """
        p=\(shellQuote(path))
        if [ ! -f "$p" ]; then echo MISSING; exit 0; fi
        echo EXISTS
        stat -c '%a %U %G' "$p"
        sha256sum < "$p" | cut -d' ' -f1
        cat "$p"
        """
    }

    static func stat(_ client: SSHClient, _ target: SSHTarget, _ path: String) async throws -> RemoteStat? {
        let script = "d=\(shellQuote(path)); if [ -d \"$d\" ]; then stat -c '%a %U %G' \"$d\"; else echo MISSING; fi"
        let line = try await client.check(target, script: script).output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line != "MISSING" else { return nil }
        let f = line.split(separator: " ").map(String.init)
        guard f.count == 3 else { throw SSHError(target: target, unreachable: false, message: "unexpected stat output: \(line)") }
        return RemoteStat(mode: f[0], user: f[1], group: f[2])
    }

    static func readFile(_ client: SSHClient, _ target: SSHTarget, _ path: String) async throws -> (stat: RemoteStat, sha256: String, content: Data)? {
        let out = try await client.check(target, script: readFileScript(path)).stdout
        var lines: [String] = [], rest = out[...]
        while lines.count < 3, let nl = rest.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: rest[..<nl], as: UTF8.self))
            rest = rest[rest.index(after: nl)...]
            if lines == ["MISSING"] { return nil }
        }
        let f = lines.count == 3 ? lines[1].split(separator: " ").map(String.init) : []
        guard lines.first == "EXISTS", f.count == 3 else {
            throw SSHError(target: target, unreachable: false, message: "unexpected output reading \(path)")
        }
        return (RemoteStat(mode: f[0], user: f[1], group: f[2]), lines[2], Data(rest))
    }

    static func markerExists(_ client: SSHClient, _ target: SSHTarget, _ object: RemoteObject) async throws -> Bool {
        let out = try await client.check(target, script: "if [ -f \(shellQuote(object.marker)) ]; then echo yes; else echo no; fi").output
        return out.hasPrefix("yes")
    }

    /// systemd is running when /run/systemd/system exists (what sd_booted checks).
    static let systemdCheck = "[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1"
    static let noSystemd = "not-managed: systemd is not running on this host; the unit file is written but not enabled or started"
    static let rootPrefixed = "not-managed: the unit file is written under the provider's root prefix, where systemd does not look"

    /// Writes the unit; with systemd, reloads, enables or disables, and starts, restarts or stops it. Prints the active state.
    static func writeUnit(_ object: RemoteObject, systemd: Bool, restart: Bool) -> String {
        var script = writeFile(object).replacingOccurrences(of: "sha256sum < \"$p\" | cut -d' ' -f1", with: "")
        guard systemd else { return script + "\necho \(shellQuote(rootPrefixed))" }
        let name = shellQuote(object.name)
        let enabled = object.enabled ? "systemctl enable \(name)" : "systemctl disable \(name)"
        let run = object.started ? (restart ? "systemctl restart \(name)" : "systemctl start \(name)") : "systemctl stop \(name)"
        script += """

            if \(systemdCheck); then
              systemctl daemon-reload
              \(enabled)
              \(run)
              systemctl is-active \(name) || true
            else
              echo \(shellQuote(noSystemd))
            fi
            """
        return script
    }

    static func removeUnit(_ object: RemoteObject, systemd: Bool) -> String {
        let name = shellQuote(object.name)
        let stop = systemd ? "if \(systemdCheck); then systemctl disable --now \(name) || true; fi\n" : ""
        return "set -e\n\(stop)rm -f \(shellQuote(object.path)) \(shellQuote(object.marker))\n"
            + (systemd ? "if \(systemdCheck); then systemctl daemon-reload; fi\n" : "")
    }

    /// nil when systemd does not manage the unit here (then enabled/state cannot be read and stay as recorded).
    static func unitStatus(_ client: SSHClient, _ target: SSHTarget, _ object: RemoteObject,
                           settings: OnPremSettings) async throws -> (enabled: Bool, active: String)? {
        guard settings.managesSystemd else { return nil }
        let name = shellQuote(object.name)
        let out = try await client.check(target, script: """
            if \(systemdCheck); then
              echo "$(systemctl is-enabled \(name) 2>/dev/null || true) $(systemctl is-active \(name) 2>/dev/null || true)"
            else echo NOSYSTEMD; fi
            """).output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard out != "NOSYSTEMD" else { return nil }
        let f = out.split(separator: " ").map(String.init)
        return (f.first == "enabled", f.count > 1 ? f[1] : "unknown")
    }
}
